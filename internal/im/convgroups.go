package im

import (
	"context"
	"errors"
	"sort"
	"strconv"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Conversation marks and conversation groups (rest-api.md 3.6: mark_contact,
// create/update/del/get/search_contact_group), Free Trial and Premium only:
// every call asks the gate first.

// Standard mark bits (SetMark/ClearMark give bit numbers 0 to 63; 4 and up are custom).
const (
	MarkStar   = 0
	MarkUnread = 1
	MarkFolded = 2
	MarkHidden = 3
)

// Bounds of the marks and groups commands.
const (
	MaxCustomMarkLen   = 256 // CustomMark, bytes
	MaxConvGroupName   = 32  // GroupName, bytes
	MaxMarkItems       = 100 // MarkItem entries per call
	MaxSearchItems     = 300 // ContactItem entries per search_contact_group
	MaxGroupNamesToDel = 20  // GroupName entries per del_contact_group (a user has at most 20)
	ConvGroupPageSize  = 100 // ContactItem entries per get_contact_group page
)

// MarkOp is one MarkItem: OptType 1 standard marks, 2 CustomMark, 3 both.
type MarkOp struct {
	OptType    int
	Conv       store.ConvID
	Set, Clear []int // bit numbers, 0 to 63
	CustomMark string
}

// StandardMarkString is the reference's StandardMark: the mark bits as a
// binary string, bit 0 last ("1001" = star and hidden); "" when none.
func StandardMarkString(marks uint64) string {
	if marks == 0 {
		return ""
	}
	return strconv.FormatUint(marks, 2)
}

func bitsOf(ns []int) (uint64, error) {
	var v uint64
	for _, n := range ns {
		if n < 0 || n > 63 {
			return 0, errs.New(errs.ConvBadParams, "mark bit %d is outside 0 to 63", n)
		}
		v |= 1 << n
	}
	return v, nil
}

// checkMarkOp validates one MarkItem (errs.ConvBadParams).
func checkMarkOp(op MarkOp) (set, clear uint64, custom *string, err error) {
	if err := ValidConvID(op.Conv); err != nil {
		return 0, 0, nil, err
	}
	if op.OptType < 1 || op.OptType > 3 {
		return 0, 0, nil, errs.New(errs.ConvBadParams, "OptType must be 1, 2 or 3, not %d", op.OptType)
	}
	if len(op.Set) > 64 || len(op.Clear) > 64 {
		return 0, 0, nil, errs.New(errs.ConvBadParams, "SetMark and ClearMark list at most 64 bits each")
	}
	if op.OptType&1 != 0 {
		if set, err = bitsOf(op.Set); err != nil {
			return
		}
		if clear, err = bitsOf(op.Clear); err != nil {
			return
		}
	}
	if op.OptType&2 != 0 {
		if err := input.Text(op.CustomMark); err != nil || len(op.CustomMark) > MaxCustomMarkLen {
			return 0, 0, nil, errs.New(errs.ConvBadParams, "CustomMark must be valid text of at most %d bytes", MaxCustomMarkLen)
		}
		c := op.CustomMark
		custom = &c
	}
	return set, clear, custom, nil
}

// MarkConversations applies MarkItems for Owner and returns one result per
// item (nil, errs.ConvBadParams, errs.ConvLimit when a new conversation would
// be the 1,001st marked one). A malformed item changes nothing and fails
// alone; the call fails as a whole only for the gate, the owner or the list.
func (s *Service) MarkConversations(ctx context.Context, app store.App, owner string, ops []MarkOp) ([]store.ConvState, []error, error) {
	if err := s.gate.ConversationMarks(app); err != nil {
		return nil, nil, err
	}
	if len(ops) == 0 || len(ops) > MaxMarkItems {
		return nil, nil, errs.New(errs.ConvBadParams, "MarkItem must list 1 to %d items, not %d", MaxMarkItems, len(ops))
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return nil, nil, err
	}
	results := make([]error, len(ops))
	var changes []store.MarkChange
	var at []int // index in ops of each change
	for i, op := range ops {
		set, clear, custom, err := checkMarkOp(op)
		if err != nil {
			results[i] = err
			continue
		}
		changes = append(changes, store.MarkChange{Conv: op.Conv, Set: set, Clear: clear, Custom: custom})
		at = append(at, i)
	}
	states := make([]store.ConvState, len(ops))
	if len(changes) == 0 {
		return states, results, nil
	}
	got, res, err := s.store.SetMarks(ctx, app.SDKAppID, owner, changes, gate.MaxMarkedConvs, s.clock.Now())
	if err != nil {
		return nil, nil, accountGone(err, errs.ConvAccountNotFound, owner)
	}
	var ds []bus.Delivery
	for k, i := range at {
		if errors.Is(res[k], errs.ErrLimit) {
			results[i] = errs.New(errs.ConvLimit, "at most %d conversations of a user may have marks", gate.MaxMarkedConvs)
			continue
		}
		states[i] = got[k]
		st := got[k]
		ds = append(ds, bus.Delivery{App: app.SDKAppID, User: owner, Kind: bus.KindConv, Conv: &bus.ConvChange{Conv: &st}})
	}
	s.bus.Publish(ds)
	return states, results, nil
}

// checkGroupName validates a conversation group name: 1 to 32 bytes of text.
func checkGroupName(field, name string) error {
	if err := input.Identifier(name, MaxConvGroupName); err != nil {
		return errs.New(errs.ConvBadParams, "%s %q: %v", field, name, err)
	}
	return nil
}

// CreateConvGroup creates Owner's conversation group name with convs in it.
// The 21st group and a group of more than 1,000 conversations fail with
// errs.ConvLimit (51008); a taken name with errs.ConvBadParams.
func (s *Service) CreateConvGroup(ctx context.Context, app store.App, owner, name string, convs []store.ConvID) (store.ConvGroup, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return store.ConvGroup{}, err
	}
	if err := checkGroupName("GroupName", name); err != nil {
		return store.ConvGroup{}, err
	}
	if len(convs) > gate.MaxConvsPerGroup {
		return store.ConvGroup{}, errs.New(errs.ConvLimit, "a conversation group holds at most %d conversations, not %d", gate.MaxConvsPerGroup, len(convs))
	}
	for _, c := range convs {
		if err := ValidConvID(c); err != nil {
			return store.ConvGroup{}, err
		}
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return store.ConvGroup{}, err
	}
	g, err := s.store.CreateConvGroup(ctx, app.SDKAppID, owner, name, convs, gate.MaxConvGroups, gate.MaxConvsPerGroup, s.clock.Now())
	switch {
	case errors.Is(err, errs.ErrExists):
		return g, errs.New(errs.ConvBadParams, "conversation group %q exists", name)
	case errors.Is(err, errs.ErrLimit):
		return g, errs.New(errs.ConvLimit, "a user has at most %d conversation groups of at most %d conversations", gate.MaxConvGroups, gate.MaxConvsPerGroup)
	case err != nil:
		return g, accountGone(err, errs.ConvAccountNotFound, owner)
	}
	return g, s.notifyGroups(ctx, app, owner)
}

// RenameConvGroup renames Owner's group old to newName (UpdateGroupType 1).
func (s *Service) RenameConvGroup(ctx context.Context, app store.App, owner, old, newName string) (store.ConvGroup, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return store.ConvGroup{}, err
	}
	if err := checkGroupName("OldGroupName", old); err != nil {
		return store.ConvGroup{}, err
	}
	if err := checkGroupName("NewGroupName", newName); err != nil {
		return store.ConvGroup{}, err
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return store.ConvGroup{}, err
	}
	g, err := s.store.RenameConvGroup(ctx, app.SDKAppID, owner, old, newName, s.clock.Now())
	if err := groupErr(err, old, newName); err != nil {
		return g, err
	}
	return g, s.notifyGroups(ctx, app, owner)
}

func groupErr(err error, name, newName string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return errs.New(errs.ConvBadParams, "conversation group %q does not exist", name)
	case errors.Is(err, errs.ErrExists):
		return errs.New(errs.ConvBadParams, "conversation group %q exists", newName)
	}
	return storageErr(err)
}

// UpdateConvGroup adds (ContactOptType 1) and removes (2) conversations of
// Owner's group name; one result per item, adds first: nil, or
// errs.ConvLimit when the group would hold more than 1,000.
func (s *Service) UpdateConvGroup(ctx context.Context, app store.App, owner, name string, add, remove []store.ConvID) (store.ConvGroup, []error, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return store.ConvGroup{}, nil, err
	}
	if err := checkGroupName("OldGroupName", name); err != nil {
		return store.ConvGroup{}, nil, err
	}
	if len(add)+len(remove) == 0 || len(add)+len(remove) > gate.MaxConvsPerGroup {
		return store.ConvGroup{}, nil, errs.New(errs.ConvBadParams, "ContactUpdateItem must list 1 to %d items", gate.MaxConvsPerGroup)
	}
	for _, c := range append(append([]store.ConvID(nil), add...), remove...) {
		if err := ValidConvID(c); err != nil {
			return store.ConvGroup{}, nil, err
		}
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return store.ConvGroup{}, nil, err
	}
	g, res, err := s.store.UpdateConvGroup(ctx, app.SDKAppID, owner, name, add, remove, gate.MaxConvsPerGroup, s.clock.Now())
	if err := groupErr(err, name, name); err != nil {
		return g, nil, err
	}
	for i, r := range res {
		if errors.Is(r, errs.ErrLimit) {
			res[i] = errs.New(errs.ConvLimit, "a conversation group holds at most %d conversations", gate.MaxConvsPerGroup)
		}
	}
	return g, res, s.notifyGroups(ctx, app, owner)
}

// DeleteConvGroups deletes Owner's named groups and returns those that existed.
func (s *Service) DeleteConvGroups(ctx context.Context, app store.App, owner string, names []string) ([]store.ConvGroup, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > MaxGroupNamesToDel {
		return nil, errs.New(errs.ConvBadParams, "GroupName must list 1 to %d names, not %d", MaxGroupNamesToDel, len(names))
	}
	for _, n := range names {
		if err := checkGroupName("GroupName", n); err != nil {
			return nil, err
		}
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return nil, err
	}
	gone, err := s.store.DeleteConvGroups(ctx, app.SDKAppID, owner, names)
	if err != nil {
		return nil, accountGone(err, errs.ConvAccountNotFound, owner)
	}
	return gone, s.notifyGroups(ctx, app, owner)
}

// ConvMarks is Owner's marked or grouped conversations and conversation groups.
type ConvMarks struct {
	Convs    []store.ConvState // with marks or groups, by (type, peer)
	Groups   []store.ConvGroup
	Complete bool
	Next     int // NextStartIndex
}

// ConvGroups returns one page (get_contact_group, from start) of Owner's
// conversations with marks or groups, and all its conversation groups.
func (s *Service) ConvGroups(ctx context.Context, app store.App, owner string, start int) (ConvMarks, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return ConvMarks{}, err
	}
	if start < 0 {
		return ConvMarks{}, errs.New(errs.ConvBadParams, "StartIndex must not be negative")
	}
	all, groups, err := s.markedConvs(ctx, app, owner)
	if err != nil {
		return ConvMarks{}, err
	}
	start = min(start, len(all))
	end := min(start+ConvGroupPageSize, len(all))
	out := ConvMarks{Convs: all[start:end], Groups: groups, Complete: end == len(all)}
	if !out.Complete {
		out.Next = end
	}
	return out, nil
}

// SearchConvGroups returns the marks and groups of the listed conversations
// (search_contact_group; those without any are left out) and all groups.
func (s *Service) SearchConvGroups(ctx context.Context, app store.App, owner string, convs []store.ConvID) (ConvMarks, error) {
	if err := s.gate.ConversationGroups(app); err != nil {
		return ConvMarks{}, err
	}
	if len(convs) == 0 || len(convs) > MaxSearchItems {
		return ConvMarks{}, errs.New(errs.ConvBadParams, "ContactItem must list 1 to %d conversations, not %d", MaxSearchItems, len(convs))
	}
	want := map[store.ConvID]bool{}
	for _, c := range convs {
		if err := ValidConvID(c); err != nil {
			return ConvMarks{}, err
		}
		want[c] = true
	}
	all, groups, err := s.markedConvs(ctx, app, owner)
	if err != nil {
		return ConvMarks{}, err
	}
	out := ConvMarks{Groups: groups, Complete: true}
	for _, st := range all {
		if want[st.ConvID] {
			out.Convs = append(out.Convs, st)
		}
	}
	return out, nil
}

func (s *Service) markedConvs(ctx context.Context, app store.App, owner string) ([]store.ConvState, []store.ConvGroup, error) {
	if err := s.convOwner(ctx, app, owner); err != nil {
		return nil, nil, err
	}
	states, groups, err := s.store.ConvStates(ctx, app.SDKAppID, owner)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	var out []store.ConvState
	for _, st := range states {
		if st.Marks != 0 || st.CustomMark != "" || len(st.Groups) > 0 {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Peer < out[j].Peer
	})
	return out, groups, nil
}

// notifyGroups tells Owner's devices the conversation groups changed (all of
// them, after the change).
func (s *Service) notifyGroups(ctx context.Context, app store.App, owner string) error {
	_, groups, err := s.store.ConvStates(ctx, app.SDKAppID, owner)
	if err != nil {
		return storageErr(err)
	}
	s.notifyConv(app, owner, &bus.ConvChange{Groups: groups, GroupsChanged: true})
	return nil
}
