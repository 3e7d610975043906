package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// InCommerceTx implements store.Commerce. fn's error is returned as is.
func (s *Store) InCommerceTx(ctx context.Context, fn func(tx store.CommerceTx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("commerce tx", err)
	}
	// A no-op after Commit; if fn panics it still frees the write connection
	// (on SQLite the only one).
	defer tx.Rollback()
	if err := fn(&commerceTx{d: s.d, tx: tx}); err != nil {
		return err
	}
	evs, written := store.CallbacksOf(ctx) // as inTx
	if err := insertCallbacks(ctx, s.d, tx, evs); err != nil {
		return wrap("commerce tx", err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("commerce tx", err)
	}
	written()
	return nil
}

// commerceTx implements store.CommerceTx over one write transaction. It holds
// no pool on purpose: everything inside the transaction goes through its one
// connection, so a transaction never waits for a second connection while it
// holds one (with a full pool that wait never ends).
type commerceTx struct {
	d  Dialect
	tx *sql.Tx
}

var _ store.CommerceTx = (*commerceTx)(nil)

func (c *commerceTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.tx.ExecContext(ctx, c.d.rebind(query), args...)
}

func (c *commerceTx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.tx.QueryRowContext(ctx, c.d.rebind(query), args...)
}

// oneRow turns an UPDATE that matched no row into ErrNotFound.
func oneRow(op string, res sql.Result, err error) error {
	return affected(op, res, err, errs.ErrNotFound)
}

// inserted turns an INSERT ... ON CONFLICT DO NOTHING that inserted nothing into
// ErrExists. Conflicts are skipped rather than raised because a constraint
// error would abort the whole transaction on PostgreSQL.
func inserted(op string, res sql.Result, err error) error {
	return affected(op, res, err, errs.ErrExists)
}

// affected wraps a write's error, and returns none when it changed no row.
func affected(op string, res sql.Result, err error, none error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return none
	}
	return nil
}

// notFound maps a missing row to ErrNotFound and wraps other errors.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	return wrap(op, err)
}

// LockAccount implements store.CommerceTx.
func (c *commerceTx) LockAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(c.queryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`+c.d.forUpdate(), id))
	if err != nil {
		return store.Account{}, notFound("lock account", err)
	}
	return a, nil
}

// UpdateAccount implements store.CommerceTx.
func (c *commerceTx) UpdateAccount(ctx context.Context, a store.Account) error {
	res, err := c.exec(ctx, `
		UPDATE accounts SET status = ?, cash_cents = ?, credit_cents = ?, overdue_since = ?,
		                    suspend_reason = ?, suspended_at = ?
		WHERE id = ?`,
		a.Status, a.CashCents, a.CreditCents, toMs(a.OverdueSince), a.SuspendReason, toMs(a.SuspendedAt), a.ID)
	return oneRow("update account", res, err)
}

// LockApp implements store.CommerceTx.
func (c *commerceTx) LockApp(ctx context.Context, sdkappid int64) (store.App, error) {
	a, err := scanApp(c.queryRow(ctx, `SELECT `+appCols+` FROM apps WHERE sdkappid = ?`+c.d.forUpdate(), sdkappid))
	if err != nil {
		return store.App{}, notFound("lock app", err)
	}
	return a, nil
}

// GetApp implements store.CommerceTx.
func (c *commerceTx) GetApp(ctx context.Context, sdkappid int64) (store.App, error) {
	a, err := scanApp(c.queryRow(ctx, `SELECT `+appCols+` FROM apps WHERE sdkappid = ?`, sdkappid))
	if err != nil {
		return store.App{}, notFound("get app", err)
	}
	return a, nil
}

// UpdateApp implements store.CommerceTx. Name, keys and deletion are not
// commerce's to change.
func (c *commerceTx) UpdateApp(ctx context.Context, a store.App) error {
	res, err := c.exec(ctx, `
		UPDATE apps SET edition = ?, status = ?, expires_at = ?, plan_anchor = ?, auto_renew = ?,
		                trial_extended = ?, suspend_reason = ?, suspended_at = ?
		WHERE sdkappid = ?`,
		a.Edition, a.Status, toMs(a.ExpiresAt), toMs(a.PlanAnchor), a.AutoRenew,
		a.TrialExtended, a.SuspendReason, toMs(a.SuspendedAt), a.SDKAppID)
	return oneRow("update app", res, err)
}

// AccountApps implements store.CommerceTx.
func (c *commerceTx) AccountApps(ctx context.Context, accountID string) ([]store.App, error) {
	return listApps(ctx, c.d, c.tx, `account_id = ? AND status <> 'deleted'`, accountID)
}

// DeleteAppData implements store.CommerceTx.
func (c *commerceTx) DeleteAppData(ctx context.Context, sdkappid int64, at time.Time) error {
	err := deleteApp(ctx, c.d, c.tx, sdkappid, at)
	if err != nil && !isSentinel(err) {
		return wrap("delete app data", err)
	}
	return err
}

const orderCols = `id, account_id, sdkappid, request_id, kind, product, months, quantity,
	list_cents, discount_cents, voucher_cents, voucher_id, cash_cents, credit_cents,
	carried_cash_cents, carried_credit_cents, effective_from, effective_to, anchor,
	auto_renew, agreement_accepted, non_refundable, status, refunds, reason, created_at`

// encodeList stores a list as a JSON array ("[]" when empty).
func encodeList[T any](xs []T) (string, error) {
	if len(xs) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(xs)
	return string(b), err
}

// decodeList is the inverse of encodeList; an empty list comes back nil.
func decodeList[T any](s string) ([]T, error) {
	var xs []T
	if s == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &xs); err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return nil, nil
	}
	return xs, nil
}

func scanOrder(row scanner) (store.Order, error) {
	var o store.Order
	var from, to, anchor, created int64
	var refunds string
	err := row.Scan(&o.ID, &o.AccountID, &o.SDKAppID, &o.RequestID, &o.Kind, &o.Product, &o.Months, &o.Quantity,
		&o.ListCents, &o.DiscountCents, &o.VoucherCents, &o.VoucherID, &o.CashCents, &o.CreditCents,
		&o.CarriedCashCents, &o.CarriedCreditCents, &from, &to, &anchor,
		&o.AutoRenew, &o.AgreementAccepted, &o.NonRefundable, &o.Status, &refunds, &o.Reason, &created)
	if err != nil {
		return store.Order{}, err
	}
	o.EffectiveFrom, o.EffectiveTo, o.Anchor, o.CreatedAt = fromMs(from), fromMs(to), fromMs(anchor), fromMs(created)
	if o.Refunds, err = decodeList[string](refunds); err != nil {
		return store.Order{}, err
	}
	return o, nil
}

// InsertOrder implements store.CommerceTx. A duplicate ID is ErrExists too.
func (c *commerceTx) InsertOrder(ctx context.Context, o store.Order) error {
	refunds, err := encodeList(o.Refunds)
	if err != nil {
		return wrap("insert order", err)
	}
	res, err := c.exec(ctx, `
		INSERT INTO orders (`+orderCols+`)
		VALUES (`+placeholders(26)+`)
		ON CONFLICT DO NOTHING`,
		o.ID, o.AccountID, o.SDKAppID, o.RequestID, o.Kind, o.Product, o.Months, o.Quantity,
		o.ListCents, o.DiscountCents, o.VoucherCents, o.VoucherID, o.CashCents, o.CreditCents,
		o.CarriedCashCents, o.CarriedCreditCents, toMs(o.EffectiveFrom), toMs(o.EffectiveTo), toMs(o.Anchor),
		o.AutoRenew, o.AgreementAccepted, o.NonRefundable, o.Status, refunds, o.Reason, toMs(o.CreatedAt))
	return inserted("insert order", res, err)
}

// OrderByRequest implements store.CommerceTx.
func (c *commerceTx) OrderByRequest(ctx context.Context, accountID, requestID string) (store.Order, error) {
	if requestID == "" {
		return store.Order{}, errs.ErrNotFound // orders without a request id are not findable by it
	}
	o, err := scanOrder(c.queryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE account_id = ? AND request_id = ?`, accountID, requestID))
	if err != nil {
		return store.Order{}, notFound("order by request", err)
	}
	return o, nil
}

// GetOrder implements store.CommerceTx.
func (c *commerceTx) GetOrder(ctx context.Context, id string) (store.Order, error) {
	o, err := scanOrder(c.queryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE id = ?`, id))
	if err != nil {
		return store.Order{}, notFound("get order", err)
	}
	return o, nil
}

// AppOrders implements store.CommerceTx.
func (c *commerceTx) AppOrders(ctx context.Context, sdkappid int64) ([]store.Order, error) {
	return listOrders(ctx, c.d, c.tx, `sdkappid = ?`, sdkappid)
}

// ListOrders implements store.Commerce.
func (s *Store) ListOrders(ctx context.Context, accountID string) ([]store.Order, error) {
	return listOrders(ctx, s.d, s.r, `account_id = ?`, accountID)
}

func listOrders(ctx context.Context, d Dialect, db queryer, where string, args ...any) ([]store.Order, error) {
	// Orders placed in the same millisecond (a fake clock stands still) still list
	// in a meaningful order: a refund after what it refunds, earlier periods first.
	return queryAll(ctx, db, d.rebind(`SELECT `+orderCols+` FROM orders WHERE `+where+`
		ORDER BY created_at, CASE kind WHEN 'refund' THEN 1 ELSE 0 END, effective_from, id`),
		"list orders", scanOrder, args...)
}

// SetOrderStatus implements store.CommerceTx.
func (c *commerceTx) SetOrderStatus(ctx context.Context, id, status string) error {
	res, err := c.exec(ctx, `UPDATE orders SET status = ? WHERE id = ?`, status, id)
	return oneRow("set order status", res, err)
}

// SetOrderNonRefundable implements store.CommerceTx.
func (c *commerceTx) SetOrderNonRefundable(ctx context.Context, id, reason string) error {
	res, err := c.exec(ctx, `UPDATE orders SET non_refundable = ? WHERE id = ?`, reason, id)
	return oneRow("set order non-refundable", res, err)
}

const voucherCols = `id, account_id, amount_cents, remaining_cents, scope, expires_at, created_at`

func scanVoucher(row scanner) (store.Voucher, error) {
	var v store.Voucher
	var expires, created int64
	err := row.Scan(&v.ID, &v.AccountID, &v.AmountCents, &v.RemainingCents, &v.Scope, &expires, &created)
	v.ExpiresAt, v.CreatedAt = fromMs(expires), fromMs(created)
	return v, err
}

// InsertVoucher implements store.CommerceTx; ErrExists on a duplicate ID.
func (c *commerceTx) InsertVoucher(ctx context.Context, v store.Voucher) error {
	res, err := c.exec(ctx, `
		INSERT INTO vouchers (`+voucherCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		v.ID, v.AccountID, v.AmountCents, v.RemainingCents, v.Scope, toMs(v.ExpiresAt), toMs(v.CreatedAt))
	return inserted("insert voucher", res, err)
}

// GetVoucher implements store.CommerceTx.
func (c *commerceTx) GetVoucher(ctx context.Context, id string) (store.Voucher, error) {
	v, err := scanVoucher(c.queryRow(ctx, `SELECT `+voucherCols+` FROM vouchers WHERE id = ?`, id))
	if err != nil {
		return store.Voucher{}, notFound("get voucher", err)
	}
	return v, nil
}

// SetVoucherRemaining implements store.CommerceTx.
func (c *commerceTx) SetVoucherRemaining(ctx context.Context, id string, remaining int64) error {
	res, err := c.exec(ctx, `UPDATE vouchers SET remaining_cents = ? WHERE id = ?`, remaining, id)
	return oneRow("set voucher remaining", res, err)
}

// ListVouchers implements store.Commerce.
func (s *Store) ListVouchers(ctx context.Context, accountID string) ([]store.Voucher, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+voucherCols+` FROM vouchers WHERE account_id = ? ORDER BY created_at, id`),
		"list vouchers", scanVoucher, accountID)
}

const ledgerCols = `id, account_id, kind, cash_cents, credit_cents, ref, at`

func scanLedger(row scanner) (store.LedgerEntry, error) {
	var e store.LedgerEntry
	var at int64
	err := row.Scan(&e.ID, &e.AccountID, &e.Kind, &e.CashCents, &e.CreditCents, &e.Ref, &at)
	e.At = fromMs(at)
	return e, err
}

// InsertLedger implements store.CommerceTx; ErrExists on a duplicate ID.
func (c *commerceTx) InsertLedger(ctx context.Context, e store.LedgerEntry) error {
	res, err := c.exec(ctx, `
		INSERT INTO ledger (`+ledgerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		e.ID, e.AccountID, e.Kind, e.CashCents, e.CreditCents, e.Ref, toMs(e.At))
	return inserted("insert ledger", res, err)
}

// ListLedger implements store.Commerce.
func (s *Store) ListLedger(ctx context.Context, accountID string) ([]store.LedgerEntry, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+ledgerCols+` FROM ledger WHERE account_id = ? ORDER BY at, id`),
		"list ledger", scanLedger, accountID)
}

const billCols = `id, account_id, month, issued_at, total_cents, cash_cents, credit_cents, lines`

func scanBill(row scanner) (store.Bill, error) {
	var b store.Bill
	var issued int64
	var lines string
	if err := row.Scan(&b.ID, &b.AccountID, &b.Month, &issued, &b.TotalCents, &b.CashCents, &b.CreditCents, &lines); err != nil {
		return store.Bill{}, err
	}
	b.IssuedAt = fromMs(issued)
	var err error
	b.Lines, err = decodeList[store.BillLine](lines)
	return b, err
}

// InsertBill implements store.CommerceTx. A duplicate ID is ErrExists too.
func (c *commerceTx) InsertBill(ctx context.Context, b store.Bill) error {
	lines, err := encodeList(b.Lines)
	if err != nil {
		return wrap("insert bill", err)
	}
	res, err := c.exec(ctx, `
		INSERT INTO bills (`+billCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		b.ID, b.AccountID, b.Month, toMs(b.IssuedAt), b.TotalCents, b.CashCents, b.CreditCents, lines)
	return inserted("insert bill", res, err)
}

// LastBillMonth implements store.CommerceTx.
func (c *commerceTx) LastBillMonth(ctx context.Context, accountID string) (string, error) {
	var month sql.NullString
	err := c.queryRow(ctx, `SELECT MAX(month) FROM bills WHERE account_id = ?`, accountID).Scan(&month)
	return month.String, wrap("last bill month", err)
}

// LastBillMonths implements store.Commerce.
func (s *Store) LastBillMonths(ctx context.Context, accountIDs []string) (map[string]string, error) {
	out := map[string]string{}
	collect := func(query string, args ...any) error {
		rows, err := s.r.QueryContext(ctx, s.q(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var acc, month string
			if err := rows.Scan(&acc, &month); err != nil {
				return err
			}
			out[acc] = month
		}
		return rows.Err()
	}
	if accountIDs == nil {
		return out, wrap("last bill months", collect(`SELECT account_id, MAX(month) FROM bills GROUP BY account_id`))
	}
	for _, chunk := range chunksOf(accountIDs, maxInList) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := collect(`SELECT account_id, MAX(month) FROM bills WHERE account_id IN (`+placeholders(len(chunk))+`)
			GROUP BY account_id`, args...); err != nil {
			return nil, wrap("last bill months", err)
		}
	}
	return out, nil
}

// ListBills implements store.Commerce.
func (s *Store) ListBills(ctx context.Context, accountID string) ([]store.Bill, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+billCols+` FROM bills WHERE account_id = ? ORDER BY month`),
		"list bills", scanBill, accountID)
}

const notificationCols = `id, account_id, sdkappid, key, kind, channel, recipient, subject, body,
	due_at, status, error, sent_at, attempts`

func scanNotification(row scanner) (store.Notification, error) {
	var n store.Notification
	var due, sent int64
	err := row.Scan(&n.ID, &n.AccountID, &n.SDKAppID, &n.Key, &n.Kind, &n.Channel, &n.Recipient, &n.Subject, &n.Body,
		&due, &n.Status, &n.Error, &sent, &n.Attempts)
	n.DueAt, n.SentAt = fromMs(due), fromMs(sent)
	return n, err
}

// InsertNotification implements store.CommerceTx. An empty Status is stored as
// "pending"; a duplicate ID is ErrExists too.
func (c *commerceTx) InsertNotification(ctx context.Context, n store.Notification) error {
	if n.Status == "" {
		n.Status = "pending"
	}
	res, err := c.exec(ctx, `
		INSERT INTO notifications (`+notificationCols+`) VALUES (`+placeholders(14)+`)
		ON CONFLICT DO NOTHING`,
		n.ID, n.AccountID, n.SDKAppID, n.Key, n.Kind, n.Channel, n.Recipient, n.Subject, n.Body,
		toMs(n.DueAt), n.Status, n.Error, toMs(n.SentAt), n.Attempts)
	return inserted("insert notification", res, err)
}

// ListNotifications implements store.Commerce.
func (s *Store) ListNotifications(ctx context.Context, accountID string) ([]store.Notification, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+notificationCols+` FROM notifications WHERE account_id = ? ORDER BY due_at, key`),
		"list notifications", scanNotification, accountID)
}

// SetNotificationStatus implements store.Commerce.
func (s *Store) SetNotificationStatus(ctx context.Context, id, status, errMsg string, sentAt time.Time) error {
	res, err := s.wexec(ctx, s.q(`UPDATE notifications SET status = ?, error = ?, sent_at = ? WHERE id = ?`),
		status, errMsg, toMs(sentAt), id)
	return oneRow("set notification status", res, err)
}

// deliverable is the condition of a notification ClaimNotification may claim.
const deliverable = `attempts < ? AND (status IN ('pending', 'failed') OR (status = 'sending' AND sent_at < ?))`

// ClaimNotification implements store.Commerce.
func (s *Store) ClaimNotification(ctx context.Context, id string, at, staleBefore time.Time, maxAttempts int) (bool, error) {
	res, err := s.wexec(ctx, s.q(`
		UPDATE notifications SET status = 'sending', attempts = attempts + 1, sent_at = ?
		WHERE id = ? AND `+deliverable), toMs(at), id, maxAttempts, toMs(staleBefore))
	err = oneRow("claim notification", res, err)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// UndeliveredNotifications implements store.Commerce.
func (s *Store) UndeliveredNotifications(ctx context.Context, staleBefore time.Time, maxAttempts, limit int) ([]store.Notification, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+notificationCols+` FROM notifications
		WHERE status IN ('pending', 'sending', 'failed') AND `+deliverable+`
		ORDER BY due_at, key LIMIT ?`),
		"undelivered notifications", scanNotification, maxAttempts, toMs(staleBefore), limit)
}

// ClaimJob implements store.CommerceTx.
func (c *commerceTx) ClaimJob(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := c.exec(ctx, `INSERT INTO jobs (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, toMs(at))
	err = inserted("claim job", res, err)
	if errors.Is(err, errs.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

// ClaimRequest implements store.CommerceTx.
func (c *commerceTx) ClaimRequest(ctx context.Context, accountID, requestID, fingerprint string, at time.Time) (string, bool, error) {
	res, err := c.exec(ctx, `
		INSERT INTO request_keys (account_id, request_id, fingerprint, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, request_id) DO NOTHING`, accountID, requestID, fingerprint, toMs(at))
	err = inserted("claim request", res, err)
	if err == nil {
		return fingerprint, true, nil
	}
	if !errors.Is(err, errs.ErrExists) {
		return "", false, err
	}
	var first string
	err = c.queryRow(ctx, `SELECT fingerprint FROM request_keys WHERE account_id = ? AND request_id = ?`,
		accountID, requestID).Scan(&first)
	return first, false, wrap("claim request", err)
}

// SetPromotion implements store.CommerceTx.
func (c *commerceTx) SetPromotion(ctx context.Context, p store.Promotion) error {
	if p.FreeUntil.IsZero() {
		_, err := c.exec(ctx, `DELETE FROM promotions WHERE addon = ?`, p.Addon)
		return wrap("set promotion", err)
	}
	_, err := c.exec(ctx, `
		INSERT INTO promotions (addon, free_until, set_at) VALUES (?, ?, ?)
		ON CONFLICT (addon) DO UPDATE SET free_until = excluded.free_until, set_at = excluded.set_at`,
		p.Addon, toMs(p.FreeUntil), toMs(p.SetAt))
	return wrap("set promotion", err)
}

// PromotionOf implements store.CommerceTx.
func (c *commerceTx) PromotionOf(ctx context.Context, addon string) (store.Promotion, error) {
	var p store.Promotion
	var until, set int64
	err := c.queryRow(ctx, `SELECT addon, free_until, set_at FROM promotions WHERE addon = ?`, addon).Scan(&p.Addon, &until, &set)
	if err != nil {
		return p, notFound("promotion", err)
	}
	p.FreeUntil, p.SetAt = fromMs(until), fromMs(set)
	return p, nil
}

// Promotions implements store.Commerce.
func (s *Store) Promotions(ctx context.Context) ([]store.Promotion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT addon, free_until, set_at FROM promotions ORDER BY addon`)
	if err != nil {
		return nil, wrap("promotions", err)
	}
	defer rows.Close()
	var out []store.Promotion
	for rows.Next() {
		var p store.Promotion
		var until, set int64
		if err := rows.Scan(&p.Addon, &until, &set); err != nil {
			return nil, wrap("promotions", err)
		}
		p.FreeUntil, p.SetAt = fromMs(until), fromMs(set)
		out = append(out, p)
	}
	return out, wrap("promotions", rows.Err())
}

// AddUsage implements store.Commerce.
func (s *Store) AddUsage(ctx context.Context, u store.Usage) error {
	_, err := s.wexec(ctx, s.q(`
		INSERT INTO usage (sdkappid, metric, day, quantity) VALUES (?, ?, ?, ?)
		ON CONFLICT (sdkappid, metric, day) DO UPDATE SET quantity = usage.quantity + excluded.quantity`),
		u.SDKAppID, u.Metric, u.Day, u.Quantity)
	return wrap("add usage", err)
}

// MonthUsage implements store.CommerceTx. Days are "2006-01-02", so the month's
// are those starting with "2006-01-" (substr rather than LIKE or a range: both
// engines agree on it whatever the collation).
func (c *commerceTx) MonthUsage(ctx context.Context, sdkappid int64, metric, month string) (map[string]int64, error) {
	rows, err := c.tx.QueryContext(ctx, c.d.rebind(`
		SELECT day, quantity FROM usage
		WHERE sdkappid = ? AND metric = ? AND substr(day, 1, 8) = ?`), sdkappid, metric, month+"-")
	if err != nil {
		return nil, wrap("month usage", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var day string
		var q int64
		if err := rows.Scan(&day, &q); err != nil {
			return nil, wrap("month usage", err)
		}
		out[day] = q
	}
	return out, wrap("month usage", rows.Err())
}

// CountMonthly implements store.CommerceTx.
func (c *commerceTx) CountMonthly(ctx context.Context, sdkappid int64, month string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM mau_users WHERE app = ? AND month = ?`, sdkappid, month).Scan(&n)
	return n, wrap("count monthly", err)
}

// AllAccounts implements store.Commerce.
func (s *Store) AllAccounts(ctx context.Context) ([]store.Account, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+accountCols+` FROM accounts ORDER BY id`), "all accounts", scanAccount)
}

// AccountsAfter implements store.Commerce.
func (s *Store) AccountsAfter(ctx context.Context, after string, limit int) ([]store.Account, error) {
	if limit <= 0 {
		return nil, nil
	}
	return queryAll(ctx, s.r, s.q(`SELECT `+accountCols+` FROM accounts WHERE id > ? ORDER BY id LIMIT ?`), "accounts page", scanAccount, after, limit)
}

// queryAll runs a query (already rebound) and scans every row.
func queryAll[T any](ctx context.Context, db queryer, query, op string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, x)
	}
	return out, wrap(op, rows.Err())
}
