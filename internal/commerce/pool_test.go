package commerce_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/testdb"
)

// capPool sets the maximum number of open connections of the store's write pool
// (on PostgreSQL also the read pool: they are one).
func capPool(t *testing.T, w *world, n int) {
	t.Helper()
	p, ok := w.st.(interface{ WriteDB() *sql.DB })
	if !ok {
		t.Fatalf("%T does not expose its pool", w.st)
	}
	p.WriteDB().SetMaxOpenConns(n)
}

// TestConcurrentOrdersSmallPool: 50 concurrent orders of one app against a pool
// of 20 connections all finish, promptly and correctly. An order transaction that
// took a second pool connection while holding its first would wait forever once
// 20 transactions held the 20 connections.
func TestConcurrentOrdersSmallPool(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		start := at("2026-03-01 00:00")
		w := newWorld(t, open, start)
		capPool(t, w, 20)
		acc := w.account("30000", "0")
		app := w.app(acc)
		w.buy(app, "standard", 1)
		ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
		defer cancel()
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.com.Renew(ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1, RequestID: fmt.Sprintf("r-%d", i)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("order %d: %v", i, err)
			}
		}
		if got, want := w.getApp(app.SDKAppID).ExpiresAt, period.AddMonths(start, n+1); !got.Equal(want) {
			t.Errorf("expires %s, want %s", got, want)
		}
		if cash, _ := w.balance(acc.ID); cash != usd("30000")-usd("399")*(n+1) {
			t.Errorf("cash %s after %d orders", cash, n+1)
		}
	})
}

// TestOneConnection runs every commerce operation on a PostgreSQL store limited to
// one connection: any operation that uses the pool while its transaction holds
// the connection never finishes (and fails on the deadline).
func TestOneConnection(t *testing.T) {
	testdb.SkipWithoutPostgres(t)
	w := newWorld(t, testdb.Postgres, at("2026-03-01 00:00"))
	capPool(t, w, 1)
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	w.ctx = ctx
	acc := w.account("5000", "100")
	app := w.app(acc)
	app2 := w.app(acc)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Refused (too early), after the locks: the refusal path runs too.
	if _, err := w.com.ExtendTrial(ctx, app2.SDKAppID); !errors.Is(err, commerce.ErrRefused) {
		t.Fatalf("extend trial: %v", err)
	}
	v, err := w.com.IssueVoucher(ctx, commerce.VoucherRequest{AccountID: acc.ID, Amount: usd("10"), ExpiresAt: at("2027-01-01 00:00")})
	must("voucher", err)
	_, err = w.com.Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: "standard", Months: 2, AgreementAccepted: true, VoucherID: v.ID, RequestID: "b"})
	must("buy", err)
	_, err = w.com.Renew(ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1, RequestID: "r"})
	must("renew", err)
	_, err = w.com.SetAutoRenew(ctx, app.SDKAppID, true)
	must("auto-renew", err)
	_, err = w.com.SetPromotion(ctx, "chatbot_messages", at("2026-04-01 00:00"))
	must("promotion", err)
	o, err := w.com.BuyAddon(ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: "push", Months: 1, RequestID: "a"})
	must("add-on", err)
	_, err = w.com.Refund(ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, Addon: "push", RequestID: "ra"})
	must("refund add-on", err)
	_, err = w.com.Upgrade(ctx, commerce.UpgradeRequest{SDKAppID: app.SDKAppID, Edition: "premium", RequestID: "u"})
	must("upgrade", err)
	_, err = w.com.SetNonRefundable(ctx, o.ID, "")
	must("non-refundable", err)
	_, err = w.com.Refund(ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, RequestID: "rp"})
	must("refund plan", err)
	_, err = w.com.TopUp(ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: usd("1"), RequestID: "t"})
	must("top-up", err)
	_, err = w.com.SuspendAccount(ctx, acc.ID, "spam")
	must("suspend", err)
}
