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

func (e *convEnv) dial(t *testing.T, user, platform string) *client.Client {
	t.Helper()
	cl, err := dialUser(t, e.hs.URL, e.app, e.c.Now(), user, platform, 0)
	if err != nil {
		t.Fatalf("login %s on %s: %v", user, platform, err)
	}
	return cl
}

func nextChange(t *testing.T, cl *client.Client) client.ConvChange {
	t.Helper()
	select {
	case ch := <-cl.ConvChanges():
		return ch
	case <-time.After(10 * time.Second):
		t.Fatal("no conv_changed push")
	}
	return client.ConvChange{}
}

// End to end over real WebSocket clients: alice on two devices sends from
// both, bob and carol send to her, one device reads bob; the list on the other
// device (and get_list) shows the right unread counts; pin and delete on one
// device reach the other as conv_changed pushes.
func TestConvWebSocketTwoDevices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Trial, "alice", "bob", "carol", "dave", "erin")
		ctx := tctx(t)
		a1, a2 := e.dial(t, "alice", "Web"), e.dial(t, "alice", "iOS")
		a2changes := a2.ConvChanges()
		bob, carol := e.dial(t, "bob", "Android"), e.dial(t, "carol", "Web")
		if _, err := a1.SendText(ctx, "dave", "a1-1", "hi dave"); err != nil {
			t.Fatal(err)
		}
		if _, err := a2.SendText(ctx, "erin", "a2-1", "hi erin"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := bob.SendText(ctx, "alice", fmt.Sprintf("b%d", i), "hi"); err != nil {
				t.Fatal(err)
			}
		}
		e.c.Advance(time.Second)
		for i := range 2 {
			if _, err := carol.SendText(ctx, "alice", fmt.Sprintf("c%d", i), "hi"); err != nil {
				t.Fatal(err)
			}
		}
		if err := a1.MarkRead(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		convs, _, complete, err := a2.Conversations(ctx, nil, 0)
		if err != nil || !complete {
			t.Fatalf("conv_list: %v complete %v", err, complete)
		}
		got := map[string]int{}
		for _, c := range convs {
			got[c.Peer] = c.Unread
		}
		want := map[string]int{"dave": 0, "erin": 0, "bob": 0, "carol": 2}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("unread on the second device: %v, want %v", got, want)
		}
		if convs[0].Peer != "carol" { // newest first
			t.Fatalf("first conversation %+v, want carol", convs[0])
		}
		var page listPage
		e.rest(t, "recentcontact/get_list", `{"From_Account":"alice","AssistFlags":7}`, &page)
		for _, it := range page.SessionItem {
			if it.UnreadMsgCount != want[it.To_Account] {
				t.Fatalf("get_list %s unread %d, want %d", it.To_Account, it.UnreadMsgCount, want[it.To_Account])
			}
		}

		// Pin on one device: the other is told, and bob comes first.
		if err := a1.PinConversation(ctx, client.ConvRef{Type: 1, Peer: "bob"}, true); err != nil {
			t.Fatal(err)
		}
		if ch := nextChange(t, a2); ch.Conv == nil || ch.Conv.Peer != "bob" || !ch.Conv.Pinned {
			t.Fatalf("pin push %+v", ch)
		}
		convs, _, _, _ = a2.Conversations(ctx, nil, 1)
		if convs[0].Peer != "bob" || !convs[0].Pinned {
			t.Fatalf("after pin: %+v", convs[0])
		}
		// Delete with clear on one device: the other is told; carol is gone.
		if err := a1.DeleteConversation(ctx, client.ConvRef{Type: 1, Peer: "carol"}, true); err != nil {
			t.Fatal(err)
		}
		if ch := nextChange(t, a2); ch.Conv == nil || ch.Conv.Peer != "carol" || !ch.Conv.Deleted {
			t.Fatalf("delete push %+v", ch)
		}
		convs, _, _, _ = a2.Conversations(ctx, nil, 1)
		for _, c := range convs {
			if c.Peer == "carol" {
				t.Fatal("carol still listed")
			}
		}
		// A change through REST reaches the devices too.
		if code := e.rest(t, "recentcontact/delete", `{"From_Account":"alice","Type":1,"To_Account":"dave"}`, nil); code != 0 {
			t.Fatalf("REST delete: %d", code)
		}
		if ch := nextChange(t, a2); ch.Conv == nil || ch.Conv.Peer != "dave" || !ch.Conv.Deleted {
			t.Fatalf("REST delete push %+v", ch)
		}
		convs, _, _, _ = a2.Conversations(ctx, nil, 1)
		// Each change was pushed once.
		select {
		case ch := <-a2changes:
			t.Fatalf("an extra push: %+v", ch)
		default:
		}
		// Bad input changes nothing.
		for _, tc := range []struct {
			err  error
			code int
		}{
			{a1.PinConversation(ctx, client.ConvRef{Type: 3, Peer: "bob"}, false), errs.ConvBadParams},
			{a1.DeleteConversation(ctx, client.ConvRef{Type: 1, Peer: " bob"}, true), errs.ConvBadParams},
			{func() error { _, _, _, err := a1.Conversations(ctx, &client.ConvCursor{Time: -1}, 0); return err }(), errs.ConvBadParams},
		} {
			if code(tc.err) != tc.code {
				t.Errorf("bad input: %v, want %d", tc.err, tc.code)
			}
		}
		convs2, _, _, _ := a2.Conversations(ctx, nil, 1)
		if fmt.Sprint(convs2) != fmt.Sprint(convs) {
			t.Fatalf("bad input changed the list:\n%v\n%v", convs, convs2)
		}
	})
}

// Bad input to the mark and group ops over WebSocket is refused with
// ConvBadParams and changes nothing.
func TestConvMarksAndGroupsWebSocketBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Premium, "alice", "bob")
		ctx := tctx(t)
		a1 := e.dial(t, "alice", "Web")
		bob := client.ConvRef{Type: 1, Peer: "bob"}
		custom := "vip"
		if _, err := a1.MarkConversation(ctx, bob, []int{0, 5}, nil, &custom); err != nil {
			t.Fatal(err)
		}
		if _, err := a1.MarkConversation(ctx, bob, []int{64}, nil, nil); code(err) != errs.ConvBadParams {
			t.Fatalf("bit 64: %v", err)
		}
		if _, err := a1.CreateConvGroup(ctx, "", nil); code(err) != errs.ConvBadParams {
			t.Fatalf("empty group name: %v", err)
		}
		if _, err := a1.RenameConvGroup(ctx, "none", "x"); code(err) != errs.ConvBadParams {
			t.Fatalf("rename a missing group: %v", err)
		}
		convs, groups, _, complete, err := a1.ConvGroups(ctx, 0)
		if err != nil || !complete || len(groups) != 0 || len(convs) != 1 || convs[0].Marks != "100001" || convs[0].CustomMark != "vip" {
			t.Fatalf("conv_groups: %+v %+v %v", convs, groups, err)
		}
	})
}
