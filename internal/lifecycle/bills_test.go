package lifecycle_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

func billMonths(bs []store.Bill) []string {
	var ms []string
	for _, b := range bs {
		ms = append(ms, b.Month)
	}
	return ms
}

func sameLines(t *testing.T, what string, got, want []store.BillLine) {
	t.Helper()
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// Spec 5.2, 5.4: the bill of February is issued on 1 March 00:00 UTC with the MAU
// beyond each paid app's free 10,000; an account that cannot pay it is overdue,
// and 24 hours later it and every one of its apps are suspended for arrears,
// until a top-up brings the balance to zero or more.
func TestMonthlyBillOverdueArrearsAndTopUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorldOn(t, open(t), false)
		g := &gate.Gate{MAU: w.st, Clock: w.clk}
		acc := w.account(t, "Metered", "+86 10 1234 5678")
		ch := []string{"email", "sms"}
		// Enough for the plans, nothing more.
		w.topUp(t, acc.ID, 3*39900+3*69900)
		std := w.app(t, acc.ID, "standard")
		w.buy(t, std.SDKAppID, catalog.Standard, 3, false)
		pre := w.app(t, acc.ID, "premium")
		w.buy(t, pre.SDKAppID, catalog.Premium, 3, false)
		if a := w.getAccount(t, acc.ID); a.CashCents != 0 || a.CreditCents != 0 {
			t.Fatalf("balance after the plans: cash %d credit %d, want 0", a.CashCents, a.CreditCents)
		}
		if _, err := w.st.AdmitMonthly(ctx, std.SDKAppID, "2026-01", "january", 0, t0); err != nil {
			t.Fatal(err)
		}

		w.setTo(t, at(2, 15, 10))
		trial := w.app(t, acc.ID, "trial") // runs until 15 Mar 10:00
		start := time.Now()
		w.admit(t, std.SDKAppID, "2026-02", "s", 10_250, at(2, 15, 10))
		w.admit(t, pre.SDKAppID, "2026-02", "p", 40, at(2, 15, 10))
		w.admit(t, trial.SDKAppID, "2026-02", "t", 100, at(2, 15, 10))
		t.Logf("10,390 monthly active users recorded in %v", time.Since(start).Round(time.Millisecond))

		w.setTo(t, at(3, 1, 0).Add(-time.Second))
		if ms := billMonths(w.bills(t, acc.ID)); fmt.Sprint(ms) != "[2026-01]" {
			t.Fatalf("bills a second before 1 March: %v, want only January", ms)
		}
		w.setTo(t, at(3, 1, 0))
		bills := w.bills(t, acc.ID)
		if ms := billMonths(bills); fmt.Sprint(ms) != "[2026-01 2026-02]" {
			t.Fatalf("bills on 1 March: %v, want January and February", ms)
		}
		jan, feb := bills[0], bills[1]
		wantTime(t, "January bill IssuedAt", jan.IssuedAt, at(2, 1, 0))
		sameLines(t, "January lines", jan.Lines, []store.BillLine{mauLine(std.SDKAppID, catalog.Standard, 1, 0, 0)})
		wantTime(t, "February bill IssuedAt", feb.IssuedAt, at(3, 1, 0))
		// 250 × 0.015 = 3.75; Premium within its free MAU; no line for Free Trial.
		sameLines(t, "February lines", feb.Lines, []store.BillLine{
			mauLine(std.SDKAppID, catalog.Standard, 10_250, 250, 375),
			mauLine(pre.SDKAppID, catalog.Premium, 40, 0, 0),
		})
		if feb.TotalCents != 375 || feb.CashCents != 375 || feb.CreditCents != 0 || feb.AccountID != acc.ID {
			t.Errorf("February bill total %d cash %d credit %d, want 3.75 from cash", feb.TotalCents, feb.CashCents, feb.CreditCents)
		}
		a := w.getAccount(t, acc.ID)
		if a.CashCents != -375 || a.Status != "active" {
			t.Errorf("account after the bill: cash %d status %q, want -3.75 active", a.CashCents, a.Status)
		}
		wantTime(t, "OverdueSince", a.OverdueSince, at(3, 1, 0))
		ls := w.ledger(t, acc.ID)
		if l := ls[len(ls)-1]; l.Kind != "bill" || l.CashCents != -375 || l.CreditCents != 0 || l.Ref != feb.ID || !l.At.Equal(at(3, 1, 0)) {
			t.Errorf("last ledger entry %+v, want the February bill of -3.75", l)
		}

		w.setTo(t, at(3, 2, 0).Add(-time.Second))
		if a := w.getAccount(t, acc.ID); a.Status != "active" {
			t.Errorf("account %q a second before the 24 hours are over", a.Status)
		}
		for _, id := range []int64{std.SDKAppID, pre.SDKAppID, trial.SDKAppID} {
			wantStatus(t, w.getApp(t, id), "active", "", time.Time{})
		}

		arrears := at(3, 2, 0)
		w.setTo(t, arrears)
		a = w.getAccount(t, acc.ID)
		if a.Status != "suspended" || a.SuspendReason != commerce.ReasonArrears || !a.SuspendedAt.Equal(arrears) {
			t.Errorf("account %q (%q) since %s, want suspended for arrears at 2 Mar 00:00", a.Status, a.SuspendReason, ts(a.SuspendedAt))
		}
		for _, id := range []int64{std.SDKAppID, pre.SDKAppID, trial.SDKAppID} {
			app := w.getApp(t, id)
			wantStatus(t, app, "suspended", commerce.ReasonArrears, arrears)
			if err := g.Active(app); errs.CodeOf(err) != errs.PlanInactive {
				t.Errorf("gate.Active(%d) = %v, want code %d", id, err, errs.PlanInactive)
			}
			if err := g.AdmitLogin(ctx, app, "s00001"); errs.CodeOf(err) != errs.PlanInactive {
				t.Errorf("login to %d = %v, want code %d", id, err, errs.PlanInactive)
			}
		}
		if _, err := w.com.Renew(ctx, commerce.RenewRequest{SDKAppIDs: []int64{std.SDKAppID}, Months: 1}); !errors.Is(err, commerce.ErrRefused) {
			t.Errorf("renewal while suspended for arrears: %v, want ErrRefused", err)
		}

		w.setTo(t, at(3, 2, 9))
		a = w.topUp(t, acc.ID, 100) // -2.75: still overdue
		if a.Status != "suspended" || a.CashCents != -275 {
			t.Errorf("after a top-up to -2.75: status %q cash %d, want suspended -275", a.Status, a.CashCents)
		}
		for _, id := range []int64{std.SDKAppID, pre.SDKAppID, trial.SDKAppID} {
			wantStatus(t, w.getApp(t, id), "suspended", commerce.ReasonArrears, arrears)
		}
		a = w.topUp(t, acc.ID, 275) // exactly zero
		if a.Status != "active" || a.SuspendReason != "" || a.CashCents != 0 || !a.OverdueSince.IsZero() {
			t.Errorf("after a top-up to 0.00: %+v, want active and not overdue", a)
		}
		if a := w.getAccount(t, acc.ID); a.Status != "active" || !a.OverdueSince.IsZero() {
			t.Errorf("stored account after a top-up to 0.00: %+v", a)
		}
		for _, id := range []int64{std.SDKAppID, pre.SDKAppID, trial.SDKAppID} {
			app := w.getApp(t, id)
			wantStatus(t, app, "active", "", time.Time{})
			if err := g.Active(app); err != nil {
				t.Errorf("gate.Active(%d) after the top-up: %v", id, err)
			}
		}

		// Nothing more happens until the trial's reminders.
		w.setTo(t, at(3, 8, 0))
		if a := w.getAccount(t, acc.ID); a.Status != "active" {
			t.Errorf("account %q after resumption", a.Status)
		}
		sameNotes(t, "notifications", summary(w.notes(t, acc.ID)), expand(ch,
			note{Kind: "bill", Due: ts(at(3, 1, 0))},
			note{Kind: "overdue", Due: ts(at(3, 1, 0))},
			note{Kind: "account_suspended", Due: ts(arrears)},
		))
	})
}

// Spec 4, 5.2: add-on overage of the month, for an add-on held at some time in the
// month: Push calls per day over 100 at 10.00 each, Push messages over 30 million a
// month at 0.10 per 10,000. A balance of exactly zero after the bill is not
// overdue; a top-up within 24 hours of the bill prevents the suspension.
func TestAddonOverageBills(t *testing.T) {
	const plan, push, janBill, febBill = 3 * 39900, 29900, 1000, 30020
	for _, tc := range []struct {
		name    string
		short   int64 // what the top-up lacks for February's bill
		topUpIn bool  // the customer tops up within 24 hours of the bill
	}{
		{"paid exactly", 0, false},
		{"short, topped up in time", 20, true},
		{"short, never topped up", 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, open testdb.Opener) {
				w := newWorldOn(t, open(t), false)
				acc := w.account(t, "Pusher", "")
				w.topUp(t, acc.ID, plan+push+janBill+febBill-money.Cents(tc.short))
				app := w.app(t, acc.ID, "push")
				id := app.SDKAppID
				w.buy(t, id, catalog.Standard, 3, false)
				o, err := w.com.BuyAddon(ctx, commerce.AddonRequest{SDKAppID: id, Addon: catalog.Push, Months: 1})
				if err != nil {
					t.Fatal(err)
				}
				wantTime(t, "Push EffectiveTo", o.EffectiveTo, at(2, 28, 0)) // through 27 Feb (day T−1, T clamped to 28)
				for _, u := range []store.Usage{
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-01-31", Quantity: 101},
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-02-05", Quantity: 130},
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-02-06", Quantity: 100},
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-02-27", Quantity: 60},
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-02-27", Quantity: 39}, // 99 that day
					{SDKAppID: id, Metric: catalog.MetricPushMessages, Day: "2026-02-03", Quantity: 20_000_000},
					{SDKAppID: id, Metric: catalog.MetricPushMessages, Day: "2026-02-20", Quantity: 10_020_000},
					// March: the plugin ended in February, so nothing is billed.
					{SDKAppID: id, Metric: catalog.MetricPushCalls, Day: "2026-03-01", Quantity: 500},
				} {
					if err := w.st.AddUsage(ctx, u); err != nil {
						t.Fatal(err)
					}
				}

				if tc.short != 0 && !tc.topUpIn {
					// Bill, overdue and arrears in one move of the clock.
					if _, err := w.sch.Advance(ctx, at(4, 1, 0).Sub(t0)); err != nil {
						t.Fatal(err)
					}
					a := w.getAccount(t, acc.ID)
					if a.Status != "suspended" || a.SuspendReason != commerce.ReasonArrears || !a.SuspendedAt.Equal(at(3, 2, 0)) || a.CashCents != -tc.short {
						t.Errorf("account %+v, want suspended for arrears on 2 Mar 00:00 with -0.20", a)
					}
					wantTime(t, "OverdueSince", a.OverdueSince, at(3, 1, 0))
					wantStatus(t, w.getApp(t, id), "suspended", commerce.ReasonArrears, at(3, 2, 0))
					if ms := billMonths(w.bills(t, acc.ID)); fmt.Sprint(ms) != "[2026-01 2026-02 2026-03]" {
						t.Errorf("bills %v, want January to March", ms)
					}
					sameNotes(t, "notifications", summary(w.notes(t, acc.ID)), expand([]string{"email"},
						note{Kind: "bill", Due: ts(at(2, 1, 0))},
						note{Kind: "bill", Due: ts(at(3, 1, 0))},
						note{Kind: "overdue", Due: ts(at(3, 1, 0))},
						note{Kind: "account_suspended", Due: ts(at(3, 2, 0))}))
					return
				}
				w.setTo(t, at(3, 1, 0))
				bills := w.bills(t, acc.ID)
				if ms := billMonths(bills); fmt.Sprint(ms) != "[2026-01 2026-02]" {
					t.Fatalf("bills %v, want January and February", ms)
				}
				calls := func(usage, billable, amount int64) store.BillLine {
					return store.BillLine{SDKAppID: id, Product: "addon:push", Metric: catalog.MetricPushCalls, Usage: usage, Free: 100,
						Billable: billable, BlockSize: 1, BlockMicro: 10_000_000, AmountCents: amount}
				}
				sameLines(t, "January lines", bills[0].Lines, []store.BillLine{calls(101, 1, 1000)})
				sameLines(t, "February lines", bills[1].Lines, []store.BillLine{
					calls(329, 30, 30000),
					{SDKAppID: id, Product: "addon:push", Metric: catalog.MetricPushMessages, Usage: 30_020_000, Free: 30_000_000,
						Billable: 20_000, BlockSize: 10_000, BlockMicro: 100_000, AmountCents: 20},
				})
				if bills[0].TotalCents != janBill || bills[1].TotalCents != febBill {
					t.Errorf("totals %d and %d, want %d and %d", bills[0].TotalCents, bills[1].TotalCents, janBill, febBill)
				}
				a := w.getAccount(t, acc.ID)
				if a.CashCents != -tc.short {
					t.Errorf("balance after February's bill %d, want %d", a.CashCents, -tc.short)
				}
				var want []note
				want = append(want, note{Kind: "bill", Due: ts(at(2, 1, 0))}, note{Kind: "bill", Due: ts(at(3, 1, 0))})
				if tc.short == 0 {
					if !a.OverdueSince.IsZero() {
						t.Errorf("a balance of exactly 0.00 is overdue since %s", ts(a.OverdueSince))
					}
				} else {
					wantTime(t, "OverdueSince", a.OverdueSince, at(3, 1, 0))
					want = append(want, note{Kind: "overdue", Due: ts(at(3, 1, 0))})
					w.setTo(t, at(3, 1, 12))
					a = w.topUp(t, acc.ID, money.Cents(tc.short))
					if !a.OverdueSince.IsZero() || a.Status != "active" {
						t.Errorf("after the top-up: overdue since %s, status %q", ts(a.OverdueSince), a.Status)
					}
				}

				w.setTo(t, at(4, 1, 0))
				if a := w.getAccount(t, acc.ID); a.Status != "active" || !a.OverdueSince.IsZero() {
					t.Errorf("account %q overdue since %s, want active", a.Status, ts(a.OverdueSince))
				}
				wantStatus(t, w.getApp(t, id), "active", "", time.Time{})
				bills = w.bills(t, acc.ID)
				if len(bills) != 3 || len(bills[2].Lines) != 0 || bills[2].TotalCents != 0 {
					t.Errorf("March bill %+v, want one without lines", bills[len(bills)-1])
				}
				sortNotes(want)
				sameNotes(t, "notifications", summary(w.notes(t, acc.ID)), expand([]string{"email"}, want...))
			})
		})
	}
}
