// Package gate answers "may app A do X now?": app status, edition limits, feature
// flags and monthly-active-user metering. Domain code asks the gate; transport code
// never re-checks these rules.
package gate

import (
	"context"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// Gate applies the edition rules of the catalog to apps.
type Gate struct {
	MAU   store.MAU
	Clock clock.Clock
}

// Active refuses any use of an app that is deleted or suspended.
func (g *Gate) Active(app store.App) error {
	switch app.Status {
	case store.StatusActive:
		return nil
	case store.StatusDeleted:
		return errs.New(errs.AppNotFound, "SDKAppID %d does not exist", app.SDKAppID)
	default:
		return errs.New(errs.PlanInactive, "app %d is suspended: its plan expired or its account is suspended; renew the plan to resume", app.SDKAppID)
	}
}

// AdmitLogin counts user as a monthly active user of app (once per UTC calendar
// month) and refuses the login when the edition's MAU cap is reached for a user not
// yet counted this month.
func (g *Gate) AdmitLogin(ctx context.Context, app store.App, user string) error {
	if err := g.Active(app); err != nil {
		return err
	}
	ed := catalog.MustLookup(app.Edition)
	_, err := g.MAU.AdmitMonthly(ctx, app.SDKAppID, period.Month(g.Clock.Now()), user, ed.MAUCap, g.Clock.Now())
	if errors.Is(err, errs.ErrLimit) {
		return errs.New(errs.TrialMAUCap, "the %s edition allows %d monthly active users and this month's are used up; upgrade to Standard or Premium", ed.Name, ed.MAUCap)
	}
	return err
}

// MonthlyActiveUsers returns the exact MAU of app in month ("2006-01").
func (g *Gate) MonthlyActiveUsers(ctx context.Context, app int64, month string) (int, error) {
	return g.MAU.CountMonthly(ctx, app, month)
}

// RetentionStart returns the oldest creation time of history the app may still see.
func (g *Gate) RetentionStart(app store.App) time.Time {
	days := catalog.MustLookup(app.Edition).RetentionDays
	return g.Clock.Now().Add(-time.Duration(days) * 24 * time.Hour)
}

// AllowsSamePlatformDevices reports whether a user of app may be logged in on several
// devices of the same platform at once (an edition feature).
func (g *Gate) AllowsSamePlatformDevices(app store.App) bool {
	return catalog.MustLookup(app.Edition).Has(catalog.MultiDeviceSamePlat)
}
