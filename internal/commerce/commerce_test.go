package commerce_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// world is one store with the services over it and a manual clock.
type world struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	clk *clock.Manual
	ten *tenant.Service
	com *commerce.Service
}

func newWorld(t *testing.T, open testdb.Opener, start time.Time) *world {
	st := open(t)
	clk := clock.NewManual(start)
	return &world{t: t, ctx: context.Background(), st: st, clk: clk,
		ten: &tenant.Service{Store: st, Clock: clk}, com: &commerce.Service{Store: st, Clock: clk}}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func usd(s string) money.Cents {
	c, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// account opens an account with the given cash and credit.
func (w *world) account(cash, credit string) store.Account {
	w.t.Helper()
	a, err := w.ten.CreateAccount(w.ctx, "Acme", "ops@acme.test", "+15550100")
	if err != nil {
		w.t.Fatal(err)
	}
	if cash != "0" || credit != "0" {
		if a, err = w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: a.ID, Cash: usd(cash), Credit: usd(credit)}); err != nil {
			w.t.Fatal(err)
		}
	}
	return a
}

func (w *world) app(acc store.Account) store.App {
	w.t.Helper()
	app, err := w.ten.CreateApp(w.ctx, acc.ID, "chat", "")
	if err != nil {
		w.t.Fatal(err)
	}
	return app
}

func (w *world) buy(app store.App, edition string, months int) store.Order {
	w.t.Helper()
	o, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: edition, Months: months, AgreementAccepted: true})
	if err != nil {
		w.t.Fatalf("buy %s × %d: %v", edition, months, err)
	}
	return o
}

func (w *world) balance(id string) (cash, credit money.Cents) {
	w.t.Helper()
	a, err := w.com.Account(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return money.Cents(a.CashCents), money.Cents(a.CreditCents)
}

func (w *world) getApp(id int64) store.App {
	w.t.Helper()
	a, err := w.st.GetApp(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// TestPeriodsMonthEnd: a plan runs to the same day of the following month; when
// that month has no such day it ends on its last day, and the purchase day stays
// the anchor (spec 5.1).
func TestPeriodsMonthEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, tt := range []struct {
			bought string
			months int
			want   string
		}{
			{"2026-03-01 09:30", 1, "2026-04-01 09:30"},
			{"2026-01-31 10:00", 1, "2026-02-28 10:00"},
			{"2026-01-31 10:00", 2, "2026-03-31 10:00"},
			{"2026-01-31 10:00", 3, "2026-04-30 10:00"},
			{"2028-01-31 10:00", 1, "2028-02-29 10:00"}, // leap year
			{"2026-12-15 00:00", 24, "2028-12-15 00:00"},
		} {
			w := newWorld(t, open, at(tt.bought))
			acc := w.account("20000", "0")
			app := w.app(acc)
			o := w.buy(app, "standard", tt.months)
			if !o.EffectiveTo.Equal(at(tt.want)) || !w.getApp(app.SDKAppID).ExpiresAt.Equal(at(tt.want)) {
				t.Errorf("bought %s for %d months: valid to %s, want %s", tt.bought, tt.months, o.EffectiveTo, tt.want)
			}
		}
		// Renewals keep the anchor: 31 Jan → 28 Feb → 31 Mar → 30 Apr.
		w := newWorld(t, open, at("2026-01-31 10:00"))
		acc := w.account("2000", "0")
		app := w.app(acc)
		w.buy(app, "standard", 1)
		for _, want := range []string{"2026-03-31 10:00", "2026-04-30 10:00", "2026-05-31 10:00"} {
			os, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !os[0].EffectiveTo.Equal(at(want)) {
				t.Errorf("renewal ends %s, want %s", os[0].EffectiveTo, want)
			}
		}
	})
}

// TestRefunds walks the refund formula of spec 5.5 with exact amounts.
func TestRefunds(t *testing.T) {
	type step func(w *world, acc store.Account, app store.App)
	renewAt := func(when string, months int) step {
		return func(w *world, acc store.Account, app store.App) {
			w.clk.Set(at(when))
			if _, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: months}); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name          string
		cash, credit  string
		voucher       string // a voucher of this amount pays first
		bought        string
		edition       string
		months        int
		before        []step
		refundAt      string
		cashBack      string
		creditBack    string
		effective     string
		notEffective  string
		used          string
		voucherRemain string
	}{
		{name: "spec example: mid-period, all cash", cash: "399", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			refundAt: "2026-03-10 12:00", cashBack: "270.29", creditBack: "0.00", effective: "399.00", notEffective: "0.00", used: "128.71"},
		{name: "first day uses one day", cash: "399", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			refundAt: "2026-03-01 05:00", cashBack: "386.13", creditBack: "0.00", effective: "399.00", notEffective: "0.00", used: "12.87"},
		{name: "the very first second uses one day", cash: "699", bought: "2026-04-01 08:00", edition: "premium", months: 1,
			refundAt: "2026-04-01 08:00", cashBack: "675.70", creditBack: "0.00", effective: "699.00", notEffective: "0.00", used: "23.30"},
		{name: "first period of three months", cash: "1197", bought: "2026-01-01 00:00", edition: "standard", months: 3,
			refundAt: "2026-01-10 12:00", cashBack: "1068.29", creditBack: "0.00", effective: "399.00", notEffective: "798.00", used: "128.71"},
		{name: "last period of a multi-month order", cash: "1197", bought: "2026-01-01 00:00", edition: "standard", months: 3,
			refundAt: "2026-03-20 00:00", cashBack: "141.58", creditBack: "0.00", effective: "399.00", notEffective: "0.00", used: "257.42"},
		{name: "February period of 28 days", cash: "1197", bought: "2026-01-01 00:00", edition: "standard", months: 3,
			refundAt: "2026-02-15 00:00", cashBack: "584.25", creditBack: "0.00", effective: "399.00", notEffective: "399.00", used: "213.75"},
		{name: "advance renewal is not yet effective", cash: "798", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			before:   []step{renewAt("2026-03-05 00:00", 1)},
			refundAt: "2026-03-10 12:00", cashBack: "669.29", creditBack: "0.00", effective: "399.00", notEffective: "399.00", used: "128.71"},
		{name: "cash and credit in proportion", cash: "99", credit: "300", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			refundAt: "2026-03-10 12:00", cashBack: "67.06", creditBack: "203.23", effective: "399.00", notEffective: "0.00", used: "128.71"},
		{name: "voucher never returned", cash: "299", voucher: "100", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			refundAt: "2026-03-10 12:00", cashBack: "170.29", creditBack: "0.00", effective: "299.00", notEffective: "0.00", used: "128.71", voucherRemain: "0.00"},
		{name: "never below zero", cash: "0", voucher: "399", bought: "2026-03-01 00:00", edition: "standard", months: 1,
			refundAt: "2026-03-20 00:00", cashBack: "0.00", creditBack: "0.00", effective: "0.00", notEffective: "0.00", used: "257.42", voucherRemain: "0.00"},
	}
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.credit == "" {
					tt.credit = "0"
				}
				w := newWorld(t, open, at(tt.bought))
				acc := w.account(tt.cash, tt.credit)
				app := w.app(acc)
				req := commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: tt.edition, Months: tt.months, AgreementAccepted: true}
				var vid string
				if tt.voucher != "" {
					v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd(tt.voucher), ExpiresAt: at("2027-01-01 00:00")})
					if err != nil {
						t.Fatal(err)
					}
					req.VoucherID, vid = v.ID, v.ID
				}
				if _, err := w.com.Buy(w.ctx, req); err != nil {
					t.Fatal(err)
				}
				for _, s := range tt.before {
					s(w, acc, app)
				}
				cash0, credit0 := w.balance(acc.ID)
				w.clk.Set(at(tt.refundAt))
				r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, Reason: "test"})
				if err != nil {
					t.Fatal(err)
				}
				got := []money.Cents{r.Cash, r.Credit, r.Effective, r.NotEffective, r.Used}
				want := []money.Cents{usd(tt.cashBack), usd(tt.creditBack), usd(tt.effective), usd(tt.notEffective), usd(tt.used)}
				names := []string{"cash", "credit", "effective", "not effective", "used"}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s = %s, want %s", names[i], got[i], want[i])
					}
				}
				if r.Amount != r.Cash+r.Credit {
					t.Errorf("amount %s ≠ cash %s + credit %s", r.Amount, r.Cash, r.Credit)
				}
				// The billing center works the parts out again from the stored orders.
				ds, err := w.com.RefundDetailsAs(w.ctx, tenant.Actor{Account: acc.ID}, "")
				if err != nil || len(ds) != 1 {
					t.Fatalf("refund details: %+v %v", ds, err)
				}
				d := ds[0]
				if d.Order.ID != r.Order.ID || d.Effective != r.Effective || d.NotEffective != r.NotEffective || d.Used != r.Used ||
					d.Cash != r.Cash || d.Credit != r.Credit || d.Amount != r.Amount {
					t.Errorf("refund details %+v differ from the refund %+v", d, r)
				}
				if _, err := w.com.RefundDetailsAs(w.ctx, tenant.Actor{Account: "acc_other"}, acc.ID); !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("another account's refund details: %v, want not found", err)
				}
				cash1, credit1 := w.balance(acc.ID)
				if cash1-cash0 != r.Cash || credit1-credit0 != r.Credit {
					t.Errorf("balance moved by %s/%s, refund says %s/%s", cash1-cash0, credit1-credit0, r.Cash, r.Credit)
				}
				a := w.getApp(app.SDKAppID)
				if a.Status != "suspended" || a.SuspendReason != commerce.ReasonRefund || !a.SuspendedAt.Equal(at(tt.refundAt)) {
					t.Errorf("app after refund: %s (%s) since %s; want suspended (refund) at once", a.Status, a.SuspendReason, a.SuspendedAt)
				}
				if vid != "" {
					vs, _ := w.com.Vouchers(w.ctx, acc.ID)
					if money.Cents(vs[0].RemainingCents) != usd(tt.voucherRemain) {
						t.Errorf("voucher remaining %s, want %s (never returned)", money.Cents(vs[0].RemainingCents), tt.voucherRemain)
					}
				}
				// A second refund finds nothing left.
				if _, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID}); !errors.Is(err, commerce.ErrRefused) {
					t.Errorf("second refund: %v, want refused", err)
				}
			})
		}
	})
}

// TestUpgradeProration: Standard → Premium costs the Premium price of the rest
// minus the unused Standard value, both prorated by the second (spec 5.1).
func TestUpgradeProration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("1000", "0")
		app := w.app(acc)
		std := w.buy(app, "standard", 1)
		w.clk.Set(at("2026-03-12 00:00")) // 20 of 31 days left
		o, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: app.SDKAppID, Edition: "premium"})
		if err != nil {
			t.Fatal(err)
		}
		// (699 − 399) × 20/31 = 193.548… → 193.55; unused Standard 399 × 20/31 = 257.42.
		if money.Cents(o.CashCents) != usd("193.55") || money.Cents(o.CarriedCashCents) != usd("257.42") {
			t.Errorf("upgrade charged %s and carried %s; want 193.55 and 257.42", money.Cents(o.CashCents), money.Cents(o.CarriedCashCents))
		}
		if !o.EffectiveTo.Equal(std.EffectiveTo) || !o.EffectiveFrom.Equal(at("2026-03-12 00:00")) {
			t.Errorf("upgrade covers %s–%s", o.EffectiveFrom, o.EffectiveTo)
		}
		if cash, _ := w.balance(acc.ID); cash != usd("1000")-usd("399")-usd("193.55") {
			t.Errorf("cash %s", cash)
		}
		a := w.getApp(app.SDKAppID)
		if a.Edition != "premium" || !a.ExpiresAt.Equal(at("2026-04-01 00:00")) {
			t.Errorf("app after upgrade: %s until %s", a.Edition, a.ExpiresAt)
		}
		orders, _ := w.com.Orders(w.ctx, acc.ID)
		if orders[0].Status != store.OrderUpgraded {
			t.Errorf("standard order status %q, want upgraded", orders[0].Status)
		}
		// Upgrading again, or back down, is refused.
		if _, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: app.SDKAppID, Edition: "premium"}); !errors.Is(err, commerce.ErrRefused) {
			t.Errorf("second upgrade: %v", err)
		}
		// Refund right after: the whole rest returns — paid 193.55 + carried 257.42
		// for 20 days of the period, minus one started day of Premium: 699/31 = 22.55.
		r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID})
		if err != nil {
			t.Fatal(err)
		}
		if r.Effective != usd("450.97") || r.Used != usd("22.55") || r.Cash != usd("428.42") {
			t.Errorf("refund after upgrade: effective %s used %s cash %s; want 450.97, 22.55, 428.42", r.Effective, r.Used, r.Cash)
		}
	})
}

// TestRefusals: every refused request changes nothing (balance, orders, app).
func TestRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("1200", "0")
		other := w.account("500", "0")
		trial := w.app(acc)
		paid := w.app(acc)
		w.buy(paid, "premium", 1)
		gone := w.app(acc)
		if err := w.ten.DeleteApp(w.ctx, gone.SDKAppID, gone.SDKAppID); err != nil {
			t.Fatal(err)
		}
		foreign, _ := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: other.ID, Amount: usd("50"), ExpiresAt: at("2027-01-01 00:00")})
		expiring, _ := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("50"), ExpiresAt: at("2026-03-02 00:00")})
		addonOnly, _ := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("50"), ExpiresAt: at("2027-01-01 00:00"), Scope: commerce.ScopeAddons})
		w.clk.Set(at("2026-03-03 00:00"))
		desk, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: paid.SDKAppID, Addon: "desk", Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		_ = desk
		buy := func(app store.App, edition string, months int, agree bool, voucher string) func() error {
			return func() error {
				_, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: edition, Months: months, AgreementAccepted: agree, VoucherID: voucher})
				return err
			}
		}
		tests := []struct {
			name string
			do   func() error
			want error
		}{
			{"months 0", buy(trial, "standard", 0, true, ""), errs.ErrInvalid},
			{"months 25", buy(trial, "standard", 25, true, ""), errs.ErrInvalid},
			{"no agreement", buy(trial, "standard", 1, false, ""), errs.ErrInvalid},
			{"unknown edition", buy(trial, "gold", 1, true, ""), errs.ErrInvalid},
			{"back to Free Trial", buy(paid, "trial", 1, true, ""), commerce.ErrRefused},
			{"downgrade", buy(paid, "standard", 1, true, ""), commerce.ErrRefused},
			{"same edition in force", buy(paid, "premium", 1, true, ""), commerce.ErrRefused},
			{"deleted app", buy(gone, "standard", 1, true, ""), commerce.ErrRefused},
			{"insufficient balance", buy(trial, "premium", 1, true, ""), commerce.ErrInsufficientBalance},
			{"foreign voucher", buy(trial, "standard", 1, true, foreign.ID), commerce.ErrRefused},
			{"expired voucher", buy(trial, "standard", 1, true, expiring.ID), commerce.ErrRefused},
			{"voucher for add-ons only", buy(trial, "standard", 1, true, addonOnly.ID), commerce.ErrRefused},
			{"unknown voucher", buy(trial, "standard", 1, true, "vch_nope"), errs.ErrNotFound},
			{"unknown app", func() error {
				_, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: 1, Edition: "standard", Months: 1, AgreementAccepted: true})
				return err
			}, errs.ErrNotFound},
			{"downgrade by upgrade", func() error {
				_, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: paid.SDKAppID, Edition: "standard"})
				return err
			}, commerce.ErrRefused},
			{"upgrade a trial", func() error {
				_, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: trial.SDKAppID, Edition: "premium"})
				return err
			}, commerce.ErrRefused},
			{"renew a trial", func() error {
				_, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{trial.SDKAppID}, Months: 1})
				return err
			}, commerce.ErrRefused},
			{"batch with a trial renews nothing", func() error {
				_, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{paid.SDKAppID, trial.SDKAppID}, Months: 1})
				return err
			}, commerce.ErrRefused},
			{"batch across accounts", func() error {
				oa := w.app(other)
				_, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{paid.SDKAppID, oa.SDKAppID}, Months: 1})
				return err
			}, errs.ErrInvalid},
			{"value-added refund", func() error {
				_, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: paid.SDKAppID, Addon: "desk"})
				return err
			}, commerce.ErrRefused},
			{"refund a trial", func() error {
				_, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: trial.SDKAppID})
				return err
			}, commerce.ErrRefused},
			{"free call twice", func() error {
				if _, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: trial.SDKAppID, Addon: "call_free", Months: 1}); err != nil {
					return err
				}
				_, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: trial.SDKAppID, Addon: "call_free", Months: 1})
				return err
			}, commerce.ErrRefused},
			{"desk below its 3 seats", func() error {
				_, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: paid.SDKAppID, Addon: "desk", Quantity: 2, Months: 1})
				return err
			}, errs.ErrInvalid},
		}
		for _, tt := range tests {
			cash0, credit0 := w.balance(acc.ID)
			orders0, _ := w.com.Orders(w.ctx, acc.ID)
			paid0, trial0 := w.getApp(paid.SDKAppID), w.getApp(trial.SDKAppID)
			err := tt.do()
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
				continue
			}
			cash1, credit1 := w.balance(acc.ID)
			orders1, _ := w.com.Orders(w.ctx, acc.ID)
			if tt.name == "free call twice" {
				orders0 = append(orders0, store.Order{}) // the first (free) one is bought
			}
			if cash1 != cash0 || credit1 != credit0 || len(orders1) != len(orders0) ||
				w.getApp(paid.SDKAppID) != paid0 || w.getApp(trial.SDKAppID) != trial0 {
				t.Errorf("%s changed something: balance %s/%s → %s/%s, orders %d → %d", tt.name, cash0, credit0, cash1, credit1, len(orders0), len(orders1))
			}
		}
		// A non-refundable order: the operator's reason is given back.
		orders, _ := w.com.Orders(w.ctx, acc.ID)
		if _, err := w.com.SetNonRefundable(w.ctx, orders[0].ID, "spring promotion"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: paid.SDKAppID}); !errors.Is(err, commerce.ErrRefused) {
			t.Errorf("refund of a non-refundable order: %v", err)
		}
		if _, err := w.com.SetNonRefundable(w.ctx, orders[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: paid.SDKAppID}); err != nil {
			t.Errorf("refund once allowed again: %v", err)
		}
		// Downgrade the way the spec allows: refund, then buy Standard.
		if _, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: paid.SDKAppID, Edition: "standard", Months: 1, AgreementAccepted: true}); err != nil {
			t.Errorf("buy Standard after refunding Premium: %v", err)
		}
		// An account suspended for a violation orders nothing, and a top-up does not lift it.
		if _, err := w.com.SuspendAccount(w.ctx, acc.ID, "spam"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("1000")}); err != nil {
			t.Fatal(err)
		}
		if a, _ := w.com.Account(w.ctx, acc.ID); a.Status != "suspended" || a.SuspendReason != commerce.ReasonViolation {
			t.Errorf("violation suspension lifted by a top-up: %+v", a)
		}
		if a := w.getApp(trial.SDKAppID); a.Status != "suspended" {
			t.Errorf("app of a suspended account is %s", a.Status)
		}
		if err := buy(trial, "standard", 1, true, "")(); !errors.Is(err, commerce.ErrRefused) {
			t.Errorf("order of a suspended account: %v", err)
		}
		if _, err := w.ten.CreateApp(w.ctx, acc.ID, "another", ""); !errors.Is(err, tenant.ErrSuspended) {
			t.Errorf("a suspended account created an app: %v", err)
		}
	})
}

// TestBatchRenewal renews several apps in one action, all or nothing.
func TestBatchRenewal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("1098", "0") // 399 + 699 for the plans
		a, b := w.app(acc), w.app(acc)
		w.buy(a, "standard", 1)
		w.buy(b, "premium", 1)
		w.clk.Set(at("2026-03-20 00:00"))
		req := commerce.RenewRequest{SDKAppIDs: []int64{a.SDKAppID, b.SDKAppID}, Months: 2}
		_, err := w.com.Renew(w.ctx, req)
		if !errors.Is(err, commerce.ErrInsufficientBalance) || !strings.Contains(err.Error(), "renewing 2 apps costs 2196.00 USD after vouchers and the balance of account "+acc.ID+" is 0.00 USD") {
			t.Fatalf("batch without funds: %v", err)
		}
		if p, err := w.com.PreviewRenew(w.ctx, req); err != nil || p.Sufficient || !strings.Contains(p.BalanceNote, "renewing 2 apps costs 2196.00 USD") {
			t.Fatalf("preview without funds: %+v %v", p, err)
		}
		if w.getApp(a.SDKAppID).ExpiresAt != at("2026-04-01 00:00") {
			t.Fatal("a failed batch renewed an app")
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("2196")}); err != nil {
			t.Fatal(err)
		}
		req.RequestID = "renew-1"
		orders, err := w.com.Renew(w.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 2 || orders[0].CashCents != 79800 || orders[1].CashCents != 139800 {
			t.Fatalf("orders %+v", orders)
		}
		for _, id := range req.SDKAppIDs {
			if got := w.getApp(id).ExpiresAt; !got.Equal(at("2026-06-01 00:00")) {
				t.Errorf("app %d expires %s, want 2026-06-01", id, got)
			}
		}
		// The same request again renews nothing more.
		again, err := w.com.Renew(w.ctx, req)
		if err != nil || len(again) != 2 || again[0].ID != orders[0].ID {
			t.Errorf("replayed batch: %v %+v", err, again)
		}
		if cash, _ := w.balance(acc.ID); cash != 0 {
			t.Errorf("cash %s after the batch, want 0.00", cash)
		}
	})
}

// TestBatchRenewalSharesVoucher: a voucher smaller than the batch pays the
// first orders as far as it goes and the balance pays the rest; a voucher used
// up before the batch is refused.
func TestBatchRenewalSharesVoucher(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("798", "0")
		a, b := w.app(acc), w.app(acc)
		w.buy(a, "standard", 1)
		w.buy(b, "standard", 1)
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("1000")}); err != nil {
			t.Fatal(err)
		}
		v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("200"), ExpiresAt: at("2026-12-01 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		req := commerce.RenewRequest{SDKAppIDs: []int64{a.SDKAppID, b.SDKAppID}, Months: 1, VoucherID: v.ID}
		p, err := w.com.PreviewRenew(w.ctx, req)
		if err != nil || !p.Sufficient || p.Due != usd("598") {
			t.Fatalf("preview: %+v %v", p, err)
		}
		orders, err := w.com.Renew(w.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 2 || orders[0].VoucherCents != 20000 || orders[0].CashCents != 19900 || orders[0].VoucherID != v.ID ||
			orders[1].VoucherCents != 0 || orders[1].CashCents != 39900 || orders[1].VoucherID != "" {
			t.Fatalf("orders %+v", orders)
		}
		if cash, _ := w.balance(acc.ID); cash != usd("402") {
			t.Errorf("cash %s, want 402.00", cash)
		}
		// Used up now: a new batch naming it is refused and renews nothing.
		if _, err := w.com.Renew(w.ctx, req); !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "used up") {
			t.Fatalf("a used-up voucher: %v", err)
		}
		if got := w.getApp(a.SDKAppID).ExpiresAt; !got.Equal(at("2026-05-01 00:00")) {
			t.Fatalf("app a expires %s", got)
		}
	})
}

// TestDoubleSubmission: concurrent submissions of one order charge once.
func TestDoubleSubmission(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, sameID := range []bool{true, false} {
			t.Run(fmt.Sprintf("same request id %v", sameID), func(t *testing.T) {
				w := newWorld(t, open, at("2026-03-01 00:00"))
				acc := w.account("5000", "0")
				app := w.app(acc)
				var wg sync.WaitGroup
				errs := make([]error, 8)
				ids := make([]string, 8)
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req := commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: "standard", Months: 1, AgreementAccepted: true, RequestID: "buy-1"}
						if !sameID {
							req.RequestID = fmt.Sprintf("buy-%d", i)
						}
						o, err := w.com.Buy(w.ctx, req)
						errs[i], ids[i] = err, o.ID
					}()
				}
				wg.Wait()
				ok := 0
				for i, err := range errs {
					switch {
					case err == nil:
						ok++
						if sameID && ids[i] != ids[0] {
							t.Errorf("replays returned different orders")
						}
					case !errors.Is(err, commerce.ErrRefused):
						t.Errorf("unexpected error: %v", err)
					}
				}
				orders, _ := w.com.Orders(w.ctx, acc.ID)
				cash, _ := w.balance(acc.ID)
				if len(orders) != 1 || cash != usd("4601") {
					t.Errorf("%d orders, cash %s; want one order and 4601.00", len(orders), cash)
				}
				if sameID && ok != 8 || !sameID && ok != 1 {
					t.Errorf("%d submissions succeeded", ok)
				}
			})
		}
	})
}

// TestAddons prices add-ons from the catalog and refunds only plugins.
func TestAddons(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-10 00:00"))
		acc := w.account("3000", "0")
		app := w.app(acc)
		for _, tt := range []struct {
			addon            string
			quantity, months int
			list             string
			to               string
		}{
			{"desk", 5, 2, "798.00", "2026-05-10 00:00"}, // (299 + 2 × 50) × 2
			{"chatbot_starter", 2, 1, "400.00", "2026-04-10 00:00"},
			{"chatbot_messages", 3, 1, "600.00", "2026-04-10 00:00"},
			{"call_free", 0, 1, "0.00", "2026-03-17 00:00"},
			{"push", 0, 1, "299.00", "2026-04-10 00:00"}, // a plugin cycle: 10 March to 9 April
			{"push", 0, 1, "299.00", "2026-05-10 00:00"}, // bought again: starts when the first ends
		} {
			o, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: tt.addon, Quantity: tt.quantity, Months: tt.months})
			if err != nil {
				t.Fatalf("%s: %v", tt.addon, err)
			}
			if money.Cents(o.ListCents) != usd(tt.list) || !o.EffectiveTo.Equal(at(tt.to)) {
				t.Errorf("%s: list %s to %s; want %s to %s", tt.addon, money.Cents(o.ListCents), o.EffectiveTo, tt.list, tt.to)
			}
		}
		// Refund of the Push plugin on 20 March: this cycle 299 (effective) + the
		// next 299 − 11 days of 31 × 299 = 106.10 → 491.90.
		w.clk.Set(at("2026-03-20 00:00"))
		r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, Addon: "push"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Cash != usd("491.90") {
			t.Errorf("push refund %s, want 491.90", r.Cash)
		}
		if a := w.getApp(app.SDKAppID); a.Status != "active" {
			t.Errorf("a plugin refund suspended the app: %s", a.Status)
		}
	})
}

// TestOverdueTopUpResumes: a top-up to zero or more lifts a suspension for arrears
// and resumes the apps it stopped; one that leaves the balance negative does not.
func TestOverdueTopUpResumes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("0", "0")
		app := w.app(acc)
		// Arrears as the scheduler leaves them: a negative balance, suspended.
		err := w.st.InCommerceTx(w.ctx, func(tx store.CommerceTx) error {
			a, _ := tx.LockAccount(w.ctx, acc.ID)
			a.CashCents, a.OverdueSince = -375, at("2026-03-01 00:00")
			a.Status, a.SuspendReason, a.SuspendedAt = "suspended", commerce.ReasonArrears, at("2026-03-02 00:00")
			if err := tx.UpdateAccount(w.ctx, a); err != nil {
				return err
			}
			p, _ := tx.LockApp(w.ctx, app.SDKAppID)
			p.Status, p.SuspendReason, p.SuspendedAt = "suspended", commerce.ReasonArrears, at("2026-03-02 00:00")
			return tx.UpdateApp(w.ctx, p)
		})
		if err != nil {
			t.Fatal(err)
		}
		w.clk.Set(at("2026-03-05 00:00"))
		if a, _ := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("3.74")}); a.Status != "suspended" {
			t.Errorf("top-up leaving -0.01 resumed the account")
		}
		a, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Credit: usd("0.01")})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "active" || !a.OverdueSince.IsZero() || a.CashCents+a.CreditCents != 0 {
			t.Errorf("account after top-up to zero: %+v", a)
		}
		if p := w.getApp(app.SDKAppID); p.Status != "active" || p.SuspendReason != "" {
			t.Errorf("app after top-up: %s (%s)", p.Status, p.SuspendReason)
		}
	})
}

// TestRenewalInGraceKeepsAnchor: within 24 h of the expiry (inclusive) a renewal
// continues from the expiry on the anchor; after the suspension it starts anew.
func TestRenewalInGraceKeepsAnchor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-01-31 10:00"))
		acc := w.account("2000", "0")
		app := w.app(acc)
		w.buy(app, "standard", 1)         // to 28 Feb 10:00
		w.clk.Set(at("2026-03-01 10:00")) // exactly 24 h after the expiry, not yet suspended
		os, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !os[0].EffectiveFrom.Equal(at("2026-02-28 10:00")) || !os[0].EffectiveTo.Equal(at("2026-03-31 10:00")) {
			t.Errorf("renewal in the grace day covers %s–%s, want 28 Feb–31 Mar", os[0].EffectiveFrom, os[0].EffectiveTo)
		}
		// Expired and suspended: a renewal starts now, on a new anchor.
		err = w.st.InCommerceTx(w.ctx, func(tx store.CommerceTx) error {
			a, _ := tx.LockApp(w.ctx, app.SDKAppID)
			a.Status, a.SuspendReason, a.SuspendedAt = "suspended", commerce.ReasonExpired, at("2026-04-01 10:00")
			return tx.UpdateApp(w.ctx, a)
		})
		if err != nil {
			t.Fatal(err)
		}
		w.clk.Set(at("2026-04-05 08:00"))
		os, err = w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if a := w.getApp(app.SDKAppID); !os[0].EffectiveFrom.Equal(at("2026-04-05 08:00")) || a.Status != "active" || !a.ExpiresAt.Equal(at("2026-05-05 08:00")) {
			t.Errorf("renewal of a suspended app: order %s–%s, app %s until %s", os[0].EffectiveFrom, os[0].EffectiveTo, a.Status, a.ExpiresAt)
		}
	})
}

// TestTopUpIdempotent: a repeated top-up request adds nothing more.
func TestTopUpIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("0", "0")
		for i := 0; i < 3; i++ {
			if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("10"), RequestID: "t-1"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Credit: usd("5"), RequestID: "t-2"}); err != nil {
			t.Fatal(err)
		}
		if cash, credit := w.balance(acc.ID); cash != usd("10") || credit != usd("5") {
			t.Errorf("balance %s/%s, want 10.00/5.00", cash, credit)
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: -1}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("negative top-up: %v", err)
		}
	})
}

// TestPromotion: the operator makes an add-on free for a limited time.
func TestPromotion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-10 00:00"))
		acc := w.account("1000", "0")
		app := w.app(acc)
		if _, err := w.com.SetPromotion(w.ctx, "chatbot_messages", at("2026-03-20 00:00")); err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.SetPromotion(w.ctx, "nope", at("2026-03-20 00:00")); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown add-on: %v", err)
		}
		if _, err := w.com.SetPromotion(w.ctx, "push", at("2026-03-01 00:00")); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("promotion ending in the past: %v", err)
		}
		free, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: "chatbot_messages", Quantity: 2, Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if free.ListCents != 40000 || free.DiscountCents != 40000 || free.CashCents != 0 {
			t.Errorf("promoted pack: list %d discount %d cash %d", free.ListCents, free.DiscountCents, free.CashCents)
		}
		if ps, _ := w.com.Promotions(w.ctx); !ps["chatbot_messages"].Equal(at("2026-03-20 00:00")) {
			t.Errorf("promotions %v", ps)
		}
		w.clk.Set(at("2026-03-20 00:00")) // the promotion is over
		paid, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: "chatbot_messages", Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		if paid.CashCents != 20000 || paid.DiscountCents != 0 {
			t.Errorf("after the promotion: cash %d discount %d", paid.CashCents, paid.DiscountCents)
		}
		if ps, _ := w.com.Promotions(w.ctx); len(ps) != 0 {
			t.Errorf("an ended promotion is listed: %v", ps)
		}
	})
}

// TestRefundSkipsRefundRecords: a refund record is never refunded itself, even
// one dated after the refund's now (a refund committed while another waited
// for its lock; here the clock is set back to make it so).
func TestRefundSkipsRefundRecords(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("2000", "0")
		app := w.app(acc)
		w.buy(app, "standard", 1)
		w.clk.Set(at("2026-03-10 00:00"))
		first, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID})
		if err != nil {
			t.Fatal(err)
		}
		w.clk.Set(at("2026-03-05 00:00"))
		w.buy(app, "standard", 1)
		second, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(second.Order.Refunds, first.Order.ID) || len(second.Order.Refunds) != 1 {
			t.Fatalf("the second refund refunded %v (the first refund record is %s)", second.Order.Refunds, first.Order.ID)
		}
		orders, err := w.com.Orders(w.ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			if o.ID == first.Order.ID && o.Status != store.OrderPaid {
				t.Fatalf("the first refund record: %+v", o)
			}
		}
	})
}
