package server

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/protocol"
)

// nextNotice waits for the next status notice of c.
func nextNotice(t *testing.T, c *client.Client) client.UserStatus {
	t.Helper()
	select {
	case n := <-c.StatusNotices():
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no status notice")
		return client.UserStatus{}
	}
}

func containsDetail(detail []any, platform, status string) bool {
	for _, d := range detail {
		m := d.(map[string]any)
		if m["Platform"] == platform && m["Status"] == status {
			return true
		}
	}
	return false
}

// A subscriber sees the user go online, change its custom status, go offline
// (last device closed) and become PushOnline when a mobile device drops its
// connection without logging out; PushOnline lasts 7 days.
func TestStatusNotices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		bob := w.dial("bob", "Android")
		statuses, failed, err := bob.SubscribeStatus(ctx5(), "alice", "alice")
		if err != nil || len(failed) != 0 {
			t.Fatalf("subscribe: %v %v", failed, err)
		}
		if want := []client.UserStatus{{User: "alice", Status: "Offline"}}; !reflect.DeepEqual(statuses, want) {
			t.Fatalf("subscribe reply %v, want %v", statuses, want)
		}
		alice := w.dial("alice", "Web")
		if n := nextNotice(t, bob); n != (client.UserStatus{User: "alice", Status: "Online"}) {
			t.Fatalf("notice %+v, want alice Online", n)
		}
		if err := alice.SetCustomStatus(ctx5(), "at lunch"); err != nil {
			t.Fatal(err)
		}
		want := client.UserStatus{User: "alice", Status: "Online", CustomStatus: "at lunch"}
		if n := nextNotice(t, bob); n != want {
			t.Fatalf("notice %+v, want %+v", n, want)
		}
		if n := nextNotice(t, alice); n != want {
			t.Fatalf("alice's own notice %+v, want %+v", n, want)
		}
		alice.Close()
		if n := nextNotice(t, bob); n != (client.UserStatus{User: "alice", Status: "Offline", CustomStatus: "at lunch"}) {
			t.Fatalf("notice %+v, want alice Offline", n)
		}

		// An iOS device that loses its connection (no close frame) is PushOnline.
		conn, _, err := websocket.DefaultDialer.Dial(w.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		login, _ := json.Marshal(protocol.Frame{Op: "login", ID: "1", SDKAppID: w.app.SDKAppID, User: "alice", UserSig: w.sig(w.app, "alice"), Platform: "iOS"})
		if err := conn.WriteMessage(websocket.TextMessage, login); err != nil {
			t.Fatal(err)
		}
		if _, _, err := conn.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if n := nextNotice(t, bob); n.Status != "Online" {
			t.Fatalf("notice %+v, want Online", n)
		}
		conn.UnderlyingConn().Close()
		if n := nextNotice(t, bob); n.Status != "PushOnline" {
			t.Fatalf("notice %+v, want PushOnline", n)
		}
		out := w.rest("openim/query_online_status", map[string]any{"To_Account": []string{"alice"}, "IsNeedDetail": 1, "IsReturnCustomStatus": 1})
		r := out["QueryResult"].([]any)[0].(map[string]any)
		if r["Status"] != "PushOnline" || r["CustomStatus"] != "at lunch" || !containsDetail(r["Detail"].([]any), "iPhone", "PushOnline") {
			t.Fatalf("query_online_status = %v", r)
		}
		w.c.Advance(gateway.PushOnlineFor)
		out = w.rest("openim/query_online_status", map[string]any{"To_Account": []string{"alice"}})
		if s := out["QueryResult"].([]any)[0].(map[string]any)["Status"]; s != "Offline" {
			t.Fatalf("7 days later: %v, want Offline", s)
		}

		// The subscriber's subscriptions end with its last session.
		if got := w.s.Gateway.Subscriptions(w.app.SDKAppID, "bob"); !reflect.DeepEqual(got, []string{"alice"}) {
			t.Fatalf("bob's subscriptions %v", got)
		}
		bob.Close()
		<-bob.Done()
		waitFor(t, func() bool { return len(w.s.Gateway.Subscriptions(w.app.SDKAppID, "bob")) == 0 }, "bob's subscriptions to end")
	})
}

// Bad input to the status ops gets the reference's codes and changes nothing.
func TestStatusBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Trial, gateway.Limits{NodeSubscriptions: im.MaxStatusSubscriptions + 1})
		other := w.newApp(catalog.Trial, "dave")
		_ = other
		bob := w.dial("bob", "Web")
		subs := func() []string { return w.s.Gateway.Subscriptions(w.app.SDKAppID, "bob") }

		_, failed, err := bob.SubscribeStatus(ctx5(), "ghost", "dave", "bob", " x")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, f := range failed {
			got[f.User] = f.Code
		}
		if want := map[string]int{"ghost": 70107, "dave": 70107, "bob": 70402, " x": 70402}; !reflect.DeepEqual(got, want) {
			t.Fatalf("failed = %v, want %v", got, want)
		}
		if len(subs()) != 0 {
			t.Fatalf("refused users subscribed: %v", subs())
		}
		many := make([]string, im.MaxSubscribeBatch+1)
		for i := range many {
			many[i] = fmt.Sprintf("u%03d", i)
		}
		if _, _, err := bob.SubscribeStatus(ctx5(), many...); code(err) != errs.InvalidParameters {
			t.Fatalf("subscribe %d users: %v, want 70402", len(many), err)
		}
		if _, _, err := bob.SubscribeStatus(ctx5()); code(err) != errs.InvalidParameters {
			t.Fatalf("subscribe nobody: %v, want 70402", err)
		}
		if len(subs()) != 0 {
			t.Fatalf("refused batch subscribed: %v", subs())
		}

		if err := bob.SetCustomStatus(ctx5(), "ok"); err != nil {
			t.Fatal(err)
		}
		if err := bob.SetCustomStatus(ctx5(), strings.Repeat("é", 51)); code(err) != errs.InvalidParameters {
			t.Fatalf("102-byte custom status: %v, want 70402", err)
		}
		if cs, _ := w.s.IM.CustomStatuses(context.Background(), w.app, []string{"bob"}); cs["bob"] != "ok" {
			t.Fatalf("custom status after a refused one: %q", cs["bob"])
		}
		if err := bob.SetCustomStatus(ctx5(), strings.Repeat("x", im.MaxCustomStatusBytes)); err != nil {
			t.Fatalf("100-byte custom status: %v", err)
		}

		// Past the per-user limit the oldest subscription is dropped (the reference's rule).
		var users []store.User
		var ids []string
		for i := 0; i <= im.MaxStatusSubscriptions; i++ {
			id := fmt.Sprintf("u%03d", i)
			ids = append(ids, id)
			users = append(users, store.User{UserID: id})
		}
		for i := 0; i < len(users); i += im.MaxBatchAccounts {
			if err := w.s.IM.ImportAccounts(context.Background(), w.app, users[i:min(i+im.MaxBatchAccounts, len(users))]); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < len(ids); i += im.MaxSubscribeBatch {
			if _, failed, err := bob.SubscribeStatus(ctx5(), ids[i:min(i+im.MaxSubscribeBatch, len(ids))]...); err != nil || len(failed) != 0 {
				t.Fatalf("subscribe: %v %v", failed, err)
			}
		}
		if got := subs(); len(got) != im.MaxStatusSubscriptions || got[0] != "u001" || got[len(got)-1] != ids[len(ids)-1] {
			t.Fatalf("%d subscriptions from %v, want %d from u001 (u000 dropped)", len(got), got[:1], im.MaxStatusSubscriptions)
		}
		// The node holds at most NodeSubscriptions (here 201): carol's second is refused.
		carol := w.dial("carol", "Web")
		if _, _, err := carol.SubscribeStatus(ctx5(), "alice"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := carol.SubscribeStatus(ctx5(), "bob"); code(err) != errs.SessionsPerApp {
			t.Fatalf("subscribe past the node's limit: %v, want 60011", err)
		}
		if got := w.s.Gateway.Subscriptions(w.app.SDKAppID, "carol"); !reflect.DeepEqual(got, []string{"alice"}) {
			t.Fatalf("carol's subscriptions %v", got)
		}
		if err := bob.UnsubscribeStatus(ctx5()); err != nil {
			t.Fatal(err)
		}
		if len(subs()) != 0 {
			t.Fatalf("unsubscribe from all left %v", subs())
		}
	})
}

// Concurrent logins of one user on one platform of a Standard app leave exactly
// one session; on Premium all of them stay.
func TestConcurrentSamePlatformLogins(t *testing.T) {
	for _, tt := range []struct {
		edition string
		want    int
	}{{catalog.Standard, 1}, {catalog.Premium, 8}} {
		t.Run(tt.edition, func(t *testing.T) {
			w := newWorld(t, testdb.SQLite(t), tt.edition, gateway.Limits{})
			var wg sync.WaitGroup
			clients := make([]*client.Client, 8)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					c, err := client.Dial(ctx, w.url(), client.Options{SDKAppID: w.app.SDKAppID, User: "alice", UserSig: w.sig(w.app, "alice"), Platform: "Web"})
					if err == nil {
						clients[i] = c
					}
				}()
			}
			wg.Wait()
			devices := w.s.Gateway.Devices(w.app.SDKAppID, "alice")
			if len(devices) != tt.want {
				t.Fatalf("%d sessions after 8 concurrent Web logins, want %d", len(devices), tt.want)
			}
			survivors := map[string]bool{}
			for _, d := range devices {
				survivors[d.ConnID] = true
			}
			for _, c := range clients {
				if c == nil {
					continue // kicked before its login reply was read
				}
				defer c.Close()
				if survivors[c.ConnID] {
					alive(t, c, "the remaining session")
				} else {
					ended(t, c, "a replaced session")
				}
			}
		})
	}
}

// Concurrent subscribes from many users never take the node past its limit, and
// every subscription ends with its subscriber's session.
func TestConcurrentSubscriptionsBounded(t *testing.T) {
	const users, targets, limit = 10, 60, 300
	w := newWorld(t, testdb.SQLite(t), catalog.Premium, gateway.Limits{NodeSubscriptions: limit})
	var all []store.User
	var ids []string
	for i := 0; i < targets; i++ {
		ids = append(ids, fmt.Sprintf("t%02d", i))
		all = append(all, store.User{UserID: ids[i]})
	}
	for i := 0; i < users; i++ {
		all = append(all, store.User{UserID: fmt.Sprintf("s%02d", i)})
	}
	if err := w.s.IM.ImportAccounts(context.Background(), w.app, all); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	accepted := make([]int, users)
	clients := make([]*client.Client, users)
	for i := 0; i < users; i++ {
		clients[i] = w.dial(fmt.Sprintf("s%02d", i), "Web")
	}
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < targets; j += 20 {
				_, _, err := clients[i].SubscribeStatus(ctx5(), ids[j:j+20]...)
				switch code(err) {
				case 0:
					accepted[i] += 20
				case errs.SessionsPerApp:
				default:
					t.Errorf("subscribe: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	sum := 0
	for i, n := range accepted {
		if got := len(w.s.Gateway.Subscriptions(w.app.SDKAppID, fmt.Sprintf("s%02d", i))); got != n {
			t.Errorf("s%02d holds %d subscriptions, %d accepted", i, got, n)
		}
		sum += n
	}
	if got := w.s.Gateway.SubscriptionCount(); got != sum || got > limit || got < limit-19 {
		t.Fatalf("node holds %d subscriptions (accepted %d), limit %d", got, sum, limit)
	}
	for _, c := range clients {
		c.Close()
	}
	waitFor(t, func() bool { return w.s.Gateway.SubscriptionCount() == 0 }, "subscriptions to end with their sessions")
}
