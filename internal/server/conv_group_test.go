package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/testdb"
)

// Group conversations (Type 2) in the conversation list, REST and WebSocket:
// one item per group with a message (live rooms and silent groups left out),
// ordered with the one-to-one items by MsgTime, the member's unread count
// (own messages not counted, set_unread_msg_num and import_group_member's
// UnreadMsgNum obeyed), marks and pins, and a delete that hides the item
// until the group's next entry.
func TestGroupConversations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Premium, "alice", "bob", "carol", "dave")
		ctx := tctx(t)
		ok := func(cmd, body string) {
			t.Helper()
			if code := e.rest(t, cmd, body, nil); code != 0 {
				t.Fatalf("%s %s: %d", cmd, body, code)
			}
		}
		ok("group_open_http_svc/create_group", `{"Owner_Account":"bob","Type":"Work","GroupId":"G1","Name":"g1","MemberList":[{"Member_Account":"alice"}]}`)
		ok("group_open_http_svc/create_group", `{"Owner_Account":"bob","Type":"Public","GroupId":"G2","Name":"g2","MemberList":[{"Member_Account":"alice"}]}`)
		ok("group_open_http_svc/create_group", `{"Owner_Account":"bob","Type":"AVChatRoom","GroupId":"L1","Name":"live"}`)
		if _, err := e.s.IM.JoinGroup(ctx, e.app, "alice", "L1", ""); err != nil {
			t.Fatal(err)
		}
		ok("group_open_http_svc/create_group", `{"Owner_Account":"carol","Type":"Work","GroupId":"G3","Name":"g3"}`)
		e.send(t, "carol", "alice")
		e.c.Advance(time.Second)
		random := 0
		sendG := func(g, from string) {
			t.Helper()
			random++
			ok("group_open_http_svc/send_group_msg", fmt.Sprintf(`{"GroupId":%q,"From_Account":%q,"Random":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`,
				g, from, random))
		}
		sendG("G1", "bob")
		sendG("G1", "bob")
		sendG("L1", "bob")
		sendG("G3", "carol") // alice is not a member
		items := func() map[string]sessionItem {
			t.Helper()
			out := map[string]sessionItem{}
			var order []string
			for _, p := range e.listAll(t, "alice", 1) {
				for _, it := range p.SessionItem {
					k := it.To_Account + it.GroupId
					order = append(order, k)
					out[k] = it
				}
			}
			out["order"] = sessionItem{CustomMark: fmt.Sprint(order)}
			return out
		}
		got := items()
		if len(got) != 3 || got["G1"].Type != 2 || got["G1"].UnreadMsgCount != 2 || got["G1"].MsgTime != e.c.Now().Unix() ||
			got["order"].CustomMark != "[G1 carol]" {
			t.Fatalf("alice's list: %+v", got)
		}
		// Her own message is not unread; it is the item's last message on the WebSocket.
		sendG("G1", "alice")
		alice := e.dial(t, "alice", "Web")
		convs, _, done, err := alice.Conversations(ctx, nil, 1)
		if err != nil || !done || len(convs) != 2 || convs[0].Peer != "G1" || convs[0].Type != 2 || convs[0].From != "alice" ||
			convs[0].Seq == 0 || convs[0].Unread != 2 {
			t.Fatalf("WebSocket list: %+v %v", convs, err)
		}
		// Marks and pins take Type 2 items.
		ok("recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[{"OptType":1,"ContactItem":{"Type":2,"ToGroupId":"G1"},"SetMark":[0]}]}`)
		if err := alice.PinConversation(ctx, client.ConvRef{Type: 2, Peer: "G1"}, true); err != nil {
			t.Fatal(err)
		}
		if g1 := items()["G1"]; g1.StandardMark == "" || g1.TopFlag != 1 {
			t.Fatalf("marked, pinned G1: %+v", g1)
		}
		// set_unread_msg_num moves the read position.
		ok("group_open_http_svc/set_unread_msg_num", `{"GroupId":"G1","Member_Account":"alice","UnreadMsgNum":1}`)
		if g1 := items()["G1"]; g1.UnreadMsgCount != 1 {
			t.Fatalf("after set_unread_msg_num 1: %+v", g1)
		}
		// import_group_member's UnreadMsgNum is kept.
		ok("group_open_http_svc/import_group_member", `{"GroupId":"G1","MemberList":[{"Member_Account":"dave","UnreadMsgNum":2}]}`)
		var dl listPage
		if code := e.rest(t, "recentcontact/get_list", `{"From_Account":"dave"}`, &dl); code != 0 || len(dl.SessionItem) != 1 || dl.SessionItem[0].UnreadMsgCount != 2 {
			t.Fatalf("dave's list: %d %+v", code, dl)
		}
		// Bad input changes nothing.
		before := items()
		for _, tc := range []struct {
			cmd, body string
			code      int
		}{
			{"recentcontact/delete", `{"From_Account":"alice","Type":2,"ToGroupid":""}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"alice","Type":2,"ToGroupid":"G\u00011"}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"alice","Type":2,"ToGroupid":["G1"]}`, errs.ConvBadParams},
			{"group_open_http_svc/import_group_member", `{"GroupId":"G1","MemberList":[{"Member_Account":"carol","UnreadMsgNum":-1}]}`, errs.GroupBadParams},
			{"group_open_http_svc/import_group_member", `{"GroupId":"G1","MemberList":[{"Member_Account":"carol","UnreadMsgNum":"1"}]}`, errs.GroupBadParams},
			{"group_open_http_svc/set_unread_msg_num", `{"GroupId":"G1","Member_Account":"alice","UnreadMsgNum":5}`, errs.GroupBadParams},
			{"group_open_http_svc/set_unread_msg_num", `{"GroupId":"nope","Member_Account":"alice","UnreadMsgNum":0}`, errs.GroupNotFound},
		} {
			if code := e.rest(t, tc.cmd, tc.body, nil); code != tc.code {
				t.Errorf("%s %s: %d, want %d", tc.cmd, tc.body, code, tc.code)
			}
		}
		if after := items(); fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("bad input changed the list:\n%+v\n%+v", before, after)
		}
		// A deleted group item stays hidden until the group's next entry.
		ok("recentcontact/delete", `{"From_Account":"alice","Type":2,"ToGroupid":"G1"}`)
		if _, listed := items()["G1"]; listed {
			t.Fatal("G1 listed after its delete")
		}
		e.c.Advance(time.Second)
		sendG("G1", "bob")
		if g1, listed := items()["G1"]; !listed || g1.MsgTime != e.c.Now().Unix() || g1.TopFlag != 0 {
			t.Fatalf("G1 after a new message: %+v %v", g1, listed)
		}
	})
}
