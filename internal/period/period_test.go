package period

import (
	"testing"
	"time"
)

func TestAddMonths(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		anchor string
		n      int
		want   string
	}{
		{"2026-03-01T10:00:00Z", 1, "2026-04-01T10:00:00Z"},
		{"2026-01-31T08:30:15Z", 1, "2026-02-28T08:30:15Z"},
		{"2026-01-31T08:30:15Z", 2, "2026-03-31T08:30:15Z"}, // anchor day survives February
		{"2028-01-31T00:00:00Z", 1, "2028-02-29T00:00:00Z"}, // leap year
		{"2026-08-31T23:59:59Z", 1, "2026-09-30T23:59:59Z"},
		{"2026-12-15T12:00:00Z", 1, "2027-01-15T12:00:00Z"},
		{"2026-03-10T00:00:00Z", 24, "2028-03-10T00:00:00Z"},
	}
	for _, tt := range tests {
		if got := AddMonths(d(tt.anchor), tt.n); !got.Equal(d(tt.want)) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.anchor, tt.n, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestMonthIsUTC(t *testing.T) {
	loc := time.FixedZone("UTC+8", 8*3600)
	if got := Month(time.Date(2026, 12, 1, 2, 0, 0, 0, loc)); got != "2026-11" {
		t.Fatalf("Month = %s, want 2026-11 (UTC)", got)
	}
}
