package store

import (
	"context"
	"time"
)

// Order kinds.
const (
	OrderBuy     = "buy"     // an edition bought for an app (from Free Trial, or after expiry or refund)
	OrderRenew   = "renew"   // more months of the app's edition, from the end of the plan in force
	OrderUpgrade = "upgrade" // Standard → Premium for the rest of the paid time
	OrderAddon   = "addon"   // an add-on for an app
	OrderRefund  = "refund"  // money returned for the orders listed in Refunds
)

// Order statuses. An order's amounts never change; only its status moves from
// "paid" to "refunded" or "upgraded" (its rest was carried into an upgrade).
const (
	OrderPaid     = "paid"
	OrderRefunded = "refunded"
	OrderUpgraded = "upgraded"
)

// Order is one immutable purchase (or refund) record. Amounts are US cents.
type Order struct {
	ID        string
	AccountID string
	SDKAppID  int64
	RequestID string // the client's idempotency key; unique per account when not empty
	Kind      string
	Product   string // "standard", "premium" or "addon:<id>"
	Months    int
	Quantity  int

	ListCents     int64 // the list price of what was bought
	DiscountCents int64 // an operator discount (promotion)
	VoucherCents  int64 // paid by VoucherID
	VoucherID     string
	CashCents     int64 // paid from (or, for a refund, returned to) cash
	CreditCents   int64 // paid from (or returned to) credit
	// CarriedCashCents and CarriedCreditCents are, for an upgrade, the unused
	// value of the replaced Standard orders, moved into this order (part of what
	// a later refund can return, in its cash/credit proportion).
	CarriedCashCents   int64
	CarriedCreditCents int64

	EffectiveFrom time.Time
	EffectiveTo   time.Time
	Anchor        time.Time // the plan anchor the periods of this order follow

	AutoRenew         bool
	AgreementAccepted bool
	NonRefundable     string // the operator's reason when refunds are refused; "" when refundable
	Status            string
	Refunds           []string // OrderRefund: the ids of the refunded orders
	Reason            string   // OrderRefund: the customer's reason
	CreatedAt         time.Time
}

// Voucher pays part of orders. It is never returned: a refund gives back only
// cash and credit.
type Voucher struct {
	ID             string
	AccountID      string
	AmountCents    int64
	RemainingCents int64
	Scope          string // "all", "editions" or "addons"
	ExpiresAt      time.Time
	CreatedAt      time.Time
}

// LedgerEntry is one movement of an account's balance.
type LedgerEntry struct {
	ID          string
	AccountID   string
	Kind        string // "topup", "order", "refund", "bill"
	CashCents   int64  // signed: + in, − out
	CreditCents int64
	Ref         string // the order or bill id
	At          time.Time
}

// Bill is one account's pay-as-you-go bill for a calendar month.
type Bill struct {
	ID          string
	AccountID   string
	Month       string // "2006-01"
	IssuedAt    time.Time
	TotalCents  int64
	CashCents   int64 // taken from cash (may drive cash below zero)
	CreditCents int64 // taken from credit
	Lines       []BillLine
}

// BillLine is the charge for one metric of one product of one app.
type BillLine struct {
	SDKAppID    int64  `json:"sdkappid"`
	Product     string `json:"product"` // "standard", "premium" or "addon:<id>"
	Metric      string `json:"metric"`
	Usage       int64  `json:"usage"`
	Free        int64  `json:"free"`
	Billable    int64  `json:"billable"`
	BlockSize   int64  `json:"block_size"`
	BlockMicro  int64  `json:"block_price_micro"`
	AmountCents int64  `json:"amount_cents"`
}

// Notification is one message to an account's creator (a reminder or a notice).
type Notification struct {
	ID        string
	AccountID string
	SDKAppID  int64  // 0 when about the account
	Key       string // unique: the same notice is never recorded twice
	Kind      string
	Channel   string // "email", "sms"
	Recipient string
	Subject   string
	Body      string
	DueAt     time.Time // the moment the rule fired
	Status    string    // "pending", "sending", "sent", "failed" or "recorded" (no sender)
	Error     string
	SentAt    time.Time // when it was sent, or when the current attempt began ("sending")
	Attempts  int       // delivery attempts so far
}

// Usage is a metered quantity of one app, metric and UTC day ("2006-01-02").
type Usage struct {
	SDKAppID int64
	Metric   string
	Day      string
	Quantity int64
}

// Promotion makes an add-on free to buy until FreeUntil: the operator's way of
// marking, say, the AI Chatbot message pack free for a limited time.
type Promotion struct {
	Addon     string
	FreeUntil time.Time
	SetAt     time.Time
}

// Commerce stores balances, orders, vouchers, bills, notifications and usage.
// Every change of money happens inside CommerceTx, so an order and its balance
// change commit together or not at all.
type Commerce interface {
	// InCommerceTx runs fn in one write transaction and commits it when fn returns
	// nil. Rows read through LockAccount and LockApp stay locked until the end,
	// so concurrent transactions of one account serialise (on every node).
	InCommerceTx(ctx context.Context, fn func(tx CommerceTx) error) error

	ListOrders(ctx context.Context, accountID string) ([]Order, error) // oldest first; in one instant refunds last, then by EffectiveFrom
	ListVouchers(ctx context.Context, accountID string) ([]Voucher, error)
	ListLedger(ctx context.Context, accountID string) ([]LedgerEntry, error)
	ListBills(ctx context.Context, accountID string) ([]Bill, error) // by month
	// Promotions lists the add-on promotions, by add-on id.
	Promotions(ctx context.Context) ([]Promotion, error)
	// LastBillMonths returns, per account that has bills, its latest billed month:
	// of the given accounts, or of all when accountIDs is nil.
	LastBillMonths(ctx context.Context, accountIDs []string) (map[string]string, error)
	ListNotifications(ctx context.Context, accountID string) ([]Notification, error) // by DueAt, then Key
	// AllAccounts lists every account, by ID.
	AllAccounts(ctx context.Context) ([]Account, error)
	// AccountsAfter lists at most limit accounts whose IDs sort after after
	// ("" starts at the first), by ID: one page of AllAccounts.
	AccountsAfter(ctx context.Context, after string, limit int) ([]Account, error)
	// AddUsage adds quantity to the app's metric of day.
	AddUsage(ctx context.Context, u Usage) error
	// SetNotificationStatus records the delivery of a notification.
	SetNotificationStatus(ctx context.Context, id, status, errMsg string, sentAt time.Time) error
	// ClaimNotification starts a delivery attempt at `at`: it marks a pending or
	// failed notification with fewer than maxAttempts attempts (or one "sending"
	// since before staleBefore: its node died mid-attempt) "sending" and counts the
	// attempt. False when another node holds it or it is not deliverable, so that
	// one notice is never sent by two nodes at once.
	ClaimNotification(ctx context.Context, id string, at, staleBefore time.Time, maxAttempts int) (bool, error)
	// UndeliveredNotifications lists, oldest first, at most limit notifications that
	// ClaimNotification would claim.
	UndeliveredNotifications(ctx context.Context, staleBefore time.Time, maxAttempts, limit int) ([]Notification, error)
}

// CommerceTx is the view of the store inside a commerce transaction. Code
// running inside one uses only these methods, never the Store: a call to the
// Store would wait for a second pool connection while holding one, and with
// the pool exhausted by such transactions it waits forever.
type CommerceTx interface {
	// LockAccount reads and locks the account (errs.ErrNotFound when missing).
	LockAccount(ctx context.Context, id string) (Account, error)
	// UpdateAccount writes the balance, status and overdue fields of a locked account.
	UpdateAccount(ctx context.Context, a Account) error
	// GetApp reads an app, including a deleted one, without locking it (to find
	// the account to lock first; errs.ErrNotFound when missing).
	GetApp(ctx context.Context, sdkappid int64) (App, error)
	// LockApp reads and locks an app, including a deleted one.
	LockApp(ctx context.Context, sdkappid int64) (App, error)
	// UpdateApp writes the edition, status, expiry, plan and suspension fields.
	UpdateApp(ctx context.Context, a App) error
	// AccountApps lists the account's apps that are not deleted, by SDKAppID.
	AccountApps(ctx context.Context, accountID string) ([]App, error)
	// DeleteAppData deletes the app's data (as Tenants.DeleteApp) and marks it deleted.
	DeleteAppData(ctx context.Context, sdkappid int64, at time.Time) error

	// InsertOrder stores a new order; errs.ErrExists when the account already has an
	// order with the same non-empty RequestID.
	InsertOrder(ctx context.Context, o Order) error
	// OrderByRequest finds the account's order with the request id (errs.ErrNotFound).
	OrderByRequest(ctx context.Context, accountID, requestID string) (Order, error)
	GetOrder(ctx context.Context, id string) (Order, error)
	// AppOrders lists the app's orders, oldest first.
	AppOrders(ctx context.Context, sdkappid int64) ([]Order, error)
	// SetOrderStatus changes an order's status.
	SetOrderStatus(ctx context.Context, id, status string) error
	// SetOrderNonRefundable records the operator's reason to refuse refunds ("" allows them again).
	SetOrderNonRefundable(ctx context.Context, id, reason string) error

	InsertVoucher(ctx context.Context, v Voucher) error
	GetVoucher(ctx context.Context, id string) (Voucher, error)
	// SetVoucherRemaining records what is left of a voucher.
	SetVoucherRemaining(ctx context.Context, id string, remaining int64) error

	InsertLedger(ctx context.Context, e LedgerEntry) error
	// InsertBill stores a bill; errs.ErrExists when the account has one for that month.
	InsertBill(ctx context.Context, b Bill) error
	// LastBillMonth returns the latest billed month of the account ("" when none).
	LastBillMonth(ctx context.Context, accountID string) (string, error)
	// InsertNotification stores a pending notification; errs.ErrExists on a known Key.
	InsertNotification(ctx context.Context, n Notification) error
	// ClaimJob records that the job with key ran at `at`. It returns false when the
	// key was already claimed (by this node or another): the caller skips the job.
	ClaimJob(ctx context.Context, key string, at time.Time) (bool, error)

	// ClaimRequest ties the account's request id (an idempotency key) to the
	// fingerprint of the request using it. On the first use it stores them and
	// returns (fingerprint, true); later it returns the fingerprint stored first
	// and false. The claim commits or rolls back with the transaction.
	ClaimRequest(ctx context.Context, accountID, requestID, fingerprint string, at time.Time) (first string, fresh bool, err error)

	// SetPromotion stores the add-on's promotion (replacing one); a zero
	// FreeUntil removes it.
	SetPromotion(ctx context.Context, p Promotion) error
	// PromotionOf returns the add-on's promotion (errs.ErrNotFound when none).
	PromotionOf(ctx context.Context, addon string) (Promotion, error)

	// MonthUsage sums the app's metric over the days of month ("2006-01"), per day.
	MonthUsage(ctx context.Context, sdkappid int64, metric, month string) (map[string]int64, error)
	// CountMonthly is MAU.CountMonthly inside the transaction.
	CountMonthly(ctx context.Context, sdkappid int64, month string) (int, error)
}
