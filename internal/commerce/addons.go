package commerce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// maxQuantity bounds seats, bots and packs of one order.
const maxQuantity = 1000

// BuyAddon buys an add-on for an app. A plugin (Push, Cloud Search) runs by
// whole UTC days, day T to day T−1 of the next month (spec 4: bought 10 Mar 14:00,
// valid through 9 Apr, so it ends 10 Apr 00:00): its cycles are anchored at 00:00
// of the purchase day. Other monthly add-ons run from the purchase instant to the
// same day and time of the following month, as editions do. A purchase while the
// same add-on is in force starts when it ends, on its anchor. A message pack is
// paid per pack and valid for the months bought; the free Call trial lasts 7 days,
// once per app.
func (s *Service) BuyAddon(ctx context.Context, r AddonRequest) (store.Order, error) {
	ad, err := catalog.LookupAddon(r.Addon)
	if err != nil {
		return store.Order{}, invalid("unknown add-on %q (see chatd catalog)", r.Addon)
	}
	if r.Quantity == 0 {
		r.Quantity = ad.MinQuantity
	}
	if r.Quantity < ad.MinQuantity || r.Quantity > maxQuantity {
		return store.Order{}, invalid("%s: quantity must be %d to %d %ss, not %d", ad.Name, ad.MinQuantity, maxQuantity, ad.Unit, r.Quantity)
	}
	if err := checkMonths(r.Months); err != nil {
		return store.Order{}, err
	}
	if ad.Sold == catalog.SoldFixed && (r.Months != 1 || r.Quantity != 1) {
		return store.Order{}, invalid("%s lasts %d days: months and quantity must be 1", ad.Name, ad.FixedDays)
	}
	product := "addon:" + ad.ID
	now := s.Clock.Now()
	return s.placeOrder(ctx, r.SDKAppID, r.RequestID, r.fingerprint(), func(tx store.CommerceTx, acc *store.Account, app *store.App) (store.Order, error) {
		if app.Status != store.StatusActive {
			return store.Order{}, refused("app %d is suspended (%s): %s before buying add-ons", app.SDKAppID, app.SuspendReason, HowToResume(*app))
		}
		orders, err := tx.AppOrders(ctx, app.SDKAppID)
		if err != nil {
			return store.Order{}, err
		}
		from, anchor := now, now
		if ad.Kind == catalog.KindPlugin {
			anchor = startOfDay(now)
		}
		for _, o := range orders {
			if o.Kind == store.OrderRefund || o.Product != product || o.Status == store.OrderRefunded {
				continue
			}
			if ad.Sold == catalog.SoldFixed {
				return store.Order{}, refused("%s can be used once per app; app %d already had it", ad.Name, app.SDKAppID)
			}
			if ad.Sold == catalog.SoldMonthly && o.Status == store.OrderPaid && o.EffectiveTo.After(from) {
				from, anchor = o.EffectiveTo, o.Anchor
			}
		}
		o := store.Order{
			ID: newID("ord_"), AccountID: acc.ID, SDKAppID: app.SDKAppID, RequestID: r.RequestID,
			Kind: store.OrderAddon, Product: product, Months: r.Months, Quantity: r.Quantity,
			EffectiveFrom: from, Anchor: anchor, AgreementAccepted: true, Status: store.OrderPaid, CreatedAt: now,
		}
		switch ad.Sold {
		case catalog.SoldMonthly:
			o.ListCents = ad.MonthlyCents(r.Quantity) * int64(r.Months)
			o.EffectiveTo = period.AddMonths(anchor, periodIndex(anchor, from)+r.Months)
		case catalog.SoldPack:
			o.ListCents = ad.PriceCents * int64(r.Quantity)
			o.EffectiveTo = period.AddMonths(now, r.Months)
		case catalog.SoldFixed:
			o.ListCents = ad.PriceCents
			o.EffectiveTo = now.Add(time.Duration(ad.FixedDays) * 24 * time.Hour)
		}
		if !ad.Refundable {
			o.NonRefundable = ad.Name + " is a value-added service and is not refundable"
		}
		promo, err := tx.PromotionOf(ctx, ad.ID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return o, err
		}
		if err == nil && now.Before(promo.FreeUntil) {
			o.DiscountCents = o.ListCents // the operator made it free until then
		}
		return o, pay(ctx, tx, acc, &o, r.VoucherID, ScopeAddons, now)
	})
}

// startOfDay is 00:00 UTC of t's day.
func startOfDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// isPluginOrder reports whether o is an order of a plugin (cycles of whole UTC days).
func isPluginOrder(o store.Order) bool {
	if o.Kind != store.OrderAddon {
		return false
	}
	a, err := catalog.LookupAddon(strings.TrimPrefix(o.Product, "addon:"))
	return err == nil && a.Kind == catalog.KindPlugin
}

// HowToResume names, as a clause, the actions that resume an app suspended at
// expiry or after a refund, and only actions that are then allowed (a Free
// Trial is never renewed and is extended once). Arrears and violations are
// the account's: a top-up, or nothing.
func HowToResume(app store.App) string {
	switch {
	case app.Edition == catalog.Trial && !app.TrialExtended:
		return "extend its Free Trial (once) or buy Standard or Premium"
	case app.Edition == catalog.Trial:
		return "buy Standard or Premium"
	case app.SuspendReason == ReasonRefund:
		return "buy a plan or renew it"
	default:
		return "renew its plan or buy one"
	}
}

// WayOut names, as a clause, what resumes a suspended app for any reason
// (product.md 5.4): a top-up for arrears, nothing but the operator for a
// content violation, else HowToResume's purchases.
func WayOut(app store.App) string {
	switch app.SuspendReason {
	case ReasonArrears:
		return "top up the account until its balance is zero or more to resume it"
	case ReasonViolation:
		return "the suspension is permanent (a content violation): contact the operator"
	}
	return HowToResume(app) + " to resume it"
}

// AccountSuspendedMessage says why acc is suspended and the way out, or ""
// when it is not suspended.
func AccountSuspendedMessage(acc store.Account) string {
	if acc.Status != store.StatusSuspended {
		return ""
	}
	if acc.SuspendReason == ReasonViolation {
		return fmt.Sprintf("account %s is suspended for a content violation: its apps stay suspended and new apps and orders are refused; the suspension is permanent: contact the operator", acc.ID)
	}
	return fmt.Sprintf("account %s is suspended for arrears (balance %s USD): its apps are suspended and new apps and orders are refused until a top-up brings the balance to zero or more", acc.ID, money.Cents(acc.CashCents+acc.CreditCents))
}

// SuspendedMessage says that app is suspended and why, what that stops (what,
// a clause such as "its callbacks cannot be configured") and WayOut: the one
// wording of the console pages, the console API, the operator API and the
// callback settings.
func SuspendedMessage(app store.App, what string) string {
	reason := app.SuspendReason
	if reason == "" {
		reason = "suspended"
	}
	return fmt.Sprintf("app %d is suspended (%s): %s; %s", app.SDKAppID, reason, what, WayOut(app))
}

// SetPromotion makes an add-on free to buy until freeUntil (spec 4: the AI Chatbot
// message pack "may be marked free for a limited time by the operator"; any add-on
// may be). A zero freeUntil ends the promotion. Orders already paid are unchanged.
func (s *Service) SetPromotion(ctx context.Context, addon string, freeUntil time.Time) (store.Promotion, error) {
	if _, err := catalog.LookupAddon(addon); err != nil {
		return store.Promotion{}, notFound("unknown add-on %q", addon)
	}
	now := s.Clock.Now()
	if !freeUntil.IsZero() && !freeUntil.After(now) {
		return store.Promotion{}, invalid("the promotion would end at %s, which is not in the future (a date means free through that UTC day)", freeUntil.Format(time.RFC3339))
	}
	p := store.Promotion{Addon: addon, FreeUntil: freeUntil.UTC(), SetAt: now}
	err := s.tx(ctx, func(tx store.CommerceTx) error { return tx.SetPromotion(ctx, p) })
	return p, err
}

// Promotions returns the add-ons free to buy now, with the end of each promotion.
func (s *Service) Promotions(ctx context.Context) (map[string]time.Time, error) {
	ps, err := s.Store.Promotions(ctx)
	if err != nil {
		return nil, fmt.Errorf("promotions: %w", err)
	}
	now := s.Clock.Now()
	out := map[string]time.Time{}
	for _, p := range ps {
		if now.Before(p.FreeUntil) {
			out[p.Addon] = p.FreeUntil
		}
	}
	return out, nil
}
