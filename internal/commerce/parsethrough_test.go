package commerce_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
)

func TestParseThrough(t *testing.T) {
	for in, want := range map[string]string{
		"2027-01-31":                "2027-02-01T00:00:00Z",
		"2026-12-31":                "2027-01-01T00:00:00Z",
		"2027-01-31T10:00:00Z":      "2027-01-31T10:00:00Z",
		"2027-01-31T10:00:00-05:00": "2027-01-31T15:00:00Z",
	} {
		got, err := commerce.ParseThrough("expires", in)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("commerce.ParseThrough(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2027-1-31", "2027-02-30", "31.01.2027", "2027-01-31 10:00", "9999-12-31", "9999-12-31T23:59:59-01:00"} {
		if _, err := commerce.ParseThrough("expires", bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("commerce.ParseThrough(%q) accepted", bad)
		}
	}
}
