package im

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// App callbacks (reference §6): before-events ask the app whether an action
// happens; after-events are appended to the store's outbox with the change
// that causes them (Op.Callback for writes of the Writer, store.WithCallbacks
// for relational writes), or through Hooks.Emit when nothing is stored.
// Everything is skipped, with no encoding, when Hooks.On is false.

// UseCallbacks sets the app callbacks the service asks and emits to (the
// default is callback.Off: none). Call it once, before serving.
func (s *Service) UseCallbacks(h callback.Hooks) {
	if h == nil {
		h = callback.Off{}
	}
	s.hooks = h
}

// on reports whether app has command on.
func (s *Service) on(ctx context.Context, app int64, command string) bool {
	return s.hooks.On(ctx, app, command)
}

// event makes the after-event of command for app at the service's clock.
func (s *Service) event(ctx context.Context, app int64, command string, body callback.Body) store.CallbackEvent {
	return callback.Event(ctx, app, command, body, s.clock.Now())
}

// withEvent returns ctx carrying the after-event of command made by body()
// when app has command on; else ctx (body is not called).
func (s *Service) withEvent(ctx context.Context, app int64, command string, body func() callback.Body) context.Context {
	if !s.on(ctx, app, command) {
		return ctx
	}
	return store.WithCallbacks(ctx, s.event(ctx, app, command, body()))
}

// emit appends an after-event that has no stored change of its own; a
// failure is logged (the action already happened).
func (s *Service) emit(ctx context.Context, app int64, command string, body func() callback.Body) {
	if !s.on(ctx, app, command) {
		return
	}
	if err := s.hooks.Emit(ctx, []store.CallbackEvent{s.event(ctx, app, command, body())}); err != nil {
		slog.Error("callback: appending an after-event", "app", app, "command", command, "err", err)
	}
}

// refusal is the error of a before-event's refusing decision: the app's own
// code (120001..130000) with its ErrorInfo, else def with msg; nil when the
// decision allows.
func refusal(d callback.Decision, def int, msg string) error {
	if d.Allowed() {
		return nil
	}
	if d.CustomCode() {
		info := d.Info
		if !utf8.ValidString(info) {
			info = msg
		}
		return errs.New(d.Code, "%s", info)
	}
	return errs.New(def, "%s", msg)
}

// rewrite applies a before-send decision's MsgBody and CloudCustomData to a
// message: an invalid replacement is ignored (logged) and the original kept.
func rewrite(app int64, command string, d callback.Decision, body *json.RawMessage, cloud *string) {
	if d.MsgBody != nil {
		if err := ValidateBody(d.MsgBody); err != nil {
			slog.Warn("callback: the app's MsgBody is invalid; the message is kept as sent", "app", app, "command", command, "err", errs.Message(err))
		} else {
			*body = append(json.RawMessage(nil), d.MsgBody...)
		}
	}
	if d.CloudCustomData != nil {
		c := *d.CloudCustomData
		if len(c) > MaxMsgBodyBytes || !utf8.ValidString(c) {
			slog.Warn("callback: the app's CloudCustomData is invalid; the message is kept as sent", "app", app, "command", command)
		} else {
			*cloud = c
		}
	}
}

// Forbid lists the callbacks a REST request turns off (ForbidCallbackControl).
type Forbid struct {
	Before bool // ForbidBeforeSendMsgCallback
	After  bool // ForbidAfterSendMsgCallback
}

// ParseForbid reads a ForbidCallbackControl list: "ForbidBeforeSendMsgCallback"
// and "ForbidAfterSendMsgCallback"; anything else is refused (InvalidParameters).
func ParseForbid(vals []string) (Forbid, error) {
	var f Forbid
	if len(vals) > 2*len(forbidNames) {
		return f, errs.New(errs.InvalidParameters, "ForbidCallbackControl lists %d values; at most %d", len(vals), 2*len(forbidNames))
	}
	for _, v := range vals {
		switch v {
		case forbidNames[0]:
			f.Before = true
		case forbidNames[1]:
			f.After = true
		default:
			return Forbid{}, errs.New(errs.InvalidParameters, "ForbidCallbackControl: %.64q is not one of %q", v, forbidNames)
		}
	}
	return f, nil
}

var forbidNames = []string{"ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"}

// ---- one-to-one messages

// onlineFlag is the OnlineOnlyFlag of a message.
func onlineFlag(online bool) int {
	if online {
		return 1
	}
	return 0
}

// beforeC2C asks the app's C2C.CallbackBeforeSendMsg about the message req
// sends to to (when on and not forbidden) and applies its answer: a refusal
// is 20006 or the app's code; a rewrite replaces req's Body and
// CloudCustomData. msgSeq is the MsgSeq when known before the write (0 else).
func (s *Service) beforeC2C(ctx context.Context, app store.App, req *SendRequest, to string, msgSeq int64) error {
	if req.Forbid.Before || !s.on(ctx, app.SDKAppID, callback.C2CBeforeSendMsg) {
		return nil
	}
	t := s.clock.Now().Unix()
	body := &callback.C2CMsgBody{From: req.From, To: to, MsgSeq: msgSeq, MsgRandom: req.Random, MsgTime: t,
		OnlineOnlyFlag: onlineFlag(req.OnlineOnly), MsgBody: req.Body, CloudCustomData: req.CloudCustomData}
	if msgSeq != 0 {
		body.MsgKey = store.FormatMsgKey(msgSeq, req.Random, t)
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.C2CBeforeSendMsg, body)
	if err := refusal(d, errs.C2CCallbackRefused, "the message was refused by the app's callback before sending"); err != nil {
		return err
	}
	rewrite(app.SDKAppID, callback.C2CBeforeSendMsg, d, &req.Body, &req.CloudCustomData)
	return nil
}

// afterC2CBody is the C2C.CallbackAfterSendMsg body of a sent message e.
// UnreadMsgNum is left out: the receiver's count is not known inside the
// write that makes the event (docs/rest-api.md §6).
func afterC2CBody(e store.Entry, online bool) *callback.C2CMsgBody {
	zero, ok := 0, "send msg succeed"
	to := e.To
	if to == "" {
		to = e.Peer
	}
	return &callback.C2CMsgBody{From: e.From, To: to, MsgSeq: e.MsgSeq, MsgRandom: e.MsgRandom, MsgTime: e.MsgTime,
		MsgKey: e.MsgKey, OnlineOnlyFlag: onlineFlag(online), MsgBody: e.Body, CloudCustomData: e.CloudCustomData,
		SendMsgResult: &zero, ErrorInfo: &ok}
}

// afterC2C sets op's Callback to the C2C.CallbackAfterSendMsg of the stored
// message, when on and not forbidden.
func (s *Service) afterC2C(ctx context.Context, app int64, forbid bool, op *store.Op) {
	if forbid || !s.on(ctx, app, callback.C2CAfterSendMsg) {
		return
	}
	op.Callback = func(first store.Entry) (store.CallbackEvent, bool) {
		return s.event(ctx, app, callback.C2CAfterSendMsg, afterC2CBody(first, false)), true
	}
}

// ---- group messages

// topicOf is the TopicId of a send to log in group g ("" for the group's own log).
func topicOf(g store.Group, log string) string {
	if log == g.GroupID {
		return ""
	}
	return log
}

// beforeGroupSend asks the app's Group.CallbackBeforeSendMsg about req (when
// on and not forbidden) and applies its answer: a refusal is 10016 or the
// app's code; a rewrite replaces req's Body and CloudCustomData.
func (s *Service) beforeGroupSend(ctx context.Context, app store.App, g store.Group, req *GroupSendRequest) error {
	if req.Forbid.Before || !s.on(ctx, app.SDKAppID, callback.GroupBeforeSendMsg) {
		return nil
	}
	body := &callback.GroupMsgBody{GroupId: g.GroupID, Type: g.Type, From: req.From, Operator: req.From,
		Random: req.Random, OnlineOnlyFlag: onlineFlag(req.OnlineOnly), MsgBody: req.Body,
		CloudCustomData: req.CloudCustomData, TopicId: topicOf(g, req.log)}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.GroupBeforeSendMsg, body)
	if err := refusal(d, errs.GroupCallbackRefused, "the message was refused by the app's callback before sending"); err != nil {
		return err
	}
	body0 := req.Body
	rewrite(app.SDKAppID, callback.GroupBeforeSendMsg, d, &req.Body, &req.CloudCustomData)
	if g.Type == gate.GroupAVChatRoom && d.MsgBody != nil {
		if err := liveRoomBody(req.Body); err != nil { // a live room takes only some element types
			slog.Warn("callback: the app's MsgBody is not one a live room takes; the message is kept as sent", "app", app.SDKAppID)
			req.Body = body0
		}
	}
	return nil
}

// afterGroupBody is the Group.CallbackAfterSendMsg body of the group message e.
func afterGroupBody(g store.Group, req GroupSendRequest, e store.Entry, online bool) *callback.GroupMsgBody {
	return &callback.GroupMsgBody{GroupId: g.GroupID, Type: g.Type, From: e.From, Operator: e.From, Random: e.MsgRandom,
		MsgSeq: e.Seq, MsgTime: e.MsgTime, OnlineOnlyFlag: onlineFlag(online), MsgBody: e.Body,
		CloudCustomData: e.CloudCustomData, TopicId: topicOf(g, req.log)}
}

// afterGroupRecall sets op's Callback to the Group.CallbackAfterRecallMsg of
// the recall of op.MsgSeq in log of g by operator, when on. A call recalling
// several messages makes one event per message, each atomic with its recall.
func (s *Service) afterGroupRecall(ctx context.Context, app int64, g store.Group, log, operator string, op *store.Op) {
	if !s.on(ctx, app, callback.GroupAfterRecallMsg) {
		return
	}
	seq := op.MsgSeq
	op.Callback = func(store.Entry) (store.CallbackEvent, bool) {
		return s.event(ctx, app, callback.GroupAfterRecallMsg, &callback.RecallBody{GroupId: g.GroupID, Type: g.Type,
			Operator: operator, MsgSeqList: []callback.MsgSeqItem{{MsgSeq: seq}}, TopicId: topicOf(g, log)}), true
	}
}

// ---- groups

// operatorOf is the Operator_Account of an action by a: the app's admin
// identity for the REST API.
func operatorOf(app store.App, a Actor) string {
	if a.Admin || a.User == "" {
		return app.AdminUser
	}
	return a.User
}

// createGroupBody is the body of Group.Callback{Before,After}CreateGroup for g
// with members (the owner not among them). CreateGroupNum is 0: chatd does
// not count the groups a user created.
func createGroupBody(app store.App, a Actor, g store.Group, members []store.GroupMember) *callback.CreateGroupBody {
	ids := make([]string, 0, len(members)+1)
	if g.Owner != "" {
		ids = append(ids, g.Owner)
	}
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	var data []callback.KeyValue
	for k, v := range g.AppDefinedData {
		data = append(data, callback.KeyValue{Key: k, Value: v})
	}
	slices.SortFunc(data, func(x, y callback.KeyValue) int { return strings.Compare(x.Key, y.Key) })
	return &callback.CreateGroupBody{Operator: operatorOf(app, a), Owner: g.Owner, Type: g.Type, Name: g.Name,
		MemberList: callback.Members(ids), UserDefinedDataList: data}
}

// beforeCreateGroup asks the app's Group.CallbackBeforeCreateGroup (when on):
// a refusal is 10016 or the app's code.
func (s *Service) beforeCreateGroup(ctx context.Context, app store.App, a Actor, g store.Group, members []store.GroupMember) error {
	if !s.on(ctx, app.SDKAppID, callback.GroupBeforeCreateGroup) {
		return nil
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.GroupBeforeCreateGroup, createGroupBody(app, a, g, members))
	return refusal(d, errs.GroupCallbackRefused, "the group was refused by the app's callback before creation")
}

// JoinType and ExitType values of the member callbacks.
const (
	joinApply   = "Apply"
	joinInvited = "Invited"
	exitKicked  = "Kicked"
	exitQuit    = "Quit"
)

// beforeApplyJoin asks the app's Group.CallbackBeforeApplyJoinGroup about
// user joining g (when on): a refusal is 10016 or the app's code.
func (s *Service) beforeApplyJoin(ctx context.Context, app store.App, g store.Group, user string) error {
	if !s.on(ctx, app.SDKAppID, callback.GroupBeforeApplyJoinGroup) {
		return nil
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.GroupBeforeApplyJoinGroup,
		&callback.ApplyJoinBody{GroupId: g.GroupID, Type: g.Type, Requestor: user})
	return refusal(d, errs.GroupCallbackRefused, "joining was refused by the app's callback")
}

// beforeInvite asks the app's Group.CallbackBeforeInviteJoinGroup about the
// users of an invitation that exist (have) and are not members (existing),
// when on: the app's RefusedMembers_Account are returned; a refusal of the
// whole invitation is 10016 or the app's code.
func (s *Service) beforeInvite(ctx context.Context, app store.App, a Actor, g store.Group, users []string, have map[string]bool, existing map[string]store.GroupMember) (map[string]bool, error) {
	if !s.on(ctx, app.SDKAppID, callback.GroupBeforeInviteJoinGroup) {
		return nil, nil
	}
	var dest []string
	for _, u := range users {
		if _, member := existing[u]; have[u] && !member {
			dest = append(dest, u)
		}
	}
	if len(dest) == 0 {
		return nil, nil
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.GroupBeforeInviteJoinGroup,
		&callback.InviteJoinBody{GroupId: g.GroupID, Type: g.Type, Operator: operatorOf(app, a), DestinationMembers: callback.Members(dest)})
	if err := refusal(d, errs.GroupCallbackRefused, "the invitation was refused by the app's callback"); err != nil {
		return nil, err
	}
	refused := make(map[string]bool, len(d.RefusedMembers))
	for _, u := range d.RefusedMembers {
		refused[u] = true
	}
	return refused, nil
}

// afterJoin appends the Group.CallbackAfterNewMemberJoin of users, who joined
// g. Not atomic with the join: which of the users a store call adds is known
// only after it (a group full, another's group limit), so the event is
// appended by Hooks.Emit after the commit.
func (s *Service) afterJoin(ctx context.Context, app store.App, g store.Group, operator, joinType string, users []string) {
	if operator == "" {
		operator = app.AdminUser
	}
	s.emit(ctx, app.SDKAppID, callback.GroupAfterNewMemberJoin, func() callback.Body {
		return &callback.NewMemberBody{GroupId: g.GroupID, Type: g.Type, JoinType: joinType, Operator: operator,
			NewMemberList: callback.Members(users)}
	})
}

// withExit returns ctx carrying the Group.CallbackAfterMemberExit of users
// leaving g, for the store call that removes them (they were checked to be
// members just before).
func (s *Service) withExit(ctx context.Context, app store.App, g store.Group, operator, exitType string, users []string) context.Context {
	return s.withEvent(ctx, app.SDKAppID, callback.GroupAfterMemberExit, func() callback.Body {
		return &callback.MemberExitBody{GroupId: g.GroupID, Type: g.Type, ExitType: exitType, Operator: operator,
			ExitMemberList: callback.Members(users)}
	})
}

// ---- relationship chain

// requesterOf is the Requester_Account of a relationship change of user: the
// app's admin identity when the REST API asked, else user.
func requesterOf(ctx context.Context, app store.App, user string) string {
	if callback.CallerOf(ctx).Platform == callback.PlatformREST {
		return app.AdminUser
	}
	return user
}

// itemRefusal is the error of an Sns.CallbackPrev* item the app refused:
// its ResultCode when in 38000..39000 (the reference's range for the app's
// codes), else 30516 (the target accepts no request).
func itemRefusal(r callback.ItemResult) error {
	if r.Code >= 38000 && r.Code <= 39000 {
		info := r.Info
		if info == "" || !utf8.ValidString(info) {
			info = "refused by the app's callback"
		}
		return errs.New(r.Code, "%s", info)
	}
	return errs.New(errs.SNSDenyAny, "the friend request to %q was refused by the app's callback", r.To)
}

// beforeFriendAdd asks the app's Sns.CallbackPrevFriendAdd about items (when
// on): the items it refuses, with why. A refusal of the whole request (Code
// != 0) refuses every item: the app's code when it is its own
// (120001..130000), else 30516.
func (s *Service) beforeFriendAdd(ctx context.Context, app store.App, from string, items []FriendItem, addType string, force bool) (map[string]error, error) {
	if !s.on(ctx, app.SDKAppID, callback.SnsPrevFriendAdd) {
		return nil, nil
	}
	body := &callback.PrevFriendAddBody{Requester: requesterOf(ctx, app, from), From: from, AddType: addType,
		FriendItem: make([]callback.FriendItem, len(items))}
	if force {
		body.ForceAddFlags = 1
	}
	for i, it := range items {
		body.FriendItem[i] = callback.FriendItem{To: it.To, Remark: it.Remark, GroupName: first(it.Groups), AddSource: it.AddSource, AddWording: it.AddWording}
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.SnsPrevFriendAdd, body)
	refused := map[string]error{}
	if !d.Allowed() {
		for _, it := range items {
			refused[it.To] = itemRefusal(callback.ItemResult{To: it.To, Code: d.Code, Info: d.Info})
			if d.CustomCode() {
				refused[it.To] = refusal(d, errs.SNSDenyAny, "refused by the app's callback")
			}
		}
		return refused, nil
	}
	for _, r := range d.Results {
		if r.Code != 0 {
			refused[r.To] = itemRefusal(r)
		}
	}
	return refused, nil
}

// beforeFriendResponse asks the app's Sns.CallbackPrevFriendResponse about
// user accepting from's request (when on): a refusal is the item's code
// (38000..39000) or 30516, as in beforeFriendAdd.
func (s *Service) beforeFriendResponse(ctx context.Context, app store.App, user, from string) error {
	if !s.on(ctx, app.SDKAppID, callback.SnsPrevFriendResponse) {
		return nil
	}
	d := s.hooks.Before(ctx, app.SDKAppID, callback.SnsPrevFriendResponse, &callback.PrevFriendResponseBody{
		Requester: requesterOf(ctx, app, user), From: user,
		ResponseFriendItem: []callback.ResponseItem{{To: from, ResponseAction: "Response_Action_AgreeAndAdd"}}})
	if !d.Allowed() {
		if d.CustomCode() {
			return refusal(d, errs.SNSDenyAny, "refused by the app's callback")
		}
		return itemRefusal(callback.ItemResult{To: from, Code: d.Code, Info: d.Info})
	}
	for _, r := range d.Results {
		if r.Code != 0 && (r.To == from || r.To == "") {
			return itemRefusal(r)
		}
	}
	return nil
}

// withFriendAdd returns ctx carrying the Sns.CallbackFriendAdd of from and to
// becoming friends (both ways when both), for the store call that adds them.
func (s *Service) withFriendAdd(ctx context.Context, app store.App, from, to string, both bool, cmd string, force bool) context.Context {
	return s.withEvent(ctx, app.SDKAppID, callback.SnsFriendAdd, func() callback.Body {
		b := &callback.FriendAddBody{PairList: []callback.Pair{{From: from, To: to, Initiator: from}}, ClientCmd: cmd}
		if both {
			b.PairList = append(b.PairList, callback.Pair{From: to, To: from, Initiator: from})
		}
		if callback.CallerOf(ctx).Platform == callback.PlatformREST {
			b.Admin = app.AdminUser
		}
		if force {
			b.ForceFlag = 1
		}
		return b
	})
}

// withFriendDelete returns ctx carrying the Sns.CallbackFriendDelete of the
// friendships of from with tos that exist now (read just before the store
// call that deletes them): one pair per direction deleted.
func (s *Service) withFriendDelete(ctx context.Context, app store.App, from string, tos []string, both bool) (context.Context, error) {
	if len(tos) == 0 || !s.on(ctx, app.SDKAppID, callback.SnsFriendDelete) {
		return ctx, nil
	}
	rels, err := s.store.FriendRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return ctx, storageErr(err)
	}
	var pairs []callback.Pair
	for _, to := range tos {
		r := rels[to]
		if !r.Mine {
			continue
		}
		pairs = append(pairs, callback.Pair{From: from, To: to})
		if both && r.Theirs {
			pairs = append(pairs, callback.Pair{From: to, To: from})
		}
	}
	if len(pairs) == 0 {
		return ctx, nil
	}
	return store.WithCallbacks(ctx, s.event(ctx, app.SDKAppID, callback.SnsFriendDelete, &callback.PairsBody{PairList: pairs})), nil
}

// afterBlocks appends the Sns.CallbackBlackListAdd of the items of out that
// succeeded. Not atomic with the blocks: which accounts a store call blocks
// is known only after it (missing accounts, a full blocklist).
func (s *Service) afterBlocks(ctx context.Context, app store.App, from string, out []ItemResult) {
	var pairs []callback.Pair
	for _, r := range out {
		if r.Err == nil {
			pairs = append(pairs, callback.Pair{From: from, To: r.User})
		}
	}
	if len(pairs) == 0 {
		return
	}
	s.emit(ctx, app.SDKAppID, callback.SnsBlackListAdd, func() callback.Body { return &callback.PairsBody{PairList: pairs} })
}

// withBlockDelete returns ctx carrying the Sns.CallbackBlackListDelete of the
// blocks of from on tos that exist now (read just before the store call).
func (s *Service) withBlockDelete(ctx context.Context, app store.App, from string, tos []string) (context.Context, error) {
	if len(tos) == 0 || !s.on(ctx, app.SDKAppID, callback.SnsBlackListDelete) {
		return ctx, nil
	}
	rels, err := s.store.BlockRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return ctx, storageErr(err)
	}
	var pairs []callback.Pair
	for _, to := range tos {
		if rels[to].Mine {
			pairs = append(pairs, callback.Pair{From: from, To: to})
		}
	}
	if len(pairs) == 0 {
		return ctx, nil
	}
	return store.WithCallbacks(ctx, s.event(ctx, app.SDKAppID, callback.SnsBlackListDelete, &callback.PairsBody{PairList: pairs})), nil
}

// ---- state

// State.StateChange actions and reasons.
const (
	StateLogin      = "Login"
	StateLogout     = "Logout"
	StateDisconnect = "Disconnect"

	ReasonRegister   = "Register"   // a login
	ReasonUnregister = "Unregister" // a logout: the device or the server ended the session
	ReasonLinkClose  = "LinkClose"  // the connection broke
	ReasonTimeOut    = "TimeOut"    // the device went silent past the idle timeout
)

// StateChanged appends the app's State.StateChange of user (action, reason;
// kicked lists the OptPlatform of the devices a login ended) through
// Hooks.Emit: nothing is stored with it. The caller (device IP and platform)
// comes from ctx; iOS is spelt "IOS" for this command (reference §6 quirk).
func (s *Service) StateChanged(ctx context.Context, app int64, user, action, reason string, kicked []string) {
	if !s.on(ctx, app, callback.StateChange) {
		return
	}
	b := &callback.StateChangeBody{}
	b.Info.Action, b.Info.Account, b.Info.Reason = action, user, reason
	for _, p := range kicked {
		b.KickedDevice = append(b.KickedDevice, callback.KickedDevice{Platform: statePlatform(p)})
	}
	ev := s.event(ctx, app, callback.StateChange, b)
	ev.Platform = statePlatform(ev.Platform)
	if err := s.hooks.Emit(ctx, []store.CallbackEvent{ev}); err != nil {
		slog.Error("callback: appending a state change", "app", app, "err", err)
	}
}

// statePlatform is p as State.StateChange spells it.
func statePlatform(p string) string {
	if p == callback.PlatformIOS {
		return "IOS"
	}
	return p
}
