package pebblestore

import (
	"context"

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
