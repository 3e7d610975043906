package commerce_test

import (
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/testdb"
)

// TestPluginCycle: a plugin runs by whole UTC days, day T to day T−1 of the next
// month (spec 4): Cloud Search bought 10 Mar 14:00 is valid through 9 April and
// ends 10 Apr 00:00; a purchase in force continues on that cycle; a refund counts
// calendar days used. Value-added monthly services keep the edition rule.
func TestPluginCycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-01-31 14:00"))
		acc := w.account("5000", "0")
		app := w.app(acc)
		addon := func(id string, months int) (from, to string) {
			t.Helper()
			o, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: id, Months: months})
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return o.EffectiveFrom.Format("2006-01-02 15:04"), o.EffectiveTo.Format("2006-01-02 15:04")
		}
		// Month end: T = 31 has no 31 February, so the cycle ends with the 27th (T−1 of
		// the clamped day 28), and the next runs 28 Feb → 30 Mar.
		if from, to := addon("push", 1); from != "2026-01-31 14:00" || to != "2026-02-28 00:00" {
			t.Errorf("push bought 31 Jan 14:00: %s → %s", from, to)
		}
		if from, to := addon("push", 1); from != "2026-02-28 00:00" || to != "2026-03-31 00:00" {
			t.Errorf("push bought again in force: %s → %s", from, to)
		}
		w.clk.Set(at("2026-03-10 14:00"))
		if from, to := addon("cloud_search", 1); from != "2026-03-10 14:00" || to != "2026-04-10 00:00" {
			t.Errorf("cloud search bought 10 Mar 14:00: %s → %s, want through 9 April", from, to)
		}
		if from, to := addon("cloud_search", 2); from != "2026-04-10 00:00" || to != "2026-06-10 00:00" {
			t.Errorf("cloud search renewed in force: %s → %s", from, to)
		}
		if from, to := addon("desk", 1); from != "2026-03-10 14:00" || to != "2026-04-10 14:00" {
			t.Errorf("desk (value-added) bought 10 Mar 14:00: %s → %s", from, to)
		}
		// 11 Mar 10:00 is 20 hours after the purchase but its second calendar day:
		// used 399 × 2/31 = 25.74; the current cycle is a full one (399.00), the
		// renewal's two cycles 798.00 are not yet effective.
		w.clk.Set(at("2026-03-11 10:00"))
		r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, Addon: "cloud_search"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Effective != usd("399") || r.NotEffective != usd("798") || r.Used != usd("25.74") || r.Amount != usd("1171.26") {
			t.Errorf("refund: effective %s, not effective %s, used %s, amount %s", r.Effective, r.NotEffective, r.Used, r.Amount)
		}
	})
}

// TestPluginRefundLastDay: refunded on the last day of its cycle (9 Apr 20:00), a
// plugin bought 10 Mar 14:00 has used all 31 days and returns nothing.
func TestPluginRefundLastDay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2026-03-10 14:00"))
		acc := w.account("1000", "0")
		app := w.app(acc)
		if _, err := w.com.BuyAddon(w.ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: "cloud_search", Months: 1}); err != nil {
			t.Fatal(err)
		}
		w.clk.Set(at("2026-04-09 20:00"))
		r, err := w.com.Refund(w.ctx, commerce.RefundRequest{SDKAppID: app.SDKAppID, Addon: "cloud_search"})
		if err != nil || r.Amount != 0 || r.Used != usd("399") {
			t.Errorf("refund on 9 April: %+v, %v", r, err)
		}
	})
}
