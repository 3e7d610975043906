package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

var ctx = context.Background()

func newService(t *testing.T, open testdb.Opener) (*Service, store.Store, *clock.Manual) {
	st := open(t)
	c := clock.NewManual(t0)
	return New(Config{Store: st, Tenants: &tenant.Service{Store: st, Clock: c}, Clock: c,
		OperatorToken: "op-token", Params: cheap}), st, c
}

func TestSignUpSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		s, st, c := newService(t, open)
		acc, sess, err := s.SignUp(ctx, "Ann", "Ann@Example.com", "password1", "192.0.2.200")
		if err != nil {
			t.Fatal(err)
		}
		if acc.Email != "ann@example.com" || acc.Name != "Ann" || sess.Actor != (tenant.Actor{Account: acc.ID}) {
			t.Fatalf("account %+v, session %+v", acc, sess)
		}
		if got, err := st.GetAccount(ctx, acc.ID); err != nil || got.Email != "ann@example.com" {
			t.Fatalf("stored account %+v, %v", got, err)
		}
		// The store keeps the hash of the id, not the id.
		if _, err := st.GetSession(ctx, sess.ID, t0); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("session found by its raw id: %v", err)
		}
		if got, err := s.Session(ctx, sess.ID); err != nil || got.Actor.Account != acc.ID || got.CSRF != sess.CSRF {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		// The email is unique, whatever its case; nothing is stored for the refused one.
		if _, _, err := s.SignUp(ctx, "Other", "ANN@example.com", "password2", "192.0.2.200"); !errors.Is(err, ErrEmailTaken) {
			t.Fatalf("taken email: %v, want ErrEmailTaken", err)
		}
		if apps, _ := st.AllApps(ctx); len(apps) != 0 {
			t.Fatal("apps appeared")
		}

		in, err := s.SignIn(ctx, "ann@EXAMPLE.com", "password1", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if in.ID == sess.ID || in.CSRF == sess.CSRF || in.Actor.Account != acc.ID {
			t.Fatalf("sign-in session %+v reuses the sign-up's", in)
		}
		for _, tc := range []struct{ email, pw string }{{"ann@example.com", "password2"}, {"nobody@example.com", "password1"}} {
			if _, err := s.SignIn(ctx, tc.email, tc.pw, "192.0.2.2"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("SignIn(%s, %s) = %v, want ErrBadCredentials", tc.email, tc.pw, err)
			}
		}

		// Sign-out ends that session only.
		if err := s.SignOut(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, in.ID); !errors.Is(err, ErrNoSession) {
			t.Fatalf("signed-out session: %v", err)
		}
		if _, err := s.Session(ctx, sess.ID); err != nil {
			t.Fatalf("other session ended: %v", err)
		}
		// Expiry by the clock.
		c.Advance(DefaultSessionTTL - time.Millisecond)
		if _, err := s.Session(ctx, sess.ID); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		c.Advance(time.Millisecond)
		if _, err := s.Session(ctx, sess.ID); !errors.Is(err, ErrNoSession) {
			t.Fatalf("expired session: %v", err)
		}
		for _, id := range []string{"", "x", sess.ID + "A", hex.EncodeToString(make([]byte, 32))} {
			if _, err := s.Session(ctx, id); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Session(%q) = %v", id, err)
			}
		}
	})
}

func TestSignUpBadInput(t *testing.T) {
	s, st, _ := newService(t, testdb.SQLite)
	for _, tc := range []struct{ name, email, pw string }{
		{"", "a@example.com", "password1"},
		{"A", "", "password1"},
		{"A", "not an address", "password1"},
		{"A", "a@example.com", "short"},
		{"A", "a@example.com\xff", "password1"},
		{"A\xff", "a@example.com", "password1"},
		{"A", string(make([]byte, 300)) + "@example.com", "password1"},
	} {
		if _, _, err := s.SignUp(ctx, tc.name, tc.email, tc.pw, "192.0.2.200"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("SignUp(%q, %q, %q) = %v, want ErrInvalid", tc.name, tc.email, tc.pw, err)
		}
	}
	if _, err := st.CredentialByEmail(ctx, "a@example.com"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("bad sign-up stored a credential: %v", err)
	}
}

func TestSignInRateLimited(t *testing.T) {
	s, _, c := newService(t, testdb.SQLite)
	if _, _, err := s.SignUp(ctx, "Ann", "ann@example.com", "password1", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	var tm *TooManyAttempts
	// Per email and address: five failures from one address, then even the
	// right password is refused there until the window ends...
	for i := range MaxPairFailures {
		if _, err := s.SignIn(ctx, "ann@example.com", "wrong-pass", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := s.SignIn(ctx, "ann@example.com", "password1", "192.0.2.1")
	if !errors.As(err, &tm) || !errors.Is(err, errs.ErrLimit) || tm.RetryAfter != DefaultWindow {
		t.Fatalf("6th attempt: %v, want TooManyAttempts for 15m", err)
	}
	// ...but not from Ann's own address: a stranger does not lock her out.
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "198.51.100.1"); err != nil {
		t.Fatalf("Ann from elsewhere: %v", err)
	}
	c.Advance(DefaultWindow)
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "192.0.2.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	// Per email: guesses spread over many addresses stop at MaxEmailFailures.
	for i := range MaxEmailFailures {
		if _, err := s.SignIn(ctx, "ann@example.com", "wrong-pass", fmt.Sprintf("203.0.113.%d", i/MaxPairFailures)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("spread failure %d: %v", i+1, err)
		}
	}
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "198.51.100.77"); !errors.As(err, &tm) {
		t.Fatalf("after %d failures on the email, from a new address: %v, want TooManyAttempts", MaxEmailFailures, err)
	}
	// ...but Ann at an address she signed in from before is not locked out.
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "198.51.100.1"); err != nil {
		t.Fatalf("Ann at her known address after %d strangers' failures: %v", MaxEmailFailures, err)
	}
	// A known pair is forgotten after KnownPairTTL.
	c.Advance(KnownPairTTL - DefaultWindow/2)
	for i := range MaxEmailFailures {
		s.SignIn(ctx, "ann@example.com", "wrong-pass", fmt.Sprintf("203.0.113.%d", 100+i/MaxPairFailures))
	}
	c.Advance(DefaultWindow / 2)
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "198.51.100.1"); !errors.As(err, &tm) {
		t.Fatalf("after the known pair expired: %v, want TooManyAttempts", err)
	}
	c.Advance(DefaultWindow)

	// Per client: failures on many emails from one IPv6 /64, then another
	// address of the same /64 is refused; another network is not.
	for i := range MaxClientFailures {
		email := fmt.Sprintf("u%d@example.com", i)
		if _, err := s.SignIn(ctx, email, "wrong-pass", fmt.Sprintf("2001:db8::%x", i+1)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "2001:db8::ffff"); !errors.As(err, &tm) {
		t.Fatalf("same /64: %v, want TooManyAttempts", err)
	}
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "2001:db8:1::1"); err != nil {
		t.Fatalf("other network: %v", err)
	}
	// The operator's sign-in from that address is counted apart.
	if _, err := s.SignInOperator(ctx, "op-token", "2001:db8::ffff"); err != nil {
		t.Fatalf("operator from a limited address: %v", err)
	}
	// Successful sign-ins never add up to a refusal.
	for i := range 10 {
		if _, err := s.SignIn(ctx, "ann@example.com", "password1", "203.0.113.250"); err != nil {
			t.Fatalf("sign-in %d: %v", i+1, err)
		}
	}
}

func TestSignUpRateLimited(t *testing.T) {
	s, st, c := newService(t, testdb.SQLite)
	// Successes and taken emails count alike; bad input does not.
	for i := range MaxSignUps {
		email := fmt.Sprintf("u%d@example.com", i%5)
		if _, _, err := s.SignUp(ctx, "U", email, "password1", "192.0.2.1"); err != nil && !errors.Is(err, ErrEmailTaken) {
			t.Fatalf("sign-up %d: %v", i+1, err)
		}
		if _, _, err := s.SignUp(ctx, "U", email, "short", "192.0.2.1"); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("bad password %d: %v", i+1, err)
		}
	}
	var tm *TooManyAttempts
	_, _, err := s.SignUp(ctx, "New", "new@example.com", "password1", "192.0.2.1")
	if !errors.As(err, &tm) || !errors.Is(err, errs.ErrLimit) || tm.RetryAfter != SignUpWindow || !strings.Contains(err.Error(), "sign-ups") {
		t.Fatalf("sign-up %d: %v, want TooManyAttempts for 1h", MaxSignUps+1, err)
	}
	if _, err := st.CredentialByEmail(ctx, "new@example.com"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a refused sign-up stored a credential: %v", err)
	}
	if _, _, err := s.SignUp(ctx, "New", "new@example.com", "password1", "192.0.2.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	c.Advance(SignUpWindow)
	if _, _, err := s.SignUp(ctx, "Late", "late@example.com", "password1", "192.0.2.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestSignInOperator(t *testing.T) {
	s, _, _ := newService(t, testdb.SQLite)
	sess, err := s.SignInOperator(ctx, "op-token", "192.0.2.1")
	if err != nil || !sess.Actor.Operator || sess.Actor.Account != "" {
		t.Fatalf("operator sign-in: %+v, %v", sess, err)
	}
	if got, err := s.Session(ctx, sess.ID); err != nil || !got.Actor.Operator {
		t.Fatalf("operator session: %+v, %v", got, err)
	}
	for i := range 5 {
		if _, err := s.SignInOperator(ctx, "op-tokem", "192.0.2.2"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong token %d: %v", i, err)
		}
	}
	var tm *TooManyAttempts
	if _, err := s.SignInOperator(ctx, "op-token", "192.0.2.2"); !errors.As(err, &tm) {
		t.Fatalf("after 5 wrong tokens: %v, want TooManyAttempts", err)
	}
	if _, err := s.SignInOperator(ctx, "", "192.0.2.3"); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("empty token: %v", err)
	}
	// Without a configured token nobody signs in as the operator.
	st := testdb.SQLite(t)
	none := New(Config{Store: st, Tenants: &tenant.Service{Store: st, Clock: clock.Real{}}, Params: cheap})
	if _, err := none.SignInOperator(ctx, "anything", "192.0.2.4"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("no operator token configured: %v", err)
	}
}

func TestCSRF(t *testing.T) {
	s, _, _ := newService(t, testdb.SQLite)
	_, a, err := s.SignUp(ctx, "Ann", "ann@example.com", "password1", "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := s.SignUp(ctx, "Bob", "bob@example.com", "password1", "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckCSRF(a, a.CSRF) || CheckCSRF(a, b.CSRF) || CheckCSRF(a, "") || CheckCSRF(a, a.CSRF[:63]) {
		t.Fatal("CSRF tokens do not match their sessions only")
	}
	h := sha256.Sum256([]byte(a.ID))
	if a.CSRF == hex.EncodeToString(h[:]) {
		t.Fatal("CSRF token is a plain hash of the id")
	}
}

// TestSignInConcurrentGuesses: of many concurrent wrong guesses for one
// email from one address, only MaxPairFailures get to check a password.
func TestSignInConcurrentGuesses(t *testing.T) {
	s, _, _ := newService(t, testdb.SQLite)
	if _, _, err := s.SignUp(ctx, "Ann", "ann@example.com", "password1", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	out := make(chan error, n)
	for range n {
		go func() {
			_, err := s.SignIn(ctx, "ann@example.com", "wrong-pass", "192.0.2.1")
			out <- err
		}()
	}
	bad, limited := 0, 0
	for range n {
		err := <-out
		var tm *TooManyAttempts
		switch {
		case errors.Is(err, ErrBadCredentials):
			bad++
		case errors.As(err, &tm):
			limited++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if bad != MaxPairFailures || limited != n-MaxPairFailures {
		t.Fatalf("%d checked, %d limited; want %d checked", bad, limited, MaxPairFailures)
	}
}

// TestSignUpGivenUpIsNotCounted: a sign-up abandoned while it waits for a
// hash slot costs the server nothing and is not counted, so abandoned
// requests cannot use up an address's sign-ups (or fill the limiter).
func TestSignUpGivenUpIsNotCounted(t *testing.T) {
	s, _, _ := newService(t, testdb.SQLite)
	for range MaxConcurrentHashes {
		s.hashes <- struct{}{} // every hash slot busy
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for i := range 3 * MaxSignUps {
		if _, _, err := s.SignUp(gone, "U", fmt.Sprintf("u%d@example.com", i), "password1", "192.0.2.1"); !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned sign-up %d: %v", i, err)
		}
	}
	for range MaxConcurrentHashes {
		<-s.hashes
	}
	if _, _, err := s.SignUp(ctx, "Ann", "ann@example.com", "password1", "192.0.2.1"); err != nil {
		t.Fatalf("after abandoned sign-ups: %v", err)
	}
}

// TestSignUpAddressKnown: the address an account signed up from is known, so
// strangers' failures at the email elsewhere do not lock the owner out there.
func TestSignUpAddressKnown(t *testing.T) {
	s, _, _ := newService(t, testdb.SQLite)
	if _, _, err := s.SignUp(ctx, "Ann", "ann@example.com", "password1", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for i := range MaxEmailFailures {
		s.SignIn(ctx, "ann@example.com", "wrong-pass", fmt.Sprintf("10.1.0.%d", 1+i/MaxPairFailures))
	}
	if _, err := s.SignIn(ctx, "ann@example.com", "password1", "10.0.0.1"); err != nil {
		t.Fatalf("Ann at the address she signed up from: %v", err)
	}
}
