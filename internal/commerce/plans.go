package commerce

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// paidEdition returns the catalog edition of a paid plan, refusing Free Trial and
// unknown ids.
func paidEdition(id string) (catalog.Edition, error) {
	if id == catalog.Trial {
		return catalog.Edition{}, refused("Free Trial cannot be bought: to use Free Trial again, create a new app")
	}
	e, err := catalog.Lookup(id)
	if err != nil {
		return e, invalid("unknown edition %q (standard or premium)", id)
	}
	return e, nil
}

func checkMonths(m int) error {
	if m < 1 || m > MaxMonths {
		return invalid("months must be 1 to %d, not %d", MaxMonths, m)
	}
	return nil
}

// continuing reports whether an app's paid plan is in force or in its 24-hour
// grace after expiry: a renewal then continues the plan from its expiry, on its
// anchor. Otherwise (expired and suspended, refunded) a new plan starts now.
func continuing(app store.App, now time.Time) bool {
	// Inclusive: auto-renewal's second try runs at exactly expiry + 24 h.
	return app.Edition != catalog.Trial && app.Status == store.StatusActive && !now.After(app.ExpiresAt.Add(Grace))
}

// inForce reports whether an app's paid plan runs now (not yet expired, not
// refunded, not suspended).
func inForce(app store.App, now time.Time) bool {
	return app.Edition != catalog.Trial && app.Status == store.StatusActive && now.Before(app.ExpiresAt)
}

// mayBuy refuses buying edition ed for an app whose plan is in force (upgrade,
// renew, or refund then buy instead) and buying its own edition again in the
// grace day (renew instead: the renewal continues from the expiry). Any other
// edition may be bought once the plan expired, in the grace day too: it starts
// now, and nothing of the expired plan is left to credit.
func mayBuy(app store.App, ed catalog.Edition, now time.Time) error {
	if !continuing(app, now) {
		return nil
	}
	cur := catalog.MustLookup(app.Edition)
	until := app.ExpiresAt.Format(time.RFC3339)
	switch {
	case ed.ID == cur.ID && inForce(app, now):
		return refused("app %d is already on %s until %s: renew it instead", app.SDKAppID, cur.Name, until)
	case ed.ID == cur.ID:
		return refused("app %d's %s plan expired at %s: renew it instead (the renewal continues from the expiry)", app.SDKAppID, cur.Name, until)
	case !inForce(app, now):
		return nil
	case ed.MonthlyPriceCents < cur.MonthlyPriceCents:
		return refused("app %d is on %s until %s: downgrades are refused; refund the plan, then buy %s",
			app.SDKAppID, cur.Name, until, ed.Name)
	default:
		return refused("app %d is on %s until %s: upgrade it instead", app.SDKAppID, cur.Name, until)
	}
}

// Buy buys an edition for an app on Free Trial, or for an app whose plan expired
// (in the grace day too) or was refunded (which is also how a customer
// downgrades: refund, then buy).
func (s *Service) Buy(ctx context.Context, r BuyRequest) (store.Order, error) {
	return s.buy(ctx, r, nil)
}

// PreviewBuy prices r exactly as Buy would (the same code, in a transaction
// that is rolled back): the order with its validity period, voucher part and
// how the balance would pay it. Nothing is charged or recorded; the request
// id is ignored. Buy's errors, except that a short balance is reported in
// the Preview (Sufficient false) instead.
func (s *Service) PreviewBuy(ctx context.Context, r BuyRequest) (Preview, error) {
	r.RequestID = ""
	var p Preview
	if _, err := s.buy(ctx, r, &p); err != nil {
		return Preview{}, err
	}
	return p, nil
}

func (s *Service) buy(ctx context.Context, r BuyRequest, preview *Preview) (store.Order, error) {
	ed, err := paidEdition(r.Edition)
	if err != nil {
		return store.Order{}, err
	}
	if err := checkMonths(r.Months); err != nil {
		return store.Order{}, err
	}
	if !r.AgreementAccepted {
		return store.Order{}, invalid("buying a plan requires accepting the service agreement (--accept-agreement)")
	}
	list := ed.MonthlyPriceCents * int64(r.Months) // at most 24 months of a catalog price
	if r.Discount < 0 || int64(r.Discount) > list {
		return store.Order{}, invalid("the discount must be between 0.00 and the list price %s USD", money.Cents(list))
	}
	now := s.Clock.Now()
	return s.placeOrderMode(ctx, r.SDKAppID, r.RequestID, r.fingerprint(), preview, func(tx store.CommerceTx, acc *store.Account, app *store.App) (store.Order, error) {
		if err := mayBuy(*app, ed, now); err != nil {
			return store.Order{}, err
		}
		o := store.Order{
			ID: newID("ord_"), AccountID: acc.ID, SDKAppID: app.SDKAppID, RequestID: r.RequestID,
			Kind: store.OrderBuy, Product: ed.ID, Months: r.Months, Quantity: 1,
			ListCents: list, DiscountCents: int64(r.Discount),
			EffectiveFrom: now, EffectiveTo: period.AddMonths(now, r.Months), Anchor: now,
			AutoRenew: r.AutoRenew, AgreementAccepted: true, NonRefundable: r.NonRefundable,
			Status: store.OrderPaid, CreatedAt: now,
		}
		if err := pay(ctx, tx, acc, &o, r.VoucherID, ScopeEditions, now); err != nil {
			return o, err
		}
		app.Edition = ed.ID
		resumeApp(app)
		app.PlanAnchor, app.ExpiresAt, app.AutoRenew = now, o.EffectiveTo, r.AutoRenew
		return o, tx.UpdateApp(ctx, *app)
	})
}

// pay settles the order's net price (list − discount) with the voucher, then the
// balance, records the order and writes the account.
func pay(ctx context.Context, tx store.CommerceTx, acc *store.Account, o *store.Order, voucherID, scope string, now time.Time) error {
	var p payment
	due := o.ListCents - o.DiscountCents
	if err := applyVoucher(ctx, tx, *acc, voucherID, scope, due, now, &p); err != nil {
		return err
	}
	cash, credit, err := payFromBalance(acc, due-p.voucherCents)
	if err != nil {
		return err
	}
	o.VoucherID, o.VoucherCents, o.CashCents, o.CreditCents = p.voucher.ID, p.voucherCents, cash, credit
	if p.voucherCents == 0 {
		o.VoucherID = ""
	}
	if err := record(ctx, tx, *o, p); err != nil {
		return err
	}
	return tx.UpdateAccount(ctx, *acc)
}

// Renew renews one app, or a batch of apps of one account, by r.Months months, all
// or nothing. A plan in force (or within 24 hours of its expiry) continues from
// its expiry on its anchor; an expired, suspended or refunded plan starts again
// now, and the app resumes.
func (s *Service) Renew(ctx context.Context, r RenewRequest) ([]store.Order, error) {
	return s.renew(ctx, r, nil)
}

// RenewPreview is a renewal priced without being placed: the orders as they
// would be recorded (Cash and Credit as the balance would pay them, 0 when it
// cannot), what the balance pays in total, the balance and whether it suffices.
type RenewPreview struct {
	Orders      []store.Order
	Due         money.Cents
	Balance     store.Account
	Sufficient  bool
	BalanceNote string
}

// PreviewRenew prices r exactly as Renew would (the same code, in a
// transaction that is rolled back). Nothing is charged or recorded; the
// request id is ignored. Renew's errors, except that a short balance is
// reported in the preview instead.
func (s *Service) PreviewRenew(ctx context.Context, r RenewRequest) (RenewPreview, error) {
	r.RequestID = ""
	var p RenewPreview
	if _, err := s.renew(ctx, r, &p); err != nil {
		return RenewPreview{}, err
	}
	return p, nil
}

func (s *Service) renew(ctx context.Context, r RenewRequest, preview *RenewPreview) ([]store.Order, error) {
	if len(r.SDKAppIDs) == 0 {
		return nil, invalid("renew needs at least one SDKAppID")
	}
	if len(r.SDKAppIDs) > tenant.MaxAppsPerAccount { // the apps of one account at most
		return nil, invalid("a batch renews at most %d apps", tenant.MaxAppsPerAccount)
	}
	seen := map[int64]bool{}
	for _, id := range r.SDKAppIDs {
		if seen[id] {
			return nil, invalid("SDKAppID %d is listed twice", id)
		}
		seen[id] = true
	}
	if err := checkMonths(r.Months); err != nil {
		return nil, err
	}
	if err := checkRequestID(r.RequestID); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var orders []store.Order
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		acc, first, err := lockAppOf(ctx, tx, r.SDKAppIDs[0])
		if err != nil {
			return err
		}
		if fresh, err := claimRequest(ctx, tx, acc.ID, r.RequestID, r.fingerprint(), now); err != nil || !fresh {
			for i := 0; err == nil && i < len(r.SDKAppIDs); i++ {
				var o store.Order
				o, err = orderOf(ctx, tx, acc.ID, batchRequestID(r.RequestID, i, len(r.SDKAppIDs)))
				orders = append(orders, o)
			}
			return err
		}
		if err := mayOrder(acc, nil); err != nil {
			return err
		}
		balance := acc // as it is, before a preview raises it
		if preview != nil {
			acc.CreditCents = max(acc.CreditCents, 0) + int64(money.MaxBalance) + int64(money.MaxAmount)
		}
		apps := []store.App{first}
		for _, id := range r.SDKAppIDs[1:] {
			app, err := tx.LockApp(ctx, id)
			if err != nil {
				return notFound("app %d does not exist", id)
			}
			if app.AccountID != acc.ID {
				return invalid("a batch renews apps of one account: app %d belongs to another account", id)
			}
			apps = append(apps, app)
		}
		// Every app must be renewable before anything is paid.
		batch := make([]store.Order, len(apps))
		for i := range apps {
			if batch[i], err = renewal(&apps[i], r.Months, now); err != nil {
				return err
			}
		}
		var (
			p     payment
			need  int64 // the batch's due after the voucher
			short bool
		)
		for i, o := range batch {
			o.AccountID, o.RequestID = acc.ID, batchRequestID(r.RequestID, i, len(apps))
			due := o.ListCents
			if err := applyVoucher(ctx, tx, acc, r.VoucherID, ScopeEditions, due, now, &p); err != nil {
				return err
			}
			need += due - p.voucherCents
			if short {
				continue // summing up what the whole batch needs
			}
			cash, credit, err := payFromBalance(&acc, due-p.voucherCents)
			if errors.Is(err, ErrInsufficientBalance) {
				short = true
				continue
			}
			if err != nil {
				return err
			}
			o.CashCents, o.CreditCents, o.VoucherCents = cash, credit, p.voucherCents
			if p.voucherCents > 0 {
				o.VoucherID = p.voucher.ID
			}
			if err := record(ctx, tx, o, p); err != nil {
				return err
			}
			if err := tx.UpdateApp(ctx, apps[i]); err != nil {
				return err
			}
			orders = append(orders, o)
		}
		if short {
			return batchShort(len(apps), need, balance)
		}
		if preview != nil {
			*preview = renewPreviewOf(orders, balance)
			return errPreview
		}
		return tx.UpdateAccount(ctx, acc)
	})
	if preview != nil && errors.Is(err, errPreview) {
		return preview.Orders, nil
	}
	if err != nil {
		return nil, err
	}
	return orders, nil
}

// renewPreviewOf prices a batch's orders against the real balance of acc,
// order by order as Renew pays them.
func renewPreviewOf(orders []store.Order, acc store.Account) RenewPreview {
	p := RenewPreview{Orders: orders, Balance: acc, Sufficient: true}
	for i := range orders {
		orders[i].ID = "" // not placed
		due := orders[i].CashCents + orders[i].CreditCents
		p.Due += money.Cents(due)
		if !p.Sufficient {
			continue
		}
		cash, credit, err := payFromBalance(&acc, due)
		if err != nil {
			p.Sufficient = false
			continue
		}
		orders[i].CashCents, orders[i].CreditCents = cash, credit
	}
	if !p.Sufficient {
		p.BalanceNote = batchShort(len(orders), int64(p.Due), p.Balance).Error()
	}
	if !p.Sufficient {
		for i := range orders {
			orders[i].CashCents, orders[i].CreditCents = 0, 0
		}
	}
	return p
}

// batchShort refuses a batch of n renewals that needs need cents from a
// balance acc cannot pay: the whole batch's figures, not one order's.
func batchShort(n int, need int64, acc store.Account) error {
	if n == 1 {
		_, _, err := payFromBalance(&acc, need)
		return err
	}
	return fmt.Errorf("%w: renewing %d apps costs %s USD after vouchers and the balance of account %s is %s USD (cash %s, credit %s); top up first",
		ErrInsufficientBalance, n, money.Cents(need), acc.ID, money.Cents(acc.CashCents+acc.CreditCents),
		money.Cents(acc.CashCents), money.Cents(acc.CreditCents))
}

// batchRequestID derives each order's request id from the batch's.
func batchRequestID(id string, i, n int) string {
	if id == "" || n == 1 {
		return id
	}
	return fmt.Sprintf("%s#%d", id, i+1)
}

// renewal builds the (unpaid) renewal order of app for months and moves the app's
// plan accordingly (in memory). Free Trial apps have nothing to renew.
func renewal(app *store.App, months int, now time.Time) (store.Order, error) {
	switch {
	case app.Status == store.StatusDeleted:
		return store.Order{}, refused("app %d is deleted; orders for it are refused", app.SDKAppID)
	case app.Edition == catalog.Trial:
		return store.Order{}, refused("app %d is on Free Trial: buy Standard or Premium instead of renewing", app.SDKAppID)
	case app.Status == store.StatusSuspended && (app.SuspendReason == ReasonArrears || app.SuspendReason == ReasonViolation):
		return store.Order{}, refused("app %d is suspended with its account (%s)", app.SDKAppID, app.SuspendReason)
	}
	ed := catalog.MustLookup(app.Edition)
	o := store.Order{ID: newID("ord_"), SDKAppID: app.SDKAppID, Kind: store.OrderRenew, Product: ed.ID,
		Months: months, Quantity: 1, ListCents: ed.MonthlyPriceCents * int64(months),
		AutoRenew: app.AutoRenew, AgreementAccepted: true, Status: store.OrderPaid, CreatedAt: now}
	if continuing(*app, now) {
		k := periodIndex(app.PlanAnchor, app.ExpiresAt)
		o.Anchor, o.EffectiveFrom = app.PlanAnchor, app.ExpiresAt
		o.EffectiveTo = period.AddMonths(app.PlanAnchor, k+months)
	} else {
		o.Anchor, o.EffectiveFrom, o.EffectiveTo = now, now, period.AddMonths(now, months)
		app.PlanAnchor = now
	}
	app.ExpiresAt = o.EffectiveTo
	resumeApp(app)
	return o, nil
}

// AutoRenew renews a locked app for one month from the balance (no voucher), as
// auto-renewal does at expiry. It fails, changing nothing, when the balance is
// short. The caller holds the account and app locks and writes the app.
func AutoRenew(ctx context.Context, tx store.CommerceTx, acc *store.Account, app *store.App, now time.Time) (store.Order, error) {
	if err := mayOrder(*acc, app); err != nil {
		return store.Order{}, err
	}
	before := *app
	o, err := renewal(app, 1, now)
	if err != nil {
		return o, err
	}
	o.AccountID = acc.ID
	saved := *acc
	cash, credit, err := payFromBalance(acc, o.ListCents)
	if err != nil {
		*app = before
		return store.Order{}, err
	}
	o.CashCents, o.CreditCents = cash, credit
	if err := record(ctx, tx, o, payment{}); err != nil {
		*app, *acc = before, saved
		return store.Order{}, err
	}
	if err := tx.UpdateAccount(ctx, *acc); err != nil {
		return store.Order{}, err
	}
	return o, tx.UpdateApp(ctx, *app)
}

// Upgrade moves an app from Standard to Premium for the rest of its paid time
// (spec 5.1 Decision): the price is the Premium list price of the remaining time
// minus the unused value of the Standard orders, both prorated by the second,
// charged at once. The Standard orders' unused value is carried into the upgrade
// order (status "upgraded" on them), so a later refund can return it.
func (s *Service) Upgrade(ctx context.Context, r UpgradeRequest) (store.Order, error) {
	return s.upgrade(ctx, r, nil)
}

// PreviewUpgrade prices r exactly as Upgrade would (the same code, rolled
// back): the charge, the Standard value carried over and the period. Nothing
// is charged or recorded; the request id is ignored. Upgrade's errors, except
// that a short balance is reported in the Preview instead.
func (s *Service) PreviewUpgrade(ctx context.Context, r UpgradeRequest) (Preview, error) {
	r.RequestID = ""
	var p Preview
	if _, err := s.upgrade(ctx, r, &p); err != nil {
		return Preview{}, err
	}
	return p, nil
}

func (s *Service) upgrade(ctx context.Context, r UpgradeRequest, preview *Preview) (store.Order, error) {
	if r.Edition != catalog.Premium {
		if r.Edition == catalog.Standard || r.Edition == catalog.Trial {
			return store.Order{}, refused("only Standard → Premium is an upgrade; downgrades are refused (refund, then buy)")
		}
		return store.Order{}, invalid("unknown edition %q: upgrades go to premium", r.Edition)
	}
	now := s.Clock.Now()
	premium := catalog.MustLookup(catalog.Premium)
	return s.placeOrderMode(ctx, r.SDKAppID, r.RequestID, r.fingerprint(), preview, func(tx store.CommerceTx, acc *store.Account, app *store.App) (store.Order, error) {
		switch {
		case app.Edition == catalog.Premium:
			return store.Order{}, refused("app %d is already on Premium", app.SDKAppID)
		case app.Edition != catalog.Standard:
			return store.Order{}, refused("app %d is on Free Trial: buy Premium instead", app.SDKAppID)
		case !inForce(*app, now):
			// Nothing of the plan is left to upgrade (spec 5.1 prices the remaining time).
			return store.Order{}, refused("app %d's Standard plan ended at %s: there is no time left to upgrade; buy Premium instead (it starts now), or renew Standard",
				app.SDKAppID, app.ExpiresAt.Format(time.RFC3339))
		}
		orders, err := tx.AppOrders(ctx, app.SDKAppID)
		if err != nil {
			return store.Order{}, err
		}
		carriedCash, carriedCredit := money.Zero(), money.Zero()
		var replaced []store.Order
		for _, o := range orders {
			if o.Kind == store.OrderRefund || o.Product != catalog.Standard || o.Status != store.OrderPaid || !o.EffectiveTo.After(now) {
				continue
			}
			c, cr := unusedValue(o, now)
			carriedCash, carriedCredit = carriedCash.Add(c), carriedCredit.Add(cr)
			replaced = append(replaced, o)
		}
		remaining := listValue(premium.MonthlyPriceCents, app.PlanAnchor, now, app.ExpiresAt)
		unused := carriedCash.Add(carriedCredit)
		charge, err := remaining.Sub(unused).Cents()
		if err != nil {
			return store.Order{}, invalid("the upgrade's price is out of range: %v", err)
		}
		charge = max(charge, 0) // the Standard time left never turns into cash
		unusedCents, err := unused.Cents()
		if err != nil {
			return store.Order{}, invalid("the upgrade's carried value is out of range: %v", err)
		}
		cc, cr := money.Split(unusedCents, carriedCash, carriedCredit)
		o := store.Order{
			ID: newID("ord_"), AccountID: acc.ID, SDKAppID: app.SDKAppID, RequestID: r.RequestID,
			Kind: store.OrderUpgrade, Product: catalog.Premium, Quantity: 1,
			ListCents: int64(charge), CarriedCashCents: int64(cc), CarriedCreditCents: int64(cr),
			EffectiveFrom: now, EffectiveTo: app.ExpiresAt, Anchor: app.PlanAnchor,
			AutoRenew: app.AutoRenew, AgreementAccepted: true, Status: store.OrderPaid, CreatedAt: now,
		}
		if err := pay(ctx, tx, acc, &o, r.VoucherID, ScopeEditions, now); err != nil {
			return o, err
		}
		for _, old := range replaced {
			if err := tx.SetOrderStatus(ctx, old.ID, store.OrderUpgraded); err != nil {
				return o, err
			}
		}
		app.Edition = catalog.Premium
		return o, tx.UpdateApp(ctx, *app)
	})
}

// ExtendTrial grants an app's Free Trial its one extension of one month (spec 3
// Decision): from the current expiry, or from now when the trial already
// expired. It is possible from 7 days before the expiry on.
func (s *Service) ExtendTrial(ctx context.Context, sdkappid int64) (store.App, error) {
	now := s.Clock.Now()
	var app store.App
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		var err error
		var acc store.Account
		if acc, app, err = lockAppOf(ctx, tx, sdkappid); err != nil {
			return err
		}
		if err := mayOrder(acc, &app); err != nil {
			return err
		}
		return ExtendTrialLocked(ctx, tx, &app, now)
	})
	return app, err
}

// ExtendTrialLocked extends a locked trial app and writes it (ExtendTrial, and the
// scheduler's automatic extension).
func ExtendTrialLocked(ctx context.Context, tx store.CommerceTx, app *store.App, now time.Time) error {
	switch {
	case app.Edition != catalog.Trial:
		return refused("app %d is on a paid plan; Free Trial cannot return", app.SDKAppID)
	case app.TrialExtended:
		return refused("app %d's Free Trial was already extended once; buy Standard or Premium", app.SDKAppID)
	case now.Before(app.ExpiresAt.Add(-7 * 24 * time.Hour)):
		return refused("app %d's Free Trial can be extended from %s (7 days before it expires)", app.SDKAppID,
			app.ExpiresAt.Add(-7*24*time.Hour).Format(time.RFC3339))
	}
	from := app.ExpiresAt
	if app.Status == store.StatusSuspended {
		from = now
	}
	app.ExpiresAt = period.AddMonths(from, 1)
	app.TrialExtended = true
	resumeApp(app)
	return tx.UpdateApp(ctx, *app)
}
