package im

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Group conversations (Type 2) of a conversation list. A group message is
// stored once, so no per-member conversation row exists: the items are built
// at read time from the owner's memberships and the heads of their logs (one
// batched read, store.GroupLog.GroupLasts). Live rooms are not listed, nor
// groups without a message, nor a group whose item the owner deleted while
// its log has no entry after the one it had then (store HideGroupConv).

// maxConvGroups bounds the groups a conversation list reads (a user's
// memberships are bounded by the edition's GroupsPerUser; this caps a bad
// row count all the same).
const maxConvGroups = 10000

// groupConvRows returns the owner's group conversations with a message: one
// ConvLast per group (MsgTime of the log's last message, Seq its last seq)
// and the owner's memberships by GroupId.
func (s *Service) groupConvRows(ctx context.Context, app store.App, owner string) ([]store.ConvLast, map[string]store.GroupMember, error) {
	ms, err := s.store.UserGroups(ctx, app.SDKAppID, owner)
	if err != nil || len(ms) == 0 {
		return nil, nil, storageErrOrNil(err)
	}
	if len(ms) > maxConvGroups {
		ms = ms[:maxConvGroups]
	}
	ids := make([]string, len(ms))
	byID := make(map[string]store.GroupMember, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
		byID[m.GroupID] = m
	}
	lasts, err := s.store.GroupLasts(ctx, app.SDKAppID, ids)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	var withMsg []string
	for _, id := range ids {
		if lasts[id].MsgTime > 0 {
			withMsg = append(withMsg, id)
		}
	}
	if len(withMsg) == 0 {
		return nil, nil, nil
	}
	hidden, err := s.store.HiddenGroupConvs(ctx, app.SDKAppID, owner)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	types, err := s.groupTypes.of(ctx, s, app.SDKAppID, withMsg)
	if err != nil {
		return nil, nil, err
	}
	out := make([]store.ConvLast, 0, len(withMsg))
	for _, id := range withMsg {
		typ, ok := types[id]
		l := lasts[id]
		if !ok || typ == gate.GroupAVChatRoom {
			continue
		}
		if h, ok := hidden[id]; ok && l.Seq <= h {
			continue
		}
		out = append(out, store.ConvLast{ConvID: store.ConvID{Type: store.ConvGroupChat, Peer: id}, MsgTime: l.MsgTime, Seq: l.Seq})
	}
	return out, byID, nil
}

// fillGroupItems sets the group items' unread counts (from the member's read
// position, one batched store.GroupLog.GroupUnreads) and their last message's sender and
// seq (the newest message the owner may read among the log's last
// convLastScan entries; Seq stays the log's last seq when none is). The
// items are read convGroupReaders at a time.
func (s *Service) fillGroupItems(ctx context.Context, app store.App, owner string, items []ConvItem, ms map[string]store.GroupMember) error {
	notBefore, now := s.gate.RetentionStart(app), s.clock.Now()
	reads := map[string]int64{}
	for _, it := range items {
		if m, ok := ms[it.Peer]; ok && it.Type == store.ConvGroupChat && it.MsgTime != 0 {
			reads[it.Peer] = max(m.ReadSeq, m.JoinSeq-1)
		}
	}
	if len(reads) == 0 {
		return nil
	}
	unread, err := s.store.GroupUnreads(ctx, app.SDKAppID, owner, reads, notBefore, now)
	if err != nil {
		return storageErr(err)
	}
	fill := func(it *ConvItem) error {
		it.Unread = unread[it.Peer]
		es, err := s.store.GroupHistory(ctx, app.SDKAppID, it.Peer, it.Seq, convLastScan, notBefore, now)
		if err != nil {
			return storageErr(err)
		}
		for _, e := range es {
			if e.Kind == store.KindMsg && e.VisibleTo(owner) {
				it.From, it.Seq = e.From, e.Seq
				break
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, convGroupReaders)
	for i := range items {
		it := &items[i]
		if _, ok := reads[it.Peer]; !ok || it.Type != store.ConvGroupChat {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fill(it); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// convLastScan is how many of a group log's last entries are read for its
// item's last sender (tips and messages targeted at others are skipped).
const convLastScan = 5

// convGroupReaders bounds the store reads one list page makes at once for its
// group items.
const convGroupReaders = 8

// hideGroupConv keeps group's conversation out of owner's list until the
// group's log passes its last seq now (as the reference hides a deleted group
// conversation until a new message). A group without a log hides nothing.
func (s *Service) hideGroupConv(ctx context.Context, app store.App, owner, group string) error {
	last, err := s.store.GroupLast(ctx, app.SDKAppID, group)
	if err != nil {
		return storageErr(err)
	}
	if last.Seq == 0 {
		return nil
	}
	if err := s.store.HideGroupConv(ctx, app.SDKAppID, owner, group, last.Seq, s.clock.Now()); err != nil {
		return accountGone(err, errs.ConvAccountNotFound, owner)
	}
	return nil
}

// groupTypes caches group types for the conversation list: a group's type
// never changes, so an entry is only wrong when a GroupId is disbanded and
// created again with another type: a create or disband forgets it here and,
// by the bus (bus.InvGroup), on the other nodes; a lost invalidation is
// bounded by groupTypeTTL. The zero value is ready.
type groupTypes struct {
	once sync.Once
	c    *ttlCache[groupKey, string]
}

const (
	groupTypeTTL       = time.Minute
	maxCachedGroupType = 1 << 18
)

// of returns the types of the groups among ids that exist, by GroupId,
// reading the profiles of the ones not cached (one batched read).
func (t *groupTypes) of(ctx context.Context, s *Service, app int64, ids []string) (map[string]string, error) {
	t.init()
	now := s.clock.Now()
	out := make(map[string]string, len(ids))
	var miss []string
	var gen uint64
	for _, id := range ids {
		typ, ok, g := t.c.get(groupKey{app, id}, now)
		if ok {
			out[id] = typ
		} else {
			miss, gen = append(miss, id), g
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	gs, err := s.store.GetGroups(ctx, app, miss)
	if err != nil {
		return nil, storageErr(err)
	}
	for id, g := range gs {
		out[id] = g.Type
		t.c.store(groupKey{app, id}, g.Type, now, gen)
	}
	return out, nil
}

func (t *groupTypes) init() {
	t.once.Do(func() { t.c = newTTLCache[groupKey, string](groupTypeTTL, maxCachedGroupType) })
}

// forget drops k's type (the group was created or disbanded).
func (t *groupTypes) forget(k groupKey, now time.Time) {
	t.init()
	t.c.changed(k, nil, now)
}

// clear drops every type.
func (t *groupTypes) clear() {
	t.init()
	t.c.clear()
}
