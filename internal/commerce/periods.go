package commerce

import (
	"math/big"
	"time"

	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// day is the unit of "days used" in refunds. Periods are whole UTC days long:
// they end at the anchor's time of day.
const day = 24 * time.Hour

// periodIndex returns the largest k such that period k of anchor (which starts at
// period.AddMonths(anchor, k)) starts at or before t; 0 when t is before the anchor.
func periodIndex(anchor, t time.Time) int {
	ay, am, _ := anchor.Date()
	ty, tm, _ := t.Date()
	k := (ty-ay)*12 + int(tm-am) - 1
	if k < 0 {
		k = 0
	}
	for k > 0 && period.AddMonths(anchor, k).After(t) {
		k--
	}
	for !period.AddMonths(anchor, k+1).After(t) {
		k++
	}
	return k
}

// segment is the part of an order that falls in one monthly period of its anchor.
type segment struct {
	start, end             time.Time // the order's time within the period
	periodStart, periodEnd time.Time
	value                  money.Exact // this segment's share of what was paid (vouchers and discounts excluded)
	cash, credit           money.Exact // value split as the order was paid
}

// paidValue is what was paid for an order from the balance, including value
// carried into an upgrade: the base of refunds (vouchers are never returned).
func paidValue(o store.Order) (cash, credit int64) {
	return o.CashCents + o.CarriedCashCents, o.CreditCents + o.CarriedCreditCents
}

// segments splits an order into its monthly periods (product spec 5.5 Decision:
// an order of N months is N consecutive periods, each carrying 1/N of what was
// paid). A period carries value in proportion to the fraction of it the order
// covers, so whole periods carry equal shares whatever their length in days, and
// the partial first period of an upgrade carries less. A plugin's cycles are
// whole UTC days: its first cycle starts at 00:00 of the purchase day, a full
// cycle, and its days used count from there.
func segments(o store.Order) []segment {
	var segs []segment
	var fracs []*big.Rat
	total := new(big.Rat)
	from := o.EffectiveFrom
	if isPluginOrder(o) {
		from = startOfDay(from)
	}
	for k := periodIndex(o.Anchor, from); ; k++ {
		ps, pe := period.AddMonths(o.Anchor, k), period.AddMonths(o.Anchor, k+1)
		if !ps.Before(o.EffectiveTo) {
			break
		}
		s, e := later(ps, from), earlier(pe, o.EffectiveTo)
		if !s.Before(e) {
			continue
		}
		f := big.NewRat(int64(e.Sub(s)/time.Second), int64(pe.Sub(ps)/time.Second))
		segs = append(segs, segment{start: s, end: e, periodStart: ps, periodEnd: pe})
		fracs = append(fracs, f)
		total.Add(total, f)
	}
	cash, credit := paidValue(o)
	for i := range segs {
		share := new(big.Rat).Quo(fracs[i], total)
		segs[i].cash = money.Of(money.Cents(cash)).Scale(share)
		segs[i].credit = money.Of(money.Cents(credit)).Scale(share)
		segs[i].value = segs[i].cash.Add(segs[i].credit)
	}
	return segs
}

// listValue is the list price of the time [from, to) on the periods of anchor:
// the monthly price × the fraction of each period covered, summed (exact).
func listValue(monthly int64, anchor, from, to time.Time) money.Exact {
	v := money.Zero()
	for k := periodIndex(anchor, from); ; k++ {
		ps, pe := period.AddMonths(anchor, k), period.AddMonths(anchor, k+1)
		if !ps.Before(to) {
			return v
		}
		s, e := later(ps, from), earlier(pe, to)
		if s.Before(e) {
			v = v.Add(money.Ratio(money.Cents(monthly), int64(e.Sub(s)/time.Second), int64(pe.Sub(ps)/time.Second)))
		}
	}
}

// unusedValue is the part of what was paid for o that covers time from t on,
// prorated by the second within each period, split into cash and credit.
func unusedValue(o store.Order, t time.Time) (cash, credit money.Exact) {
	cash, credit = money.Zero(), money.Zero()
	for _, s := range segments(o) {
		if !s.end.After(t) {
			continue
		}
		from := later(s.start, t)
		f := big.NewRat(int64(s.end.Sub(from)/time.Second), int64(s.end.Sub(s.start)/time.Second))
		cash = cash.Add(s.cash.Scale(f))
		credit = credit.Add(s.credit.Scale(f))
	}
	return cash, credit
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
