package im

import (
	"context"

	"github.com/chatd/chatd/internal/store"
)

// PurgeExpired deletes, for each app, the history older than its edition's
// retention window, and returns how many log entries were deleted. Reads already
// hide such history; the purge makes sure it is not kept either.
func (s *Service) PurgeExpired(ctx context.Context, apps []store.App) (int64, error) {
	var total int64
	for _, app := range apps {
		if app.Status == store.StatusDeleted {
			continue
		}
		n, err := s.Store.PurgeBefore(ctx, app.SDKAppID, s.Gate.RetentionStart(app))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
