package pebblestore

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// GroupLasts implements store.GroupLog: one point read per group, on one
// snapshot of the database.
func (s *Store) GroupLasts(ctx context.Context, app int64, groups []string) (map[string]store.GroupLast, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	out := make(map[string]store.GroupLast, len(groups))
	for _, g := range groups {
		v, err := get(snap, appKey(app, famGHead).str(g))
		if err != nil {
			return nil, wrap("group lasts", err)
		}
		if len(v) != 16 {
			continue
		}
		d := dec{b: v}
		out[g] = store.GroupLast{Seq: int64(d.u64()), MsgTime: d.i64()}
	}
	return out, nil
}

// GroupUnreads implements store.GroupLog: GroupUnread per group (each an
// in-process index scan).
func (s *Store) GroupUnreads(ctx context.Context, app int64, member string, reads map[string]int64, notBefore, now time.Time) (map[string]int, error) {
	out := make(map[string]int, len(reads))
	for g, read := range reads {
		n, err := s.GroupUnread(ctx, app, g, member, read, notBefore, now)
		if err != nil {
			return nil, err
		}
		out[g] = n
	}
	return out, nil
}
