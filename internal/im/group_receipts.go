package im

import (
	"context"
	"errors"
	"slices"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Read receipts of group messages (reference rest-api.md §3.7
// group_msg_receipt, get_group_msg_receipt, get_group_msg_receipt_detail; the
// device op group_receipt). Only messages sent with NeedReadReceipt have them;
// the Free Trial and Premium editions only (10059 elsewhere); not in live
// rooms nor communities (10004). Counting reads one counter per message
// (store.GroupReceipts), never the group's members.

// Bounds of the receipt commands.
const (
	MaxReceiptSeqs = 100 // MsgSeqList items (and a device's seqs) per call: else 10005
	// maxReceiptSpan: seqs within this span are read with one log read, else one by one.
	maxReceiptSpan = 1000
)

// GroupReceiptResult is one item of get_group_msg_receipt: Code 0 with the
// counts, or errs.GroupReceiptNotFound for a message without receipts.
type GroupReceiptResult struct {
	Seq       int64
	Code      int
	ReadNum   int
	UnreadNum int
}

// receiptGroup checks the edition (10059) and loads a group that may have
// receipts: 10010/10015 unknown group, 10004 live rooms and communities.
func (s *Service) receiptGroup(ctx context.Context, app store.App, groupID string) (store.Group, error) {
	if err := s.gate.GroupFeature(app, catalog.GroupReadReceipts); err != nil {
		return store.Group{}, err
	}
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return g, err
	}
	if g.Type == gate.GroupAVChatRoom || g.Type == gate.GroupCommunity {
		return g, errs.New(errs.GroupBadParams, "%s groups have no read receipts", g.Type)
	}
	return g, nil
}

// receiptSeqs checks a MsgSeqList: 1..MaxReceiptSeqs items (10004 none,
// 10005 more), each in 1..the group's last seq (10004); it returns them
// without repeats, in the order given.
func (s *Service) receiptSeqs(ctx context.Context, app int64, g store.Group, seqs []int64) ([]int64, error) {
	if len(seqs) == 0 {
		return nil, errs.New(errs.GroupBadParams, "MsgSeqList is empty")
	}
	if len(seqs) > MaxReceiptSeqs {
		return nil, errs.New(errs.GroupTooManyAccounts, "MsgSeqList has %d items; at most %d", len(seqs), MaxReceiptSeqs)
	}
	last, err := s.store.GroupLast(ctx, app, g.GroupID)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]int64, 0, len(seqs))
	for _, q := range seqs {
		if q < 1 || q > last.Seq {
			return nil, errs.New(errs.GroupBadParams, "MsgSeq %d is not a message of group %q (1..%d)", q, g.GroupID, last.Seq)
		}
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out, nil
}

// receiptEntries returns the messages with receipts among seqs, by seq
// (missing: no such message, not a message, or sent without receipts).
func (s *Service) receiptEntries(ctx context.Context, app store.App, g store.Group, seqs []int64) (map[int64]store.Entry, error) {
	lo, hi := slices.Min(seqs), slices.Max(seqs)
	notBefore, now := s.gate.RetentionStart(app), s.clock.Now()
	var es []store.Entry
	if hi-lo < maxReceiptSpan {
		var err error
		if es, err = s.store.GroupSync(ctx, app.SDKAppID, g.GroupID, lo-1, int(hi-lo+1), notBefore, now); err != nil {
			return nil, storageErr(err)
		}
	} else {
		for _, q := range seqs {
			one, err := s.store.GroupHistory(ctx, app.SDKAppID, g.GroupID, q, 1, notBefore, now)
			if err != nil {
				return nil, storageErr(err)
			}
			es = append(es, one...)
		}
	}
	out := make(map[int64]store.Entry, len(seqs))
	for _, e := range es {
		if e.Kind == store.KindMsg && e.NeedReceipt && slices.Contains(seqs, e.Seq) {
			out[e.Seq] = e
		}
	}
	return out, nil
}

func receiptMsg(e store.Entry) store.ReceiptMsg {
	return store.ReceiptMsg{Seq: e.Seq, Sender: e.From, Targets: e.Targets}
}

func noReceipt(seq int64, group string) error {
	return errs.New(errs.GroupReceiptNotFound, "message %d of group %q has no read receipt", seq, group)
}

// MarkGroupReceipts records that reader read the group's messages seqs
// (group_msg_receipt with From_Account, a device's group_receipt) and pushes
// the new counts to each message's sender (coalesced, rcptPusher). The
// reader's own messages are skipped. Nothing is recorded when the call is
// refused: 10059, 10010/10015, 10004 (live room, community, bad reader, seq
// out of range), 10005, 10007 (not a member), 10062 (a message without
// receipts, or one the reader is not counted for: joined after it, or a
// targeted message for others).
func (s *Service) MarkGroupReceipts(ctx context.Context, app store.App, reader, groupID string, seqs []int64) error {
	g, err := s.receiptGroup(ctx, app, groupID)
	if err != nil {
		return err
	}
	if err := ValidUserID(reader); err != nil {
		return errs.New(errs.GroupBadParams, "From_Account: %s", errs.Message(err))
	}
	if seqs, err = s.receiptSeqs(ctx, app.SDKAppID, g, seqs); err != nil {
		return err
	}
	m, err := s.memberOf(ctx, app.SDKAppID, g, reader)
	if err != nil {
		return err
	}
	es, err := s.receiptEntries(ctx, app, g, seqs)
	if err != nil {
		return err
	}
	msgs := make([]store.ReceiptMsg, 0, len(seqs))
	senders := make(map[int64]string, len(seqs))
	for _, q := range seqs {
		e, ok := es[q]
		if !ok || q < m.JoinSeq || !e.VisibleTo(reader) {
			return noReceipt(q, g.GroupID)
		}
		if e.From == reader {
			continue
		}
		msgs = append(msgs, receiptMsg(e))
		senders[q] = e.From
	}
	if len(msgs) == 0 {
		return nil
	}
	changed, err := s.store.MarkGroupReceipts(ctx, app.SDKAppID, g.GroupID, reader, msgs, s.clock.Now())
	if errors.Is(err, errs.ErrNotFound) {
		return groupNotFound(g.GroupID)
	}
	if err != nil {
		return storageErr(err)
	}
	for _, c := range changed {
		s.receipts.add(s.bus, app.SDKAppID, g.GroupID, senders[c.Seq], c)
	}
	return nil
}

// GroupReceipts answers get_group_msg_receipt: per seq, in order, its counts
// or Code 10062 (no receipts). Refusals of the whole call: 10059,
// 10010/10015, 10004 (live room, community, seq out of range), 10005.
func (s *Service) GroupReceipts(ctx context.Context, app store.App, groupID string, seqs []int64) ([]GroupReceiptResult, error) {
	g, err := s.receiptGroup(ctx, app, groupID)
	if err != nil {
		return nil, err
	}
	if seqs, err = s.receiptSeqs(ctx, app.SDKAppID, g, seqs); err != nil {
		return nil, err
	}
	es, err := s.receiptEntries(ctx, app, g, seqs)
	if err != nil {
		return nil, err
	}
	var msgs []store.ReceiptMsg
	for _, q := range seqs {
		if e, ok := es[q]; ok {
			msgs = append(msgs, receiptMsg(e))
		}
	}
	counts := map[int64]store.GroupReceipt{}
	if len(msgs) > 0 {
		got, err := s.store.GroupReceipts(ctx, app.SDKAppID, g.GroupID, msgs, s.clock.Now())
		if errors.Is(err, errs.ErrNotFound) {
			return nil, groupNotFound(g.GroupID)
		}
		if err != nil {
			return nil, storageErr(err)
		}
		for _, c := range got {
			counts[c.Seq] = c
		}
	}
	out := make([]GroupReceiptResult, len(seqs))
	for i, q := range seqs {
		c, ok := counts[q]
		if !ok {
			out[i] = GroupReceiptResult{Seq: q, Code: errs.GroupReceiptNotFound}
			continue
		}
		out[i] = GroupReceiptResult{Seq: q, ReadNum: c.ReadNum, UnreadNum: c.UnreadNum}
	}
	return out, nil
}

// ReceiptDetail is a page of get_group_msg_receipt_detail.
type ReceiptDetail struct {
	Users    []string // readers (Filter 0) or members who did not read (Filter 1), by UserID
	Cursor   string   // where the next page starts; "" when Finished
	Finished bool
}

// Filters of get_group_msg_receipt_detail.
const (
	ReceiptFilterRead   = 0
	ReceiptFilterUnread = 1
)

// GroupReceiptDetail answers get_group_msg_receipt_detail: a page of at most
// count (1..store.MaxReceiptPage) members who read (filter 0) or did not read
// (filter 1) message seq, after cursor ("" first). Refusals: 10059,
// 10010/10015, 10004 (live room, community, seq out of range, bad filter,
// count or cursor), 10062 (a message without receipts).
func (s *Service) GroupReceiptDetail(ctx context.Context, app store.App, groupID string, seq int64, filter int, cursor string, count int) (ReceiptDetail, error) {
	g, err := s.receiptGroup(ctx, app, groupID)
	if err != nil {
		return ReceiptDetail{}, err
	}
	if filter != ReceiptFilterRead && filter != ReceiptFilterUnread {
		return ReceiptDetail{}, errs.New(errs.GroupBadParams, "Filter must be 0 (read) or 1 (unread), not %d", filter)
	}
	if count < 1 || count > store.MaxReceiptPage {
		return ReceiptDetail{}, errs.New(errs.GroupBadParams, "Count must be 1..%d, not %d", store.MaxReceiptPage, count)
	}
	if cursor != "" {
		if ValidUserID(cursor) != nil {
			return ReceiptDetail{}, errs.New(errs.GroupBadParams, "Cursor is not one this command returned")
		}
	}
	seqs, err := s.receiptSeqs(ctx, app.SDKAppID, g, []int64{seq})
	if err != nil {
		return ReceiptDetail{}, err
	}
	es, err := s.receiptEntries(ctx, app, g, seqs)
	if err != nil {
		return ReceiptDetail{}, err
	}
	e, ok := es[seq]
	if !ok {
		return ReceiptDetail{}, noReceipt(seq, g.GroupID)
	}
	users, done, err := s.store.GroupReceiptReaders(ctx, app.SDKAppID, g.GroupID, receiptMsg(e), filter == ReceiptFilterRead, cursor, count)
	if errors.Is(err, errs.ErrNotFound) {
		return ReceiptDetail{}, groupNotFound(g.GroupID)
	}
	if err != nil {
		return ReceiptDetail{}, storageErr(err)
	}
	d := ReceiptDetail{Users: users, Finished: done}
	if !done && len(users) > 0 {
		d.Cursor = users[len(users)-1]
	}
	if d.Users == nil {
		d.Users = []string{}
	}
	return d, nil
}
