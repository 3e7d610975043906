package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
	"github.com/chatd/chatd/protocol"
)

// statusWorld is one node with an app on a given edition (bought through
// commerce, as a customer would) and the users alice, bob and carol.
type statusWorld struct {
	t   *testing.T
	s   *Server
	hs  *httptest.Server
	c   *clock.Manual
	app store.App
	acc string
}

func newStatusWorld(t *testing.T, st store.Store, edition string, lim gateway.Limits) *statusWorld {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour, Sessions: lim})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	w := &statusWorld{t: t, s: s, hs: hs, c: c, acc: acc.ID}
	w.app = w.newApp(edition, "alice", "bob", "carol")
	return w
}

// newApp creates an app of the account on edition with users.
func (w *statusWorld) newApp(edition string, users ...string) store.App {
	t, ctx := w.t, context.Background()
	app, err := w.s.Tenants.CreateApp(ctx, w.acc, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	if edition != catalog.Trial {
		if _, err := w.s.Commerce.TopUp(ctx, commerce.TopUpRequest{AccountID: w.acc, Cash: 100_000}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Commerce.Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: edition, Months: 1, AgreementAccepted: true}); err != nil {
			t.Fatal(err)
		}
		if app, err = w.s.Tenants.GetApp(ctx, app.SDKAppID); err != nil {
			t.Fatal(err)
		}
		if app.Edition != edition {
			t.Fatalf("app edition %q after buying %q", app.Edition, edition)
		}
	}
	var us []store.User
	for _, u := range users {
		us = append(us, store.User{UserID: u})
	}
	if len(us) > 0 {
		if err := w.s.IM.ImportAccounts(ctx, app, us); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

func (w *statusWorld) url() string { return "ws" + strings.TrimPrefix(w.hs.URL, "http") + "/v1/ws" }

func (w *statusWorld) sig(app store.App, user string) string {
	s, err := usersig.Gen(app.SDKAppID, app.SecretKey, user, 86400, w.c.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *statusWorld) dial(user, platform string) *client.Client {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, w.url(), client.Options{SDKAppID: w.app.SDKAppID, User: user, UserSig: w.sig(w.app, user), Platform: platform})
	if err != nil {
		w.t.Fatalf("login %s on %s: %v", user, platform, err)
	}
	w.t.Cleanup(func() { cl.Close() })
	return cl
}

// rest calls a REST command as the app's admin and decodes the answer.
func (w *statusWorld) rest(cmd string, body any) map[string]any {
	w.t.Helper()
	admin, _ := usersig.Gen(w.app.SDKAppID, w.app.SecretKey, w.app.AdminUser, 86400, w.c.Now())
	url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json", w.hs.URL, cmd, w.app.SDKAppID, w.app.AdminUser, admin)
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func code(err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

func ctx5() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = cancel // ends with the timeout; tests are short
	return ctx
}

func alive(t *testing.T, c *client.Client, what string) {
	t.Helper()
	if err := c.Ping(ctx5()); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func ended(t *testing.T, c *client.Client, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s kept its session", what)
	}
}

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

// The edition matrix of this stream's features, through the real WebSocket and
// REST API, on both stores: login capabilities, user status (custom status,
// subscriptions, query_online_status with IsReturnCustomStatus) and the
// multi-device policy.
func TestStatusEditionMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, tt := range []struct {
			edition  string
			status   bool // user status served
			replaces bool // a same-platform login ends the older session
		}{
			{catalog.Trial, true, false},
			{catalog.Standard, false, true},
			{catalog.Premium, true, false},
		} {
			t.Run(tt.edition, func(t *testing.T) {
				w := newStatusWorld(t, open(t), tt.edition, gateway.Limits{})
				alice := w.dial("alice", "Web")

				caps := alice.Capabilities()
				if caps.Edition != tt.edition {
					t.Fatalf("login edition %q, want %q", caps.Edition, tt.edition)
				}
				for f, want := range map[string]bool{
					string(catalog.UserStatus):          tt.status,
					string(catalog.LocalSearch):         tt.status, // same editions as user status
					string(catalog.MultiDeviceSamePlat): !tt.replaces,
					string(catalog.ConversationMarks):   tt.status,
					string(catalog.PushToAll):           tt.edition == catalog.Trial,
				} {
					if caps.Has(f) != want {
						t.Errorf("login features %v: %s = %v, want %v", caps.Features, f, caps.Has(f), want)
					}
				}

				wantRefusal := func(what string, got int, msg string) {
					t.Helper()
					if tt.status && got != 0 {
						t.Fatalf("%s: code %d (%s), want success", what, got, msg)
					}
					if !tt.status && got != errs.FeatureNotInEdition {
						t.Fatalf("%s: code %d, want %d", what, got, errs.FeatureNotInEdition)
					}
					if !tt.status && (!strings.Contains(msg, "Standard") || !strings.Contains(msg, "Free Trial and Premium")) {
						t.Fatalf("%s: message %q does not name the edition and the editions that have it", what, msg)
					}
				}
				msgOf := func(err error) string {
					var ce *client.Error
					if errors.As(err, &ce) {
						return ce.Message
					}
					return fmt.Sprint(err)
				}
				err := alice.SetCustomStatus(ctx5(), "busy")
				wantRefusal("set_status", code(err), msgOf(err))
				_, _, err = alice.SubscribeStatus(ctx5(), "bob")
				wantRefusal("subscribe_status", code(err), msgOf(err))
				err = alice.UnsubscribeStatus(ctx5(), "bob")
				wantRefusal("unsubscribe_status", code(err), msgOf(err))
				out := w.rest("openim/query_online_status", map[string]any{"To_Account": []string{"alice"}, "IsReturnCustomStatus": 1})
				wantRefusal("query_online_status IsReturnCustomStatus", int(out["ErrorCode"].(float64)), fmt.Sprint(out["ErrorInfo"]))
				if tt.status {
					r := out["QueryResult"].([]any)[0].(map[string]any)
					if r["CustomStatus"] != "busy" || r["Status"] != "Online" {
						t.Fatalf("query_online_status = %v, want Online and CustomStatus busy", r)
					}
				}
				if !tt.status && len(w.s.Gateway.Subscriptions(w.app.SDKAppID, "alice")) != 0 {
					t.Fatal("a refused subscribe left a subscription")
				}

				// Multi-device: another platform always coexists; a second Web login
				// ends the first only on Standard.
				ios := w.dial("alice", "iOS")
				web2 := w.dial("alice", "Web")
				if tt.replaces {
					ended(t, alice, "first Web device")
					if !strings.Contains(alice.Kicked(), "another Web device") {
						t.Fatalf("kicked reason %q", alice.Kicked())
					}
				} else {
					alive(t, alice, "first Web device")
				}
				alive(t, ios, "iOS device")
				alive(t, web2, "second Web device")
				out = w.rest("openim/query_online_status", map[string]any{"To_Account": []string{"alice"}, "IsNeedDetail": 1})
				if out["ErrorCode"].(float64) != 0 {
					t.Fatalf("query_online_status: %v", out)
				}
				detail := out["QueryResult"].([]any)[0].(map[string]any)["Detail"].([]any)
				want := 3
				if tt.replaces {
					want = 2
				}
				if len(detail) != want {
					t.Fatalf("Detail = %v, want %d devices", detail, want)
				}
				if !containsDetail(detail, "iPhone", "Online") || !containsDetail(detail, "Web", "Online") {
					t.Fatalf("Detail = %v, want iPhone and Web Online (the reference's platform names)", detail)
				}
			})
		}
	})
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
		w := newStatusWorld(t, open(t), catalog.Premium, gateway.Limits{})
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

// waitFor polls cond (the server's side of a close runs after the client's).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Bad input to the status ops gets the reference's codes and changes nothing.
func TestStatusBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newStatusWorld(t, open(t), catalog.Trial, gateway.Limits{NodeSubscriptions: im.MaxStatusSubscriptions + 1})
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
			w := newStatusWorld(t, testdb.SQLite(t), tt.edition, gateway.Limits{})
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
	w := newStatusWorld(t, testdb.SQLite(t), catalog.Premium, gateway.Limits{NodeSubscriptions: limit})
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
