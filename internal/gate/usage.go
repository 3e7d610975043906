package gate

import (
	"context"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// MAUUsage is an app's monthly active users of the current month (UTC, by the
// gate's clock) against its edition's quota.
type MAUUsage struct {
	Month string // "2006-01"
	Used  int    // distinct users counted this month
	Free  int    // the edition's free MAU (catalog.Edition.FreeMAU)
	Cap   int    // the edition's hard cap (the trial); 0 when extra MAU is billed instead
}

// MonthlyUsage returns app's MAU of the current month against its edition's quota.
func (g *Gate) MonthlyUsage(ctx context.Context, app store.App) (MAUUsage, error) {
	ed, err := catalog.Lookup(app.Edition)
	if err != nil {
		return MAUUsage{}, err
	}
	month := period.Month(g.Clock.Now())
	n, err := g.MAU.CountMonthly(ctx, app.SDKAppID, month)
	if err != nil {
		return MAUUsage{}, err
	}
	return MAUUsage{Month: month, Used: n, Free: ed.FreeMAU, Cap: ed.MAUCap}, nil
}
