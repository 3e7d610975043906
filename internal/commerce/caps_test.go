package commerce_test

import (
	"errors"
	"math"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// TestBalanceCaps: a top-up takes at most money.MaxAmount of cash and of credit,
// and each part of the balance at most money.MaxBalance; past a cap the top-up is
// refused and nothing changes. Before the caps, 4,612 top-ups of the largest
// accepted amount wrapped the balance negative.
func TestBalanceCaps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("0", "0")
		ledger := func() int {
			l, err := w.st.ListLedger(w.ctx, acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(l)
		}
		topUp := func(cash, credit money.Cents) error {
			_, err := w.com.TopUp(w.ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: cash, Credit: credit})
			return err
		}
		for _, c := range []money.Cents{money.MaxAmount + 1, math.MaxInt64} {
			if err := topUp(c, 0); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("top-up of %s cash: %v", c, err)
			}
			if err := topUp(0, c); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("top-up of %s credit: %v", c, err)
			}
		}
		n := int(money.MaxBalance / money.MaxAmount)
		for i := range n {
			if err := topUp(money.MaxAmount, money.MaxAmount); err != nil {
				t.Fatalf("top-up %d: %v", i+1, err)
			}
		}
		if cash, credit := w.balance(acc.ID); cash != money.MaxBalance || credit != money.MaxBalance {
			t.Fatalf("balance %s/%s, want the cap", cash, credit)
		}
		before := ledger()
		for _, tt := range []struct{ cash, credit money.Cents }{{1, 0}, {0, 1}, {money.MaxAmount, money.MaxAmount}} {
			if err := topUp(tt.cash, tt.credit); !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("top-up of %s/%s past the cap: %v", tt.cash, tt.credit, err)
			}
		}
		if cash, credit := w.balance(acc.ID); cash != money.MaxBalance || credit != money.MaxBalance || ledger() != before {
			t.Errorf("refused top-ups changed the balance: %s/%s", cash, credit)
		}
		// A full balance still pays orders, and a refund of one is not capped.
		app := w.app(acc)
		w.buy(app, "standard", 1)
		if _, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID}); err != nil {
			t.Errorf("refund at the cap: %v", err)
		}
		if _, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: money.MaxAmount + 1, ExpiresAt: at("2027-01-01 00:00")}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("voucher above the largest amount: %v", err)
		}
		if _, err := w.com.IssueVoucher(w.ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: money.MaxAmount, ExpiresAt: at("2027-01-01 00:00")}); err != nil {
			t.Errorf("voucher of the largest amount: %v", err)
		}
	})
}

// TestOverageOverflow: usage whose price does not fit is an error, not a wrapped
// amount.
func TestOverageOverflow(t *testing.T) {
	a, _ := catalog.LookupAddon(catalog.Push)
	ov := a.Overage[0]
	for name, byDay := range map[string]map[string]int64{
		"usage sum": {"2026-03-01": math.MaxInt64, "2026-03-02": 1},
		"amount":    {"2026-03-01": math.MaxInt64 / 2},
	} {
		if l, _, err := commerce.OverageLine(1, a, ov, byDay); !errors.Is(err, money.ErrOverflow) {
			t.Errorf("%s: line %+v, %v; want ErrOverflow", name, l, err)
		}
	}
	if l, _, err := commerce.MAULine(storeApp("standard"), math.MaxInt64); !errors.Is(err, money.ErrOverflow) {
		t.Errorf("MAU: line %+v, %v; want ErrOverflow", l, err)
	}
}

func storeApp(edition string) store.App { return store.App{SDKAppID: 1, Edition: edition} }
