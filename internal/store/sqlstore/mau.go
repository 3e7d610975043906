package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
)

// AdmitMonthly implements store.MAU. The user's row and the month's counter
// move together in one transaction; the counter row is the point where
// concurrent admissions serialise (a conditional UPDATE re-checks n < capacity on
// the latest row version), so the capacity holds across connections and nodes.
func (s *Store) AdmitMonthly(ctx context.Context, app int64, month, user string, capacity int, at time.Time) (bool, error) {
	// Fast path without a write: the user is already counted this month.
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT 1 FROM mau_users WHERE app = ? AND month = ? AND user_id = ?`), app, month, user).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, wrap("admit monthly", err)
	}

	first := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO mau_users (app, month, user_id, first_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (app, month, user_id) DO NOTHING`), app, month, user, toMs(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return nil // counted meanwhile
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO mau_counts (app, month, n) VALUES (?, ?, 0)
			ON CONFLICT (app, month) DO NOTHING`), app, month); err != nil {
			return err
		}
		if capacity > 0 {
			res, err = tx.ExecContext(ctx, s.q(`
				UPDATE mau_counts SET n = n + 1 WHERE app = ? AND month = ? AND n < ?`), app, month, capacity)
		} else {
			res, err = tx.ExecContext(ctx, s.q(`
				UPDATE mau_counts SET n = n + 1 WHERE app = ? AND month = ?`), app, month)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.ErrLimit // rolls back the user's row
		}
		first = true
		return nil
	})
	if err != nil {
		if errors.Is(err, errs.ErrLimit) {
			return false, err
		}
		return false, wrap("admit monthly", err)
	}
	return first, nil
}

// CountMonthly implements store.MAU.
func (s *Store) CountMonthly(ctx context.Context, app int64, month string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT COUNT(*) FROM mau_users WHERE app = ? AND month = ?`), app, month).Scan(&n)
	return n, wrap("count monthly", err)
}
