package lifecycle_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// The scheduler announces the apps its jobs change (expiry, repossession)
// after their commit (Config.OnAppChanged), so that their devices end at once.
func TestJobsAnnounceAppChanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorldOn(t, open(t), false)
		var mu sync.Mutex
		var statuses []string
		w.sch = lifecycle.New(lifecycle.Config{Store: w.st, Manual: w.clk, Sender: w.rec, OnAppChanged: func(app int64) {
			a, err := w.st.GetApp(ctx, app)
			if err != nil {
				t.Errorf("the hook reads app %d: %v", app, err)
			}
			mu.Lock()
			statuses = append(statuses, a.Status)
			mu.Unlock()
		}})
		acc := w.account(t, "Acme Chat", "")
		w.topUp(t, acc.ID, 39900)
		app := w.app(t, acc.ID, "acme")
		w.buy(t, app.SDKAppID, catalog.Standard, 1, false)
		w.setTo(t, at(3, 1, 10)) // the plan's grace ends: suspended
		mu.Lock()
		got := slices.Clone(statuses)
		mu.Unlock()
		if !slices.Contains(got, store.StatusSuspended) {
			t.Fatalf("the expiry announced %v, want the suspended app", got)
		}
	})
}
