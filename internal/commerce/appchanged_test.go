package commerce_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// A committed change of an app's status, edition or add-ons is announced
// (OnAppChanged) once per app, after the commit: the hook reads the new state
// from the store. A refused or failed change announces nothing.
func TestAppChangesAreAnnounced(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		var got []int64
		var seen []string // the app's status as the hook reads it
		hook := func(app int64) {
			got = append(got, app)
			a, err := w.st.GetApp(w.ctx, app)
			if err != nil {
				t.Errorf("the hook reads app %d: %v", app, err)
			}
			seen = append(seen, a.Edition+"/"+a.Status)
		}
		w.com.OnAppChanged, w.ten.OnAppChanged = hook, hook
		acc := w.account("1000", "0")
		app := w.app(acc)
		take := func(what string, want ...int64) []string {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Fatalf("%s announced %v, want %v", what, got, want)
			}
			s := seen
			got, seen = nil, nil
			return s
		}
		take("top-up and app creation") // no app changed

		w.buy(app, "standard", 1)
		if s := take("a purchase", app.SDKAppID); s[0] != "standard/active" {
			t.Fatalf("the hook read %v before the commit", s)
		}
		if _, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: "nonesuch", Months: 1, AgreementAccepted: true}); err == nil {
			t.Fatal("a purchase of an unknown edition succeeded")
		}
		take("a refused purchase")

		if _, err := w.com.SuspendAccount(w.ctx, acc.ID, "abuse"); err != nil {
			t.Fatal(err)
		}
		if s := take("an account suspension", app.SDKAppID); s[0] != "standard/"+store.StatusSuspended {
			t.Fatalf("the hook read %v", s)
		}

		boom := errors.New("boom")
		err := commerce.AppTx(w.ctx, w.st, hook, func(tx store.CommerceTx) error {
			a, err := tx.LockApp(context.Background(), app.SDKAppID)
			if err != nil {
				return err
			}
			if err := tx.UpdateApp(context.Background(), a); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		take("a rolled back transaction")

		if err := w.ten.DeleteApp(w.ctx, app.SDKAppID, app.SDKAppID); err != nil {
			t.Fatal(err)
		}
		take("an app deletion", app.SDKAppID)
	})
}
