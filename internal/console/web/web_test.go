package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/console/web"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type env struct {
	t  *testing.T
	s  *server.Server
	st store.Store
	hs *httptest.Server
}

// newEnv is newEnvOn the embedded store.
func newEnv(t *testing.T) *env { return newEnvOn(t, testdb.SQLite) }

// newEnvOn serves chatd over a fresh store of open, its clock stopped at now.
func newEnvOn(t *testing.T, open testdb.Opener) *env {
	st := open(t)
	s, err := server.New(server.Config{Store: st, Clock: clock.NewManual(now), Logger: slog.New(slog.DiscardHandler),
		OperatorToken: "op-secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return &env{t: t, s: s, st: st, hs: hs}
}

// browser is a cookie-keeping client that follows redirects, as a browser
// without JavaScript would.
type browser struct {
	e    *env
	c    *http.Client
	csrf string // the last page's form token
	url  string // the last page's URL
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (int, string) {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	b.url = res.Request.URL.Path
	return res.StatusCode, body
}

func (b *browser) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", b.e.hs.URL+path, nil)
	return b.do(req)
}

// post sends a form; the last page's CSRF token goes with it unless the
// form names csrf itself.
func (b *browser) post(path string, form url.Values) (int, string) {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.hs.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func want(t *testing.T, what string, code int, body string, wantCode int, parts ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d\n%s", what, code, wantCode, body)
	}
	text := html.UnescapeString(body)
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s: page lacks %q\n%s", what, p, body)
		}
	}
}

// signUp opens an account through the sign-up page.
func (e *env) signUp(name, email string) *browser {
	b := e.browser()
	code, body := b.get("/console/signup")
	want(e.t, "sign-up page", code, body, 200, `<label for="email">`)
	code, body = b.post("/console/signup", url.Values{"name": {name}, "email": {email}, "password": {"password1"}})
	want(e.t, "sign-up", code, body, 200, "Signed in as "+name, "No apps yet")
	return b
}

func (e *env) account(email string) store.Account {
	accs, err := e.st.AllAccounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range accs {
		if a.Email == email {
			return a
		}
	}
	return store.Account{}
}

func TestRootShowsSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	code, body := b.get("/")
	want(t, "GET /", code, body, 200, "<h1>Sign in</h1>", "Operator: sign in with the token in <code>operator.token</code> in the server's data directory",
		`<main id="main">`, `<label for="email">Email</label>`, `<label for="token">Operator token</label>`, `href="/console/signup"`)
	if b.url != "/console/signin" {
		t.Fatalf("/ led to %s", b.url)
	}
	// An unknown page is a 404 page; the static htmx is served with its version.
	code, body = b.get("/console/nope")
	want(t, "unknown page", code, body, 404, "no such page")
	code, body = b.get("/console/static/htmx-2.0.11.min.js")
	want(t, "htmx", code, body, 200, "htmx")
	for _, dir := range []string{"/console/static/", "/console/static//", "/console/static/./"} {
		code, body = b.get(dir)
		if want(t, "static directory "+dir, code, body, 404, "no such page"); strings.Contains(body, `href="`+web.HTMX) {
			t.Fatalf("%s lists the files", dir)
		}
	}
	// The JSON API is still the API.
	code, body = b.get("/console/v1/me")
	want(t, "API", code, body, 401, `"error"`)
	// A page needing a session sends a browser to the sign-in page.
	code, body = b.get("/console/apps")
	want(t, "apps signed out", code, body, 200, "<h1>Sign in</h1>")
}

func TestSignUpSignInSignOut(t *testing.T) {
	e := newEnv(t)
	// A sign-up form without its token (another site's form) opens nothing.
	b := e.browser()
	b.get("/console/signup")
	code, body := b.post("/console/signup", url.Values{"csrf": {"0123456789abcdef0123456789abcdef"}, "name": {"Eve"}, "email": {"eve@example.com"}, "password": {"password1"}})
	want(t, "sign-up without the form's token", code, body, 403, "send it again")
	if a := e.account("eve@example.com"); a.ID != "" {
		t.Fatalf("account opened by a forged form: %+v", a)
	}
	// A bad sign-up says why and keeps the fields.
	code, body = b.post("/console/signup", url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "password": {"short"}})
	want(t, "short password", code, body, 400, "password", `value="ann@example.com"`)

	b = e.signUp("Ann", "ann@example.com")
	// Signing out needs the session's token.
	code, body = b.post("/console/signout", url.Values{"csrf": {"wrong"}})
	want(t, "sign-out without CSRF", code, body, 403, "CSRF")
	code, body = b.get("/console/apps")
	want(t, "still signed in", code, body, 200, "Signed in as Ann")
	code, body = b.post("/console/signout", nil)
	want(t, "sign-out", code, body, 200, "<h1>Sign in</h1>")
	code, body = b.get("/console/apps")
	want(t, "signed out", code, body, 200, "<h1>Sign in</h1>")

	// Sign-in: a wrong password, then the right one.
	code, body = b.post("/console/signin", url.Values{"email": {"ann@example.com"}, "password": {"wrong-pass"}})
	want(t, "wrong password", code, body, 401, `role="alert"`, `value="ann@example.com"`)
	code, body = b.post("/console/signin", url.Values{"csrf": {"x"}, "email": {"ann@example.com"}, "password": {"password1"}})
	want(t, "sign-in without the form's token", code, body, 403)
	code, body = b.post("/console/signin", url.Values{"email": {"ann@example.com"}, "password": {"password1"}})
	want(t, "sign-in", code, body, 200, "Signed in as Ann", "<h1>Apps</h1>")

	// The operator signs in with the token.
	op := e.browser()
	op.get("/")
	code, body = op.post("/console/signin/operator", url.Values{"token": {"nope"}})
	want(t, "wrong operator token", code, body, 401)
	code, body = op.post("/console/signin/operator", url.Values{"token": {"op-secret"}})
	want(t, "operator sign-in", code, body, 200, "Signed in as operator", `<label for="account">Account ID</label>`)
}

func TestAppPages(t *testing.T) {
	testdb.Each(t, testAppPages)
}

func testAppPages(t *testing.T, open testdb.Opener) {
	e := newEnvOn(t, open)
	ann := e.signUp("Ann", "ann@example.com")
	bob := e.signUp("Bob", "bob@example.com")

	code, body := ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"tokyo"}, "csrf": {"bad"}})
	want(t, "create without CSRF", code, body, 403)
	code, body = ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"mars"}})
	want(t, "bad region", code, body, 400, "region", `value="chat"`)
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: e.account("ann@example.com").ID}, "")
	if len(apps) != 0 {
		t.Fatalf("apps after refused forms: %v", apps)
	}
	code, body = ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"tokyo"}})
	want(t, "create", code, body, 200, "<h1>chat</h1>", "Free Trial", "tokyo", "0 of 100 free (cap 100)", "Show the secret key")
	apps, _ = e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: e.account("ann@example.com").ID}, "")
	if len(apps) != 1 {
		t.Fatalf("apps: %v", apps)
	}
	app := apps[0]
	id := fmt.Sprint(app.SDKAppID)
	want(t, "detail", code, body, 200, id, app.AdminUser, "Members per group", "Group read receipts", "2026-12-26")

	code, body = ann.get("/console/apps")
	want(t, "overview", code, body, 200, `<a href="/console/apps/`+id+`">chat</a>`, "Free Trial", "active", "tokyo", "2026-11-26", "2026-12-26", "0 of 100 free (cap 100)")
	if strings.Contains(body, app.SecretKey) {
		t.Fatal("the overview shows the secret key")
	}
	code, body = ann.get("/console/apps/" + id)
	if strings.Contains(body, app.SecretKey) {
		t.Fatal("the detail page shows the secret key before it is asked for")
	}
	code, body = ann.post("/console/apps/"+id+"/secret", url.Values{"csrf": {""}})
	want(t, "secret without CSRF", code, body, 403)
	code, body = ann.post("/console/apps/"+id+"/secret", nil)
	want(t, "secret", code, body, 200, `value="`+app.SecretKey+`"`, `class="copy"`)

	code, body = ann.post("/console/apps/"+id+"/usersig", url.Values{"user": {"alice"}, "expire": {"3600"}})
	want(t, "usersig", code, body, 200, "UserSig for alice, valid 3600 s")
	sig := regexp.MustCompile(`<textarea id="sig" readonly rows="4" cols="70">([^<]+)</textarea>`).FindStringSubmatch(body)
	if sig == nil {
		t.Fatalf("no UserSig on the page\n%s", body)
	}
	if err := usersig.Verify(app.SDKAppID, app.SecretKey, "alice", html.UnescapeString(sig[1]), now.Add(time.Minute)); err != nil {
		t.Fatalf("the page's UserSig: %v", err)
	}
	code, body = ann.post("/console/apps/"+id+"/usersig", url.Values{"user": {" bad "}})
	want(t, "bad UserID", code, body, 400, `role="alert"`)

	// Callback settings: a bad URL is refused; turning them off works.
	code, body = ann.post("/console/apps/"+id+"/callback", url.Values{"url": {"ftp://x"}, "commands": {"all"}})
	want(t, "bad callback URL", code, body, 400)
	code, body = ann.post("/console/apps/"+id+"/callback", url.Values{"url": {""}, "commands": {"all"}})
	want(t, "callbacks off", code, body, 200, "Callback settings saved.")

	// Another account's app is 404 on every page and form, and nothing changes.
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/console/apps/" + id, nil},
		{"GET", "/console/apps/" + id + "/buy", nil},
		{"POST", "/console/apps/" + id + "/secret", nil},
		{"POST", "/console/apps/" + id + "/usersig", url.Values{"user": {"alice"}}},
		{"POST", "/console/apps/" + id + "/callback", url.Values{"url": {""}}},
		{"POST", "/console/apps/" + id + "/buy/preview", url.Values{"edition": {"standard"}, "months": {"1"}}},
		{"POST", "/console/apps/" + id + "/buy", url.Values{"edition": {"standard"}, "months": {"1"}, "agree": {"1"}}},
		{"GET", "/console/apps/" + id + "/upgrade", nil},
		{"GET", "/console/apps/" + id + "/renew", nil},
		{"POST", "/console/apps/" + id + "/upgrade/preview", nil},
		{"POST", "/console/apps/" + id + "/renew/preview", url.Values{"months": {"1"}}},
		{"POST", "/console/apps/" + id + "/upgrade", url.Values{"agree": {"1"}}},
		{"POST", "/console/apps/" + id + "/renew", url.Values{"months": {"1"}, "agree": {"1"}}},
		{"POST", "/console/apps/" + id + "/refund", url.Values{"confirm": {"1"}}},
		{"POST", "/console/apps/" + id + "/refund", nil},
		{"POST", "/console/apps/" + id + "/auto-renew", url.Values{"on": {"1"}}},
		{"POST", "/console/apps/" + id + "/delete", url.Values{"confirm": {id}}},
		{"POST", "/console/apps/" + id + "/delete", url.Values{"confirm": {"1"}}},
	} {
		bob.get("/console/apps")
		var code int
		var body string
		if c.method == "GET" {
			code, body = bob.get(c.path)
		} else {
			code, body = bob.post(c.path, c.form)
		}
		want(t, "Bob: "+c.method+" "+c.path, code, body, 404, "<h1>Not Found</h1>", "app "+id)
		if strings.Contains(body, app.SecretKey) {
			t.Fatal("a foreign account saw the secret key")
		}
	}
	if got, err := e.st.GetApp(context.Background(), app.SDKAppID); err != nil || got.Status != store.StatusActive {
		t.Fatalf("after Bob: %+v %v", got, err)
	}

	// Deletion needs the typed SDKAppID.
	ann.get("/console/apps/" + id)
	code, body = ann.post("/console/apps/"+id+"/delete", url.Values{"confirm": {"12"}})
	want(t, "wrong confirmation", code, body, 400, "type the SDKAppID "+id)
	code, body = ann.post("/console/apps/"+id+"/delete", url.Values{"confirm": {id}, "csrf": {"x"}})
	want(t, "delete without CSRF", code, body, 403)
	if got, _ := e.st.GetApp(context.Background(), app.SDKAppID); got.Status != store.StatusActive {
		t.Fatalf("deleted without confirmation: %+v", got)
	}
	code, body = ann.post("/console/apps/"+id+"/delete", url.Values{"confirm": {id}})
	want(t, "delete", code, body, 200, "No apps yet", "App "+id+" is deleted with all its data.")
	code, body = ann.get("/console/apps/" + id)
	want(t, "deleted app", code, body, 404)
}

func TestCallbacksRefusedWhenSuspended(t *testing.T) {
	e := newEnv(t)
	ann := e.signUp("Ann", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"singapore"}})
	acc := e.account("ann@example.com")
	if _, err := e.s.Commerce.SuspendAccountAs(context.Background(), tenant.Actor{Operator: true}, acc.ID, commerce.ReasonViolation); err != nil {
		t.Fatal(err)
	}
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: acc.ID}, "")
	id := fmt.Sprint(apps[0].SDKAppID)
	code, body := ann.get("/console/apps/" + id)
	want(t, "suspended app", code, body, 200, "suspended (violation): its callbacks cannot be configured", "permanent")
	code, body = ann.post("/console/apps/"+id+"/callback", url.Values{"url": {""}, "commands": {"all"}})
	want(t, "suspended callback change", code, body, 409, "suspended (violation)", "contact the operator")
	if c, err := e.st.CallbackConfig(context.Background(), apps[0].SDKAppID); err == nil && !c.UpdatedAt.IsZero() {
		t.Fatalf("a suspended app's callbacks changed: %+v", c)
	}
}

func TestBuyAndBilling(t *testing.T) {
	testdb.Each(t, testBuyAndBilling)
}

func testBuyAndBilling(t *testing.T, open testdb.Opener) {
	e := newEnvOn(t, open)
	ctx := context.Background()
	ann := e.signUp("Ann", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"singapore"}})
	acc := e.account("ann@example.com")
	apps, _ := e.s.Tenants.ListAppsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	id := fmt.Sprint(apps[0].SDKAppID)
	op := tenant.Actor{Operator: true}
	if _, err := e.s.Commerce.TopUpAs(ctx, op, commerce.TopUpRequest{AccountID: acc.ID, Cash: money.Cents(50000)}); err != nil {
		t.Fatal(err)
	}
	v, err := e.s.Commerce.IssueVoucherAs(ctx, op, commerce.VoucherRequest{AccountID: acc.ID, Amount: money.Cents(5000), ExpiresAt: now.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}

	code, body := ann.get("/console/apps/" + id + "/buy")
	want(t, "buy page", code, body, 200, `<label for="months">Months</label>`, v.ID, "$399.00", `hx-post="/console/apps/`+id+`/buy/preview"`)

	// The live preview (htmx) answers the price fragment.
	form := url.Values{"csrf": {ann.csrf}, "edition": {"standard"}, "months": {"2"}, "voucher": {v.ID}}
	req, _ := http.NewRequest("POST", e.hs.URL+"/console/apps/"+id+"/buy/preview", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body = ann.do(req)
	want(t, "htmx preview", code, body, 200, "$798.00", "−$50.00", "$748.00", "2026-11-26 12:00 UTC to 2027-01-26 12:00 UTC")
	if strings.Contains(body, "<html") {
		t.Fatal("the htmx preview is a whole page")
	}
	// Without JavaScript, the preview is the whole page with the form kept.
	ann.get("/console/apps/" + id + "/buy")
	code, body = ann.post("/console/apps/"+id+"/buy/preview", url.Values{"edition": {"premium"}, "months": {"1"}})
	want(t, "plain preview", code, body, 200, "<h1>", "$699.00", `value="premium" checked`)
	code, body = ann.post("/console/apps/"+id+"/buy/preview", url.Values{"edition": {"standard"}, "months": {"25"}})
	want(t, "months out of range", code, body, 200, "months")

	// The order: refused without the agreement or CSRF; placed with both.
	code, body = ann.post("/console/apps/"+id+"/buy", url.Values{"edition": {"standard"}, "months": {"1"}, "voucher": {v.ID}})
	want(t, "no agreement", code, body, 400, "agreement")
	code, body = ann.post("/console/apps/"+id+"/buy", url.Values{"csrf": {"x"}, "edition": {"standard"}, "months": {"1"}, "voucher": {v.ID}, "agree": {"1"}})
	want(t, "buy without CSRF", code, body, 403)
	if os, _ := e.s.Commerce.OrdersAs(ctx, op, acc.ID); len(os) != 0 {
		t.Fatalf("orders after refused forms: %+v", os)
	}
	_, body = ann.get("/console/apps/" + id + "/buy")
	rid := regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	if rid == nil {
		t.Fatalf("the order form has no request id\n%s", body)
	}
	// The same form sent twice (a double click, a resent page) places one order.
	for i := 0; i < 2; i++ {
		code, body = ann.post("/console/apps/"+id+"/buy", url.Values{"edition": {"standard"}, "months": {"1"}, "voucher": {v.ID}, "agree": {"1"}, "request_id": {rid[1]}})
		want(t, "buy", code, body, 200, "<h1>Apps</h1>", "Standard", "2026-12-26", "0 of 10000 free", "App "+id+": the plan is bought.")
	}
	if os, _ := e.s.Commerce.OrdersAs(ctx, op, acc.ID); len(os) != 1 {
		t.Fatalf("orders after one form sent twice: %+v", os)
	}

	code, body = ann.get("/console/billing")
	want(t, "billing", code, body, 200, "<h1>Billing</h1>", "$151.00", "standard", "$399.00", "$50.00", "$349.00", v.ID, "No refunds.", "No bills.")
	// The buy form offers only vouchers that can pay for a plan: not the used-up
	// one, not one for add-ons only.
	addonsOnly, err := e.s.Commerce.IssueVoucherAs(ctx, op, commerce.VoucherRequest{AccountID: acc.ID, Amount: money.Cents(5000),
		Scope: commerce.ScopeAddons, ExpiresAt: now.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	usable, err := e.s.Commerce.IssueVoucherAs(ctx, op, commerce.VoucherRequest{AccountID: acc.ID, Amount: money.Cents(1000), ExpiresAt: now.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	ann.post("/console/apps", url.Values{"name": {"chat2"}, "region": {"singapore"}})
	apps, _ = e.s.Tenants.ListAppsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	code, body = ann.get(fmt.Sprintf("/console/apps/%d/buy", apps[len(apps)-1].SDKAppID))
	want(t, "second buy page", code, body, 200, `<option value="`+usable.ID+`"`)
	for _, gone := range []string{v.ID, addonsOnly.ID} {
		if strings.Contains(body, `<option value="`+gone+`"`) {
			t.Fatalf("the buy form offers voucher %s, which cannot pay for a plan", gone)
		}
	}
	// Another account's billing is its own, empty.
	bob := e.signUp("Bob", "bob@example.com")
	code, body = bob.get("/console/billing")
	want(t, "Bob's billing", code, body, 200, "No orders.", "No vouchers.")
	code, body = bob.get("/console/billing?account=" + acc.ID)
	want(t, "Bob asks for Ann's billing", code, body, 404)
}

// boughtApp is an app of Ann's on Standard for a month, bought through the
// pages, with $1000.00 of cash left to spend.
func boughtApp(t *testing.T) (*env, *browser, store.Account, string) {
	return boughtAppOn(t, testdb.SQLite)
}

func boughtAppOn(t *testing.T, open testdb.Opener) (*env, *browser, store.Account, string) {
	e := newEnvOn(t, open)
	ctx := context.Background()
	ann := e.signUp("Ann", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"singapore"}})
	acc := e.account("ann@example.com")
	apps, _ := e.s.Tenants.ListAppsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	id := fmt.Sprint(apps[0].SDKAppID)
	if _, err := e.s.Commerce.TopUpAs(ctx, tenant.Actor{Operator: true}, commerce.TopUpRequest{AccountID: acc.ID, Cash: money.Cents(139900)}); err != nil {
		t.Fatal(err)
	}
	ann.get("/console/apps/" + id + "/buy")
	code, body := ann.post("/console/apps/"+id+"/buy", url.Values{"edition": {"standard"}, "months": {"1"}, "agree": {"1"}})
	want(t, "buy", code, body, 200, "Standard", "2026-12-26")
	return e, ann, acc, id
}

func TestUpgradeRenewRefund(t *testing.T) {
	testdb.Each(t, testUpgradeRenewRefund)
}

func testUpgradeRenewRefund(t *testing.T, open testdb.Opener) {
	e, ann, acc, id := boughtAppOn(t, open)
	code, body := ann.get("/console/apps/" + id)
	want(t, "detail of a Standard app", code, body, 200, `href="/console/apps/`+id+`/upgrade"`, `href="/console/apps/`+id+`/renew"`, "Refund the plan")

	// Automatic renewal: on, then off.
	code, body = ann.post("/console/apps/"+id+"/auto-renew", url.Values{"on": {"1"}})
	want(t, "auto-renew on", code, body, 200, "Automatic renewal is on.", `id="auto-renew" name="on" type="checkbox" value="1" checked`)
	if a, _ := e.st.GetApp(context.Background(), mustInt(t, id)); !a.AutoRenew {
		t.Fatal("auto-renew not on")
	}
	code, body = ann.post("/console/apps/"+id+"/auto-renew", nil)
	want(t, "auto-renew off", code, body, 200, "Automatic renewal is off.")
	if a, _ := e.st.GetApp(context.Background(), mustInt(t, id)); a.AutoRenew {
		t.Fatal("auto-renew not off")
	}

	// Renewal: the preview follows the months; the order moves the expiry.
	code, body = ann.get("/console/apps/" + id + "/renew")
	want(t, "renew page", code, body, 200, "<h1>Renew chat</h1>", "$399.00", "2026-12-26 12:00 UTC to 2027-01-26 12:00 UTC")
	if strings.Contains(body, `name="edition"`) {
		t.Fatal("the renewal form offers an edition")
	}
	form := url.Values{"csrf": {ann.csrf}, "months": {"3"}}
	req, _ := http.NewRequest("POST", e.hs.URL+"/console/apps/"+id+"/renew/preview", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body = ann.do(req)
	want(t, "renewal preview", code, body, 200, "$1197.00", "2026-12-26 12:00 UTC to 2027-03-26 12:00 UTC")
	ann.get("/console/apps/" + id + "/renew")
	code, body = ann.post("/console/apps/"+id+"/renew", url.Values{"months": {"1"}})
	want(t, "renewal without the agreement", code, body, 400, "service agreement")
	code, body = ann.post("/console/apps/"+id+"/renew", url.Values{"months": {"1"}, "agree": {"1"}})
	want(t, "renew", code, body, 200, "<h1>Apps</h1>", "2027-01-26")

	// Upgrade: Premium for the rest of the paid time, Standard's value carried.
	code, body = ann.get("/console/apps/" + id + "/upgrade")
	want(t, "upgrade page", code, body, 200, "<h1>Upgrade chat to Premium</h1>", "Standard value carried over", "to 2027-01-26 12:00 UTC")
	code, body = ann.post("/console/apps/"+id+"/upgrade", url.Values{"agree": {"1"}})
	want(t, "upgrade", code, body, 200, "<h1>Apps</h1>", "Premium", "2027-01-26")

	// Refund: needs the box; shows the formula's parts; the app is suspended.
	ann.get("/console/apps/" + id)
	code, body = ann.post("/console/apps/"+id+"/refund", url.Values{"reason": {"moving"}})
	want(t, "refund without confirmation", code, body, 400, "tick the box")
	code, body = ann.post("/console/apps/"+id+"/refund", url.Values{"reason": {"moving"}, "confirm": {"1"}})
	want(t, "refund", code, body, 200, "Refunded $", "Effective (this period", "Not yet effective", "Used (days used", "suspended (refund)")
	refunds, err := e.s.Commerce.RefundsAs(context.Background(), tenant.Actor{Account: acc.ID}, "")
	if err != nil || len(refunds) != 1 {
		t.Fatalf("refunds: %v %v", refunds, err)
	}
	r := refunds[0]
	if !strings.Contains(body, "Refunded $"+money.Cents(r.CashCents+r.CreditCents).String()) {
		t.Fatalf("the page's amount differs from the record %+v", r)
	}
	// The billing center's parts, worked out again after a renewal and an
	// upgrade, are those the refund used.
	ds, err := e.s.Commerce.RefundDetailsAs(context.Background(), tenant.Actor{Account: acc.ID}, "")
	if err != nil || len(ds) != 1 {
		t.Fatalf("refund details: %+v %v", ds, err)
	}
	want(t, "the refund's parts", code, body, 200, "<dd>$"+ds[0].Effective.String()+"</dd>", "<dd>+ $"+ds[0].NotEffective.String()+"</dd>",
		"<dd>− $"+ds[0].Used.String()+"</dd>")
	ctx := context.Background()
	err = e.st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		if err := tx.InsertNotification(ctx, store.Notification{ID: "ntf_1", AccountID: acc.ID, SDKAppID: mustInt(t, id), Key: "k1",
			Kind: "expiry_reminder", Channel: "email", Recipient: "ann@example.com", Subject: "Your plan <ends> soon", Body: "Renew it.",
			DueAt: now, Status: "pending"}); err != nil {
			return err
		}
		a, err := tx.LockAccount(ctx, acc.ID)
		if err != nil {
			return err
		}
		_, err = commerce.IssueBill(ctx, tx, &a, "2026-11", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	bills, err := e.s.Commerce.BillsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	code, body = ann.get("/console/billing")
	want(t, "billing after the refund", code, body, 200, r.ID, "moving", "Your plan <ends> soon", "Renew it.", "email to ann@example.com")
	if !strings.Contains(body, "<h3>Your plan &lt;ends&gt; soon</h3>") {
		t.Fatal("a notification's subject is not escaped")
	}
	if len(bills) != 1 {
		t.Fatalf("bills: %+v", bills)
	}
	for _, b := range bills {
		want(t, "billing's bills", code, body, 200, "Bill "+b.ID+" for 2026-11")
	}
}

// TestFormsRefuseWithoutCSRF: every form of a session refuses a POST without
// the session's token (403) and changes nothing.
func TestFormsRefuseWithoutCSRF(t *testing.T) {
	e, ann, acc, id := boughtApp(t)
	ctx := context.Background()
	before, _ := e.s.Commerce.OrdersAs(ctx, tenant.Actor{Account: acc.ID}, "")
	app0, _ := e.st.GetApp(ctx, mustInt(t, id))
	forms := []struct {
		path string
		form url.Values
	}{
		{"/console/signout", nil},
		{"/console/apps", url.Values{"name": {"x"}}},
		{"/console/apps/" + id + "/secret", nil},
		{"/console/apps/" + id + "/usersig", url.Values{"user": {"alice"}}},
		{"/console/apps/" + id + "/callback", url.Values{"url": {""}, "commands": {"all"}}},
		{"/console/apps/" + id + "/delete", url.Values{"confirm": {id}}},
		{"/console/apps/" + id + "/refund", url.Values{"confirm": {"1"}}},
		{"/console/apps/" + id + "/auto-renew", url.Values{"on": {"1"}}},
	}
	for _, m := range []string{"buy", "upgrade", "renew"} {
		forms = append(forms,
			struct {
				path string
				form url.Values
			}{"/console/apps/" + id + "/" + m, url.Values{"edition": {"premium"}, "months": {"1"}, "agree": {"1"}}},
			struct {
				path string
				form url.Values
			}{"/console/apps/" + id + "/" + m + "/preview", url.Values{"months": {"1"}}})
	}
	wrong := "0" + ann.csrf[1:] // ann's token with its first character changed
	if ann.csrf[0] == '0' {
		wrong = "1" + ann.csrf[1:]
	}
	for _, f := range forms {
		for _, tok := range []string{"", wrong} {
			v := url.Values{"csrf": {tok}}
			for k, vs := range f.form {
				v[k] = vs
			}
			code, body := ann.post(f.path, v)
			want(t, "POST "+f.path+" with token "+tok, code, body, 403, "CSRF")
			if strings.Contains(body, app0.SecretKey) {
				t.Fatal("the secret key was shown without the CSRF token")
			}
		}
	}
	after, _ := e.s.Commerce.OrdersAs(ctx, tenant.Actor{Account: acc.ID}, "")
	apps, _ := e.s.Tenants.ListAppsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	app1, _ := e.st.GetApp(ctx, app0.SDKAppID)
	if len(after) != len(before) || len(apps) != 1 || app1.Status != app0.Status || app1.AutoRenew != app0.AutoRenew || app1.Edition != app0.Edition || !app1.ExpiresAt.Equal(app0.ExpiresAt) {
		t.Fatalf("forms without CSRF changed something: orders %d→%d, apps %d, app %+v", len(before), len(after), len(apps), app1)
	}
	code, body := ann.get("/console/apps")
	want(t, "still signed in", code, body, 200, "Signed in as Ann")
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOperatorPages: the operator's session lists every account's apps and
// shows an account's billing when named.
func TestOperatorPages(t *testing.T) {
	e, _, acc, id := boughtApp(t)
	op := e.browser()
	op.get("/")
	code, body := op.post("/console/signin/operator", url.Values{"token": {"op-secret"}})
	want(t, "operator's apps", code, body, 200, "Signed in as operator", `href="/console/apps/`+id+`"`, "Every account's apps", `<th scope="col">Account</th>`, `href="/console/billing?account=`+acc.ID+`"`)
	code, body = op.get("/console/billing")
	want(t, "operator's billing without an account", code, body, 200, "name the account", `<label for="account">Account ID</label>`)
	if strings.Contains(body, "Top-ups") {
		t.Fatal("billing without an account shows a balance")
	}
	code, body = op.get("/console/billing?account=" + acc.ID)
	want(t, "operator's billing of Ann", code, body, 200, "<h2 id=\"topups\">Top-ups</h2>", "$1399.00", "standard")
	code, body = op.get("/console/billing?account=acc_nope")
	want(t, "operator's billing of no account", code, body, 404)
}

var (
	inputRe = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRe    = regexp.MustCompile(`\bid="([^"]+)"`)
)

// TestPagesAccessible: every page has a language, one h1, a main landmark,
// and a label for each visible form control.
func TestPagesAccessible(t *testing.T) {
	e, ann, acc, id := boughtApp(t)
	anon := e.browser()
	op, fake := e.operator(), newFakeClockEnvOn(t, testdb.SQLite).operator()
	pages := map[string]func() (int, string){
		"sign-in": func() (int, string) { return anon.get("/console/signin") },
		"sign-up": func() (int, string) { return anon.get("/console/signup") },
		"apps":    func() (int, string) { return ann.get("/console/apps") },
		"app":     func() (int, string) { return ann.get("/console/apps/" + id) },
		"secret": func() (int, string) {
			ann.get("/console/apps/" + id)
			return ann.post("/console/apps/"+id+"/secret", nil)
		},
		"usersig": func() (int, string) {
			ann.get("/console/apps/" + id)
			return ann.post("/console/apps/"+id+"/usersig", url.Values{"user": {"u1"}})
		},
		"renew":    func() (int, string) { return ann.get("/console/apps/" + id + "/renew") },
		"upgrade":  func() (int, string) { return ann.get("/console/apps/" + id + "/upgrade") },
		"billing":  func() (int, string) { return ann.get("/console/billing") },
		"renewals": func() (int, string) { return ann.get("/console/renewals") },
		"notfound": func() (int, string) { return ann.get("/console/apps/1") },
	}
	// The operator's pages.
	pages["accounts"] = func() (int, string) { return op.get("/console/accounts") }
	pages["operator billing"] = func() (int, string) { return op.get("/console/billing?account=" + acc.ID) }
	pages["operator app"] = func() (int, string) { return op.get("/console/apps/" + id) }
	pages["catalog"] = func() (int, string) { return op.get("/console/catalog") }
	pages["clock"] = func() (int, string) { return op.get("/console/clock") }
	pages["fake clock"] = func() (int, string) { return fake.get("/console/clock") }
	for name, get := range pages {
		_, body := get()
		if !strings.Contains(body, `<html lang="en">`) || strings.Count(body, "<h1>") != 1 || !strings.Contains(body, "<main") {
			t.Fatalf("%s: no lang, one h1 or main landmark\n%s", name, body)
		}
		for _, in := range inputRe.FindAllString(body, -1) {
			if strings.Contains(in, `type="hidden"`) {
				continue
			}
			m := idRe.FindStringSubmatch(in)
			if m == nil || !strings.Contains(body, `<label for="`+m[1]+`"`) {
				t.Fatalf("%s: a control without a label: %s", name, in)
			}
		}
	}
}

// TestFormsRefuseBadText: a form or URL with invalid UTF-8 or a NUL, or a
// body over MaxFormBytes, is refused with 400 (413) and changes nothing.
func TestFormsRefuseBadText(t *testing.T) {
	e := newEnv(t)
	ann := e.signUp("Ann", "ann@example.com")
	post := func(path, raw string) (int, string) {
		req, _ := http.NewRequest("POST", e.hs.URL+path, strings.NewReader(raw))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return ann.do(req)
	}
	csrf := url.QueryEscape(ann.csrf)
	for _, name := range []string{"%FF%FE", "a%00b", "%ED%A0%80"} {
		code, body := post("/console/apps", "csrf="+csrf+"&region=tokyo&name="+name)
		want(t, "name "+name, code, body, 400, "bad form")
	}
	code, body := post("/console/apps", "csrf="+csrf+"&region=tokyo&name="+strings.Repeat("a", web.MaxFormBytes))
	want(t, "a form too large", code, body, 413, "larger than")
	code, body = ann.get("/console/apps?x=%FF")
	want(t, "a bad query", code, body, 400, "bad request URL")
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: e.account("ann@example.com").ID}, "")
	if len(apps) != 0 {
		t.Fatalf("apps made from bad forms: %+v", apps)
	}
	// Sign-up refuses the same before it opens an account.
	b := e.browser()
	b.get("/console/signup")
	req, _ := http.NewRequest("POST", e.hs.URL+"/console/signup", strings.NewReader("csrf="+b.csrf+"&name=%FF&email=x%40example.com&password=password1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body = b.do(req)
	want(t, "sign-up with invalid UTF-8", code, body, 400)
	if a := e.account("x@example.com"); a.ID != "" {
		t.Fatalf("account opened: %+v", a)
	}
}
