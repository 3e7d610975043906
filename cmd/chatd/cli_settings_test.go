package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

// TestCLIAppSettings: chatd app settings show|set through the operator API to the
// messaging service's settings.
func TestCLIAppSettings(t *testing.T) {
	data := t.TempDir()
	token, _, _, err := operator.LoadOrCreateToken(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(data, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	g := &gate.Gate{MAU: st, Clock: c}
	b := bus.NewLocal()
	w := im.NewWriter(st, b, 16, nil)
	t.Cleanup(func() { w.Close() })
	svc := im.New(st, c, g, w, b)
	tenants := &tenant.Service{Store: st, Clock: c}
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", operator.New(operator.Config{Tenants: tenants, Gate: g, Clock: c, Token: token, Settings: svc}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &cliTestServer{url: srv.URL, token: token, data: data, client: srv.Client(), store: st, clock: c}

	acc := s.jsonOK(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example")
	app := s.jsonOK(t, "app", "create", "--account", acc["id"].(string), "--name", "Chat")
	id := jsonInt(app["sdkappid"])

	got := s.jsonOK(t, "app", "settings", "show", "--sdkappid", id)
	if jsonKeys(got) != "sdkappid,settings" || got["settings"].(map[string]any)["friend_only_c2c"] != "off" {
		t.Fatalf("show = %v", got)
	}
	got = s.jsonOK(t, "app", "settings", "set", "--sdkappid", id, "--set", "friend_only_c2c=on")
	if got["settings"].(map[string]any)["friend_only_c2c"] != "on" {
		t.Fatalf("set = %v", got)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	a, err := tenants.GetApp(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if kv, err := svc.AppSettings(context.Background(), a); err != nil || kv[im.SettingFriendOnlyC2C] != "on" {
		t.Fatalf("the service reads %v, %v", kv, err)
	}
	// Refusals change nothing.
	for _, bad := range [][]string{
		{"app", "settings", "set", "--sdkappid", id, "--set", "friend_only_c2c=maybe"},
		{"app", "settings", "set", "--sdkappid", id, "--set", "friend_only_c2c=off", "--set", "nope=1"},
	} {
		if r := s.cli(t, bad...); r.code != 1 || !strings.Contains(r.stderr, "friend_only_c2c") {
			t.Fatalf("chatd %v: exit %d, %q", bad, r.code, r.stderr)
		}
	}
	if r := s.cli(t, "app", "settings", "--sdkappid", id); r.code != 2 || !strings.Contains(r.stderr, "show or set") {
		t.Fatalf("no subcommand: exit %d, %q", r.code, r.stderr)
	}
	if r := s.cli(t, "app", "settings", "set", "--sdkappid", id, "--set", "novalue"); r.code != 2 {
		t.Fatalf("--set without =: exit %d, %q", r.code, r.stderr)
	}
	if r := s.cli(t, "app", "settings", "show", "--sdkappid", "1499999999"); r.code != 1 {
		t.Fatalf("unknown app: exit %d, %q", r.code, r.stderr)
	}
	r := s.cli(t, "app", "settings", "show", "--sdkappid", id)
	if r.code != 0 || r.stdout != "App "+id+" settings:\n  friend_only_c2c = on\n" {
		t.Fatalf("human output: %d %q", r.code, r.stdout)
	}
}
