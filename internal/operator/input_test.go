package operator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/testdb"
)

// Strings that no store can keep unchanged (NUL, invalid UTF-8, an unpaired
// surrogate) are refused with 400 in every body field, path and query parameter,
// on both stores, and change nothing; the answer never shows storage text.
func TestStringsFromOutside(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newCommerceEnvOn(t, open(t))
		acc := e.account()
		id := e.app(acc)
		e.topUp(acc, `{"cash":"1000"}`)
		before := e.balance(acc)
		poisons := []string{`\u0000`, "\x00", "\xff", "\xc3", `\udc00`, `\ud800x`}
		routes := []struct{ method, path, body string }{
			{"POST", "/operator/v1/accounts", `{"name":"Acme%[1]s","email":"a@b.example","phone":"+6561234567"}`},
			{"POST", "/operator/v1/accounts", `{"name":"Acme","email":"a%[1]s@b.example"}`},
			{"POST", "/operator/v1/apps", `{"account":"ACC%[1]s","name":"App"}`},
			{"POST", "/operator/v1/apps", `{"account":"ACC","name":"App%[1]s"}`},
			{"POST", "/operator/v1/accounts/ACC/topup", `{"cash":"5","request_id":"r%[1]s"}`},
			{"POST", "/operator/v1/accounts/ACC/suspend", `{"reason":"r%[1]s"}`},
			{"POST", "/operator/v1/apps/APP/plan", `{"edition":"standard","months":1,"accept_agreement":true,"request_id":"r%[1]s"}`},
			{"POST", "/operator/v1/apps/APP/addons", `{"addon":"push","quantity":1,"months":1,"request_id":"r%[1]s"}`},
			{"POST", "/operator/v1/vouchers", `{"account":"ACC","amount":"5.00","expires":"2027-01-01","scope":"s%[1]s"}`},
		}
		fill := func(s string) string {
			return strings.NewReplacer("ACC", acc, "APP", fmt.Sprint(id)).Replace(s)
		}
		for _, p := range poisons {
			for _, r := range routes {
				body := fill(fmt.Sprintf(r.body, p))
				got, m := e.do(r.method, fill(r.path), body)
				if got != 400 || leaks(m) {
					t.Errorf("%s %s %q: %d %v", r.method, r.path, body, got, m)
				}
			}
		}
		for _, path := range []string{
			"/operator/v1/accounts/" + acc + "%00", "/operator/v1/accounts/" + acc + "%FF",
			"/operator/v1/apps?account=" + acc + "%00", "/operator/v1/orders?account=%ED%A0%80",
			"/operator/v1/bills?account=" + acc + "%C3",
		} {
			if got, m := e.do("GET", path, ""); got != 400 || leaks(m) {
				t.Errorf("GET %s: %d %v", path, got, m)
			}
		}
		if b := e.balance(acc); b != before {
			t.Errorf("refused requests changed the balance: %s, was %s", b, before)
		}
		if o := e.orders(acc); len(o) != 0 {
			t.Errorf("refused requests placed orders: %v", o)
		}
	})
}

func leaks(m map[string]any) bool {
	msg := strings.ToLower(fmt.Sprint(m["error"]))
	for _, w := range []string{"sqlstate", "sqlite", "sql", "postgres", "pgx", "invalid byte sequence", "internal error"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// Account fields: printable names, bounded emails, E.164-like phone numbers.
func TestAccountFields(t *testing.T) {
	e := newEnv(t)
	for _, phone := range []string{"+65 1234", "+15550100", "+41 79 000 00 00", "+1-555-010-0199", "+123456789012345"} {
		e.want("POST", "/operator/v1/accounts", fmt.Sprintf(`{"name":"Acme","email":"a@b.example","phone":%q}`, phone), 201)
	}
	for _, body := range []string{
		`{"name":"Acme","email":"a@b.example","phone":"5550100"}`,
		`{"name":"Acme","email":"a@b.example","phone":"+0550100"}`,
		`{"name":"Acme","email":"a@b.example","phone":"+1 555 0100 x"}`,
		`{"name":"Acme","email":"a@b.example","phone":"+1  5550100"}`,
		`{"name":"Acme","email":"a@b.example","phone":"+15550100 "}`,
		`{"name":"Acme","email":"a@b.example","phone":"+12345"}`,
		`{"name":"Acme","email":"a@b.example","phone":"+1234567890123456"}`,
		`{"name":"Acme","email":"a@b.example","phone":" "}`,
		`{"name":" ","email":"a@b.example"}`,
		`{"name":"Ac\u0001me","email":"a@b.example"}`,
		`{"name":"Ac\u007fme","email":"a@b.example"}`,
		`{"name":"Acme","email":"a\tb@b.example"}`,
		`{"name":"Acme","email":"` + strings.Repeat("a", 250) + `@b.example"}`,
	} {
		e.want("POST", "/operator/v1/accounts", body, 400)
	}
	acc := e.account()
	e.want("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"App\u0007"}`, acc), 400)
}
