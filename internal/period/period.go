// Package period computes monthly validity periods with the month-end rule of the
// product spec (5.1): a period runs from day D of one month to day D of the next; when
// the next month has no day D it ends on that month's last day, and D stays the anchor
// for later periods (31 Jan -> 28/29 Feb -> 31 Mar). Periods end at the anchor's time of day.
package period

import "time"

// AddMonths returns the end of the n-th monthly period that starts at anchor.
func AddMonths(anchor time.Time, n int) time.Time {
	y, m, d := anchor.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, anchor.Location())
	last := daysIn(first.Year(), first.Month())
	if d > last {
		d = last
	}
	h, mi, s := anchor.Clock()
	return time.Date(first.Year(), first.Month(), d, h, mi, s, anchor.Nanosecond(), anchor.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Month returns the UTC calendar month of t as "2006-01" (the MAU month key).
func Month(t time.Time) string { return t.UTC().Format("2006-01") }
