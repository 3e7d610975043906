package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	stdpng "image/png"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/testbrowser"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/tenant"
)

// The browser test drives the console's pages in headless Chromium against a
// real chatd (the embedded store, a port of its own), as sdk/js's tests do.

// imgDir is where the screenshots of the main pages go (the README shows them).
const imgDir = "../../../docs/img"

// operatorAPI calls the console JSON API in the operator's session.
type operatorAPI struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (o *operatorAPI) call(method, path string, body any, out any) {
	o.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, o.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if o.csrf != "" {
		req.Header.Set("X-CSRF-Token", o.csrf)
	}
	res, err := o.c.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var e map[string]any
		_ = json.NewDecoder(res.Body).Decode(&e)
		o.t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, e)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			o.t.Fatal(err)
		}
	}
}

// console is a chatd serving the console on a port of its own and a
// headless Chromium to drive it.
type console struct {
	t     *testing.T
	s     *server.Server
	st    store.Store
	base  string
	ctx   context.Context
	shots string // where screenshots go unless CHATD_UPDATE_SCREENSHOTS is set
}

// startConsole starts chatd (the embedded store) and Chromium; both stop
// when the test ends.
func startConsole(t *testing.T) *console { return startConsoleOn(t, nil) }

// startConsoleOn is startConsole on the manual clock m (chatd serve
// --fake-clock); nil is the real clock.
func startConsoleOn(t *testing.T, m *clock.Manual) *console {
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	var clk clock.Clock = clock.Real{}
	if m != nil {
		clk = m
	}
	s, err := server.New(server.Config{Store: st, Clock: clk, Manual: m, Logger: slog.New(slog.DiscardHandler),
		OperatorToken: "op-secret", OperatorTokenFile: "/var/lib/chatd/operator.token", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln, "", "") }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()

	ctx := testbrowser.Start(t, chromedp.WindowSize(1100, 800))
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)

	return &console{t: t, s: s, st: st, base: base, ctx: ctx}
}

// run does steps in the browser; what names them in a failure.
func (c *console) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a screenshot of the page as name. The README's screenshots are
// rewritten with CHATD_UPDATE_SCREENSHOTS=1; otherwise they go to a temporary
// directory (the tree stays clean).
func (c *console) shot(name string) {
	c.t.Helper()
	dir := imgDir
	if os.Getenv("CHATD_UPDATE_SCREENSHOTS") == "" {
		if c.shots == "" {
			c.shots = c.t.TempDir()
		}
		dir = c.shots
	}
	png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if cfg, err := stdpng.DecodeConfig(bytes.NewReader(png)); err != nil || cfg.Width < 600 || cfg.Height < 400 {
		c.t.Fatalf("screenshot %s is not a page-sized PNG: %+v %v", name, cfg, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// follow does action (a click or submit that loads a page), waits for that
// page's response, which must be 200, then for sel to show. Waiting for the
// response first keeps the wait for sel off the page being left.
func (c *console) follow(what string, action chromedp.Action[chromedp.Void], sel string) {
	c.t.Helper()
	res, err := chromedp.RunResponse(c.ctx, action)
	if err != nil || res.Status != 200 {
		body, _ := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS("body")))
		c.t.Fatalf("%s: %v %v\n%s", what, res, err, body)
	}
	c.run(what, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// noScripts turns JavaScript off in the browser: the pages must work
// through plain forms.
func (c *console) noScripts() {
	c.t.Helper()
	if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		c.t.Fatal(err)
	}
}

// textOf is the text of the first element sel matches, trimmed.
func (c *console) textOf(sel string) string {
	c.t.Helper()
	text, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(text)
}

// poll waits (at most 10 s) until the JavaScript expr is true.
func (c *console) poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
}

// choose sets the value of the control sel and fires its change event.
func (c *console) choose(sel, value string) {
	c.t.Helper()
	_, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)))
	if err != nil {
		c.t.Fatalf("choosing %s %s: %v", sel, value, err)
	}
}

// voucher has the operator top up the account of email with $500.00 and
// issue it a voucher of $50.00, through the console API; it returns the
// voucher's id.
func (c *console) voucher(email string) string {
	op, acc := c.topUp(email, "500.00")
	var v struct {
		ID string `json:"id"`
	}
	op.call("POST", "/console/v1/vouchers", map[string]any{"account": acc, "amount": "50.00",
		"expires": time.Now().UTC().AddDate(0, 1, 0).Format("2006-01-02")}, &v)
	return v.ID
}

// topUp has the operator add cash (dollars, "500.00") to the account of
// email through the console API; it returns the operator's API session and
// the account's id.
func (c *console) topUp(email, cash string) (*operatorAPI, string) {
	t, base := c.t, c.base
	jar, _ := cookiejar.New(nil)
	op := &operatorAPI{t: t, base: base, c: &http.Client{Jar: jar}}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	op.call("POST", "/console/v1/signin/operator", map[string]any{"token": "op-secret"}, &me)
	op.csrf = me.CSRF
	var accs struct {
		Accounts []struct{ ID, Email string } `json:"accounts"`
	}
	op.call("GET", "/console/v1/accounts", nil, &accs)
	acc := ""
	for _, a := range accs.Accounts {
		if a.Email == email {
			acc = a.ID
		}
	}
	op.call("POST", "/console/v1/accounts/"+acc+"/topup", map[string]any{"cash": cash}, nil)
	return op, acc
}

// TestConsoleInBrowser: sign up, create an app, buy Standard for it with a
// voucher the operator issued (through the API), with the live price
// preview, and see the new expiry on the overview.
func TestConsoleInBrowser(t *testing.T) {
	c := startConsole(t)
	ctx, base := c.ctx, c.base
	run, shot, textOf, poll, choose := c.run, c.shot, c.textOf, c.poll, c.choose

	// / shows the sign-in with the operator's hint.
	run("open /", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID(`#email`)))
	if hint := textOf(".hint"); hint != "Operator: sign in with the token in operator.token in the server's data directory (chatd serve logs its path)." {
		t.Fatalf("hint: %q", hint)
	}
	shot("console-signin.png")

	// Sign up.
	run("sign up",
		chromedp.Click(chromedp.CSS(`a[href="/console/signup"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#password[autocomplete="new-password"]`)),
		chromedp.SendKeys(chromedp.ID(`#name`), "Acme"),
		chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"),
		chromedp.SendKeys(chromedp.ID(`#password`), "password1"),
		chromedp.Submit(chromedp.ID(`#password`)),
		chromedp.WaitVisible(chromedp.ID(`#region`)))

	// Create an app.
	run("create an app",
		chromedp.SendKeys(chromedp.ID(`#name`), "chat"),
		chromedp.SetValue(chromedp.ID(`#region`), "tokyo"),
		chromedp.Submit(chromedp.ID(`#name`)),
		chromedp.WaitVisible(chromedp.ID(`#confirm`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	if h1 := textOf("h1"); h1 != "chat" {
		t.Fatalf("app page h1: %q", h1)
	}
	run("show the secret key",
		chromedp.Click(chromedp.CSS(`form[action$="/secret"] button`)),
		chromedp.WaitVisible(chromedp.ID(`#secret-key`)))
	if key := textOf("#secret-key"); key != "" {
		t.Fatalf("the key is an input's value, not its text: %q", key)
	}
	if key, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('secret-key').value`)); err != nil || len(key) < 32 {
		t.Fatalf("secret key shown: %q %v", key, err)
	}
	run("copy the secret key", chromedp.Click(chromedp.CSS(`button.copy`)), poll(`document.querySelector('button.copy').textContent === 'Copied'`))
	shot("console-app.png")

	// Usage recorded today and three days ago shows as bars and in the table.
	sdkappid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	for i, user := range []string{"alice", "bob", "carol"} {
		c.s.Usage.Login(sdkappid, user, today)
		for range 3 * (i + 1) {
			c.s.Usage.C2C(sdkappid, user, today)
		}
	}
	c.s.Usage.Login(sdkappid, "alice", today.AddDate(0, 0, -3))
	c.s.Usage.Group(sdkappid, "alice", today.AddDate(0, 0, -3))
	if err := c.s.Usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	run("the usage section", chromedp.Navigate(base+"/console/apps/"+id), chromedp.WaitVisible(chromedp.ID(`#chart-msgs`)))
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('svg.chart')].map(s => s.querySelectorAll('rect.bar').length)`))
	if err != nil || fmt.Sprint(bars) != "[2 2 2]" {
		t.Fatalf("bars per chart: %v %v", bars, err)
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('#chart-msgs rect.bar:last-of-type').getBoundingClientRect().height`))
	if err != nil || h < 100 {
		t.Fatalf("the busiest day's bar is %v px tall (%v)", h, err)
	}
	if row := textOf(".usage tbody tr:last-child"); row != today.Format("2006-01-02")+"\t3\t3\t18\t0" {
		t.Fatalf("today's row: %q", row)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('usage-section').scrollIntoView(), true)`)); err != nil {
		t.Fatal(err)
	}
	shot("console-usage.png")

	// The operator tops the account up and issues a voucher through the API.
	v := struct{ ID string }{c.voucher("ops@acme.example")}

	// Buy Standard with the voucher: the price preview follows the form (htmx).
	run("open the purchase", chromedp.Navigate(base+"/console/apps/"+id+"/buy"), chromedp.WaitVisible(chromedp.CSS(`#preview .due`)))
	if due := textOf("#preview .due"); due != "$399.00" {
		t.Fatalf("first preview: %q", due)
	}
	choose("#months", "2")
	run("the preview of 2 months", poll(`document.querySelector('#preview .due') && document.querySelector('#preview .due').textContent === '$798.00'`))
	choose("#months", "1")
	choose("#voucher", v.ID)
	run("the preview of 1 month with the voucher", poll(`document.querySelector('#preview .due') && document.querySelector('#preview .due').textContent === '$349.00'`))
	period := textOf("#preview .period")
	to := period[strings.LastIndex(period, " to ")+4:]
	expiry, err := time.Parse("2006-01-02 15:04 UTC", to)
	if err != nil {
		t.Fatalf("validity %q: %v", period, err)
	}
	if d := time.Until(expiry); d < 27*24*time.Hour || d > 32*24*time.Hour {
		t.Fatalf("validity %q is not about a month from now", period)
	}
	run("accept the agreement", chromedp.Click(chromedp.ID(`#agree`)))
	shot("console-buy.png")
	run("pay", chromedp.Click(chromedp.CSS(`#pay`)))
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`td.expires`))); err != nil {
		main, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("after paying: %v\n%s", err, main)
	}

	// The overview shows the new edition and expiry.
	if got := textOf("td.expires"); got != expiry.Format("2006-01-02") {
		t.Fatalf("overview expiry %q, want %s", got, expiry.Format("2006-01-02"))
	}
	if row := textOf("tbody tr"); !strings.Contains(row, "Standard") || !strings.Contains(row, id) {
		t.Fatalf("overview row: %q", row)
	}
	shot("console-apps.png")

	run("billing", chromedp.Click(chromedp.CSS(`a[href="/console/billing"]`)), chromedp.WaitVisible(chromedp.ID(`#inbox`)))
	if b := textOf("main"); !strings.Contains(b, "$151.00") || !strings.Contains(b, "$349.00") || !strings.Contains(b, v.ID) {
		t.Fatalf("billing: %q", b)
	}
	shot("console-billing.png")

	// Sign out ends the session.
	run("sign out", chromedp.Click(chromedp.CSS(`.signout button`)), chromedp.WaitVisible(chromedp.ID(`#token`)),
		chromedp.Navigate(base+"/console/apps"), chromedp.WaitVisible(chromedp.ID(`#token`)))
}

// TestConsoleWithoutJavaScript: with scripts disabled in the browser, the
// same journey works through plain forms: the price is updated by the
// form's own button, and the order is placed.
func TestConsoleWithoutJavaScript(t *testing.T) {
	c := startConsole(t)
	ctx, base := c.ctx, c.base
	c.noScripts()
	run, textOf := c.run, c.textOf
	run("sign up",
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID(`#email`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/signup"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#password[autocomplete="new-password"]`)),
		chromedp.SendKeys(chromedp.ID(`#name`), "Acme"),
		chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"),
		chromedp.SendKeys(chromedp.ID(`#password`), "password1"),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`#region`)))
	if on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.htmx !== 'undefined'`)); err != nil || on {
		t.Fatalf("scripts ran on the page (htmx loaded: %v, %v)", on, err)
	}
	run("create an app",
		chromedp.SendKeys(chromedp.ID(`#name`), "chat"),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`#confirm`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	v := c.voucher("ops@acme.example")

	run("open the purchase", chromedp.Navigate(base+"/console/apps/"+id+"/buy"), chromedp.WaitVisible(chromedp.CSS(`#preview .due`)))
	// Without htmx the price follows the form only when asked: the button shows.
	run("choose the voucher", chromedp.SetValue(chromedp.ID(`#voucher`), v))
	// navigate clicks sel and waits for the page the form answers with.
	navigate := func(what, sel string) {
		t.Helper()
		res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err != nil || res.Status != 200 {
			t.Fatalf("%s: %v %v", what, res, err)
		}
	}
	navigate("update the price", `button.nojs`)
	if due := textOf("#preview .due"); due != "$349.00" {
		t.Fatalf("the price after the form's button: %q", due)
	}
	period := textOf("#preview .period")
	to, err := time.Parse("2006-01-02 15:04 UTC", period[strings.LastIndex(period, " to ")+4:])
	if err != nil {
		t.Fatalf("validity %q: %v", period, err)
	}
	run("accept the agreement", chromedp.Click(chromedp.ID(`#agree`)))
	navigate("pay", `#pay`)
	if got := textOf("td.expires"); got != to.Format("2006-01-02") {
		t.Fatalf("overview expiry %q, want %s", got, to.Format("2006-01-02"))
	}
	if row := textOf("tbody tr"); !strings.Contains(row, "Standard") {
		t.Fatalf("overview row: %q", row)
	}
}

// TestOperatorTopUpResumesOverdueAccount: a customer's account cannot pay its
// November bill (push plugin overage) and is suspended for arrears 24 hours
// later (the scheduler on a fake clock); the customer sees the app suspended;
// the operator signs in in the browser, finds the account on the accounts
// page, tops it up on its billing page, and the customer's app shows active
// again.
func TestOperatorTopUpResumesOverdueAccount(t *testing.T) {
	m := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	c := startConsoleOn(t, m)
	ctx, base := c.ctx, c.base
	bg := context.Background()
	op := tenant.Actor{Operator: true}

	// The customer: an app with the push plugin ($299.00 of $300.00 cash) and
	// 105 all-users push calls on one day, 5 beyond the 100 free at $10.00 each.
	acc, _, err := c.s.Auth.SignUp(bg, "Acme", "ops@acme.example", "password1", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	app, err := c.s.Tenants.CreateAppAs(bg, tenant.Actor{Account: acc.ID}, "", "chat", "singapore")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Commerce.TopUpAs(bg, op, commerce.TopUpRequest{AccountID: acc.ID, Cash: 30000}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Commerce.BuyAddonAs(bg, tenant.Actor{Account: acc.ID}, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: catalog.Push, Months: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.st.AddUsage(bg, store.Usage{SDKAppID: app.SDKAppID, Metric: catalog.MetricPushCalls, Day: "2026-11-25", Quantity: 105}); err != nil {
		t.Fatal(err)
	}
	// 1 December: the $50.00 bill leaves cash at −$49.00 (overdue); a day
	// later the account and its app are suspended for arrears.
	if _, err := c.s.Lifecycle.Set(bg, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if a, err := c.st.GetApp(bg, app.SDKAppID); err != nil || a.Status != store.StatusSuspended || a.SuspendReason != commerce.ReasonArrears {
		t.Fatalf("the app before the top-up: %+v %v", a, err)
	}
	id := strconv.FormatInt(app.SDKAppID, 10)

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", what, err, body)
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(text)
	}
	signIn := func() {
		t.Helper()
		run("customer sign-in page", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible(chromedp.ID(`#email`)),
			chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"), chromedp.SendKeys(chromedp.ID(`#password`), "password1"))
		c.follow("customer sign-in", chromedp.Submit(chromedp.ID(`#password`)), `#list`)
	}
	signOut := func() {
		t.Helper()
		c.follow("sign out", chromedp.Click(chromedp.CSS(`.signout button`)), `#token`)
	}

	// The customer sees the app suspended for arrears.
	signIn()
	if row := textOf("tbody tr"); !strings.Contains(row, "suspended (arrears)") {
		t.Fatalf("the customer's app before the top-up: %q", row)
	}
	if why := textOf("#account-suspended"); !strings.Contains(why, "suspended for arrears (balance -49.00 USD)") || !strings.Contains(why, "top-up") {
		t.Fatalf("the customer's banner: %q", why)
	}
	signOut()

	// The operator finds the account and tops it up by $49.00.
	run("operator token", chromedp.SendKeys(chromedp.ID(`#token`), "op-secret"))
	c.follow("operator sign-in", chromedp.Submit(chromedp.ID(`#token`)), `a[href="/console/accounts"]`)
	c.follow("accounts", chromedp.Click(chromedp.CSS(`a[href="/console/accounts"]`)), `a[href="/console/billing?account=`+acc.ID+`"]`)
	if row := textOf(`tbody tr`); !strings.Contains(row, "ops@acme.example") || !strings.Contains(row, "suspended (arrears)") || !strings.Contains(row, "−$49.00") {
		t.Fatalf("the account's row: %q", row)
	}
	c.shot("console-operator-accounts.png")
	c.follow("the account's billing", chromedp.Click(chromedp.CSS(`a[href="/console/billing?account=`+acc.ID+`"]`)), `#topup-cash`)
	if s := textOf(".account-status"); !strings.HasPrefix(s, "suspended (arrears)") {
		t.Fatalf("account status before the top-up: %q", s)
	}
	if s := textOf("table.apps td.status"); s != "suspended (arrears)" {
		t.Fatalf("app status before the top-up: %q", s)
	}
	run("the amount", chromedp.SendKeys(chromedp.ID(`#topup-cash`), "49.00"))
	c.follow("top up", chromedp.Click(chromedp.ID(`#topup-submit`)), `p.notice`)
	if n := textOf("p.notice"); !strings.Contains(n, "Topped up cash $49.00") || !strings.Contains(n, "cash $0.00") {
		t.Fatalf("notice after the top-up: %q", n)
	}
	if s := textOf(".account-status"); s != "active" {
		t.Fatalf("account status after the top-up: %q", s)
	}
	if s := textOf("table.apps td.status"); s != "active" {
		t.Fatalf("app status after the top-up: %q", s)
	}
	c.shot("console-operator-account.png")
	signOut()

	// The customer's app is active again.
	signIn()
	if row := textOf("tbody tr"); !strings.Contains(row, "active") || strings.Contains(row, "suspended") || !strings.Contains(row, id) {
		t.Fatalf("the customer's app after the top-up: %q", row)
	}
	run("the app's page", chromedp.Navigate(base+"/console/apps/"+id), chromedp.WaitVisible(chromedp.ID(`#overview`)))
	if st := textOf("#overview + dl dd:nth-of-type(2)"); st != "active" {
		t.Fatalf("the app's status on its page: %q", st)
	}
	if a, err := c.st.GetApp(bg, app.SDKAppID); err != nil || a.Status != store.StatusActive {
		t.Fatalf("the app after the top-up: %+v %v", a, err)
	}
}
