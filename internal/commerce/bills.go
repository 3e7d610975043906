package commerce

import (
	"context"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// monthBounds returns the first instant of month ("2006-01", UTC) and of the next.
func monthBounds(month string) (time.Time, time.Time, error) {
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return start, start, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	return start, start.AddDate(0, 1, 0), nil
}

// MAULine prices an app's monthly active users beyond its edition's free MAU.
// Free Trial apps are capped instead, so they have no line. money.ErrOverflow
// when the amount does not fit.
func MAULine(app store.App, mau int64) (store.BillLine, bool, error) {
	ed, err := catalog.Lookup(app.Edition)
	if err != nil || ed.OverageMAUMicroUSD == 0 || mau <= 0 {
		return store.BillLine{}, false, nil
	}
	l := store.BillLine{SDKAppID: app.SDKAppID, Product: ed.ID, Metric: catalog.MetricMAU,
		Usage: mau, Free: int64(ed.FreeMAU), BlockSize: 1, BlockMicro: ed.OverageMAUMicroUSD}
	l.Billable = max(0, mau-l.Free)
	amount, err := money.Micro(l.BlockMicro).Times(l.Billable).Cents()
	if err != nil {
		return store.BillLine{}, false, fmt.Errorf("MAU of app %d: %w", app.SDKAppID, err)
	}
	l.AmountCents = int64(amount)
	return l, true, nil
}

// OverageLine prices one metered metric of an add-on from its usage per day of the
// month. A daily allowance ("day") is applied to each day, a monthly one to the
// month's sum; every unit beyond it costs BlockPrice ÷ BlockSize (exact), and the
// line is rounded half-up to the cent. money.ErrOverflow when the usage or the
// amount does not fit.
func OverageLine(sdkappid int64, ad catalog.Addon, ov catalog.Overage, byDay map[string]int64) (store.BillLine, bool, error) {
	var usage, billable money.Cents // counts of units, summed with the same checks as amounts
	for _, q := range byDay {
		var err error
		if usage, err = money.Add(usage, money.Cents(q)); err != nil {
			return store.BillLine{}, false, fmt.Errorf("%s of app %d: %w", ov.Metric, sdkappid, err)
		}
		if ov.Per == "day" {
			if billable, err = money.Add(billable, money.Cents(max(0, q-ov.Free))); err != nil {
				return store.BillLine{}, false, fmt.Errorf("%s of app %d: %w", ov.Metric, sdkappid, err)
			}
		}
	}
	if usage <= 0 {
		return store.BillLine{}, false, nil
	}
	if ov.Per != "day" {
		billable = max(0, usage-money.Cents(ov.Free))
	}
	amount, err := money.Micro(ov.BlockPrice).Times(int64(billable)).Mul(1, ov.BlockSize).Cents()
	if err != nil {
		return store.BillLine{}, false, fmt.Errorf("%s of app %d: %w", ov.Metric, sdkappid, err)
	}
	return store.BillLine{SDKAppID: sdkappid, Product: "addon:" + ad.ID, Metric: ov.Metric, Usage: int64(usage),
		Free: ov.Free, Billable: int64(billable), BlockSize: ov.BlockSize, BlockMicro: ov.BlockPrice, AmountCents: int64(amount)}, true, nil
}

// billLines prices every app of the account for month: MAU over the free
// allowance of paid editions, and the overage of add-ons the app held at any time
// in the month (refunded or expired since included: usage is billed up to then).
// When an app held two add-ons metering the same metric (both Call plans), the
// larger allowance applies.
func billLines(ctx context.Context, tx store.CommerceTx, apps []store.App, month string) ([]store.BillLine, error) {
	start, end, err := monthBounds(month)
	if err != nil {
		return nil, err
	}
	var lines []store.BillLine
	for _, app := range apps {
		mau, err := tx.CountMonthly(ctx, app.SDKAppID, month)
		if err != nil {
			return nil, err
		}
		l, ok, err := MAULine(app, int64(mau))
		if err != nil {
			return nil, err
		}
		if ok {
			lines = append(lines, l)
		}
		orders, err := tx.AppOrders(ctx, app.SDKAppID)
		if err != nil {
			return nil, err
		}
		type held struct {
			ad catalog.Addon
			ov catalog.Overage
		}
		best := map[string]held{} // by metric
		var metrics []string
		for _, o := range orders {
			if o.Kind != store.OrderAddon || !o.EffectiveFrom.Before(end) || !o.EffectiveTo.After(start) {
				continue
			}
			ad, err := catalog.LookupAddon(o.Product[len("addon:"):])
			if err != nil {
				continue
			}
			for _, ov := range ad.Overage {
				h, ok := best[ov.Metric]
				if !ok {
					metrics = append(metrics, ov.Metric)
				}
				if !ok || ov.Free > h.ov.Free {
					best[ov.Metric] = held{ad, ov}
				}
			}
		}
		for _, m := range metrics {
			byDay, err := tx.MonthUsage(ctx, app.SDKAppID, m, month)
			if err != nil {
				return nil, err
			}
			l, ok, err := OverageLine(app.SDKAppID, best[m].ad, best[m].ov, byDay)
			if err != nil {
				return nil, err
			}
			if ok {
				lines = append(lines, l)
			}
		}
	}
	return lines, nil
}

// IssueBill issues the account's pay-as-you-go bill for month at `at` and deducts
// it from the balance, credit first, then cash (which may go below zero). An
// account that cannot pay, or whose balance is below zero, becomes overdue. It
// returns errs.ErrExists when the month was billed already. The caller holds the
// account lock; IssueBill writes the account.
func IssueBill(ctx context.Context, tx store.CommerceTx, acc *store.Account, month string, at time.Time) (store.Bill, error) {
	apps, err := tx.AccountApps(ctx, acc.ID)
	if err != nil {
		return store.Bill{}, err
	}
	lines, err := billLines(ctx, tx, apps, month)
	if err != nil {
		return store.Bill{}, err
	}
	b := store.Bill{ID: newID("bill_"), AccountID: acc.ID, Month: month, IssuedAt: at, Lines: lines}
	var total money.Cents
	for _, l := range lines {
		if total, err = money.Add(total, money.Cents(l.AmountCents)); err != nil {
			return store.Bill{}, fmt.Errorf("bill of account %s for %s: %w", acc.ID, month, err)
		}
	}
	b.TotalCents = int64(total)
	b.CreditCents = min(b.TotalCents, max(acc.CreditCents, 0))
	b.CashCents = b.TotalCents - b.CreditCents
	cash, err := money.Sub(money.Cents(acc.CashCents), money.Cents(b.CashCents))
	if err != nil {
		return store.Bill{}, fmt.Errorf("bill of account %s for %s: %w", acc.ID, month, err)
	}
	if err := tx.InsertBill(ctx, b); err != nil {
		return store.Bill{}, err
	}
	if b.TotalCents > 0 {
		acc.CreditCents -= b.CreditCents // at most the credit held
		acc.CashCents = int64(cash)
		if err := tx.InsertLedger(ctx, store.LedgerEntry{ID: newID("led_"), AccountID: acc.ID, Kind: "bill",
			CashCents: -b.CashCents, CreditCents: -b.CreditCents, Ref: b.ID, At: at}); err != nil {
			return store.Bill{}, err
		}
	}
	if acc.CashCents+acc.CreditCents < 0 && acc.OverdueSince.IsZero() {
		acc.OverdueSince = at
	}
	return b, tx.UpdateAccount(ctx, *acc)
}
