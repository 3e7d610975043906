// Package auth signs customers and the operator in to the console: sign-up
// (a customer account, through package tenant, with a password credential),
// sign-in with an email and password or with the operator token, sessions,
// CSRF tokens and the rate limit on failed sign-ins. Passwords are hashed with
// argon2id (password.go); session ids are 256 random bits of which the store
// keeps only the SHA-256 hash.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// Errors of this package wrap the kinds of package errs; the console maps
// these three to 401, 429 and 409 before the kinds.
var (
	// ErrBadCredentials: a wrong email, password or operator token, or no
	// valid session (errs.ErrInvalid).
	ErrBadCredentials = errs.Kind(errs.ErrInvalid, "wrong email or password")
	// ErrNoSession: a missing, unknown, expired or signed-out session (errs.ErrNotFound).
	ErrNoSession = errs.Kind(errs.ErrNotFound, "not signed in")
	// ErrEmailTaken: a sign-up with an email that already has an account (errs.ErrExists).
	ErrEmailTaken = errs.Kind(errs.ErrExists, "email already registered")

	errBadToken = errs.Kind(ErrBadCredentials, "wrong operator token")
)

// TooManyAttempts is the error of a sign-in refused by the rate limit; it
// wraps errs.ErrLimit.
type TooManyAttempts struct {
	RetryAfter time.Duration // until the limiting window ends
	SignUp     bool          // sign-ups, not sign-ins, were refused
}

func (e *TooManyAttempts) Error() string {
	what := "failed sign-in attempts"
	if e.SignUp {
		what = "sign-ups from this address"
	}
	return fmt.Sprintf("too many %s: try again in %d seconds", what, int64((e.RetryAfter+time.Second-1)/time.Second))
}

// Unwrap makes the error errs.ErrLimit.
func (e *TooManyAttempts) Unwrap() error { return errs.ErrLimit }

// DefaultSessionTTL is how long a session lasts after sign-in.
const DefaultSessionTTL = 12 * time.Hour

// MaxConcurrentHashes bounds the password hashes computed at once.
const MaxConcurrentHashes = 4

// Config is what a Service needs.
type Config struct {
	Store   store.Console   // required
	Tenants *tenant.Service // required: sign-up builds accounts through it
	Clock   clock.Clock     // nil: the real clock
	// OperatorToken signs the operator in; empty: the operator cannot sign in.
	OperatorToken string
	SessionTTL    time.Duration // 0: DefaultSessionTTL
	Params        Params        // zero: DefaultParams
	Limiter       *Limiter      // customers' sign-in failures; nil: NewLimiter(Clock) with MaxSignInKeys
	Operators     *Limiter      // operator-token failures; nil: NewLimiter(Clock)
	SignUps       *Limiter      // sign-ups per client; nil: NewSignUpLimiter(Clock)
}

// Service is the console's sign-in domain service.
type Service struct {
	cfg    Config
	hashes hasher

	dummyOnce sync.Once
	dummy     string // a hash checked for unknown emails, so they take as long

	mu    sync.Mutex
	known map[string]time.Time // email and address pairs that signed in, until when they count as known
}

// New returns a Service. It panics without a store or tenants (a wiring error).
func New(cfg Config) *Service {
	if cfg.Store == nil || cfg.Tenants == nil {
		panic("auth.New: store and tenants are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(cfg.Clock)
		cfg.Limiter.MaxKeys = MaxSignInKeys
	}
	if cfg.Operators == nil {
		// The token is 256 random bits: losing counts costs nothing, and a
		// flood must not keep the operator out.
		cfg.Operators = NewLimiter(cfg.Clock)
		cfg.Operators.FailOpen = true
	}
	if cfg.SignUps == nil {
		cfg.SignUps = NewSignUpLimiter(cfg.Clock)
	}
	return &Service{cfg: cfg, hashes: make(hasher, MaxConcurrentHashes), known: map[string]time.Time{}}
}

// Session is a signed-in session as the console sees it: the id is the
// cookie's value (never stored), CSRF the token state-changing requests must
// carry.
type Session struct {
	ID        string
	CSRF      string
	Actor     tenant.Actor
	ExpiresAt time.Time
	// Left is what was left of the session when it was opened or read, by
	// the Service's clock: the cookie's Max-Age. (ExpiresAt is on that clock,
	// which may be a test's, so a browser must not compare it to its own.)
	Left time.Duration
}

// NormalizeEmail returns the form of an email the console stores and signs
// in with: ASCII letters in lower case, every other byte as it is (so that
// invalid UTF-8 stays invalid and is refused).
func NormalizeEmail(email string) string {
	b := []byte(email)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// The sign-in limits (SignIn, SignInOperator): failures per window of
// DefaultWindow. The tightest is per email and address together, so that
// nobody locks another person out of their account from elsewhere; the looser
// per-email and per-address counts bound guessing spread over many addresses
// or many accounts.
const (
	MaxPairFailures     = DefaultMaxFailures // one email from one address
	MaxEmailFailures    = 50                 // one email from addresses it never signed in from
	MaxClientFailures   = 50                 // one address on any email
	MaxOperatorFailures = DefaultMaxFailures // the operator token from one address
)

// MaxSignInKeys bounds the customers' sign-in limiter. Each counted failure
// costs a password hash (MaxConcurrentHashes at a time), so filling it within
// one window would take far more hashing than a node does: the bound is never
// reached in practice, and a key still counting is never dropped.
const MaxSignInKeys = 1_000_000

// Known pairs: an email and address pair that signed in is known for
// KnownPairTTL (at most MaxKnownPairs are kept per node); a known pair is not
// held back by the per-email count, so strangers failing at an email from
// elsewhere do not lock its owner out at an address she used before.
const (
	KnownPairTTL  = 30 * 24 * time.Hour
	MaxKnownPairs = 100_000
)

// The sign-up limit: MaxSignUps attempts per client address per SignUpWindow,
// successful or not, which bounds account creation and the probing of which
// emails have accounts (ErrEmailTaken).
const (
	MaxSignUps   = 10
	SignUpWindow = time.Hour
)

// NewSignUpLimiter returns the sign-up limiter (MaxSignUps per SignUpWindow),
// failing open when full: a flood may lose counts, never refuse newcomers.
func NewSignUpLimiter(c clock.Clock) *Limiter {
	return &Limiter{Max: MaxSignUps, Window: SignUpWindow, MaxKeys: DefaultMaxKeys, Clock: c, FailOpen: true}
}

// SignUp opens a customer account (tenant's rules for name and email) with a
// password (ValidPassword) and signs it in. client is the caller's address:
// each counts MaxSignUps valid attempts per SignUpWindow, then gets
// *TooManyAttempts. An email that already has an account is ErrEmailTaken; on
// any error nothing is stored.
func (s *Service) SignUp(ctx context.Context, name, email, password, client string) (store.Account, Session, error) {
	if err := ValidPassword(password); err != nil {
		return store.Account{}, Session{}, err
	}
	email = NormalizeEmail(email)
	acc, err := s.cfg.Tenants.NewAccount(name, email, "")
	if err != nil {
		return store.Account{}, Session{}, err
	}
	ck := clientKey(client)
	key := Key{Name: "signup:" + ck}
	if ok, wait := s.cfg.SignUps.Take(key); !ok {
		return store.Account{}, Session{}, &TooManyAttempts{RetryAfter: wait, SignUp: true}
	}
	var hash string
	if err := s.hashes.do(ctx, func() { hash = HashPassword(password, s.cfg.Params) }); err != nil {
		s.cfg.SignUps.Release(key) // given up before the hash: nothing was tried
		return store.Account{}, Session{}, err
	}
	err = s.cfg.Store.CreateAccountWithCredential(ctx, acc,
		store.Credential{Email: email, AccountID: acc.ID, PasswordHash: hash, CreatedAt: acc.CreatedAt})
	if errors.Is(err, errs.ErrExists) {
		return store.Account{}, Session{}, fmt.Errorf("%w: %s has an account; sign in instead", ErrEmailTaken, email)
	}
	if err != nil {
		return store.Account{}, Session{}, err
	}
	sess, err := s.newSession(ctx, tenant.Actor{Account: acc.ID})
	if err == nil {
		s.remember(ck + " " + email) // the owner's first address is known
	}
	return acc, sess, err
}

// SignIn checks an email and password and opens a new session. client is the
// caller's address (an IP; IPv6 addresses count by their /64). Every attempt
// counts in the Limiter against the email and client together
// (MaxPairFailures), the email (MaxEmailFailures) and the client
// (MaxClientFailures), and only failures stay counted: once one is at its
// maximum in its window, attempts are refused with *TooManyAttempts (without
// checking the password). A wrong email or password is ErrBadCredentials, the
// same for both.
func (s *Service) SignIn(ctx context.Context, email, password, client string) (Session, error) {
	email = NormalizeEmail(email)
	if err := input.Identifier(email, tenant.MaxEmailBytes); err != nil {
		return Session{}, fmt.Errorf("%w: email is required: at most %d bytes of printable text", errs.ErrInvalid, tenant.MaxEmailBytes)
	}
	if err := ValidPassword(password); err != nil {
		return Session{}, err
	}
	ck := clientKey(client)
	pair := ck + " " + email
	keys := []Key{{"pair:" + pair, MaxPairFailures}, {"client:" + ck, MaxClientFailures}}
	if !s.isKnown(pair) {
		keys = append(keys, Key{"email:" + email, MaxEmailFailures})
	}
	if ok, wait := s.cfg.Limiter.Take(keys...); !ok {
		return Session{}, &TooManyAttempts{RetryAfter: wait}
	}
	cred, err := s.cfg.Store.CredentialByEmail(ctx, email)
	hash := cred.PasswordHash
	if errors.Is(err, errs.ErrNotFound) {
		s.dummyOnce.Do(func() { s.dummy = HashPassword("chatd-unknown-email", s.cfg.Params) })
		hash = s.dummy
	} else if err != nil {
		s.cfg.Limiter.Release(keys...)
		return Session{}, err
	}
	var match bool
	var cerr error
	if err := s.hashes.do(ctx, func() { match, cerr = CheckPassword(hash, password) }); err != nil {
		s.cfg.Limiter.Release(keys...)
		return Session{}, err
	}
	if cerr != nil {
		s.cfg.Limiter.Release(keys...)
		return Session{}, errs.Hidden(cerr)
	}
	if !match || cred.AccountID == "" {
		return Session{}, ErrBadCredentials
	}
	s.cfg.Limiter.Release(keys...)
	s.remember(pair)
	return s.newSession(ctx, tenant.Actor{Account: cred.AccountID})
}

// SignInOperator checks the operator token (in constant time, both sides
// hashed first) and opens an operator session. Failures count against the
// client (MaxOperatorFailures), apart from customers' sign-ins, so that their
// failures from a shared address never keep the operator out; a wrong token
// is ErrBadCredentials.
func (s *Service) SignInOperator(ctx context.Context, token, client string) (Session, error) {
	if token == "" || len(token) > 1024 {
		return Session{}, fmt.Errorf("%w: token is required (at most 1024 bytes): the operator token of the server's DIR/operator.token", errs.ErrInvalid)
	}
	key := Key{"operator:" + clientKey(client), MaxOperatorFailures}
	if ok, wait := s.cfg.Operators.Take(key); !ok {
		return Session{}, &TooManyAttempts{RetryAfter: wait}
	}
	a := sha256.Sum256([]byte(token))
	b := sha256.Sum256([]byte(s.cfg.OperatorToken))
	if s.cfg.OperatorToken == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return Session{}, errBadToken
	}
	s.cfg.Operators.Release(key)
	return s.newSession(ctx, tenant.Actor{Operator: true})
}

// Session returns the live session whose id is id: ErrNoSession when the id
// is malformed, unknown, expired or signed out.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	h, ok := idHash(id)
	if !ok {
		return Session{}, ErrNoSession
	}
	cs, err := s.cfg.Store.GetSession(ctx, h, s.cfg.Clock.Now())
	if errors.Is(err, errs.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	return Session{ID: id, CSRF: csrfToken(id), Actor: tenant.Actor{Account: cs.AccountID, Operator: cs.Operator},
		ExpiresAt: cs.ExpiresAt, Left: cs.ExpiresAt.Sub(s.cfg.Clock.Now())}, nil
}

// SignOut ends the session with id (a missing one is not an error).
func (s *Service) SignOut(ctx context.Context, id string) error {
	h, ok := idHash(id)
	if !ok {
		return nil
	}
	return s.cfg.Store.DeleteSession(ctx, h)
}

// CookieMaxAge is the Max-Age, in whole seconds (at least 1), of the cookie
// that carries sess.
func CookieMaxAge(sess Session) int {
	return max(1, int(sess.Left/time.Second))
}

// CheckCSRF reports, in constant time, whether token is the CSRF token of sess.
func CheckCSRF(sess Session, token string) bool {
	want := csrfToken(sess.ID)
	return len(token) == len(want) && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

// newSession stores a session with a new random id for actor, and sweeps
// expired sessions.
func (s *Service) newSession(ctx context.Context, actor tenant.Actor) (Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	h, _ := idHash(id)
	now := s.cfg.Clock.Now()
	exp := now.Add(s.cfg.SessionTTL)
	if err := s.cfg.Store.CreateSession(ctx, store.ConsoleSession{IDHash: h, AccountID: actor.Account,
		Operator: actor.Operator, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return Session{}, err
	}
	if _, err := s.cfg.Store.DeleteExpiredSessions(ctx, now); err != nil {
		return Session{}, err
	}
	return Session{ID: id, CSRF: csrfToken(id), Actor: actor, ExpiresAt: exp, Left: s.cfg.SessionTTL}, nil
}

// idHash is the stored form of a session id: hex SHA-256 of its 32 bytes.
func idHash(id string) (string, bool) {
	if len(id) != 43 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:]), true
}

// csrfToken derives a session's CSRF token from its id (which only the
// cookie carries): it differs from the stored hash, so the store gives no
// CSRF token either.
func csrfToken(id string) string {
	h := sha256.Sum256([]byte("chatd console csrf\x00" + id))
	return hex.EncodeToString(h[:])
}

// isKnown reports whether the email and address pair signed in within
// KnownPairTTL.
func (s *Service) isKnown(pair string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.known[pair]
	return ok && s.cfg.Clock.Now().Before(until)
}

// remember makes pair known for KnownPairTTL. When MaxKnownPairs are kept,
// expired pairs are dropped, then arbitrary ones down to nine tenths of the
// bound, so that the sweep is paid once per tenth (a forgotten pair only
// meets the per-email count again).
func (s *Service) remember(pair string) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.known[pair]; !ok && len(s.known) >= MaxKnownPairs {
		for k, until := range s.known {
			if !now.Before(until) {
				delete(s.known, k)
			}
		}
		for k := range s.known {
			if len(s.known) < MaxKnownPairs*9/10 {
				break
			}
			delete(s.known, k)
		}
	}
	s.known[pair] = now.Add(KnownPairTTL)
}

// clientKey is the rate-limit key of a client address: the address itself,
// an IPv6 address's /64 network.
func clientKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
