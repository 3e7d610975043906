package operator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

// commerceEnv is env with the commercial layer and a scheduler on the manual clock.
type commerceEnv struct {
	*env
	commerce *commerce.Service
	sched    *lifecycle.Scheduler
}

func newCommerceEnv(t *testing.T) *commerceEnv {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newCommerceEnvOn(t, st)
}

// newCommerceEnvOn is newCommerceEnv over an open store.
func newCommerceEnvOn(t *testing.T, st store.Store) *commerceEnv {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	e := &commerceEnv{env: &env{t: t, clock: c, store: st}}
	e.tenants = &tenant.Service{Store: st, Clock: c}
	e.gate = &gate.Gate{MAU: st, Clock: c}
	e.commerce = &commerce.Service{Store: st, Clock: c}
	e.sched = lifecycle.New(lifecycle.Config{Store: st, Manual: c})
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", New(Config{
		Tenants: e.tenants, Gate: e.gate, Clock: c, Token: testToken,
		Commerce: e.commerce, Scheduler: e.sched,
	}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *commerceEnv) topUp(acc, body string) map[string]any {
	e.t.Helper()
	return e.want("POST", "/operator/v1/accounts/"+acc+"/topup", body, 200)
}

func (e *commerceEnv) balance(acc string) string {
	e.t.Helper()
	b := e.want("GET", "/operator/v1/accounts/"+acc, "", 200)["balance"].(map[string]any)
	return fmt.Sprintf("%v/%v/%v", b["cash"], b["credit"], b["total"])
}

func (e *commerceEnv) orders(acc string) []any {
	e.t.Helper()
	return e.want("GET", "/operator/v1/orders?account="+acc, "", 200)["orders"].([]any)
}

func (e *commerceEnv) buy(id int64, body string) map[string]any {
	e.t.Helper()
	return e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/plan", id), body, 201)
}

func (e *commerceEnv) getApp(id int64) map[string]any {
	e.t.Helper()
	return e.want("GET", fmt.Sprintf("/operator/v1/apps/%d", id), "", 200)
}

const orderKeys = "account,agreement_accepted,auto_renew,carried_cash,carried_credit,cash,created_at,credit,discount," +
	"effective_from,effective_to,id,kind,list_price,months,non_refundable_reason,product,quantity,reason,refundable," +
	"refunds,sdkappid,status,voucher,voucher_id"

func TestCommerceRoutesNeedTheToken(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"1000.00"}`)
	routes := [][3]string{
		{"GET", "/operator/v1/catalog", ""},
		{"POST", "/operator/v1/accounts/" + acc + "/topup", `{"cash":"5.00"}`},
		{"POST", "/operator/v1/accounts/" + acc + "/suspend", `{"reason":"spam"}`},
		{"POST", "/operator/v1/vouchers", fmt.Sprintf(`{"account":%q,"amount":"5","expires":"2027-01-31"}`, acc)},
		{"GET", "/operator/v1/vouchers?account=" + acc, ""},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/plan", id), `{"edition":"standard","months":1,"accept_agreement":true}`},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/upgrade", id), `{"edition":"premium"}`},
		{"POST", "/operator/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d],"months":1}`, id)},
		{"PUT", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", id), `{"on":true}`},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/refund", id), `{}`},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/addons", id), `{"addon":"push","months":1}`},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/addons/push/refund", id), `{}`},
		{"POST", fmt.Sprintf("/operator/v1/apps/%d/extend-trial", id), ``},
		{"GET", "/operator/v1/orders?account=" + acc, ""},
		{"POST", "/operator/v1/orders/ord_x/non-refundable", `{"reason":"x"}`},
		{"GET", "/operator/v1/bills?account=" + acc, ""},
		{"GET", "/operator/v1/notifications?account=" + acc, ""},
		{"GET", "/operator/v1/clock", ""},
		{"POST", "/operator/v1/clock", `{"advance":"30d"}`},
	}
	for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Basic " + testToken, testToken} {
		for _, rt := range routes {
			if got, m := e.doAuth(rt[0], rt[1], rt[2], auth); got != 401 {
				t.Errorf("%s %s with Authorization %q: %d %v", rt[0], rt[1], auth, got, m)
			}
		}
	}
	// Nothing changed: no order, no voucher, the same balance, the same clock, the
	// app still on its trial and the account active.
	if b := e.balance(acc); b != "1000.00/0.00/1000.00" {
		t.Fatalf("balance %s", b)
	}
	if o := e.orders(acc); len(o) != 0 {
		t.Fatalf("orders %v", o)
	}
	if v := e.want("GET", "/operator/v1/vouchers?account="+acc, "", 200)["vouchers"].([]any); len(v) != 0 {
		t.Fatalf("vouchers %v", v)
	}
	if a := e.getApp(id); a["edition"] != "trial" || a["trial_extended"] != false || a["auto_renew"] != false {
		t.Fatalf("app %v", a)
	}
	if a := e.want("GET", "/operator/v1/accounts/"+acc, "", 200); a["status"] != "active" {
		t.Fatalf("account %v", a)
	}
	if now := e.want("GET", "/operator/v1/clock", "", 200)["now"]; now != "2026-11-20T10:30:00Z" {
		t.Fatalf("clock moved to %v", now)
	}
}

func TestCommerceRoutesWithoutTheCommercialLayer(t *testing.T) {
	e := newEnv(t) // no Commerce, no Scheduler
	acc := e.account()
	for _, rt := range [][3]string{
		{"GET", "/operator/v1/orders?account=" + acc, ""},
		{"POST", "/operator/v1/accounts/" + acc + "/topup", `{"cash":"5.00"}`},
		{"GET", "/operator/v1/clock", ""},
	} {
		if got, m := e.do(rt[0], rt[1], rt[2]); got != 503 {
			t.Errorf("%s %s: %d %v", rt[0], rt[1], got, m)
		}
	}
	// The catalog needs neither; the account shows its (empty) balance.
	e.want("GET", "/operator/v1/catalog", "", 200)
	if b := e.want("GET", "/operator/v1/accounts/"+acc, "", 200)["balance"]; fmt.Sprint(b) != "map[cash:0.00 credit:0.00 total:0.00]" {
		t.Fatalf("balance %v", b)
	}
}

func TestCatalogRoute(t *testing.T) {
	e := newCommerceEnv(t)
	m := e.want("GET", "/operator/v1/catalog", "", 200)
	if keys(m) != "addons,editions" {
		t.Fatalf("catalog keys %s", keys(m))
	}
	eds := map[string]map[string]any{}
	for _, x := range m["editions"].([]any) {
		ed := x.(map[string]any)
		eds[ed["id"].(string)] = ed
	}
	if len(eds) != 3 {
		t.Fatalf("editions %v", eds)
	}
	if got := keys(eds["standard"]); got != "daily_net_groups,features,free_mau,friends_per_user,groups_per_app,groups_per_user,id,live_rooms,mau_cap,members_per_group,monthly_price,name,overage_mau_price,retention_days" {
		t.Fatalf("edition keys %s", got)
	}
	for _, tc := range []struct {
		edition, field string
		want           any
	}{
		{"trial", "monthly_price", "0.00"},
		{"trial", "mau_cap", float64(100)},
		{"trial", "groups_per_app", float64(100)},
		{"standard", "monthly_price", "399.00"},
		{"standard", "overage_mau_price", "0.015"},
		{"standard", "groups_per_app", float64(-1)},
		{"standard", "free_mau", float64(10000)},
		{"standard", "mau_cap", float64(0)},
		{"premium", "monthly_price", "699.00"},
		{"premium", "live_rooms", float64(-1)},
		{"premium", "retention_days", float64(30)},
		{"premium", "members_per_group", float64(2000)},
	} {
		if got := eds[tc.edition][tc.field]; got != tc.want {
			t.Errorf("%s.%s = %v (%T), want %v", tc.edition, tc.field, got, got, tc.want)
		}
	}
	if f := fmt.Sprint(eds["standard"]["features"]); f != "[]" {
		t.Errorf("standard features %s", f)
	}
	prem := eds["premium"]["features"].([]any)
	if len(prem) != 12 || prem[0] != "broadcast_to_live_rooms" || fmt.Sprint(prem) == fmt.Sprint(eds["trial"]["features"]) {
		t.Errorf("premium features %v (sorted, all but push to all)", prem)
	}

	adds := map[string]map[string]any{}
	for _, x := range m["addons"].([]any) {
		a := x.(map[string]any)
		adds[a["id"].(string)] = a
	}
	if len(adds) != len(catalog.Addons()) {
		t.Fatalf("add-ons %v", adds)
	}
	if got := keys(adds["desk"]); got != "extra_unit_price,fixed_days,id,included_units,includes,kind,min_quantity,name,overage,price,refundable,sold,unit" {
		t.Fatalf("add-on keys %s", got)
	}
	for _, tc := range []struct {
		addon, field string
		want         any
	}{
		{"desk", "price", "299.00"},
		{"desk", "extra_unit_price", "50.00"},
		{"desk", "included_units", float64(3)},
		{"desk", "refundable", false},
		{"chatbot_messages", "sold", "pack"},
		{"call_free", "price", "0.00"},
		{"call_free", "fixed_days", float64(7)},
		{"push", "price", "299.00"},
		{"push", "refundable", true},
		{"cloud_search", "price", "399.00"},
	} {
		if got := adds[tc.addon][tc.field]; got != tc.want {
			t.Errorf("%s.%s = %v, want %v", tc.addon, tc.field, got, tc.want)
		}
	}
	if o := fmt.Sprint(adds["cloud_search"]["overage"]); o != "[map[block_price:4.00 block_size:30000 free:1.5e+06 metric:search_messages_stored per:month] map[block_price:4.00 block_size:10000 free:300000 metric:search_requests per:month]]" {
		t.Errorf("cloud search overage %s", o)
	}
	if o := fmt.Sprint(adds["push"]["overage"]); !strings.Contains(o, "block_price:10.00 block_size:1 free:100 metric:push_all_user_calls per:day") ||
		!strings.Contains(o, "block_price:0.10 block_size:10000") {
		t.Errorf("push overage %s", o)
	}
	if o, ok := adds["desk"]["overage"].([]any); !ok || len(o) != 0 {
		t.Errorf("desk overage %v, want []", adds["desk"]["overage"])
	}
}

func TestTopUpAndSuspendAccount(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)

	m := e.want("GET", "/operator/v1/accounts/"+acc, "", 200)
	if fmt.Sprint(m["balance"]) != "map[cash:0.00 credit:0.00 total:0.00]" || m["overdue_since"] != "" ||
		m["suspend_reason"] != "" || m["suspended_at"] != "" {
		t.Fatalf("new account %v", m)
	}
	m = e.topUp(acc, `{"cash":"100"}`)
	if fmt.Sprint(m["balance"]) != "map[cash:100.00 credit:0.00 total:100.00]" || m["id"] != acc {
		t.Fatalf("top-up %v", m)
	}
	m = e.topUp(acc, `{"cash":"0.5","credit":"50.25"}`)
	if fmt.Sprint(m["balance"]) != "map[cash:100.50 credit:50.25 total:150.75]" {
		t.Fatalf("top-up %v", m)
	}
	e.topUp(acc, `{"credit":"1.00"}`)

	for _, body := range []string{
		``, `{`, `{}`, `[]`, `{"cash":100}`, `{"cash":"1e3"}`, `{"cash":"1.005"}`, `{"cash":"$5"}`,
		`{"cash":"-5.00"}`, `{"cash":"0"}`, `{"cash":"0","credit":"0.00"}`, `{"cash":"5","bonus":"1"}`,
		`{"cash":"5"} {"cash":"5"}`, `{"cash":null}`, `{"cash":"5","credit":"-1"}`,
		`{"cash":"100000000.01"}`, `{"credit":"9999999999999"}`, // above the largest amount
	} {
		if got, m := e.do("POST", "/operator/v1/accounts/"+acc+"/topup", body); got != 400 {
			t.Errorf("top-up %q: %d %v", body, got, m)
		}
	}
	if b := e.balance(acc); b != "100.50/51.25/151.75" {
		t.Fatalf("refused top-ups changed the balance: %s", b)
	}
	e.want("POST", "/operator/v1/accounts/acc_missing/topup", `{"cash":"5"}`, 404)
	// Each part of the balance is capped: the top-up past it is a conflict.
	for range 9 {
		e.topUp(acc, `{"cash":"100000000.00"}`)
	}
	e.want("POST", "/operator/v1/accounts/"+acc+"/topup", `{"cash":"100000000.00"}`, 409)
	if b := e.balance(acc); b != "900000100.50/51.25/900000151.75" {
		t.Fatalf("balance after the cap: %s", b)
	}

	// Suspension for a violation: the reason is required; the apps stop.
	for _, body := range []string{``, `{}`, `{"reason":""}`, `{"reason":"  "}`, `{"reason":1}`, `{"reason":"x","why":"y"}`} {
		if got, m := e.do("POST", "/operator/v1/accounts/"+acc+"/suspend", body); got != 400 {
			t.Errorf("suspend %q: %d %v", body, got, m)
		}
	}
	if a := e.want("GET", "/operator/v1/accounts/"+acc, "", 200); a["status"] != "active" {
		t.Fatalf("refused suspensions suspended: %v", a)
	}
	m = e.want("POST", "/operator/v1/accounts/"+acc+"/suspend", `{"reason":"phishing links"}`, 200)
	if m["status"] != "suspended" || m["suspend_reason"] != "violation" || m["suspended_at"] != "2026-11-20T10:30:00Z" {
		t.Fatalf("suspended account %v", m)
	}
	if a := e.getApp(id); a["status"] != "suspended" || a["suspend_reason"] != "violation" || a["suspended_at"] != "2026-11-20T10:30:00Z" {
		t.Fatalf("app of a suspended account %v", a)
	}
	e.want("POST", "/operator/v1/accounts/"+acc+"/suspend", `{"reason":"again"}`, 409)
	e.want("POST", "/operator/v1/accounts/acc_missing/suspend", `{"reason":"x"}`, 404)
	// A payment never lifts it.
	if m := e.topUp(acc, `{"cash":"1000"}`); m["status"] != "suspended" {
		t.Fatalf("top-up lifted a violation suspension: %v", m)
	}
}

func TestVoucherRoutes(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	m := e.want("POST", "/operator/v1/vouchers", fmt.Sprintf(`{"account":%q,"amount":"50","expires":"2027-01-31","scope":"editions"}`, acc), 201)
	if keys(m) != "account,amount,created_at,expires_at,id,remaining,scope" {
		t.Fatalf("voucher keys %s", keys(m))
	}
	if !strings.HasPrefix(m["id"].(string), "vch_") || m["account"] != acc || m["amount"] != "50.00" || m["remaining"] != "50.00" ||
		m["scope"] != "editions" || m["expires_at"] != "2027-02-01T00:00:00Z" || m["created_at"] != "2026-11-20T10:30:00Z" {
		t.Fatalf("voucher %v", m)
	}
	m2 := e.want("POST", "/operator/v1/vouchers", fmt.Sprintf(`{"account":%q,"amount":"10.50","expires":"2026-12-01T12:00:00+02:00"}`, acc), 201)
	if m2["scope"] != "all" || m2["expires_at"] != "2026-12-01T10:00:00Z" {
		t.Fatalf("voucher %v", m2)
	}
	for _, body := range []string{
		``, `{}`,
		fmt.Sprintf(`{"account":%q,"amount":"50"}`, acc),
		fmt.Sprintf(`{"account":%q,"expires":"2027-01-31"}`, acc),
		`{"amount":"50","expires":"2027-01-31"}`,
		fmt.Sprintf(`{"account":%q,"amount":50,"expires":"2027-01-31"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"0","expires":"2027-01-31"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"-5","expires":"2027-01-31"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"5.001","expires":"2027-01-31"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"5","expires":"31/01/2027"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"5","expires":"2027-02-30"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"5","expires":"2026-01-31"}`, acc), // in the past
		fmt.Sprintf(`{"account":%q,"amount":"5","expires":"2027-01-31","scope":"everything"}`, acc),
		fmt.Sprintf(`{"account":%q,"amount":"5","expires":"2027-01-31","remaining":"1"}`, acc),
	} {
		if got, m := e.do("POST", "/operator/v1/vouchers", body); got != 400 {
			t.Errorf("voucher %q: %d %v", body, got, m)
		}
	}
	e.want("POST", "/operator/v1/vouchers", `{"account":"acc_missing","amount":"5","expires":"2027-01-31"}`, 404)

	l := e.want("GET", "/operator/v1/vouchers?account="+acc, "", 200)
	vs := l["vouchers"].([]any)
	if keys(l) != "vouchers" || len(vs) != 2 {
		t.Fatalf("vouchers %v (refused issues must add none)", l)
	}
	e.want("GET", "/operator/v1/vouchers", "", 400)
	e.want("GET", "/operator/v1/vouchers?account=acc_missing", "", 404)
	if vs := e.want("GET", "/operator/v1/vouchers?account="+e.account(), "", 200)["vouchers"].([]any); len(vs) != 0 {
		t.Fatalf("other account's vouchers %v", vs)
	}
}

func TestBuyPlanRoute(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"1000","credit":"100"}`)
	path := fmt.Sprintf("/operator/v1/apps/%d/plan", id)

	for _, tc := range []struct {
		body   string
		status int
	}{
		{``, 400},
		{`{"edition":"standard"`, 400},
		{`{}`, 400},
		{`{"edition":"standard","months":1}`, 400}, // no agreement
		{`{"edition":"standard","months":0,"accept_agreement":true}`, 400},
		{`{"edition":"standard","months":25,"accept_agreement":true}`, 400},
		{`{"edition":"standard","months":"1","accept_agreement":true}`, 400},
		{`{"edition":"standard","months":1.5,"accept_agreement":true}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":"yes"}`, 400},
		{`{"edition":"gold","months":1,"accept_agreement":true}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":true,"discount":"400"}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":true,"discount":"-1"}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":true,"discount":10}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":true,"price":"1"}`, 400},
		{`{"edition":"standard","months":1,"accept_agreement":true,"request_id":"` + strings.Repeat("k", 129) + `"}`, 400},
		{`{"edition":"trial","months":1,"accept_agreement":true}`, 409},
		{`{"edition":"premium","months":2,"accept_agreement":true}`, 402}, // 1398 > 1100
		{`{"edition":"standard","months":1,"accept_agreement":true,"voucher":"vch_missing"}`, 404},
	} {
		if got, m := e.do("POST", path, tc.body); got != tc.status {
			t.Errorf("buy %q: %d, want %d (%v)", tc.body, got, tc.status, m)
		}
	}
	e.want("POST", "/operator/v1/apps/1400000099/plan", `{"edition":"standard","months":1,"accept_agreement":true}`, 404)
	e.want("POST", "/operator/v1/apps/abc/plan", `{"edition":"standard","months":1,"accept_agreement":true}`, 400)
	// Nothing was charged or ordered, and the app is still on its trial.
	if b := e.balance(acc); b != "1000.00/100.00/1100.00" {
		t.Fatalf("refused orders changed the balance: %s", b)
	}
	if o := e.orders(acc); len(o) != 0 {
		t.Fatalf("refused orders left %v", o)
	}
	if a := e.getApp(id); a["edition"] != "trial" || a["plan_anchor"] != "" {
		t.Fatalf("app %v", a)
	}

	// Insufficient balance names the amounts.
	_, m := e.do("POST", path, `{"edition":"premium","months":2,"accept_agreement":true}`)
	if msg := m["error"].(string); !strings.Contains(msg, "1398.00") || !strings.Contains(msg, "top up") {
		t.Fatalf("402 message %q", msg)
	}

	v := e.want("POST", "/operator/v1/vouchers", fmt.Sprintf(`{"account":%q,"amount":"20","expires":"2027-01-31"}`, acc), 201)["id"].(string)
	body := fmt.Sprintf(`{"edition":"standard","months":2,"auto_renew":true,"voucher":%q,"accept_agreement":true,"discount":"48.00","request_id":"k1"}`, v)
	o := e.buy(id, body)
	if keys(o) != orderKeys {
		t.Fatalf("order keys %s", keys(o))
	}
	// 798 list − 48 discount − 20 voucher = 730: credit first (100), then cash (630).
	if !strings.HasPrefix(o["id"].(string), "ord_") || o["account"] != acc || o["sdkappid"] != float64(id) ||
		o["kind"] != "buy" || o["product"] != "standard" || o["months"] != float64(2) || o["quantity"] != float64(1) ||
		o["list_price"] != "798.00" || o["discount"] != "48.00" || o["voucher"] != "20.00" || o["voucher_id"] != v ||
		o["cash"] != "630.00" || o["credit"] != "100.00" || o["carried_cash"] != "0.00" || o["carried_credit"] != "0.00" ||
		o["effective_from"] != "2026-11-20T10:30:00Z" || o["effective_to"] != "2027-01-20T10:30:00Z" ||
		o["auto_renew"] != true || o["agreement_accepted"] != true || o["refundable"] != true ||
		o["non_refundable_reason"] != "" || o["status"] != "paid" || o["reason"] != "" || o["created_at"] != "2026-11-20T10:30:00Z" {
		t.Fatalf("order %v", o)
	}
	if r, ok := o["refunds"].([]any); !ok || len(r) != 0 {
		t.Fatalf("refunds of a purchase %v, want []", o["refunds"])
	}
	if b := e.balance(acc); b != "370.00/0.00/370.00" {
		t.Fatalf("balance after the order %s", b)
	}
	a := e.getApp(id)
	if a["edition"] != "standard" || a["plan_anchor"] != "2026-11-20T10:30:00Z" || a["auto_renew"] != true ||
		a["expires_at"] != "2027-01-20T10:30:00Z" || a["status"] != "active" {
		t.Fatalf("app after the order %v", a)
	}
	// The same request id returns the first order and charges nothing.
	if again := e.buy(id, body); again["id"] != o["id"] {
		t.Fatalf("replayed order %v, first %v", again["id"], o["id"])
	}
	if b := e.balance(acc); b != "370.00/0.00/370.00" {
		t.Fatalf("replay charged: %s", b)
	}
	// Buying a plan again while one is in force: 409, a downgrade too.
	e.want("POST", path, `{"edition":"standard","months":1,"accept_agreement":true}`, 409)
	e.want("POST", path, `{"edition":"premium","months":1,"accept_agreement":true}`, 409)
	if n := len(e.orders(acc)); n != 1 {
		t.Fatalf("%d orders", n)
	}
}

func TestUpgradeRenewAndAutoRenewRoutes(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	a1, a2 := e.app(acc), e.app(acc)
	e.topUp(acc, `{"cash":"5000"}`)
	e.buy(a1, `{"edition":"standard","months":1,"accept_agreement":true}`)
	e.buy(a2, `{"edition":"premium","months":1,"accept_agreement":true}`)

	// Upgrade: bad input, a downgrade, an unknown app.
	for _, tc := range []struct {
		id     int64
		body   string
		status int
	}{
		{a1, ``, 400},
		{a1, `{}`, 400},
		{a1, `{"edition":"premium","months":1}`, 400},
		{a1, `{"edition":7}`, 400},
		{a1, `{"edition":"gold"}`, 400},
		{a2, `{"edition":"standard"}`, 409},
		{1400000099, `{"edition":"premium"}`, 404},
	} {
		if got, m := e.do("POST", fmt.Sprintf("/operator/v1/apps/%d/upgrade", tc.id), tc.body); got != tc.status {
			t.Errorf("upgrade %d %q: %d, want %d (%v)", tc.id, tc.body, got, tc.status, m)
		}
	}
	if b := e.balance(acc); b != "3902.00/0.00/3902.00" {
		t.Fatalf("refused upgrades charged: %s", b)
	}
	e.clock.Advance(10 * 24 * time.Hour)
	u := e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/upgrade", a1), `{"edition":"premium","request_id":"up-1"}`, 201)
	if u["kind"] != "upgrade" || u["product"] != "premium" || u["effective_from"] != "2026-11-30T10:30:00Z" ||
		u["effective_to"] != "2026-12-20T10:30:00Z" || u["carried_cash"] == "0.00" || u["status"] != "paid" {
		t.Fatalf("upgrade order %v", u)
	}
	if a := e.getApp(a1); a["edition"] != "premium" {
		t.Fatalf("upgraded app %v", a)
	}

	// Renewal of both apps in one action.
	for _, body := range []string{
		``, `{}`, `{"sdkappids":[],"months":1}`, `{"sdkappids":[0],"months":1}`, `{"sdkappids":[-1],"months":1}`,
		fmt.Sprintf(`{"sdkappids":[%d,%d],"months":1}`, a1, a1), fmt.Sprintf(`{"sdkappids":[%d]}`, a1),
		fmt.Sprintf(`{"sdkappids":[%d],"months":30}`, a1), fmt.Sprintf(`{"sdkappids":%d,"months":1}`, a1),
		fmt.Sprintf(`{"sdkappids":["%d"],"months":1}`, a1), fmt.Sprintf(`{"sdkappid":[%d],"months":1}`, a1),
	} {
		if got, m := e.do("POST", "/operator/v1/renewals", body); got != 400 {
			t.Errorf("renew %q: %d %v", body, got, m)
		}
	}
	e.want("POST", "/operator/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,1400000099],"months":1}`, a1), 404)
	before := e.balance(acc)
	e.want("POST", "/operator/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":24}`, a1, a2), 402)
	if b := e.balance(acc); b != before {
		t.Fatalf("refused renewals charged: %s, was %s", b, before)
	}
	l := e.want("POST", "/operator/v1/renewals", fmt.Sprintf(`{"sdkappids":[%d,%d],"months":2,"request_id":"r-1"}`, a1, a2), 201)
	rs := l["orders"].([]any)
	if keys(l) != "orders" || len(rs) != 2 {
		t.Fatalf("renewal %v", l)
	}
	for i, want := range []int64{a1, a2} {
		o := rs[i].(map[string]any)
		if o["kind"] != "renew" || o["sdkappid"] != float64(want) || o["months"] != float64(2) ||
			o["effective_from"] != "2026-12-20T10:30:00Z" || o["effective_to"] != "2027-02-20T10:30:00Z" {
			t.Fatalf("renewal order %d: %v", i, o)
		}
	}
	if a := e.getApp(a2); a["expires_at"] != "2027-02-20T10:30:00Z" {
		t.Fatalf("renewed app %v", a)
	}

	// Auto-renewal.
	for _, body := range []string{``, `{}`, `{"on":"yes"}`, `{"on":1}`, `{"on":true,"off":false}`, `{"on":null}`} {
		if got, m := e.do("PUT", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", a1), body); got != 400 {
			t.Errorf("auto-renew %q: %d %v", body, got, m)
		}
	}
	if a := e.getApp(a1); a["auto_renew"] != false {
		t.Fatalf("refused auto-renew changed it: %v", a)
	}
	a := e.want("PUT", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", a1), `{"on":true}`, 200)
	if a["auto_renew"] != true || a["sdkappid"] != float64(a1) || keys(a) != keys(e.getApp(a2)) {
		t.Fatalf("auto-renew on: %v", a)
	}
	if a := e.want("PUT", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", a1), `{"on":false}`, 200); a["auto_renew"] != false {
		t.Fatalf("auto-renew off: %v", a)
	}
	trial := e.app(acc)
	e.want("PUT", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", trial), `{"on":true}`, 409)
	e.want("PUT", "/operator/v1/apps/1400000099/auto-renew", `{"on":true}`, 404)
	e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/auto-renew", a1), `{"on":true}`, 405)
}

func TestRefundAndNonRefundableRoutes(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"399"}`)
	o := e.buy(id, `{"edition":"standard","months":1,"accept_agreement":true}`)
	orderID := o["id"].(string)
	refund := fmt.Sprintf("/operator/v1/apps/%d/refund", id)

	// The operator refuses refunds of the order, then allows them again.
	nr := "/operator/v1/orders/" + orderID + "/non-refundable"
	for _, body := range []string{``, `{}`, `{"reason":null}`, `{"reason":1}`, `{"reason":"x","y":1}`} {
		if got, m := e.do("POST", nr, body); got != 400 {
			t.Errorf("non-refundable %q: %d %v", body, got, m)
		}
	}
	m := e.want("POST", nr, `{"reason":"promotion"}`, 200)
	if m["id"] != orderID || m["non_refundable_reason"] != "promotion" || m["refundable"] != false {
		t.Fatalf("non-refundable order %v", m)
	}
	_, m = e.do("POST", refund, `{"reason":"changed my mind"}`)
	if msg, _ := m["error"].(string); !strings.Contains(msg, "promotion") {
		t.Fatalf("refund of a non-refundable order: %v", m)
	}
	e.want("POST", refund, `{}`, 409)
	e.want("POST", "/operator/v1/orders/ord_missing/non-refundable", `{"reason":"x"}`, 404)
	if m := e.want("POST", nr, `{"reason":""}`, 200); m["non_refundable_reason"] != "" || m["refundable"] != true {
		t.Fatalf("refundable again %v", m)
	}

	// Bad refund requests change nothing.
	for _, body := range []string{``, `{`, `{"reason":5}`, `{"why":"x"}`, `{"request_id":"` + strings.Repeat("k", 129) + `"}`} {
		if got, m := e.do("POST", refund, body); got != 400 {
			t.Errorf("refund %q: %d %v", body, got, m)
		}
	}
	e.want("POST", "/operator/v1/apps/1400000099/refund", `{}`, 404)
	if b := e.balance(acc); b != "0.00/0.00/0.00" {
		t.Fatalf("refused refunds paid out: %s", b)
	}

	// Bought 20 Nov 10:30 for one month (30 days); refunded 29 Nov 12:00, the 10th
	// started day: used 399 × 10/30 = 133.00, refund 266.00 cash.
	e.clock.Set(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	r := e.want("POST", refund, `{"reason":"changed my mind","request_id":"rf-1"}`, 200)
	if keys(r) != "amount,app,cash,credit,effective,not_effective,refund,used" {
		t.Fatalf("refund keys %s", keys(r))
	}
	if r["amount"] != "266.00" || r["cash"] != "266.00" || r["credit"] != "0.00" || r["effective"] != "399.00" ||
		r["not_effective"] != "0.00" || r["used"] != "133.00" {
		t.Fatalf("refund %v", r)
	}
	ro := r["refund"].(map[string]any)
	if keys(ro) != orderKeys || ro["kind"] != "refund" || ro["reason"] != "changed my mind" || ro["cash"] != "266.00" ||
		fmt.Sprint(ro["refunds"]) != "["+orderID+"]" || ro["refundable"] != false {
		t.Fatalf("refund order %v", ro)
	}
	app := r["app"].(map[string]any)
	if app["status"] != "suspended" || app["suspend_reason"] != "refund" || app["suspended_at"] != "2026-11-29T12:00:00Z" {
		t.Fatalf("app after the refund %v", app)
	}
	if b := e.balance(acc); b != "266.00/0.00/266.00" {
		t.Fatalf("balance after the refund %s", b)
	}
	// The same request returns the same refund; the same id with another reason
	// is a conflict; another refund finds nothing.
	if again := e.want("POST", refund, `{"reason":"changed my mind","request_id":"rf-1"}`, 200); again["refund"].(map[string]any)["id"] != ro["id"] {
		t.Fatalf("replayed refund %v", again)
	}
	e.want("POST", refund, `{"request_id":"rf-1"}`, 409)
	e.want("POST", refund, `{}`, 409)
	if b := e.balance(acc); b != "266.00/0.00/266.00" {
		t.Fatalf("balance after refused refunds %s", b)
	}
	ords := e.orders(acc)
	if len(ords) != 2 || ords[0].(map[string]any)["status"] != "refunded" || ords[1].(map[string]any)["kind"] != "refund" {
		t.Fatalf("orders %v", ords)
	}
	e.want("GET", "/operator/v1/orders", "", 400)
	e.want("GET", "/operator/v1/orders?account=acc_missing", "", 404)
}

func TestAddonRoutes(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"2000"}`)
	path := fmt.Sprintf("/operator/v1/apps/%d/addons", id)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{``, 400},
		{`{}`, 400},
		{`{"addon":"push"}`, 400},
		{`{"addon":"push","months":0}`, 400},
		{`{"addon":"push","months":1,"quantity":-1}`, 400},
		{`{"addon":"push","months":1,"quantity":"1"}`, 400},
		{`{"addon":"desk","months":1,"quantity":2}`, 400}, // below the 3 included seats
		{`{"addon":"teleport","months":1}`, 400},
		{`{"addon":"push","months":1,"seats":1}`, 400},
		{`{"addon":"cloud_search","months":24}`, 402},
	} {
		if got, m := e.do("POST", path, tc.body); got != tc.status {
			t.Errorf("add-on %q: %d, want %d (%v)", tc.body, got, tc.status, m)
		}
	}
	e.want("POST", "/operator/v1/apps/1400000099/addons", `{"addon":"push","months":1}`, 404)
	if b := e.balance(acc); b != "2000.00/0.00/2000.00" {
		t.Fatalf("refused add-ons charged: %s", b)
	}

	desk := e.want("POST", path, `{"addon":"desk","quantity":5,"months":1}`, 201)
	if desk["product"] != "addon:desk" || desk["quantity"] != float64(5) || desk["list_price"] != "399.00" ||
		desk["refundable"] != false || desk["non_refundable_reason"] == "" || desk["kind"] != "addon" {
		t.Fatalf("desk order %v", desk)
	}
	push := e.want("POST", path, `{"addon":"push","months":1,"request_id":"p1"}`, 201)
	if push["product"] != "addon:push" || push["quantity"] != float64(1) || push["list_price"] != "299.00" || push["refundable"] != true {
		t.Fatalf("push order %v", push)
	}
	if b := e.balance(acc); b != "1302.00/0.00/1302.00" {
		t.Fatalf("balance %s", b)
	}

	// Refunds: a plugin on its first day returns all but one day; Desk is
	// value-added and not refundable; an unknown add-on is not found.
	r := e.want("POST", path+"/push/refund", `{"reason":"not needed"}`, 200)
	if r["used"] != "9.97" || r["amount"] != "289.03" || r["refund"].(map[string]any)["product"] != "addon:push" ||
		r["app"].(map[string]any)["status"] != "active" {
		t.Fatalf("push refund %v", r)
	}
	e.want("POST", path+"/push/refund", `{}`, 409) // nothing left to refund
	e.want("POST", path+"/desk/refund", `{}`, 409)
	e.want("POST", path+"/teleport/refund", `{}`, 404)
	e.want("POST", path+"/push/refund", `{"reason":[]}`, 400)
	if b := e.balance(acc); b != "1591.03/0.00/1591.03" {
		t.Fatalf("balance after the refund %s", b)
	}
}

func TestExtendTrialRoute(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id, other := e.app(acc), e.app(acc)
	path := fmt.Sprintf("/operator/v1/apps/%d/extend-trial", id)
	for _, body := range []string{`{`, `[]`, `{"months":2}`, `{} {}`} {
		if got, m := e.do("POST", path, body); got != 400 {
			t.Errorf("extend-trial %q: %d %v", body, got, m)
		}
	}
	// Too early: an extension is granted from 7 days before the trial expires.
	e.want("POST", path, "", 409)
	if a := e.getApp(id); a["trial_extended"] != false || a["expires_at"] != "2026-12-20T10:30:00Z" {
		t.Fatalf("refused extensions extended: %v", a)
	}
	e.clock.Set(time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC))
	a := e.want("POST", path, "", 200)
	if a["trial_extended"] != true || a["edition"] != "trial" || a["expires_at"] != "2027-01-20T10:30:00Z" {
		t.Fatalf("extended trial %v", a)
	}
	e.want("POST", path, "", 409) // once per app
	if a := e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/extend-trial", other), `{}`, 200); a["trial_extended"] != true {
		t.Fatalf("extension with {}: %v", a)
	}
	e.want("POST", "/operator/v1/apps/1400000099/extend-trial", "", 404)
}

func TestBillsNotificationsAndClockRoutes(t *testing.T) {
	e := newCommerceEnv(t)
	ctx := context.Background()
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"300"}`)
	e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/addons", id), `{"addon":"push","months":1}`, 201)
	// 105 all-users push calls on one day: 5 beyond the 100 free, 10 USD each.
	if err := e.store.AddUsage(ctx, store.Usage{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-11-25", Quantity: 105}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/operator/v1/bills", "/operator/v1/notifications"} {
		if l := e.want("GET", path+"?account="+acc, "", 200); len(l[strings.TrimPrefix(path, "/operator/v1/")].([]any)) != 0 {
			t.Fatalf("%s before any run: %v", path, l)
		}
		e.want("GET", path, "", 400)
		e.want("GET", path+"?account=acc_missing", "", 404)
	}

	c := e.want("GET", "/operator/v1/clock", "", 200)
	if keys(c) != "fake,now" || c["now"] != "2026-11-20T10:30:00Z" || c["fake"] != true {
		t.Fatalf("clock %v", c)
	}
	for _, body := range []string{
		``, `{}`, `{"set":"","advance":""}`, `{"set":"2027-01-01T00:00:00Z","advance":"1h"}`,
		`{"set":"2027-01-01"}`, `{"set":"tomorrow"}`, `{"set":"2026-11-19T00:00:00Z"}`, // backwards
		`{"advance":"0s"}`, `{"advance":"-1h"}`, `{"advance":"-1d"}`, `{"advance":"1w"}`, `{"advance":"d"}`,
		`{"advance":"1d-1h"}`, `{"advance":"99999999d"}`, `{"advance":24}`, `{"advance":"1h","jobs":1}`,
	} {
		if got, m := e.do("POST", "/operator/v1/clock", body); got != 400 {
			t.Errorf("clock %q: %d %v", body, got, m)
		}
	}
	if now := e.want("GET", "/operator/v1/clock", "", 200)["now"]; now != "2026-11-20T10:30:00Z" {
		t.Fatalf("refused moves moved the clock to %v", now)
	}

	// To the first of December: the November bill (50.00) is issued and cannot be
	// paid in full (1.00 left after the plugin), so the account is overdue.
	m := e.want("POST", "/operator/v1/clock", `{"advance":"10d13h30m"}`, 200)
	if keys(m) != "fake,from,jobs,now" || m["from"] != "2026-11-20T10:30:00Z" || m["now"] != "2026-12-01T00:00:00Z" ||
		m["fake"] != true || m["jobs"].(float64) < 1 {
		t.Fatalf("advance %v", m)
	}
	bills := e.want("GET", "/operator/v1/bills?account="+acc, "", 200)["bills"].([]any)
	if len(bills) != 1 {
		t.Fatalf("bills %v", bills)
	}
	b := bills[0].(map[string]any)
	if keys(b) != "account,cash,credit,id,issued_at,lines,month,total" || b["month"] != "2026-11" || b["account"] != acc ||
		b["issued_at"] != "2026-12-01T00:00:00Z" || b["total"] != "50.00" || b["cash"] != "50.00" || b["credit"] != "0.00" {
		t.Fatalf("bill %v", b)
	}
	lines := b["lines"].([]any)
	if len(lines) != 1 {
		t.Fatalf("bill lines %v", lines)
	}
	line := lines[0].(map[string]any)
	if keys(line) != "amount,billable,free,metric,product,sdkappid,unit_price,usage" || line["sdkappid"] != float64(id) ||
		line["product"] != "addon:push" || line["metric"] != catalog.MetricPushCalls || line["usage"] != float64(105) ||
		line["free"] != float64(100) || line["billable"] != float64(5) || line["unit_price"] != "10.00 per 1" || line["amount"] != "50.00" {
		t.Fatalf("bill line %v", line)
	}
	a := e.want("GET", "/operator/v1/accounts/"+acc, "", 200)
	if a["overdue_since"] != "2026-12-01T00:00:00Z" || fmt.Sprint(a["balance"]) != "map[cash:-49.00 credit:0.00 total:-49.00]" {
		t.Fatalf("overdue account %v", a)
	}
	ns := e.want("GET", "/operator/v1/notifications?account="+acc, "", 200)["notifications"].([]any)
	if len(ns) == 0 {
		t.Fatal("no notifications after a bill")
	}
	n := ns[0].(map[string]any)
	if keys(n) != "account,body,channel,due_at,error,id,kind,recipient,sdkappid,sent_at,status,subject" || n["account"] != acc || n["due_at"] == "" {
		t.Fatalf("notification %v", n)
	}

	// 24 hours later the overdue account is suspended; setting the clock runs that.
	m = e.want("POST", "/operator/v1/clock", `{"set":"2026-12-02T01:00:00+01:00"}`, 200)
	if m["now"] != "2026-12-02T00:00:00Z" || m["from"] != "2026-12-01T00:00:00Z" {
		t.Fatalf("set %v", m)
	}
	a = e.want("GET", "/operator/v1/accounts/"+acc, "", 200)
	if a["status"] != "suspended" || a["suspend_reason"] != "arrears" || a["suspended_at"] != "2026-12-02T00:00:00Z" {
		t.Fatalf("account after the arrears job %v", a)
	}
	// A top-up to zero or more resumes it.
	if a := e.topUp(acc, `{"cash":"49"}`); a["status"] != "active" || a["overdue_since"] != "" {
		t.Fatalf("account after paying the arrears %v", a)
	}
}

func TestClockRoutesOnTheRealClock(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := clock.Real{}
	h := New(Config{
		Tenants: &tenant.Service{Store: st, Clock: c}, Gate: &gate.Gate{MAU: st, Clock: c}, Clock: c, Token: testToken,
		Commerce: &commerce.Service{Store: st, Clock: c}, Scheduler: lifecycle.New(lifecycle.Config{Store: st, Clock: c}),
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv}
	m := e.want("GET", "/operator/v1/clock", "", 200)
	now, err := time.Parse(time.RFC3339, m["now"].(string))
	if err != nil || m["fake"] != false || time.Since(now).Abs() > time.Minute {
		t.Fatalf("real clock %v", m)
	}
	for _, body := range []string{`{"advance":"24h"}`, `{"set":"2099-01-01T00:00:00Z"}`} {
		if got, m := e.do("POST", "/operator/v1/clock", body); got != 409 || !strings.Contains(m["error"].(string), "fake-clock") {
			t.Errorf("moving the real clock %s: %d %v", body, got, m)
		}
	}
}

func TestPromotionRoute(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	id := e.app(acc)
	e.topUp(acc, `{"cash":"1000"}`)
	for _, tc := range []struct {
		addon, body string
		status      int
	}{
		{"chatbot_messages", ``, 400},
		{"chatbot_messages", `{"free_until":"tomorrow"}`, 400},
		{"chatbot_messages", `{"free_until":"2026-01-01"}`, 400}, // in the past
		{"chatbot_messages", `{"until":"2026-12-31"}`, 400},
		{"teleport", `{"free_until":"2026-12-31"}`, 404},
	} {
		if got, m := e.do("PUT", "/operator/v1/addons/"+tc.addon+"/promotion", tc.body); got != tc.status {
			t.Errorf("promotion %s %q: %d, want %d (%v)", tc.addon, tc.body, got, tc.status, m)
		}
	}
	cat := e.want("PUT", "/operator/v1/addons/chatbot_messages/promotion", `{"free_until":"2026-11-30"}`, 200)
	var until any
	for _, a := range cat["addons"].([]any) {
		if a := a.(map[string]any); a["id"] == "chatbot_messages" {
			until = a["free_until"]
		}
	}
	if until != "2026-12-01T00:00:00Z" {
		t.Fatalf("catalog free_until = %v", until)
	}
	o := e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/addons", id), `{"addon":"chatbot_messages","quantity":2,"months":1}`, 201)
	if o["list_price"] != "400.00" || o["discount"] != "400.00" || o["cash"] != "0.00" {
		t.Fatalf("promoted order %v", o)
	}
	e.want("PUT", "/operator/v1/addons/chatbot_messages/promotion", `{"free_until":""}`, 200)
	o = e.want("POST", fmt.Sprintf("/operator/v1/apps/%d/addons", id), `{"addon":"chatbot_messages","months":1}`, 201)
	if o["cash"] != "200.00" {
		t.Fatalf("order after the promotion ended %v", o)
	}
}

// A clock move runs to its end even when the client has gone: a clock left
// half-way would surprise the next caller.
func TestClockMoveOutlivesTheClient(t *testing.T) {
	e := newCommerceEnv(t)
	acc := e.account()
	h := New(Config{Tenants: e.tenants, Gate: e.gate, Clock: e.clock, Token: testToken, Commerce: e.commerce, Scheduler: e.sched})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone before the server starts
	req := httptest.NewRequest("POST", "/operator/v1/clock", strings.NewReader(`{"advance":"40d"}`)).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("clock move: %d %s", rec.Code, rec.Body)
	}
	if want := time.Date(2026, 12, 30, 10, 30, 0, 0, time.UTC); !e.clock.Now().Equal(want) {
		t.Errorf("clock at %s, want %s", e.clock.Now(), want)
	}
	if bills := e.want("GET", "/operator/v1/bills?account="+acc, "", 200)["bills"].([]any); len(bills) != 1 {
		t.Errorf("%d bills after the move, want November's", len(bills))
	}
}
