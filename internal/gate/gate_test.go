package gate

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

func newGate(t *testing.T, now time.Time) (*Gate, *clock.Manual) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(now)
	return &Gate{MAU: st, Clock: c}, c
}

func TestMAUCountsEachUserOncePerUTCMonth(t *testing.T) {
	ctx := context.Background()
	g, c := newGate(t, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC))
	app := store.App{SDKAppID: 1400000001, Edition: catalog.Standard, Status: "active"}
	for _, u := range []string{"alice", "bob", "alice", "alice"} {
		if err := g.AdmitLogin(ctx, app, u); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := g.MonthlyActiveUsers(ctx, app.SDKAppID, "2026-11"); n != 2 {
		t.Fatalf("November MAU = %d, want 2", n)
	}
	c.Advance(2 * time.Hour) // 1 December 01:00 UTC: a new month
	if err := g.AdmitLogin(ctx, app, "alice"); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.MonthlyActiveUsers(ctx, app.SDKAppID, "2026-12"); n != 1 {
		t.Fatalf("December MAU = %d, want 1", n)
	}
	if n, _ := g.MonthlyActiveUsers(ctx, app.SDKAppID, "2026-11"); n != 2 {
		t.Fatalf("November MAU changed to %d", n)
	}
}

func TestFreeTrialRefusesThe101stUser(t *testing.T) {
	ctx := context.Background()
	g, c := newGate(t, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	app := store.App{SDKAppID: 1400000001, Edition: catalog.Trial, Status: "active"}
	other := store.App{SDKAppID: 1400000002, Edition: catalog.Trial, Status: "active"}
	for i := 0; i < 100; i++ {
		if err := g.AdmitLogin(ctx, app, fmt.Sprintf("u%d", i)); err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
	}
	err := g.AdmitLogin(ctx, app, "u100")
	if !errs.Is(err, errs.TrialMAUCap) {
		t.Fatalf("101st user: %v, want %d", err, errs.TrialMAUCap)
	}
	if err := g.AdmitLogin(ctx, app, "u7"); err != nil {
		t.Fatalf("a counted user was refused: %v", err)
	}
	if n, _ := g.MonthlyActiveUsers(ctx, app.SDKAppID, "2026-11"); n != 100 {
		t.Fatalf("MAU = %d after a refusal, want 100", n)
	}
	if err := g.AdmitLogin(ctx, other, "u100"); err != nil { // the cap is per app
		t.Fatalf("other app: %v", err)
	}
	c.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) // the cap is per month
	if err := g.AdmitLogin(ctx, app, "u100"); err != nil {
		t.Fatalf("next month: %v", err)
	}
}

func TestPaidEditionsHaveNoMAUCap(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	for _, ed := range []string{catalog.Standard, catalog.Premium} {
		app := store.App{SDKAppID: 1400000010, Edition: ed, Status: "active"}
		if ed == catalog.Premium {
			app.SDKAppID++
		}
		for i := 0; i < 150; i++ {
			if err := g.AdmitLogin(ctx, app, fmt.Sprintf("u%d", i)); err != nil {
				t.Fatalf("%s user %d: %v", ed, i, err)
			}
		}
	}
}

func TestInactiveAppsAreRefused(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		status string
		code   int
	}{{"suspended", errs.PlanInactive}, {"deleted", errs.AppNotFound}}
	for _, tt := range tests {
		app := store.App{SDKAppID: 1400000001, Edition: catalog.Trial, Status: tt.status}
		if err := g.AdmitLogin(ctx, app, "alice"); !errs.Is(err, tt.code) {
			t.Errorf("%s: %v, want %d", tt.status, err, tt.code)
		}
	}
	if n, _ := g.MonthlyActiveUsers(ctx, 1400000001, "2026-11"); n != 0 {
		t.Fatalf("a refused login counted: MAU %d", n)
	}
}

func TestRetentionWindowByEdition(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	g, _ := newGate(t, now)
	for ed, days := range map[string]int{catalog.Trial: 7, catalog.Standard: 7, catalog.Premium: 30} {
		got := g.RetentionStart(store.App{Edition: ed})
		if want := now.AddDate(0, 0, -days); !got.Equal(want) {
			t.Errorf("%s: retention starts %s, want %s", ed, got, want)
		}
	}
}

func TestSamePlatformDevicesByEdition(t *testing.T) {
	g, _ := newGate(t, time.Now())
	for ed, want := range map[string]bool{catalog.Trial: true, catalog.Standard: false, catalog.Premium: true} {
		if got := g.AllowsSamePlatformDevices(store.App{Edition: ed}); got != want {
			t.Errorf("%s: %v, want %v", ed, got, want)
		}
	}
}
