package pebblestore

import (
	"context"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// PurgeBefore implements store.Messages. Records created before t are removed
// with one range delete per family (messages, recall/read events): they are
// keyed by creation time. Messages whose ExpiresAt is at or before now are
// found through the expiry index (only messages sent with a MsgLifeTime are in
// it). The count is of log entries, as in the SQL store: a message counts once
// per log that holds it. Index keys of removed records stay; readers skip them
// (a missing record, or the purge marks for unread counts).
//
// Purges run one at a time, and alongside Apply: sends wait for nothing but
// the final commit. (A record Apply writes between the count and the commit
// with a creation time before t — a clock set back — goes uncounted.)
func (s *Store) PurgeBefore(ctx context.Context, app int64, t, now time.Time) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	marks, err := s.purgeMarks(app)
	if err != nil {
		return 0, wrap("purge", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	var n int64
	cut := int64(math.MinInt64)
	if !t.IsZero() {
		cut = t.UnixMilli()
		for _, fam := range []byte{famMsg, famEvent} {
			lower, upper := appKey(app, fam), appKey(app, fam).i64(cut)
			c, err := s.countRange(app, fam, lower, upper)
			if err != nil {
				return 0, wrap("purge", err)
			}
			if c > 0 {
				n += c
				if err := b.DeleteRange(lower, upper, nil); err != nil {
					return 0, wrap("purge", err)
				}
			}
		}
		c, err := s.purgeGroups(b, app, cut)
		if err != nil {
			return 0, wrap("purge", err)
		}
		n += c
		if cut > marks.before {
			marks.before = cut
		}
	}
	if !now.IsZero() {
		p := appKey(app, famExpiry)
		it, err := s.iter(s.db, p, p.i64(now.UnixMilli()+1))
		if err != nil {
			return 0, wrap("purge", err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			d := dec{b: it.Key()[len(p):]}
			d.i64()
			rf := ref{fam: famMsg, created: d.i64(), id: d.u64()}
			if rf.created >= cut {
				m, found, err := s.loadMessage(s.db, app, rf)
				if err != nil {
					it.Close()
					return 0, wrap("purge", err)
				}
				if found {
					n += int64(len(m.copies(app)))
					if err := b.Delete(rf.key(app), nil); err != nil {
						it.Close()
						return 0, wrap("purge", err)
					}
				}
			}
			if err := b.Delete(it.Key(), nil); err != nil {
				it.Close()
				return 0, wrap("purge", err)
			}
		}
		if err := it.Close(); err != nil {
			return 0, wrap("purge", err)
		}
		if ms := now.UnixMilli(); ms > marks.expired {
			marks.expired = ms
		}
	}
	if err := b.Set(appKey(app, famPurge), keyBuf(nil).i64(marks.before).i64(marks.expired), nil); err != nil {
		return 0, wrap("purge", err)
	}
	s.mu.Lock() // not across DeleteApp, which forgets the app's marks
	defer s.mu.Unlock()
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, wrap("purge", err)
	}
	s.marksMu.Lock()
	s.marks[app] = marks
	s.marksMu.Unlock()
	return n, nil
}

// countRange counts the log entries of the records in [lower, upper).
func (s *Store) countRange(app int64, fam byte, lower, upper []byte) (int64, error) {
	it, err := s.iter(s.db, lower, upper)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		if fam == famEvent {
			n++
			continue
		}
		v := it.Value()
		if len(v) == 0 {
			return 0, errCorrupt
		}
		if v[0]&msgHasSender != 0 {
			n++
		}
		if v[0]&msgHasReceiver != 0 {
			n++
		}
	}
	return n, it.Error()
}

// DeleteApp removes every key of the app with one range delete and forgets
// its cached counters; later Apply calls refuse the app's ops (70020), so a
// send checked before the deletion cannot write after it. It is idempotent; the caller marks the app deleted in
// SQL first and calls it again on start for every deleted app, so a crash in
// between leaves nothing behind.
func (s *Store) DeleteApp(ctx context.Context, app int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted == nil {
		s.deleted = map[int64]bool{}
	}
	s.deleted[app] = true
	lower, upper := appKey(app, 0)[:8], appKey(app+1, 0)[:8]
	it, err := s.iter(s.db, lower, upper)
	if err != nil {
		return wrap("delete app", err)
	}
	empty := !it.First()
	if err := it.Close(); err != nil {
		return wrap("delete app", err)
	}
	if !empty {
		if err := s.db.DeleteRange(lower, upper, pebble.Sync); err != nil {
			return wrap("delete app", err)
		}
	}
	s.cachedSeqs -= len(s.seqs[app])
	delete(s.seqs, app)
	s.marksMu.Lock()
	delete(s.marks, app)
	s.marksMu.Unlock()
	s.dropLeases(app)
	return nil
}
