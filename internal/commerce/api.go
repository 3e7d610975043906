// Package commerce is the commercial layer of product spec section 5: balances
// (cash and credit), top-ups, vouchers, orders for editions and add-ons, upgrades,
// renewals, refunds and pay-as-you-go bills. Every change of money is one store
// transaction that also writes the order or bill, so a crash never leaves a charge
// without its record. Amounts are exact (package money).
package commerce

import (
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// Error kinds. Every error of this package wraps one of them, with a message that
// says what was refused and what to do instead; nothing is changed when an error
// is returned. Besides the errors below, errs.ErrInvalid: the request itself is
// malformed (months outside 1–24, an unknown edition or add-on, a missing
// agreement flag, a bad amount); errs.ErrNotFound: an unknown account, app,
// order or voucher.
var (
	// ErrRefused: a rule refuses the request (a downgrade, a return to Free
	// Trial, a deleted app, a suspended account, a non-refundable order, an
	// expired or foreign voucher, nothing to refund). A kind of errs.ErrConflict.
	ErrRefused = errs.Kind(errs.ErrConflict, "refused")
	// ErrInsufficientBalance: the balance cannot pay the order.
	ErrInsufficientBalance = errors.New("insufficient balance")
	// ErrRequestReused: a request id already used by a request with other
	// parameters (another operation, app, product, months, voucher, amount...).
	// It is a kind of ErrRefused; nothing is changed.
	ErrRequestReused = fmt.Errorf("%w: request id reused", ErrRefused)
)

// Voucher scopes: what a voucher may pay for.
const (
	ScopeAll      = "all"
	ScopeEditions = "editions"
	ScopeAddons   = "addons"
)

// Reasons for suspension (store.App.SuspendReason, store.Account.SuspendReason).
const (
	ReasonExpired   = "expired"
	ReasonRefund    = "refund"
	ReasonArrears   = "arrears"
	ReasonViolation = tenant.SuspendedForViolation
)

// MaxMonths is the longest order, in months (spec 5.1: 1 to 24).
const MaxMonths = 24

// BuyRequest buys an edition for an app on Free Trial, or for an app whose plan
// expired or was refunded.
type BuyRequest struct {
	SDKAppID          int64
	Edition           string // "standard" or "premium"
	Months            int    // 1–24
	AutoRenew         bool
	VoucherID         string
	AgreementAccepted bool        // the service agreement; required
	Discount          money.Cents // an operator discount (promotion), at most the list price
	NonRefundable     string      // the operator marks the order non-refundable, with this reason
	RequestID         string      // idempotency key: a repeated request returns the first order
}

// UpgradeRequest moves an app from Standard to Premium for the rest of its paid time.
type UpgradeRequest struct {
	SDKAppID  int64
	Edition   string // "premium"
	VoucherID string
	RequestID string
}

// RenewRequest renews one app or a batch of apps of one account by Months months.
// A batch is all or nothing.
type RenewRequest struct {
	SDKAppIDs []int64
	Months    int
	VoucherID string
	RequestID string
}

// AddonRequest buys an add-on for an app.
type AddonRequest struct {
	SDKAppID  int64
	Addon     string // catalog add-on id
	Quantity  int    // seats, bots or packs; 0 means the add-on's minimum
	Months    int
	VoucherID string
	RequestID string
}

// RefundRequest refunds the app's edition (Addon == "") or one of its add-ons.
type RefundRequest struct {
	SDKAppID  int64
	Addon     string
	Reason    string
	RequestID string
}

// Refund is the outcome of a refund.
type Refund struct {
	Order  store.Order // the refund record (Kind "refund")
	Amount money.Cents // returned in total: Cash + Credit
	Cash   money.Cents
	Credit money.Cents
	// The parts of the formula of spec 5.5, exact before the final rounding.
	Effective    money.Cents // the current period's part of what was paid
	NotEffective money.Cents // later periods and renewals bought in advance
	Used         money.Cents // days used in the current period × the monthly price
	App          store.App   // the app after the refund
}

// TopUpRequest adds cash and/or credit to an account.
type TopUpRequest struct {
	AccountID string
	Cash      money.Cents
	Credit    money.Cents
	RequestID string // idempotency key: a repeated top-up adds nothing more
}

// VoucherRequest issues a voucher to an account.
type VoucherRequest struct {
	AccountID string
	Amount    money.Cents
	ExpiresAt time.Time // the voucher is usable before this instant
	Scope     string    // ScopeAll (default), ScopeEditions or ScopeAddons
	RequestID string    // idempotency key: a repeated request returns the first voucher
}

// The fingerprints of requests: the operation and every parameter, stored with
// the request id so that the id replays only the very same request.

func (r BuyRequest) fingerprint() string {
	return fmt.Sprintf("buy app=%d edition=%s months=%d auto_renew=%t voucher=%s discount=%s agreement=%t non_refundable=%q",
		r.SDKAppID, r.Edition, r.Months, r.AutoRenew, r.VoucherID, r.Discount, r.AgreementAccepted, r.NonRefundable)
}

func (r TopUpRequest) fingerprint() string {
	return fmt.Sprintf("topup account=%s cash=%s credit=%s", r.AccountID, r.Cash, r.Credit)
}

// fingerprint expects the scope defaulted.
func (r VoucherRequest) fingerprint() string {
	return fmt.Sprintf("voucher account=%s amount=%s scope=%s expires=%s", r.AccountID, r.Amount, r.Scope, r.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

func (r UpgradeRequest) fingerprint() string {
	return fmt.Sprintf("upgrade app=%d edition=%s voucher=%s", r.SDKAppID, r.Edition, r.VoucherID)
}

func (r RenewRequest) fingerprint() string {
	return fmt.Sprintf("renew apps=%v months=%d voucher=%s", r.SDKAppIDs, r.Months, r.VoucherID)
}

// fingerprint expects the quantity defaulted (0 means the minimum).
func (r AddonRequest) fingerprint() string {
	return fmt.Sprintf("addon app=%d addon=%s quantity=%d months=%d voucher=%s", r.SDKAppID, r.Addon, r.Quantity, r.Months, r.VoucherID)
}

// fingerprint expects the reason trimmed.
func (r RefundRequest) fingerprint() string {
	kind := "refund"
	if r.Addon != "" {
		kind = "refund addon=" + r.Addon
	}
	return fmt.Sprintf("%s app=%d reason=%q", kind, r.SDKAppID, r.Reason)
}

// ParseThrough reads the end of a voucher's or a promotion's validity: a date
// "2027-01-31" (valid through that UTC day, so it ends at the next day's 00:00
// UTC) or an RFC 3339 time (it ends at that instant). The error names field
// and wraps errs.ErrInvalid.
func ParseThrough(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err == nil {
		t = t.AddDate(0, 0, 1)
	} else if t, err = time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
	}
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("%w: %s must be a date YYYY-MM-DD (valid through that UTC day) or an RFC 3339 time, not %.40q", errs.ErrInvalid, field, s)
	case t.Year() > 9999 || t.Year() < 1:
		// RFC 3339 has four-digit years: the answers must stay readable.
		return time.Time{}, fmt.Errorf("%w: %s must end in the years 0001 to 9999, not %.40q", errs.ErrInvalid, field, s)
	}
	return t, nil
}
