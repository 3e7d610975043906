package commerce

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// Service is the commerce domain service.
type Service struct {
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
	// OnAppChanged, when set, is called after a committed change of an app's
	// status, edition, plan or add-ons (AppTx), once per app; the server wires
	// it to the gateway and the bus (bus.InvApp). It must not block long.
	OnAppChanged func(app int64)
}

// Grace is how long an app keeps working after its plan or trial expired, and an
// overdue account after its bill, before the suspension (spec 5.2, 5.4).
const Grace = 24 * time.Hour

func newID(prefix string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b)
}

// errInvalidRequest keeps this package's wording for errs.ErrInvalid.
var errInvalidRequest = errs.Kind(errs.ErrInvalid, "invalid request")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errInvalidRequest, fmt.Sprintf(format, a...))
}

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

func notFound(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errs.ErrNotFound, fmt.Sprintf(format, a...))
}

// tx runs fn in one commerce transaction; the apps it changed are announced
// after the commit (OnAppChanged).
func (s *Service) tx(ctx context.Context, fn func(tx store.CommerceTx) error) error {
	return AppTx(ctx, s.Store, s.OnAppChanged, fn)
}

// lockAccount locks an account, mapping a missing one to errs.ErrNotFound.
func lockAccount(ctx context.Context, tx store.CommerceTx, id string) (store.Account, error) {
	a, err := tx.LockAccount(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return a, notFound("account %q does not exist", id)
	}
	return a, err
}

// lockAppOf locks the account owning sdkappid, then the app (always in this
// order, so that transactions never wait on each other in a cycle).
// Everything goes through tx: inside a transaction nothing uses the Store.
func lockAppOf(ctx context.Context, tx store.CommerceTx, sdkappid int64) (store.Account, store.App, error) {
	app, err := tx.GetApp(ctx, sdkappid)
	if errors.Is(err, errs.ErrNotFound) {
		return store.Account{}, store.App{}, notFound("app %d does not exist", sdkappid)
	}
	if err != nil {
		return store.Account{}, store.App{}, err
	}
	acc, err := lockAccount(ctx, tx, app.AccountID)
	if err != nil {
		return acc, app, err
	}
	app, err = tx.LockApp(ctx, sdkappid)
	if err != nil {
		return acc, app, err
	}
	return acc, app, nil
}

// mayOrder refuses orders of a suspended or overdue account and for a deleted app.
func mayOrder(acc store.Account, app *store.App) error {
	switch {
	case acc.Status == store.StatusSuspended && acc.SuspendReason == ReasonViolation:
		return refused("account %s is suspended for a content violation; orders are refused", acc.ID)
	case acc.Status == store.StatusSuspended:
		return refused("account %s is suspended for arrears (balance %s USD): top up to zero or more first", acc.ID, money.Cents(acc.CashCents+acc.CreditCents))
	case acc.CashCents+acc.CreditCents < 0:
		return refused("account %s is overdue (balance %s USD): top up to zero or more first", acc.ID, money.Cents(acc.CashCents+acc.CreditCents))
	}
	if app != nil && app.Status == store.StatusDeleted {
		return refused("app %d is deleted; orders for it are refused", app.SDKAppID)
	}
	return nil
}

// payment is how an order is paid.
type payment struct {
	voucher      store.Voucher // zero when none
	voucherCents int64
	cash, credit int64
}

// applyVoucher uses voucher id (if any) for up to due cents of a product of kind
// scope ("editions" or "addons"). It changes v's remainder only in memory. In a
// batch (p carried from order to order), a voucher that an earlier order of
// the batch used up pays nothing more, and the balance pays the rest: only a
// voucher used up before the batch is refused.
func applyVoucher(ctx context.Context, tx store.CommerceTx, acc store.Account, id, scope string, due int64, now time.Time, p *payment) error {
	p.voucherCents = 0
	if id == "" || due <= 0 {
		return nil
	}
	v := p.voucher
	if v.ID == id && v.RemainingCents <= 0 {
		return nil
	}
	if v.ID != id {
		var err error
		v, err = tx.GetVoucher(ctx, id)
		if errors.Is(err, errs.ErrNotFound) {
			return notFound("voucher %q does not exist", id)
		}
		if err != nil {
			return err
		}
	}
	if v.AccountID != acc.ID {
		return refused("voucher %s belongs to another account", id)
	}
	if err := voucherRefusal(v, scope, now); err != nil {
		return err
	}
	use := min(v.RemainingCents, due)
	v.RemainingCents -= use
	p.voucher = v
	p.voucherCents = use
	return nil
}

// VoucherUsable reports whether v can pay for something of scope
// (ScopeEditions, ScopeAddons) at now: not expired, of that scope or
// ScopeAll, not used up. The pages offer only usable vouchers.
func VoucherUsable(v store.Voucher, scope string, now time.Time) bool {
	return voucherRefusal(v, scope, now) == nil
}

func voucherRefusal(v store.Voucher, scope string, now time.Time) error {
	switch {
	case !now.Before(v.ExpiresAt):
		return refused("voucher %s expired on %s", v.ID, v.ExpiresAt.Format(time.RFC3339))
	case v.Scope != ScopeAll && v.Scope != scope:
		return refused("voucher %s pays only for %s", v.ID, v.Scope)
	case v.RemainingCents <= 0:
		return refused("voucher %s is used up", v.ID)
	}
	return nil
}

// payFromBalance takes due cents from the balance: credit first (operator grants
// are spent before the customer's own cash), then cash. It refuses, changing
// nothing, when the balance cannot pay.
func payFromBalance(acc *store.Account, due int64) (cash, credit int64, err error) {
	if due <= 0 {
		return 0, 0, nil
	}
	availCredit, availCash := max(acc.CreditCents, 0), max(acc.CashCents, 0)
	avail, err := money.Add(money.Cents(availCredit), money.Cents(availCash))
	if err != nil {
		return 0, 0, invalid("the balance of account %s is out of range: %v", acc.ID, err)
	}
	if int64(avail) < due {
		return 0, 0, fmt.Errorf("%w: the order costs %s USD and the balance of account %s is %s USD (cash %s, credit %s); top up first",
			ErrInsufficientBalance, money.Cents(due), acc.ID, money.Cents(acc.CashCents+acc.CreditCents),
			money.Cents(acc.CashCents), money.Cents(acc.CreditCents))
	}
	credit = min(due, availCredit)
	cash = due - credit
	acc.CreditCents -= credit
	acc.CashCents -= cash
	return cash, credit, nil
}

// record writes a paid order with its ledger entry and the voucher's remainder.
// The caller writes the account afterwards.
func record(ctx context.Context, tx store.CommerceTx, o store.Order, p payment) error {
	if err := tx.InsertOrder(ctx, o); err != nil {
		if errors.Is(err, errs.ErrExists) {
			// An order older than the request fingerprints holds the id.
			return fmt.Errorf("%w: request id %q was already used for another order", ErrRequestReused, o.RequestID)
		}
		return err
	}
	if p.voucher.ID != "" && p.voucherCents > 0 {
		if err := tx.SetVoucherRemaining(ctx, p.voucher.ID, p.voucher.RemainingCents); err != nil {
			return err
		}
	}
	if o.CashCents != 0 || o.CreditCents != 0 {
		sign := int64(-1)
		kind := "order"
		if o.Kind == store.OrderRefund {
			sign, kind = 1, "refund"
		}
		return tx.InsertLedger(ctx, store.LedgerEntry{
			ID: newID("led_"), AccountID: o.AccountID, Kind: kind,
			CashCents: sign * o.CashCents, CreditCents: sign * o.CreditCents, Ref: o.ID, At: o.CreatedAt,
		})
	}
	return nil
}

// placeOrder runs fn for an order on app sdkappid in one transaction: it locks the
// account and the app, ties the request id to the request's fingerprint fp
// (answering the same request again with the order it created, refusing another
// one with ErrRequestReused), and refuses orders of a suspended or overdue
// account and for a deleted app before fn runs. fn pays, records the order and
// writes what it changed.
func (s *Service) placeOrder(ctx context.Context, sdkappid int64, requestID, fp string,
	fn func(tx store.CommerceTx, acc *store.Account, app *store.App) (store.Order, error)) (store.Order, error) {
	return s.placeOrderMode(ctx, sdkappid, requestID, fp, nil, fn)
}

// errPreview rolls back the transaction of a preview.
var errPreview = errors.New("preview: rolled back")

// placeOrderMode is placeOrder; with preview set, it runs the very same fn
// on a balance raised in memory (so that a short balance does not hide the
// price), reports the order fn built and how the real balance would pay it
// into *preview, and rolls everything back: nothing is charged or recorded,
// and the request id is not claimed.
func (s *Service) placeOrderMode(ctx context.Context, sdkappid int64, requestID, fp string, preview *Preview,
	fn func(tx store.CommerceTx, acc *store.Account, app *store.App) (store.Order, error)) (store.Order, error) {
	if err := checkRequestID(requestID); err != nil {
		return store.Order{}, err
	}
	now := s.Clock.Now()
	var order store.Order
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		acc, app, err := lockAppOf(ctx, tx, sdkappid)
		if err != nil {
			return err
		}
		if preview == nil {
			if fresh, err := claimRequest(ctx, tx, acc.ID, requestID, fp, now); err != nil || !fresh {
				if err == nil {
					order, err = orderOf(ctx, tx, acc.ID, requestID)
				}
				return err
			}
		}
		if err := mayOrder(acc, &app); err != nil {
			return err
		}
		balance := acc // as it is, before a preview raises it
		if preview != nil {
			acc.CreditCents = max(acc.CreditCents, 0) + int64(money.MaxBalance) + int64(money.MaxAmount)
		}
		order, err = fn(tx, &acc, &app)
		if err != nil || preview == nil {
			return err
		}
		*preview = previewOf(order, balance)
		return errPreview
	})
	if preview != nil && errors.Is(err, errPreview) {
		return preview.Order, nil
	}
	if err != nil {
		return store.Order{}, err
	}
	return order, nil
}

// Preview is the outcome of an order priced without being placed: the order
// as it would be recorded (its price, voucher part and validity period, with
// Cash and Credit as the balance would pay them), the balance, and whether
// the balance suffices.
type Preview struct {
	Order       store.Order
	Due         money.Cents // to be paid from the balance (after discount and voucher)
	Balance     store.Account
	Sufficient  bool
	BalanceNote string // why the balance does not suffice; "" when it does
}

// previewOf prices order o against the real balance of acc, as payFromBalance
// would take it.
func previewOf(o store.Order, acc store.Account) Preview {
	due := o.CashCents + o.CreditCents
	p := Preview{Order: o, Due: money.Cents(due), Balance: acc}
	cash, credit, err := payFromBalance(&acc, due)
	if err != nil {
		p.Order.CashCents, p.Order.CreditCents = 0, 0
		p.BalanceNote = err.Error()
		return p
	}
	p.Order.CashCents, p.Order.CreditCents, p.Sufficient = cash, credit, true
	return p
}

// claimRequest ties the account's request id to fp, the fingerprint of the
// request (its operation and every parameter). It reports whether this is the
// id's first use; a use by a request with another fingerprint is
// ErrRequestReused. A request without an id is always fresh.
func claimRequest(ctx context.Context, tx store.CommerceTx, accountID, requestID, fp string, now time.Time) (bool, error) {
	if requestID == "" {
		return true, nil
	}
	first, fresh, err := tx.ClaimRequest(ctx, accountID, requestID, fp, now)
	if err != nil || fresh {
		return fresh, err
	}
	if first != fp {
		return false, fmt.Errorf("%w: request id %q was used for [%s]; this request is [%s]: use a new request id",
			ErrRequestReused, requestID, first, fp)
	}
	return false, nil
}

// orderOf returns the order an earlier request with the same id created.
func orderOf(ctx context.Context, tx store.CommerceTx, accountID, requestID string) (store.Order, error) {
	o, err := tx.OrderByRequest(ctx, accountID, requestID)
	if errors.Is(err, errs.ErrNotFound) {
		return o, fmt.Errorf("%w: request id %q was used by a request that created no order", ErrRequestReused, requestID)
	}
	return o, err
}

// checkRequestID checks an optional request id: at most 128 bytes of printable
// text (input.Identifier).
func checkRequestID(id string) error {
	if id != "" && input.Identifier(id, 128) != nil {
		return invalid("request id must be at most 128 bytes of printable text, without spaces at either end")
	}
	return nil
}

// Account returns an account with its balance.
func (s *Service) Account(ctx context.Context, id string) (store.Account, error) {
	a, err := s.Store.GetAccount(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return a, notFound("account %q does not exist", id)
	}
	return a, err
}

// TopUp adds cash and/or credit. A top-up that brings an overdue account's balance
// to zero or more ends the arrears and resumes the apps they suspended.
func (s *Service) TopUp(ctx context.Context, r TopUpRequest) (store.Account, error) {
	if r.Cash < 0 || r.Credit < 0 || (r.Cash == 0 && r.Credit == 0) || r.Cash > money.MaxAmount || r.Credit > money.MaxAmount {
		return store.Account{}, invalid("a top-up needs a positive cash and/or credit amount, each at most %s USD", money.MaxAmount)
	}
	if err := checkRequestID(r.RequestID); err != nil {
		return store.Account{}, err
	}
	now := s.Clock.Now()
	var acc store.Account
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		var err error
		if acc, err = lockAccount(ctx, tx, r.AccountID); err != nil {
			return err
		}
		if fresh, err := claimRequest(ctx, tx, acc.ID, r.RequestID, r.fingerprint(), now); err != nil || !fresh {
			return err // a repetition adds nothing more
		}
		if r.RequestID != "" {
			// Top-ups recorded before request fingerprints claimed their id here.
			first, err := tx.ClaimJob(ctx, "topup:"+acc.ID+":"+r.RequestID, now)
			if err != nil || !first {
				return err
			}
		}
		if err := addToBalance(&acc, r.Cash, r.Credit, true); err != nil {
			return err
		}
		if err := tx.InsertLedger(ctx, store.LedgerEntry{ID: newID("led_"), AccountID: acc.ID, Kind: "topup",
			CashCents: int64(r.Cash), CreditCents: int64(r.Credit), At: now}); err != nil {
			return err
		}
		return settle(ctx, tx, &acc, now)
	})
	return acc, err
}

// addToBalance adds cash and credit to a locked account's balance (in memory). A sum
// that does not fit is errs.ErrInvalid; with capped, a part above money.MaxBalance is
// refused. Nothing changes on an error.
func addToBalance(acc *store.Account, cash, credit money.Cents, capped bool) error {
	newCash, err := money.Add(money.Cents(acc.CashCents), cash)
	if err != nil {
		return invalid("the balance of account %s cannot take %s USD more cash: %v", acc.ID, cash, err)
	}
	newCredit, err := money.Add(money.Cents(acc.CreditCents), credit)
	if err != nil {
		return invalid("the balance of account %s cannot take %s USD more credit: %v", acc.ID, credit, err)
	}
	if capped && (newCash > money.MaxBalance || newCredit > money.MaxBalance) {
		return refused("account %s would hold cash %s and credit %s USD: each is capped at %s USD",
			acc.ID, newCash, newCredit, money.MaxBalance)
	}
	acc.CashCents, acc.CreditCents = int64(newCash), int64(newCredit)
	return nil
}

// settle ends the arrears of an account whose balance is zero or more again: it
// clears OverdueSince and lifts a suspension for arrears (never one for a
// violation), resuming the apps the arrears suspended. It writes the account.
func settle(ctx context.Context, tx store.CommerceTx, acc *store.Account, now time.Time) error {
	if acc.CashCents+acc.CreditCents >= 0 {
		acc.OverdueSince = time.Time{}
		if acc.Status == store.StatusSuspended && acc.SuspendReason == ReasonArrears {
			acc.Status, acc.SuspendReason, acc.SuspendedAt = store.StatusActive, "", time.Time{}
			apps, err := tx.AccountApps(ctx, acc.ID)
			if err != nil {
				return err
			}
			for _, app := range apps {
				if app.Status != store.StatusSuspended || app.SuspendReason != ReasonArrears {
					continue
				}
				if !now.Before(app.ExpiresAt.Add(Grace)) {
					// Its plan expired meanwhile: it stays suspended, now for that,
					// and its 90 days still count from the first suspension.
					app.SuspendReason = ReasonExpired
				} else {
					resumeApp(&app)
				}
				if err := tx.UpdateApp(ctx, app); err != nil {
					return err
				}
			}
		}
	}
	return tx.UpdateAccount(ctx, *acc)
}

// SuspendAccount suspends an account and all its apps for a content violation.
// The suspension is permanent: payments never lift it.
func (s *Service) SuspendAccount(ctx context.Context, accountID, reason string) (store.Account, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return store.Account{}, invalid("a suspension for a violation needs a reason (at most 500 characters)")
	}
	now := s.Clock.Now()
	var acc store.Account
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		var err error
		if acc, err = lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if acc.SuspendReason == ReasonViolation {
			return refused("account %s is already suspended for a violation", acc.ID)
		}
		return suspendAccount(ctx, tx, &acc, ReasonViolation, now)
	})
	if err == nil && s.Log != nil {
		s.Log.Warn("account suspended for a violation", "account", accountID, "reason", reason)
	}
	return acc, err
}

// SuspendForArrears suspends an overdue account and every active app of it (spec
// 5.2). The caller holds the account lock.
func SuspendForArrears(ctx context.Context, tx store.CommerceTx, acc *store.Account, now time.Time) error {
	return suspendAccount(ctx, tx, acc, ReasonArrears, now)
}

// suspendAccount suspends a locked account for reason and stops its active apps.
// An app suspended already keeps its SuspendedAt (its 90 days already run); a
// violation, which no payment lifts, also takes over its reason.
func suspendAccount(ctx context.Context, tx store.CommerceTx, acc *store.Account, reason string, now time.Time) error {
	acc.Status, acc.SuspendReason, acc.SuspendedAt = store.StatusSuspended, reason, now
	if err := tx.UpdateAccount(ctx, *acc); err != nil {
		return err
	}
	apps, err := tx.AccountApps(ctx, acc.ID)
	if err != nil {
		return err
	}
	for _, app := range apps {
		switch {
		case app.Status == store.StatusActive:
			SuspendApp(&app, reason, now)
		case reason == ReasonViolation:
			app.SuspendReason = ReasonViolation
		default:
			continue
		}
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
	}
	return nil
}

// SuspendApp stops an active app for reason from now on (the caller writes it).
// An app suspended already is left as it is.
func SuspendApp(app *store.App, reason string, now time.Time) {
	if app.Status == store.StatusActive {
		app.Status, app.SuspendReason, app.SuspendedAt = store.StatusSuspended, reason, now
	}
}

// resumeApp lets a suspended app work again (the caller writes it).
func resumeApp(app *store.App) {
	app.Status, app.SuspendReason, app.SuspendedAt = store.StatusActive, "", time.Time{}
}

// IssueVoucher gives an account a voucher.
func (s *Service) IssueVoucher(ctx context.Context, r VoucherRequest) (store.Voucher, error) {
	now := s.Clock.Now()
	if r.Scope == "" {
		r.Scope = ScopeAll
	}
	switch {
	case r.Amount <= 0 || r.Amount > money.MaxAmount:
		return store.Voucher{}, invalid("a voucher needs a positive amount of at most %s USD", money.MaxAmount)
	case r.Scope != ScopeAll && r.Scope != ScopeEditions && r.Scope != ScopeAddons:
		return store.Voucher{}, invalid("voucher scope must be all, editions or addons, not %q", r.Scope)
	case !r.ExpiresAt.After(now):
		return store.Voucher{}, invalid("the voucher would expire at %s, which is not in the future (a date means usable through that UTC day)", r.ExpiresAt.Format(time.RFC3339))
	}
	if err := checkRequestID(r.RequestID); err != nil {
		return store.Voucher{}, err
	}
	v := store.Voucher{ID: newID("vch_"), AccountID: r.AccountID, AmountCents: int64(r.Amount), RemainingCents: int64(r.Amount),
		Scope: r.Scope, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: now}
	if r.RequestID != "" {
		v.ID = voucherID(r.AccountID, r.RequestID) // found again by a repeated request
	}
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		if _, err := lockAccount(ctx, tx, r.AccountID); err != nil {
			return err
		}
		if fresh, err := claimRequest(ctx, tx, r.AccountID, r.RequestID, r.fingerprint(), now); err != nil || !fresh {
			if err == nil {
				v, err = tx.GetVoucher(ctx, v.ID)
			}
			return err
		}
		return tx.InsertVoucher(ctx, v)
	})
	return v, err
}

// voucherID derives the id of the voucher issued by an account's request id.
func voucherID(accountID, requestID string) string {
	h := sha256.Sum256([]byte(accountID + "\x00" + requestID))
	return "vch_" + hex.EncodeToString(h[:8])
}

// Vouchers lists an account's vouchers.
func (s *Service) Vouchers(ctx context.Context, accountID string) ([]store.Voucher, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	return s.Store.ListVouchers(ctx, accountID)
}

// Orders lists an account's orders, oldest first.
func (s *Service) Orders(ctx context.Context, accountID string) ([]store.Order, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	return s.Store.ListOrders(ctx, accountID)
}

// Bills lists an account's monthly bills.
func (s *Service) Bills(ctx context.Context, accountID string) ([]store.Bill, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	return s.Store.ListBills(ctx, accountID)
}

// Notifications lists what was sent to an account's creator.
func (s *Service) Notifications(ctx context.Context, accountID string) ([]store.Notification, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	return s.Store.ListNotifications(ctx, accountID)
}

// SetNonRefundable lets the operator refuse refunds of an order (a promotion, or
// a refund it deems abusive), with a reason; an empty reason allows them again.
func (s *Service) SetNonRefundable(ctx context.Context, orderID, reason string) (store.Order, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 {
		return store.Order{}, invalid("the reason is longer than 500 characters")
	}
	var o store.Order
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		var err error
		o, err = tx.GetOrder(ctx, orderID)
		if errors.Is(err, errs.ErrNotFound) {
			return notFound("order %q does not exist", orderID)
		}
		if err != nil {
			return err
		}
		if _, err := lockAccount(ctx, tx, o.AccountID); err != nil {
			return err
		}
		if o.Kind == store.OrderRefund {
			return invalid("order %s is a refund", orderID)
		}
		o.NonRefundable = reason
		return tx.SetOrderNonRefundable(ctx, orderID, reason)
	})
	return o, err
}

// Refundable reports whether a customer may refund the order: an edition or a
// plugin order (spec 5.5), still paid, and not marked non-refundable by the
// operator. Whether a refund would return anything depends on the time.
func Refundable(o store.Order) bool {
	if o.NonRefundable != "" || o.Status != store.OrderPaid {
		return false
	}
	switch o.Kind {
	case store.OrderBuy, store.OrderRenew, store.OrderUpgrade:
		return true
	case store.OrderAddon:
		a, err := catalog.LookupAddon(strings.TrimPrefix(o.Product, "addon:"))
		return err == nil && a.Refundable
	}
	return false
}

// SetAutoRenew turns auto-renewal of an app's plan on or off.
func (s *Service) SetAutoRenew(ctx context.Context, sdkappid int64, on bool) (store.App, error) {
	var app store.App
	err := s.tx(ctx, func(tx store.CommerceTx) error {
		var err error
		var acc store.Account
		if acc, app, err = lockAppOf(ctx, tx, sdkappid); err != nil {
			return err
		}
		if app.Status == store.StatusDeleted {
			return refused("app %d is deleted", sdkappid)
		}
		if on && acc.SuspendReason == ReasonViolation {
			return refused("account %s is suspended for a content violation", acc.ID)
		}
		if app.Edition == catalog.Trial {
			return refused("app %d is on Free Trial, which does not renew: buy Standard or Premium", sdkappid)
		}
		app.AutoRenew = on
		return tx.UpdateApp(ctx, app)
	})
	return app, err
}
