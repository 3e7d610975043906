package operator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/sqlstore"
	"github.com/chatd/chatd/internal/tenant"
)

// callbackEnv is env with app callbacks served (the default policy: public
// hosts only) and the commercial layer (to suspend accounts).
type callbackEnv struct {
	*env
	st *sqlstore.Store
}

func newCallbackEnv(t *testing.T) *callbackEnv {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	e := &callbackEnv{env: &env{t: t, clock: c, store: st}, st: st}
	e.tenants = &tenant.Service{Store: st, Clock: c}
	e.gate = &gate.Gate{MAU: st, Clock: c}
	p, err := sender.ParsePolicy("")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", New(Config{Tenants: e.tenants, Gate: e.gate, Clock: c, Token: testToken,
		Commerce: &commerce.Service{Store: st, Clock: c}, Callbacks: sender.NewConfigs(st, p, c), CallbackLog: st}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func cbPath(id int64) string { return fmt.Sprintf("/operator/v1/apps/%d/callback", id) }

// A PUT stores what GET shows; the token is never returned; a token left out is
// kept, "" removes it; "all" is every command; url "" turns callbacks off.
func TestCallbackRoundTrip(t *testing.T) {
	e := newCallbackEnv(t)
	id := e.app(e.account())
	m := e.want("GET", cbPath(id), "", 200)
	if m["url"] != "" || m["token_set"] != false || len(m["commands"].([]any)) != 0 || m["updated_at"] != "" || m["sdkappid"] != float64(id) {
		t.Fatalf("callback of a new app: %v", m)
	}
	body := `{"url":"https://hooks.example.com/im?x=1","token":"s3cret-token","commands":["C2C.CallbackAfterSendMsg","State.StateChange"]}`
	put := e.want("PUT", cbPath(id), body, 200)
	get := e.want("GET", cbPath(id), "", 200)
	for _, v := range []map[string]any{put, get} {
		if v["url"] != "https://hooks.example.com/im?x=1" || v["token_set"] != true || v["updated_at"] != "2026-11-20T10:30:00Z" ||
			fmt.Sprint(v["commands"]) != "[C2C.CallbackAfterSendMsg State.StateChange]" {
			t.Fatalf("after PUT: %v", v)
		}
		if strings.Contains(fmt.Sprint(v), "s3cret") || len(v) != 5 {
			t.Fatalf("answer shows the token or more than the view: %v", v)
		}
	}
	if c, _ := e.st.CallbackConfig(context.Background(), id); c.Token != "s3cret-token" {
		t.Fatalf("stored token %q", c.Token)
	}

	// Token and commands left out: kept. "all": every command.
	e.clock.Advance(time.Minute)
	m = e.want("PUT", cbPath(id), `{"url":"https://hooks2.example.com/cb"}`, 200)
	if m["url"] != "https://hooks2.example.com/cb" || m["token_set"] != true || len(m["commands"].([]any)) != 2 || m["updated_at"] != "2026-11-20T10:31:00Z" {
		t.Fatalf("PUT without token and commands: %v", m)
	}
	m = e.want("PUT", cbPath(id), `{"url":"https://hooks2.example.com/cb","commands":["all"]}`, 200)
	if got := m["commands"].([]any); len(got) != len(callback.Commands) {
		t.Fatalf(`"all" gave %d commands, want %d`, len(got), len(callback.Commands))
	}
	if c, _ := e.st.CallbackConfig(context.Background(), id); c.Token != "s3cret-token" {
		t.Fatalf("token after PUTs without one: %q", c.Token)
	}
	// "" removes the token; url "" turns callbacks off.
	m = e.want("PUT", cbPath(id), `{"url":"","token":""}`, 200)
	if m["url"] != "" || m["token_set"] != false {
		t.Fatalf("off: %v", m)
	}
	if c, _ := e.st.CallbackConfig(context.Background(), id); c.URL != "" || c.Token != "" {
		t.Fatalf("stored after off: %+v", c)
	}
	// The url left out: kept (here "", off); commands alone change.
	m = e.want("PUT", cbPath(id), `{"commands":["State.StateChange"]}`, 200)
	if m["url"] != "" || fmt.Sprint(m["commands"]) != "[State.StateChange]" {
		t.Fatalf("PUT of commands alone: %v", m)
	}

	// An app configured for the first time without commands gets every one.
	other := e.app(e.account())
	m = e.want("PUT", cbPath(other), `{"url":"https://hooks.example.com/im"}`, 200)
	if got := m["commands"].([]any); len(got) != len(callback.Commands) {
		t.Fatalf("first PUT without commands: %d commands, want all %d", len(got), len(callback.Commands))
	}
}

// Bad URLs, hosts the policy refuses, unknown commands, bad tokens and
// malformed bodies get 400 and change nothing.
func TestCallbackBadInputChangesNothing(t *testing.T) {
	e := newCallbackEnv(t)
	id := e.app(e.account())
	e.want("PUT", cbPath(id), `{"url":"https://hooks.example.com/a","token":"tok","commands":["State.StateChange"]}`, 200)
	before := e.want("GET", cbPath(id), "", 200)
	e.clock.Advance(time.Hour)
	for _, tc := range []struct{ body, want string }{
		{`{"url":"ftp://hooks.example.com/a"}`, "scheme"},
		{`{"url":"hooks.example.com/a"}`, "absolute"},
		{`{"url":"http://127.0.0.1:9000/cb"}`, "public addresses only"},
		{`{"url":"http://10.1.2.3/cb"}`, "public addresses only"},
		{`{"url":"http://localhost/cb"}`, "public addresses only"},
		{`{"url":"https://user:pw@hooks.example.com/a"}`, "user info"},
		{`{"url":"https://hooks.example.com/a","commands":["C2C.NoSuchCommand"]}`, "unknown command"},
		{`{"url":"https://hooks.example.com/a","token":"has space"}`, "token"},
		{`{"url":"https://hooks.example.com/a","extra":1}`, "unknown field"},
		{`{"url":5}`, "must be a string"},
		{`{"url":"https://hooks.example.com/` + strings.Repeat("a", 3000) + `"}`, "longer than"},
	} {
		code, m := e.do("PUT", cbPath(id), tc.body)
		if code != 400 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
			t.Errorf("PUT %.80s: %d %v, want 400 with %q", tc.body, code, m, tc.want)
		}
	}
	if after := e.want("GET", cbPath(id), "", 200); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("refused PUTs changed the callback: %v, was %v", after, before)
	}
	if c, _ := e.st.CallbackConfig(context.Background(), id); c.Token != "tok" {
		t.Fatalf("token after refused PUTs: %q", c.Token)
	}
	for _, q := range []string{"0", "201", "-1", "x"} {
		if code, m := e.do("GET", cbPath(id)+"/log?limit="+q, ""); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "limit must be 1 to 200") {
			t.Errorf("log limit %q: %d %v", q, code, m)
		}
	}
}

// A suspended app's callbacks cannot change (409 with the reason and what
// resumes it); they can still be read.
func TestCallbackSuspendedAppRefused(t *testing.T) {
	e := newCallbackEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.want("PUT", cbPath(id), `{"url":"https://hooks.example.com/a","commands":["all"]}`, 200)
	before := e.want("GET", cbPath(id), "", 200)
	e.want("POST", "/operator/v1/accounts/"+acc+"/suspend", `{"reason":"phishing links"}`, 200)
	code, m := e.do("PUT", cbPath(id), `{"url":""}`)
	msg := fmt.Sprint(m["error"])
	if code != 409 || !strings.Contains(msg, "suspended (violation)") || !strings.Contains(msg, "permanent") {
		t.Fatalf("PUT on a suspended app: %d %v", code, m)
	}
	if after := e.want("GET", cbPath(id), "", 200); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("refused PUT changed the callback: %v", after)
	}
	e.want("GET", cbPath(id)+"/log", "", 200)
}

// Unknown and deleted apps are not found; a bad SDKAppID is 400; wrong token 401.
func TestCallbackUnknownApp(t *testing.T) {
	e := newCallbackEnv(t)
	id := e.app(e.account())
	e.want("PUT", cbPath(id), `{"url":"https://hooks.example.com/a"}`, 200)
	e.want("DELETE", fmt.Sprintf("/operator/v1/apps/%d?confirm=%d", id, id), "", 200)
	for _, app := range []int64{id, 1999999999} {
		for _, r := range [][2]string{{"GET", cbPath(app)}, {"PUT", cbPath(app)}, {"GET", cbPath(app) + "/log"}} {
			body := ""
			if r[0] == "PUT" {
				body = `{"url":"https://hooks.example.com/b"}`
			}
			if code, m := e.do(r[0], r[1], body); code != 404 {
				t.Errorf("%s %s: %d %v, want 404", r[0], r[1], code, m)
			}
		}
	}
	if code, _ := e.do("GET", "/operator/v1/apps/abc/callback", ""); code != 400 {
		t.Errorf("bad SDKAppID: %d", code)
	}
	if code, _ := e.doAuth("GET", cbPath(id), "", "Bearer wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
}

// Without the callback services the routes answer 503.
func TestCallbackNotServed(t *testing.T) {
	e := newEnv(t)
	if code, _ := e.do("GET", "/operator/v1/apps/1400000001/callback", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("GET callback without the service: %d", code)
	}
}

// The log shows the store's newest entries first, at most limit, with the
// app's outbox backlog; another app's entries are not shown.
func TestCallbackLog(t *testing.T) {
	e := newCallbackEnv(t)
	acc := e.account()
	id, other := e.app(acc), e.app(acc)
	ctx := context.Background()
	m := e.want("GET", cbPath(id)+"/log", "", 200)
	if len(m["entries"].([]any)) != 0 || m["backlog"] != float64(0) {
		t.Fatalf("log of a new app: %v", m)
	}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var evs []store.CallbackEvent
	for i := range 3 {
		evs = append(evs, store.CallbackEvent{App: id, Command: callback.C2CAfterSendMsg, Body: []byte(`{}`), CreatedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	evs = append(evs, store.CallbackEvent{App: other, Command: callback.StateChange, Body: []byte(`{}`), CreatedAt: t0})
	if err := e.st.AppendCallbacks(ctx, evs); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.st.ClaimCallbacks(ctx, id, "n1", t0, time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	outs := []store.CallbackOutcome{{ID: claimed[0].ID, App: id, Done: true}, {ID: claimed[1].ID, App: id, NextAt: t0.Add(time.Minute), Error: "HTTP 500"}}
	log := []store.CallbackLogEntry{
		{App: id, Command: callback.C2CAfterSendMsg, At: t0.Add(1500 * time.Millisecond), Millis: 12, Status: 200, Result: "ok", Attempt: 1, EventID: claimed[0].ID},
		{App: id, Command: callback.C2CAfterSendMsg, At: t0.Add(2 * time.Second), Millis: 30, Status: 500, Result: "failed", Error: "HTTP 500", Attempt: 1, EventID: claimed[1].ID},
		{App: other, Command: callback.StateChange, At: t0.Add(3 * time.Second), Result: "timeout", Attempt: 1},
	}
	if err := e.st.FinishCallbacks(ctx, "n1", outs, log); err != nil {
		t.Fatal(err)
	}
	m = e.want("GET", cbPath(id)+"/log", "", 200)
	entries := m["entries"].([]any)
	if len(entries) != 2 || m["backlog"] != float64(2) {
		t.Fatalf("log: %v", m)
	}
	first := entries[0].(map[string]any)
	want := map[string]any{"command": callback.C2CAfterSendMsg, "at": "2026-11-20T10:00:02.000Z", "millis": float64(30), "status": float64(500),
		"result": "failed", "error": "HTTP 500", "attempt": float64(1)}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Fatalf("newest entry %v, want %v", first, want)
	}
	if entries[1].(map[string]any)["at"] != "2026-11-20T10:00:01.500Z" {
		t.Fatalf("second entry %v", entries[1])
	}
	m = e.want("GET", cbPath(id)+"/log?limit=1", "", 200)
	if got := m["entries"].([]any); len(got) != 1 || !slices.Equal([]string{fmt.Sprint(got[0])}, []string{fmt.Sprint(first)}) {
		t.Fatalf("limit=1: %v", m)
	}
}
