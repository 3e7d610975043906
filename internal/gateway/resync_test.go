package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

func waitKicked(t *testing.T, c *client.Client, reason, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the session stayed open", what)
	}
	if c.Kicked() != reason {
		t.Errorf("%s: kick reason %q, want %q", what, c.Kicked(), reason)
	}
}

// After the bus reconnects (InvAll), the kicks and deletions other nodes made
// while this node was cut off are applied: those sessions end with the frame
// a live kick sends; a session that logged in after the kick stays. Every
// session left is told its user's log head, and a client whose push was
// lost meanwhile syncs the missing entry (once).
func TestInvAllChecksSessionsAndSendsLogHead(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	ctx := context.Background()
	if err := e.svc.ImportAccounts(ctx, e.app, []store.User{{UserID: "carol"}, {UserID: "dave"}}); err != nil {
		t.Fatal(err)
	}
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	carol, err := e.dial("carol", "Web")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	raw := e.raw() // a second device of bob's, reading frames as they come
	if f := roundTrip(t, raw, `{"op":"login","id":"1","sdkappid":`+jsonInt(e.app.SDKAppID)+`,"user":"bob","usersig":"`+e.sig("bob")+`","platform":"Mac"}`); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}

	// What other nodes did while this one was cut off: their deliveries are lost.
	e.clock.Advance(2 * time.Second)
	e.lossy.dropNext("alice", 1)
	if err := e.svc.Kick(ctx, e.app, "alice"); err != nil {
		t.Fatal(err)
	}
	e.lossy.dropNext("carol", 1)
	if _, err := e.svc.DeleteAccounts(ctx, e.app, []string{"carol"}); err != nil {
		t.Fatal(err)
	}
	e.lossy.dropNext("bob", 1)
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"during the outage"}}]`)
	if _, err := e.svc.Send(ctx, e.app, im.SendRequest{From: "dave", To: "bob", Body: body}); err != nil {
		t.Fatal(err)
	}
	alive(t, alice, "kick lost on the way")
	alive(t, carol, "deletion lost on the way")
	e.clock.Advance(time.Second)
	alice2, err := e.dial("alice", "Android") // a new UserSig, after the kick
	if err != nil {
		t.Fatal(err)
	}
	defer alice2.Close()
	head, err := e.svc.LastSeq(ctx, e.app, "bob")
	if err != nil || head != 1 {
		t.Fatalf("bob's log head %d, %v; want 1", head, err)
	}

	cb.feed(bus.Invalidation{Kind: bus.InvAll})
	waitKicked(t, alice, im.KickedByBackend, "alice kicked during the outage")
	waitKicked(t, carol, im.KickedDeleted, "carol deleted during the outage")
	alive(t, alice2, "alice's login after the kick")

	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = raw.SetReadDeadline(deadline)
		var f gateway.Frame
		if err := raw.ReadJSON(&f); err != nil {
			t.Fatalf("no log_head: %v", err)
		}
		if f.Op == protocol.OpLogHead {
			if f.Seq != head {
				t.Fatalf("log_head %+v, want seq %d", f, head)
			}
			break
		}
	}
	select {
	case got := <-bob.Entries():
		if got.Seq != 1 || got.From != "dave" {
			t.Fatalf("entry %+v, want dave's seq 1", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the entry whose push was lost never arrived")
	}
	if err := bob.Ping(ctx); err != nil { // the resync is over: nothing more came
		t.Fatal(err)
	}
	if n := len(bob.Entries()); n != 0 || bob.Applied() != 1 {
		t.Fatalf("%d more entries, applied %d; want 0, 1", n, bob.Applied())
	}
}

// A subscribe reply counts as the subscriber told: a user online on another
// node logging in here sends no second Online (docs/protocol.md).
func TestSubscribeReplyCountsAsTold(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	ctx := context.Background()
	cb.setRemote("bob", bus.Device{Platform: "Android", ConnID: "r"}) // bob online on another node
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	st, _, err := alice.SubscribeStatus(ctx, "bob")
	if err != nil || len(st) != 1 || st[0].Status != protocol.StatusOnline {
		t.Fatalf("subscribe: %+v, %v; want bob Online", st, err)
	}
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cb.waitChanged(t, "bob", "bob's login here") // after its notice, if any
	bob.Close()
	cb.waitChanged(t, "bob", "bob's logout here")
	cb.setRemote("bob")
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	select {
	case n := <-alice.StatusNotices():
		if n.User != "bob" || n.Status != protocol.StatusOffline {
			t.Fatalf("notice %+v, want bob Offline (no second Online)", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no Offline notice")
	}
}

// The catch-up reads an app's users in batches, several at once: kicks lost
// in different batches all apply, and the other sessions stay (run with -race).
func TestInvAllChecksEveryBatch(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Premium, gateway.Limits{}, gateway.Metrics{}, nil, cb) // Trial admits 100 users a month
	ctx := context.Background()
	const n = 2*im.MaxBatchAccounts + 10
	users := make([]store.User, n)
	for i := range users {
		users[i].UserID = "u" + jsonInt(int64(i))
	}
	for i := 0; i < n; i += im.MaxBatchAccounts {
		if err := e.svc.ImportAccounts(ctx, e.app, users[i:min(i+im.MaxBatchAccounts, n)]); err != nil {
			t.Fatal(err)
		}
	}
	clients := make([]*client.Client, n)
	for i, u := range users {
		c, err := e.dial(u.UserID, "Web")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	e.clock.Advance(2 * time.Second)
	kicked := map[int]bool{3: true, n/2 + 1: true, n - 2: true}
	for i := range kicked {
		e.lossy.dropNext(users[i].UserID, 1)
		if err := e.svc.Kick(ctx, e.app, users[i].UserID); err != nil {
			t.Fatal(err)
		}
	}
	cb.feed(bus.Invalidation{Kind: bus.InvAll})
	for i := range kicked {
		waitKicked(t, clients[i], im.KickedByBackend, users[i].UserID)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		alive(t, clients[i], users[i].UserID+", not kicked")
	}
}
