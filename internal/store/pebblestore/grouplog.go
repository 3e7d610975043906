package pebblestore

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/store"
)

// GroupSync implements store.GroupLog: one iterator over the group's index
// keys (filtering by age and end of life), a point read per entry returned.
func (s *Store) GroupSync(ctx context.Context, app int64, group string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	if after < 0 {
		after = 0
	}
	out, err := s.groupScan(app, group, after+1, 0, limit, false, notBefore, now)
	return out, wrap("group sync", err)
}

// GroupHistory implements store.GroupLog.
func (s *Store) GroupHistory(ctx context.Context, app int64, group string, from int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	out, err := s.groupScan(app, group, 1, from, limit, true, notBefore, now)
	return out, wrap("group history", err)
}

// groupScan reads the live entries with seq in [lo, hi] (hi <= 0: no bound),
// oldest first or newest first, at most limit.
func (s *Store) groupScan(app int64, group string, lo, hi int64, limit int, newest bool, notBefore, now time.Time) ([]store.Entry, error) {
	f, err := s.filter(app, notBefore, now)
	if err != nil {
		return nil, err
	}
	p := appKey(app, famGIdx).str(group)
	upper := prefixEnd(p)
	if hi > 0 {
		upper = gIdxKey(app, group, hi+1)
	}
	it, err := s.iter(s.db, gIdxKey(app, group, lo), upper)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []store.Entry
	step := it.Next
	ok := it.First()
	if newest {
		step, ok = it.Prev, it.Last()
	}
	for ; ok && (limit <= 0 || len(out) < limit); ok = step() {
		x, err := decodeGidx(it.Value())
		if err != nil {
			return nil, err
		}
		if !f.live(x.created, x.expires) {
			continue
		}
		d := dec{b: it.Key()[len(p):]}
		seq := int64(d.u64())
		v, err := get(s.db, gLogKey(app, group, seq))
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue // purged alongside
		}
		r, err := decodeGrec(seq, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r.entry(app, group))
	}
	return out, it.Error()
}

// GroupLast implements store.GroupLog.
func (s *Store) GroupLast(ctx context.Context, app int64, group string) (store.GroupLast, error) {
	if err := s.enter(); err != nil {
		return store.GroupLast{}, err
	}
	defer s.closeMu.RUnlock()
	v, err := get(s.db, appKey(app, famGHead).str(group))
	if err != nil || len(v) != 16 {
		return store.GroupLast{}, wrap("group last", err)
	}
	d := dec{b: v}
	return store.GroupLast{Seq: int64(d.u64()), MsgTime: d.i64()}, nil
}

// GroupUnread implements store.GroupLog from the index keys alone.
func (s *Store) GroupUnread(ctx context.Context, app int64, group, member string, readSeq int64, notBefore, now time.Time) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	f, err := s.filter(app, notBefore, now)
	if err != nil {
		return 0, wrap("group unread", err)
	}
	if readSeq < 0 {
		readSeq = 0
	}
	p := appKey(app, famGIdx).str(group)
	it, err := s.iter(s.db, gIdxKey(app, group, readSeq+1), prefixEnd(p))
	if err != nil {
		return 0, wrap("group unread", err)
	}
	defer it.Close()
	// The newest MaxGroupUnreadScan keys at most, read backwards.
	n, scanned := 0, 0
	for ok := it.Last(); ok && scanned < store.MaxGroupUnreadScan; ok = it.Prev() {
		scanned++
		x, err := decodeGidx(it.Value())
		if err != nil {
			return 0, wrap("group unread", err)
		}
		if x.counts(member) && f.live(x.created, x.expires) {
			n++
		}
	}
	return n, wrap("group unread", it.Error())
}

// DeleteGroupMsgsBySender implements store.GroupLog: a scan of the group's
// index keys, under the commit lock.
func (s *Store) DeleteGroupMsgsBySender(ctx context.Context, app int64, group, sender string) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := appKey(app, famGIdx).str(group)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return 0, wrap("delete group msgs", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		x, err := decodeGidx(it.Value())
		if err != nil {
			it.Close()
			return 0, wrap("delete group msgs", err)
		}
		if x.from != sender || x.flags&gNotMsg != 0 {
			continue
		}
		d := dec{b: it.Key()[len(p):]}
		seq := int64(d.u64())
		n++
		for _, k := range [][]byte{gLogKey(app, group, seq), gIdxKey(app, group, seq), gAgeKey(app, x.created, group, seq)} {
			if err := b.Delete(k, nil); err != nil {
				it.Close()
				return 0, wrap("delete group msgs", err)
			}
		}
	}
	if err := it.Close(); err != nil {
		return 0, wrap("delete group msgs", err)
	}
	if n == 0 {
		return 0, nil
	}
	committed, err := s.withCallbacks(ctx, b)
	if err != nil {
		return 0, wrap("delete group msgs", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, wrap("delete group msgs", err)
	}
	committed()
	return n, nil
}

// DeleteGroupLog implements store.GroupLog: range deletes of the group's
// records, index keys, ClientIDs and Randoms; the head (last seq) stays, and
// the age keys, which purges then skip.
func (s *Store) DeleteGroupLog(ctx context.Context, app int64, group string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, fam := range []byte{famGLog, famGIdx, famGClient, famGRandom} {
		p := appKey(app, fam).str(group)
		if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return wrap("delete group log", err)
		}
	}
	committed, err := s.withCallbacks(ctx, b)
	if err != nil {
		return wrap("delete group log", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return wrap("delete group log", err)
	}
	committed()
	return nil
}

// purgeGroups adds to b the deletion of the group entries created before cut
// (Unix ms) and returns how many there are (entries still indexed).
func (s *Store) purgeGroups(b *pebble.Batch, app int64, cut int64) (int64, error) {
	lower, upper := appKey(app, famGAge), appKey(app, famGAge).i64(cut)
	it, err := s.iter(s.db, lower, upper)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	found := false
	for ok := it.First(); ok; ok = it.Next() {
		found = true
		d := dec{b: it.Key()[len(lower):]}
		d.i64()
		group := d.str()
		seq := int64(d.u64())
		if d.err != nil {
			return 0, d.err
		}
		ik := gIdxKey(app, group, seq)
		v, err := get(s.db, ik)
		if err != nil {
			return 0, err
		}
		if v == nil {
			continue // deleted by sender or with its group
		}
		n++
		if err := b.Delete(ik, nil); err != nil {
			return 0, err
		}
		if err := b.Delete(gLogKey(app, group, seq), nil); err != nil {
			return 0, err
		}
	}
	if err := it.Error(); err != nil {
		return 0, err
	}
	if found {
		return n, b.DeleteRange(lower, upper, nil)
	}
	return n, nil
}
