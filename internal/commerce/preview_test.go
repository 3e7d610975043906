package commerce_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// everything is what a preview must leave as it was.
func (w *world) everything(acc string) []any {
	w.t.Helper()
	a, err1 := w.st.GetAccount(w.ctx, acc)
	apps, err2 := w.st.ListApps(w.ctx, acc)
	orders, err3 := w.st.ListOrders(w.ctx, acc)
	ledger, err4 := w.st.ListLedger(w.ctx, acc)
	vs, err5 := w.st.ListVouchers(w.ctx, acc)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		w.t.Fatal(err)
	}
	return []any{a, apps, orders, ledger, vs}
}

// A preview is Buy's own computation: the same price, voucher part, split
// and period as the order Buy then records, on a trial, with a voucher, and
// after an expiry; nothing changes; a refused buy is refused alike; a short
// balance is reported, not hidden.
func TestPreviewMatchesBuy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2027-01-31 10:00"))
		acc := w.account("500", "100")
		v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("50"), ExpiresAt: at("2027-12-01 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		a1, a2 := w.app(acc), w.app(acc)
		check := func(r commerce.BuyRequest) {
			t.Helper()
			before := w.everything(acc.ID)
			p, err := w.com.PreviewBuy(w.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, w.everything(acc.ID)) {
				t.Fatal("a preview changed the store")
			}
			o, err := w.com.Buy(w.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Sufficient || p.Order.ListCents != o.ListCents || p.Order.VoucherCents != o.VoucherCents || p.Order.VoucherID != o.VoucherID ||
				p.Order.CashCents != o.CashCents || p.Order.CreditCents != o.CreditCents || int64(p.Due) != o.CashCents+o.CreditCents ||
				!p.Order.EffectiveFrom.Equal(o.EffectiveFrom) || !p.Order.EffectiveTo.Equal(o.EffectiveTo) || p.Order.AutoRenew != o.AutoRenew {
				t.Fatalf("preview %+v\norder   %+v", p.Order, o)
			}
		}
		// On a trial, with a voucher, month-end anchor (Jan 31 + 1 month).
		check(commerce.BuyRequest{SDKAppID: a1.SDKAppID, Edition: "standard", Months: 1, AutoRenew: true, VoucherID: v.ID, AgreementAccepted: true})
		if got := w.getApp(a1.SDKAppID).ExpiresAt; !got.Equal(at("2027-02-28 10:00")) {
			t.Fatalf("expiry %s", got)
		}
		// A buy the rules refuse: the preview says the same.
		_, perr := w.com.PreviewBuy(w.ctx, commerce.BuyRequest{SDKAppID: a1.SDKAppID, Edition: "standard", Months: 1, AgreementAccepted: true})
		_, berr := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: a1.SDKAppID, Edition: "standard", Months: 1, AgreementAccepted: true})
		if perr == nil || berr == nil || perr.Error() != berr.Error() {
			t.Fatalf("refused buy: preview %v, buy %v", perr, berr)
		}
		// A short balance: the price is shown, Sufficient false, nothing changes.
		before := w.everything(acc.ID)
		p, err := w.com.PreviewBuy(w.ctx, commerce.BuyRequest{SDKAppID: a2.SDKAppID, Edition: "premium", Months: 24, AgreementAccepted: true})
		if err != nil || p.Sufficient || p.Order.ListCents != 69900*24 || p.BalanceNote == "" || p.Order.CashCents != 0 {
			t.Fatalf("short balance preview: %+v, %v", p, err)
		}
		if !reflect.DeepEqual(before, w.everything(acc.ID)) {
			t.Fatal("a preview changed the store")
		}
		// After the plan expired and the app was suspended: a new plan starts now.
		w.clk.Set(at("2027-03-05 00:00"))
		app := w.getApp(a1.SDKAppID)
		err = w.st.InCommerceTx(w.ctx, func(tx store.CommerceTx) error {
			commerce.SuspendApp(&app, commerce.ReasonExpired, w.clk.Now())
			return tx.UpdateApp(w.ctx, app)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("2000")}); err != nil {
			t.Fatal(err)
		}
		check(commerce.BuyRequest{SDKAppID: a1.SDKAppID, Edition: "premium", Months: 2, AgreementAccepted: true})
		if got := w.getApp(a1.SDKAppID); got.Status != store.StatusActive || !got.ExpiresAt.Equal(at("2027-05-05 00:00")) {
			t.Fatalf("after buying again: %+v", got)
		}
	})
}

// A renewal preview is Renew's own computation; a short balance is reported
// and nothing changes.
func TestPreviewRenew(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2027-01-10 10:00"))
		acc := w.account("1000", "0")
		a, b := w.app(acc), w.app(acc)
		w.buy(a, "standard", 1)
		w.buy(b, "standard", 1)
		r := commerce.RenewRequest{SDKAppIDs: []int64{a.SDKAppID, b.SDKAppID}, Months: 1}
		before := w.everything(acc.ID)
		p, err := w.com.PreviewRenew(w.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, w.everything(acc.ID)) {
			t.Fatal("a renewal preview changed the store")
		}
		if p.Sufficient || p.Due != usd("798") || p.BalanceNote == "" || p.Orders[0].CashCents != 0 {
			t.Fatalf("short balance: %+v", p)
		}
		if _, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("1000")}); err != nil {
			t.Fatal(err)
		}
		if p, err = w.com.PreviewRenew(w.ctx, r); err != nil || !p.Sufficient {
			t.Fatalf("preview: %+v %v", p, err)
		}
		orders, err := w.com.Renew(w.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range orders {
			q := p.Orders[i]
			if q.ListCents != o.ListCents || q.CashCents != o.CashCents || q.CreditCents != o.CreditCents ||
				!q.EffectiveFrom.Equal(o.EffectiveFrom) || !q.EffectiveTo.Equal(o.EffectiveTo) || q.SDKAppID != o.SDKAppID {
				t.Fatalf("preview %+v\norder   %+v", q, o)
			}
		}
	})
}

// The Actor-taking calls: another account's app, voucher, order or account
// is the same ErrNotFound as a missing one; the operator acts on all.
func TestActorOwnership(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2027-01-10 10:00"))
		ann, bob := w.account("1000", "0"), w.account("1000", "0")
		annApp, bobApp := w.app(ann), w.app(bob)
		o := w.buy(annApp, "standard", 1)
		v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: ann.ID, Amount: usd("5"), ExpiresAt: at("2027-12-01 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		asBob := tenant.Actor{Account: bob.ID}
		before := w.everything(ann.ID)
		errsOf := []error{
			second(w.com.BuyAs(w.ctx, asBob, commerce.BuyRequest{SDKAppID: annApp.SDKAppID, Edition: "premium", Months: 1, AgreementAccepted: true})),
			second(w.com.BuyAs(w.ctx, asBob, commerce.BuyRequest{SDKAppID: bobApp.SDKAppID, Edition: "standard", Months: 1, AgreementAccepted: true, VoucherID: v.ID})),
			second(w.com.PreviewBuyAs(w.ctx, asBob, commerce.BuyRequest{SDKAppID: annApp.SDKAppID, Edition: "premium", Months: 1})),
			second(w.com.RefundAs(w.ctx, asBob, commerce.RefundRequest{SDKAppID: annApp.SDKAppID})),
			second(w.com.OrderAs(w.ctx, asBob, o.ID)),
			second(w.com.OrdersAs(w.ctx, asBob, ann.ID)),
			second(w.com.AccountAs(w.ctx, asBob, ann.ID)),
			second(w.com.RenewAs(w.ctx, asBob, commerce.RenewRequest{SDKAppIDs: []int64{annApp.SDKAppID}, Months: 1})),
		}
		for i, err := range errsOf {
			if !errors.Is(err, errs.ErrNotFound) {
				t.Fatalf("call %d: %v, want not found", i, err)
			}
		}
		if !reflect.DeepEqual(before, w.everything(ann.ID)) {
			t.Fatal("a foreign call changed ann's account")
		}
		if _, err := w.com.TopUpAs(w.ctx, tenant.Actor{Account: ann.ID}, commerce.TopUpRequest{AccountID: ann.ID, Cash: usd("1")}); !errors.Is(err, commerce.ErrOperatorOnly) {
			t.Fatalf("customer top-up: %v", err)
		}
		op := tenant.Actor{Operator: true}
		if _, err := w.com.OrderAs(w.ctx, op, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.com.TopUpAs(w.ctx, op, commerce.TopUpRequest{AccountID: ann.ID, Cash: usd("1")}); err != nil {
			t.Fatal(err)
		}
		_ = time.Second
	})
}

func second[T any](_ T, err error) error { return err }
