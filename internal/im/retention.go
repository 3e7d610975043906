package im

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// PurgeExpired deletes, for each app, the history older than its edition's
// retention window and the messages whose MsgLifeTime ended, and returns how many
// log entries were deleted. Reads already hide both; the purge makes sure they
// are not kept either.
func (s *Service) PurgeExpired(ctx context.Context, apps []store.App) (int64, error) {
	var total int64
	for _, app := range apps {
		if app.Status == store.StatusDeleted {
			continue
		}
		n, err := s.store.PurgeBefore(ctx, app.SDKAppID, s.gate.RetentionStart(app), s.clock.Now())
		if err != nil {
			return total, err
		}
		total += n
		if _, err := s.store.PurgeGroupReceipts(ctx, app.SDKAppID, s.gate.RetentionStart(app)); err != nil { // group_receipts.go
			return total, err
		}
	}
	return total, nil
}

// expired reports whether e's offline life (MsgLifeTime) has ended at now.
func expired(e store.Entry, now time.Time) bool {
	return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
}
