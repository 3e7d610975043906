package usage

import (
	"context"
	"fmt"

	"github.com/chatd/chatd/internal/store"
)

// RetentionDays is how long daily figures are kept: Purge deletes the days
// before the last RetentionDays (today included).
const RetentionDays = 400

// UserDays is how long the store keeps the users counted per day (today and
// yesterday, for a late flush): the figures keep their number, and a day is
// not admitted to once over.
const UserDays = 2

// LastDays returns app's figures of the last n UTC days (1..RetentionDays),
// today included, oldest first: one item per day, zero for a day without
// activity. The store's figures are those flushed so far, so up to one flush
// interval (and the other nodes' intervals) behind.
func (r *Recorder) LastDays(ctx context.Context, app int64, n int) ([]store.DailyUsage, error) {
	if n < 1 || n > RetentionDays {
		return nil, fmt.Errorf("usage: %d days: want 1 to %d", n, RetentionDays)
	}
	today := dayOf(r.clock.Now())
	first := today - int64(n) + 1
	got, err := r.store.DailyUsage(ctx, app, dayString(first), dayString(today))
	if err != nil {
		return nil, err
	}
	out := make([]store.DailyUsage, n)
	j := 0
	for i := range out {
		out[i].Day = dayString(first + int64(i))
		for j < len(got) && got[j].Day < out[i].Day {
			j++
		}
		if j < len(got) && got[j].Day == out[i].Day {
			out[i] = got[j]
		}
	}
	return out, nil
}

// Purge deletes the figures of the days before the last RetentionDays and
// the users of the days before the last UserDays (by the recorder's clock),
// and returns how many rows went.
func (r *Recorder) Purge(ctx context.Context) (int64, error) {
	today := dayOf(r.clock.Now())
	return r.store.PurgeDailyBefore(ctx, dayString(today-RetentionDays+1), dayString(today-UserDays+1))
}
