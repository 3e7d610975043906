package im

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Reads and administration of group logs (reference rest-api.md §3.7).

// Bounds of the group log commands.
const (
	MaxGroupHistory    = 20  // group_msg_get_simple: messages per call
	MaxGroupRecall     = 100 // group_msg_recall: MsgSeqList items
	MaxGroupImport     = 20  // import_group_msg: MsgList items
	maxGroupListGroups = 1000
)

// memberOf returns user's membership of g: 10007 for a non-member.
func (s *Service) memberOf(ctx context.Context, app int64, g store.Group, user string) (store.GroupMember, error) {
	m, err := s.store.GetGroupMember(ctx, app, g.GroupID, user)
	if errors.Is(err, errs.ErrNotFound) {
		return m, noPermission("%q is not a member of group %q", user, g.GroupID)
	}
	if err != nil {
		return m, storageErr(err)
	}
	return m, nil
}

// storedGroup loads a group whose log is stored: live rooms refuse with code.
func (s *Service) storedGroup(ctx context.Context, app store.App, groupID string, code int) (store.Group, error) {
	if err := s.gate.Active(app); err != nil {
		return store.Group{}, err
	}
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return g, err
	}
	if g.Type == gate.GroupAVChatRoom {
		return g, errs.New(code, "live rooms (AVChatRoom) keep no messages")
	}
	return g, nil
}

// GroupSync returns user's view of the group's entries with seq > after
// (from the member's JoinSeq at the earliest), oldest first, at most limit
// (≤ MaxSyncPage), and whether the page reaches the end. Targeted messages
// for others are left out. groupID may be a TopicId (the topic's log, read
// by the community's members). Refusals: 10010, 10007, 10004 for a live room.
func (s *Service) GroupSync(ctx context.Context, app store.App, user, groupID string, after int64, limit int) ([]store.Entry, bool, error) {
	if after < 0 || limit < 0 {
		return nil, false, groupBad("after and limit must not be negative (after %d, limit %d)", after, limit)
	}
	g, log, err := s.storedLog(ctx, app, groupID, "", errs.GroupBadParams)
	if err != nil {
		return nil, false, err
	}
	m, err := s.memberOf(ctx, app.SDKAppID, g, user)
	if err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > MaxSyncPage {
		limit = MaxSyncPage
	}
	if after < m.JoinSeq-1 && log == g.GroupID { // a topic's log: the community's members read all of it
		after = m.JoinSeq - 1
	}
	es, err := s.store.GroupSync(ctx, app.SDKAppID, log, after, limit+1, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return nil, false, storageErr(err)
	}
	complete := len(es) <= limit
	if !complete {
		es = es[:limit]
	}
	out := es[:0]
	for _, e := range es {
		if e.VisibleTo(user) {
			out = append(out, e)
		}
	}
	return out, complete, nil
}

// MarkGroupRead records that user read the group up to seq (never back; at
// most the group's last seq). Refusals: 10010, 10007, 10004 a TopicId (read
// positions are kept per group).
func (s *Service) MarkGroupRead(ctx context.Context, app store.App, user, groupID string, seq int64) error {
	if seq < 0 {
		return groupBad("seq must not be negative, not %d", seq)
	}
	if strings.Contains(groupID, TopicSep) {
		return groupBad("read positions are kept per group, not per community topic: name the community")
	}
	g, err := s.storedGroup(ctx, app, groupID, errs.GroupBadParams)
	if err != nil {
		return err
	}
	if _, err := s.memberOf(ctx, app.SDKAppID, g, user); err != nil {
		return err
	}
	last, err := s.store.GroupLast(ctx, app.SDKAppID, g.GroupID)
	if err != nil {
		return storageErr(err)
	}
	if seq > last.Seq {
		seq = last.Seq
	}
	if err := s.store.SetGroupReadSeq(ctx, app.SDKAppID, g.GroupID, user, seq); err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return noPermission("%q is not a member of group %q", user, g.GroupID)
		}
		return storageErr(err)
	}
	return nil
}

// GroupState is one of a user's groups with its log's head and the user's
// unread count.
type GroupState struct {
	Group       store.Group
	LastSeq     int64
	ReadSeq     int64
	Unread      int
	LastMsgTime int64
}

// GroupList returns the user's groups (live rooms included, at most 1,000):
// each with its last seq, the user's read seq and unread count (bounded by
// store.MaxGroupUnreadScan per group).
func (s *Service) GroupList(ctx context.Context, app store.App, user string) ([]GroupState, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, err
	}
	ms, err := s.store.UserGroups(ctx, app.SDKAppID, user)
	if err != nil {
		return nil, storageErr(err)
	}
	if len(ms) > maxGroupListGroups {
		ms = ms[:maxGroupListGroups]
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
	}
	gs, err := s.store.GetGroups(ctx, app.SDKAppID, ids)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]GroupState, 0, len(ms))
	for _, m := range ms {
		g, ok := gs[m.GroupID]
		if !ok {
			continue
		}
		st := GroupState{Group: g, ReadSeq: m.ReadSeq}
		if g.Type == gate.GroupAVChatRoom { // numbered in memory; no unread counts (§4)
			h := s.liveSeqs.last(groupKey{app.SDKAppID, g.GroupID})
			st.LastSeq, st.LastMsgTime = h.seq, h.time
		} else {
			last, err := s.store.GroupLast(ctx, app.SDKAppID, g.GroupID)
			if err != nil {
				return nil, storageErr(err)
			}
			st.LastSeq, st.LastMsgTime = last.Seq, last.MsgTime
			read := max(m.ReadSeq, m.JoinSeq-1)
			if st.Unread, err = s.store.GroupUnread(ctx, app.SDKAppID, g.GroupID, user, read, s.gate.RetentionStart(app), s.clock.Now()); err != nil {
				return nil, storageErr(err)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// GroupHistory answers group_msg_get_simple: at most n (≤ MaxGroupHistory)
// entries with seq ≤ from (0: the newest), newest first, and whether the
// log's start was reached. Recall entries are not listed; recalled messages
// are, flagged. topicID ("" none) reads a community topic's log.
// Refusals: 10010, 10004 (live rooms; TopicId on a group without topics), 10015.
func (s *Service) GroupHistory(ctx context.Context, app store.App, groupID, topicID string, from int64, n int) ([]store.Entry, bool, error) {
	_, log, err := s.storedLog(ctx, app, groupID, topicID, errs.GroupBadParams)
	if err != nil {
		return nil, false, err
	}
	if n <= 0 || n > MaxGroupHistory {
		n = MaxGroupHistory
	}
	if from <= 0 {
		last, err := s.store.GroupLast(ctx, app.SDKAppID, log)
		if err != nil {
			return nil, false, storageErr(err)
		}
		from = last.Seq
	}
	es, err := s.store.GroupHistory(ctx, app.SDKAppID, log, from, n, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return nil, false, storageErr(err)
	}
	lowest := from + 1
	if len(es) > 0 {
		lowest = es[len(es)-1].Seq
	}
	finished := len(es) < n || lowest <= 1
	return es, finished, nil
}

// RecallGroupMsgs recalls messages by seq (group_msg_recall, at most
// MaxGroupRecall): per seq 0, or 10030 when the group has no such message.
// topicID ("" none) names a community topic's log. Refusals of the whole
// call: 10010, 10033 (live rooms), 10005, 10004 and 10015 (TopicId).
func (s *Service) RecallGroupMsgs(ctx context.Context, app store.App, groupID, topicID string, seqs []int64) ([]int, error) {
	g, log, err := s.storedLog(ctx, app, groupID, topicID, errs.GroupRecallNotAllowed)
	if err != nil {
		return nil, err
	}
	if len(seqs) > MaxGroupRecall {
		return nil, errs.New(errs.GroupTooManyAccounts, "MsgSeqList has %d items; at most %d", len(seqs), MaxGroupRecall)
	}
	members, err := s.groupMembers.get(groupKey{app.SDKAppID, g.GroupID}, func() ([]string, error) {
		return s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
	})
	if err != nil {
		return nil, storageErr(err)
	}
	codes := make([]int, len(seqs))
	done := make(chan struct{}, len(seqs))
	now := s.clock.Now()
	for i, seq := range seqs {
		op := store.Op{Kind: store.OpGroupRecall, App: app.SDKAppID, Group: log, From: app.AdminUser, MsgSeq: seq, MsgTime: now.Unix(), At: now}
		s.afterGroupRecall(ctx, app.SDKAppID, g, log, app.AdminUser, &op)
		s.writer.SubmitGroup(op, members, g.GroupID, bus.Origin{}, func(res store.OpResult, err error) {
			switch {
			case err == nil && res.Err == nil:
			case err == nil && errors.Is(res.Err, errs.ErrNotFound):
				codes[i] = errs.GroupRecallNotFound
			default:
				codes[i] = errs.GroupInternal
			}
			done <- struct{}{}
		})
	}
	for range seqs {
		<-done
	}
	return codes, nil
}

// ImportedGroupMsg is one message of import_group_msg.
type ImportedGroupMsg struct {
	From     string
	SendTime int64
	Random   uint32
	Body     json.RawMessage
}

// Results of import_group_msg items.
const (
	ImportOK        = 0
	ImportFailed    = 1
	ImportDuplicate = 2
)

// ImportGroupMsgs stores messages from another system (import_group_msg, at
// most MaxGroupImport) without delivering them: per item its seq, time and
// Result (0 ok, 1 failed, 2 duplicate: the same sender and Random within
// RandomDupWindow). topicID ("" none) names a community topic's log.
// Refusals: 10010, 10004 (live rooms; TopicId on a group without topics),
// 10005, 10015.
func (s *Service) ImportGroupMsgs(ctx context.Context, app store.App, groupID, topicID string, msgs []ImportedGroupMsg) ([]GroupSendResult, []int, error) {
	_, log, err := s.storedLog(ctx, app, groupID, topicID, errs.GroupBadParams)
	if err != nil {
		return nil, nil, err
	}
	if len(msgs) > MaxGroupImport {
		return nil, nil, errs.New(errs.GroupTooManyAccounts, "MsgList has %d items; at most %d", len(msgs), MaxGroupImport)
	}
	now := s.clock.Now()
	results := make([]GroupSendResult, len(msgs))
	codes := make([]int, len(msgs))
	var ops []store.Op
	var idx []int
	for i, m := range msgs {
		bad := ValidUserID(m.From) != nil || ValidateBody(m.Body) != nil || checkImportTime(m.SendTime, now) != nil
		if bad {
			codes[i] = ImportFailed
			continue
		}
		random := m.Random
		if random == 0 {
			random = randomUint32()
		}
		ops = append(ops, store.Op{Kind: store.OpGroupSend, App: app.SDKAppID, Group: log, From: m.From, MsgRandom: random,
			MsgTime: m.SendTime, Body: m.Body, RandomWindow: RandomDupWindow, At: now})
		idx = append(idx, i)
	}
	res, errList := s.writer.DoAll(ctx, ops)
	for j, i := range idx {
		r, err := groupSendResult(res[j], errList[j])
		switch {
		case err != nil:
			codes[i] = ImportFailed
		case r.Duplicate:
			codes[i], results[i] = ImportDuplicate, r
		default:
			results[i] = r
		}
	}
	return results, codes, nil
}

// DeleteGroupMsgsBySender deletes the sender's messages of the group
// (delete_group_msg_by_sender), of a community topic's log with topicID.
// Refusals: 10010, 10035 (live rooms), 10004, 10015.
func (s *Service) DeleteGroupMsgsBySender(ctx context.Context, app store.App, groupID, topicID, sender string) error {
	_, log, err := s.storedLog(ctx, app, groupID, topicID, errs.GroupDeleteNotAllowed)
	if err != nil {
		return err
	}
	if err := ValidUserID(sender); err != nil {
		return errs.New(errs.GroupBadParams, "Sender_Account: %s", errs.Message(err))
	}
	_, err = s.store.DeleteGroupMsgsBySender(ctx, app.SDKAppID, log, sender)
	return storageErrOrNil(err)
}

// GroupSystemNotification sends a system notification (send_group_system_notification):
// to every member, stored as a tips entry of type "system"; to the listed
// members only (not for live rooms: 10004), delivered online and not stored.
// With topicID, the entry is the community topic's (its log, the
// community's members).
func (s *Service) GroupSystemNotification(ctx context.Context, app store.App, groupID, topicID string, to []string, content string) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	g, log, err := s.groupLog(ctx, app.SDKAppID, groupID, topicID)
	if err != nil {
		return err
	}
	if len(content) > MaxMsgBodyBytes {
		return errs.New(errs.GroupBadParams, "Content is longer than %d bytes", MaxMsgBodyBytes)
	}
	if len(to) > 0 && g.Type == gate.GroupAVChatRoom {
		return errs.New(errs.GroupBadParams, "a live room's system notification goes to all members: leave out ToMembers_Account")
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}{"system", content})
	if len(to) == 0 && g.Type != gate.GroupAVChatRoom {
		members, err := s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
		if err != nil {
			return storageErr(err)
		}
		done := make(chan error, 1)
		now := s.clock.Now()
		s.writer.SubmitGroup(store.Op{Kind: store.OpGroupTips, App: app.SDKAppID, Group: log, Body: body, MsgTime: now.Unix(), At: now},
			members, g.GroupID, bus.Origin{}, func(res store.OpResult, err error) { done <- errors.Join(err, res.Err) })
		if err := <-done; err != nil {
			return storageErr(err)
		}
		return nil
	}
	whole := "" // the group's id when to is its whole member list (bus.GroupDelivery.Group)
	if len(to) == 0 {
		ids, err := s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
		if err != nil {
			return storageErr(err)
		}
		to, whole = ids, g.GroupID
	}
	if len(to) > 500 {
		return errs.New(errs.GroupTooManyAccounts, "ToMembers_Account has %d accounts; at most 500", len(to))
	}
	now := s.clock.Now()
	e := &store.Entry{App: app.SDKAppID, Group: log, Kind: store.KindGroupTips, Body: body, MsgTime: now.Unix(), CreatedAt: now}
	s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, Kind: bus.KindGroup, Entry: e,
		Group: &bus.GroupDelivery{Members: to, Group: whole, LiveRoom: g.Type == gate.GroupAVChatRoom}}})
	return nil
}

// OnlineMemberNum counts the group's members with a connected device
// (get_online_member_num).
func (s *Service) OnlineMemberNum(ctx context.Context, app store.App, groupID string) (int, error) {
	if err := s.gate.Active(app); err != nil {
		return 0, err
	}
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return 0, err
	}
	ids, err := s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
	if err != nil {
		return 0, storageErr(err)
	}
	n := 0
	for _, id := range ids {
		for _, d := range s.bus.Devices(app.SDKAppID, id) {
			if d.Status == "" {
				n++
				break
			}
		}
	}
	return n, nil
}

// SetGroupUnread sets the member's read position so that its unread count is
// n (set_unread_msg_num): the seq before its n-th newest unread message. The
// read position only moves forward (store.Groups.SetGroupReadSeq), so n may
// not exceed the member's unread count now (10004). Refusals: 10010, 10007
// (not a member), 10004 (live rooms).
func (s *Service) SetGroupUnread(ctx context.Context, app store.App, groupID, user string, n int) error {
	g, err := s.storedGroup(ctx, app, groupID, errs.GroupBadParams)
	if err != nil {
		return err
	}
	m, err := s.memberOf(ctx, app.SDKAppID, g, user)
	if err != nil {
		return err
	}
	if n < 0 {
		return errs.New(errs.GroupBadParams, "UnreadMsgNum must be 0 or more")
	}
	read := max(m.ReadSeq, m.JoinSeq-1)
	now := s.clock.Now()
	cur, err := s.store.GroupUnread(ctx, app.SDKAppID, g.GroupID, user, read, s.gate.RetentionStart(app), now)
	if err != nil {
		return storageErr(err)
	}
	if n > cur {
		return errs.New(errs.GroupBadParams, "UnreadMsgNum %d is more than the member's %d unread messages: the read position only moves forward", n, cur)
	}
	target, err := s.readSeqForUnread(ctx, app, g.GroupID, user, read, n)
	if err != nil {
		return err
	}
	if err := s.store.SetGroupReadSeq(ctx, app.SDKAppID, g.GroupID, user, target); err != nil {
		return storageErr(fmt.Errorf("set read seq: %w", err))
	}
	return nil
}

// readSeqForUnread returns the read position of user in the group log that
// leaves n messages unread (counted as store.GroupLog.GroupUnread counts
// them) after read: the seq before its n-th newest unread message, walking
// the log back from its end; read when fewer than n are there.
func (s *Service) readSeqForUnread(ctx context.Context, app store.App, log, user string, read int64, n int) (int64, error) {
	last, err := s.store.GroupLast(ctx, app.SDKAppID, log)
	if err != nil {
		return 0, storageErr(err)
	}
	now := s.clock.Now()
	target, counted, from := last.Seq, 0, last.Seq
	for counted < n && from > read {
		es, err := s.store.GroupHistory(ctx, app.SDKAppID, log, from, MaxSyncPage, s.gate.RetentionStart(app), now)
		if err != nil {
			return 0, storageErr(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Seq <= read || counted == n {
				break
			}
			if e.Kind == store.KindMsg && !e.Recalled && e.From != user && e.VisibleTo(user) {
				counted++
				target = e.Seq - 1
			}
		}
		from = es[len(es)-1].Seq - 1
	}
	if counted < n {
		target = read
	}
	return max(target, read), nil
}
