package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

func (e *convEnv) dial(t *testing.T, user, platform string) *client.Client {
	t.Helper()
	sig, err := usersig.Gen(e.app.SDKAppID, e.app.SecretKey, user, 86400, e.c.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, "ws"+strings.TrimPrefix(e.hs.URL, "http")+"/v1/ws",
		client.Options{SDKAppID: e.app.SDKAppID, User: user, UserSig: sig, Platform: platform})
	if err != nil {
		t.Fatalf("login %s on %s: %v", user, platform, err)
	}
	t.Cleanup(func() { cl.Close() })
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

func codeOf(err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	if err == nil {
		return 0
	}
	return -1
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
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
			if codeOf(tc.err) != tc.code {
				t.Errorf("bad input: %v, want %d", tc.err, tc.code)
			}
		}
		convs2, _, _, _ := a2.Conversations(ctx, nil, 1)
		if fmt.Sprint(convs2) != fmt.Sprint(convs) {
			t.Fatalf("bad input changed the list:\n%v\n%v", convs, convs2)
		}
	})
}

// Marks and groups over WebSocket on all three editions: Standard refuses
// with 60030 and stores nothing; Free Trial and Premium serve them and push
// the change to the user's other device.
func TestConvEditionMatrixWebSocket(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, ed := range []string{catalog.Trial, catalog.Standard, catalog.Premium} {
			t.Run(ed, func(t *testing.T) {
				e := newConvEnv(t, open, ed, "alice", "bob")
				ctx := tctx(t)
				a1, a2 := e.dial(t, "alice", "Web"), e.dial(t, "alice", "Android")
				bob := client.ConvRef{Type: 1, Peer: "bob"}
				custom := "vip"
				_, markErr := a1.MarkConversation(ctx, bob, []int{0, 5}, nil, &custom)
				_, createErr := a1.CreateConvGroup(ctx, "work", []client.ConvRef{bob})
				_, renameErr := a1.RenameConvGroup(ctx, "work", "job")
				codes, updateErr := a1.UpdateConvGroup(ctx, "job", nil, []client.ConvRef{bob})
				_, _, _, _, getErr := a1.ConvGroups(ctx, 0)
				deleteErr := a1.DeleteConvGroup(ctx, "job")
				all := []error{markErr, createErr, renameErr, updateErr, getErr, deleteErr}
				if ed == catalog.Standard {
					for i, err := range all {
						if codeOf(err) != errs.FeatureNotInEdition || !strings.Contains(err.Error(), "Free Trial and Premium") {
							t.Fatalf("op %d on Standard: %v", i, err)
						}
					}
					st, gs, _ := e.st.ConvStates(context.Background(), e.app.SDKAppID, "alice")
					if len(st) != 0 || len(gs) != 0 {
						t.Fatalf("Standard stored %+v %+v", st, gs)
					}
					// Pins are in every edition.
					if err := a1.PinConversation(ctx, bob, true); err != nil {
						t.Fatal(err)
					}
					return
				}
				for i, err := range all {
					if err != nil {
						t.Fatalf("op %d on %s: %v", i, ed, err)
					}
				}
				if len(codes) != 1 || codes[0] != 0 {
					t.Fatalf("update codes %v", codes)
				}
				// a2 saw: the mark, then four group changes.
				if ch := nextChange(t, a2); ch.Conv == nil || ch.Conv.Marks != "100001" || ch.Conv.CustomMark != "vip" {
					t.Fatalf("mark push %+v", ch)
				}
				for i := range 4 {
					if ch := nextChange(t, a2); ch.Conv != nil {
						t.Fatalf("group push %d: %+v", i, ch)
					}
				}
				// Bad input.
				if _, err := a1.MarkConversation(ctx, bob, []int{64}, nil, nil); codeOf(err) != errs.ConvBadParams {
					t.Fatalf("bit 64: %v", err)
				}
				if _, err := a1.CreateConvGroup(ctx, "", nil); codeOf(err) != errs.ConvBadParams {
					t.Fatalf("empty group name: %v", err)
				}
				if _, err := a1.RenameConvGroup(ctx, "none", "x"); codeOf(err) != errs.ConvBadParams {
					t.Fatalf("rename a missing group: %v", err)
				}
				convs, groups, _, complete, err := a1.ConvGroups(ctx, 0)
				if err != nil || !complete || len(groups) != 0 || len(convs) != 1 || convs[0].Marks != "100001" {
					t.Fatalf("conv_groups: %+v %+v %v", convs, groups, err)
				}
			})
		}
	})
}
