// Package sqlstore implements store.Store over database/sql. The SQL is shared by
// SQLite and PostgreSQL; the few differences live in Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Store implements store.Store.
type Store struct {
	d Dialect
	w *sql.DB // writes (for SQLite a single connection)
	r *sql.DB // reads (may be the same as w)

	// The multi-row INSERTs of the serial Apply (see insertSizes), by rows,
	// prepared once on w and bound to each transaction with Tx.StmtContext
	// (database/sql then reuses the connection's prepared statement).
	insertEntries map[int]*sql.Stmt
}

var _ store.Store = (*Store)(nil)

// New creates the schema if needed and returns a Store that writes through w and
// reads through r (r may be w). The Store owns both and closes them in Close.
func New(ctx context.Context, d Dialect, w, r *sql.DB) (*Store, error) {
	if !d.Pipeline && !d.SerialWrites {
		return nil, fmt.Errorf("sqlstore: dialect %s: Apply needs Pipeline or SerialWrites", d.Name)
	}
	if r == nil {
		r = w
	}
	s := &Store{d: d, w: w, r: r}
	if err := migrate(ctx, w, d); err != nil {
		return nil, fmt.Errorf("sqlstore: schema: %w", err)
	}
	if d.Pipeline {
		return s, nil
	}
	s.insertEntries = make(map[int]*sql.Stmt, len(insertSizes))
	for _, n := range insertSizes {
		q := d.rebind(sqlInsertEntries(d, n))
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			s.closeStmts()
			return nil, fmt.Errorf("sqlstore: prepare the INSERT of %d entries: %w", n, err)
		}
		s.insertEntries[n] = st
	}
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// WriteDB and ReadDB expose the underlying pools (for tests and tools).
func (s *Store) WriteDB() *sql.DB { return s.w }
func (s *Store) ReadDB() *sql.DB  { return s.r }

func (s *Store) closeStmts() {
	for _, st := range s.insertEntries {
		st.Close()
	}
}

// Close closes the statements and the pools.
func (s *Store) Close() error {
	s.closeStmts()
	err := s.w.Close()
	if s.r != s.w {
		if e := s.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// q rebinds a shared query for the dialect.
func (s *Store) q(query string) string { return s.d.rebind(query) }

// inTx runs fn in a write transaction and commits it if fn returns nil. The
// after-events ctx carries (store.WithCallbacks) are appended to the outbox in
// the same transaction, and marked written only once it committed.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.inTxApplied(ctx, func(tx *sql.Tx) ([]string, error) { return nil, fn(tx) })
}

// inTxApplied is inTx for a method whose fn returns the items it applied
// (store.WithCallbacksFor): the events ctx's build makes of them are
// appended in the transaction too, after those of store.WithCallbacks.
func (s *Store) inTxApplied(ctx context.Context, fn func(tx *sql.Tx) ([]string, error)) error {
	evs, written := store.CallbacksOf(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	applied, err := fn(tx)
	if err != nil {
		tx.Rollback()
		return err
	}
	more, writtenMore := store.AppliedCallbacksOf(ctx, applied)
	if len(more) > 0 {
		evs = append(evs[:len(evs):len(evs)], more...)
	}
	if len(evs) > 0 {
		if err := insertCallbacks(ctx, s.d, tx, evs); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	written()
	writtenMore()
	return nil
}

// wexec runs a write of one statement outside a transaction; when ctx
// carries after-events (store.WithCallbacks) it runs in inTx, which appends
// them with it.
func (s *Store) wexec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if evs, _ := store.CallbacksOf(ctx); len(evs) == 0 {
		return s.w.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// toMs stores a time as Unix milliseconds; the zero time is 0.
func toMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMs is the inverse of toMs; times come back in UTC.
func fromMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// notBeforeMs is the lower bound of created_at for a notBefore filter: the zero
// time filters nothing.
func notBeforeMs(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixMilli()
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rows returns n copies of row separated by commas, for multi-row VALUES.
func rows(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// chunksOf splits xs into slices of at most n, for IN lists.
func chunksOf[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// maxInList bounds the IN lists so that no query exceeds the engines' parameter limits.
const maxInList = 500

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
