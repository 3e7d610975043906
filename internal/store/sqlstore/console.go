package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// consoleSchema holds console sign-in (store.Console): one credential per
// email and account, and sessions keyed by the hash of their id.
const consoleSchema = `
CREATE TABLE IF NOT EXISTS console_credentials (
	email         TEXT PRIMARY KEY,
	account_id    TEXT NOT NULL UNIQUE REFERENCES accounts (id),
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
	id_hash    TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	operator   BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);
`

func init() { extraSchemas = append(extraSchemas, consoleSchema) }

// CreateAccountWithCredential implements store.Console.
func (s *Store) CreateAccountWithCredential(ctx context.Context, a store.Account, c store.Credential) error {
	if a.Status == "" {
		a.Status = store.StatusActive
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO accounts (`+accountCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`),
			a.ID, a.Name, a.Email, a.Phone, a.Status, toMs(a.CreatedAt),
			a.CashCents, a.CreditCents, toMs(a.OverdueSince), a.SuspendReason, toMs(a.SuspendedAt))
		if err := affected("create account", res, err, errs.ErrExists); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO console_credentials (email, account_id, password_hash, created_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),
			c.Email, a.ID, c.PasswordHash, toMs(c.CreatedAt))
		return affected("create credential", res, err, errs.ErrExists)
	})
	if err != nil && !isSentinel(err) {
		return wrap("create account with credential", err)
	}
	return err
}

// CredentialByEmail implements store.Console.
func (s *Store) CredentialByEmail(ctx context.Context, email string) (store.Credential, error) {
	var c store.Credential
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT email, account_id, password_hash, created_at FROM console_credentials WHERE email = ?`), email).
		Scan(&c.Email, &c.AccountID, &c.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Credential{}, errs.ErrNotFound
	}
	if err != nil {
		return store.Credential{}, wrap("get credential", err)
	}
	c.CreatedAt = fromMs(created)
	return c, nil
}

// CreateSession implements store.Console.
func (s *Store) CreateSession(ctx context.Context, cs store.ConsoleSession) error {
	res, err := s.wexec(ctx, s.q(`
		INSERT INTO console_sessions (id_hash, account_id, operator, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id_hash) DO NOTHING`),
		cs.IDHash, cs.AccountID, cs.Operator, toMs(cs.CreatedAt), toMs(cs.ExpiresAt))
	return inserted("create session", res, err)
}

// GetSession implements store.Console.
func (s *Store) GetSession(ctx context.Context, idHash string, now time.Time) (store.ConsoleSession, error) {
	var cs store.ConsoleSession
	var created, expires int64
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT id_hash, account_id, operator, created_at, expires_at
		FROM console_sessions WHERE id_hash = ? AND expires_at > ?`), idHash, toMs(now)).
		Scan(&cs.IDHash, &cs.AccountID, &cs.Operator, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ConsoleSession{}, errs.ErrNotFound
	}
	if err != nil {
		return store.ConsoleSession{}, wrap("get session", err)
	}
	cs.CreatedAt, cs.ExpiresAt = fromMs(created), fromMs(expires)
	return cs, nil
}

// DeleteSession implements store.Console.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.wexec(ctx, s.q(`DELETE FROM console_sessions WHERE id_hash = ?`), idHash)
	return wrap("delete session", err)
}

// DeleteExpiredSessions implements store.Console.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.wexec(ctx, s.q(`DELETE FROM console_sessions WHERE expires_at <= ?`), toMs(now))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired sessions", err)
}
