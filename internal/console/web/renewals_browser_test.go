package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/tenant"
)

// TestRenewalsInBrowser: sign up, create two apps, buy Standard for both,
// renew both for two months in one batch on the renewal page (the live
// preview's total and new periods, then the new expiries), refund one from
// its page, and see it suspended and the refund's formula in the billing
// center.
func TestRenewalsInBrowser(t *testing.T) {
	c := startConsole(t)
	ctx, base := c.ctx, c.base
	run, textOf, poll := c.run, c.textOf, c.poll
	eval := func(what, expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return s
	}

	run("sign up",
		chromedp.Navigate(base+"/console/signup"),
		chromedp.WaitVisible(chromedp.CSS(`#password[autocomplete="new-password"]`)),
		chromedp.SendKeys(chromedp.ID(`#name`), "Acme"),
		chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"),
		chromedp.SendKeys(chromedp.ID(`#password`), "password1"),
		chromedp.Submit(chromedp.ID(`#password`)),
		chromedp.WaitVisible(chromedp.ID(`#region`)))
	var ids []string
	for _, name := range []string{"alpha", "beta"} {
		run("create "+name,
			chromedp.Navigate(base+"/console/apps"), chromedp.WaitVisible(chromedp.ID(`#region`)),
			chromedp.SendKeys(chromedp.ID(`#name`), name),
			chromedp.Submit(chromedp.ID(`#name`)),
			chromedp.WaitVisible(chromedp.ID(`#confirm`)))
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, loc[strings.LastIndex(loc, "/")+1:])
	}
	a1, a2 := ids[0], ids[1]
	_, acc := c.topUp("ops@acme.example", "2500.00")

	for _, id := range ids {
		run("buy Standard for "+id,
			chromedp.Navigate(base+"/console/apps/"+id+"/buy"), chromedp.WaitVisible(chromedp.CSS(`#preview .due`)),
			chromedp.Click(chromedp.ID(`#agree`)), chromedp.Click(chromedp.ID(`#pay`)),
			chromedp.WaitVisible(chromedp.CSS(`td.expires`)))
	}

	// The renewal page: tick both, two months; the preview follows (htmx).
	run("open the renewals", chromedp.Click(chromedp.CSS(`nav a[href="/console/renewals"]`)), chromedp.WaitVisible(chromedp.ID(`#pick-`+a1)))
	expires := map[string]string{}
	for _, id := range ids {
		expires[id] = textOf("#app-" + id + " td.expires")
		if st := textOf("#app-" + id + " td.status"); st != "active" {
			t.Fatalf("app %s is %q before the renewal", id, st)
		}
	}
	run("tick both", chromedp.Click(chromedp.ID(`#pick-`+a1)), chromedp.Click(chromedp.ID(`#pick-`+a2)),
		poll(`document.querySelectorAll('#preview tr[data-app]').length === 2`))
	c.choose("#months", "2")
	run("the preview of 2 months", poll(`document.querySelector('#preview .due') && document.querySelector('#preview .due').textContent === '$1596.00'`))
	newExpiry := map[string]string{}
	for _, id := range ids {
		period := textOf(`#preview tr[data-app="` + id + `"] .period`)
		from, to, ok := strings.Cut(period, " to ")
		if !ok || from != expires[id] {
			t.Fatalf("app %s: the new period %q does not start at its expiry %q", id, period, expires[id])
		}
		end, err := time.Parse("2006-01-02 15:04 UTC", to)
		if err != nil {
			t.Fatalf("period %q: %v", period, err)
		}
		if d := time.Until(end); d < 88*24*time.Hour || d > 93*24*time.Hour {
			t.Fatalf("app %s: renewed until %s, not about three months from now", id, to)
		}
		newExpiry[id] = end.Format("2006-01-02")
	}
	run("accept the agreement", chromedp.Click(chromedp.ID(`#agree`)))
	eval("scroll to the list", `(document.getElementById('list').scrollIntoView(), '')`)
	c.shot("console-renewals.png")
	run("renew", chromedp.Click(chromedp.ID(`#renew-pay`)), chromedp.WaitVisible(chromedp.CSS(`td.new-expiry`)))
	if n := textOf(`#renewed ~ p.notice`); n != "Renewed 2 apps together: one order each, all paid or none." {
		t.Fatalf("after the renewal: %q", n)
	}
	for _, id := range ids {
		if got := textOf(`.renewed tr[data-app="` + id + `"] td.new-expiry`); got != newExpiry[id] {
			t.Fatalf("app %s: new expiry %q, the preview said %s", id, got, newExpiry[id])
		}
		if got := textOf("#app-" + id + " td.expires"); !strings.HasPrefix(got, newExpiry[id]) {
			t.Fatalf("app %s: the list says it expires %q, want %s", id, got, newExpiry[id])
		}
	}

	// Beta's automatic renewal, turned on from its row (a button of a form of its own).
	if got := textOf("#app-" + a2 + " td.auto-renew"); got != "off Turn on" {
		t.Fatalf("beta's automatic renewal before: %q", got)
	}
	if res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#app-"+a2+" td.auto-renew button"))); err != nil || res.Status != 200 {
		t.Fatalf("turning on beta's automatic renewal: %v %v", res, err)
	}
	if n := textOf("main p.notice"); n != "Automatic renewal of beta ("+a2+") is on." {
		t.Fatalf("after turning on beta's automatic renewal: %q", n)
	}
	if got := textOf("#app-" + a2 + " td.auto-renew"); got != "on Turn off" {
		t.Fatalf("beta's automatic renewal after: %q", got)
	}

	// Refund alpha from its page: it is suspended at once.
	run("refund alpha",
		chromedp.Navigate(base+"/console/apps/"+a1), chromedp.WaitVisible(chromedp.ID(`#refund-confirm`)),
		chromedp.SendKeys(chromedp.ID(`#reason`), "switching"),
		chromedp.Click(chromedp.ID(`#refund-confirm`)),
		chromedp.Click(chromedp.CSS(`form[action$="/refund"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.refund-amount`)))
	if o := textOf("#overview + dl"); !strings.Contains(o, "suspended (refund)") {
		t.Fatalf("alpha's page after the refund: %q", o)
	}
	run("the overview", chromedp.Navigate(base+"/console/apps"), chromedp.WaitVisible(chromedp.CSS(`td.expires`)))
	status := func(id string) string {
		return eval("status of "+id, fmt.Sprintf(`[...document.querySelectorAll('tbody tr')].find(r => r.cells[1].textContent === %q).cells[2].textContent`, id))
	}
	if s1, s2 := status(a1), status(a2); s1 != "suspended (refund)" || s2 != "active" {
		t.Fatalf("overview: alpha %q, beta %q", s1, s2)
	}

	// The billing center: the refund with its formula's parts, the apps' status.
	run("billing", chromedp.Click(chromedp.CSS(`nav a[href="/console/billing"]`)), chromedp.WaitVisible(chromedp.CSS(`table.refunds`)))
	ds, err := c.s.Commerce.RefundDetailsAs(context.Background(), tenant.Actor{Account: acc}, "")
	if err != nil || len(ds) != 1 {
		t.Fatalf("refunds: %+v %v", ds, err)
	}
	r := ds[0]
	if r.Effective == 0 || r.NotEffective == 0 || r.Used == 0 {
		t.Fatalf("a refund of a plan renewed in advance lacks a part: %+v", r)
	}
	for sel, want := range map[string]string{
		".refunds td.effective": "$" + r.Effective.String(), ".refunds td.not-effective": "+ $" + r.NotEffective.String(),
		".refunds td.used": "− $" + r.Used.String(), ".refunds td.amount": "= $" + r.Amount.String(),
		"#billing-app-" + a1 + " td.status": "suspended (refund)", "#billing-app-" + a2 + " td.status": "active",
	} {
		if got := textOf(sel); got != want {
			t.Fatalf("billing %s: %q, want %q", sel, got, want)
		}
	}
}

// TestRenewalsWithoutJavaScript: with scripts disabled, the renewal page's
// price follows the form through its own button, and the batch is renewed.
func TestRenewalsWithoutJavaScript(t *testing.T) {
	c := startConsole(t)
	ctx, base := c.ctx, c.base
	c.noScripts()
	navigate := func(what string, action chromedp.Action[chromedp.Void]) {
		t.Helper()
		res, err := chromedp.RunResponse(ctx, action)
		if err != nil || res.Status != 200 {
			t.Fatalf("%s: %v %v", what, res, err)
		}
	}
	c.run("sign up",
		chromedp.Navigate(base+"/console/signup"), chromedp.WaitVisible(chromedp.CSS(`#password[autocomplete="new-password"]`)),
		chromedp.SendKeys(chromedp.ID(`#name`), "Acme"),
		chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"),
		chromedp.SendKeys(chromedp.ID(`#password`), "password1"))
	navigate("sign up", chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
	c.run("name the app", chromedp.SendKeys(chromedp.ID(`#name`), "chat"))
	navigate("create the app", chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	c.topUp("ops@acme.example", "2000.00")
	navigate("open the purchase", chromedp.Navigate(base+"/console/apps/"+id+"/buy"))
	c.run("accept the agreement", chromedp.Click(chromedp.ID(`#agree`)))
	navigate("pay", chromedp.Click(chromedp.ID(`#pay`)))

	navigate("open the renewals", chromedp.Navigate(base+"/console/renewals"))
	if p := c.textOf("#preview"); !strings.Contains(p, "Tick the apps to renew") {
		t.Fatalf("the first preview: %q", p)
	}
	c.run("tick the app, 3 months", chromedp.Click(chromedp.ID(`#pick-`+id)), chromedp.SetValue(chromedp.ID(`#months`), "3"))
	navigate("update the price", chromedp.Click(chromedp.CSS(`button.nojs`)))
	if due := c.textOf("#preview .due"); due != "$1197.00" {
		t.Fatalf("the price after the form's button: %q", due)
	}
	period := c.textOf(`#preview tr[data-app="` + id + `"] .period`)
	to, err := time.Parse("2006-01-02 15:04 UTC", period[strings.LastIndex(period, " to ")+4:])
	if err != nil {
		t.Fatalf("period %q: %v", period, err)
	}
	c.run("accept the agreement", chromedp.Click(chromedp.ID(`#agree`)))
	navigate("renew", chromedp.Click(chromedp.ID(`#renew-pay`)))
	if got := c.textOf(`.renewed tr[data-app="` + id + `"] td.new-expiry`); got != to.Format("2006-01-02") {
		t.Fatalf("new expiry %q, the preview said %s", got, to.Format("2006-01-02"))
	}
}
