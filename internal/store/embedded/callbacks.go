package embedded

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/pebblestore"
)

// Callbacks (store.Callbacks) live in both databases: the configuration, the
// log and the after-events of relational changes (WithCallbacks,
// AppendCallbacks) in SQLite; the after-events of message batches (Apply) in
// the message engine, written in the batch of their messages. The ids never
// meet: SQLite assigns 1, 2, 3, ... (AUTOINCREMENT, never reused); the engine
// sets pebblestore.CallbackIDBit (1<<62) in each of its ids, whose low bits
// come from its persistent id counter. The outbox methods below merge both.

func isEngineEvent(id int64) bool { return id&pebblestore.CallbackIDBit != 0 }

// DueCallbackApps implements store.Callbacks over both outboxes.
func (s *Store) DueCallbackApps(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error) {
	a, err := s.Store.DueCallbackApps(ctx, now, after, limit)
	if err != nil {
		return nil, err
	}
	b, err := s.msgs.DueCallbackApps(ctx, now, after, limit)
	if err != nil {
		return nil, err
	}
	out := append(a, b...)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ClaimCallbacks implements store.Callbacks: it claims up to limit events of
// each outbox, keeps the oldest limit of them by CreatedAt then ID, and gives
// the others back (their claims end without an attempt).
func (s *Store) ClaimCallbacks(ctx context.Context, app int64, node string, now time.Time, lease time.Duration, limit int) ([]store.CallbackEvent, error) {
	a, err := s.Store.ClaimCallbacks(ctx, app, node, now, lease, limit)
	if err != nil {
		return nil, err
	}
	b, err := s.msgs.ClaimCallbacks(ctx, app, node, now, lease, limit)
	if err != nil {
		return nil, errors.Join(err, s.Store.ReleaseCallbacks(ctx, app, node, idsOf(a)))
	}
	if len(b) == 0 {
		return a, nil
	}
	if len(a) == 0 {
		return b, nil
	}
	all := append(a, b...)
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	if len(all) <= limit {
		return all, nil
	}
	var sqlBack, engineBack []int64
	for _, e := range all[limit:] {
		if isEngineEvent(e.ID) {
			engineBack = append(engineBack, e.ID)
		} else {
			sqlBack = append(sqlBack, e.ID)
		}
	}
	s.msgs.ReleaseCallbacks(app, node, engineBack)
	if err := s.Store.ReleaseCallbacks(ctx, app, node, sqlBack); err != nil {
		return nil, err
	}
	return all[:limit], nil
}

func idsOf(evs []store.CallbackEvent) []int64 {
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// FinishCallbacks implements store.Callbacks: the engine's outcomes in one
// batch, then SQLite's with the log in one transaction.
func (s *Store) FinishCallbacks(ctx context.Context, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	var sqlOuts, engineOuts []store.CallbackOutcome
	for _, o := range outs {
		if isEngineEvent(o.ID) {
			engineOuts = append(engineOuts, o)
		} else {
			sqlOuts = append(sqlOuts, o)
		}
	}
	if err := s.msgs.FinishCallbacks(ctx, node, engineOuts); err != nil {
		return err
	}
	return s.Store.FinishCallbacks(ctx, node, sqlOuts, log)
}

// CallbackBacklog implements store.Callbacks: both outboxes.
func (s *Store) CallbackBacklog(ctx context.Context, app int64) (int64, error) {
	a, err := s.Store.CallbackBacklog(ctx, app)
	if err != nil {
		return 0, err
	}
	b, err := s.msgs.CallbackBacklog(ctx, app)
	return a + b, err
}
