package store

import (
	"context"
	"time"
)

// Credential is how a customer account signs in to the console: its email
// (the sign-in name, unique across the installation, stored as the console
// normalised it) and its password hash (an encoded argon2id hash; never the
// password itself).
type Credential struct {
	Email        string
	AccountID    string
	PasswordHash string
	CreatedAt    time.Time
}

// ConsoleSession is a signed-in console session. Only the SHA-256 hash of
// the session id (hex, 64 characters) is stored, so the table alone gives
// nobody a session. A session belongs to an account or, with Operator set,
// to the operator (AccountID is then "").
type ConsoleSession struct {
	IDHash    string
	AccountID string
	Operator  bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Console stores console credentials and sessions.
type Console interface {
	// CreateAccountWithCredential stores a new account and its credential in
	// one transaction. It fails with errs.ErrExists, writing nothing, when the
	// credential's email or the account's ID is taken.
	CreateAccountWithCredential(ctx context.Context, a Account, c Credential) error
	// CredentialByEmail returns the credential of an email (compared exactly),
	// errs.ErrNotFound when there is none.
	CredentialByEmail(ctx context.Context, email string) (Credential, error)
	// CreateSession stores a session; errs.ErrExists on a taken IDHash.
	CreateSession(ctx context.Context, s ConsoleSession) error
	// GetSession returns the session with idHash unless it expired (ExpiresAt
	// at or before now): errs.ErrNotFound when missing or expired.
	GetSession(ctx context.Context, idHash string, now time.Time) (ConsoleSession, error)
	// DeleteSession removes a session; a missing one is not an error.
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteExpiredSessions removes the sessions expired at now (ExpiresAt at
	// or before it) and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}
