// Package lifecycle is the scheduler of product spec sections 3 and 5: renewal
// reminders, auto-renewal at expiry, suspension 24 hours after expiry, monthly
// pay-as-you-go bills, suspension of overdue accounts, repossession 90 days after
// suspension (with notices 7 and 1 days before) and the Free Trial's automatic
// extension. Every job is derived from stored state, re-checked inside its own
// transaction and claimed by a unique key, so running the scheduler on several
// nodes at once, or twice, does each job once.
package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
)

// MaxMove bounds one move of a manual clock (Advance or Set): about 100 years,
// far below what a time.Duration holds, and a bound on the jobs one request runs.
const MaxMove = 36600 * 24 * time.Hour

var (
	// ErrRealClock refuses moving the clock of a server that runs on the real clock.
	ErrRealClock = errs.Kind(errs.ErrConflict, "the server runs on the real clock: start it with --fake-clock to move time")
	// ErrBackwards refuses moving the clock back: jobs that ran cannot be undone.
	ErrBackwards = errs.Kind(errs.ErrInvalid, "the clock only moves forward")
	// ErrTooFar refuses a move of the clock longer than MaxMove.
	ErrTooFar = errs.Kind(errs.ErrInvalid, "the clock moves at most 36600 days at a time")
)

// Report says what a run of the scheduler did.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Jobs int       `json:"jobs"` // jobs that ran (changed state or sent a notice)
}

// maxAdvanceDays is MaxMove in days (the unit of ParseAdvance).
const maxAdvanceDays = int64(MaxMove / (24 * time.Hour))

// ParseAdvance reads how far to move the clock: a Go duration ("720h", "90m"),
// optionally preceded by whole days ("30d", "1d12h"). It must be positive and at
// most MaxMove; the errors wrap errs.ErrInvalid.
func ParseAdvance(s string) (time.Duration, error) {
	bad := fmt.Errorf("%w: advance must be a positive duration such as 24h, 30d or 1d12h, not %q", errs.ErrInvalid, s)
	var days int64
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || s[0] == '+' || s[0] == '-' {
			return 0, bad
		}
		if n > maxAdvanceDays {
			return 0, fmt.Errorf("%w: advance must be at most %d days, not %q", errs.ErrInvalid, maxAdvanceDays, s)
		}
		days, rest = n, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		d, err = time.ParseDuration(rest)
		if err != nil || (days > 0 && (rest[0] == '-' || rest[0] == '+')) {
			return 0, bad
		}
		if d > time.Duration(maxAdvanceDays)*24*time.Hour {
			return 0, fmt.Errorf("%w: advance must be at most %d days, not %q", errs.ErrInvalid, maxAdvanceDays, s)
		}
	}
	d += time.Duration(days) * 24 * time.Hour
	if d <= 0 {
		return 0, bad
	}
	return d, nil
}
