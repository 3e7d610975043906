package im

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Group messages (reference rest-api.md §3.7 send_group_msg, §4): stored once
// in the group's log with the group's gapless seq, delivered by one
// bus.KindGroup delivery to the members' devices. Live rooms store nothing.

// RandomDupWindow: a REST send repeating the Random of the same sender in the
// same group within this window is a duplicate (send_group_msg).
const RandomDupWindow = 5 * time.Minute

// liveRoomElems are the element types a live room accepts (product spec).
var liveRoomElems = map[string]bool{"TIMTextElem": true, "TIMImageElem": true, "TIMSoundElem": true, "TIMCustomElem": true}

// GroupSendRequest is a group message to send.
type GroupSendRequest struct {
	Group string // a GroupId, or a TopicId (a device's group_send)
	Topic string // REST TopicId: a topic of the Community Group
	// From is the sender. Admin (the REST API) may send as any member, or as
	// the app's admin identity when From is empty; a device sends as itself.
	From            string
	Admin           bool
	ClientID        string // a device's idempotency key
	Random          uint32 // REST Random: the same within RandomDupWindow is a duplicate; 0 chosen
	Body            json.RawMessage
	CloudCustomData string
	Targets         []string // a targeted message (≤ store.MaxGroupTargets members)
	NeedReceipt     bool
	OnlineOnly      bool   // OnlineOnlyFlag: delivered to the devices online, not stored (no seq)
	Forbid          Forbid // callbacks this send skips (REST ForbidCallbackControl)

	log string // the log written: Group, or the topic's id (set by checkGroupSend)
}

// GroupSendResult is what a group send produced.
type GroupSendResult struct {
	Seq       int64 // the message's seq in the group (MsgSeq); 0 for an online-only message
	MsgTime   int64
	Random    uint32
	Duplicate bool
}

// checkGroupSend applies the send rules and returns the group and the
// audience snapshot (a topic's: its community's members, mutes and rules).
// Refusals: 10010 no group or topic, 10015 bad GroupId or TopicId, 10007 not
// a member, 10017 muted, 10004 bad targets or an element a live room does
// not take, 10059 targets or receipts on an edition without them, and the
// body's codes (ValidateBody).
func (s *Service) checkGroupSend(ctx context.Context, app store.App, req *GroupSendRequest) (store.Group, []string, error) {
	if err := s.gate.Active(app); err != nil {
		return store.Group{}, nil, err
	}
	if req.Admin && req.From == "" {
		req.From = app.AdminUser
	}
	if err := ValidUserID(req.From); err != nil {
		return store.Group{}, nil, errs.New(errs.GroupBadParams, "From_Account: %s", errs.Message(err))
	}
	if req.ClientID != "" {
		if err := input.Identifier(req.ClientID, MaxClientIDLen); err != nil {
			return store.Group{}, nil, errs.New(errs.GroupBadParams, "client message id: %v", err)
		}
	}
	if err := checkContent(SendRequest{Body: req.Body, CloudCustomData: req.CloudCustomData}); err != nil {
		return store.Group{}, nil, err
	}
	g, log, err := s.groupLog(ctx, app.SDKAppID, req.Group, req.Topic)
	if err != nil {
		return g, nil, err
	}
	req.log = log
	live := g.Type == gate.GroupAVChatRoom
	if live {
		if err := liveRoomBody(req.Body); err != nil {
			return g, nil, err
		}
	}
	if req.From != app.AdminUser || !req.Admin {
		m, err := s.store.GetGroupMember(ctx, app.SDKAppID, g.GroupID, req.From)
		if errors.Is(err, errs.ErrNotFound) {
			return g, nil, noPermission("%q is not a member of group %q", req.From, g.GroupID)
		}
		if err != nil {
			return g, nil, storageErr(err)
		}
		now := s.clock.Now().Unix()
		if m.MutedUntil == store.MutedForever || m.MutedUntil > now {
			return g, nil, errs.New(errs.GroupMuted, "%q is muted in group %q", req.From, g.GroupID)
		}
		if g.MuteAllMember && m.Role == store.RoleMember {
			return g, nil, errs.New(errs.GroupMuted, "group %q mutes all members", g.GroupID)
		}
		if log != g.GroupID && m.Role == store.RoleMember { // a topic may mute all of the community's members
			t, err := s.store.GetTopic(ctx, app.SDKAppID, log)
			if err != nil {
				return g, nil, storageErr(err) // resolved just before: a topic destroyed meanwhile is rare
			}
			if t.MuteAllMember {
				return g, nil, errs.New(errs.GroupMuted, "topic %q mutes all members", log)
			}
		}
	}
	if len(req.Targets) > 0 {
		if err := s.checkTargets(ctx, app, g, req); err != nil {
			return g, nil, err
		}
	}
	if req.NeedReceipt {
		if err := s.gate.GroupFeature(app, catalog.GroupReadReceipts); err != nil {
			return g, nil, err
		}
	}
	members, err := s.groupMembers.get(groupKey{app.SDKAppID, g.GroupID}, func() ([]string, error) {
		return s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
	})
	if errors.Is(err, errs.ErrNotFound) {
		return g, nil, groupNotFound(g.GroupID)
	}
	if err != nil {
		return g, nil, storageErr(err)
	}
	return g, members, nil
}

// liveRoomBody refuses the element types a live room does not take (10004).
func liveRoomBody(body json.RawMessage) error {
	var elems []struct{ MsgType string }
	if err := json.Unmarshal(body, &elems); err != nil {
		return errs.New(errs.GroupBadParams, "MsgBody: %v", err)
	}
	for i, e := range elems {
		if !liveRoomElems[e.MsgType] {
			return errs.New(errs.GroupBadParams, "MsgBody[%d]: a live room (AVChatRoom) takes only TIMTextElem, TIMImageElem, TIMSoundElem and TIMCustomElem, not %s", i, e.MsgType)
		}
	}
	return nil
}

// checkTargets applies the rules of a targeted message and deduplicates its
// targets.
func (s *Service) checkTargets(ctx context.Context, app store.App, g store.Group, req *GroupSendRequest) error {
	if err := s.gate.GroupFeature(app, catalog.TargetedGroupMessages); err != nil {
		return err
	}
	if g.Type == gate.GroupAVChatRoom || g.Type == gate.GroupCommunity {
		return errs.New(errs.GroupBadParams, "targeted messages are not available in %s groups", g.Type)
	}
	if len(req.Targets) > store.MaxGroupTargets {
		return errs.New(errs.GroupBadParams, "To_Account has %d accounts; at most %d", len(req.Targets), store.MaxGroupTargets)
	}
	seen := make(map[string]bool, len(req.Targets))
	out := req.Targets[:0:0]
	for _, t := range req.Targets {
		if err := ValidUserID(t); err != nil {
			return errs.New(errs.GroupBadParams, "To_Account: %s", errs.Message(err))
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	ms, err := s.store.GroupMembers(ctx, app.SDKAppID, g.GroupID, out)
	if err != nil {
		return storageErr(err)
	}
	for _, t := range out {
		if _, ok := ms[t]; !ok {
			return errs.New(errs.GroupBadParams, "To_Account: %q is not a member of group %q", t, g.GroupID)
		}
	}
	req.Targets = out
	return nil
}

// SendGroupMsg sends a group message and waits until it is durable
// (send_group_msg). See checkGroupSend for the refusals.
func (s *Service) SendGroupMsg(ctx context.Context, app store.App, req GroupSendRequest) (GroupSendResult, error) {
	type out struct {
		res GroupSendResult
		err error
	}
	ch := make(chan out, 1)
	s.SendGroupAsync(ctx, app, req, bus.Origin{}, func(r GroupSendResult, err error) { ch <- out{r, err} })
	o := <-ch
	return o.res, o.err
}

// SendGroupAsync is SendGroupMsg without waiting (a device's group_send):
// done is called once, at once when refused, else after the commit (it must
// not block). The entry's delivery carries origin, so the sending device
// gets it in its reply.
func (s *Service) SendGroupAsync(ctx context.Context, app store.App, req GroupSendRequest, origin bus.Origin, done func(GroupSendResult, error)) {
	g, members, err := s.checkGroupSend(ctx, app, &req)
	if err != nil {
		done(GroupSendResult{}, err)
		return
	}
	window := time.Duration(0)
	if req.Random != 0 {
		window = RandomDupWindow
	} else {
		req.Random = randomUint32()
	}
	if err := s.beforeGroupSend(ctx, app, g, &req); err != nil {
		done(GroupSendResult{}, err)
		return
	}
	now := s.clock.Now()
	if g.Type == gate.GroupAVChatRoom || req.OnlineOnly {
		if err := s.admitLiveMessage(ctx, app, g); err != nil { // the broadcasting limit (liveroom_broadcasting.go)
			done(GroupSendResult{}, err)
			return
		}
		e := &store.Entry{App: app.SDKAppID, Group: req.log, Kind: store.KindMsg, From: req.From, MsgRandom: req.Random,
			MsgTime: now.Unix(), ClientID: req.ClientID, Body: req.Body, CloudCustomData: req.CloudCustomData,
			Targets: req.Targets, NeedReceipt: req.NeedReceipt, CreatedAt: now}
		if g.Type == gate.GroupAVChatRoom {
			e.Seq = s.liveSeqs.next(groupKey{app.SDKAppID, g.GroupID}, e.MsgTime)
		}
		e.MsgSeq = e.Seq
		s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, Kind: bus.KindGroup, Entry: e, Origin: origin,
			Group: &bus.GroupDelivery{Members: members, Group: g.GroupID, LiveRoom: g.Type == gate.GroupAVChatRoom}}})
		s.keepLiveHistory(app, g, e) // for members who join later (liveroom_history.go)
		if !req.Forbid.After {
			s.emit(ctx, app.SDKAppID, callback.GroupAfterSendMsg, func() callback.Body { return afterGroupBody(g, req, *e, true) })
		}
		s.usage.Group(app.SDKAppID, req.From, now)
		done(GroupSendResult{Seq: e.Seq, MsgTime: e.MsgTime, Random: e.MsgRandom}, nil)
		return
	}
	op := store.Op{Kind: store.OpGroupSend, App: app.SDKAppID, Group: req.log, From: req.From, ClientID: req.ClientID,
		MsgRandom: req.Random, MsgTime: now.Unix(), Body: req.Body, CloudCustomData: req.CloudCustomData,
		Targets: req.Targets, NeedReceipt: req.NeedReceipt, RandomWindow: window, At: now}
	if !req.Forbid.After && s.on(ctx, app.SDKAppID, callback.GroupAfterSendMsg) {
		op.Callback = func(first store.Entry) (store.CallbackEvent, bool) {
			return s.event(ctx, app.SDKAppID, callback.GroupAfterSendMsg, afterGroupBody(g, req, first, false)), true
		}
	}
	s.writer.SubmitGroup(op, members, g.GroupID, origin, func(res store.OpResult, err error) {
		out, err := groupSendResult(res, err)
		if err == nil && !res.Duplicate {
			s.usage.Group(app.SDKAppID, req.From, now)
		}
		done(out, err)
	})
}

func groupSendResult(res store.OpResult, err error) (GroupSendResult, error) {
	if err != nil {
		return GroupSendResult{}, err
	}
	if res.Err != nil { // the op's own outcome, e.g. 70020 for an app deleted meanwhile
		return GroupSendResult{}, storageErr(res.Err)
	}
	if len(res.Entries) == 0 {
		return GroupSendResult{}, errs.Hidden(errors.New("group send: no entry"))
	}
	e := res.Entries[0]
	return GroupSendResult{Seq: e.Seq, MsgTime: e.MsgTime, Random: e.MsgRandom, Duplicate: res.Duplicate}, nil
}

// liveSeqs numbers live-room messages in memory (they are not stored): per
// room 1, 2, 3... for the life of the process. Bounded: past maxLiveRooms
// rooms the counters start over.
type liveSeqs struct {
	mu sync.Mutex
	m  map[groupKey]liveHead
}

// liveHead is a live room's last seq and the Unix second of its last message.
type liveHead struct{ seq, time int64 }

const maxLiveRooms = 1 << 20

// next numbers a live-room message sent at Unix second t.
func (l *liveSeqs) next(k groupKey, t int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= maxLiveRooms {
		l.m = map[groupKey]liveHead{}
	}
	h := l.m[k]
	h.seq++
	h.time = t
	l.m[k] = h
	return h.seq
}

// last is the room's last seq and message time (zero before any message).
func (l *liveSeqs) last(k groupKey) liveHead {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[k]
}
