package commerce

// The console's view of commerce: the same calls as the operator's, taking
// the acting tenant.Actor and enforcing ownership themselves. Another
// account's app, order, bill, voucher or account is errs.ErrNotFound with the
// words of a missing one, and nothing changes; the operator acts on every
// account. Operator-only calls refuse a customer with ErrOperatorOnly.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// ErrOperatorOnly: the call is the operator's (top-ups, vouchers, suspensions
// for a violation); a customer is refused and nothing changes.
var ErrOperatorOnly = errors.New("only the operator may do this")

func owns(a tenant.Actor, account string) bool {
	return a.Operator || (a.Account != "" && a.Account == account)
}

// appAs returns a live app the actor may act on; a missing, deleted or
// another account's app is the same ErrNotFound.
func (s *Service) appAs(ctx context.Context, actor tenant.Actor, sdkappid int64) (store.App, error) {
	app, err := s.Store.GetApp(ctx, sdkappid)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && (app.Status == store.StatusDeleted || !owns(actor, app.AccountID))) {
		return store.App{}, notFound("app %d does not exist", sdkappid)
	}
	return app, err
}

// accountAs resolves the account an actor names: "" is a customer's own (the
// operator must name one); another account is ErrNotFound.
func (s *Service) accountAs(ctx context.Context, actor tenant.Actor, id string) (store.Account, error) {
	if id == "" {
		if actor.Operator {
			return store.Account{}, invalid("account is required: the operator names the account")
		}
		id = actor.Account
	}
	if !owns(actor, id) {
		return store.Account{}, notFound("account %q does not exist", id)
	}
	return s.Account(ctx, id)
}

// voucherAs refuses a voucher of another account as if it did not exist (a
// customer learns nothing of others' vouchers).
func (s *Service) voucherAs(ctx context.Context, actor tenant.Actor, account, id string) error {
	if id == "" {
		return nil
	}
	if !owns(actor, account) {
		return notFound("voucher %q does not exist", id)
	}
	vs, err := s.Store.ListVouchers(ctx, account)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(vs, func(v store.Voucher) bool { return v.ID == id }) {
		return notFound("voucher %q does not exist", id)
	}
	return nil
}

func (s *Service) operatorOnly(actor tenant.Actor, what string) error {
	if !actor.Operator {
		return fmt.Errorf("%w: %s is done by the operator", ErrOperatorOnly, what)
	}
	return nil
}

// AccountAs returns an account (with its balance) the actor may see.
func (s *Service) AccountAs(ctx context.Context, actor tenant.Actor, account string) (store.Account, error) {
	return s.accountAs(ctx, actor, account)
}

// PreviewBuyAs is PreviewBuy for an app the actor may act on.
func (s *Service) PreviewBuyAs(ctx context.Context, actor tenant.Actor, r BuyRequest) (Preview, error) {
	app, err := s.appAs(ctx, actor, r.SDKAppID)
	if err != nil {
		return Preview{}, err
	}
	if err := s.voucherAs(ctx, actor, app.AccountID, r.VoucherID); err != nil {
		return Preview{}, err
	}
	r.Discount, r.NonRefundable = 0, ""
	return s.PreviewBuy(ctx, r)
}

// BuyAs is Buy for an app the actor may act on. Discounts and non-refundable
// marks are the operator's: a customer's are ignored.
func (s *Service) BuyAs(ctx context.Context, actor tenant.Actor, r BuyRequest) (store.Order, error) {
	app, err := s.appAs(ctx, actor, r.SDKAppID)
	if err != nil {
		return store.Order{}, err
	}
	if err := s.voucherAs(ctx, actor, app.AccountID, r.VoucherID); err != nil {
		return store.Order{}, err
	}
	if !actor.Operator {
		r.Discount, r.NonRefundable = 0, ""
	}
	return s.Buy(ctx, r)
}

// UpgradeAs is Upgrade for an app the actor may act on.
func (s *Service) UpgradeAs(ctx context.Context, actor tenant.Actor, r UpgradeRequest) (store.Order, error) {
	app, err := s.appAs(ctx, actor, r.SDKAppID)
	if err != nil {
		return store.Order{}, err
	}
	if err := s.voucherAs(ctx, actor, app.AccountID, r.VoucherID); err != nil {
		return store.Order{}, err
	}
	return s.Upgrade(ctx, r)
}

// PreviewUpgradeAs is PreviewUpgrade for an app the actor may act on.
func (s *Service) PreviewUpgradeAs(ctx context.Context, actor tenant.Actor, r UpgradeRequest) (Preview, error) {
	app, err := s.appAs(ctx, actor, r.SDKAppID)
	if err != nil {
		return Preview{}, err
	}
	if err := s.voucherAs(ctx, actor, app.AccountID, r.VoucherID); err != nil {
		return Preview{}, err
	}
	return s.PreviewUpgrade(ctx, r)
}

// RenewAs is Renew for apps the actor may act on: one that is not is
// ErrNotFound and nothing is renewed.
func (s *Service) RenewAs(ctx context.Context, actor tenant.Actor, r RenewRequest) ([]store.Order, error) {
	if err := s.renewableAs(ctx, actor, r); err != nil {
		return nil, err
	}
	return s.Renew(ctx, r)
}

// renewableAs checks that the actor may act on every app of r and use its voucher.
func (s *Service) renewableAs(ctx context.Context, actor tenant.Actor, r RenewRequest) error {
	if len(r.SDKAppIDs) == 0 {
		return invalid("renew needs at least one SDKAppID")
	}
	if len(r.SDKAppIDs) > tenant.MaxAppsPerAccount {
		return invalid("a batch renews at most %d apps", tenant.MaxAppsPerAccount)
	}
	var account string
	for _, id := range r.SDKAppIDs {
		app, err := s.appAs(ctx, actor, id)
		if err != nil {
			return err
		}
		account = app.AccountID
	}
	return s.voucherAs(ctx, actor, account, r.VoucherID)
}

// PreviewRenewAs is PreviewRenew for apps the actor may act on.
func (s *Service) PreviewRenewAs(ctx context.Context, actor tenant.Actor, r RenewRequest) (RenewPreview, error) {
	if err := s.renewableAs(ctx, actor, r); err != nil {
		return RenewPreview{}, err
	}
	return s.PreviewRenew(ctx, r)
}

// SetAutoRenewAs is SetAutoRenew for an app the actor may act on.
func (s *Service) SetAutoRenewAs(ctx context.Context, actor tenant.Actor, sdkappid int64, on bool) (store.App, error) {
	if _, err := s.appAs(ctx, actor, sdkappid); err != nil {
		return store.App{}, err
	}
	return s.SetAutoRenew(ctx, sdkappid, on)
}

// RefundAs is Refund (of the plan, or of r.Addon) for an app the actor may act on.
func (s *Service) RefundAs(ctx context.Context, actor tenant.Actor, r RefundRequest) (Refund, error) {
	if _, err := s.appAs(ctx, actor, r.SDKAppID); err != nil {
		return Refund{}, err
	}
	return s.Refund(ctx, r)
}

// BuyAddonAs is BuyAddon for an app the actor may act on.
func (s *Service) BuyAddonAs(ctx context.Context, actor tenant.Actor, r AddonRequest) (store.Order, error) {
	app, err := s.appAs(ctx, actor, r.SDKAppID)
	if err != nil {
		return store.Order{}, err
	}
	if err := s.voucherAs(ctx, actor, app.AccountID, r.VoucherID); err != nil {
		return store.Order{}, err
	}
	return s.BuyAddon(ctx, r)
}

// OrdersAs lists an account's orders (purchases and refunds), oldest first.
func (s *Service) OrdersAs(ctx context.Context, actor tenant.Actor, account string) ([]store.Order, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.Store.ListOrders(ctx, acc.ID)
}

// RefundsAs lists an account's refund records, oldest first.
func (s *Service) RefundsAs(ctx context.Context, actor tenant.Actor, account string) ([]store.Order, error) {
	orders, err := s.OrdersAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(orders, func(o store.Order) bool { return o.Kind != store.OrderRefund }), nil
}

// RefundDetailsAs is RefundDetails for an account the actor may see.
func (s *Service) RefundDetailsAs(ctx context.Context, actor tenant.Actor, account string) ([]Refund, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.RefundDetails(ctx, acc.ID)
}

// OrderAs returns one order of an account the actor may see; another
// account's order is ErrNotFound like a missing one.
func (s *Service) OrderAs(ctx context.Context, actor tenant.Actor, id string) (store.Order, error) {
	var o store.Order
	err := s.Store.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		var err error
		o, err = tx.GetOrder(ctx, id)
		return err
	})
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !owns(actor, o.AccountID)) {
		return store.Order{}, notFound("order %q does not exist", id)
	}
	return o, err
}

// BillsAs lists an account's monthly bills, with their lines per app and product.
func (s *Service) BillsAs(ctx context.Context, actor tenant.Actor, account string) ([]store.Bill, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.Store.ListBills(ctx, acc.ID)
}

// BillAs returns one bill of an account the actor may see; another
// account's bill is ErrNotFound like a missing one.
func (s *Service) BillAs(ctx context.Context, actor tenant.Actor, account, id string) (store.Bill, error) {
	bills, err := s.BillsAs(ctx, actor, account)
	if err != nil {
		return store.Bill{}, err
	}
	for _, b := range bills {
		if b.ID == id {
			return b, nil
		}
	}
	return store.Bill{}, notFound("bill %q does not exist", id)
}

// TopUpsAs lists an account's top-ups (ledger entries of kind "topup"), oldest first.
func (s *Service) TopUpsAs(ctx context.Context, actor tenant.Actor, account string) ([]store.LedgerEntry, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.ListLedger(ctx, acc.ID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(e store.LedgerEntry) bool { return e.Kind != "topup" }), nil
}

// VouchersAs lists an account's vouchers.
func (s *Service) VouchersAs(ctx context.Context, actor tenant.Actor, account string) ([]store.Voucher, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.Store.ListVouchers(ctx, acc.ID)
}

// NotificationsAs lists the notifications sent to an account.
func (s *Service) NotificationsAs(ctx context.Context, actor tenant.Actor, account string) ([]store.Notification, error) {
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.Store.ListNotifications(ctx, acc.ID)
}

// ExpiringAppsAs lists an account's live apps whose plan or trial expires in
// [from, to), by expiry then SDKAppID. A zero from or to is open.
func (s *Service) ExpiringAppsAs(ctx context.Context, actor tenant.Actor, account string, from, to time.Time) ([]store.App, error) {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, invalid("the expiry range is empty: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	acc, err := s.accountAs(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	apps, err := s.Store.ListApps(ctx, acc.ID)
	if err != nil {
		return nil, err
	}
	apps = slices.DeleteFunc(apps, func(a store.App) bool {
		return (!from.IsZero() && a.ExpiresAt.Before(from)) || (!to.IsZero() && !a.ExpiresAt.Before(to))
	})
	slices.SortStableFunc(apps, func(a, b store.App) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return apps, nil
}

// TopUpAs is TopUp, for the operator only.
func (s *Service) TopUpAs(ctx context.Context, actor tenant.Actor, r TopUpRequest) (store.Account, error) {
	if err := s.operatorOnly(actor, "topping up an account"); err != nil {
		return store.Account{}, err
	}
	return s.TopUp(ctx, r)
}

// IssueVoucherAs is IssueVoucher, for the operator only.
func (s *Service) IssueVoucherAs(ctx context.Context, actor tenant.Actor, r VoucherRequest) (store.Voucher, error) {
	if err := s.operatorOnly(actor, "issuing a voucher"); err != nil {
		return store.Voucher{}, err
	}
	return s.IssueVoucher(ctx, r)
}

// SuspendAccountAs is SuspendAccount (a content violation), for the operator only.
func (s *Service) SuspendAccountAs(ctx context.Context, actor tenant.Actor, account, reason string) (store.Account, error) {
	if err := s.operatorOnly(actor, "suspending an account"); err != nil {
		return store.Account{}, err
	}
	return s.SuspendAccount(ctx, account, reason)
}

// MaxAccountsPage bounds one page of AccountsPageAs.
const MaxAccountsPage = 200

// AccountsPageAs lists, for the operator only, at most limit (1 to
// MaxAccountsPage) accounts whose IDs sort after after ("" starts at the
// first), by ID, and whether more follow. A bad limit is errs.ErrInvalid.
func (s *Service) AccountsPageAs(ctx context.Context, actor tenant.Actor, after string, limit int) ([]store.Account, bool, error) {
	if err := s.operatorOnly(actor, "listing every account"); err != nil {
		return nil, false, err
	}
	if limit < 1 || limit > MaxAccountsPage {
		return nil, false, invalid("a page lists 1 to %d accounts, not %d", MaxAccountsPage, limit)
	}
	accs, err := s.Store.AccountsAfter(ctx, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(accs) > limit {
		return accs[:limit], true, nil
	}
	return accs, false, nil
}

// SetPromotionAs is SetPromotion (an add-on free to buy until freeUntil; zero
// ends the promotion), for the operator only.
func (s *Service) SetPromotionAs(ctx context.Context, actor tenant.Actor, addon string, freeUntil time.Time) (store.Promotion, error) {
	if err := s.operatorOnly(actor, "setting an add-on's promotion"); err != nil {
		return store.Promotion{}, err
	}
	return s.SetPromotion(ctx, addon, freeUntil)
}
