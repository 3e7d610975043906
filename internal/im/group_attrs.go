package im

import (
	"context"
	"errors"
	"sort"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Group attributes (reference rest-api.md §3.7, group_open_attr_http_svc:
// get_group_attr, modify_group_attr, set_group_attr, clear_group_attr) and
// group counters (group_open_http_svc: get_group_counter,
// update_group_counter, delete_group_counter). The store checks a group's
// totals in the transaction of the change; the bounds are the reference's.

// Bounds of group attributes and counters, in bytes (or items).
const (
	MaxGroupAttrKeys        = 16       // attributes of one group
	MaxGroupAttrKeyBytes    = 32       // one key
	MaxGroupAttrValueBytes  = 4 << 10  // one value
	MaxGroupAttrTotalBytes  = 16 << 10 // all keys and values of one group
	MaxGroupCounterKeys     = 20       // counters of one group (and keys of one request)
	MaxGroupCounterKeyBytes = 128      // one key
)

// CounterValue is one group counter.
type CounterValue struct {
	Key   string
	Value int64
}

// groupForExtras loads a group for the attribute and counter commands:
// 10010 unknown (or another app's), 10015 malformed id.
func (s *Service) groupForExtras(ctx context.Context, app store.App, groupID string) (store.Group, error) {
	if err := s.gate.Active(app); err != nil {
		return store.Group{}, err
	}
	return s.loadGroup(ctx, app.SDKAppID, groupID)
}

// extrasErr maps a store error of the attribute and counter commands.
func extrasErr(groupID string, err error) error {
	var l *store.GroupLimitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return groupNotFound(groupID)
	case errors.As(err, &l):
		switch l.Limit {
		case store.LimitAttrKeys:
			return groupBad("a group has at most %d attributes", MaxGroupAttrKeys)
		case store.LimitAttrBytes:
			return groupBad("the attributes of a group total at most %d bytes (keys and values)", MaxGroupAttrTotalBytes)
		case store.LimitCounterKeys:
			return groupBad("a group has at most %d counters", MaxGroupCounterKeys)
		case store.LimitCounterRange:
			return groupBad("a counter's value would leave the signed 64-bit range")
		}
	}
	return storageErr(err)
}

// checkAttrs validates attribute items (1..16, unique non-empty keys ≤ 32
// bytes, values ≤ 4 KB, valid UTF-8): 10004.
func checkAttrs(items []KeyValue) (map[string]string, error) {
	if len(items) == 0 || len(items) > MaxGroupAttrKeys {
		return nil, groupBad("GroupAttr has %d items; 1 to %d", len(items), MaxGroupAttrKeys)
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		if it.Key == "" {
			return nil, groupBad("GroupAttr: an empty key")
		}
		if err := checkGroupText("GroupAttr key", it.Key, MaxGroupAttrKeyBytes); err != nil {
			return nil, err
		}
		if err := checkGroupText("GroupAttr value", it.Value, MaxGroupAttrValueBytes); err != nil {
			return nil, err
		}
		if _, dup := out[it.Key]; dup {
			return nil, groupBad("GroupAttr names key %q twice", it.Key)
		}
		out[it.Key] = it.Value
	}
	return out, nil
}

// GroupAttrs returns the group's attributes, by key (get_group_attr).
// Refusals: 10010, 10015.
func (s *Service) GroupAttrs(ctx context.Context, app store.App, groupID string) ([]KeyValue, error) {
	if _, err := s.groupForExtras(ctx, app, groupID); err != nil {
		return nil, err
	}
	m, err := s.store.GroupAttrs(ctx, app.SDKAppID, groupID)
	if err != nil {
		return nil, extrasErr(groupID, err)
	}
	out := make([]KeyValue, 0, len(m))
	for k, v := range m {
		out = append(out, KeyValue{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// PutGroupAttrs writes attributes: merged (modify_group_attr: a key is added
// or its value replaced) or replacing them all (set_group_attr). Refusals:
// 10010, 10015, 10004 (bad items; the group's 16 keys or 16 KB passed).
func (s *Service) PutGroupAttrs(ctx context.Context, app store.App, groupID string, items []KeyValue, replace bool) error {
	attrs, err := checkAttrs(items)
	if err != nil {
		return err
	}
	if _, err := s.groupForExtras(ctx, app, groupID); err != nil {
		return err
	}
	return extrasErr(groupID, s.store.PutGroupAttrs(ctx, app.SDKAppID, groupID, attrs, replace,
		store.AttrBounds{MaxKeys: MaxGroupAttrKeys, MaxBytes: MaxGroupAttrTotalBytes}))
}

// ClearGroupAttrs deletes every attribute of the group (clear_group_attr).
// Refusals: 10010, 10015, 10007 a Community (the reference's clear_group_attr
// does not apply to communities).
func (s *Service) ClearGroupAttrs(ctx context.Context, app store.App, groupID string) error {
	g, err := s.groupForExtras(ctx, app, groupID)
	if err != nil {
		return err
	}
	if g.Type == gate.GroupCommunity {
		return noPermission("clear_group_attr does not apply to a Community")
	}
	return extrasErr(groupID, s.store.ClearGroupAttrs(ctx, app.SDKAppID, groupID))
}

// checkCounterKey validates a counter key: 1..128 bytes of valid UTF-8.
func checkCounterKey(k string) error {
	if k == "" {
		return groupBad("an empty group counter Key")
	}
	return checkGroupText("group counter Key", k, MaxGroupCounterKeyBytes)
}

// counterGroup loads a group for the counter commands: 10007 a Community
// (the reference's counters are for every type but communities).
func (s *Service) counterGroup(ctx context.Context, app store.App, groupID string) error {
	g, err := s.groupForExtras(ctx, app, groupID)
	if err != nil {
		return err
	}
	if g.Type == gate.GroupCommunity {
		return noPermission("a Community has no group counters")
	}
	return nil
}

// checkCounterKeys validates a key list (max 20, unique): 10004.
func checkCounterKeys(keys []string, allowEmpty bool) error {
	if len(keys) > MaxGroupCounterKeys || (!allowEmpty && len(keys) == 0) {
		return groupBad("GroupCounterKeys has %d keys; at most %d", len(keys), MaxGroupCounterKeys)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := checkCounterKey(k); err != nil {
			return err
		}
		if seen[k] {
			return groupBad("GroupCounterKeys names %q twice", k)
		}
		seen[k] = true
	}
	return nil
}

// GroupCounters returns the group's counters among keys, in their order
// (unknown keys left out), or all by key when keys is empty
// (get_group_counter). Refusals: 10010, 10015, 10007, 10004.
func (s *Service) GroupCounters(ctx context.Context, app store.App, groupID string, keys []string) ([]CounterValue, error) {
	if err := checkCounterKeys(keys, true); err != nil {
		return nil, err
	}
	if err := s.counterGroup(ctx, app, groupID); err != nil {
		return nil, err
	}
	m, err := s.store.GroupCounters(ctx, app.SDKAppID, groupID, keys)
	if err != nil {
		return nil, extrasErr(groupID, err)
	}
	return orderCounters(m, keys), nil
}

func orderCounters(m map[string]int64, keys []string) []CounterValue {
	out := make([]CounterValue, 0, len(m))
	if len(keys) == 0 {
		for k, v := range m {
			out = append(out, CounterValue{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out = append(out, CounterValue{k, v})
		}
	}
	return out
}

// UpdateGroupCounters sets, increases or decreases counters (mode
// "Set"/"Increase"/"Decrease"; a missing counter counts from 0) and returns
// their new values in the order of vals (update_group_counter). Refusals:
// 10010, 10015, 10007, 10004 (bad mode or items; the group's 20 counters
// passed; a value leaving int64).
func (s *Service) UpdateGroupCounters(ctx context.Context, app store.App, groupID, mode string, vals []CounterValue) ([]CounterValue, error) {
	switch mode {
	case store.CounterSet, store.CounterIncrease, store.CounterDecrease:
	default:
		return nil, groupBad("Mode %q must be Set, Increase or Decrease", mode)
	}
	keys := make([]string, len(vals))
	m := make(map[string]int64, len(vals))
	for i, v := range vals {
		keys[i] = v.Key
		m[v.Key] = v.Value
	}
	if len(vals) == 0 || len(vals) > MaxGroupCounterKeys {
		return nil, groupBad("GroupCounter has %d items; 1 to %d", len(vals), MaxGroupCounterKeys)
	}
	if err := checkCounterKeys(keys, false); err != nil {
		return nil, err
	}
	if err := s.counterGroup(ctx, app, groupID); err != nil {
		return nil, err
	}
	got, err := s.store.UpdateGroupCounters(ctx, app.SDKAppID, groupID, mode, m, MaxGroupCounterKeys)
	if err != nil {
		return nil, extrasErr(groupID, err)
	}
	return orderCounters(got, keys), nil
}

// DeleteGroupCounters deletes counters (delete_group_counter; unknown keys
// are ignored). Refusals: 10010, 10015, 10007, 10004.
func (s *Service) DeleteGroupCounters(ctx context.Context, app store.App, groupID string, keys []string) error {
	if err := checkCounterKeys(keys, false); err != nil {
		return err
	}
	if err := s.counterGroup(ctx, app, groupID); err != nil {
		return err
	}
	return extrasErr(groupID, s.store.DeleteGroupCounters(ctx, app.SDKAppID, groupID, keys))
}
