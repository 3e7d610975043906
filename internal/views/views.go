// Package views holds the JSON forms of the commercial records (orders,
// vouchers, bills) that both the operator API (internal/operator) and the
// customers' console API (internal/console) answer with: one shape, made in
// one place. Amounts are money.Cents (decimal dollar strings); times are
// RFC 3339 UTC, "" when unset.
package views

import (
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// Time formats t as RFC 3339 UTC; the zero time is "".
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Voucher is the JSON form of a voucher.
type Voucher struct {
	ID        string      `json:"id"`
	Account   string      `json:"account"`
	Amount    money.Cents `json:"amount"`
	Remaining money.Cents `json:"remaining"`
	Scope     string      `json:"scope"`
	ExpiresAt string      `json:"expires_at"` // the voucher is usable before this instant
	CreatedAt string      `json:"created_at"`
}

// VoucherOf is the JSON form of v.
func VoucherOf(v store.Voucher) Voucher {
	return Voucher{
		ID: v.ID, Account: v.AccountID, Amount: money.Cents(v.AmountCents), Remaining: money.Cents(v.RemainingCents),
		Scope: v.Scope, ExpiresAt: Time(v.ExpiresAt), CreatedAt: Time(v.CreatedAt),
	}
}

// Order is the JSON form of an order (a purchase or a refund).
type Order struct {
	ID                  string      `json:"id"`
	Account             string      `json:"account"`
	SDKAppID            int64       `json:"sdkappid"`
	Kind                string      `json:"kind"`
	Product             string      `json:"product"`
	Months              int         `json:"months"`
	Quantity            int         `json:"quantity"`
	ListPrice           money.Cents `json:"list_price"`
	Discount            money.Cents `json:"discount"`
	Voucher             money.Cents `json:"voucher"` // the part paid by VoucherID
	VoucherID           string      `json:"voucher_id"`
	Cash                money.Cents `json:"cash"`
	Credit              money.Cents `json:"credit"`
	CarriedCash         money.Cents `json:"carried_cash"`
	CarriedCredit       money.Cents `json:"carried_credit"`
	EffectiveFrom       string      `json:"effective_from"`
	EffectiveTo         string      `json:"effective_to"`
	AutoRenew           bool        `json:"auto_renew"`
	AgreementAccepted   bool        `json:"agreement_accepted"`
	Refundable          bool        `json:"refundable"`
	NonRefundableReason string      `json:"non_refundable_reason"`
	Status              string      `json:"status"`
	Refunds             []string    `json:"refunds"`
	Reason              string      `json:"reason"`
	CreatedAt           string      `json:"created_at"`
}

// OrderOf is the JSON form of o.
func OrderOf(o store.Order) Order {
	refunds := o.Refunds
	if refunds == nil {
		refunds = []string{}
	}
	return Order{
		ID: o.ID, Account: o.AccountID, SDKAppID: o.SDKAppID, Kind: o.Kind, Product: o.Product,
		Months: o.Months, Quantity: o.Quantity,
		ListPrice: money.Cents(o.ListCents), Discount: money.Cents(o.DiscountCents),
		Voucher: money.Cents(o.VoucherCents), VoucherID: o.VoucherID,
		Cash: money.Cents(o.CashCents), Credit: money.Cents(o.CreditCents),
		CarriedCash: money.Cents(o.CarriedCashCents), CarriedCredit: money.Cents(o.CarriedCreditCents),
		EffectiveFrom: Time(o.EffectiveFrom), EffectiveTo: Time(o.EffectiveTo),
		AutoRenew: o.AutoRenew, AgreementAccepted: o.AgreementAccepted,
		Refundable: commerce.Refundable(o), NonRefundableReason: o.NonRefundable,
		Status: o.Status, Refunds: refunds, Reason: o.Reason, CreatedAt: Time(o.CreatedAt),
	}
}

// Bill is the JSON form of a monthly pay-as-you-go bill.
type Bill struct {
	ID       string      `json:"id"`
	Account  string      `json:"account"`
	Month    string      `json:"month"`
	IssuedAt string      `json:"issued_at"`
	Total    money.Cents `json:"total"`
	Cash     money.Cents `json:"cash"`
	Credit   money.Cents `json:"credit"`
	Lines    []BillLine  `json:"lines"`
}

// BillLine is the charge for one metric of one product of one app.
type BillLine struct {
	SDKAppID  int64       `json:"sdkappid"`
	Product   string      `json:"product"`
	Metric    string      `json:"metric"`
	Usage     int64       `json:"usage"`
	Free      int64       `json:"free"`
	Billable  int64       `json:"billable"`
	UnitPrice string      `json:"unit_price"` // "<dollars per block> per <block size>": "0.015 per 1"
	Amount    money.Cents `json:"amount"`
}

// BillOf is the JSON form of b.
func BillOf(b store.Bill) Bill {
	lines := make([]BillLine, 0, len(b.Lines))
	for _, l := range b.Lines {
		lines = append(lines, BillLine{
			SDKAppID: l.SDKAppID, Product: l.Product, Metric: l.Metric, Usage: l.Usage, Free: l.Free,
			Billable: l.Billable, UnitPrice: fmt.Sprintf("%s per %d", money.Micro(l.BlockMicro), l.BlockSize),
			Amount: money.Cents(l.AmountCents),
		})
	}
	return Bill{
		ID: b.ID, Account: b.AccountID, Month: b.Month, IssuedAt: Time(b.IssuedAt),
		Total: money.Cents(b.TotalCents), Cash: money.Cents(b.CashCents), Credit: money.Cents(b.CreditCents),
		Lines: lines,
	}
}

// Callback is the JSON form of an app's callback settings; the token itself
// is never shown, only whether one is set.
type Callback struct {
	SDKAppID  int64    `json:"sdkappid"`
	URL       string   `json:"url"`
	TokenSet  bool     `json:"token_set"`
	Commands  []string `json:"commands"`
	UpdatedAt string   `json:"updated_at"`
}

// CallbackOf is the JSON form of app's callback settings c (commands: [] when none).
func CallbackOf(app int64, c store.CallbackConfig) Callback {
	cmds := c.Commands
	if cmds == nil {
		cmds = []string{}
	}
	return Callback{SDKAppID: app, URL: c.URL, TokenSet: c.Token != "", Commands: cmds, UpdatedAt: Time(c.UpdatedAt)}
}

// TopUpRequest is the body of an operator's top-up (amounts in dollars,
// "100.00"; nil is zero).
type TopUpRequest struct {
	Cash      *string `json:"cash"`
	Credit    *string `json:"credit"`
	RequestID string  `json:"request_id"`
}

// SuspendRequest is the body of an account's suspension for a violation.
type SuspendRequest struct {
	Reason string `json:"reason"`
}

// VoucherRequest is the body of a voucher's issue (amount in dollars;
// expires: commerce.ParseThrough).
type VoucherRequest struct {
	Account   string `json:"account"`
	Amount    string `json:"amount"`
	Expires   string `json:"expires"`
	Scope     string `json:"scope"`
	RequestID string `json:"request_id"`
}
