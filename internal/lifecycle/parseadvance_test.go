package lifecycle_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/lifecycle"
)

func TestParseAdvance(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"24h", 24 * time.Hour},
		{"720h", 720 * time.Hour},
		{"30d", 30 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1d30m", 24*time.Hour + 30*time.Minute},
		{"0d1s", time.Second},
		{"90m", 90 * time.Minute},
	} {
		if got, err := lifecycle.ParseAdvance(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseAdvance(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "0s", "0d", "-1h", "-1d", "+1d", "d", "1.5d", "1d-1h", "1d+1h", "1w", "30 d", "1d1d", "36601d", "1000000h"} {
		if d, err := lifecycle.ParseAdvance(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseAdvance(%q) = %v, want an error", bad, d)
		}
	}
}
