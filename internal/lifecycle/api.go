// Package lifecycle is the scheduler of product spec sections 3 and 5: renewal
// reminders, auto-renewal at expiry, suspension 24 hours after expiry, monthly
// pay-as-you-go bills, suspension of overdue accounts, repossession 90 days after
// suspension (with notices 7 and 1 days before) and the Free Trial's automatic
// extension. Every job is derived from stored state, re-checked inside its own
// transaction and claimed by a unique key, so running the scheduler on several
// nodes at once, or twice, does each job once.
package lifecycle

import (
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
