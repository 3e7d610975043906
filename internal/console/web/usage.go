package web

import (
	"context"
	"fmt"

	"github.com/chatd/chatd/internal/store"
)

// UsageDays is the number of UTC days the detail page's usage shows.
const UsageDays = 30

// DailyUsage reads an app's figures of the last n UTC days, oldest first, one
// item per day (a *usage.Recorder; the same interface as the console API's).
type DailyUsage interface {
	LastDays(ctx context.Context, app int64, n int) ([]store.DailyUsage, error)
}

// Chart geometry, in SVG user units: UsageDays bars of barStep each.
const (
	chartHeight = 120 // the tallest bar
	barStep     = 20  // a bar and its gap
	barWidth    = 16
	chartTop    = 4 // room above the tallest bar
)

// bar is one day's bar of a chart.
type bar struct {
	Day        string
	Value      int64
	X, Y, W, H int
}

// barChart is an inline SVG bar chart of one figure over the days; the
// usage table is its text form.
type barChart struct {
	ID, Title, Desc string
	Max             int64
	Width, Height   int
	Bars            []bar
}

// usageView is the detail page's usage section.
type usageView struct {
	Days   []store.DailyUsage
	Charts []barChart
}

// newChart scales value(day) of days to chartHeight (the largest value is
// the full height; a non-zero value is at least one unit tall).
func newChart(id, title, what string, days []store.DailyUsage, value func(store.DailyUsage) int64) barChart {
	c := barChart{ID: id, Title: title, Width: len(days) * barStep, Height: chartHeight + chartTop}
	maxDay := ""
	for _, d := range days {
		if v := value(d); v > c.Max {
			c.Max, maxDay = v, d.Day
		}
	}
	for i, d := range days {
		v := value(d)
		h := 0
		if c.Max > 0 {
			h = int(v * chartHeight / c.Max)
			if h == 0 && v > 0 {
				h = 1
			}
		}
		c.Bars = append(c.Bars, bar{Day: d.Day, Value: v, X: i * barStep, Y: c.Height - h, W: barWidth, H: h})
	}
	if len(days) > 0 {
		c.Desc = fmt.Sprintf("%s per UTC day from %s to %s, one bar a day; ", what, days[0].Day, days[len(days)-1].Day)
		if c.Max == 0 {
			c.Desc += "none in these days."
		} else {
			c.Desc += fmt.Sprintf("the most was %d on %s. The table below has every day's figures.", c.Max, maxDay)
		}
	}
	return c
}

// usageCharts is the usage section of days: active users, messages and logins.
func usageCharts(days []store.DailyUsage) *usageView {
	return &usageView{Days: days, Charts: []barChart{
		newChart("chart-active", "Daily active users", "Distinct active users", days, func(d store.DailyUsage) int64 { return d.ActiveUsers }),
		newChart("chart-msgs", "Messages per day", "Messages sent (one-to-one and group)", days, func(d store.DailyUsage) int64 { return d.C2CMsgs + d.GroupMsgs }),
		newChart("chart-logins", "Logins per day", "Logins", days, func(d store.DailyUsage) int64 { return d.Logins }),
	}}
}
