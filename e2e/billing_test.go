package e2e

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/chatd/chatd/internal/testdb"
)

// cliFail runs the CLI expecting the server's refusal (exit 1) and returns its message.
func (n *node) cliFail(args ...string) string {
	n.t.Helper()
	return n.cliExit(1, args...)
}

// cliExit runs the CLI expecting the exit code (2: a usage error caught locally).
func (n *node) cliExit(code int, args ...string) string {
	n.t.Helper()
	full := append([]string{"--server", n.url(""), "--data", n.data, "--json"}, args...)
	out, err := exec.Command(chatdBin, full...).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != code {
		n.t.Fatalf("chatd %s: want exit %d, got %v\n%s", strings.Join(args, " "), code, err, out)
	}
	return string(out)
}

func list(v map[string]any, key string) []map[string]any {
	var out []map[string]any
	for _, x := range v[key].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// noticesOf returns the due times of the account's notices of kind for app, by channel.
func noticesOf(n *node, account string, sdkappid int64, kind, channel string) []string {
	var due []string
	for _, x := range list(n.cli("notification", "list", "--account", account), "notifications") {
		if x["kind"] == kind && x["channel"] == channel && int64(x["sdkappid"].(float64)) == sdkappid {
			due = append(due, x["due_at"].(string))
			if x["status"] != "sent" {
				n.t.Errorf("notice %v not sent", x)
			}
		}
	}
	return due
}

func balance(n *node, account string) (cash, credit string) {
	a := n.cli("account", "show", "--account", account)
	b := a["balance"].(map[string]any)
	return b["cash"].(string), b["credit"].(string)
}

// TestBillingLifecycle drives a real chatd on a fake clock through the CLI across
// four simulated months: a purchase paid from credit and cash, refusals, renewal
// reminders on their days, a failed auto-renewal and its second try after a
// top-up, Free Trial expiry and suspension (60020 at the REST edge), a mid-period
// refund, monthly bills, and repossession 90 days after suspension with the data
// really gone and the SDKAppID not reused.
func TestBillingLifecycle(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		billingLifecycle(t, data, nil, func() (*sql.DB, string) {
			db, err := sql.Open("sqlite", filepath.Join(data, "chatd.db"))
			if err != nil {
				t.Fatal(err)
			}
			return db, "?"
		})
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv("CHATD_TEST_POSTGRES_URL") == "" {
			t.Skip("CHATD_TEST_POSTGRES_URL is not set")
		}
		url := testdb.PostgresURL(t)
		billingLifecycle(t, t.TempDir(), []string{"--store", "postgres", "--postgres-url", url}, func() (*sql.DB, string) {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			return db, "$"
		})
	})
}

// billingLifecycle is TestBillingLifecycle on one store; openDB opens the store's
// database (after chatd stopped) and names its placeholder style.
func billingLifecycle(t *testing.T, data string, storeArgs []string, openDB func() (*sql.DB, string)) {
	n := startNode(t, data, freeAddr(t), append([]string{"--fake-clock", "2027-01-31T10:00:00Z"}, storeArgs...)...)

	acc := n.cli("account", "create", "--name", "Acme", "--email", "ops@acme.example", "--phone", "+15550100")["id"].(string)
	n.cli("account", "topup", "--account", acc, "--cash", "450", "--credit", "100")
	mk := func(name string) app {
		a := n.cli("app", "create", "--account", acc, "--name", name)
		return app{id: int64(a["sdkappid"].(float64)), key: a["secret_key"].(string)}
	}
	shop, lab := mk("shop"), mk("lab")
	id := func(a app) string { return fmt.Sprint(a.id) }

	// Refused orders change nothing.
	if msg := n.cliFail("plan", "buy", "--sdkappid", id(shop), "--edition", "standard", "--months", "1"); !strings.Contains(msg, "agreement") {
		t.Errorf("buy without the agreement: %s", msg)
	}
	n.cliExit(2, "plan", "buy", "--sdkappid", id(shop), "--edition", "standard", "--months", "25", "--accept-agreement")
	n.cliFail("plan", "buy", "--sdkappid", id(shop), "--edition", "premium", "--months", "1", "--accept-agreement") // 699 > 550
	if cash, credit := balance(n, acc); cash != "450.00" || credit != "100.00" {
		t.Fatalf("refusals changed the balance: %s/%s", cash, credit)
	}

	// Standard for one month with auto-renewal: credit first, then cash.
	o := n.cli("plan", "buy", "--sdkappid", id(shop), "--edition", "standard", "--months", "1", "--auto-renew", "--accept-agreement")
	if o["credit"] != "100.00" || o["cash"] != "299.00" || o["effective_to"] != "2027-02-28T10:00:00Z" || o["agreement_accepted"] != true {
		t.Fatalf("order: %v", o)
	}
	n.cliFail("plan", "buy", "--sdkappid", id(shop), "--edition", "standard", "--months", "1", "--accept-agreement") // already in force
	if cash, credit := balance(n, acc); cash != "151.00" || credit != "0.00" {
		t.Fatalf("balance after the purchase: %s/%s", cash, credit)
	}

	// A user of shop is active in February.
	n.restOK(shop, "im_open_login_svc/account_import", map[string]any{"UserID": "alice"})
	n.cli("clock", "set", "2027-02-10T08:00:00Z")
	n.mustLogin(shop, "alice", "Web", 0).Close()

	// To 28 Feb 12:00: the reminders of both apps on each of their 7 days, and the
	// auto-renewal at expiry fails (151.00 < 399.00).
	n.cli("clock", "set", "2027-02-28T12:00:00Z")
	want := []string{"2027-02-22T10:00:00Z", "2027-02-23T10:00:00Z", "2027-02-24T10:00:00Z", "2027-02-25T10:00:00Z",
		"2027-02-26T10:00:00Z", "2027-02-27T10:00:00Z", "2027-02-28T10:00:00Z"}
	for _, a := range []app{shop, lab} {
		for _, ch := range []string{"email", "sms"} {
			if got := noticesOf(n, acc, a.id, "renewal_reminder", ch); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("app %d %s reminders at %v, want %v", a.id, ch, got, want)
			}
		}
	}
	if got := noticesOf(n, acc, shop.id, "auto_renew_failed", "email"); len(got) != 1 || got[0] != "2027-02-28T10:00:00Z" {
		t.Errorf("auto-renew failure notices: %v", got)
	}

	// A top-up within the grace day: the second try renews on the anchor (31 Mar),
	// while the trial app is suspended 24 h after its expiry.
	n.cli("account", "topup", "--account", acc, "--cash", "300")
	n.cli("clock", "advance", "2d")
	s := n.cli("app", "show", "--sdkappid", id(shop))
	if s["status"] != "active" || s["expires_at"] != "2027-03-31T10:00:00Z" {
		t.Errorf("shop after the grace day: %v", s)
	}
	l := n.cli("app", "show", "--sdkappid", id(lab))
	if l["status"] != "suspended" || l["suspend_reason"] != "expired" || l["suspended_at"] != "2027-03-01T10:00:00Z" {
		t.Errorf("lab after its trial: %v", l)
	}
	if v := n.rest(lab, "im_open_login_svc/account_check", map[string]any{"CheckItem": []any{map[string]any{"UserID": "x"}}}); v["ErrorCode"] != float64(60020) {
		t.Errorf("REST on a suspended app: %v", v)
	}
	if got := noticesOf(n, acc, lab.id, "suspended", "email"); len(got) != 1 || got[0] != "2027-03-01T10:00:00Z" {
		t.Errorf("suspension notices: %v", got)
	}
	n.cliFail("plan", "buy", "--sdkappid", id(lab), "--edition", "trial", "--months", "1", "--accept-agreement")
	if cash, _ := balance(n, acc); cash != "52.00" {
		t.Errorf("cash after the renewal: %s, want 52.00", cash)
	}

	// Refund on 10 Mar 22:00: 11 started days of the 31-day period 28 Feb → 31 Mar:
	// 399 − 399 × 11/31 = 257.42 back in cash; the app stops at once.
	n.cli("clock", "set", "2027-03-10T22:00:00Z")
	r := n.cli("plan", "refund", "--sdkappid", id(shop), "--reason", "moving")
	if r["cash"] != "257.42" || r["credit"] != "0.00" || r["app"].(map[string]any)["status"] != "suspended" {
		t.Errorf("refund: %v", r)
	}
	if cash, _ := balance(n, acc); cash != "309.42" {
		t.Errorf("cash after the refund: %s", cash)
	}

	// On to 1 June: monthly bills, and lab repossessed 90 days after 1 Mar 10:00.
	n.cli("clock", "set", "2027-06-01T00:00:00Z")
	var months []string
	for _, b := range list(n.cli("bill", "list", "--account", acc), "bills") {
		months = append(months, b["month"].(string))
		if b["month"] == "2027-02" {
			lines := b["lines"].([]any)
			if len(lines) != 1 || lines[0].(map[string]any)["usage"] != float64(1) || b["total"] != "0.00" {
				t.Errorf("February bill: %v", b)
			}
		}
	}
	if strings.Join(months, ",") != "2027-01,2027-02,2027-03,2027-04,2027-05" {
		t.Errorf("bills for %v", months)
	}
	if got := noticesOf(n, acc, lab.id, "repossession_notice", "email"); strings.Join(got, ",") != "2027-05-23T10:00:00Z,2027-05-29T10:00:00Z" {
		t.Errorf("repossession notices at %v", got)
	}
	if got := noticesOf(n, acc, lab.id, "repossessed", "sms"); len(got) != 1 || got[0] != "2027-05-30T10:00:00Z" {
		t.Errorf("repossession at %v", got)
	}
	if v := n.rest(lab, "im_open_login_svc/account_check", map[string]any{"CheckItem": []any{map[string]any{"UserID": "x"}}}); v["ErrorCode"] == float64(0) {
		t.Errorf("a repossessed app answered: %v", v)
	}
	// shop was suspended by its refund on 10 Mar 22:00: repossessed on 8 Jun 22:00, not yet.
	if s := n.cli("app", "show", "--sdkappid", id(shop)); s["status"] != "suspended" {
		t.Errorf("shop on 1 Jun: %v", s)
	}
	next := mk("next")
	if next.id != lab.id+1 && next.id <= shop.id {
		t.Errorf("new app got SDKAppID %d", next.id)
	}
	if next.id == lab.id || next.id == shop.id {
		t.Errorf("SDKAppID %d reused", next.id)
	}
	n.cli("clock", "set", "2027-06-09T00:00:00Z")
	if got := noticesOf(n, acc, shop.id, "repossessed", "email"); len(got) != 1 || got[0] != "2027-06-08T22:00:00Z" {
		t.Errorf("shop repossession at %v", got)
	}

	// Every notice is also in the notification file; the data of both apps is gone.
	logLines, err := os.ReadFile(filepath.Join(data, "notifications.log"))
	if err != nil || strings.Count(string(logLines), "\n") < 40 {
		t.Errorf("notification file: %v, %d lines", err, strings.Count(string(logLines), "\n"))
	}
	n.stop()
	db, mark := openDB()
	defer db.Close()
	arg := func(i int) string { // the i-th placeholder of the store's SQL
		if mark == "?" {
			return "?"
		}
		return fmt.Sprintf("$%d", i)
	}
	for _, table := range []string{"users", "entries", "mau_users"} {
		var cnt int
		q := fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE app IN (%s, %s)`, table, arg(1), arg(2))
		if err := db.QueryRow(q, shop.id, lab.id).Scan(&cnt); err != nil || cnt != 0 {
			t.Errorf("%s still holds %d rows of the repossessed apps (%v)", table, cnt, err)
		}
	}
	var status string
	if err := db.QueryRow(`SELECT status FROM apps WHERE sdkappid = `+arg(1), lab.id).Scan(&status); err != nil || status != "deleted" {
		t.Errorf("lab's tombstone: %q %v", status, err)
	}
}
