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
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

// node is a server over a shared store, as one of several nodes.
func node(t *testing.T, st store.Store, c *clock.Manual) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

// A kick through REST refuses, on every node, a login with a UserSig made before
// it (70052); a sig made at the kick or later logs in.
func TestKickInvalidatesEarlierUserSigs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
		a, hsA := node(t, st, c)
		_, hsB := node(t, st, c)
		ctx := context.Background()
		acc, err := a.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
		if err != nil {
			t.Fatal(err)
		}
		app, err := a.Tenants.CreateApp(ctx, acc.ID, "chat", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}}); err != nil {
			t.Fatal(err)
		}
		sig := func() string {
			s, err := usersig.Gen(app.SDKAppID, app.SecretKey, "alice", 86400, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		login := func(hs *httptest.Server, sig string) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			cl, err := client.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/v1/ws",
				client.Options{SDKAppID: app.SDKAppID, User: "alice", UserSig: sig, Platform: "Web"})
			if err == nil {
				cl.Close()
			}
			return err
		}
		before := sig()
		if err := login(hsA, before); err != nil {
			t.Fatalf("login before the kick: %v", err)
		}
		c.Advance(90 * time.Second)
		admin, _ := usersig.Gen(app.SDKAppID, app.SecretKey, app.AdminUser, 86400, c.Now())
		url := fmt.Sprintf("%s/v4/im_open_login_svc/kick?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json",
			hsA.URL, app.SDKAppID, app.AdminUser, admin)
		resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(`{"UserID":"alice"}`)))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ ErrorCode int }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out.ErrorCode != 0 {
			t.Fatalf("kick: ErrorCode %d", out.ErrorCode)
		}
		atKick := sig()
		c.Advance(time.Second)
		for name, hs := range map[string]*httptest.Server{"node A": hsA, "node B": hsB} {
			var ce *client.Error
			if err := login(hs, before); !errors.As(err, &ce) || ce.Code != errs.SigKicked {
				t.Fatalf("%s: login with a sig made before the kick: %v, want %d", name, err, errs.SigKicked)
			}
			if err := login(hs, atKick); err != nil {
				t.Fatalf("%s: login with a sig made at the kick: %v", name, err)
			}
			if err := login(hs, sig()); err != nil {
				t.Fatalf("%s: login with a sig made after the kick: %v", name, err)
			}
		}
	})
}
