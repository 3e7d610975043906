package console_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// snapshot is everything of an account the commerce routes may change.
type snapshot struct {
	acc      store.Account
	apps     []store.App
	orders   []store.Order
	ledger   []store.LedgerEntry
	vouchers []store.Voucher
	cbs      []store.CallbackConfig
}

func (e *env) snap(account string) snapshot {
	e.t.Helper()
	var s snapshot
	var err error
	if s.acc, err = e.st.GetAccount(ctx, account); err != nil {
		e.t.Fatal(err)
	}
	if s.apps, err = e.st.ListApps(ctx, account); err != nil {
		e.t.Fatal(err)
	}
	if s.orders, err = e.st.ListOrders(ctx, account); err != nil {
		e.t.Fatal(err)
	}
	if s.ledger, err = e.st.ListLedger(ctx, account); err != nil {
		e.t.Fatal(err)
	}
	if s.vouchers, err = e.st.ListVouchers(ctx, account); err != nil {
		e.t.Fatal(err)
	}
	for _, a := range s.apps {
		c, err := e.st.CallbackConfig(ctx, a.SDKAppID)
		if err != nil {
			e.t.Fatal(err)
		}
		s.cbs = append(s.cbs, c)
	}
	return s
}

func (e *env) same(what string, before snapshot, account string) {
	e.t.Helper()
	if after := e.snap(account); !reflect.DeepEqual(before, after) {
		e.t.Fatalf("%s changed account %s:\nbefore %+v\nafter  %+v", what, account, before, after)
	}
}

// topUp gives account cash through the operator's console route.
func (e *env) topUp(op *client, account, cash string) {
	e.t.Helper()
	e.want(e.do(op, "POST", "/console/v1/accounts/"+account+"/topup", `{"cash":"`+cash+`"}`), 200, "top-up")
}

func app(id int64, rest string) string { return fmt.Sprintf("/console/v1/apps/%d%s", id, rest) }

// The purchase guide end to end: preview (no charge), the agreement checkbox,
// buy with an idempotent request id, auto-renew, upgrade, batch renewal,
// refunds with the formula's parts, and the billing center.
func TestPurchaseGuide(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		a1, a2, a3 := e.createApp(ann, "One"), e.createApp(ann, "Two"), e.createApp(ann, "Three")
		e.topUp(op, annID, "10000.00")

		// Preview: the price and period, nothing charged.
		before := e.snap(annID)
		// The order's own body previews (its agreement and request id are allowed).
		pv := e.do(ann, "POST", app(a1, "/plan/preview"), `{"edition":"standard","months":3,"auto_renew":true,"accept_agreement":true,"request_id":"p-1"}`)
		e.want(pv, 200, "preview")
		if pv.body["list_price"] != "1197.00" || pv.body["due"] != "1197.00" || pv.body["sufficient"] != true ||
			pv.body["cash"] != "1197.00" || pv.body["effective_from"] != "2026-11-30T12:00:00Z" || pv.body["auto_renew"] != true {
			t.Fatalf("preview = %s", pv.raw)
		}
		e.same("a preview", before, annID)

		// The agreement checkbox is required.
		r := e.do(ann, "POST", app(a1, "/plan"), `{"edition":"standard","months":3,"request_id":"buy-1"}`)
		e.want(r, 400, "buy without the agreement")
		if !strings.Contains(r.str("error"), "accept_agreement") {
			t.Fatalf("agreement message: %s", r.raw)
		}
		e.same("a refused buy", before, annID)

		body := `{"edition":"standard","months":3,"auto_renew":true,"accept_agreement":true,"request_id":"buy-1"}`
		b1 := e.do(ann, "POST", app(a1, "/plan"), body)
		e.want(b1, 200, "buy")
		// The preview and the order agree.
		for _, k := range []string{"list_price", "cash", "credit", "effective_from", "effective_to", "auto_renew"} {
			if b1.body[k] != pv.body[k] {
				t.Fatalf("preview %s = %v, order %v", k, pv.body[k], b1.body[k])
			}
		}
		// The same request id: the same order, charged once.
		b2 := e.do(ann, "POST", app(a1, "/plan"), body)
		e.want(b2, 200, "buy again")
		if b2.body["id"] != b1.body["id"] {
			t.Fatalf("a repeated request made another order: %s vs %s", b1.raw, b2.raw)
		}
		bal := e.do(ann, "GET", "/console/v1/balance", "")
		e.want(bal, 200, "balance")
		if bal.body["cash"] != "8803.00" || bal.body["credit"] != "0.00" || bal.body["total"] != "8803.00" {
			t.Fatalf("balance after one purchase = %s", bal.raw)
		}
		// The id with other parameters is refused.
		before = e.snap(annID)
		e.want(e.do(ann, "POST", app(a1, "/plan"), strings.Replace(body, `"months":3`, `"months":4`, 1)), 409, "request id reused")
		e.same("a reused request id", before, annID)

		// Auto-renew off and on.
		ar := e.do(ann, "PUT", app(a1, "/auto-renew"), `{"on":false}`)
		e.want(ar, 200, "auto-renew off")
		if ar.body["auto_renew"] != false {
			t.Fatalf("auto-renew = %s", ar.raw)
		}

		// Upgrade, then a batch renewal of two apps.
		e.want(e.do(ann, "POST", app(a2, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true}`), 200, "buy a2")
		e.clk.Advance(3 * time.Hour) // part of the Standard month is used
		before = e.snap(annID)
		upv := e.do(ann, "POST", app(a2, "/upgrade/preview"), `{"edition":"premium"}`)
		e.want(upv, 200, "upgrade preview")
		e.same("an upgrade preview", before, annID)
		up := e.do(ann, "POST", app(a2, "/upgrade"), `{"edition":"premium","accept_agreement":true,"request_id":"up-1"}`)
		e.want(up, 200, "upgrade")
		for _, k := range []string{"list_price", "cash", "credit", "carried_cash", "carried_credit", "effective_from", "effective_to"} {
			if up.body[k] != upv.body[k] {
				t.Fatalf("upgrade preview %s = %v, order %v", k, upv.body[k], up.body[k])
			}
		}
		if upv.body["carried_cash"] == "0.00" || upv.body["list_price"] == "0.00" {
			t.Fatalf("upgrade preview = %s", upv.raw)
		}
		if up.body["kind"] != "upgrade" || up.body["product"] != "premium" {
			t.Fatalf("upgrade = %s", up.raw)
		}
		before = e.snap(annID)
		rnv := e.do(ann, "POST", "/console/v1/renewals/preview", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":2}`, a1, a2))
		e.want(rnv, 200, "renewal preview")
		e.same("a renewal preview", before, annID)
		rn := e.do(ann, "POST", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":2,"accept_agreement":true,"request_id":"rn-1"}`, a1, a2))
		e.want(rn, 200, "batch renewal")
		if rnv.body["sufficient"] != true || rnv.body["due"] != "2196.00" {
			t.Fatalf("renewal preview = %s", rnv.raw)
		}
		for i, o := range rn.body["orders"].([]any) {
			pv := rnv.body["orders"].([]any)[i].(map[string]any)
			for _, k := range []string{"sdkappid", "list_price", "cash", "credit", "effective_from", "effective_to"} {
				if o.(map[string]any)[k] != pv[k] {
					t.Fatalf("renewal preview %d %s = %v, order %v", i, k, pv[k], o.(map[string]any)[k])
				}
			}
		}
		if n := len(rn.body["orders"].([]any)); n != 2 {
			t.Fatalf("batch renewal made %d orders: %s", n, rn.raw)
		}
		rn2 := e.do(ann, "POST", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":2,"accept_agreement":true,"request_id":"rn-1"}`, a1, a2))
		if rn2.code != 200 || fmt.Sprint(rn2.body["orders"]) != fmt.Sprint(rn.body["orders"]) {
			t.Fatalf("a repeated batch renewal: %s", rn2.raw)
		}

		// Refund of a plan bought 8 hours before: the formula's parts.
		e.want(e.do(ann, "POST", app(a3, "/plan"), `{"edition":"standard","months":3,"accept_agreement":true}`), 200, "buy a3")
		e.clk.Advance(8 * time.Hour) // within the session; the first day is used
		rf := e.do(ann, "POST", app(a3, "/refund"), `{"reason":"not needed","request_id":"rf-1"}`)
		e.want(rf, 200, "refund")
		if rf.body["effective"] != "399.00" || rf.body["not_effective"] != "798.00" || rf.body["used"] != "13.30" ||
			rf.body["amount"] != "1183.70" || rf.body["cash"] != "1183.70" {
			t.Fatalf("refund = %s", rf.raw)
		}

		// Add-on: buy one, refund it.
		cat := catalogAddon(t)
		ad := e.do(ann, "POST", app(a1, "/addons"), `{"addon":"`+cat+`","months":1,"accept_agreement":true}`)
		e.want(ad, 200, "buy add-on")
		ra := e.do(ann, "POST", app(a1, "/addons/"+cat+"/refund"), `{}`)
		e.want(ra, 200, "refund add-on")
		if ra.body["refund"].(map[string]any)["kind"] != "refund" {
			t.Fatalf("add-on refund = %s", ra.raw)
		}

		// The billing center.
		tu := e.do(ann, "GET", "/console/v1/topups", "")
		e.want(tu, 200, "top-ups")
		if l := tu.body["topups"].([]any); len(l) != 1 || l[0].(map[string]any)["cash"] != "10000.00" {
			t.Fatalf("top-ups = %s", tu.raw)
		}
		rfs := e.do(ann, "GET", "/console/v1/refunds", "")
		e.want(rfs, 200, "refunds")
		if l := rfs.body["refunds"]; l != nil {
			t.Fatalf("refunds answer has a refunds key: %s", rfs.raw)
		}
		if l := rfs.body["orders"].([]any); len(l) != 2 {
			t.Fatalf("refunds = %s", rfs.raw)
		}
		ords := e.do(ann, "GET", "/console/v1/orders", "")
		e.want(ords, 200, "orders")
		oid := b1.body["id"].(string)
		o := e.do(ann, "GET", "/console/v1/orders/"+oid, "")
		e.want(o, 200, "one order")
		if o.body["id"] != oid || o.body["agreement_accepted"] != true {
			t.Fatalf("order = %s", o.raw)
		}
		e.issueBill(annID, "2026-11")
		bl := e.do(ann, "GET", "/console/v1/bills", "")
		e.want(bl, 200, "bills")
		l := bl.body["bills"].([]any)
		if len(l) != 1 || l[0].(map[string]any)["month"] != "2026-11" {
			t.Fatalf("bills = %s", bl.raw)
		}
		bid := l[0].(map[string]any)["id"].(string)
		if b := e.do(ann, "GET", "/console/v1/bills/"+bid, ""); b.code != 200 || b.body["id"] != bid {
			t.Fatalf("one bill = %s", b.raw)
		}
		err := e.st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
			return tx.InsertNotification(ctx, store.Notification{ID: "ntf_1", AccountID: annID, SDKAppID: a1, Key: "k1",
				Kind: "expiry_reminder", Channel: "email", Recipient: "ann@example.com", Subject: "Renew", Body: "b",
				DueAt: e.clk.Now(), Status: "pending"})
		})
		if err != nil {
			t.Fatal(err)
		}
		nt := e.do(ann, "GET", "/console/v1/notifications", "")
		e.want(nt, 200, "notifications")
		if l := nt.body["notifications"].([]any); len(l) != 1 || l[0].(map[string]any)["subject"] != "Renew" ||
			l[0].(map[string]any)["sdkappid"] != float64(a1) {
			t.Fatalf("notifications = %s", nt.raw)
		}

		// Renewal management: apps by expiry range.
		all := e.do(ann, "GET", "/console/v1/renewals", "")
		e.want(all, 200, "expiring, no range")
		if n := len(all.body["apps"].([]any)); n != 3 {
			t.Fatalf("all apps by expiry: %s", all.raw)
		}
		a1app, _ := e.st.GetApp(ctx, a1)
		exp := a1app.ExpiresAt.UTC().Format(time.RFC3339)
		one := e.do(ann, "GET", "/console/v1/renewals?from="+exp+"&to="+a1app.ExpiresAt.Add(time.Second).UTC().Format(time.RFC3339), "")
		e.want(one, 200, "expiring in a range")
		if l := one.body["apps"].([]any); len(l) != 1 || l[0].(map[string]any)["sdkappid"] != float64(a1) {
			t.Fatalf("apps expiring at %s: %s", exp, one.raw)
		}

		// Usage for charts.
		a1app, _ = e.st.GetApp(ctx, a1)
		if err := e.gate.AdmitLogin(ctx, a1app, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.AdmitMonthly(ctx, a1, "2026-10", "bob", 0, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		u := e.do(ann, "GET", app(a1, "/usage"), "")
		e.want(u, 200, "usage")
		if m := u.body["mau"].(map[string]any); m["free"] != 10000.0 || m["used"] != 1.0 || m["month"] != "2026-11" ||
			fmt.Sprint(u.body["previous_month"]) != "map[month:2026-10 used:1]" {
			t.Fatalf("usage = %s", u.raw)
		}
		// The last 30 UTC days, oldest first, zeros where nothing happened.
		e.clk.Set(e.clk.Now().AddDate(0, 0, -2))
		e.usage.C2C(a1, "alice", e.clk.Now())
		e.clk.Set(e.clk.Now().AddDate(0, 0, 2))
		e.usage.Login(a1, "alice", e.clk.Now())
		e.usage.Login(a1, "alice", e.clk.Now())
		e.usage.C2C(a1, "bob", e.clk.Now())
		e.usage.Group(a1, "carol", e.clk.Now())
		e.usage.Group(a2, "dave", e.clk.Now()) // another app's
		if err := e.usage.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		u = e.do(ann, "GET", app(a1, "/usage"), "")
		e.want(u, 200, "usage with days")
		days := u.body["daily"].([]any)
		today := e.clk.Now().UTC()
		if len(days) != 30 || days[0].(map[string]any)["day"] != today.AddDate(0, 0, -29).Format(time.DateOnly) {
			t.Fatalf("daily = %s", u.raw)
		}
		want := map[int]string{
			27: "map[active_users:1 c2c_msgs:1 day:" + today.AddDate(0, 0, -2).Format(time.DateOnly) + " group_msgs:0 logins:0]",
			28: "map[active_users:0 c2c_msgs:0 day:" + today.AddDate(0, 0, -1).Format(time.DateOnly) + " group_msgs:0 logins:0]",
			29: "map[active_users:3 c2c_msgs:1 day:" + today.Format(time.DateOnly) + " group_msgs:1 logins:2]",
		}
		for i, w := range want {
			if got := fmt.Sprint(days[i]); got != w {
				t.Fatalf("daily[%d] = %s, want %s", i, got, w)
			}
		}
	})
}

// catalogAddon is a refundable add-on sold by the month.
func catalogAddon(t *testing.T) string {
	t.Helper()
	return refundableAddon
}

// issueBill issues the account's bill of month as the lifecycle does.
func (e *env) issueBill(account, month string) {
	e.t.Helper()
	err := e.st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		acc, err := tx.LockAccount(ctx, account)
		if err != nil {
			return err
		}
		_, err = commerce.IssueBill(ctx, tx, &acc, month, e.clk.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// Another account's app, order, account, voucher and bill answer 404 exactly
// like missing ones, and nothing changes.
func TestCommerceForeign(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		bob, bobID := e.signUp("Bob", "bob@example.com")
		a := e.createApp(ann, "Ann's")
		bApp := e.createApp(bob, "Bob's")
		e.topUp(op, annID, "1000.00")
		e.topUp(op, bobID, "1000.00")
		buy := e.do(ann, "POST", app(a, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true}`)
		e.want(buy, 200, "ann buys")
		oid := buy.body["id"].(string)
		e.issueBill(annID, "2026-11")
		bills, err := e.st.ListBills(ctx, annID)
		if err != nil || len(bills) != 1 {
			t.Fatalf("bills %v %v", bills, err)
		}
		bid := bills[0].ID
		v := e.do(op, "POST", "/console/v1/vouchers", `{"account":"`+annID+`","amount":"50.00","expires":"2027-12-31"}`)
		e.want(v, 201, "voucher for ann")
		vid := v.body["id"].(string)
		e.want(e.do(ann, "PUT", app(a, "/callback"), `{"url":"https://hooks.example.com/a"}`), 200, "ann's callback")
		const missing = 999999999

		cases := []struct{ method, foreign, missing, body string }{
			{"POST", app(a, "/plan/preview"), app(missing, "/plan/preview"), `{"edition":"premium","months":1}`},
			{"POST", app(a, "/plan"), app(missing, "/plan"), `{"edition":"premium","months":1,"accept_agreement":true}`},
			{"POST", app(a, "/upgrade"), app(missing, "/upgrade"), `{"edition":"premium","accept_agreement":true}`},
			{"POST", app(a, "/upgrade/preview"), app(missing, "/upgrade/preview"), `{"edition":"premium"}`},
			{"POST", "/console/v1/renewals", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d],"months":1,"accept_agreement":true}`, a)},
			{"POST", "/console/v1/renewals/preview", "/console/v1/renewals/preview", fmt.Sprintf(`{"sdkappids":[%d],"months":1}`, a)},
			{"POST", "/console/v1/renewals", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":1,"accept_agreement":true}`, bApp, a)},
			{"PUT", app(a, "/auto-renew"), app(missing, "/auto-renew"), `{"on":true}`},
			{"POST", app(a, "/refund"), app(missing, "/refund"), `{}`},
			{"POST", app(a, "/addons"), app(missing, "/addons"), `{"addon":"` + refundableAddon + `","months":1,"accept_agreement":true}`},
			{"POST", app(a, "/addons/"+refundableAddon+"/refund"), app(missing, "/addons/"+refundableAddon+"/refund"), `{}`},
			{"GET", app(a, "/usage"), app(missing, "/usage"), ``},
			{"GET", app(a, "/callback"), app(missing, "/callback"), ``},
			{"PUT", app(a, "/callback"), app(missing, "/callback"), `{"url":""}`},
			{"GET", "/console/v1/orders/" + oid, "/console/v1/orders/ord_missing", ``},
			{"GET", "/console/v1/bills/" + bid, "/console/v1/bills/bill_missing", ``},
			{"GET", "/console/v1/bills/" + bid + "?account=" + annID, "/console/v1/bills/" + bid + "?account=acc_missing", ``},
			{"GET", "/console/v1/balance?account=" + annID, "/console/v1/balance?account=acc_missing", ``},
			{"GET", "/console/v1/topups?account=" + annID, "/console/v1/topups?account=acc_missing", ``},
			{"GET", "/console/v1/orders?account=" + annID, "/console/v1/orders?account=acc_missing", ``},
			{"GET", "/console/v1/refunds?account=" + annID, "/console/v1/refunds?account=acc_missing", ``},
			{"GET", "/console/v1/bills?account=" + annID, "/console/v1/bills?account=acc_missing", ``},
			{"GET", "/console/v1/vouchers?account=" + annID, "/console/v1/vouchers?account=acc_missing", ``},
			{"GET", "/console/v1/notifications?account=" + annID, "/console/v1/notifications?account=acc_missing", ``},
			{"GET", "/console/v1/renewals?account=" + annID, "/console/v1/renewals?account=acc_missing", ``},
			// Ann's voucher on Bob's own app.
			{"POST", app(bApp, "/plan"), app(bApp, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true,"voucher":"` + vid + `"}`},
		}
		for _, c := range cases {
			beforeAnn, beforeBob := e.snap(annID), e.snap(bobID)
			f := e.do(bob, c.method, c.foreign, c.body)
			e.want(f, 404, "bob: "+c.method+" "+c.foreign)
			e.same("bob's "+c.method+" "+c.foreign, beforeAnn, annID)
			e.same("bob's "+c.method+" "+c.foreign, beforeBob, bobID)
			if c.missing != c.foreign || strings.Contains(c.body, vid) {
				m := e.do(bob, c.method, c.missing, strings.ReplaceAll(strings.ReplaceAll(c.body, fmt.Sprint(a), fmt.Sprint(missing)), vid, "vch_missing"))
				e.want(m, 404, "bob: missing "+c.missing)
				if strings.ReplaceAll(f.str("error"), fmt.Sprint(a), "X") != strings.ReplaceAll(m.str("error"), fmt.Sprint(missing), "X") &&
					!strings.Contains(c.foreign, "account=") && !strings.Contains(c.foreign, "/orders/") && !strings.Contains(c.foreign, "/bills/") && !strings.Contains(c.body, vid) {
					t.Fatalf("foreign and missing differ: %q vs %q", f.str("error"), m.str("error"))
				}
			}
		}
		// The operator may act on any account.
		e.want(e.do(op, "GET", "/console/v1/orders/"+oid, ""), 200, "operator reads ann's order")
		e.want(e.do(op, "GET", "/console/v1/balance?account="+annID, ""), 200, "operator reads ann's balance")
		e.want(e.do(op, "GET", "/console/v1/bills/"+bid+"?account="+annID, ""), 200, "operator reads ann's bill")
		e.want(e.do(op, "GET", "/console/v1/balance", ""), 400, "operator without an account")
		e.want(e.do(op, "POST", app(a, "/plan/preview"), `{"edition":"premium","months":1}`), 409, "operator previews a buy the rules refuse")
		ob := e.do(op, "POST", app(bApp, "/plan"), `{"edition":"premium","months":1,"accept_agreement":true}`)
		e.want(ob, 200, "operator buys for bob")
		if ob.body["account"] != bobID {
			t.Fatalf("operator's order = %s", ob.raw)
		}
	})
}

// refundableAddon is an add-on sold by the month that may be refunded.
const refundableAddon = "push"

// Every state change without the CSRF token: 403, nothing changed.
func TestCommerceCSRF(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		a := e.createApp(ann, "One")
		e.topUp(op, annID, "1000.00")
		e.want(e.do(ann, "POST", app(a, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true}`), 200, "buy")
		noCSRF := &client{cookie: ann.cookie, ip: ann.ip}
		opNoCSRF := &client{cookie: op.cookie, ip: op.ip}
		cases := []struct {
			c                  *client
			method, path, body string
		}{
			{noCSRF, "POST", app(a, "/plan/preview"), `{"edition":"premium","months":1}`},
			{noCSRF, "POST", app(a, "/plan"), `{"edition":"premium","months":1,"accept_agreement":true}`},
			{noCSRF, "POST", app(a, "/upgrade"), `{"edition":"premium","accept_agreement":true}`},
			{noCSRF, "POST", app(a, "/upgrade/preview"), `{"edition":"premium"}`},
			{noCSRF, "POST", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d],"months":1,"accept_agreement":true}`, a)},
			{noCSRF, "POST", "/console/v1/renewals/preview", fmt.Sprintf(`{"sdkappids":[%d],"months":1}`, a)},
			{noCSRF, "PUT", app(a, "/auto-renew"), `{"on":true}`},
			{noCSRF, "POST", app(a, "/refund"), `{}`},
			{noCSRF, "POST", app(a, "/addons"), `{"addon":"` + refundableAddon + `","months":1,"accept_agreement":true}`},
			{noCSRF, "POST", app(a, "/addons/"+refundableAddon+"/refund"), `{}`},
			{noCSRF, "PUT", app(a, "/callback"), `{"url":"https://hooks.example.com/a"}`},
			{opNoCSRF, "POST", "/console/v1/accounts/" + annID + "/topup", `{"cash":"1.00"}`},
			{opNoCSRF, "POST", "/console/v1/accounts/" + annID + "/suspend", `{"reason":"spam"}`},
			{opNoCSRF, "POST", "/console/v1/vouchers", `{"account":"` + annID + `","amount":"5.00","expires":"2027-12-31"}`},
		}
		for _, c := range cases {
			before := e.snap(annID)
			e.want(e.do(c.c, c.method, c.path, c.body), 403, "no CSRF: "+c.method+" "+c.path)
			wrong := &client{cookie: c.c.cookie, ip: c.c.ip, csrf: "wrong"}
			e.want(e.do(wrong, c.method, c.path, c.body), 403, "wrong CSRF: "+c.method+" "+c.path)
			e.same("no CSRF: "+c.method+" "+c.path, before, annID)
		}
	})
}

// Bad input: a clear message, nothing changed.
func TestCommerceBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		a := e.createApp(ann, "One")
		e.topUp(op, annID, "100.00")
		cases := []struct {
			c                  *client
			method, path, body string
			code               int
			want               string
		}{
			{ann, "POST", app(a, "/plan/preview"), `{"edition":"standard","months":0}`, 400, "months must be 1 to 24"},
			{ann, "POST", app(a, "/plan/preview"), `{"edition":"standard","months":25}`, 400, "months must be 1 to 24"},
			{ann, "POST", app(a, "/plan/preview"), `{"edition":"gold","months":1}`, 400, "unknown edition"},
			{ann, "POST", app(a, "/plan/preview"), `{"edition":"standard","months":1,"voucher":"vch_nope"}`, 404, "does not exist"},
			{ann, "POST", app(a, "/plan/preview"), `{"edition":"standard","months":"1"}`, 400, `field "months"`},
			{ann, "POST", app(a, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true,"discount":"5"}`, 400, "unknown field"},
			{ann, "POST", app(a, "/plan"), `{"edition":"standard","months":1,"accept_agreement":false}`, 400, "accept_agreement"},
			{ann, "POST", app(a, "/plan"), `{"edition":"standard","months":1,"accept_agreement":true,"request_id":" x"}`, 400, "request id"},
			{ann, "POST", app(a, "/plan"), `{"edition":"premium","months":24,"accept_agreement":true}`, 402, "top up"},
			{ann, "POST", app(a, "/plan"), `{"edition":"trial","months":1,"accept_agreement":true}`, 409, "Free Trial cannot be bought"},
			{ann, "POST", app(a, "/upgrade"), `{"edition":"premium"}`, 400, "accept_agreement"},
			{ann, "POST", app(a, "/upgrade"), `{"edition":"premium","accept_agreement":true}`, 409, "Free Trial"},
			{ann, "POST", app(a, "/upgrade/preview"), `{"edition":"premium"}`, 409, "Free Trial"},
			{ann, "POST", app(a, "/upgrade/preview"), `{"edition":"gold"}`, 400, "unknown edition"},
			{ann, "POST", "/console/v1/renewals", `{"sdkappids":[],"months":1,"accept_agreement":true}`, 400, "at least one"},
			{ann, "POST", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":1,"accept_agreement":true}`, a, a), 400, "listed twice"},
			{ann, "POST", "/console/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d],"months":1}`, a), 400, "accept_agreement"},
			{ann, "POST", "/console/v1/renewals/preview", fmt.Sprintf(`{"sdkappids":[%d],"months":30}`, a), 400, "months must be 1 to 24"},
			{ann, "POST", "/console/v1/renewals/preview", fmt.Sprintf(`{"sdkappids":[%d],"months":1}`, a), 409, "Free Trial"},
			{ann, "PUT", app(a, "/auto-renew"), `{}`, 400, `"on" is required`},
			{ann, "PUT", app(a, "/auto-renew"), `{"on":true}`, 409, "Free Trial"},
			{ann, "POST", app(a, "/refund"), `{}`, 409, ""},
			{ann, "POST", app(a, "/addons"), `{"months":1,"accept_agreement":true}`, 400, `"addon" is required`},
			{ann, "PUT", app(a, "/callback"), `{"url":"ftp://x"}`, 400, ""},
			{ann, "PUT", app(a, "/callback"), `{"commands":["No.Such"]}`, 400, ""},
			{ann, "GET", "/console/v1/renewals?from=yesterday", "", 400, "from must be a date"},
			{ann, "GET", "/console/v1/renewals?from=2027-01-02&to=2027-01-01", "", 400, "range is empty"},
			{ann, "GET", app(0, "/usage"), "", 400, "positive integer"},
			{op, "POST", "/console/v1/accounts/" + annID + "/topup", `{}`, 400, `"cash" and/or "credit"`},
			{op, "POST", "/console/v1/accounts/" + annID + "/topup", `{"cash":"-1"}`, 400, "cash"},
			{op, "POST", "/console/v1/accounts/" + annID + "/topup", `{"cash":"1.001"}`, 400, "cash"},
			{op, "POST", "/console/v1/accounts/acc_missing/topup", `{"cash":"1"}`, 404, "does not exist"},
			{op, "POST", "/console/v1/vouchers", `{"account":"` + annID + `","amount":"0","expires":"2027-12-31"}`, 400, "positive amount"},
			{op, "POST", "/console/v1/vouchers", `{"account":"` + annID + `","amount":"5","expires":"soon"}`, 400, "expires must be"},
			{op, "POST", "/console/v1/vouchers", `{"account":"` + annID + `","amount":"5","expires":"2027-12-31","scope":"food"}`, 400, "scope"},
			{op, "POST", "/console/v1/accounts/" + annID + "/suspend", `{"reason":"  "}`, 400, "needs a reason"},
		}
		for _, c := range cases {
			before := e.snap(annID)
			r := e.do(c.c, c.method, c.path, c.body)
			e.want(r, c.code, c.method+" "+c.path+" "+c.body)
			if !strings.Contains(r.str("error"), c.want) {
				t.Fatalf("%s %s %s: error %q does not say %q", c.method, c.path, c.body, r.str("error"), c.want)
			}
			e.same(c.method+" "+c.path+" "+c.body, before, annID)
		}
	})
}

// A suspended app's callbacks cannot change: 409 with the reason and the way
// out; the settings stay as they were.
func TestSuspendedAppCallbackRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		ann, annID := e.signUp("Ann", "ann@example.com")
		a := e.createApp(ann, "One")
		e.want(e.do(ann, "PUT", app(a, "/callback"), `{"url":"https://hooks.example.com/a"}`), 200, "set callback")
		for _, c := range []struct{ reason, way string }{
			{commerce.ReasonExpired, "buy Standard or Premium"},
			{commerce.ReasonArrears, "top up"},
			{commerce.ReasonViolation, "permanent"},
		} {
			e.suspendApp(a, c.reason)
			before := e.snap(annID)
			r := e.do(ann, "PUT", app(a, "/callback"), `{"url":"https://hooks.example.com/b"}`)
			e.want(r, 409, "suspended ("+c.reason+")")
			if msg := r.str("error"); !strings.Contains(msg, "suspended ("+c.reason+")") || !strings.Contains(msg, c.way) {
				t.Fatalf("suspended (%s): message %q lacks the reason or %q", c.reason, msg, c.way)
			}
			e.same("a suspended app's callback change", before, annID)
			g := e.do(ann, "GET", app(a, "/callback"), "")
			e.want(g, 200, "read a suspended app's callback")
			if g.body["url"] != "https://hooks.example.com/a" {
				t.Fatalf("callback = %s", g.raw)
			}
		}
	})
}

func (e *env) suspendApp(id int64, reason string) {
	e.t.Helper()
	err := e.st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		a, err := tx.LockApp(ctx, id)
		if err != nil {
			return err
		}
		a.Status, a.SuspendReason, a.SuspendedAt = store.StatusSuspended, reason, e.clk.Now()
		return tx.UpdateApp(ctx, a)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// Top-ups, vouchers and suspensions are the operator's: 403 for a customer
// (even on their own account), nothing changed; the operator's work.
func TestOperatorOnlyRoutes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		e.createApp(ann, "One")
		for _, c := range []struct{ path, body string }{
			{"/console/v1/accounts/" + annID + "/topup", `{"cash":"100.00"}`},
			{"/console/v1/vouchers", `{"account":"` + annID + `","amount":"5.00","expires":"2027-12-31"}`},
			{"/console/v1/accounts/" + annID + "/suspend", `{"reason":"spam"}`},
		} {
			before := e.snap(annID)
			r := e.do(ann, "POST", c.path, c.body)
			e.want(r, 403, "customer: "+c.path)
			if !strings.Contains(r.str("error"), "operator") {
				t.Fatalf("%s: %s", c.path, r.raw)
			}
			e.same("customer: "+c.path, before, annID)
		}
		tu := e.do(op, "POST", "/console/v1/accounts/"+annID+"/topup", `{"cash":"10.00","credit":"2.50","request_id":"t-1"}`)
		e.want(tu, 200, "operator top-up")
		e.want(e.do(op, "POST", "/console/v1/accounts/"+annID+"/topup", `{"cash":"10.00","credit":"2.50","request_id":"t-1"}`), 200, "operator top-up again")
		if acc, _ := e.st.GetAccount(ctx, annID); acc.CashCents != 1000 || acc.CreditCents != 250 {
			t.Fatalf("after a repeated top-up: cash %d credit %d", acc.CashCents, acc.CreditCents)
		}
		v := e.do(op, "POST", "/console/v1/vouchers", `{"account":"`+annID+`","amount":"5.00","expires":"2027-12-31","request_id":"v-1"}`)
		e.want(v, 201, "operator voucher")
		vs := e.do(ann, "GET", "/console/v1/vouchers", "")
		if l := vs.body["vouchers"].([]any); len(l) != 1 || l[0].(map[string]any)["remaining"] != "5.00" {
			t.Fatalf("vouchers = %s", vs.raw)
		}
		s := e.do(op, "POST", "/console/v1/accounts/"+annID+"/suspend", `{"reason":"spam"}`)
		e.want(s, 200, "operator suspends")
		if s.body["status"] != "suspended" || s.body["suspend_reason"] != "violation" {
			t.Fatalf("suspend = %s", s.raw)
		}
	})
}

var _ = money.Zero

// The same purchase sent twice at once with one request id: one order, one
// charge, and both answers name it.
func TestConcurrentPurchaseIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newEnv(t, open)
		op := e.operator()
		ann, annID := e.signUp("Ann", "ann@example.com")
		a := e.createApp(ann, "One")
		e.topUp(op, annID, "1000.00")
		body := `{"edition":"standard","months":1,"accept_agreement":true,"request_id":"twice"}`
		ids := make(chan string, 2)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(ann, "POST", app(a, "/plan"), body)
				id, _ := r.body["id"].(string)
				if r.code != 200 {
					id = r.raw
				}
				ids <- id
			}()
		}
		wg.Wait()
		close(ids)
		first, second := <-ids, <-ids
		if first != second || !strings.HasPrefix(first, "ord_") {
			t.Fatalf("answers: %q and %q", first, second)
		}
		orders, err := e.st.ListOrders(ctx, annID)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := e.st.GetAccount(ctx, annID)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 1 || acc.CashCents != 100000-39900 {
			t.Fatalf("%d orders, cash %d", len(orders), acc.CashCents)
		}
	})
}
