package commerce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// TestPremiumInGraceDay: Standard expired 1 Apr 00:00; on 1 Apr 06:00 (active,
// in the 24-hour grace) the upgrade has no time left to price and says to buy
// Premium, and buying Premium works: it starts now, at the full price, with
// nothing of Standard left to credit.
func TestPremiumInGraceDay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-01 00:00"))
		acc := w.account("3000", "0")
		app := w.app(acc)
		w.buy(app, "standard", 1)
		w.clk.Set(at("2026-04-01 06:00"))
		_, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: app.SDKAppID, Edition: "premium"})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "buy Premium") {
			t.Fatalf("upgrade in the grace day: %v, want a refusal pointing at buying Premium", err)
		}
		o := w.buy(app, "premium", 1)
		a := w.getApp(app.SDKAppID)
		if a.Edition != "premium" || a.Status != store.StatusActive || !a.PlanAnchor.Equal(at("2026-04-01 06:00")) ||
			!a.ExpiresAt.Equal(at("2026-05-01 06:00")) {
			t.Errorf("after buying Premium in the grace day: %+v", a)
		}
		if o.ListCents != 69900 || o.CashCents != 69900 || o.CarriedCashCents != 0 {
			t.Errorf("Premium bought in the grace day: list %d cash %d carried %d", o.ListCents, o.CashCents, o.CarriedCashCents)
		}
	})
}

// TestRefusalsPointAtAllowedActions: in every state of an app's plan, a refused
// order names another way, and that way is then allowed.
func TestRefusalsPointAtAllowedActions(t *testing.T) {
	type step func(w *world, app store.App) error
	upgrade := func(w *world, app store.App) error {
		_, err := w.com.Upgrade(w.ctx, commerce.UpgradeRequest{SDKAppID: app.SDKAppID, Edition: "premium"})
		return err
	}
	buy := func(ed string) step {
		return func(w *world, app store.App) error {
			_, err := w.com.Buy(w.ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: ed, Months: 1, AgreementAccepted: true})
			return err
		}
	}
	renew := func(w *world, app store.App) error {
		_, err := w.com.Renew(w.ctx, commerce.RenewRequest{SDKAppIDs: []int64{app.SDKAppID}, Months: 1})
		return err
	}
	refund := func(w *world, app store.App) error {
		_, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID})
		return err
	}
	extend := func(w *world, app store.App) error {
		_, err := w.com.ExtendTrial(w.ctx, app.SDKAppID)
		return err
	}
	addon := func(w *world, app store.App) error {
		_, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: "push", Months: 1})
		return err
	}
	// States, reached from Standard (or Premium) bought 1 Mar 00:00 for a month.
	suspend := func(w *world, app store.App) {
		err := w.st.InCommerceTx(w.ctx, func(tx store.CommerceTx) error {
			a, err := tx.LockApp(w.ctx, app.SDKAppID)
			if err != nil {
				return err
			}
			commerce.SuspendApp(&a, commerce.ReasonExpired, w.clk.Now())
			return tx.UpdateApp(w.ctx, a)
		})
		if err != nil {
			w.t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		edition string // "" stays on Free Trial
		state   func(w *world, app store.App)
		refused step
		hint    string
		then    step
	}{
		{"in force: buy Premium", "standard", nil, buy("premium"), "upgrade", upgrade},
		{"in force: buy Standard again", "standard", nil, buy("standard"), "renew", renew},
		{"in force: downgrade", "premium", nil, buy("standard"), "refund", refund},
		{"grace: upgrade", "standard", func(w *world, _ store.App) { w.clk.Set(at("2026-04-01 06:00")) }, upgrade, "buy Premium", buy("premium")},
		{"grace: upgrade, or renew", "standard", func(w *world, _ store.App) { w.clk.Set(at("2026-04-01 06:00")) }, upgrade, "renew Standard", renew},
		{"grace: buy Standard again", "standard", func(w *world, _ store.App) { w.clk.Set(at("2026-04-01 06:00")) }, buy("standard"), "renew", renew},
		{"suspended after expiry: upgrade", "standard", func(w *world, app store.App) {
			w.clk.Set(at("2026-04-02 00:00"))
			suspend(w, app)
		}, upgrade, "buy Premium", buy("premium")},
		{"suspended after expiry: add-on", "standard", func(w *world, app store.App) {
			w.clk.Set(at("2026-04-02 00:00"))
			suspend(w, app)
		}, addon, "renew", renew},
		{"refunded: upgrade", "standard", func(w *world, app store.App) {
			w.clk.Set(at("2026-03-05 00:00"))
			if err := refund(w, app); err != nil {
				w.t.Fatal(err)
			}
		}, upgrade, "buy Premium", buy("premium")},
		{"refunded: add-on", "standard", func(w *world, app store.App) {
			w.clk.Set(at("2026-03-05 00:00"))
			if err := refund(w, app); err != nil {
				w.t.Fatal(err)
			}
		}, addon, "buy a plan", buy("standard")},
		{"trial: upgrade", "", nil, upgrade, "buy Premium", buy("premium")},
		{"trial: renew", "", nil, renew, "buy Standard", buy("standard")},
		{"trial expired: add-on", "", func(w *world, app store.App) {
			w.clk.Set(at("2026-04-05 00:00"))
			suspend(w, app)
		}, addon, "extend its Free Trial", extend},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, testdb.SQLite, at("2026-03-01 00:00"))
			acc := w.account("5000", "0")
			app := w.app(acc)
			if tt.edition != "" {
				w.buy(app, tt.edition, 1)
			}
			if tt.state != nil {
				tt.state(w, app)
			}
			err := tt.refused(w, app)
			if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), tt.hint) {
				t.Fatalf("refusal %v, want one saying %q", err, tt.hint)
			}
			if err := tt.then(w, app); err != nil {
				t.Errorf("the refusal said %q, which is then refused: %v", tt.hint, err)
			}
		})
	}
}
