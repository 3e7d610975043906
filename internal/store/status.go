package store

import (
	"context"
	"time"
)

// UserStatuses keeps the custom status text of users (the user status feature;
// docs/protocol.md "User status"). Online state is not stored: it is the set of
// connected devices.
type UserStatuses interface {
	// SetCustomStatus stores text as the user's custom status at at; "" clears
	// it. errs.ErrNotFound when the user does not exist.
	SetCustomStatus(ctx context.Context, app int64, userID, text string, at time.Time) error
	// CustomStatuses returns the non-empty custom statuses of the users named
	// that exist, keyed by UserID.
	CustomStatuses(ctx context.Context, app int64, ids []string) (map[string]string, error)
}
