package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

// TestCLIAppCallback: chatd app callback set|off|show|log through the operator
// API to the callback settings and log in the store.
func TestCLIAppCallback(t *testing.T) {
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
	p, err := sender.ParsePolicy("*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", operator.New(operator.Config{Tenants: &tenant.Service{Store: st, Clock: c}, Gate: g, Clock: c, Token: token,
		Callbacks: sender.NewConfigs(st, p, c), CallbackLog: st}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &cliTestServer{url: srv.URL, token: token, data: data, client: srv.Client(), store: st, clock: c}
	ctx := context.Background()

	acc := s.jsonOK(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example")
	id := jsonInt(s.jsonOK(t, "app", "create", "--account", acc["id"].(string), "--name", "Chat")["sdkappid"])
	n, _ := strconv.ParseInt(id, 10, 64)

	// The token from the environment; never printed.
	r := s.run(t, map[string]string{callbackTokenEnv: "env-token-1"}, "--server", s.url, "--data", s.data,
		"app", "callback", "set", "--sdkappid", id, "--url", "https://hooks.example.com/im", "--events", "C2C.CallbackAfterSendMsg, State.StateChange")
	if r.code != 0 || strings.Contains(r.stdout, "env-token") ||
		!strings.Contains(r.stdout, "URL:       https://hooks.example.com/im") || !strings.Contains(r.stdout, "Token:     set (requests are signed)") ||
		!strings.Contains(r.stdout, "Events:    C2C.CallbackAfterSendMsg, State.StateChange") {
		t.Fatalf("set: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if cfg, _ := st.CallbackConfig(ctx, n); cfg.Token != "env-token-1" || cfg.URL != "https://hooks.example.com/im" {
		t.Fatalf("stored %+v", cfg)
	}
	// --callback-token wins over the environment; without either the token is kept.
	s.run(t, map[string]string{callbackTokenEnv: "env-token-2"}, "--server", s.url, "--data", s.data,
		"app", "callback", "set", "--sdkappid", id, "--url", "https://hooks.example.com/im", "--callback-token", "flag-token")
	if cfg, _ := st.CallbackConfig(ctx, n); cfg.Token != "flag-token" || len(cfg.Commands) != 2 {
		t.Fatalf("after --callback-token: %+v", cfg)
	}
	got := s.jsonOK(t, "app", "callback", "set", "--sdkappid", id, "--url", "https://b.example.com/cb", "--events", "all")
	if jsonKeys(got) != "commands,sdkappid,token_set,updated_at,url" || got["token_set"] != true || len(got["commands"].([]any)) != len(callback.Commands) {
		t.Fatalf("set all: %v", got)
	}
	if cfg, _ := st.CallbackConfig(ctx, n); cfg.Token != "flag-token" {
		t.Fatalf("token not kept: %+v", cfg)
	}
	// Refusals: the server's message, exit 1, nothing changed.
	for _, bad := range [][]string{
		{"app", "callback", "set", "--sdkappid", id, "--url", "https://evil.test/cb"},
		{"app", "callback", "set", "--sdkappid", id, "--url", "https://b.example.com/cb", "--events", "Nope.Nope"},
	} {
		if r := s.cli(t, bad...); r.code != 1 || !strings.Contains(r.stderr, "(HTTP 400)") {
			t.Fatalf("chatd %v: %d %q", bad, r.code, r.stderr)
		}
	}
	if cfg, _ := st.CallbackConfig(ctx, n); cfg.URL != "https://b.example.com/cb" || len(cfg.Commands) != len(callback.Commands) {
		t.Fatalf("refusals changed %+v", cfg)
	}
	// Without --url the URL is kept; --events alone changes the events.
	if r := s.cli(t, "app", "callback", "set", "--sdkappid", id, "--events", "State.StateChange"); r.code != 0 {
		t.Fatalf("set without --url: %d %q", r.code, r.stderr)
	}
	if cfg, _ := st.CallbackConfig(ctx, n); cfg.URL != "https://b.example.com/cb" || fmt.Sprint(cfg.Commands) != "[State.StateChange]" {
		t.Fatalf("set --events alone: %+v", cfg)
	}
	if r := s.cli(t, "app", "callback", "log", "--sdkappid", id, "--limit", "500"); r.code != 2 {
		t.Fatalf("log --limit 500: %d %q", r.code, r.stderr)
	}

	// The log: a table, newest first, and the backlog.
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if err := st.AppendCallbacks(ctx, []store.CallbackEvent{{App: n, Command: callback.StateChange, Body: []byte(`{}`), CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishCallbacks(ctx, "n1", nil, []store.CallbackLogEntry{
		{App: n, Command: callback.C2CBeforeSendMsg, At: t0, Millis: 2000, Result: "timeout", Error: "no answer\nwithin 2s", Attempt: 1},
		{App: n, Command: callback.C2CAfterSendMsg, At: t0.Add(time.Second), Millis: 15, Status: 200, Result: "ok", Attempt: 2},
	}); err != nil {
		t.Fatal(err)
	}
	r = s.cli(t, "app", "callback", "log", "--sdkappid", id)
	want := "TIME                      COMMAND                    RESULT   STATUS  MS    ATTEMPT  ERROR\n" +
		"2026-11-20T10:00:01.000Z  C2C.CallbackAfterSendMsg   ok       200     15    2\n" +
		"2026-11-20T10:00:00.000Z  C2C.CallbackBeforeSendMsg  timeout  -       2000  1        no answer within 2s\n" +
		"Backlog: 1 after-events waiting for delivery.\n"
	if r.code != 0 || !equalTrimmed(r.stdout, want) {
		t.Fatalf("log:\n%s\nwant:\n%s", r.stdout, want)
	}
	if got := s.jsonOK(t, "app", "callback", "log", "--sdkappid", id, "--limit", "1"); len(got["entries"].([]any)) != 1 || got["backlog"] != float64(1) {
		t.Fatalf("log --limit 1: %v", got)
	}

	// off clears the URL; show says so.
	if r := s.cli(t, "app", "callback", "off", "--sdkappid", id); r.code != 0 || !strings.Contains(r.stdout, "Callbacks:  off") {
		t.Fatalf("off: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.cli(t, "app", "callback", "show", "--sdkappid", id); r.code != 0 || !strings.Contains(r.stdout, "Callbacks:  off") || strings.Contains(r.stdout, "flag-token") {
		t.Fatalf("show: %d %q", r.code, r.stdout)
	}
	if r := s.cli(t, "app", "callback", "show", "--sdkappid", "1499999999"); r.code != 1 || !strings.Contains(r.stderr, "HTTP 404") {
		t.Fatalf("unknown app: %d %q", r.code, r.stderr)
	}
}

// equalTrimmed compares texts line by line without trailing spaces.
func equalTrimmed(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if strings.TrimRight(la[i], " ") != strings.TrimRight(lb[i], " ") {
			return false
		}
	}
	return true
}

// A log error quoting a receiver's answer cannot drive the terminal.
func TestOneLineDropsControls(t *testing.T) {
	if got := oneLine("a\x1b[2J\x1b]0;owned\x07 b\nc\u009bd"); got != "a [2J ]0;owned b c d" {
		t.Fatalf("oneLine = %q", got)
	}
}
