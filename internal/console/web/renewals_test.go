package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// createApp creates an app through the page and returns its SDKAppID.
func (b *browser) createApp(name string) string {
	b.e.t.Helper()
	b.get("/console/apps")
	code, body := b.post("/console/apps", url.Values{"name": {name}, "region": {"singapore"}})
	want(b.e.t, "create "+name, code, body, 200, "<h1>"+name+"</h1>")
	return b.url[strings.LastIndex(b.url, "/")+1:]
}

// buyStandard buys Standard for a month for app id through the page.
func (b *browser) buyStandard(id string) {
	b.e.t.Helper()
	b.get("/console/apps/" + id + "/buy")
	code, body := b.post("/console/apps/"+id+"/buy", url.Values{"edition": {"standard"}, "months": {"1"}, "agree": {"1"}})
	want(b.e.t, "buy "+id, code, body, 200, "<h1>Apps</h1>")
}

// htmx sends a form as htmx does (the fragment comes back).
func (b *browser) htmx(path string, form url.Values) (int, string) {
	form.Set("csrf", b.csrf)
	req, _ := http.NewRequest("POST", b.e.hs.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return b.do(req)
}

// accountState is what a refused form must leave as it was: the account's
// orders and its apps' expiry, status and automatic renewal.
func (e *env) accountState(account string) string {
	e.t.Helper()
	ctx := context.Background()
	orders, err := e.s.Commerce.OrdersAs(ctx, tenant.Actor{Operator: true}, account)
	if err != nil {
		e.t.Fatal(err)
	}
	apps, err := e.st.ListApps(ctx, account)
	if err != nil {
		e.t.Fatal(err)
	}
	acc, _ := e.st.GetAccount(ctx, account)
	s := fmt.Sprintf("orders %d, balance %d/%d;", len(orders), acc.CashCents, acc.CreditCents)
	for _, a := range apps {
		s += fmt.Sprintf(" %d %s %s %s %t;", a.SDKAppID, a.Status, a.Edition, a.ExpiresAt.UTC().Format("2006-01-02T15:04:05"), a.AutoRenew)
	}
	return s
}

func TestRenewalsPage(t *testing.T) {
	testdb.Each(t, testRenewalsPage)
}

// testRenewalsPage: the renewal page lists the customer's own paid apps by
// expiry range, previews and renews a batch (one order each, all or nothing), toggles automatic
// renewal, and refuses foreign apps, unrenewable apps, a short balance, bad
// input and forms without the CSRF token with a clear message and no change.
func testRenewalsPage(t *testing.T, open testdb.Opener) {
	e := newEnvOn(t, open)
	ctx := context.Background()
	op := tenant.Actor{Operator: true}
	ann := e.signUp("Ann", "ann@example.com")
	a1, a2, trial := ann.createApp("alpha"), ann.createApp("beta"), ann.createApp("gamma-trial")
	acc := e.account("ann@example.com")
	if _, err := e.s.Commerce.TopUpAs(ctx, op, commerce.TopUpRequest{AccountID: acc.ID, Cash: money.Cents(250000)}); err != nil {
		t.Fatal(err)
	}
	ann.buyStandard(a1)
	ann.buyStandard(a2)
	bob := e.signUp("Bob", "bob@example.com")
	foreign := bob.createApp("bobs-secret")
	bacc := e.account("bob@example.com")
	if _, err := e.s.Commerce.TopUpAs(ctx, op, commerce.TopUpRequest{AccountID: bacc.ID, Cash: money.Cents(100000)}); err != nil {
		t.Fatal(err)
	}
	bob.buyStandard(foreign)

	// The list: Ann's paid apps, neither the Free Trial nor Bob's.
	code, body := ann.get("/console/renewals")
	want(t, "renewals page", code, body, 200, "<h1>Renewals</h1>", `href="/console/renewals">Renewals</a>`, `value="`+a1+`"`, `value="`+a2+`"`,
		"alpha", "beta", "2026-12-26 12:00 UTC", `href="/console/apps/`+a1+`/renew"`, "Tick the apps to renew", `form="ar-`+a1+`">Turn on`)
	for _, no := range []string{trial, "gamma-trial", foreign, "bobs-secret"} {
		if strings.Contains(body, no) {
			t.Fatalf("the renewal page shows %q\n%s", no, body)
		}
	}
	_, body = bob.get("/console/renewals")
	if !strings.Contains(body, "bobs-secret") || strings.Contains(body, "alpha") || strings.Contains(body, a1) {
		t.Fatalf("Bob's renewal page\n%s", body)
	}

	// The expiry ranges (now is 2026-11-26 12:00; the plans end 2026-12-26 12:00).
	for _, c := range []struct {
		query string
		shown bool
	}{
		{"range=7d", false}, {"range=30d", true}, {"range=expired", false},
		{"from=2026-12-26&to=2026-12-26", true}, {"from=2026-12-27", false}, {"to=2026-12-25", false}, {"to=2026-12-26", true},
	} {
		code, body := ann.get("/console/renewals?" + c.query)
		if c.shown {
			want(t, c.query, code, body, 200, `value="`+a1+`"`, `value="`+a2+`"`)
		} else {
			want(t, c.query, code, body, 200, "No paid apps expire in this range.")
		}
	}
	for _, c := range []struct{ query, msg string }{
		{"from=2026-13-01", "from must be a date YYYY-MM-DD"},
		{"to=tomorrow", "to must be a date YYYY-MM-DD"},
		{"from=2026-12-27&to=2026-12-01", "the range is empty"},
		{"range=90d", "range must be 7d, 30d or expired"},
	} {
		code, body := ann.get("/console/renewals?" + c.query)
		want(t, c.query, code, body, 400, `role="alert"`, c.msg)
	}
	code, body = ann.get("/console/renewals?from=%FF")
	want(t, "a non-UTF-8 date", code, body, 400, "bad request URL")

	// The live preview of both apps for two months: one line each, the total.
	ann.get("/console/renewals")
	code, body = ann.htmx("/console/renewals/preview", url.Values{"app": {a1, a2}, "months": {"2"}})
	want(t, "htmx preview", code, body, 200, "$1596.00", `<tr data-app="`+a1+`">`, `<tr data-app="`+a2+`">`,
		"2026-12-26 12:00 UTC to 2027-02-26 12:00 UTC")
	if strings.Contains(body, "<html") {
		t.Fatal("the htmx preview is a whole page")
	}
	// Without JavaScript, the preview is the whole page with the form kept.
	code, body = ann.post("/console/renewals/preview", url.Values{"app": {a1}, "months": {"3"}, "range": {"30d"}})
	want(t, "plain preview", code, body, 200, "<h1>Renewals</h1>", "$1197.00", `value="`+a1+`" checked`, `<option value="3" selected>`,
		`name="range" value="30d"`)

	before := e.accountState(acc.ID)
	bbefore := e.accountState(bacc.ID)
	unchanged := func(what string) {
		t.Helper()
		if got := e.accountState(acc.ID); got != before {
			t.Fatalf("%s changed Ann's account:\n%s\n%s", what, before, got)
		}
		if got := e.accountState(bacc.ID); got != bbefore {
			t.Fatalf("%s changed Bob's account:\n%s\n%s", what, bbefore, got)
		}
	}
	renew := func(what string, form url.Values, wantCode int, parts ...string) {
		t.Helper()
		ann.get("/console/renewals")
		code, body := ann.post("/console/renewals", form)
		want(t, what, code, body, wantCode, parts...)
		if wantCode != 200 {
			want(t, what, code, body, wantCode, `role="alert"`)
			unchanged(what)
		}
	}
	// A foreign app among the ticked ones: not found, nothing renewed.
	renew("a foreign app", url.Values{"app": {a1, foreign, a2}, "months": {"1"}, "agree": {"1"}}, 404, "app "+foreign+" does not exist")
	code, body = ann.htmx("/console/renewals/preview", url.Values{"app": {a1, foreign}, "months": {"1"}})
	want(t, "a foreign app's preview", code, body, 200, "app "+foreign+" does not exist")
	if strings.Contains(body, "$") {
		t.Fatalf("a foreign app was priced\n%s", body)
	}
	// An app that cannot be renewed, a short balance, no agreement.
	renew("a Free Trial app", url.Values{"app": {a1, trial}, "months": {"1"}, "agree": {"1"}}, 409, "Free Trial")
	renew("a short balance", url.Values{"app": {a1, a2}, "months": {"24"}, "agree": {"1"}}, 402, "balance")
	renew("no agreement", url.Values{"app": {a1, a2}, "months": {"1"}}, 400, "service agreement")
	renew("nothing ticked", url.Values{"months": {"1"}, "agree": {"1"}}, 400, "tick the apps to renew")
	renew("the same app twice", url.Values{"app": {a1, a1}, "months": {"1"}, "agree": {"1"}}, 400, "listed twice")
	// Bad input.
	for _, m := range []string{"0", "25", "x", ""} {
		renew("months "+m, url.Values{"app": {a1}, "months": {m}, "agree": {"1"}}, 400, "months must be a whole number from 1 to 24")
	}
	renew("not an SDKAppID", url.Values{"app": {"12ab"}, "months": {"1"}, "agree": {"1"}}, 400, "is not an SDKAppID")
	many := make([]string, tenant.MaxAppsPerAccount+1)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	renew("too many apps", url.Values{"app": many, "months": {"1"}, "agree": {"1"}}, 400, fmt.Sprintf("at most %d apps", tenant.MaxAppsPerAccount))
	renew("a bad filter", url.Values{"app": {a1}, "months": {"1"}, "agree": {"1"}, "from": {"soon"}}, 400, "from must be a date")
	csrf := url.QueryEscape(ann.csrf)
	for _, raw := range []string{"app=%FF&months=1&agree=1", "app=" + a1 + "&months=1&agree=1&voucher=%00", "app=" + a1 + "&months=%ED%A0%80&agree=1"} {
		for _, path := range []string{"/console/renewals", "/console/renewals/preview", "/console/renewals/auto-renew"} {
			req, _ := http.NewRequest("POST", e.hs.URL+path, strings.NewReader("csrf="+csrf+"&"+raw))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			code, body := ann.do(req)
			want(t, path+" "+raw, code, body, 400, "bad form")
			unchanged(path + " " + raw)
		}
	}
	// Forms without the session's token.
	for _, path := range []string{"/console/renewals", "/console/renewals/preview", "/console/renewals/auto-renew"} {
		for _, tok := range []string{"", "x" + ann.csrf[1:]} {
			code, body := ann.post(path, url.Values{"csrf": {tok}, "app": {a1, a2}, "sdkappid": {a1}, "on": {"1"}, "months": {"1"}, "agree": {"1"}})
			want(t, path+" without CSRF", code, body, 403, "CSRF")
			unchanged(path + " without CSRF")
		}
	}
	// Automatic renewal: Bob cannot turn on Ann's; Ann can.
	bob.get("/console/renewals")
	code, body = bob.post("/console/renewals/auto-renew", url.Values{"sdkappid": {a1}, "on": {"1"}})
	want(t, "Bob turns on Ann's auto-renewal", code, body, 404, "app "+a1+" does not exist")
	code, body = bob.post("/console/renewals/auto-renew", url.Values{"sdkappid": {"x1"}, "on": {"1"}})
	want(t, "auto-renewal of no SDKAppID", code, body, 400, "is not an SDKAppID")
	unchanged("Bob's auto-renewal forms")
	ann.get("/console/renewals")
	code, body = ann.post("/console/renewals/auto-renew", url.Values{"sdkappid": {a1}, "on": {"1"}, "range": {"30d"}})
	want(t, "auto-renewal on", code, body, 200, "Automatic renewal of alpha ("+a1+") is on.", `form="ar-`+a1+`">Turn off`, `form="ar-`+a2+`">Turn on`)
	if a, _ := e.st.GetApp(ctx, mustInt(t, a1)); !a.AutoRenew {
		t.Fatal("auto-renewal not on")
	}
	code, body = ann.post("/console/renewals/auto-renew", url.Values{"sdkappid": {a1}})
	want(t, "auto-renewal off", code, body, 200, "Automatic renewal of alpha ("+a1+") is off.")
	if a, _ := e.st.GetApp(ctx, mustInt(t, a1)); a.AutoRenew {
		t.Fatal("auto-renewal not off")
	}
	before = e.accountState(acc.ID)

	// The batch renewal: one order of both apps, the new expiries shown.
	renew("batch renewal", url.Values{"app": {a1, a2}, "months": {"2"}, "agree": {"1"}},
		200, "Renewed 2 apps together: one order each, all paid or none.", "2026-12-26 12:00 UTC to 2027-02-26 12:00 UTC", `<td class="new-expiry">2027-02-26</td>`)
	for _, id := range []string{a1, a2} {
		if a, _ := e.st.GetApp(ctx, mustInt(t, id)); a.ExpiresAt.Format("2006-01-02 15:04") != "2027-02-26 12:00" {
			t.Fatalf("app %s expires %s after the renewal", id, a.ExpiresAt)
		}
	}
	orders, _ := e.s.Commerce.OrdersAs(ctx, op, acc.ID)
	if len(orders) != 4 {
		t.Fatalf("orders after the batch: %+v", orders)
	}
	if got := e.accountState(bacc.ID); got != bbefore {
		t.Fatalf("Ann's renewal changed Bob's account: %s", got)
	}

	// The operator names the account, as on the billing page.
	opb := e.browser()
	opb.get("/")
	opb.post("/console/signin/operator", url.Values{"token": {"op-secret"}})
	code, body = opb.get("/console/renewals")
	want(t, "operator without an account", code, body, 200, "name the account whose renewals to show", `<label for="account">Account ID</label>`)
	if strings.Contains(body, "alpha") {
		t.Fatal("the operator sees apps without naming the account")
	}
	code, body = opb.get("/console/renewals?account=" + acc.ID)
	want(t, "operator with Ann's account", code, body, 200, "alpha", "beta", "2027-02-26", `name="account" value="`+acc.ID+`"`)
	code, body = opb.get("/console/renewals?account=acc_nope")
	want(t, "operator with no such account", code, body, 404, "does not exist")
	code, body = bob.get("/console/renewals?account=" + acc.ID)
	want(t, "Bob names Ann's account", code, body, 404, "does not exist")
	if strings.Contains(body, "alpha") {
		t.Fatal("Bob saw Ann's apps")
	}

	// A refund on the detail page: the app is suspended, and the billing
	// center shows the refund with its formula's parts and the app's status.
	ann.get("/console/apps/" + a1)
	code, body = ann.post("/console/apps/"+a1+"/refund", url.Values{"confirm": {"1"}, "reason": {"too many"}})
	want(t, "refund", code, body, 200, "suspended (refund)")
	ds, err := e.s.Commerce.RefundDetailsAs(ctx, tenant.Actor{Account: acc.ID}, "")
	if err != nil || len(ds) != 1 {
		t.Fatalf("refunds: %+v %v", ds, err)
	}
	r := ds[0]
	code, body = ann.get("/console/billing")
	want(t, "billing after the refund", code, body, 200, r.Order.ID, "too many",
		`<td class="effective">$`+r.Effective.String()+`</td>`, `<td class="not-effective">+ $`+r.NotEffective.String()+`</td>`,
		`<td class="used">− $`+r.Used.String()+`</td>`, `<td class="amount">= $`+r.Amount.String()+`</td>`,
		`<tr id="billing-app-`+a1+`">`, "suspended (refund)", "active")
	if r.Effective == 0 || r.NotEffective == 0 || r.Used == 0 {
		t.Fatalf("a refund of a renewed plan lacks a part: %+v", r)
	}
	code, body = ann.get("/console/renewals?range=expired")
	want(t, "expired after the refund", code, body, 200, `value="`+a1+`"`, "suspended (refund)")
	if strings.Contains(body, `value="`+a2+`"`) {
		t.Fatal("an app in force is listed as expired")
	}
}
