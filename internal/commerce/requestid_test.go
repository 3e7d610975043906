package commerce_test

import (
	"errors"
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/testdb"
)

// TestRequestIDTiedToRequest: a request id replays only the very request that
// first used it; reused with another operation or other parameters it is
// refused (ErrRequestReused) and nothing changes.
func TestRequestIDTiedToRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-10 00:00"))
		acc := w.account("5000", "0")
		app1, app2 := w.app(acc), w.app(acc)
		v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("5"), ExpiresAt: at("2027-01-01 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		push := commerce.AddonRequest{SDKAppID: app1.SDKAppID, Addon: "push", Months: 1, RequestID: "k1"}
		first, err := w.com.BuyAddon(w.ctx, push)
		if err != nil {
			t.Fatal(err)
		}
		// unchanged checks that a refused request changed nothing.
		unchanged := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, commerce.ErrRequestReused) || !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("%s: %v, want ErrRequestReused", what, err)
			}
			if cash, _ := w.balance(acc.ID); cash != usd("5000")-moneyCents(first.CashCents) {
				t.Errorf("%s: cash %s", what, cash)
			}
			if os, _ := w.com.Orders(w.ctx, acc.ID); len(os) != 1 {
				t.Errorf("%s: %d orders", what, len(os))
			}
			if a := w.getApp(app2.SDKAppID); a.Edition != "trial" {
				t.Errorf("%s: app 2 is on %s", what, a.Edition)
			}
		}
		_, err = w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: app2.SDKAppID, Edition: "premium", Months: 1, AgreementAccepted: true, RequestID: "k1"})
		unchanged("premium plan with the add-on's id", err)
		_, err = w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app1.SDKAppID, Addon: "push", RequestID: "k1"})
		unchanged("refund with the add-on's id", err)
		_, err = w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("1"), RequestID: "k1"})
		unchanged("top-up with the add-on's id", err)
		_, err = w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app1.SDKAppID}, Months: 1, RequestID: "k1"})
		unchanged("renewal with the add-on's id", err)
		_, err = w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: app1.SDKAppID, Edition: "premium", RequestID: "k1"})
		unchanged("upgrade with the add-on's id", err)
		for _, r := range []commerce.AddonRequest{
			{SDKAppID: app2.SDKAppID, Addon: "push", Months: 1},
			{SDKAppID: app1.SDKAppID, Addon: "cloud_search", Months: 1},
			{SDKAppID: app1.SDKAppID, Addon: "push", Months: 2},
			{SDKAppID: app1.SDKAppID, Addon: "push", Months: 1, VoucherID: v.ID},
		} {
			r.RequestID = "k1"
			_, err := w.com.BuyAddon(w.ctx, r)
			unchanged("add-on with other parameters", err)
		}
		again, err := w.com.BuyAddon(w.ctx, push)
		if err != nil || again.ID != first.ID {
			t.Errorf("the same request again: %v, order %s want %s", err, again.ID, first.ID)
		}
		// The quantity's default is the same request as the minimum written out.
		withMin := push
		withMin.Quantity = 1
		if again, err := w.com.BuyAddon(w.ctx, withMin); err != nil || again.ID != first.ID {
			t.Errorf("the default quantity written out: %v", err)
		}
	})
}

// TestRequestIDEveryOperation: for each idempotent operation, the same request
// replays and the same id with another parameter is refused, changing nothing.
func TestRequestIDEveryOperation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-10 00:00"))
		acc := w.account("5000", "0")
		a1, a2 := w.app(acc), w.app(acc)
		ledger := func() int {
			l, err := w.st.ListLedger(w.ctx, acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(l)
		}
		check := func(what string, same, other func() error) {
			t.Helper()
			if err := same(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			n := ledger()
			if err := same(); err != nil {
				t.Errorf("%s repeated: %v", what, err)
			}
			if err := other(); !errors.Is(err, commerce.ErrRequestReused) {
				t.Errorf("%s with another parameter: %v", what, err)
			}
			if ledger() != n {
				t.Errorf("%s: a repetition or a reuse moved money", what)
			}
		}
		buy := func(months int, edition string) func() error {
			return func() error {
				_, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: a1.SDKAppID, Edition: edition, Months: months, AgreementAccepted: true, RequestID: "b"})
				return err
			}
		}
		check("buy", buy(1, "standard"), buy(2, "standard"))
		check("buy", buy(1, "standard"), buy(1, "premium"))
		w.buy(a2, "standard", 1)
		renew := func(ids []int64, months int) func() error {
			return func() error {
				_, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: ids, Months: months, RequestID: "r"})
				return err
			}
		}
		check("batch renewal", renew([]int64{a1.SDKAppID, a2.SDKAppID}, 1), renew([]int64{a1.SDKAppID, a2.SDKAppID}, 2))
		check("batch renewal", renew([]int64{a1.SDKAppID, a2.SDKAppID}, 1), renew([]int64{a1.SDKAppID}, 1))
		upgrade := func(voucher string) func() error {
			return func() error {
				_, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: a2.SDKAppID, Edition: "premium", VoucherID: voucher, RequestID: "u"})
				return err
			}
		}
		check("upgrade", upgrade(""), upgrade("vch_x"))
		var amount int64
		refund := func(reason string) func() error {
			return func() error {
				r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: a2.SDKAppID, Reason: reason, RequestID: "f"})
				if err == nil && amount == 0 {
					amount = int64(r.Amount)
				} else if err == nil && int64(r.Amount) != amount {
					t.Errorf("refund replayed %s, first %d", r.Amount, amount)
				}
				return err
			}
		}
		check("refund", refund("too dear"), refund("other"))
		topUp := func(cash, credit string) func() error {
			return func() error {
				_, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd(cash), Credit: usd(credit), RequestID: "t"})
				return err
			}
		}
		check("top-up", topUp("10", "0"), topUp("11", "0"))
		check("top-up", topUp("10", "0"), topUp("0", "10"))
		var voucherID string
		voucher := func(amount, scope string) func() error {
			return func() error {
				v, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd(amount), Scope: scope,
					ExpiresAt: at("2027-01-01 00:00"), RequestID: "v"})
				if err == nil && voucherID == "" {
					voucherID = v.ID
				} else if err == nil && v.ID != voucherID {
					t.Errorf("voucher replayed as %s, first %s", v.ID, voucherID)
				}
				return err
			}
		}
		check("voucher", voucher("10", ""), voucher("11", ""))
		check("voucher", voucher("10", "all"), voucher("10", "addons"))
		if vs, _ := w.com.Vouchers(w.ctx, acc.ID); len(vs) != 1 {
			t.Errorf("%d vouchers issued by one request id", len(vs))
		}
	})
}

func moneyCents(c int64) money.Cents { return money.Cents(c) }
