package server

import (
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/testdb"
)

// Applications and invitations over WebSocket: an application to a Public
// group that needs approval reaches the owner's device, who approves or
// refuses it (once: 10024 after); a member may not decide (10007); an
// invitation reaches the invitee, who accepts it.
func TestGroupApplicationsAndInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := tctx(t)
		r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Public", "GroupId": "P",
			"Name": "p", "ApplyJoinOption": "NeedPermission", "InviteJoinOption": "NeedPermission"})
		if restCode(r) != 0 {
			t.Fatalf("create_group: %v", r)
		}
		alice, bob, carol := w.dial("alice", "Web"), w.dial("bob", "Web"), w.dial("carol", "Web")
		reqs := make(chan client.GroupRequest, 8)
		alice.OnGroupRequest(func(g client.GroupRequest) { reqs <- g })
		carolReqs := make(chan client.GroupRequest, 8)
		carol.OnGroupRequest(func(g client.GroupRequest) { carolReqs <- g })
		next := func(ch chan client.GroupRequest) client.GroupRequest {
			t.Helper()
			select {
			case g := <-ch:
				return g
			case <-time.After(10 * time.Second):
				t.Fatal("no group request pushed")
			}
			return client.GroupRequest{}
		}
		members := func() int {
			info := w.rest("group_open_http_svc/get_group_info", map[string]any{"GroupIdList": []string{"P"}})
			return int(info["GroupInfo"].([]any)[0].(map[string]any)["MemberNum"].(float64))
		}

		if pending, err := bob.GroupJoin(ctx, "P", "let me in"); err != nil || !pending {
			t.Fatalf("bob applies: %v %v", pending, err)
		}
		if g := next(reqs); g.Kind != "group_application" || g.Group != "P" || g.User != "bob" || g.Message != "let me in" {
			t.Fatalf("the owner's notice: %+v", g)
		}
		if err := bob.GroupApprove(ctx, "P", "bob", true); code(err) != errs.GroupNoPermission {
			t.Fatalf("the applicant approves itself: %v", err)
		}
		if err := alice.GroupApprove(ctx, "P", "bob", true); err != nil {
			t.Fatal(err)
		}
		if err := alice.GroupApprove(ctx, "P", "bob", false); code(err) != errs.GroupRequestHandled {
			t.Fatalf("deciding twice: %v", err)
		}
		if n := members(); n != 2 {
			t.Fatalf("%d members after the approval", n)
		}
		if _, err := carol.GroupJoin(ctx, "P", ""); err != nil {
			t.Fatal(err)
		}
		next(reqs)
		if err := bob.GroupApprove(ctx, "P", "carol", true); code(err) != errs.GroupNoPermission {
			t.Fatalf("a member approves: %v", err)
		}
		if err := alice.GroupApprove(ctx, "P", "carol", false); err != nil {
			t.Fatal(err)
		}
		if n := members(); n != 2 {
			t.Fatalf("%d members after the refusal", n)
		}

		r = w.rest("group_open_http_svc/add_group_member", map[string]any{"GroupId": "P", "MemberList": []map[string]any{{"Member_Account": "carol"}}})
		if res := r["MemberList"].([]any)[0].(map[string]any)["Result"]; restCode(r) != 0 || res != float64(3) {
			t.Fatalf("invite carol: %v", r)
		}
		if g := next(carolReqs); g.Kind != "group_invitation" || g.Group != "P" || g.User == "" {
			t.Fatalf("carol's invitation: %+v", g)
		}
		if err := carol.GroupAcceptInvitation(ctx, "P", true); err != nil {
			t.Fatal(err)
		}
		if err := carol.GroupAcceptInvitation(ctx, "P", false); code(err) != errs.GroupRequestHandled {
			t.Fatalf("declining an accepted invitation: %v", err)
		}
		if n := members(); n != 3 {
			t.Fatalf("%d members after the invitation", n)
		}
	})
}

// A device recalls a group message: its own, or any as the owner; a plain
// member may not recall another's (10007); an unknown seq is 10030; every
// member gets the recall entry.
func TestGroupRecallByDevice(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := tctx(t)
		if r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Work", "GroupId": "W",
			"Name": "w", "MemberList": []map[string]any{{"Member_Account": "bob"}, {"Member_Account": "carol"}}}); restCode(r) != 0 {
			t.Fatalf("create_group: %v", r)
		}
		alice, bob, carol := w.dial("alice", "Web"), w.dial("bob", "Web"), w.dial("carol", "Web")
		ci := inbox(carol)
		b1, err := bob.GroupSend(ctx, "W", "b1", textBody("one"), client.GroupSendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b2, err := bob.GroupSend(ctx, "W", "b2", textBody("two"), client.GroupSendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ci.next(t, "b1")
		ci.next(t, "b2")
		if err := carol.GroupRecall(ctx, "W", b1.Seq); code(err) != errs.GroupNoPermission {
			t.Fatalf("a member recalls another's message: %v", err)
		}
		if err := bob.GroupRecall(ctx, "W", b1.Seq); err != nil {
			t.Fatalf("the sender recalls: %v", err)
		}
		if e := ci.next(t, "recall of b1"); e.Kind != "recall" || e.MsgSeq != b1.Seq {
			t.Fatalf("carol's recall entry: %+v", e)
		}
		if err := alice.GroupRecall(ctx, "W", b2.Seq); err != nil {
			t.Fatalf("the owner recalls: %v", err)
		}
		if e := ci.next(t, "recall of b2"); e.Kind != "recall" || e.MsgSeq != b2.Seq {
			t.Fatalf("carol's recall entry: %+v", e)
		}
		if err := alice.GroupRecall(ctx, "W", 999); code(err) != errs.GroupRecallNotFound {
			t.Fatalf("an unknown seq: %v", err)
		}
		if err := alice.GroupRecall(ctx, "W", 0); code(err) != errs.GroupBadParams {
			t.Fatalf("seq 0: %v", err)
		}
	})
}
