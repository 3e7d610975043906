package im

// App callbacks of groups (callbacks.go): their before-events and after-events.

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

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
	d := s.before(ctx, app.SDKAppID, callback.GroupBeforeSendMsg, body)
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
	d := s.before(ctx, app.SDKAppID, callback.GroupBeforeCreateGroup, createGroupBody(app, a, g, members))
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
	d := s.before(ctx, app.SDKAppID, callback.GroupBeforeApplyJoinGroup,
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
	d := s.before(ctx, app.SDKAppID, callback.GroupBeforeInviteJoinGroup,
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

// withJoin returns ctx carrying the Group.CallbackAfterNewMemberJoin of the
// users that the store call adding members to g adds (when on): only the store
// knows which it adds (a group full, another's group limit), so the event is
// built of them inside its transaction (store.WithCallbacksFor) and appended
// with them, or not at all when it adds none.
func (s *Service) withJoin(ctx context.Context, app store.App, g store.Group, operator, joinType string) context.Context {
	if !s.on(ctx, app.SDKAppID, callback.GroupAfterNewMemberJoin) {
		return ctx
	}
	if operator == "" {
		operator = app.AdminUser
	}
	return store.WithCallbacksFor(ctx, func(added []string) []store.CallbackEvent {
		return []store.CallbackEvent{s.event(ctx, app.SDKAppID, callback.GroupAfterNewMemberJoin, &callback.NewMemberBody{
			GroupId: g.GroupID, Type: g.Type, JoinType: joinType, Operator: operator, NewMemberList: callback.Members(added)})}
	})
}

// withLastQuit returns ctx carrying the Group.CallbackAfterGroupDestroyed of
// g for the store call removing user, appended in its transaction only when
// that removal disbands the group (the owner left last; store.WithCallbacksFor
// on RemoveGroupMembers), when on.
func (s *Service) withLastQuit(ctx context.Context, app store.App, g store.Group, user string) context.Context {
	if !s.on(ctx, app.SDKAppID, callback.GroupAfterGroupDestroyed) {
		return ctx
	}
	return store.WithCallbacksFor(ctx, func([]string) []store.CallbackEvent {
		return []store.CallbackEvent{s.event(ctx, app.SDKAppID, callback.GroupAfterGroupDestroyed, &callback.GroupDestroyedBody{
			GroupId: g.GroupID, Type: g.Type, Owner: g.Owner, Name: g.Name, MemberList: callback.Members([]string{user})})}
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
