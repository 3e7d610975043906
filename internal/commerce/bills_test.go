package commerce_test

import (
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/store"
)

// TestMAULine: MAU over the free 10,000 costs 0.015 USD each, per app (spec 3, 5.2).
func TestMAULine(t *testing.T) {
	for _, tt := range []struct {
		edition  string
		mau      int64
		billable int64
		amount   int64 // cents
		line     bool
	}{
		{"standard", 10000, 0, 0, true},
		{"standard", 10001, 1, 2, true}, // 0.015 rounds half-up to 0.02 on the final line
		{"standard", 10250, 250, 375, true},
		{"premium", 110000, 100000, 150000, true},
		{"standard", 0, 0, 0, false},
		{"trial", 100, 0, 0, false}, // capped, never billed
	} {
		l, ok, _ := commerce.MAULine(store.App{SDKAppID: 1400000001, Edition: tt.edition}, tt.mau)
		if ok != tt.line || l.Billable != tt.billable || l.AmountCents != tt.amount {
			t.Errorf("%s with %d MAU: line %v billable %d amount %d; want %v %d %d", tt.edition, tt.mau, ok, l.Billable, l.AmountCents, tt.line, tt.billable, tt.amount)
		}
	}
}

// TestOverageLines prices every add-on overage of spec 4 exactly.
func TestOverageLines(t *testing.T) {
	lookup := func(id, metric string) (catalog.Addon, catalog.Overage) {
		a, err := catalog.LookupAddon(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range a.Overage {
			if o.Metric == metric {
				return a, o
			}
		}
		t.Fatalf("%s has no %s overage", id, metric)
		return a, catalog.Overage{}
	}
	for _, tt := range []struct {
		name          string
		addon, metric string
		byDay         map[string]int64
		billable      int64
		amount        int64
	}{
		{"push calls within 100 a day", catalog.Push, catalog.MetricPushCalls, map[string]int64{"2026-02-01": 100, "2026-02-02": 90}, 0, 0},
		// 10 USD per extra call per day: day 1 has 30 extra, day 2 has 5.
		{"push calls over, per day", catalog.Push, catalog.MetricPushCalls, map[string]int64{"2026-02-01": 130, "2026-02-02": 105, "2026-02-03": 20}, 35, 35000},
		// 0.1 USD per 10,000 messages over 30 million a month.
		{"push messages", catalog.Push, catalog.MetricPushMessages, map[string]int64{"2026-02-01": 20_000_000, "2026-02-02": 10_020_000}, 20_000, 20},
		{"push messages, a fraction of a block", catalog.Push, catalog.MetricPushMessages, map[string]int64{"2026-02-01": 30_000_500}, 500, 1}, // 0.005 → 0.01
		// 4 USD per 30,000 messages stored over 1.5 million.
		{"search stored", catalog.CloudSearch, catalog.MetricSearchStored, map[string]int64{"2026-02-10": 1_560_000}, 60_000, 800},
		// 4 USD per 10,000 requests over 300,000.
		{"search requests", catalog.CloudSearch, catalog.MetricSearchRequests, map[string]int64{"2026-02-10": 315_000}, 15_000, 600},
		{"call minutes", catalog.Call1v1, catalog.MetricCallMinutes, map[string]int64{"2026-02-10": 12_500}, 2_500, 250},
	} {
		a, o := lookup(tt.addon, tt.metric)
		l, ok, _ := commerce.OverageLine(1400000001, a, o, tt.byDay)
		if !ok || l.Billable != tt.billable || l.AmountCents != tt.amount || l.Product != "addon:"+tt.addon {
			t.Errorf("%s: %v %+v; want billable %d amount %d", tt.name, ok, l, tt.billable, tt.amount)
		}
	}
	a, o := lookup(catalog.Push, catalog.MetricPushMessages)
	if _, ok, _ := commerce.OverageLine(1, a, o, nil); ok {
		t.Error("a line without usage")
	}
}
