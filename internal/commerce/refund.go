package commerce

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// Refund refunds an app's edition (r.Addon == "") or one of its plugins, by the
// formula of spec 5.5:
//
//	refund = effective order amount + not-yet-effective amount − used value, ≥ 0
//
// where the effective amount is the share of what was paid (cash + credit, no
// vouchers) of the period in force now, the not-yet-effective amount the shares of
// later periods and of renewals bought in advance, and the used value the started
// days of the current period ÷ its days × the monthly list price. The refund goes
// back as cash and credit in the proportion they were paid. A refunded edition
// suspends the app at once.
func (s *Service) Refund(ctx context.Context, r RefundRequest) (Refund, error) {
	r.Reason = strings.TrimSpace(r.Reason)
	if utf8.RuneCountInString(r.Reason) > 500 {
		return Refund{}, invalid("the reason is longer than 500 characters")
	}
	if err := checkRequestID(r.RequestID); err != nil {
		return Refund{}, err
	}
	var product string
	var monthly func(store.Order) int64
	if r.Addon == "" {
		monthly = func(o store.Order) int64 { return catalog.MustLookup(o.Product).MonthlyPriceCents }
	} else {
		ad, err := catalog.LookupAddon(r.Addon)
		if err != nil {
			return Refund{}, invalid("unknown add-on %q", r.Addon)
		}
		if !ad.Refundable {
			return Refund{}, refused("%s is a value-added service; only editions and plugins (Push, Cloud Search) can be refunded", ad.Name)
		}
		product = "addon:" + ad.ID
		monthly = func(o store.Order) int64 { return ad.MonthlyCents(o.Quantity) }
	}
	now := s.Clock.Now()
	var out Refund
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		acc, app, err := lockAppOf(ctx, tx, r.SDKAppID)
		if err != nil {
			return err
		}
		if fresh, err := claimRequest(ctx, tx, acc.ID, r.RequestID, r.fingerprint(), now); err != nil || !fresh {
			if err != nil {
				return err
			}
			o, err := orderOf(ctx, tx, acc.ID, r.RequestID)
			out = Refund{Order: o, Amount: money.Cents(o.CashCents + o.CreditCents), Cash: money.Cents(o.CashCents), Credit: money.Cents(o.CreditCents), App: app}
			return err
		}
		if app.Status == store.StatusDeleted {
			return refused("app %d is deleted", app.SDKAppID)
		}
		if acc.SuspendReason == ReasonViolation {
			return refused("account %s is suspended for a content violation", acc.ID)
		}
		want := product
		if want == "" {
			if app.Edition == catalog.Trial {
				return refused("app %d is on Free Trial: there is nothing to refund", app.SDKAppID)
			}
			want = app.Edition
		}
		orders, err := tx.AppOrders(ctx, app.SDKAppID)
		if err != nil {
			return err
		}
		var refunded []store.Order
		for _, o := range orders {
			if o.Kind != store.OrderRefund && o.Product == want && o.Status == store.OrderPaid && o.EffectiveTo.After(now) {
				if o.NonRefundable != "" {
					return refused("order %s is not refundable: %s", o.ID, o.NonRefundable)
				}
				refunded = append(refunded, o)
			}
		}
		if len(refunded) == 0 {
			return refused("app %d has no %s order in force or bought in advance: there is nothing to refund", app.SDKAppID, want)
		}
		res, err := computeRefund(refunded, monthly, now)
		if err != nil {
			return err
		}
		ro := store.Order{
			ID: newID("ord_"), AccountID: acc.ID, SDKAppID: app.SDKAppID, RequestID: r.RequestID,
			Kind: store.OrderRefund, Product: want, CashCents: int64(res.Cash), CreditCents: int64(res.Credit),
			EffectiveFrom: now, EffectiveTo: now, Anchor: now, Status: store.OrderPaid,
			Reason: r.Reason, CreatedAt: now,
		}
		for _, o := range refunded {
			ro.Refunds = append(ro.Refunds, o.ID)
			if err := tx.SetOrderStatus(ctx, o.ID, store.OrderRefunded); err != nil {
				return err
			}
		}
		if err := record(ctx, tx, ro, payment{}); err != nil {
			return err
		}
		// A refund returns money the balance paid: it is not capped.
		if err := addToBalance(&acc, res.Cash, res.Credit, false); err != nil {
			return err
		}
		if err := settle(ctx, tx, &acc, now); err != nil {
			return err
		}
		if product == "" {
			// The plan ends now and the app stops; its data is kept for 90 days.
			app.ExpiresAt, app.AutoRenew = now, false
			SuspendApp(&app, ReasonRefund, now)
			if err := tx.UpdateApp(ctx, app); err != nil {
				return err
			}
		}
		res.Order, res.App = ro, app
		out = res
		return nil
	})
	return out, err
}

// computeRefund applies the formula of spec 5.5 to the orders in force or bought
// in advance, at now. Rounding happens once, on the final amount.
func computeRefund(orders []store.Order, monthly func(store.Order) int64, now time.Time) (Refund, error) {
	effective, later := money.Zero(), money.Zero()
	cashBase, creditBase := money.Zero(), money.Zero()
	used := money.Zero()
	for _, o := range orders {
		for _, sg := range segments(o) {
			switch {
			case !sg.end.After(now):
				// spent: returns nothing
			case sg.start.After(now):
				later = later.Add(sg.value)
				cashBase, creditBase = cashBase.Add(sg.cash), creditBase.Add(sg.credit)
			default:
				effective = effective.Add(sg.value)
				cashBase, creditBase = cashBase.Add(sg.cash), creditBase.Add(sg.credit)
				// Started days of the current period: a refund on its first day uses one.
				days := int64(now.Sub(sg.start)/day) + 1
				periodDays := int64(sg.periodEnd.Sub(sg.periodStart) / day)
				used = used.Add(money.Ratio(money.Cents(monthly(o)), days, periodDays))
			}
		}
	}
	total, err := effective.Add(later).Sub(used).Cents()
	if err != nil {
		return Refund{}, invalid("the refund is out of range: %v", err)
	}
	total = max(total, 0)
	cash, credit := money.Split(total, cashBase, creditBase)
	// The parts are each at most what was paid, so they fit when the total does.
	return Refund{
		Amount: total, Cash: cash, Credit: credit,
		Effective: effective.Round(), NotEffective: later.Round(), Used: used.Round(),
	}, nil
}

// RefundDetails lists account's refunds, oldest first, each with the parts of
// the formula of spec 5.5 worked out again from the orders it refunded, as they
// stood at the refund's time: the refunded orders keep their periods and what
// was paid, so the parts are those the refund used. Amount, Cash and Credit are
// the recorded refund's; App is left empty. A refund whose orders are missing
// (none should be) has zero parts.
func (s *Service) RefundDetails(ctx context.Context, account string) ([]Refund, error) {
	orders, err := s.Store.ListOrders(ctx, account)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Order, len(orders))
	for _, o := range orders {
		byID[o.ID] = o
	}
	var out []Refund
	for _, ro := range orders {
		if ro.Kind != store.OrderRefund {
			continue
		}
		r := Refund{Order: ro, Cash: money.Cents(ro.CashCents), Credit: money.Cents(ro.CreditCents), Amount: money.Cents(ro.CashCents + ro.CreditCents)}
		var refunded []store.Order
		for _, id := range ro.Refunds {
			if o, ok := byID[id]; ok {
				refunded = append(refunded, o)
			}
		}
		if len(refunded) > 0 {
			if parts, err := computeRefund(refunded, monthlyPrice, ro.CreatedAt); err == nil {
				r.Effective, r.NotEffective, r.Used = parts.Effective, parts.NotEffective, parts.Used
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// monthlyPrice is the monthly list price of an order's product (an edition or
// "addon:<id>" with its quantity); 0 for an unknown product.
func monthlyPrice(o store.Order) int64 {
	if id, ok := strings.CutPrefix(o.Product, "addon:"); ok {
		ad, err := catalog.LookupAddon(id)
		if err != nil {
			return 0
		}
		return ad.MonthlyCents(o.Quantity)
	}
	e, err := catalog.Lookup(o.Product)
	if err != nil {
		return 0
	}
	return e.MonthlyPriceCents
}
