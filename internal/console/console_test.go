package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/console"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usage"
	"github.com/chatd/chatd/internal/usersig"
)

var ctx = context.Background()

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const opToken = "operator-token-for-tests"

type env struct {
	t       *testing.T
	h       http.Handler
	st      store.Store
	clk     *clock.Manual
	tenants *tenant.Service
	gate    *gate.Gate
	com     *commerce.Service
	usage   *usage.Recorder
}

func newEnv(t *testing.T, open testdb.Opener) *env {
	return newEnvWith(t, open, nil)
}

// newEnvWith builds the console over a fresh store; wrap, when set, wraps the
// store the sign-in service uses.
func newEnvWith(t *testing.T, open testdb.Opener, wrap func(store.Console) store.Console) *env {
	st := open(t)
	c := clock.NewManual(t0)
	ten := &tenant.Service{Store: st, Clock: c}
	var cs store.Console = st
	if wrap != nil {
		cs = wrap(st)
	}
	a := auth.New(auth.Config{Store: cs, Tenants: ten, Clock: c, OperatorToken: opToken,
		Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	g := &gate.Gate{MAU: st, Clock: c}
	com := &commerce.Service{Store: st, Clock: c}
	pol, err := sender.ParsePolicy("")
	if err != nil {
		t.Fatal(err)
	}
	rec := usage.New(st, c, nil)
	return &env{t: t, st: st, clk: c, tenants: ten, gate: g, com: com, usage: rec,
		h: console.New(console.Config{Auth: a, Tenants: ten, Gate: g, Accounts: st, Clock: c,
			Commerce: com, Callbacks: sender.NewConfigs(st, pol, c), Daily: rec})}
}

// client is a browser: its session cookie, CSRF token and address.
type client struct {
	cookie string
	csrf   string
	ip     string
	tls    bool
}

type resp struct {
	code int
	body map[string]any
	raw  string
	hdr  http.Header
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

// do sends a request as c (nil: no cookie); body is sent as it is with
// Content-Type application/json unless ctype says otherwise.
func (e *env) do(c *client, method, path, body string, hdr ...string) resp {
	e.t.Helper()
	scheme := "http"
	if c != nil && c.tls {
		scheme = "https"
	}
	req := httptest.NewRequest(method, scheme+"://chatd.test"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c != nil {
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: console.CookieName, Value: c.cookie})
		}
		if c.csrf != "" {
			req.Header.Set(console.CSRFHeader, c.csrf)
		}
		if c.ip != "" {
			req.RemoteAddr = c.ip + ":1234"
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	res := w.Result()
	raw, _ := io.ReadAll(res.Body)
	out := resp{code: res.StatusCode, raw: string(raw), hdr: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	if c != nil {
		for _, ck := range res.Cookies() {
			if ck.Name == console.CookieName {
				c.cookie = ck.Value
				if ck.MaxAge < 0 {
					c.cookie = ""
				}
			}
		}
		if tok := out.str("csrf_token"); tok != "" {
			c.csrf = tok
		}
	}
	return out
}

func (e *env) want(r resp, code int, what string) {
	e.t.Helper()
	if r.code != code {
		e.t.Fatalf("%s: status %d, want %d: %s", what, r.code, code, r.raw)
	}
	if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if code >= 400 && r.str("error") == "" {
		e.t.Fatalf("%s: error without a message: %s", what, r.raw)
	}
}

// signUp signs up a new customer and returns their browser and account id.
func (e *env) signUp(name, email string) (*client, string) {
	e.t.Helper()
	c := &client{ip: "192.0.2.10"}
	r := e.do(c, "POST", "/console/v1/signup", fmt.Sprintf(`{"name":%q,"email":%q,"password":"password1"}`, name, email))
	e.want(r, 201, "sign-up")
	acc, _ := r.body["account"].(map[string]any)
	id, _ := acc["id"].(string)
	if c.cookie == "" || c.csrf == "" || id == "" {
		e.t.Fatalf("sign-up gave no session: %s", r.raw)
	}
	return c, id
}

func (e *env) operator() *client {
	e.t.Helper()
	c := &client{ip: "192.0.2.99"}
	e.want(e.do(c, "POST", "/console/v1/signin/operator", `{"token":"`+opToken+`"}`), 200, "operator sign-in")
	return c
}

func (e *env) createApp(c *client, name string) int64 {
	e.t.Helper()
	r := e.do(c, "POST", "/console/v1/apps", fmt.Sprintf(`{"name":%q,"region":"tokyo"}`, name))
	e.want(r, 201, "create app")
	return int64(r.body["sdkappid"].(float64))
}

func TestSignUpMeAndApps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		ann, annID := e.signUp("Ann", "Ann@Example.com")
		me := e.do(ann, "GET", "/console/v1/me", "")
		e.want(me, 200, "me")
		acc := me.body["account"].(map[string]any)
		if acc["id"] != annID || acc["email"] != "ann@example.com" || acc["name"] != "Ann" || me.body["operator"] != false {
			t.Fatalf("me = %s", me.raw)
		}
		e.want(e.do(ann, "GET", "/console/v1/accounts/"+annID, ""), 200, "own account")

		id := e.createApp(ann, "Chat")
		// MAU: one user logs in this month.
		app, _ := e.tenants.GetApp(ctx, id)
		if err := e.gate.AdmitLogin(ctx, app, "alice"); err != nil {
			t.Fatal(err)
		}
		ov := e.do(ann, "GET", fmt.Sprint("/console/v1/apps/", id), "")
		e.want(ov, 200, "overview")
		mau := ov.body["mau"].(map[string]any)
		if ov.body["status"] != "active" || ov.body["edition"] != "trial" || ov.body["region"] != "tokyo" ||
			ov.body["created_at"] != "2026-11-30T12:00:00Z" || ov.body["expires_at"] != "2026-12-30T12:00:00Z" ||
			mau["month"] != "2026-11" || mau["used"] != 1.0 || mau["free"] != 100.0 || mau["cap"] != 100.0 {
			t.Fatalf("overview = %s", ov.raw)
		}
		if _, leaked := ov.body["secret_key"]; leaked {
			t.Fatal("the overview carries the secret key")
		}
		list := e.do(ann, "GET", "/console/v1/apps", "")
		e.want(list, 200, "list")
		if apps := list.body["apps"].([]any); len(apps) != 1 || apps[0].(map[string]any)["sdkappid"] != float64(id) {
			t.Fatalf("list = %s", list.raw)
		}

		sec := e.do(ann, "POST", fmt.Sprint("/console/v1/apps/", id, "/secret"), "")
		e.want(sec, 200, "secret")
		if sec.str("secret_key") != app.SecretKey {
			t.Fatalf("secret = %s", sec.raw)
		}
		sig := e.do(ann, "POST", fmt.Sprint("/console/v1/apps/", id, "/usersig"), `{"user":"alice","expire":3600}`)
		e.want(sig, 200, "usersig")
		if err := usersig.Verify(id, app.SecretKey, "alice", sig.str("usersig"), t0); err != nil || sig.body["expire"] != 3600.0 {
			t.Fatalf("usersig %s: %v", sig.raw, err)
		}

		// Deletion needs the typed SDKAppID.
		e.want(e.do(ann, "DELETE", fmt.Sprint("/console/v1/apps/", id), ""), 400, "delete without confirmation")
		e.want(e.do(ann, "DELETE", fmt.Sprint("/console/v1/apps/", id), fmt.Sprintf(`{"confirm":"%d"}`, id+1)), 400, "delete with another id")
		if _, err := e.tenants.GetApp(ctx, id); err != nil {
			t.Fatalf("app gone after refused deletions: %v", err)
		}
		e.want(e.do(ann, "DELETE", fmt.Sprint("/console/v1/apps/", id), fmt.Sprintf(`{"confirm":"%d"}`, id)), 200, "delete")
		e.want(e.do(ann, "GET", fmt.Sprint("/console/v1/apps/", id), ""), 404, "deleted app")

		// The same email again (any case) is taken.
		r := e.do(&client{}, "POST", "/console/v1/signup", `{"name":"X","email":"ANN@example.com","password":"password2"}`)
		e.want(r, 409, "taken email")
	})
}

func TestCookieFlags(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	for _, tls := range []bool{false, true} {
		for _, path := range []string{"/console/v1/signup", "/console/v1/signin"} {
			c := &client{tls: tls, ip: "192.0.2.1"}
			body := `{"name":"Ann","email":"ann@example.com","password":"password1"}`
			if path == "/console/v1/signin" {
				body = `{"email":"ann@example.com","password":"password1"}`
			} else if tls {
				body = strings.Replace(body, "ann@", "ann2@", 1)
			}
			req := httptest.NewRequest("POST", map[bool]string{false: "http", true: "https"}[tls]+"://chatd.test"+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = c.ip + ":1"
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code >= 300 {
				t.Fatalf("%s (tls %v): %d %s", path, tls, w.Code, w.Body)
			}
			cks := w.Result().Cookies()
			if len(cks) != 1 {
				t.Fatalf("%d cookies", len(cks))
			}
			ck := cks[0]
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tls || ck.Path != "/console/" ||
				ck.MaxAge != int(auth.DefaultSessionTTL/time.Second) || len(ck.Value) != 43 {
				t.Fatalf("%s (tls %v): cookie %+v", path, tls, ck)
			}
			if got := w.Result().Header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control %q", got)
			}
		}
	}
}

// TestCSRF: every state-changing route, in a valid session, without the
// session's CSRF token (none, wrong, another session's) is refused with 403
// and changes nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	ann, _ := e.signUp("Ann", "ann@example.com")
	bob, _ := e.signUp("Bob", "bob@example.com")
	id := e.createApp(ann, "Chat")
	routes := []struct{ method, path, body string }{
		{"POST", "/console/v1/apps", `{"name":"Other"}`},
		{"DELETE", fmt.Sprint("/console/v1/apps/", id), fmt.Sprintf(`{"confirm":%d}`, id)},
		{"POST", fmt.Sprint("/console/v1/apps/", id, "/secret"), ``},
		{"POST", fmt.Sprint("/console/v1/apps/", id, "/usersig"), `{"user":"alice"}`},
		{"POST", "/console/v1/signout", ``},
	}
	wrong := "0" + ann.csrf[1:] // ann's token with its first digit changed
	if ann.csrf[0] == '0' {
		wrong = "1" + ann.csrf[1:]
	}
	for _, tok := range []string{"", wrong, bob.csrf, strings.ToUpper(ann.csrf)} {
		for _, rt := range routes {
			c := &client{cookie: ann.cookie, csrf: tok}
			r := e.do(c, rt.method, rt.path, rt.body)
			e.want(r, 403, fmt.Sprintf("%s %s with token %q", rt.method, rt.path, tok))
			if r.str("secret_key") != "" || r.str("usersig") != "" {
				t.Fatalf("refused request answered: %s", r.raw)
			}
		}
	}
	// Nothing changed: one app, still there, the session still live.
	list := e.do(ann, "GET", "/console/v1/apps", "")
	e.want(list, 200, "list")
	if n := len(list.body["apps"].([]any)); n != 1 {
		t.Fatalf("%d apps after refused requests", n)
	}
	e.want(e.do(ann, "GET", "/console/v1/me", ""), 200, "session after refused sign-out")
	// GET needs no token.
	e.want(e.do(&client{cookie: ann.cookie}, "GET", fmt.Sprint("/console/v1/apps/", id), ""), 200, "GET without a token")
}

// TestSessionFixation: every sign-in makes a new session id and ends the one
// the browser held; a signed-out id is refused.
func TestSessionFixation(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	c, _ := e.signUp("Ann", "ann@example.com")
	first, firstCSRF := c.cookie, c.csrf
	e.want(e.do(c, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`), 200, "sign-in")
	if c.cookie == first || c.csrf == firstCSRF {
		t.Fatal("sign-in kept the session id")
	}
	e.want(e.do(&client{cookie: first}, "GET", "/console/v1/me", ""), 401, "the id held before sign-in")

	// A planted id (one the attacker made) is replaced too.
	mallory, _ := e.signUp("Mallory", "mallory@example.com")
	planted := &client{cookie: mallory.cookie}
	r := e.do(planted, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`)
	e.want(r, 200, "sign-in with a planted id")
	if planted.cookie == mallory.cookie || r.body["account"].(map[string]any)["email"] != "ann@example.com" {
		t.Fatal("sign-in kept the planted id")
	}
	e.want(e.do(mallory, "GET", "/console/v1/me", ""), 401, "the planted id")
	e.want(e.do(c, "GET", "/console/v1/me", ""), 200, "ann's other session")

	// Operator sign-in also makes a new id.
	before := planted.cookie
	e.want(e.do(planted, "POST", "/console/v1/signin/operator", `{"token":"`+opToken+`"}`), 200, "operator sign-in")
	if planted.cookie == before {
		t.Fatal("operator sign-in kept the id")
	}
	e.want(e.do(&client{cookie: before}, "GET", "/console/v1/me", ""), 401, "the id before the operator's sign-in")

	// Sign-out: the cookie is cleared and the id refused from then on.
	old := planted.cookie
	r = e.do(planted, "POST", "/console/v1/signout", "")
	e.want(r, 200, "sign-out")
	if planted.cookie != "" {
		t.Fatal("sign-out did not clear the cookie")
	}
	e.want(e.do(&client{cookie: old}, "GET", "/console/v1/me", ""), 401, "signed-out id")

	// Expiry.
	c2, _ := e.signUp("Zed", "zed@example.com")
	e.clk.Advance(auth.DefaultSessionTTL)
	e.want(e.do(c2, "GET", "/console/v1/me", ""), 401, "expired session")
}

// TestForeignApp: every app route with another account's SDKAppID answers
// 404, like a missing app, and changes nothing; the operator may act.
func TestForeignApp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		ann, _ := e.signUp("Ann", "ann@example.com")
		bob, bobID := e.signUp("Bob", "bob@example.com")
		id := e.createApp(bob, "Bob's")
		before, _ := e.tenants.GetApp(ctx, id)
		p := fmt.Sprint("/console/v1/apps/", id)
		for _, rt := range []struct{ method, path, body string }{
			{"GET", p, ""},
			{"DELETE", p, fmt.Sprintf(`{"confirm":%d}`, id)},
			{"POST", p + "/secret", ""},
			{"POST", p + "/usersig", `{"user":"alice","expire":60}`},
			{"GET", "/console/v1/apps?account=" + bobID, ""},
			{"POST", "/console/v1/apps", `{"name":"Planted","account":"` + bobID + `"}`},
			{"GET", "/console/v1/accounts/" + bobID, ""},
		} {
			r := e.do(ann, rt.method, rt.path, rt.body)
			e.want(r, 404, "foreign "+rt.method+" "+rt.path)
			if strings.Contains(r.raw, before.SecretKey) || r.str("usersig") != "" {
				t.Fatalf("foreign request leaked: %s", r.raw)
			}
			// A missing app answers the same.
			if strings.HasPrefix(rt.path, p) {
				e.want(e.do(ann, rt.method, strings.Replace(rt.path, fmt.Sprint(id), "1499999999", 1), rt.body), 404, "missing app")
			}
		}
		after, err := e.tenants.GetApp(ctx, id)
		if err != nil || after != before {
			t.Fatalf("bob's app changed: %+v, %v", after, err)
		}
		if apps, _ := e.st.ListApps(ctx, bobID); len(apps) != 1 {
			t.Fatalf("bob has %d apps", len(apps))
		}
		// Ann's own list is empty; Bob still sees his app.
		if r := e.do(ann, "GET", "/console/v1/apps", ""); len(r.body["apps"].([]any)) != 0 {
			t.Fatalf("ann's list = %s", r.raw)
		}
		e.want(e.do(bob, "GET", p, ""), 200, "owner")

		// The operator sees and acts on every account.
		op := e.operator()
		me := e.do(op, "GET", "/console/v1/me", "")
		if me.body["operator"] != true || me.body["account"] != nil {
			t.Fatalf("operator me = %s", me.raw)
		}
		e.want(e.do(op, "GET", "/console/v1/accounts/"+bobID, ""), 200, "operator reads an account")
		accs := e.do(op, "GET", "/console/v1/accounts", "")
		e.want(accs, 200, "operator lists accounts")
		if l := accs.body["accounts"].([]any); len(l) != 2 {
			t.Fatalf("operator's accounts = %s", accs.raw)
		}
		own := e.do(ann, "GET", "/console/v1/accounts", "")
		e.want(own, 200, "customer lists accounts")
		if l := own.body["accounts"].([]any); len(l) != 1 || l[0].(map[string]any)["email"] != "ann@example.com" {
			t.Fatalf("ann's accounts = %s", own.raw)
		}
		e.want(e.do(op, "GET", p, ""), 200, "operator overview")
		all := e.do(op, "GET", "/console/v1/apps", "")
		if len(all.body["apps"].([]any)) != 1 {
			t.Fatalf("operator list = %s", all.raw)
		}
		e.want(e.do(op, "POST", "/console/v1/apps", `{"name":"For Bob"}`), 400, "operator create without an account")
		r := e.do(op, "POST", "/console/v1/apps", `{"name":"For Bob","account":"`+bobID+`"}`)
		e.want(r, 201, "operator create")
		if r.str("account") != bobID {
			t.Fatalf("operator created %s", r.raw)
		}
		e.want(e.do(op, "POST", p+"/secret", ""), 200, "operator secret")
		e.want(e.do(op, "DELETE", p, fmt.Sprintf(`{"confirm":%d}`, id)), 200, "operator delete")
	})
}

func TestSignInRateLimited(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	e.signUp("Ann", "ann@example.com")
	c := &client{ip: "198.51.100.7"}
	for i := range 5 {
		e.want(e.do(c, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"wrong-pass"}`), 401, fmt.Sprint("wrong password ", i+1))
	}
	r := e.do(c, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`)
	e.want(r, 429, "6th attempt")
	if r.hdr.Get("Retry-After") != "900" || c.cookie != "" {
		t.Fatalf("429 with Retry-After %q, cookie %q", r.hdr.Get("Retry-After"), c.cookie)
	}
	// The email from that address is limited; Ann from her own address, other
	// emails from that address and the operator are not (auth's tests cover
	// the looser per-email and per-address limits).
	e.want(e.do(&client{ip: "203.0.113.1"}, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`), 200, "same email, other address")
	e.want(e.do(c, "POST", "/console/v1/signin", `{"email":"other@example.com","password":"password1"}`), 401, "same address, other email")
	e.want(e.do(c, "POST", "/console/v1/signin/operator", `{"token":"`+opToken+`"}`), 200, "operator sign-in from a limited address")
	e.clk.Advance(15 * time.Minute)
	e.want(e.do(c, "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`), 200, "after the window")

	// Wrong operator tokens are limited per address as well.
	o := &client{ip: "192.0.2.200"}
	for range 5 {
		r := e.do(o, "POST", "/console/v1/signin/operator", `{"token":"nope"}`)
		e.want(r, 401, "wrong operator token")
		if r.str("error") != "wrong operator token" {
			t.Fatalf("message %q", r.str("error"))
		}
	}
	e.want(e.do(o, "POST", "/console/v1/signin/operator", `{"token":"`+opToken+`"}`), 429, "operator after 5 wrong tokens")
}

// TestNotSignedIn: every session route without a valid session answers 401.
func TestNotSignedIn(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	for _, rt := range [][2]string{
		{"GET", "/console/v1/me"}, {"POST", "/console/v1/signout"}, {"GET", "/console/v1/accounts/acc_1"}, {"GET", "/console/v1/accounts"},
		{"GET", "/console/v1/apps"}, {"POST", "/console/v1/apps"}, {"GET", "/console/v1/apps/1400000001"},
		{"DELETE", "/console/v1/apps/1400000001"}, {"POST", "/console/v1/apps/1400000001/secret"},
		{"POST", "/console/v1/apps/1400000001/usersig"},
	} {
		for _, c := range []*client{nil, {cookie: "garbage"}, {cookie: strings.Repeat("A", 43)}} {
			e.want(e.do(c, rt[0], rt[1], `{}`), 401, rt[0]+" "+rt[1])
		}
	}
	e.want(e.do(nil, "GET", "/console/v1/nowhere", ""), 404, "unknown route")
	r := e.do(nil, "PUT", "/console/v1/signin", "{}")
	e.want(r, 405, "wrong method")
}

// TestBadInput: bad input in every request gets a clear 4xx message and
// changes nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t, testdb.SQLite)
	ann, _ := e.signUp("Ann", "ann@example.com")
	id := e.createApp(ann, "Chat")
	p := fmt.Sprint("/console/v1/apps/", id)
	big := `{"name":"` + strings.Repeat("a", console.MaxBodyBytes) + `"}`
	anon := func() *client { return &client{ip: "192.0.2.50"} }
	for _, tc := range []struct {
		c            *client
		method, path string
		body         string
		code         int
		msg          string // part of the message
		hdr          []string
	}{
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"b@example.com","password":"short"}`, 400, "password must be 8 to 256 bytes", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"b@example.com","password":"` + strings.Repeat("p", 257) + `"}`, 400, "password must be 8 to 256 bytes", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"not-an-address","password":"password1"}`, 400, "not a valid address", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"` + strings.Repeat("b", 250) + `@example.com","password":"password1"}`, 400, "email", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"","email":"b@example.com","password":"password1"}`, 400, "name is required", nil},
		{anon(), "POST", "/console/v1/signup", "{\"name\":\"B\xff\",\"email\":\"b@example.com\",\"password\":\"password1\"}", 400, "UTF-8", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"b@example.com","password":"password1","admin":true}`, 400, "unknown field", nil},
		{anon(), "POST", "/console/v1/signup", `{"name":"B","email":"b@example.com","password":"password1"}`, 415, "application/json", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{anon(), "POST", "/console/v1/signup", ``, 400, "empty", nil},
		{anon(), "POST", "/console/v1/signup", big, 413, "larger than", nil},
		{anon(), "POST", "/console/v1/signin", `{"email":"ann@example.com","password":1}`, 400, "must be a string", nil},
		{anon(), "POST", "/console/v1/signin", `{"email":"ann@example.com"`, 400, "malformed JSON", nil},
		{anon(), "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"} {}`, 400, "unexpected data", nil},
		{anon(), "POST", "/console/v1/signin", `{"email":"ann@example.com","password":"password1"}`, 415, "application/json", []string{"Content-Type", "text/plain"}},
		{anon(), "POST", "/console/v1/signin/operator", `{"token":""}`, 400, "token is required", nil},
		{ann, "POST", "/console/v1/apps", `{"name":""}`, 400, "name is required", nil},
		{ann, "POST", "/console/v1/apps", `{"name":"X","region":"mars"}`, 400, "unknown region", nil},
		{ann, "POST", "/console/v1/apps", `{"name":"` + strings.Repeat("x", 129) + `"}`, 400, "at most 128 characters", nil},
		{ann, "POST", "/console/v1/apps", `[1]`, 400, "JSON object", nil},
		{ann, "GET", "/console/v1/apps/abc", ``, 400, "positive integer", nil},
		{ann, "GET", "/console/v1/apps/-1", ``, 400, "positive integer", nil},
		{ann, "GET", "/console/v1/apps?account=%ff", ``, 400, "UTF-8", nil},
		{ann, "DELETE", p, `{"confirm":"yes"}`, 400, "type the SDKAppID", nil},
		{ann, "DELETE", p, `{"confirm":null}`, 400, "type the SDKAppID", nil},
		{ann, "DELETE", p, `{"confirm":1400000099}`, 400, "confirm", nil},
		{ann, "DELETE", p, `{"sure":true}`, 400, "unknown field", nil},
		{ann, "POST", p + "/secret", `{"x":1}`, 400, "unknown field", nil},
		{ann, "POST", p + "/usersig", `{"user":""}`, 400, "user must be a UserID", nil},
		{ann, "POST", p + "/usersig", `{"user":"` + strings.Repeat("u", 33) + `"}`, 400, "user must be a UserID", nil},
		{ann, "POST", p + "/usersig", `{"user":"alice","expire":-5}`, 400, "expire must be", nil},
		{ann, "POST", p + "/usersig", `{"user":"alice","expire":99999999999}`, 400, "expire must be", nil},
		{ann, "POST", p + "/usersig", `{"user":"alice","expire":"60"}`, 400, "must be an integer in the range of int64", nil},
		{ann, "POST", p + "/usersig", ``, 400, "empty", nil},
	} {
		r := e.do(tc.c, tc.method, tc.path, tc.body, tc.hdr...)
		what := fmt.Sprintf("%s %s %.60q", tc.method, tc.path, tc.body)
		e.want(r, tc.code, what)
		if !strings.Contains(r.str("error"), tc.msg) {
			t.Errorf("%s: message %q does not say %q", what, r.str("error"), tc.msg)
		}
		if tc.c != ann && tc.c.cookie != "" {
			t.Errorf("%s: a session was opened", what)
		}
	}
	// Nothing changed: no credential for b@, Ann's one app as it was.
	if _, err := e.st.CredentialByEmail(ctx, "b@example.com"); err == nil {
		t.Fatal("a refused sign-up stored a credential")
	}
	list := e.do(ann, "GET", "/console/v1/apps", "")
	if apps := list.body["apps"].([]any); len(apps) != 1 || apps[0].(map[string]any)["name"] != "Chat" {
		t.Fatalf("apps after bad input: %s", list.raw)
	}
	e.want(e.do(ann, "GET", p, ""), 200, "app after bad input")
}

// failingSessions is a store whose session reads fail with storage text.
type failingSessions struct{ store.Console }

func (failingSessions) GetSession(context.Context, string, time.Time) (store.ConsoleSession, error) {
	return store.ConsoleSession{}, errors.New(`store: get session: pq: relation "console_sessions" secret detail`)
}

func TestInternalErrorsHidden(t *testing.T) {
	e := newEnvWith(t, testdb.SQLite, func(c store.Console) store.Console { return failingSessions{c} })
	c, _ := e.signUp("Ann", "ann@example.com")
	r := e.do(c, "GET", "/console/v1/me", "")
	e.want(r, 500, "failing store")
	if strings.Contains(r.raw, "console_sessions") || strings.Contains(r.raw, "secret detail") || strings.Contains(r.raw, "pq") {
		t.Fatalf("storage text leaked: %s", r.raw)
	}
}
