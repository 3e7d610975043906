package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// CreateAccount implements store.Tenants. An empty Status is stored as "active".
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	if a.Status == "" {
		a.Status = store.StatusActive
	}
	res, err := s.wexec(ctx, s.q(`
		INSERT INTO accounts (`+accountCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`),
		a.ID, a.Name, a.Email, a.Phone, a.Status, toMs(a.CreatedAt),
		a.CashCents, a.CreditCents, toMs(a.OverdueSince), a.SuspendReason, toMs(a.SuspendedAt))
	return inserted("create account", res, err)
}

const accountCols = `id, name, email, phone, status, created_at,
	cash_cents, credit_cents, overdue_since, suspend_reason, suspended_at`

func scanAccount(row scanner) (store.Account, error) {
	var a store.Account
	var created, overdue, suspended int64
	err := row.Scan(&a.ID, &a.Name, &a.Email, &a.Phone, &a.Status, &created,
		&a.CashCents, &a.CreditCents, &overdue, &a.SuspendReason, &suspended)
	a.CreatedAt, a.OverdueSince, a.SuspendedAt = fromMs(created), fromMs(overdue), fromMs(suspended)
	return a, err
}

// GetAccount implements store.Tenants.
func (s *Store) GetAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, s.q(`SELECT `+accountCols+` FROM accounts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, errs.ErrNotFound
	}
	if err != nil {
		return store.Account{}, wrap("get account", err)
	}
	return a, nil
}

// CreateApp implements store.Tenants. maxApps <= 0 means no limit; an empty
// Status is stored as "active".
func (s *Store) CreateApp(ctx context.Context, a store.App, maxApps int) (store.App, error) {
	if a.Status == "" {
		a.Status = store.StatusActive
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Lock the account row: concurrent CreateApps of one account serialise
		// here, so the count below stays true until the insert.
		var id string
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM accounts WHERE id = ?`+s.d.forUpdate()), a.AccountID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		if maxApps > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`
				SELECT COUNT(*) FROM apps WHERE account_id = ? AND status <> 'deleted'`),
				a.AccountID).Scan(&n); err != nil {
				return err
			}
			if n >= maxApps {
				return errs.ErrLimit
			}
		}
		// The counter only moves forward and is rolled back with a failed
		// transaction, so SDKAppIDs are dense and never reused.
		if err := tx.QueryRowContext(ctx, `
			UPDATE counters SET value = value + 1 WHERE name = 'sdkappid' RETURNING value`).
			Scan(&a.SDKAppID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO apps (`+appCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.SDKAppID, a.AccountID, a.Name, a.Region, a.SecretKey, a.AdminUser,
			a.Edition, a.Status, toMs(a.CreatedAt), toMs(a.ExpiresAt), toMs(a.DeletedAt),
			toMs(a.PlanAnchor), a.AutoRenew, a.TrialExtended, a.SuspendReason, toMs(a.SuspendedAt))
		return err
	})
	if err != nil {
		if isSentinel(err) {
			return store.App{}, err
		}
		return store.App{}, wrap("create app", err)
	}
	// Return what GetApp would return (millisecond precision, UTC).
	a.CreatedAt = fromMs(toMs(a.CreatedAt))
	a.ExpiresAt = fromMs(toMs(a.ExpiresAt))
	a.DeletedAt = fromMs(toMs(a.DeletedAt))
	a.PlanAnchor = fromMs(toMs(a.PlanAnchor))
	a.SuspendedAt = fromMs(toMs(a.SuspendedAt))
	return a, nil
}

const appCols = `sdkappid, account_id, name, region, secret_key, admin_user, edition, status,
	created_at, expires_at, deleted_at,
	plan_anchor, auto_renew, trial_extended, suspend_reason, suspended_at`

func scanApp(row scanner) (store.App, error) {
	var a store.App
	var created, expires, deleted, anchor, suspended int64
	err := row.Scan(&a.SDKAppID, &a.AccountID, &a.Name, &a.Region, &a.SecretKey, &a.AdminUser,
		&a.Edition, &a.Status, &created, &expires, &deleted,
		&anchor, &a.AutoRenew, &a.TrialExtended, &a.SuspendReason, &suspended)
	a.CreatedAt, a.ExpiresAt, a.DeletedAt = fromMs(created), fromMs(expires), fromMs(deleted)
	a.PlanAnchor, a.SuspendedAt = fromMs(anchor), fromMs(suspended)
	return a, err
}

// GetApp implements store.Tenants.
func (s *Store) GetApp(ctx context.Context, sdkappid int64) (store.App, error) {
	a, err := scanApp(s.r.QueryRowContext(ctx, s.q(`SELECT `+appCols+` FROM apps WHERE sdkappid = ?`), sdkappid))
	if errors.Is(err, sql.ErrNoRows) {
		return store.App{}, errs.ErrNotFound
	}
	if err != nil {
		return store.App{}, wrap("get app", err)
	}
	return a, nil
}

// ListApps implements store.Tenants.
func (s *Store) ListApps(ctx context.Context, accountID string) ([]store.App, error) {
	return listApps(ctx, s.d, s.r, `account_id = ? AND status <> 'deleted'`, accountID)
}

// AllApps implements store.Tenants.
func (s *Store) AllApps(ctx context.Context) ([]store.App, error) {
	return listApps(ctx, s.d, s.r, `status <> 'deleted'`)
}

// queryer is what a pool and a transaction have in common.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// listApps lists the apps matching where, by SDKAppID, through db (the read
// pool, or a transaction).
func listApps(ctx context.Context, d Dialect, db queryer, where string, args ...any) ([]store.App, error) {
	return queryAll(ctx, db, d.rebind(`SELECT `+appCols+` FROM apps WHERE `+where+` ORDER BY sdkappid`),
		"list apps", scanApp, args...)
}

// appTables are the tables holding an app's data and the column naming the
// app, emptied by DeleteApp. Orders, bills and notifications are records of
// the account and stay.
var appTables = []struct{ table, col string }{
	{"users", "app"}, {"entries", "app"}, {"seqs", "app"}, {"reads", "app"},
	{"mau_users", "app"}, {"mau_counts", "app"}, {"usage", "sdkappid"}, {"user_kicks", "app"},
	{"profile_fields", "app"}, {"user_mutes", "app"},
	{"push_attr_names", "app"}, {"push_user_attrs", "app"}, {"push_user_tags", "app"},
	{"push_tasks", "app"}, {"push_rate", "app"},
}

// liveApp refuses a deleted app with errs.ErrNotFound, locking its row with
// lock (forShare or forUpdate) so that DeleteApp waits until tx commits (and
// then deletes what tx wrote). A deleted app keeps its row (its tombstone), so
// every deleted app is seen; an id with no row at all is refused only when
// needRow.
func (s *Store) liveApp(ctx context.Context, tx *sql.Tx, app int64, lock string, needRow bool) error {
	var status string
	err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM apps WHERE sdkappid = ?`+lock), app).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if needRow {
			return errs.ErrNotFound
		}
		return nil
	case err == nil && status == store.StatusDeleted:
		return errs.ErrNotFound
	}
	return err
}

// DeleteApp implements store.Tenants. Deleting a deleted app again keeps the
// first DeletedAt (and finds no data left).
func (s *Store) DeleteApp(ctx context.Context, sdkappid int64, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return deleteApp(ctx, s.d, tx, sdkappid, at)
	})
	if err != nil && !isSentinel(err) {
		return wrap("delete app", err)
	}
	return err
}

// deleteApp marks the app deleted and removes its data within tx.
func deleteApp(ctx context.Context, d Dialect, tx *sql.Tx, sdkappid int64, at time.Time) error {
	var status string
	err := tx.QueryRowContext(ctx, d.rebind(`SELECT status FROM apps WHERE sdkappid = ?`+d.forUpdate()), sdkappid).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	if err != nil {
		return err
	}
	if status != store.StatusDeleted {
		if _, err := tx.ExecContext(ctx, d.rebind(`
			UPDATE apps SET status = 'deleted', deleted_at = ? WHERE sdkappid = ?`),
			toMs(at), sdkappid); err != nil {
			return err
		}
	}
	for _, t := range appTables {
		if _, err := tx.ExecContext(ctx, d.rebind(`DELETE FROM `+t.table+` WHERE `+t.col+` = ?`), sdkappid); err != nil {
			return err
		}
	}
	return nil
}

func isSentinel(err error) bool {
	return errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrExists) ||
		errors.Is(err, errs.ErrLimit)
}
