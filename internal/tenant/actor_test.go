package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

var ctx = context.Background()

// TestActorOwnership: every actor-checked method answers ErrNotFound for
// another account's app or account and changes nothing; the owner and the
// operator are served.
func TestActorOwnership(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		c := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
		s := &tenant.Service{Store: st, Clock: c}
		a, err := s.CreateAccount(ctx, "Ann", "ann@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateAccount(ctx, "Bob", "bob@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		ann, bob, op := tenant.Actor{Account: a.ID}, tenant.Actor{Account: b.ID}, tenant.Actor{Operator: true}
		bobApp, err := s.CreateAppAs(ctx, bob, "", "bob's", "tokyo")
		if err != nil || bobApp.AccountID != b.ID {
			t.Fatalf("CreateAppAs = %+v, %v", bobApp, err)
		}
		id := bobApp.SDKAppID

		foreign := map[string]func() error{
			"AppAs":       func() error { _, err := s.AppAs(ctx, ann, id); return err },
			"SecretKeyAs": func() error { _, err := s.SecretKeyAs(ctx, ann, id); return err },
			"UserSigAs":   func() error { _, _, err := s.UserSigAs(ctx, ann, id, "alice", 3600); return err },
			"DeleteAppAs": func() error { return s.DeleteAppAs(ctx, ann, id, id) },
			"ListAppsAs":  func() error { _, err := s.ListAppsAs(ctx, ann, b.ID); return err },
			"CreateAppAs": func() error { _, err := s.CreateAppAs(ctx, ann, b.ID, "x", ""); return err },
			"AccountAs":   func() error { _, err := s.AccountAs(ctx, ann, b.ID); return err },
			"nobody":      func() error { _, err := s.AppAs(ctx, tenant.Actor{}, id); return err },
		}
		for name, fn := range foreign {
			if err := fn(); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("%s on another account's app: %v, want ErrNotFound", name, err)
			}
		}
		if apps, _ := st.ListApps(ctx, b.ID); len(apps) != 1 || apps[0] != bobApp {
			t.Fatalf("bob's apps changed: %+v", apps)
		}
		if apps, _ := st.ListApps(ctx, a.ID); len(apps) != 0 {
			t.Fatalf("ann got apps: %+v", apps)
		}

		// The owner and the operator are served.
		for _, who := range []tenant.Actor{bob, op} {
			if got, err := s.AppAs(ctx, who, id); err != nil || got.SDKAppID != id {
				t.Fatalf("AppAs(%+v) = %v", who, err)
			}
			key, err := s.SecretKeyAs(ctx, who, id)
			if err != nil || key != bobApp.SecretKey {
				t.Fatalf("SecretKeyAs(%+v) = %q, %v", who, key, err)
			}
			sig, at, err := s.UserSigAs(ctx, who, id, "alice", 3600)
			if err != nil || !at.Equal(c.Now()) {
				t.Fatal(err)
			}
			if err := usersig.Verify(id, key, "alice", sig, c.Now()); err != nil {
				t.Fatalf("the UserSig does not verify: %v", err)
			}
		}
		if got, err := s.ListAppsAs(ctx, bob, ""); err != nil || len(got) != 1 {
			t.Fatalf("own list: %v, %v", got, err)
		}
		annApp, err := s.CreateAppAs(ctx, op, a.ID, "ann's", "")
		if err != nil || annApp.AccountID != a.ID {
			t.Fatalf("operator creates for ann: %+v, %v", annApp, err)
		}
		if _, err := s.CreateAppAs(ctx, op, "", "x", ""); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("operator without an account: %v", err)
		}
		if got, err := s.ListAppsAs(ctx, op, ""); err != nil || len(got) != 2 {
			t.Fatalf("operator lists every app: %v, %v", got, err)
		}
		if got, err := s.AccountAs(ctx, op, a.ID); err != nil || got.ID != a.ID {
			t.Fatalf("operator reads an account: %v", err)
		}
		if got, err := s.AccountsAs(ctx, op, st); err != nil || len(got) != 2 {
			t.Fatalf("operator lists accounts: %v, %v", got, err)
		}
		if got, err := s.AccountsAs(ctx, ann, st); err != nil || len(got) != 1 || got[0].ID != a.ID {
			t.Fatalf("customer lists accounts: %v, %v", got, err)
		}
		// Deletion needs the typed confirmation, also from the owner.
		if err := s.DeleteAppAs(ctx, bob, id, id+1); !errors.Is(err, tenant.ErrConfirmation) {
			t.Fatalf("wrong confirmation: %v", err)
		}
		if err := s.DeleteAppAs(ctx, bob, id, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppAs(ctx, bob, id); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("deleted app: %v", err)
		}
		if err := s.DeleteAppAs(ctx, op, annApp.SDKAppID, annApp.SDKAppID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUserSigAsInput(t *testing.T) {
	st := testdb.SQLite(t)
	s := &tenant.Service{Store: st, Clock: clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))}
	a, _ := s.CreateAccount(ctx, "Ann", "ann@example.com", "")
	ann := tenant.Actor{Account: a.ID}
	app, err := s.CreateAppAs(ctx, ann, "", "x", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user   string
		expire int64
		ok     bool
	}{
		{"alice", 0, true}, // the default
		{"alice", 1, true},
		{"alice", tenant.MaxUserSigExpire, true},
		{"alice", tenant.MaxUserSigExpire + 1, false},
		{"alice", -1, false},
		{"", 3600, false},
		{" alice", 3600, false},
		{"alice ", 3600, false},
		{"al\x00ice", 3600, false},
		{"élise", 3600, false},
		{"abcdefghijabcdefghijabcdefghij12", 3600, true},
		{"abcdefghijabcdefghijabcdefghij123", 3600, false},
	} {
		sig, _, err := s.UserSigAs(ctx, ann, app.SDKAppID, tc.user, tc.expire)
		if (err == nil) != tc.ok {
			t.Errorf("UserSigAs(%q, %d) = %v, want ok=%v", tc.user, tc.expire, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("UserSigAs(%q, %d): %v is not ErrInvalid", tc.user, tc.expire, err)
		}
		if err == nil {
			cl, err := usersig.Decode(sig)
			want := tc.expire
			if want == 0 {
				want = tenant.DefaultUserSigExpire
			}
			if err != nil || cl.Expire != want || cl.Identifier != tc.user {
				t.Errorf("sig claims %+v, %v", cl, err)
			}
		}
	}
}

// TestNamesReadable: account and app names and emails with invisible
// formatting characters are refused on both stores and nothing is stored.
func TestNamesReadable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		s := &tenant.Service{Store: st, Clock: clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))}
		a, err := s.CreateAccount(ctx, "Ann 👩\u200d💻", "ann@example.com", "")
		if err != nil {
			t.Fatalf("an emoji sequence in a name: %v", err)
		}
		for _, name := range []string{"Acme\u202eemca", "Ac\u200bme", "\ufeffAcme", "a\u2028b"} {
			if _, err := s.CreateAccount(ctx, name, "x@example.com", ""); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("account name %q: %v", name, err)
			}
			if _, err := s.CreateAccount(ctx, "X", "x\u200b@example.com", ""); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("email with a zero-width space: %v", err)
			}
			if _, err := s.CreateApp(ctx, a.ID, name, "tokyo"); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("app name %q: %v", name, err)
			}
		}
		if apps, err := s.ListApps(ctx, a.ID); err != nil || len(apps) != 0 {
			t.Fatalf("apps stored: %v %v", apps, err)
		}
	})
}

// TestViolationKeepsApps: a customer whose account is suspended for a content
// violation cannot delete its apps (their data is kept); the operator can.
func TestViolationKeepsApps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		s := &tenant.Service{Store: st, Clock: clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))}
		a, err := s.CreateAccount(ctx, "Ann", "ann@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		ann := tenant.Actor{Account: a.ID}
		one, err := s.CreateAppAs(ctx, ann, "", "one", "tokyo")
		if err != nil {
			t.Fatal(err)
		}
		two, err := s.CreateAppAs(ctx, ann, "", "two", "tokyo")
		if err != nil {
			t.Fatal(err)
		}
		a.Status, a.SuspendReason = store.StatusSuspended, "arrears"
		if err := st.InCommerceTx(ctx, func(tx store.CommerceTx) error { return tx.UpdateAccount(ctx, a) }); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAppAs(ctx, ann, one.SDKAppID, one.SDKAppID); err != nil {
			t.Fatalf("deletion in arrears: %v", err)
		}
		a.SuspendReason = tenant.SuspendedForViolation
		if err := st.InCommerceTx(ctx, func(tx store.CommerceTx) error { return tx.UpdateAccount(ctx, a) }); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAppAs(ctx, ann, two.SDKAppID, two.SDKAppID); !errors.Is(err, tenant.ErrSuspended) {
			t.Fatalf("deletion by a customer suspended for a violation: %v", err)
		}
		if _, err := s.AppAs(ctx, ann, two.SDKAppID); err != nil {
			t.Fatalf("the app after a refused deletion: %v", err)
		}
		if err := s.DeleteAppAs(ctx, tenant.Actor{Operator: true}, two.SDKAppID, two.SDKAppID); err != nil {
			t.Fatalf("the operator's deletion: %v", err)
		}
	})
}
