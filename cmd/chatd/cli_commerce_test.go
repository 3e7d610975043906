package main

import (
	"context"
	"fmt"
	"io"
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
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

// newCommerceCLITestServer is newCLITestServer with the commercial layer and a
// scheduler on the manual clock (a server started with --fake-clock).
func newCommerceCLITestServer(t *testing.T) *cliTestServer {
	t.Helper()
	return startCLITestServer(t, true)
}

// get fetches an operator route directly and returns the body as the server sent it.
func (s *cliTestServer) get(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+operator.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// setup creates an account with one trial app and returns their IDs.
func (s *cliTestServer) setup(t *testing.T) (string, string) {
	t.Helper()
	acc := s.jsonOK(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example")["id"].(string)
	app := jsonInt(s.jsonOK(t, "app", "create", "--account", acc, "--name", "Chat")["sdkappid"])
	return acc, app
}

func (s *cliTestServer) balance(t *testing.T, acc string) string {
	t.Helper()
	return fmt.Sprint(s.jsonOK(t, "account", "show", "--account", acc)["balance"])
}

func TestCLICommerceUsageErrors(t *testing.T) {
	s := newCommerceCLITestServer(t)
	acc, app := s.setup(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"plan"}, "missing plan command"},
		{[]string{"plan", "sell"}, "unknown command 'plan sell'"},
		{[]string{"voucher"}, "missing voucher command"},
		{[]string{"clock", "rewind"}, "unknown command"},
		{[]string{"catalog", "extra"}, "unexpected argument"},
		{[]string{"account", "topup"}, "--account is required"},
		{[]string{"account", "topup", "--account", acc}, "--cash and/or --credit"},
		{[]string{"account", "topup", "--account", acc, "--cash", "1e3"}, "--cash"},
		{[]string{"account", "topup", "--account", acc, "--cash", "1.005"}, "at most two decimals"},
		{[]string{"account", "topup", "--account", acc, "--credit", "-5"}, "must not be negative"},
		{[]string{"account", "suspend", "--account", acc}, "--reason is required"},
		{[]string{"addon", "promote", "--addon", "push"}, "exactly one of --free-until DATE and --end"},
		{[]string{"addon", "promote", "--addon", "push", "--free-until", "2027-01-31", "--end"}, "exactly one of"},
		{[]string{"addon", "promote", "--addon", "push", "--free-until", "soon"}, "--free-until"},
		{[]string{"addon", "promote", "--free-until", "2027-01-31"}, "--addon is required"},
		{[]string{"voucher", "issue", "--account", acc, "--amount", "5"}, "--expires is required"},
		{[]string{"voucher", "issue", "--account", acc, "--amount", "0", "--expires", "2027-01-31"}, "positive"},
		{[]string{"voucher", "issue", "--account", acc, "--amount", "5", "--expires", "31/01/2027"}, "expires"},
		{[]string{"voucher", "issue", "--account", acc, "--amount", "5", "--expires", "2027-01-31", "--scope", "x"}, "--scope"},
		{[]string{"voucher", "list"}, "--account is required"},
		{[]string{"plan", "buy", "--edition", "standard", "--months", "1"}, "--sdkappid is required"},
		{[]string{"plan", "buy", "--sdkappid", app, "--months", "1"}, "--edition is required"},
		{[]string{"plan", "buy", "--sdkappid", app, "--edition", "standard"}, "--months is required: 1 to 24"},
		{[]string{"plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "25"}, "1 to 24"},
		{[]string{"plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "x"}, "invalid value"},
		{[]string{"plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "1", "--discount", "ten"}, "--discount"},
		{[]string{"plan", "upgrade", "--sdkappid", app}, "--edition is required"},
		{[]string{"plan", "renew", "--months", "1"}, "--sdkappid is required"},
		{[]string{"plan", "renew", "--sdkappid", app + ",x", "--months", "1"}, `"x" is not a positive integer`},
		{[]string{"plan", "renew", "--sdkappid", app + ",,1", "--months", "1"}, "not a positive integer"},
		{[]string{"plan", "renew", "--sdkappid", app}, "--months is required"},
		{[]string{"plan", "auto-renew", "--sdkappid", app}, "exactly one of --on and --off"},
		{[]string{"plan", "auto-renew", "--sdkappid", app, "--on", "--off"}, "exactly one of --on and --off"},
		{[]string{"plan", "refund"}, "--sdkappid is required"},
		{[]string{"addon", "buy", "--sdkappid", app, "--months", "1"}, "--addon is required"},
		{[]string{"addon", "buy", "--sdkappid", app, "--addon", "push"}, "--months is required"},
		{[]string{"addon", "buy", "--sdkappid", app, "--addon", "push", "--months", "1", "--quantity", "-1"}, "--quantity"},
		{[]string{"addon", "refund", "--sdkappid", app}, "--addon is required"},
		{[]string{"app", "extend-trial"}, "--sdkappid is required"},
		{[]string{"order", "list"}, "--account is required"},
		{[]string{"order", "non-refundable", "--order", "ord_x"}, "exactly one of --reason R"},
		{[]string{"order", "non-refundable", "--order", "ord_x", "--reason", "x", "--allow"}, "exactly one of --reason R"},
		{[]string{"order", "non-refundable", "--reason", "x"}, "--order is required"},
		{[]string{"bill", "list"}, "--account is required"},
		{[]string{"notification", "list"}, "--account is required"},
		{[]string{"clock", "show", "now"}, "unexpected argument"},
		{[]string{"clock", "set"}, "missing TIME"},
		{[]string{"clock", "set", "2027-01-01"}, "RFC 3339"},
		{[]string{"clock", "set", "2027-01-01T00:00:00Z", "extra"}, "unexpected argument"},
		{[]string{"clock", "advance"}, "missing DURATION"},
		{[]string{"clock", "advance", "1w"}, "positive duration"},
		{[]string{"clock", "advance", "0s"}, "positive duration"},
		{[]string{"clock", "advance", "-1h"}, "flag provided but not defined"},
	} {
		r := s.cli(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
			t.Errorf("chatd %v: exit %d stdout %q stderr %q; want exit 2 with %q", tc.args, r.code, r.stdout, r.stderr, tc.msg)
		}
	}
	// Nothing reached the server.
	if b := s.balance(t, acc); b != "map[cash:0.00 credit:0.00 total:0.00]" {
		t.Fatalf("balance %s", b)
	}
	if now := s.jsonOK(t, "clock", "show")["now"]; now != "2026-11-20T10:30:00Z" {
		t.Fatalf("clock %v", now)
	}
}

func TestCLIMoneyJSON(t *testing.T) {
	s := newCommerceCLITestServer(t)
	ctx := context.Background()
	acc, app := s.setup(t)

	// --json prints the server's answer byte for byte (one compact line).
	r := s.cli(t, "catalog", "--json")
	if r.code != 0 || r.stdout != s.get(t, "/catalog") {
		t.Fatalf("catalog --json is not the server's JSON: %+v", r)
	}

	a := s.jsonOK(t, "account", "topup", "--account", acc, "--cash", "5000", "--credit", "99.5")
	if fmt.Sprint(a["balance"]) != "map[cash:5000.00 credit:99.50 total:5099.50]" {
		t.Fatalf("topup %v", a)
	}
	if a := s.jsonOK(t, "account", "topup", "--account", acc, "--credit", "0.50"); fmt.Sprint(a["balance"]) != "map[cash:5000.00 credit:100.00 total:5100.00]" {
		t.Fatalf("topup credit only %v", a)
	}

	v := s.jsonOK(t, "voucher", "issue", "--account", acc, "--amount", "20", "--expires", "2027-01-31", "--scope", "editions")
	if v["amount"] != "20.00" || v["scope"] != "editions" || v["expires_at"] != "2027-02-01T00:00:00Z" {
		t.Fatalf("voucher %v", v)
	}
	vid := v["id"].(string)
	if l := s.jsonOK(t, "voucher", "list", "--account", acc); len(l["vouchers"].([]any)) != 1 {
		t.Fatalf("voucher list %v", l)
	}

	// Without --accept-agreement the request goes out and the server's refusal reaches
	// the user; nothing is charged.
	r = s.cli(t, "plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "1", "--json")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "agreement") || !strings.Contains(r.stderr, "400") {
		t.Fatalf("buy without the agreement: %+v", r)
	}
	o := s.jsonOK(t, "plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "2", "--auto-renew",
		"--voucher", vid, "--accept-agreement", "--discount", "48", "--request-id", "buy-1")
	if o["kind"] != "buy" || o["list_price"] != "798.00" || o["discount"] != "48.00" || o["voucher"] != "20.00" ||
		o["credit"] != "100.00" || o["cash"] != "630.00" || o["auto_renew"] != true || o["agreement_accepted"] != true {
		t.Fatalf("plan buy %v", o)
	}
	// The same request with the same --request-id returns the first order; nothing
	// is charged twice. The id with other parameters is refused.
	again := s.jsonOK(t, "plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "2", "--auto-renew",
		"--voucher", vid, "--accept-agreement", "--discount", "48", "--request-id", "buy-1")
	if again["id"] != o["id"] {
		t.Fatalf("repeated request id made order %v, first %v", again["id"], o["id"])
	}
	r = s.cli(t, "plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "2", "--accept-agreement", "--request-id", "buy-1")
	if r.code != 1 || !strings.Contains(r.stderr, "request id reused") || !strings.Contains(r.stderr, "409") {
		t.Fatalf("request id reused with other parameters: %+v", r)
	}
	if b := s.balance(t, acc); b != "map[cash:4370.00 credit:0.00 total:4370.00]" {
		t.Fatalf("balance %s", b)
	}
	if a := s.jsonOK(t, "app", "show", "--sdkappid", app); a["edition"] != "standard" || a["plan_anchor"] != "2026-11-20T10:30:00Z" || a["auto_renew"] != true {
		t.Fatalf("app after buying %v", a)
	}
	// A downgrade is refused (409) with the server's message.
	r = s.cli(t, "plan", "upgrade", "--sdkappid", app, "--edition", "standard")
	if r.code != 1 || !strings.Contains(r.stderr, "409") {
		t.Fatalf("upgrade to standard: %+v", r)
	}

	if a := s.jsonOK(t, "plan", "auto-renew", "--sdkappid", app, "--off"); a["auto_renew"] != false {
		t.Fatalf("auto-renew --off %v", a)
	}
	if a := s.jsonOK(t, "plan", "auto-renew", "--sdkappid", app, "--on"); a["auto_renew"] != true {
		t.Fatalf("auto-renew --on %v", a)
	}

	second := jsonInt(s.jsonOK(t, "app", "create", "--account", acc, "--name", "Second")["sdkappid"])
	r = s.cli(t, "plan", "buy", "--sdkappid", second, "--edition", "premium", "--months", "24", "--accept-agreement")
	if r.code != 1 || !strings.Contains(r.stderr, "402") || !strings.Contains(r.stderr, "top up") {
		t.Fatalf("buy beyond the balance: %+v", r)
	}
	s.jsonOK(t, "plan", "buy", "--sdkappid", second, "--edition", "standard", "--months", "1", "--accept-agreement")
	l := s.jsonOK(t, "plan", "renew", "--sdkappid", app+","+second, "--months", "1")
	if rs := l["orders"].([]any); len(rs) != 2 || rs[0].(map[string]any)["kind"] != "renew" || jsonInt(rs[1].(map[string]any)["sdkappid"]) != second {
		t.Fatalf("renew %v", l)
	}

	s.clock.Advance(24 * time.Hour)
	u := s.jsonOK(t, "plan", "upgrade", "--sdkappid", second, "--edition", "premium")
	if u["kind"] != "upgrade" || u["product"] != "premium" {
		t.Fatalf("upgrade %v", u)
	}

	push := s.jsonOK(t, "addon", "buy", "--sdkappid", app, "--addon", "push", "--months", "1")
	if push["product"] != "addon:push" || push["list_price"] != "299.00" || push["refundable"] != true {
		t.Fatalf("addon buy %v", push)
	}
	// Without --request-id every invocation is its own order (a random key each).
	push2 := s.jsonOK(t, "addon", "buy", "--sdkappid", app, "--addon", "push", "--months", "1")
	if push2["id"] == push["id"] || push2["effective_from"] != push["effective_to"] {
		t.Fatalf("second push order %v, first %v", push2, push)
	}
	orders, err := s.store.ListOrders(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, o := range orders {
		if o.RequestID != "buy-1" && !strings.HasPrefix(o.RequestID, "cli-") {
			t.Fatalf("order %s has request id %q", o.ID, o.RequestID)
		}
		if keys[o.RequestID] {
			t.Fatalf("request id %q used twice", o.RequestID)
		}
		keys[o.RequestID] = true
	}

	ref := s.jsonOK(t, "addon", "refund", "--sdkappid", app, "--addon", "push", "--reason", "not needed")
	if ref["refund"].(map[string]any)["product"] != "addon:push" || ref["not_effective"] != "299.00" {
		t.Fatalf("addon refund %v", ref)
	}
	if r := s.cli(t, "addon", "refund", "--sdkappid", app, "--addon", "desk"); r.code != 1 || !strings.Contains(r.stderr, "409") {
		t.Fatalf("refund of an add-on never bought: %+v", r)
	}

	// The operator refuses refunds of the second app's upgrade, then allows them.
	n := s.jsonOK(t, "order", "non-refundable", "--order", u["id"].(string), "--reason", "promotion")
	if n["non_refundable_reason"] != "promotion" || n["refundable"] != false {
		t.Fatalf("non-refundable %v", n)
	}
	if r := s.cli(t, "plan", "refund", "--sdkappid", second); r.code != 1 || !strings.Contains(r.stderr, "promotion") {
		t.Fatalf("refund of a non-refundable order: %+v", r)
	}
	if n := s.jsonOK(t, "order", "non-refundable", "--order", u["id"].(string), "--allow"); n["refundable"] != true {
		t.Fatalf("--allow %v", n)
	}
	pr := s.jsonOK(t, "plan", "refund", "--sdkappid", second, "--reason", "moving")
	if pr["app"].(map[string]any)["suspend_reason"] != "refund" || pr["refund"].(map[string]any)["reason"] != "moving" {
		t.Fatalf("plan refund %v", pr)
	}

	ol := s.jsonOK(t, "order", "list", "--account", acc)
	if r := s.cli(t, "order", "list", "--account", acc, "--json"); r.stdout != s.get(t, "/orders?account="+acc) {
		t.Fatalf("order list --json is not the server's JSON")
	}
	if len(ol["orders"].([]any)) != len(orders)+2 {
		t.Fatalf("order list %v", ol)
	}

	third := jsonInt(s.jsonOK(t, "app", "create", "--account", acc, "--name", "Third")["sdkappid"])
	if r := s.cli(t, "app", "extend-trial", "--sdkappid", third); r.code != 1 || !strings.Contains(r.stderr, "7 days before") {
		t.Fatalf("early extension: %+v", r)
	}
	s.clock.Set(time.Date(2026, 12, 18, 0, 0, 0, 0, time.UTC))
	if a := s.jsonOK(t, "app", "extend-trial", "--sdkappid", third); a["trial_extended"] != true {
		t.Fatalf("extend-trial %v", a)
	}

	// The clock: show, advance past two months' ends, set. (The test moved the
	// manual clock itself above, so the scheduler has run nothing yet: the first
	// advance also runs the jobs that fell due on the way, such as the November bill.)
	if c := s.jsonOK(t, "clock", "show"); c["fake"] != true || c["now"] != "2026-12-18T00:00:00Z" {
		t.Fatalf("clock show %v", c)
	}
	// All-users push calls beyond the 100 free a day: 1 in November, 3 in December,
	// 10 USD each (the push plugin was held in both months, refunded or not).
	for day, n := range map[string]int64{"2026-11-25": 101, "2026-12-18": 103} {
		if err := s.store.AddUsage(ctx, store.Usage{SDKAppID: mustInt(t, app), Metric: catalog.MetricPushCalls, Day: day, Quantity: n}); err != nil {
			t.Fatal(err)
		}
	}
	c := s.jsonOK(t, "clock", "advance", "14d", "--json")
	if c["from"] != "2026-12-18T00:00:00Z" || c["now"] != "2027-01-01T00:00:00Z" || c["jobs"].(float64) < 1 {
		t.Fatalf("clock advance %v", c)
	}
	if c := s.jsonOK(t, "clock", "set", "2027-01-01T06:00:00Z"); c["now"] != "2027-01-01T06:00:00Z" {
		t.Fatalf("clock set %v", c)
	}
	if r := s.cli(t, "clock", "set", "2026-01-01T00:00:00Z"); r.code != 1 || !strings.Contains(r.stderr, "forward") {
		t.Fatalf("clock set backwards: %+v", r)
	}
	bl := s.jsonOK(t, "bill", "list", "--account", acc)
	bills := bl["bills"].([]any)
	if len(bills) != 2 {
		t.Fatalf("bills %v", bl)
	}
	if nov := bills[0].(map[string]any); nov["month"] != "2026-11" || nov["total"] != "10.00" {
		t.Fatalf("November bill %v", nov)
	}
	dec := bills[1].(map[string]any)
	if dec["month"] != "2026-12" || dec["total"] != "30.00" || fmt.Sprint(dec["lines"].([]any)[0].(map[string]any)["unit_price"]) != "10.00 per 1" {
		t.Fatalf("December bill %v", dec)
	}
	if nl := s.jsonOK(t, "notification", "list", "--account", acc); len(nl["notifications"].([]any)) == 0 {
		t.Fatalf("notifications %v", nl)
	}

	sus := s.jsonOK(t, "account", "suspend", "--account", acc, "--reason", "spam")
	if sus["status"] != "suspended" || sus["suspend_reason"] != "violation" {
		t.Fatalf("suspend %v", sus)
	}
	// Refused by the server: exit 1 with its message.
	for _, args := range [][]string{
		{"account", "topup", "--account", "acc_missing", "--cash", "5"},
		{"voucher", "list", "--account", "acc_missing"},
		{"order", "list", "--account", "acc_missing"},
		{"bill", "list", "--account", "acc_missing"},
		{"notification", "list", "--account", "acc_missing"},
		{"plan", "buy", "--sdkappid", "1400000099", "--edition", "standard", "--months", "1", "--accept-agreement"},
		{"order", "non-refundable", "--order", "ord_missing", "--allow"},
	} {
		if r := s.cli(t, args...); r.code != 1 || !strings.Contains(r.stderr, "404") || r.stdout != "" {
			t.Errorf("chatd %v: %+v", args, r)
		}
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCLIMoneyHumanOutput(t *testing.T) {
	s := newCommerceCLITestServer(t)
	acc, app := s.setup(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"catalog"}, []string{"EDITION", "standard", "399.00 USD", "699.00 USD", "0.015 USD each", "not sold (cap 100)", "unlimited",
			"ADD-ON", "desk", "299.00 USD per month with 3 seats, 50.00 USD per extra seat", "push_all_user_calls: 100 free per day, then 10.00 USD per 1"}},
		{[]string{"account", "topup", "--account", acc, "--cash", "2000", "--credit", "50"}, []string{"Balance:", "2050.00 USD (cash 2000.00 USD, credit 50.00 USD)", "active"}},
		{[]string{"voucher", "issue", "--account", acc, "--amount", "10", "--expires", "2027-01-31"}, []string{"Voucher vch_", "10.00 USD", "2027-02-01T00:00:00Z"}},
		{[]string{"voucher", "list", "--account", acc}, []string{"VOUCHER", "10.00 USD", "all"}},
		{[]string{"plan", "buy", "--sdkappid", app, "--edition", "standard", "--months", "1", "--accept-agreement"},
			[]string{"Order:", "buy, paid", "standard, 1 month(s)", "List price:", "399.00 USD", "349.00 USD cash, 50.00 USD credit", "2026-12-20T10:30:00Z", "Refundable:"}},
		{[]string{"app", "show", "--sdkappid", app}, []string{"Plan anchor:", "2026-11-20T10:30:00Z", "Auto-renew:"}},
		{[]string{"plan", "auto-renew", "--sdkappid", app, "--on"}, []string{"Auto-renewal of app " + app, "is on"}},
		{[]string{"plan", "renew", "--sdkappid", app, "--months", "2"}, []string{"Renewed 1 app(s) by 2 month(s)", "ORDER", "renew", "798.00 USD"}},
		{[]string{"addon", "buy", "--sdkappid", app, "--addon", "desk", "--quantity", "4", "--months", "1"}, []string{"add-on desk × 4", "349.00 USD", "Refundable:", "no ("}},
		{[]string{"plan", "refund", "--sdkappid", app, "--reason", "test"}, []string{"Refunded 1183.70 USD", "1134.26 USD cash, 49.44 USD credit", "effective 399.00 USD + not yet effective 798.00 USD − used 13.30 USD", "suspended (refund)"}},
		{[]string{"order", "list", "--account", acc}, []string{"ORDER", "KIND", "buy", "renew", "addon", "refund", "refunded"}},
		{[]string{"bill", "list", "--account", acc}, []string{"has no bills"}},
		{[]string{"notification", "list", "--account", acc}, []string{"has no notifications"}},
		{[]string{"addon", "promote", "--addon", "chatbot_messages", "--free-until", "2026-12-31"}, []string{"chatbot_messages is free to buy until 2027-01-01T00:00:00Z"}},
		{[]string{"catalog"}, []string{"free until 2027-01-01T00:00:00Z (list 200.00 USD per pack)"}},
		{[]string{"addon", "promote", "--addon", "chatbot_messages", "--end"}, []string{"sold at its list price again"}},
		{[]string{"clock", "show"}, []string{"Server time: 2026-11-20T10:30:00Z (fake clock)"}},
		{[]string{"clock", "advance", "1d"}, []string{"Clock moved from 2026-11-20T10:30:00Z to 2026-11-21T10:30:00Z (fake clock)", "job(s) ran"}},
		{[]string{"account", "show", "--account", acc}, []string{"Balance:", "USD"}},
		{[]string{"account", "suspend", "--account", acc, "--reason", "spam"}, []string{"suspended (violation, since 2026-11-21T10:30:00Z)"}},
	} {
		r := s.cli(t, tc.args...)
		if r.code != 0 || r.stderr != "" || strings.HasPrefix(r.stdout, "{") {
			t.Fatalf("chatd %v: %+v", tc.args, r)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("chatd %v: output lacks %q:\n%s", tc.args, w, r.stdout)
			}
		}
	}
	orderID := s.jsonOK(t, "order", "list", "--account", acc)["orders"].([]any)[0].(map[string]any)["id"].(string)
	if r := s.cli(t, "order", "non-refundable", "--order", orderID, "--reason", "promo"); r.code != 0 || !strings.Contains(r.stdout, "is not refundable: promo") {
		t.Fatalf("non-refundable: %+v", r)
	}
	if r := s.cli(t, "order", "non-refundable", "--order", orderID, "--allow"); r.code != 0 || !strings.Contains(r.stdout, "may be refunded") {
		t.Fatalf("--allow: %+v", r)
	}
}

func TestCLIClockOnTheRealClock(t *testing.T) {
	s := newCLITestServer(t) // no scheduler at all
	if r := s.cli(t, "clock", "show"); r.code != 1 || !strings.Contains(r.stderr, "503") {
		t.Fatalf("clock show without a scheduler: %+v", r)
	}
	data := t.TempDir()
	token, _, _, err := operator.LoadOrCreateToken(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(data, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := clock.Real{}
	srv := httptest.NewServer(operator.New(operator.Config{
		Tenants: &tenant.Service{Store: st, Clock: c}, Gate: &gate.Gate{MAU: st, Clock: c}, Clock: c, Token: token,
		Commerce: &commerce.Service{Store: st, Clock: c}, Scheduler: lifecycle.New(lifecycle.Config{Store: st, Clock: c}),
	}))
	defer srv.Close()
	real := &cliTestServer{url: srv.URL, token: token, data: data, client: srv.Client(), store: st}
	if r := real.cli(t, "clock", "show"); r.code != 0 || !strings.Contains(r.stdout, "(real clock)") {
		t.Fatalf("clock show: %+v", r)
	}
	if r := real.cli(t, "clock", "advance", "24h"); r.code != 1 || !strings.Contains(r.stderr, "--fake-clock") || !strings.Contains(r.stderr, "409") {
		t.Fatalf("clock advance on the real clock: %+v", r)
	}
}

// A balance above the cap of one input amount (100,000,000.00) is still read and
// printed: the cap bounds what comes in, not what the server answers.
func TestCLIBalanceBeyondInputCap(t *testing.T) {
	s := newCommerceCLITestServer(t)
	acc, _ := s.setup(t)
	r := s.cli(t, "account", "topup", "--account", acc, "--cash", "60000000", "--credit", "60000000", "--request-id", "big")
	if r.code != 0 || !strings.Contains(r.stdout, "120000000.00") {
		t.Fatalf("topup beyond the input cap: %+v", r)
	}
	if r := s.cli(t, "account", "show", "--account", acc); r.code != 0 || !strings.Contains(r.stdout, "120000000.00") {
		t.Fatalf("account show: %+v", r)
	}
}
