package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/console/web"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// newFakeClockEnvOn is newEnvOn with the server on a manual clock that the
// operator moves (chatd serve --fake-clock).
func newFakeClockEnvOn(t *testing.T, open testdb.Opener) *env {
	st := open(t)
	m := clock.NewManual(now)
	s, err := server.New(server.Config{Store: st, Clock: m, Manual: m, Logger: slog.New(slog.DiscardHandler),
		OperatorToken: "op-secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return &env{t: t, s: s, st: st, hs: hs}
}

// operator signs the operator in through the sign-in page.
func (e *env) operator() *browser {
	op := e.browser()
	op.get("/")
	code, body := op.post("/console/signin/operator", url.Values{"token": {"op-secret"}})
	want(e.t, "operator sign-in", code, body, 200, "Signed in as operator")
	return op
}

// opRoute is one request to an operator page.
type opRoute struct {
	method, path string
	form         url.Values
}

// operatorRoutes are every operator page and form, aimed at account acc and
// app id.
func operatorRoutes(acc string) []opRoute {
	return []opRoute{
		{"GET", "/console/accounts", nil},
		{"GET", "/console/accounts?after=" + acc, nil},
		{"GET", "/console/catalog", nil},
		{"GET", "/console/clock", nil},
		{"POST", "/console/accounts/" + acc + "/topup", url.Values{"cash": {"100.00"}}},
		{"POST", "/console/accounts/" + acc + "/vouchers", url.Values{"amount": {"10"}, "expires": {"2027-01-31"}, "scope": {"all"}}},
		{"POST", "/console/accounts/" + acc + "/suspend", url.Values{"reason": {"spam"}, "confirm": {"1"}}},
		{"POST", "/console/catalog/" + catalog.ChatbotMessages + "/promotion", url.Values{"free_until": {"2027-01-31"}}},
		{"POST", "/console/catalog/" + catalog.ChatbotMessages + "/promotion", url.Values{"end": {"1"}}},
		{"POST", "/console/clock", url.Values{"advance": {"1d"}}},
		{"POST", "/console/clock", url.Values{"set": {"2027-01-01T00:00:00Z"}}},
	}
}

// snapshot is what the operator's forms could change.
type snapshot struct {
	accounts string
	vouchers int
	promos   string
	now      time.Time
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	ctx := context.Background()
	accs, err := e.st.AllAccounts(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var s snapshot
	for _, a := range accs {
		s.accounts += fmt.Sprintf("%s:%d/%d/%s/%s;", a.ID, a.CashCents, a.CreditCents, a.Status, a.SuspendReason)
		vs, err := e.st.ListVouchers(ctx, a.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		s.vouchers += len(vs)
		apps, _ := e.st.ListApps(ctx, a.ID)
		for _, app := range apps {
			s.accounts += fmt.Sprintf("%d/%s;", app.SDKAppID, app.Status)
		}
	}
	ps, err := e.st.Promotions(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	s.promos = fmt.Sprint(ps)
	s.now = e.s.Lifecycle.Now()
	return s
}

func (e *env) unchanged(what string, before snapshot) {
	e.t.Helper()
	if after := e.snapshot(); after != before {
		e.t.Fatalf("%s changed something:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// TestOperatorPagesRefuseCustomers: a customer reaches no operator page or
// form, for their own account or another's: 403, and nothing changes; the
// layout offers them no operator link, and the app page no suspension form.
func TestOperatorPagesRefuseCustomers(t *testing.T) {
	e := newFakeClockEnvOn(t, testdb.SQLite)
	ann := e.signUp("Ann", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"singapore"}})
	e.signUp("Bob", "bob@example.com")
	annAcc, bobAcc := e.account("ann@example.com"), e.account("bob@example.com")
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: annAcc.ID}, "")
	id := fmt.Sprint(apps[0].SDKAppID)
	before := e.snapshot()
	for _, acc := range []string{annAcc.ID, bobAcc.ID} {
		for _, r := range operatorRoutes(acc) {
			var code int
			var body string
			if r.method == "GET" {
				code, body = ann.get(r.path)
			} else {
				ann.get("/console/apps")
				code, body = ann.post(r.path, r.form)
			}
			want(t, "Ann: "+r.method+" "+r.path, code, body, 403, "only the operator may do this")
		}
	}
	e.unchanged("a customer's requests to operator pages", before)
	code, body := ann.get("/console/apps/" + id)
	want(t, "Ann's app page", code, body, 200, "<h1>chat</h1>")
	for _, s := range []string{`href="/console/accounts"`, `href="/console/catalog"`, `href="/console/clock"`, "/suspend", "Suspend for a violation"} {
		if strings.Contains(body, s) {
			t.Fatalf("a customer's page offers %q", s)
		}
	}
	code, body = ann.get("/console/billing")
	want(t, "Ann's billing", code, body, 200, "<h1>Billing</h1>")
	for _, s := range []string{"/topup", "/vouchers", "/suspend"} {
		if strings.Contains(body, s) {
			t.Fatalf("a customer's billing offers %q", s)
		}
	}
	// Another account's apps are not a customer's to list.
	code, body = ann.get("/console/apps?account=" + bobAcc.ID)
	want(t, "Ann lists Bob's apps", code, body, 404)
	// Signed out, the pages lead to the sign-in and the forms answer 401.
	anon := e.browser()
	code, body = anon.get("/console/accounts")
	want(t, "accounts signed out", code, body, 200, "<h1>Sign in</h1>")
	code, body = anon.post("/console/accounts/"+annAcc.ID+"/topup", url.Values{"cash": {"1"}})
	want(t, "top-up signed out", code, body, 401)
	e.unchanged("signed-out requests", before)
}

// TestOperatorFormsRefuseWithoutCSRF: every operator form refuses a POST
// without the session's token (403) and changes nothing.
func TestOperatorFormsRefuseWithoutCSRF(t *testing.T) {
	e := newFakeClockEnvOn(t, testdb.SQLite)
	e.signUp("Ann", "ann@example.com")
	acc := e.account("ann@example.com")
	op := e.operator()
	before := e.snapshot()
	for _, r := range operatorRoutes(acc.ID) {
		if r.method != "POST" {
			continue
		}
		for _, tok := range []string{"", "0" + op.csrf[1:], "x"} {
			v := url.Values{"csrf": {tok}}
			for k, vs := range r.form {
				v[k] = vs
			}
			code, body := op.post(r.path, v)
			want(t, "POST "+r.path+" with token "+tok, code, body, 403, "CSRF")
		}
	}
	e.unchanged("operator forms without CSRF", before)
}

// TestOperatorAccountsPage: every account with its balance and number of
// apps, links to its billing and apps, paged by AccountsPerPage.
func TestOperatorAccountsPage(t *testing.T) {
	testdb.Each(t, testOperatorAccountsPage)
}

func testOperatorAccountsPage(t *testing.T, open testdb.Opener) {
	e := newFakeClockEnvOn(t, open)
	ctx := context.Background()
	ann := e.signUp("Ann <&>", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"one"}, "region": {"singapore"}})
	ann.post("/console/apps", url.Values{"name": {"two"}, "region": {"tokyo"}})
	acc := e.account("ann@example.com")
	opActor := tenant.Actor{Operator: true}
	if _, err := e.s.Commerce.TopUpAs(ctx, opActor, commerce.TopUpRequest{AccountID: acc.ID, Cash: 12345, Credit: 500}); err != nil {
		t.Fatal(err)
	}
	for i := range web.AccountsPerPage {
		if _, err := e.s.Tenants.CreateAccount(ctx, fmt.Sprintf("Customer %02d", i), fmt.Sprintf("c%02d@example.com", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	op := e.operator()
	code, body := op.get("/console/apps")
	want(t, "the operator's nav", code, body, 200, `<a href="/console/accounts">Accounts</a>`, `<a href="/console/catalog">Catalog</a>`, `<a href="/console/clock">Clock</a>`)

	all, _ := e.st.AllAccounts(ctx)
	if len(all) != web.AccountsPerPage+1 {
		t.Fatalf("%d accounts", len(all))
	}
	seen := map[string]bool{}
	rowRe := regexp.MustCompile(`<tr><td>(acc[^<]*)</td>`)
	path := "/console/accounts"
	for page := 0; path != ""; page++ {
		code, body = op.get(path)
		want(t, "accounts page "+path, code, body, 200, "<h1>Accounts</h1>")
		rows := rowRe.FindAllStringSubmatch(body, -1)
		if len(rows) == 0 || len(rows) > web.AccountsPerPage {
			t.Fatalf("page %d lists %d accounts\n%s", page, len(rows), body)
		}
		for _, r := range rows {
			if seen[r[1]] {
				t.Fatalf("account %s on two pages", r[1])
			}
			seen[r[1]] = true
		}
		if strings.Contains(body, "Ann &lt;&amp;&gt;") {
			want(t, "Ann's row", code, body, 200, acc.ID, "ann@example.com", "$123.45", "$5.00", "<td>2</td>",
				`href="/console/billing?account=`+acc.ID+`"`, `href="/console/apps?account=`+acc.ID+`"`)
		}
		path = ""
		if m := regexp.MustCompile(`href="(/console/accounts\?after=[^"]+)" rel="next"`).FindStringSubmatch(body); m != nil {
			path = m[1]
			if page > 0 {
				t.Fatalf("a third page: %s", path)
			}
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("the pages listed %d of %d accounts", len(seen), len(all))
	}
	// The apps link lists that account's apps only.
	code, body = op.get("/console/apps?account=" + acc.ID)
	want(t, "Ann's apps", code, body, 200, ">one</a>", ">two</a>")
	code, body = op.get("/console/accounts?after=" + strings.Repeat("a", 129))
	want(t, "an over-long after", code, body, 400, "at most 128 bytes")
	code, body = op.get("/console/accounts?after=%FF")
	want(t, "a non-UTF-8 after", code, body, 400, "bad request URL")
}

// TestOperatorAccountForms: the top-up, voucher and suspension forms on an
// account's billing page; bad input is refused with a clear message and
// changes nothing.
func TestOperatorAccountForms(t *testing.T) {
	testdb.Each(t, testOperatorAccountForms)
}

func testOperatorAccountForms(t *testing.T, open testdb.Opener) {
	e := newFakeClockEnvOn(t, open)
	ctx := context.Background()
	ann := e.signUp("Ann", "ann@example.com")
	ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"singapore"}})
	acc := e.account("ann@example.com")
	apps, _ := e.s.Tenants.ListAppsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	id := fmt.Sprint(apps[0].SDKAppID)
	op := e.operator()
	billing := "/console/billing?account=" + acc.ID
	code, body := op.get(billing)
	want(t, "operator's billing of Ann", code, body, 200, "<h2 id=\"topup-h\">Top up</h2>", `<label for="topup-cash">`, `<label for="voucher-amount">`,
		`<label for="suspend-reason">`, `value="2026-12-26"`, `<a href="/console/apps/`+id+`">chat</a>`, "active")

	// Top-up: exact cents; the same form sent twice adds once.
	rid := regexp.MustCompile(`id="topup-form">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="request_id" value="([^"]+)">`).FindStringSubmatch(body)
	if rid == nil {
		t.Fatalf("the top-up form has no request id\n%s", body)
	}
	for range 2 {
		code, body = op.post("/console/accounts/"+acc.ID+"/topup", url.Values{"cash": {"100.10"}, "credit": {"0.20"}, "request_id": {rid[1]}})
		want(t, "top-up", code, body, 200, "Topped up cash $100.10 and credit $0.20", "<td>$100.10</td><td>$0.20</td>")
	}
	if a, _ := e.st.GetAccount(ctx, acc.ID); a.CashCents != 10010 || a.CreditCents != 20 {
		t.Fatalf("balance after the top-up sent twice: %d/%d", a.CashCents, a.CreditCents)
	}
	code, body = op.post("/console/accounts/"+acc.ID+"/topup", url.Values{"credit": {"5"}})
	want(t, "credit only", code, body, 200, "Topped up cash $0.00 and credit $5.00")

	before := e.snapshot()
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{}, "needs a cash and/or a credit amount"},
		{url.Values{"cash": {""}, "credit": {"  "}}, "needs a cash and/or a credit amount"},
		{url.Values{"cash": {"0"}}, "must be a positive amount"},
		{url.Values{"cash": {"-5"}}, "must be a positive amount"},
		{url.Values{"cash": {"abc"}}, "must be a decimal number"},
		{url.Values{"cash": {"1e3"}}, "must be a decimal number"},
		{url.Values{"cash": {"1,000"}}, "must be a decimal number"},
		{url.Values{"cash": {"0.001"}}, "must be a decimal number"},
		{url.Values{"cash": {"NaN"}}, "must be a decimal number"},
		{url.Values{"credit": {"99999999999999999999"}}, "larger than the largest"},
		{url.Values{"cash": {"1000000000.00"}}, "larger than the largest"},
		{url.Values{"cash": {"10"}, "credit": {"-1"}}, "credit must be a positive amount"},
		{url.Values{"cash": {"10"}, "request_id": {strings.Repeat("r", 129)}}, "request id"},
	} {
		code, body = op.post("/console/accounts/"+acc.ID+"/topup", c.form)
		want(t, fmt.Sprintf("top-up %v", c.form), code, body, 400, c.msg, `role="alert"`)
	}
	// The form is kept after a refusal.
	code, body = op.post("/console/accounts/"+acc.ID+"/topup", url.Values{"cash": {"12.3.4"}})
	want(t, "a kept amount", code, body, 400, `value="12.3.4"`)

	// Vouchers.
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"expires": {"2027-01-31"}}, "needs an amount"},
		{url.Values{"amount": {"-1"}, "expires": {"2027-01-31"}}, "positive"},
		{url.Values{"amount": {"ten"}, "expires": {"2027-01-31"}}, "decimal number"},
		{url.Values{"amount": {"100000000.01"}, "expires": {"2027-01-31"}}, "larger than"},
		{url.Values{"amount": {"10"}}, "usable through"},
		{url.Values{"amount": {"10"}, "expires": {"2027-13-01"}}, "usable through must be a date"},
		{url.Values{"amount": {"10"}, "expires": {"31/01/2027"}}, "usable through must be a date"},
		{url.Values{"amount": {"10"}, "expires": {strings.Repeat("2", 200)}}, "usable through"},
		{url.Values{"amount": {"10"}, "expires": {"2026-11-01"}}, "is not in the future"},
		{url.Values{"amount": {"10"}, "expires": {"2027-01-31"}, "scope": {"gold"}}, "scope must be"},
	} {
		code, body = op.post("/console/accounts/"+acc.ID+"/vouchers", c.form)
		want(t, fmt.Sprintf("voucher %v", c.form), code, body, 400, c.msg, `role="alert"`)
	}
	// Suspension.
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"confirm": {"1"}}, "the reason is required"},
		{url.Values{"reason": {"  "}, "confirm": {"1"}}, "the reason is required"},
		{url.Values{"reason": {"spam"}}, "tick the box"},
		{url.Values{"reason": {strings.Repeat("é", 501)}, "confirm": {"1"}}, "at most 500 characters"},
	} {
		code, body = op.post("/console/accounts/"+acc.ID+"/suspend", c.form)
		want(t, fmt.Sprintf("suspend %v", c.form), code, body, 400, c.msg, `role="alert"`)
	}
	// Invalid UTF-8, a NUL, a body too large: refused by every form.
	for _, path := range []string{"/topup", "/vouchers", "/suspend"} {
		for _, raw := range []string{"cash=%FF&amount=%FF&reason=%FF&expires=2027-01-31&confirm=1", "cash=1%002&amount=1%002&reason=a%00b&expires=2027-01-31&confirm=1"} {
			req, _ := http.NewRequest("POST", e.hs.URL+"/console/accounts/"+acc.ID+path, strings.NewReader("csrf="+url.QueryEscape(op.csrf)+"&"+raw))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			code, body = op.do(req)
			want(t, path+" "+raw, code, body, 400, "bad form")
		}
		code, body = op.post("/console/accounts/"+acc.ID+path, url.Values{"reason": {strings.Repeat("a", web.MaxFormBytes)}, "confirm": {"1"}})
		want(t, path+" too large", code, body, 413, "larger than")
	}
	// An unknown account is 404 on every form.
	for _, r := range operatorRoutes("acc_nope") {
		if strings.HasPrefix(r.path, "/console/accounts/") {
			op.get(billing)
			code, body = op.post(r.path, r.form)
			want(t, "unknown account "+r.path, code, body, 404, "acc_nope")
		}
	}
	e.unchanged("refused account forms", before)

	code, body = op.post("/console/accounts/"+acc.ID+"/vouchers", url.Values{"amount": {"25.50"}, "expires": {"2027-01-31"}, "scope": {"editions"}})
	want(t, "voucher", code, body, 200, "of $25.50 issued, usable before 2027-02-01 00:00 UTC", "<td>$25.50</td><td>$25.50</td><td>editions</td>")
	if vs, _ := e.st.ListVouchers(ctx, acc.ID); len(vs) != 1 || vs[0].AmountCents != 2550 || vs[0].Scope != "editions" {
		t.Fatalf("vouchers: %+v", vs)
	}
	code, body = ann.get("/console/billing")
	want(t, "Ann sees the voucher and top-ups", code, body, 200, "$25.50", "$100.10")

	// The app page offers the operator the suspension of its account.
	code, body = op.get("/console/apps/" + id)
	want(t, "operator's app page", code, body, 200, "Suspend for a violation", `action="/console/accounts/`+acc.ID+`/suspend"`)
	code, body = op.post("/console/accounts/"+acc.ID+"/suspend", url.Values{"reason": {"spam <b>"}, "confirm": {"1"}})
	want(t, "suspend", code, body, 200, "are suspended for a violation", "suspended (violation)")
	if a, _ := e.st.GetAccount(ctx, acc.ID); a.Status != store.StatusSuspended || a.SuspendReason != commerce.ReasonViolation {
		t.Fatalf("account after the suspension: %+v", a)
	}
	if a, _ := e.st.GetApp(ctx, apps[0].SDKAppID); a.Status != store.StatusSuspended || a.SuspendReason != commerce.ReasonViolation {
		t.Fatalf("app after the suspension: %+v", a)
	}
	if strings.Contains(body, `action="/console/accounts/`+acc.ID+`/suspend"`) {
		t.Fatal("the suspension form is offered again")
	}
	// No payment lifts it.
	code, body = op.post("/console/accounts/"+acc.ID+"/topup", url.Values{"cash": {"1000"}})
	want(t, "top-up of a suspended account", code, body, 200, "suspended (violation)")
	code, body = op.post("/console/accounts/"+acc.ID+"/suspend", url.Values{"reason": {"again"}, "confirm": {"1"}})
	want(t, "suspend twice", code, body, 409, "already suspended")
	code, body = ann.get("/console/apps/" + id)
	want(t, "Ann's suspended app", code, body, 200, "suspended (violation)")
}

// TestOperatorCatalogPage: the editions with prices and limits, the add-ons
// with their promotions; the operator sets and ends a promotion.
func TestOperatorCatalogPage(t *testing.T) {
	testdb.Each(t, testOperatorCatalogPage)
}

func testOperatorCatalogPage(t *testing.T, open testdb.Opener) {
	e := newFakeClockEnvOn(t, open)
	op := e.operator()
	code, body := op.get("/console/catalog")
	want(t, "catalog", code, body, 200, "<h1>Catalog and promotions</h1>", "Standard", "$399.00", "$699.00", "$0.015 per user per month",
		"unlimited", "AI Chatbot message pack", "$200.00 per pack", "push_all_user_calls: 100 free per day, then $10.00 per 1",
		`<label for="promo-chatbot_messages">`)
	if strings.Contains(body, "free until") {
		t.Fatal("a promotion before any was set")
	}
	promo := "/console/catalog/" + catalog.ChatbotMessages + "/promotion"
	before := e.snapshot()
	for _, c := range []struct {
		form url.Values
		code int
		msg  string
	}{
		{url.Values{}, 400, "free until: a date"},
		{url.Values{"free_until": {"soon"}}, 400, "free until must be a date"},
		{url.Values{"free_until": {"2027-02-30"}}, 400, "free until must be a date"},
		{url.Values{"free_until": {strings.Repeat("9", 129)}}, 400, "free until: a date"},
		{url.Values{"free_until": {"2026-01-01"}}, 400, "not in the future"},
	} {
		code, body = op.post(promo, c.form)
		want(t, fmt.Sprintf("promotion %v", c.form), code, body, c.code, c.msg, `role="alert"`)
	}
	code, body = op.post("/console/catalog/gold/promotion", url.Values{"free_until": {"2027-01-31"}})
	want(t, "unknown add-on", code, body, 404, `unknown add-on "gold"`)
	e.unchanged("refused promotions", before)

	code, body = op.post(promo, url.Values{"free_until": {"2027-01-31"}})
	want(t, "promotion", code, body, 200, "chatbot_messages is free to buy until 2027-02-01 00:00 UTC", "free until 2027-02-01 00:00 UTC", "End the promotion")
	ps, err := e.s.Commerce.Promotions(context.Background())
	if err != nil || !ps[catalog.ChatbotMessages].Equal(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) || len(ps) != 1 {
		t.Fatalf("promotions %v %v", ps, err)
	}
	code, body = op.post(promo, url.Values{"end": {"1"}})
	want(t, "end the promotion", code, body, 200, "The promotion of chatbot_messages ended.")
	if ps, _ := e.s.Commerce.Promotions(context.Background()); len(ps) != 0 {
		t.Fatalf("promotions after the end %v", ps)
	}
}

// TestOperatorClockPage: on a fake clock, the operator advances or sets the
// scheduler's clock and sees the jobs that ran; bad durations and times are
// refused; on the real clock the form is not offered and a move is refused.
func TestOperatorClockPage(t *testing.T) {
	e := newFakeClockEnvOn(t, testdb.SQLite)
	op := e.operator()
	code, body := op.get("/console/clock")
	want(t, "fake clock", code, body, 200, "<h1>Scheduler clock</h1>", "2026-11-26 12:00:00 UTC", "fake (chatd serve --fake-clock)", "Console sessions expire by real time", `<label for="advance">`, `<label for="set">`)
	before := e.snapshot()
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{}, "give either"},
		{url.Values{"advance": {"1h"}, "set": {"2027-01-01T00:00"}}, "give either"},
		{url.Values{"advance": {"0s"}}, "positive duration"},
		{url.Values{"advance": {"-1h"}}, "positive duration"},
		{url.Values{"advance": {"1w"}}, "positive duration"},
		{url.Values{"advance": {"soon"}}, "positive duration"},
		{url.Values{"advance": {"99999999d"}}, "at most 36600 days"},
		{url.Values{"advance": {strings.Repeat("1", 129) + "h"}}, "longer than 128 bytes"},
		{url.Values{"set": {"tomorrow"}}, "set the clock to a time"},
		{url.Values{"set": {"2027-02-30T00:00"}}, "set the clock to a time"},
		{url.Values{"set": {"2026-11-01T00:00"}}, "only moves forward"},
		{url.Values{"set": {"9999-01-01T00:00"}}, "at most 36600 days"},
	} {
		code, body = op.post("/console/clock", c.form)
		want(t, fmt.Sprintf("clock %v", c.form), code, body, 400, c.msg, `role="alert"`)
	}
	e.unchanged("refused clock moves", before)

	code, body = op.post("/console/clock", url.Values{"advance": {"1d12h"}})
	want(t, "advance", code, body, 200, "The clock moved from 2026-11-26 12:00 UTC to 2026-11-28 00:00 UTC", "2026-11-28 00:00:00 UTC")
	// Sessions live by real time: 37 hours of the fake clock later, the
	// operator is still signed in.
	code, body = op.post("/console/clock", url.Values{"advance": {"1h"}})
	want(t, "a move after 36 fake hours", code, body, 200, "to 2026-11-28 01:00 UTC")
	code, body = op.post("/console/clock", url.Values{"set": {"2026-12-01T00:00"}})
	want(t, "set", code, body, 200, "The clock moved from 2026-11-28 01:00 UTC to 2026-12-01 00:00 UTC", "jobs ran")
	if got := e.s.Lifecycle.Now(); !got.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the clock is at %s", got)
	}

	// On the real clock: no form, and a POST is refused.
	r := newEnv(t)
	op = r.operator()
	code, body = op.get("/console/clock")
	want(t, "real clock", code, body, 200, "<h1>Scheduler clock</h1>", "real", "cannot be moved")
	if strings.Contains(body, `name="advance"`) {
		t.Fatal("the real clock offers a form")
	}
	before = r.snapshot()
	code, body = op.post("/console/clock", url.Values{"advance": {"1d"}})
	want(t, "moving the real clock", code, body, 409, "the server runs on the real clock: start it with --fake-clock to move time")
	r.unchanged("a move of the real clock", before)
}
