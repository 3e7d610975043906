package pebblestore

import (
	"context"
	"encoding/binary"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/store"
)

// CallbackIDBit is set in the id of every after-event of the engine's outbox,
// so that those ids never meet the ids of a SQL outbox beside it (package
// embedded): an event's id is CallbackIDBit | n, where n comes from the
// engine's one id counter (the one of message and event records, metaID),
// which is written in each batch that uses it. The ids therefore increase in
// the order events are appended, also across restarts and after the newest
// events were delivered and removed.
const CallbackIDBit = int64(1) << 62

// The engine's outbox holds the after-events of its batches (Apply: the ops'
// store.Op.Callback and the ctx's store.WithCallbacks), written in the batch
// that writes the op's keys. An event is two keys under its app's prefix (so
// DeleteApp's range delete removes them): famCbEvent, the record, and
// famCbDue, ordered by when it is due. Claims are held in memory only: the
// engine has one process, and after a restart every event is free again.

// cbLease is a claim of an event.
type cbLease struct {
	app   int64
	node  string
	until int64 // Unix ms
}

func cbEventKey(app, id int64) []byte { return appKey(app, famCbEvent).u64(uint64(id)) }

func cbDueKey(app, nextAt, id int64) []byte {
	return appKey(app, famCbDue).i64(nextAt).u64(uint64(id))
}

// dueMs is the due key's time of an event due at t: Unix ms, and 0 (at once)
// for the zero time and any time before 1970, so that every due key sorts at
// or after the fresh keys' start.
func dueMs(t time.Time) int64 { return max(0, toMs(t)) }

// noteCallbackApps records, once their batch is committed, that the apps of
// evs may have outbox events.
func (s *Store) noteCallbackApps(evs []store.CallbackEvent) {
	if len(evs) == 0 {
		return
	}
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	if s.cbApps == nil {
		return // not loaded yet: the load finds them
	}
	for _, e := range evs {
		if _, ok := s.cbApps[e.App]; !ok {
			s.cbApps[e.App] = 0
		}
	}
}

// loadCallbackApps finds the apps with outbox events (under cbMu): a skip
// scan, one seek per app with keys, done once per process.
func (s *Store) loadCallbackApps() error {
	if s.cbApps != nil {
		return nil
	}
	it, err := s.iter(s.db, nil, nil)
	if err != nil {
		return err
	}
	defer it.Close()
	apps := map[int64]int64{}
	for app := int64(1); app > 0; {
		if !it.SeekGE(appKey(app, famCbDue)) {
			break
		}
		k := it.Key()
		if len(k) < 9 {
			return errCorrupt
		}
		if got := int64(binary.BigEndian.Uint64(k)); got != app {
			app = got // the next app with keys: look at its due keys
			continue
		}
		if k[8] == famCbDue {
			apps[app] = 0
		}
		app++
	}
	if err := it.Error(); err != nil {
		return err
	}
	s.cbApps = apps
	return nil
}

func encodeCallback(e *store.CallbackEvent) []byte { return encodeCallbackTo(nil, e) }

// encodeCallbackTo appends the record of e to b.
func encodeCallbackTo(b []byte, e *store.CallbackEvent) []byte {
	return enc(b).str(e.Command).bytes(e.Body).str(e.ClientIP).str(e.Platform).varint(toMs(e.CreatedAt)).
		uvarint(uint64(e.Attempts)).varint(toMs(e.NextAt)).str(e.LastError)
}

func decodeCallback(app, id int64, v []byte) (store.CallbackEvent, error) {
	d := dec{b: v}
	e := store.CallbackEvent{ID: id, App: app}
	e.Command = d.str()
	e.Body = append([]byte{}, d.bytes()...)
	e.ClientIP, e.Platform = d.str(), d.str()
	e.CreatedAt = fromMs(d.varint())
	e.Attempts = int(d.uvarint())
	e.NextAt = fromMs(d.varint())
	e.LastError = d.str()
	return e, d.err
}

// appendCallbacks writes evs into the batch with ids from its counter.
func (a *applier) appendCallbacks(evs []store.CallbackEvent) error {
	for i := range evs {
		e := evs[i]
		if a.s.deleted[e.App] {
			continue // DeleteApp ran: nothing may bring its keys back
		}
		a.lastID++
		e.ID = CallbackIDBit | int64(a.lastID)
		// Keys and values in the scratch buffers: Set copies them.
		a.vb = encodeCallbackTo(a.vb[:0], &e)
		a.kb = a.key(e.App, famCbEvent).u64(uint64(e.ID))
		if err := a.b.Set(a.kb, a.vb, nil); err != nil {
			return err
		}
		a.kb = a.key(e.App, famCbDue).i64(dueMs(e.NextAt)).u64(uint64(e.ID))
		if err := a.b.Set(a.kb, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// withCallbacks adds to b, a write of a method other than Apply (under mu),
// the after-events ctx carries (store.WithCallbacks) and the id counter they
// move; once b is committed, call the returned function.
func (s *Store) withCallbacks(ctx context.Context, b *pebble.Batch) (committed func(), err error) {
	evs, written := store.CallbacksOf(ctx)
	if len(evs) == 0 {
		return func() {}, nil
	}
	a := &applier{s: s, b: b, lastID: s.lastID}
	if err := a.appendCallbacks(evs); err != nil {
		return nil, err
	}
	if a.lastID != s.lastID {
		if err := b.Set(appKey(0, metaID), binary.BigEndian.AppendUint64(nil, a.lastID), nil); err != nil {
			return nil, err
		}
	}
	return func() {
		s.lastID = a.lastID
		written()
		s.noteCallbackApps(evs)
	}, nil
}

// opCallbacks returns the after-events of a batch's ops (store.Op.Callback)
// that succeeded, are not duplicates and made entries, in op order.
func opCallbacks(ops []store.Op, results []store.OpResult) []store.CallbackEvent {
	var out []store.CallbackEvent
	for i, op := range ops {
		r := results[i]
		if op.Callback == nil || r.Err != nil || r.Duplicate || len(r.Entries) == 0 {
			continue
		}
		if ev, ok := op.Callback(r.Entries[0]); ok {
			out = append(out, ev)
		}
	}
	return out
}

// leased says whether id is held by a live claim at now (under cbMu).
func (s *Store) leased(id, now int64) bool {
	l, ok := s.leases[id]
	return ok && l.until > now
}

// DueCallbackApps lists at most limit apps with an event due at now and not
// claimed (store.Callbacks), by SDKAppID. Only apps that may have events are
// looked at (cbApps), each from the start of its fresh keys: one seek per
// app, then its due keys up to the first free one. An app found without any
// due key leaves cbApps until its next event.
func (s *Store) DueCallbackApps(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	if limit <= 0 {
		return nil, nil
	}
	at := toMs(now)
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	if err := s.loadCallbackApps(); err != nil {
		return nil, wrap("due callback apps", err)
	}
	apps := make([]int64, 0, len(s.cbApps))
	for app := range s.cbApps {
		if app > after {
			apps = append(apps, app)
		}
	}
	slices.Sort(apps)
	it, err := s.iter(s.db, nil, nil)
	if err != nil {
		return nil, wrap("due callback apps", err)
	}
	defer it.Close()
	var out []int64
	for _, app := range apps {
		if len(out) == limit {
			break
		}
		p := appKey(app, famCbDue)
		first := true
		for ok := it.SeekGE(cbDueKey(app, 0, s.cbApps[app])); ok && len(it.Key()) == len(p)+16 && string(it.Key()[:9]) == string(p); ok = it.Next() {
			d := dec{b: it.Key()[9:]}
			next, id := d.i64(), int64(d.u64())
			if first {
				first = false
				if next == 0 {
					s.cbApps[app] = id // the fresh keys start here now
				}
			}
			if next > at {
				break
			}
			if !s.leased(id, at) {
				out = append(out, app)
				break
			}
		}
		if err := it.Error(); err != nil {
			return nil, wrap("due callback apps", err)
		}
		if first {
			delete(s.cbApps, app) // no events left
		}
	}
	return out, nil
}

// ClaimCallbacks gives node the app's oldest due events by id that no live
// claim holds, at most limit, until now+lease (store.Callbacks). Fresh events
// (due at once) are read in id order up to limit free ones; retried ones due
// by now are all read and the oldest kept.
func (s *Store) ClaimCallbacks(ctx context.Context, app int64, node string, now time.Time, lease time.Duration, limit int) ([]store.CallbackEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	if limit <= 0 {
		return nil, nil
	}
	at := toMs(now)
	until := at + lease.Milliseconds()
	if until <= at {
		until = at + 1
	}
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	type cand struct{ next, id int64 }
	var cands []cand
	scan := func(lower, upper []byte, max int) error {
		it, err := s.iter(s.db, lower, upper)
		if err != nil {
			return err
		}
		n := 0
		for ok := it.First(); ok && (max <= 0 || n < max); ok = it.Next() {
			d := dec{b: it.Key()[9:]}
			next, id := d.i64(), int64(d.u64())
			if d.err != nil {
				it.Close()
				return d.err
			}
			if !s.leased(id, at) {
				cands = append(cands, cand{next, id})
				n++
			}
		}
		if err := it.Error(); err != nil {
			it.Close()
			return err
		}
		return it.Close()
	}
	// Each bound is a key of its own (keyBuf appends share a backing array).
	due := func(next int64) []byte { return appKey(app, famCbDue).i64(next) }
	if err := s.loadCallbackApps(); err != nil {
		return nil, wrap("claim callbacks", err)
	}
	if err := scan(cbDueKey(app, 0, s.cbApps[app]), due(1), limit); err != nil { // fresh, by id, from where they start
		return nil, wrap("claim callbacks", err)
	}
	if at >= 1 {
		if err := scan(due(1), due(at+1), 0); err != nil { // retried, due by now
			return nil, wrap("claim callbacks", err)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].id < cands[j].id })
	if len(cands) > limit {
		cands = cands[:limit]
	}
	if s.leases == nil {
		s.leases = map[int64]cbLease{}
	}
	out := make([]store.CallbackEvent, 0, len(cands))
	for _, c := range cands {
		v, err := get(s.db, cbEventKey(app, c.id))
		if err != nil {
			return nil, wrap("claim callbacks", err)
		}
		if v == nil {
			continue // delivered meanwhile
		}
		e, err := decodeCallback(app, c.id, v)
		if err != nil {
			return nil, wrap("claim callbacks", err)
		}
		s.leases[c.id] = cbLease{app: app, node: node, until: until}
		out = append(out, e)
	}
	return out, nil
}

// FinishCallbacks records outcomes of node's claimed events (store.Callbacks)
// in one synced batch; the engine keeps no log (package embedded keeps it in
// SQL), so log must be empty. An outcome of an event node does not hold (or
// no longer exists) is ignored.
func (s *Store) FinishCallbacks(ctx context.Context, node string, outs []store.CallbackOutcome) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if len(outs) == 0 {
		return nil
	}
	s.mu.Lock() // DeleteApp's range delete must not be undone by a rewrite
	defer s.mu.Unlock()
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	var finished []int64
	for _, o := range outs {
		l, ok := s.leases[o.ID]
		if !ok || l.node != node || l.app != o.App || s.deleted[o.App] || slices.Contains(finished, o.ID) {
			continue
		}
		v, err := get(s.db, cbEventKey(o.App, o.ID))
		if err != nil {
			return wrap("finish callbacks", err)
		}
		finished = append(finished, o.ID)
		if v == nil {
			continue
		}
		e, err := decodeCallback(o.App, o.ID, v)
		if err != nil {
			return wrap("finish callbacks", err)
		}
		if err := b.Delete(cbDueKey(o.App, dueMs(e.NextAt), o.ID), nil); err != nil {
			return wrap("finish callbacks", err)
		}
		if o.Done {
			if err := b.Delete(cbEventKey(o.App, o.ID), nil); err != nil {
				return wrap("finish callbacks", err)
			}
			continue
		}
		e.Attempts++
		e.NextAt = o.NextAt.UTC().Truncate(time.Millisecond)
		e.LastError = o.Error
		if err := b.Set(cbEventKey(o.App, o.ID), encodeCallback(&e), nil); err != nil {
			return wrap("finish callbacks", err)
		}
		if err := b.Set(cbDueKey(o.App, dueMs(e.NextAt), o.ID), nil, nil); err != nil {
			return wrap("finish callbacks", err)
		}
	}
	if len(finished) == 0 {
		return nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return wrap("finish callbacks", err)
	}
	for _, id := range finished {
		delete(s.leases, id)
	}
	return nil
}

// ReleaseCallbacks ends node's claims of the events ids of app without an
// attempt: they are due again at their NextAt.
func (s *Store) ReleaseCallbacks(app int64, node string, ids []int64) {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	for _, id := range ids {
		if l, ok := s.leases[id]; ok && l.app == app && l.node == node {
			delete(s.leases, id)
		}
	}
}

// CallbackBacklog counts the app's events in the engine's outbox.
func (s *Store) CallbackBacklog(ctx context.Context, app int64) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	p := appKey(app, famCbEvent)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return 0, wrap("callback backlog", err)
	}
	defer it.Close()
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n, wrap("callback backlog", it.Error())
}

// dropLeases forgets the claims of app's events (DeleteApp).
func (s *Store) dropLeases(app int64) {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	for id, l := range s.leases {
		if l.app == app {
			delete(s.leases, id)
		}
	}
	delete(s.cbApps, app)
}
