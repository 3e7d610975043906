package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/usersig"
)

// The helpers the server tests share: a REST call as an app's admin and a
// WebSocket login, both over the real edges of an httptest server.

// adminCall posts body to base's /v4/cmd as app's admin, with a UserSig made
// at now, and returns the raw answer.
func adminCall(t testing.TB, base string, app store.App, now time.Time, cmd string, body []byte) []byte {
	t.Helper()
	sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, app.AdminUser, 86400, now)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json", base, cmd, app.SDKAppID, app.AdminUser, sig)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// dialUser logs user of app in on platform over base's WebSocket endpoint
// (UserSig made at now), resuming after seq after; the client closes with the
// test.
func dialUser(t testing.TB, base string, app store.App, now time.Time, user, platform string, after int64) (*client.Client, error) {
	sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, user, 86400, now)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws",
		client.Options{SDKAppID: app.SDKAppID, User: user, UserSig: sig, Platform: platform, After: after})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { cl.Close() })
	return cl, nil
}

// world is one node (a real Server behind an httptest server) with one
// account. app is the app the world's helpers act on: newWorld makes it on a
// given edition with the users alice, bob and carol; newApp adds more apps.
type world struct {
	t   testing.TB
	s   *Server
	hs  *httptest.Server
	c   *clock.Manual
	app store.App
	acc string
}

// newNode is a world without an app yet.
func newNode(t testing.TB, st store.Store, lim gateway.Limits) *world {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour, Sessions: lim})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	acc, err := s.Tenants.CreateAccount(context.Background(), "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, s: s, hs: hs, c: c, acc: acc.ID}
}

func newWorld(t testing.TB, st store.Store, edition string, lim gateway.Limits) *world {
	t.Helper()
	w := newNode(t, st, lim)
	w.app = w.newApp(edition, "alice", "bob", "carol")
	return w
}

// newApp creates an app of the account on edition with users.
func (w *world) newApp(edition string, users ...string) store.App {
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
	for len(us) > 0 {
		k := min(len(us), im.MaxBatchAccounts)
		if err := w.s.IM.ImportAccounts(ctx, app, us[:k]); err != nil {
			t.Fatal(err)
		}
		us = us[k:]
	}
	return app
}

func (w *world) url() string { return "ws" + strings.TrimPrefix(w.hs.URL, "http") + "/v1/ws" }

func (w *world) sig(app store.App, user string) string {
	s, err := usersig.Gen(app.SDKAppID, app.SecretKey, user, 86400, w.c.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) dial(user, platform string) *client.Client {
	w.t.Helper()
	cl, err := dialUser(w.t, w.hs.URL, w.app, w.c.Now(), user, platform, 0)
	if err != nil {
		w.t.Fatalf("login %s on %s: %v", user, platform, err)
	}
	return cl
}

// rest calls a REST command as the app's admin and decodes the answer.
func (w *world) rest(cmd string, body any) map[string]any {
	w.t.Helper()
	b, _ := json.Marshal(body)
	var out map[string]any
	if err := json.Unmarshal(adminCall(w.t, w.hs.URL, w.app, w.c.Now(), cmd, b), &out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// clientErr is a WebSocket reply's code and message: 0 for nil, -1 for an
// error that is not a reply.
func clientErr(err error) (int, string) {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code, ce.Message
	}
	if err != nil {
		return -1, err.Error()
	}
	return 0, ""
}

// code is clientErr's code.
func code(err error) int { c, _ := clientErr(err); return c }

// ctx5 is a context for one call.
func ctx5() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = cancel // ends with the timeout; tests are short
	return ctx
}

// tctx is a context for the whole test.
func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
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
