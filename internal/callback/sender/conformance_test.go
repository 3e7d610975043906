package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	im "github.com/dobyte/tencent-im/callback"
)

// TestConformanceWithPublicReceiver posts one body of every command the
// public receiver github.com/dobyte/tencent-im/callback knows (before-events
// through Hooks.Before, after-events through the Dispatcher's delivery) and
// checks that its handlers got each one parsed with the right fields, and
// that its answers decide as the reference says.
func TestConformanceWithPublicReceiver(t *testing.T) {
	var mu sync.Mutex
	got := map[im.Event]any{}
	recv := im.NewCallback(testApp)
	for ev := im.EventStateChange; ev <= im.EventAfterGroupInfoChanged; ev++ {
		recv.Register(ev, func(ack im.Ack, data any) {
			mu.Lock()
			got[ev] = data
			mu.Unlock()
			switch ev {
			case im.EventBeforeFriendAdd:
				_ = ack.Ack(im.BeforeFriendAddResp{Results: []*im.BeforeFriendAddResult{{UserId: "bob", ResultCode: 38001, ResultInfo: "no"}}})
			case im.EventBeforeInviteJoinGroup:
				_ = ack.Ack(im.BeforeInviteJoinGroupResp{RefusedMemberUserIds: []string{"carol"}})
			case im.EventBeforeGroupCreate:
				_ = ack.AckSuccess(120007, "name taken")
			default:
				_ = ack.AckSuccess(0)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(recv.Listen))
	defer srv.Close()

	st := newMemStore()
	h := newHooks(t, st, srv.URL+"/im", "tok", nil)
	d := NewDispatcher(st, h, "n1", clock.Real{}, DispatcherOptions{})
	ctx := callback.WithCaller(context.Background(), callback.Caller{IP: "198.51.100.4", Platform: callback.PlatformWeb})
	msg := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)
	one, delivered := 1, "send msg succeed"

	state := &callback.StateChangeBody{KickedDevice: []callback.KickedDevice{{Platform: "Android"}}}
	state.Info.Action, state.Info.Account, state.Info.Reason = "Login", "alice", "Register"
	info := "new notice"
	cases := []struct {
		cmd   string
		ev    im.Event
		body  callback.Body
		check func(data any) error
	}{
		{callback.StateChange, im.EventStateChange, state, func(a any) error {
			x := a.(*im.StateChange)
			return want(x.Info.UserId == "alice" && x.Info.Action == "Login" && x.Info.Reason == "Register" && len(x.KickedDevice) == 1 && x.KickedDevice[0].Platform == "Android" && x.EventTime > 0, x)
		}},
		{callback.SnsPrevFriendAdd, im.EventBeforeFriendAdd, &callback.PrevFriendAddBody{Requester: "alice", From: "alice", AddType: "Add_Type_Both", ForceAddFlags: 1,
			FriendItem: []callback.FriendItem{{To: "bob", Remark: "r", GroupName: "g", AddSource: "AddSource_Type_Web", AddWording: "hi"}}}, func(a any) error {
			x := a.(*im.BeforeFriendAdd)
			return want(x.RequesterUserId == "alice" && x.FromUserId == "alice" && x.AddType == "Add_Type_Both" && x.ForceAddFlags == 1 && len(x.Friends) == 1 &&
				x.Friends[0].ToAccount == "bob" && x.Friends[0].Remark == "r" && x.Friends[0].GroupName == "g" && x.Friends[0].AddSource == "AddSource_Type_Web" && x.Friends[0].AddWording == "hi", x)
		}},
		{callback.SnsPrevFriendResponse, im.EventBeforeFriendResponse, &callback.PrevFriendResponseBody{Requester: "bob", From: "bob",
			ResponseFriendItem: []callback.ResponseItem{{To: "alice", Remark: "a", TagName: "t", ResponseAction: "Response_Action_AgreeAndAdd"}}}, func(a any) error {
			x := a.(*im.BeforeFriendResponse)
			return want(x.FromUserId == "bob" && len(x.Friends) == 1 && x.Friends[0].ToAccount == "alice" && x.Friends[0].TagName == "t" && x.Friends[0].ResponseAction == "Response_Action_AgreeAndAdd", x)
		}},
		{callback.SnsFriendAdd, im.EventAfterFriendAdd, &callback.FriendAddBody{PairList: []callback.Pair{{From: "alice", To: "bob", Initiator: "alice"}}, ClientCmd: "friend_add", Admin: "admin", ForceFlag: 1}, func(a any) error {
			x := a.(*im.AfterFriendAdd)
			return want(x.ClientCmd == "friend_add" && x.AdminUserId == "admin" && x.ForceFlag == 1 && len(x.PairList) == 1 && x.PairList[0].FromUserId == "alice" && x.PairList[0].ToUserId == "bob" && x.PairList[0].InitiatorUserId == "alice", x)
		}},
		{callback.SnsFriendDelete, im.EventAfterFriendDelete, &callback.PairsBody{PairList: []callback.Pair{{From: "alice", To: "bob"}}}, func(a any) error {
			x := a.(*im.AfterFriendDelete)
			return want(len(x.PairList) == 1 && x.PairList[0].FromUserId == "alice" && x.PairList[0].ToUserId == "bob", x)
		}},
		{callback.SnsBlackListAdd, im.EventAfterBlacklistAdd, &callback.PairsBody{PairList: []callback.Pair{{From: "alice", To: "eve"}}}, func(a any) error {
			x := a.(*im.AfterBlacklistAdd)
			return want(len(x.PairList) == 1 && x.PairList[0].ToUserId == "eve", x)
		}},
		{callback.SnsBlackListDelete, im.EventAfterBlacklistDelete, &callback.PairsBody{PairList: []callback.Pair{{From: "alice", To: "eve"}}}, func(a any) error {
			x := a.(*im.AfterBlacklistDelete)
			return want(len(x.PairList) == 1 && x.PairList[0].FromUserId == "alice", x)
		}},
		{callback.C2CBeforeSendMsg, im.EventBeforePrivateMessageSend, &callback.C2CMsgBody{From: "alice", To: "bob", MsgSeq: 7, MsgRandom: 99, MsgTime: 1700000000, MsgKey: "k1", OnlineOnlyFlag: 1, MsgBody: msg, CloudCustomData: "ccd"}, func(a any) error {
			x := a.(*im.BeforePrivateMessageSend)
			return want(x.FromUserId == "alice" && x.ToUserId == "bob" && x.MsgSeq == 7 && x.MsgRandom == 99 && x.MsgTime == 1700000000 && x.MsgKey == "k1" && x.OnlineOnlyFlag == 1 &&
				len(x.MsgBody) == 1 && x.MsgBody[0].MsgType == "TIMTextElem" && x.CloudCustomData == "ccd", x)
		}},
		{callback.C2CAfterSendMsg, im.EventAfterPrivateMessageSend, &callback.C2CMsgBody{From: "alice", To: "bob", MsgSeq: 8, MsgRandom: 5, MsgTime: 1700000001, MsgKey: "k2", MsgBody: msg,
			SendMsgResult: new(int), ErrorInfo: &delivered, UnreadMsgNum: &one}, func(a any) error {
			x := a.(*im.AfterPrivateMessageSend)
			return want(x.MsgSeq == 8 && x.MsgKey == "k2" && x.SendMsgResult == 0 && x.ErrorInfo == delivered && x.UnreadMsgNum == 1 && len(x.MsgBody) == 1, x)
		}},
		{callback.C2CAfterMsgReport, im.EventAfterPrivateMessageReport, &callback.MsgReportBody{Report: "bob", Peer: "alice", LastReadTime: 1700000002, UnreadMsgNum: 3}, func(a any) error {
			x := a.(*im.AfterPrivateMessageReport)
			return want(x.ReportUserId == "bob" && x.PeerUserId == "alice" && x.LastReadTime == 1700000002 && x.UnreadMsgNum == 3, x)
		}},
		{callback.C2CAfterMsgWithDraw, im.EventAfterPrivateMessageRevoke, &callback.MsgWithDrawBody{From: "alice", To: "bob", MsgKey: "k1", UnreadMsgNum: 2}, func(a any) error {
			x := a.(*im.AfterPrivateMessageRevoke)
			return want(x.FromUserId == "alice" && x.ToUserId == "bob" && x.MsgKey == "k1" && x.UnreadMsgNum == 2, x)
		}},
		{callback.GroupBeforeCreateGroup, im.EventBeforeGroupCreate, &callback.CreateGroupBody{Operator: "alice", Owner: "alice", Type: "Public", Name: "g", CreateGroupNum: 2, MemberList: callback.Members([]string{"bob"})}, func(a any) error {
			x := a.(*im.BeforeGroupCreate)
			return want(x.OperatorUserId == "alice" && x.OwnerUserId == "alice" && x.Type == "Public" && x.Name == "g" && x.CreateGroupNum == 2 && len(x.MemberList) == 1 && x.MemberList[0].UserId == "bob", x)
		}},
		{callback.GroupAfterCreateGroup, im.EventAfterGroupCreate, &callback.CreateGroupBody{GroupId: "@TGS#1", Operator: "alice", Owner: "alice", Type: "Public", Name: "g", CreateGroupNum: 3,
			MemberList: callback.Members([]string{"bob"}), UserDefinedDataList: []callback.KeyValue{{Key: "k", Value: "v"}}}, func(a any) error {
			x := a.(*im.AfterGroupCreate)
			return want(x.GroupId == "@TGS#1" && x.Name == "g" && len(x.MemberList) == 1 && len(x.UserDefinedDataList) == 1 && x.UserDefinedDataList[0].Value == "v", x)
		}},
		{callback.GroupBeforeApplyJoinGroup, im.EventBeforeApplyJoinGroup, &callback.ApplyJoinBody{GroupId: "@TGS#1", Type: "Public", Requestor: "dave"}, func(a any) error {
			x := a.(*im.BeforeApplyJoinGroup)
			return want(x.GroupId == "@TGS#1" && x.Type == "Public" && x.RequestorUserId == "dave", x)
		}},
		{callback.GroupBeforeInviteJoinGroup, im.EventBeforeInviteJoinGroup, &callback.InviteJoinBody{GroupId: "@TGS#1", Type: "Work", Operator: "alice", DestinationMembers: callback.Members([]string{"bob", "carol"})}, func(a any) error {
			x := a.(*im.BeforeInviteJoinGroup)
			return want(x.GroupId == "@TGS#1" && x.OperatorUserId == "alice" && len(x.MemberList) == 2 && x.MemberList[1].UserId == "carol", x)
		}},
		{callback.GroupAfterNewMemberJoin, im.EventAfterNewMemberJoinGroup, &callback.NewMemberBody{GroupId: "@TGS#1", Type: "Work", JoinType: "Invited", Operator: "alice", NewMemberList: callback.Members([]string{"bob"})}, func(a any) error {
			x := a.(*im.AfterNewMemberJoinGroup)
			return want(x.JoinType == "Invited" && x.OperatorUserId == "alice" && len(x.MemberList) == 1 && x.MemberList[0].UserId == "bob", x)
		}},
		{callback.GroupAfterMemberExit, im.EventAfterMemberExitGroup, &callback.MemberExitBody{GroupId: "@TGS#1", Type: "Work", ExitType: "Kicked", Operator: "alice", ExitMemberList: callback.Members([]string{"bob"})}, func(a any) error {
			x := a.(*im.AfterMemberExitGroup)
			return want(x.ExitType == "Kicked" && len(x.MemberList) == 1 && x.MemberList[0].UserId == "bob", x)
		}},
		{callback.GroupBeforeSendMsg, im.EventBeforeGroupMessageSend, &callback.GroupMsgBody{GroupId: "@TGS#1", Type: "Public", From: "alice", Operator: "alice", Random: 42, OnlineOnlyFlag: 1, MsgBody: msg}, func(a any) error {
			x := a.(*im.BeforeGroupMessageSend)
			return want(x.GroupId == "@TGS#1" && x.FromUserId == "alice" && x.OperatorUserId == "alice" && x.MsgRandom == 42 && x.OnlineOnlyFlag == 1 && len(x.MsgBody) == 1, x)
		}},
		{callback.GroupAfterSendMsg, im.EventAfterGroupMessageSend, &callback.GroupMsgBody{GroupId: "@TGS#1", Type: "Public", From: "alice", Operator: "alice", Random: 43, MsgSeq: 11, MsgTime: 1700000003, MsgBody: msg}, func(a any) error {
			x := a.(*im.AfterGroupMessageSend)
			return want(x.MsgSeq == 11 && x.MsgRandom == 43 && x.MsgTime == 1700000003 && len(x.MsgBody) == 1, x)
		}},
		{callback.GroupAfterGroupDestroyed, im.EventAfterGroupDestroyed, &callback.GroupDestroyedBody{GroupId: "@TGS#1", Type: "Public", Owner: "alice", Name: "g", MemberList: callback.Members([]string{"alice", "bob"})}, func(a any) error {
			x := a.(*im.AfterGroupDestroyed)
			return want(x.GroupId == "@TGS#1" && x.Name == "g" && x.OwnerUserId == "alice" && len(x.MemberList) == 2, x)
		}},
		{callback.GroupAfterGroupInfoChanged, im.EventAfterGroupInfoChanged, &callback.GroupInfoChangedBody{GroupId: "@TGS#1", Type: "Public", Operator: "alice", Notification: &info}, func(a any) error {
			x := a.(*im.AfterGroupInfoChanged)
			return want(x.Notification == info && x.OperatorUserId == "alice", x)
		}},
	}
	for _, tc := range cases {
		mu.Lock()
		delete(got, tc.ev)
		mu.Unlock()
		if callback.IsBefore(tc.cmd) {
			dec := h.Before(ctx, testApp, tc.cmd, tc.body)
			if dec.Err != nil {
				t.Fatalf("%s: %v", tc.cmd, dec.Err)
			}
			switch tc.cmd {
			case callback.SnsPrevFriendAdd:
				if len(dec.Results) != 1 || dec.Results[0] != (callback.ItemResult{To: "bob", Code: 38001, Info: "no"}) {
					t.Fatalf("%s: %+v", tc.cmd, dec)
				}
			case callback.GroupBeforeInviteJoinGroup:
				if !dec.Allowed() || len(dec.RefusedMembers) != 1 || dec.RefusedMembers[0] != "carol" {
					t.Fatalf("%s: %+v", tc.cmd, dec)
				}
			case callback.GroupBeforeCreateGroup:
				if dec.Allowed() || !dec.CustomCode() || dec.Code != 120007 || dec.Info != "name taken" {
					t.Fatalf("%s: %+v", tc.cmd, dec)
				}
			default:
				if !dec.Allowed() {
					t.Fatalf("%s: %+v", tc.cmd, dec)
				}
			}
		} else {
			ev := callback.Event(ctx, testApp, tc.cmd, tc.body, clock.Real{}.Now())
			ev.ID = 1
			r := d.deliver(context.Background(), ev)
			if !r.out.Done || r.log.Result != "ok" {
				t.Fatalf("%s: %+v", tc.cmd, r)
			}
		}
		mu.Lock()
		data, ok := got[tc.ev]
		mu.Unlock()
		if !ok {
			t.Fatalf("%s: the receiver's handler was not called", tc.cmd)
		}
		if err := tc.check(data); err != nil {
			t.Errorf("%s: %v", tc.cmd, err)
		}
	}
}

func want(ok bool, x any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("parsed as %+v", x)
}
