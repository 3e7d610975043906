package server

import (
	"context"
	"fmt"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// The group features and limits of the edition matrix that devices meet,
// through the WebSocket ops: each refusal is checked to change nothing by
// reading the state back from the store.

// storeGroup creates group id of type typ directly, owned by owner (when set)
// with members, FreeAccess.
func (a *edApp) storeGroup(id, typ, owner string, members ...string) {
	a.t.Helper()
	ms := make([]store.GroupMember, len(members))
	for i, m := range members {
		ms[i] = store.GroupMember{UserID: m, Role: store.RoleMember, JoinTime: a.w.c.Now()}
	}
	g := store.Group{App: a.app.SDKAppID, GroupID: id, Type: typ, Name: id, Owner: owner, MaxMemberNum: 100000,
		ApplyJoinOption: "FreeAccess", InviteJoinOption: "FreeAccess", CreatedAt: a.w.c.Now()}
	if _, err := a.w.s.cfg.Store.CreateGroup(context.Background(), g, ms, oldQuota); err != nil {
		a.t.Fatal(err)
	}
}

// lastSeq is the group log's last seq, read from the store.
func (a *edApp) lastSeq(group string) int64 {
	a.t.Helper()
	last, err := a.w.s.cfg.Store.GroupLast(context.Background(), a.app.SDKAppID, group)
	if err != nil {
		a.t.Fatal(err)
	}
	return last.Seq
}

// memberNum is the group's member count, read from the store.
func (a *edApp) memberNum(group string) int {
	a.t.Helper()
	g, err := a.w.s.cfg.Store.GetGroup(context.Background(), a.app.SDKAppID, group)
	if err != nil {
		a.t.Fatal(err)
	}
	return g.MemberNum
}

// groupSendRow sends one group message with o from alice to a Work group with
// bob and checks that a refusal stored nothing.
func groupSendRow(a *edApp, o client.GroupSendOptions) (int, string) {
	a.storeGroup("work", store.GroupWork, "alice", "bob")
	ack, err := a.dial("alice", "Web").GroupSend(ctx5(), "work", "c1", textBody("hi"), o)
	code, msg := clientErr(err)
	if last := a.lastSeq("work"); (code == 0) != (last == 1 && ack.Seq == 1) {
		a.t.Fatalf("group log at seq %d after code %d", last, code)
	}
	return code, msg
}

func groupWSRows() []matrixRow {
	users := []string{"alice", "bob"}
	all := func(code int) outcome {
		return outcome{catalog.Trial: code, catalog.Standard: code, catalog.Premium: code}
	}
	return []matrixRow{
		{name: "group_send targets", edge: "WebSocket", want: onlyStandardLacksGroup, users: users,
			says: namesFeature("targeted group messages"),
			run: func(a *edApp) (int, string) {
				return groupSendRow(a, client.GroupSendOptions{Targets: []string{"bob"}})
			}},
		{name: "group_send need_receipt", edge: "WebSocket", want: onlyStandardLacksGroup, users: users,
			says: namesFeature("read receipts for group messages"),
			run:  func(a *edApp) (int, string) { return groupSendRow(a, client.GroupSendOptions{NeedReceipt: true}) }},
		{name: "group_receipt", edge: "WebSocket", want: onlyStandardLacksGroup, users: users,
			says: namesFeature("read receipts for group messages"),
			run: func(a *edApp) (int, string) {
				a.storeGroup("work", store.GroupWork, "alice", "bob")
				// On the Standard edition the message cannot ask for receipts:
				// it is sent without, and the receipt is refused first.
				o := client.GroupSendOptions{NeedReceipt: a.ed.Has(catalog.GroupReadReceipts)}
				ack, err := a.dial("alice", "Web").GroupSend(ctx5(), "work", "c1", textBody("hi"), o)
				if err != nil {
					a.t.Fatal(err)
				}
				code, msg := clientErr(a.dial("bob", "Web").GroupReceipt(ctx5(), "work", []int64{ack.Seq}))
				readers, _, err := a.w.s.cfg.Store.GroupReceiptReaders(context.Background(), a.app.SDKAppID, "work",
					store.ReceiptMsg{Seq: ack.Seq, Sender: "alice"}, true, "", 10)
				if err != nil || (code == 0) != (fmt.Sprint(readers) == "[bob]") {
					a.t.Fatalf("readers %v after code %d: %v", readers, code, err)
				}
				return code, msg
			}},
		{name: "group_msg_receipt", edge: "REST", want: onlyStandardLacksGroup, users: users,
			says: namesFeature("read receipts for group messages"),
			run: func(a *edApp) (int, string) {
				a.storeGroup("work", store.GroupWork, "alice", "bob")
				code, info, _ := a.rest(gsvc+"send_group_msg", `{"GroupId":"work","From_Account":"alice","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}],"NeedReadReceipt":1}`)
				if code == 0 {
					a.restOK(gsvc+"group_msg_receipt", `{"GroupId":"work","From_Account":"bob","MsgSeqList":[{"MsgSeq":1}]}`)
					out := a.restOK(gsvc+"get_group_msg_receipt", `{"GroupId":"work","MsgSeqList":[{"MsgSeq":1}]}`)
					if r := out["GroupMsgReceiptList"].([]any)[0].(map[string]any); r["ReadNum"] != 1.0 || r["UnreadNum"] != 0.0 {
						a.t.Fatalf("receipt %v", r)
					}
					out = a.restOK(gsvc+"get_group_msg_receipt_detail", `{"GroupId":"work","MsgSeq":1,"Filter":0,"Cursor":"","Count":10}`)
					if fmt.Sprint(out["ReadList"]) != "[map[Member_Account:bob]]" {
						a.t.Fatalf("detail %v", out)
					}
					return code, info
				}
				if a.lastSeq("work") != 0 {
					a.t.Fatal("a refused send stored a message")
				}
				a.restOK(gsvc+"send_group_msg", `{"GroupId":"work","From_Account":"alice","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`)
				for _, cmd := range []string{"group_msg_receipt", "get_group_msg_receipt_detail"} {
					c, _, _ := a.rest(gsvc+cmd, `{"GroupId":"work","From_Account":"bob","MsgSeqList":[{"MsgSeq":1}],"MsgSeq":1,"Filter":0,"Count":10}`)
					if c != code {
						a.t.Fatalf("%s: %d, want %d", cmd, c, code)
					}
				}
				c, info, _ := a.rest(gsvc+"get_group_msg_receipt", `{"GroupId":"work","MsgSeqList":[{"MsgSeq":1}]}`)
				if c != code {
					a.t.Fatalf("get_group_msg_receipt: %d, want %d", c, code)
				}
				return c, info
			}},
		{name: "group_join past MembersPerGroup", edge: "WebSocket", want: all(errs.GroupMemberLimit),
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				limit := a.ed.MembersPerGroup
				us := a.importN("m", limit+1)
				a.storeGroup("big", store.GroupPublic, us[0], us[1:limit-1]...)
				if _, err := a.dial(us[limit-1], "Web").GroupJoin(ctx5(), "big", "hi"); err != nil {
					a.t.Fatalf("member %d of %d: %v", limit, limit, err)
				}
				_, err := a.dial(us[limit], "Web").GroupJoin(ctx5(), "big", "hi")
				code, msg := clientErr(err)
				if n := a.memberNum("big"); code != 0 && n != limit {
					a.t.Fatalf("%d members after the refusal, want %d", n, limit)
				}
				return code, msg
			}},
		{name: "group_join past GroupsPerUser", edge: "WebSocket", want: all(errs.GroupJoinedLimit),
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				a.importN("hub", 1)
				a.storeGroups("j", store.GroupMeeting, a.ed.GroupsPerUser-1, "hub0000")
				a.storeGroups("live", store.GroupAVChatRoom, 1, "hub0000") // live rooms do not count
				a.storeGroups("t", store.GroupMeeting, 2, "")
				hub := a.dial("hub0000", "Web")
				if _, err := hub.GroupJoin(ctx5(), "t0000", ""); err != nil {
					a.t.Fatalf("the last group allowed: %v", err)
				}
				_, err := hub.GroupJoin(ctx5(), "t0001", "")
				code, msg := clientErr(err)
				if n := a.memberNum("t0001"); code != 0 && n != 0 {
					a.t.Fatalf("%d members after the refusal", n)
				}
				return code, msg
			}},
	}
}
