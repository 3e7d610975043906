package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

var consoleTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ConsoleCredentials", testConsoleCredentials},
	{"ConsoleCredentialsConcurrentEmail", testConsoleCredentialsConcurrentEmail},
	{"ConsoleSessions", testConsoleSessions},
}

func hash64(c byte) string { return strings.Repeat(string(c), 64) }

// testConsoleCredentials: an account and its credential are stored together;
// a taken email or account ID refuses both (nothing written); lookups are by
// the exact email.
func testConsoleCredentials(t *testing.T, s store.Store) {
	a := account("acc1")
	a.Email = "ann@example.com"
	c := store.Credential{Email: "ann@example.com", PasswordHash: "$argon2id$x", CreatedAt: t0}
	if err := s.CreateAccountWithCredential(ctx, a, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.CredentialByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != "acc1" || got.PasswordHash != "$argon2id$x" || !got.CreatedAt.Equal(t0) || got.Email != "ann@example.com" {
		t.Fatalf("credential = %+v", got)
	}
	if acc, err := s.GetAccount(ctx, "acc1"); err != nil || acc.Email != "ann@example.com" || acc.Name != a.Name {
		t.Fatalf("account = %+v, %v", acc, err)
	}
	if _, err := s.CredentialByEmail(ctx, "ANN@example.com"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("other case: %v, want ErrNotFound", err)
	}
	if _, err := s.CredentialByEmail(ctx, "bob@example.com"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("missing: %v, want ErrNotFound", err)
	}

	// The same email for a new account: refused, and the account is not created.
	if err := s.CreateAccountWithCredential(ctx, account("acc2"), c); !isErr(err, errs.ErrExists) {
		t.Fatalf("taken email: %v, want ErrExists", err)
	}
	if _, err := s.GetAccount(ctx, "acc2"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("account of a refused credential: %v, want ErrNotFound", err)
	}
	// A taken account ID: refused, and the credential is not created.
	c2 := store.Credential{Email: "other@example.com", PasswordHash: "h", CreatedAt: t0}
	if err := s.CreateAccountWithCredential(ctx, account("acc1"), c2); !isErr(err, errs.ErrExists) {
		t.Fatalf("taken account id: %v, want ErrExists", err)
	}
	if _, err := s.CredentialByEmail(ctx, "other@example.com"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("credential of a refused account: %v, want ErrNotFound", err)
	}
	// Still usable afterwards.
	if err := s.CreateAccountWithCredential(ctx, account("acc2"), c2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CredentialByEmail(ctx, "other@example.com"); err != nil || got.AccountID != "acc2" {
		t.Fatalf("credential = %+v, %v", got, err)
	}
}

// testConsoleCredentialsConcurrentEmail: of concurrent sign-ups with one
// email exactly one succeeds, and only its account exists.
func testConsoleCredentialsConcurrentEmail(t *testing.T, s store.Store) {
	const n = 8
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := account("acc" + string(rune('a'+i)))
			errsOut[i] = s.CreateAccountWithCredential(ctx, a, store.Credential{Email: "same@example.com", PasswordHash: "h", CreatedAt: t0})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errsOut {
		switch {
		case err == nil:
			ok++
			c, err := s.CredentialByEmail(ctx, "same@example.com")
			if err != nil || c.AccountID != "acc"+string(rune('a'+i)) {
				t.Fatalf("credential = %+v, %v", c, err)
			}
		case isErr(err, errs.ErrExists):
			if _, err := s.GetAccount(ctx, "acc"+string(rune('a'+i))); !isErr(err, errs.ErrNotFound) {
				t.Fatalf("refused sign-up left its account: %v", err)
			}
		default:
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ups with one email succeeded, want 1", ok)
	}
}

// testConsoleSessions: sessions are found by hash until they expire, a taken
// hash is refused, deletion removes one (twice is fine), and expired ones are
// swept.
func testConsoleSessions(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	exp := t0.Add(12 * time.Hour)
	a := store.ConsoleSession{IDHash: hash64('a'), AccountID: "acc1", CreatedAt: t0, ExpiresAt: exp}
	op := store.ConsoleSession{IDHash: hash64('b'), Operator: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, cs := range []store.ConsoleSession{a, op} {
		if err := s.CreateSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, store.ConsoleSession{IDHash: hash64('a'), AccountID: "other", CreatedAt: t0, ExpiresAt: exp}); !isErr(err, errs.ErrExists) {
		t.Fatalf("taken hash: %v, want ErrExists", err)
	}
	got, err := s.GetSession(ctx, hash64('a'), t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != "acc1" || got.Operator || !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("session = %+v", got)
	}
	if got, err := s.GetSession(ctx, hash64('b'), t0); err != nil || !got.Operator || got.AccountID != "" {
		t.Fatalf("operator session = %+v, %v", got, err)
	}
	if _, err := s.GetSession(ctx, hash64('c'), t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("missing: %v, want ErrNotFound", err)
	}
	// Expiry: found a millisecond before, not at ExpiresAt.
	if _, err := s.GetSession(ctx, hash64('a'), exp.Add(-time.Millisecond)); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	if _, err := s.GetSession(ctx, hash64('a'), exp); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("at expiry: %v, want ErrNotFound", err)
	}
	// Sweep at t0+1h: only the operator's session (expiring then) goes.
	if n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.GetSession(ctx, hash64('b'), t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("swept session: %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, hash64('a'), t0); err != nil {
		t.Fatalf("unexpired session swept: %v", err)
	}
	for range 2 {
		if err := s.DeleteSession(ctx, hash64('a')); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetSession(ctx, hash64('a'), t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("deleted session: %v, want ErrNotFound", err)
	}
}
