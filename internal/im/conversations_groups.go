package im

import (
	"context"

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
	gs, err := s.store.GetGroups(ctx, app.SDKAppID, withMsg)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	out := make([]store.ConvLast, 0, len(withMsg))
	for _, id := range withMsg {
		g, ok := gs[id]
		l := lasts[id]
		if !ok || g.Type == gate.GroupAVChatRoom {
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
// position, store.GroupLog.GroupUnread) and their last message's sender and
// seq (the newest message the owner may read among the log's last
// MaxGroupHistory entries; Seq stays the log's last seq when none is).
func (s *Service) fillGroupItems(ctx context.Context, app store.App, owner string, items []ConvItem, ms map[string]store.GroupMember) error {
	notBefore, now := s.gate.RetentionStart(app), s.clock.Now()
	for i := range items {
		it := &items[i]
		if it.Type != store.ConvGroupChat || it.MsgTime == 0 {
			continue
		}
		m, ok := ms[it.Peer]
		if !ok {
			continue
		}
		n, err := s.store.GroupUnread(ctx, app.SDKAppID, it.Peer, owner, max(m.ReadSeq, m.JoinSeq-1), notBefore, now)
		if err != nil {
			return storageErr(err)
		}
		it.Unread = n
		es, err := s.store.GroupHistory(ctx, app.SDKAppID, it.Peer, it.Seq, MaxGroupHistory, notBefore, now)
		if err != nil {
			return storageErr(err)
		}
		for _, e := range es {
			if e.Kind == store.KindMsg && e.VisibleTo(owner) {
				it.From, it.Seq = e.From, e.Seq
				break
			}
		}
	}
	return nil
}

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
