// Package pebblestore implements store.Messages on Pebble (a WAL + LSM
// key-value engine): one-to-one messages stored once, per-user sync logs as
// small index keys pointing at them, and retention purged by range deletes.
// The key layout is in docs/storage.md. Relational data stays in SQL; package
// embedded composes the two.
package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Store is the message engine. Apply runs one batch at a time (one fsync per
// batch); reads run alongside it on the engine's consistent views.
type Store struct {
	db *pebble.DB

	closeMu sync.RWMutex // held for reading by every call, for writing by Close
	closed  bool

	mu         sync.Mutex                 // serialises commits (Apply, PurgeBefore's, DeleteApp, upgrade)
	deleted    map[int64]bool             // apps deleted (under mu): Apply refuses their ops
	purgeMu    sync.Mutex                 // serialises purges, which read without mu
	seqs       map[int64]map[string]int64 // last Seq per app and owner, recovered from the keys on first use
	cachedSeqs int                        // entries in seqs, at most maxCachedSeqs
	lastID     uint64                     // last message/event id, recovered from metaID on open

	marksMu sync.RWMutex
	marks   map[int64]purgeMarks // per app, filled from famPurge on first use

	cbMu   sync.Mutex        // serialises claims of the callback outbox (callbacks.go)
	leases map[int64]cbLease // live and expired claims by event id, in memory only
	// cbApps holds the apps that may have outbox events, each with the id at
	// which its fresh (due at once) keys start: the keys of delivered events
	// before it are deleted, and a scan that started at the app's first key
	// would step over all their tombstones. Loaded on first use (under cbMu).
	cbApps map[int64]int64
}

// purgeMarks record what PurgeBefore removed, so that index keys of removed
// messages (which are not rewritten by the purge) are skipped by readers that
// do not fetch the message (unread counts).
type purgeMarks struct {
	before  int64 // Unix ms: records created before are gone
	expired int64 // Unix ms: messages whose ExpiresAt is at or before are gone
}

// Memory the engine may use: the block cache (index, filter and data blocks of
// the on-disk tables) and each memtable (new writes; up to two are in memory
// while one flushes). With 64 MiB of cache the filter blocks that every
// ClientID lookup reads were evicted and read from disk again on each batch
// (45,000 appends/s in BenchmarkApplySend); with 256 MiB they stay (93,000).
const (
	cacheBytes    = 256 << 20
	memTableBytes = 32 << 20
)

// Open opens (creating if needed) the engine in dir.
func Open(dir string) (*Store, error) {
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref() // the engine holds its own reference
	opts := &pebble.Options{
		Cache:        cache,
		MemTableSize: memTableBytes,
		// Large memtables flush seldom; L0 may then hold a few before compacting.
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 24,
	}
	opts.EnsureDefaults()
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10) // ClientID and Seq lookups mostly miss
		// Uncompressed tables: compressing every flush and compaction took CPU
		// from the send path on two cores (open loop at 10,000 msg/s: p99
		// 15-22 ms with Snappy, 6.4-15 ms without); disk is the cheaper resource.
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	}
	opts.Logger = quietLogger{}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{db: db, seqs: map[int64]map[string]int64{}, marks: map[int64]purgeMarks{}}
	v, closer, err := db.Get(appKey(0, metaID))
	switch {
	case err == nil:
		if len(v) == 8 {
			s.lastID = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		db.Close()
		return nil, fmt.Errorf("pebblestore: open: %w", err)
	}
	return s, nil
}

// quietLogger drops Pebble's informational lines (one per flush and
// compaction) and passes its errors to the process's log.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	slog.Error("message engine: " + fmt.Sprintf(format, args...))
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic("message engine: " + fmt.Sprintf(format, args...))
}

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("pebblestore: closed")

// Close closes the engine once; later calls return nil. It waits for the
// calls in progress.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// enter admits a call unless the engine is closed (Pebble panics on use after
// Close); the caller releases closeMu's read lock.
func (s *Store) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// reader is what point lookups and iterators run on: the engine or a batch.
type reader = pebble.Reader

// get returns a copy of the value at key, or nil when there is none.
func get(r reader, key []byte) ([]byte, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, v...)
	c.Close()
	return out, nil
}

func (s *Store) loadMessage(r reader, app int64, rf ref) (message, bool, error) {
	v, err := get(r, rf.key(app))
	if err != nil || v == nil {
		return message{}, false, err
	}
	m, err := decodeMessage(rf, v)
	return m, err == nil, err
}

func (s *Store) purgeMarks(app int64) (purgeMarks, error) {
	s.marksMu.RLock()
	m, ok := s.marks[app]
	s.marksMu.RUnlock()
	if ok {
		return m, nil
	}
	v, err := get(s.db, appKey(app, famPurge))
	if err != nil {
		return m, err
	}
	if len(v) == 16 {
		d := dec{b: v}
		m.before, m.expired = d.i64(), d.i64()
	}
	s.marksMu.Lock()
	s.marks[app] = m
	s.marksMu.Unlock()
	return m, nil
}

// liveFilter says whether a record created and expiring at the given Unix ms
// is visible to a read with notBefore and now (zero: no bound).
type liveFilter struct{ minCreated, expiredAt int64 }

func (s *Store) filter(app int64, notBefore, now time.Time) (liveFilter, error) {
	m, err := s.purgeMarks(app)
	f := liveFilter{minCreated: math.MinInt64, expiredAt: m.expired}
	if !notBefore.IsZero() {
		f.minCreated = notBefore.UnixMilli()
	}
	if m.before > f.minCreated {
		f.minCreated = m.before
	}
	if !now.IsZero() && now.UnixMilli() > f.expiredAt {
		f.expiredAt = now.UnixMilli()
	}
	return f, err
}

func (f liveFilter) live(created, expires int64) bool {
	return created >= f.minCreated && (expires == 0 || f.expiredAt == 0 || expires > f.expiredAt)
}

func (s *Store) iter(r reader, lower, upper []byte) (*pebble.Iterator, error) {
	return r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

// Sync implements store.Messages. limit <= 0 means no limit.
func (s *Store) Sync(ctx context.Context, app int64, owner string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	f, err := s.filter(app, notBefore, now)
	if err != nil {
		return nil, wrap("sync", err)
	}
	p := appKey(app, famSync).str(owner)
	if after < 0 {
		after = 0
	}
	it, err := s.iter(s.db, append(p[:len(p):len(p)], keyBuf(nil).u64(uint64(after)+1)...), prefixEnd(p))
	if err != nil {
		return nil, wrap("sync", err)
	}
	defer it.Close()
	var out []store.Entry
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		rf, exp, err := decodeSyncVal(it.Value())
		if err != nil {
			return nil, wrap("sync", err)
		}
		if !f.live(rf.created, exp) {
			continue
		}
		e, found, err := s.entryOf(app, owner, rf)
		if err != nil {
			return nil, wrap("sync", err)
		}
		if found {
			out = append(out, e)
		}
	}
	return out, wrap("sync", it.Error())
}

// entryOf returns owner's entry of the record rf (found is false once purged).
func (s *Store) entryOf(app int64, owner string, rf ref) (store.Entry, bool, error) {
	if rf.fam == famMsg {
		m, found, err := s.loadMessage(s.db, app, rf)
		if !found || err != nil {
			return store.Entry{}, false, err
		}
		return m.entry(app, owner), true, nil
	}
	v, err := get(s.db, rf.key(app))
	if err != nil || v == nil {
		return store.Entry{}, false, err
	}
	e, err := decodeEvent(app, rf, v)
	return e, err == nil, err
}

// LastSeq implements store.Messages: the last Seq allocated, kept when old
// entries are purged.
func (s *Store) LastSeq(ctx context.Context, app int64, owner string) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	seq, err := s.lastSeq(app, owner)
	return seq, wrap("last seq", err)
}

// lastSeq recovers owner's last Seq from the keys: the last famSync key of the
// log (purges leave the sync keys in place), or the famSeq floor an upgrade
// wrote for a log whose entries SQL had purged, whichever is higher.
func (s *Store) lastSeq(app int64, owner string) (int64, error) {
	var seq int64
	v, err := get(s.db, appKey(app, famSeq).str(owner))
	if err != nil {
		return 0, err
	}
	if len(v) == 8 {
		seq = int64(binary.BigEndian.Uint64(v))
	}
	p := appKey(app, famSync).str(owner)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return 0, err
	}
	if it.Last() {
		d := dec{b: it.Key()[len(p):]}
		if last := int64(d.u64()); last > seq {
			seq = last
		}
	}
	return seq, it.Close()
}

// History implements store.Messages. maxTime <= 0 means no upper bound; limit
// <= 0 means no limit.
func (s *Store) History(ctx context.Context, app int64, owner, peer string, minTime, maxTime int64, before store.Cursor, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	f, err := s.filter(app, notBefore, now)
	if err != nil {
		return nil, wrap("history", err)
	}
	p := appKey(app, famHist).str(owner).str(peer)
	lower := append(p[:len(p):len(p)], keyBuf(nil).i64(minTime)...)
	upper := prefixEnd(p)
	if maxTime > 0 && maxTime < math.MaxInt64 {
		upper = append(p[:len(p):len(p)], keyBuf(nil).i64(maxTime+1)...)
	}
	if before.Seq > 0 {
		c := append(p[:len(p):len(p)], keyBuf(nil).i64(before.MsgTime).u64(uint64(before.Seq))...)
		if string(c) < string(upper) {
			upper = c
		}
	}
	it, err := s.iter(s.db, lower, upper)
	if err != nil {
		return nil, wrap("history", err)
	}
	defer it.Close()
	var out []store.Entry
	for ok := it.Last(); ok && (limit <= 0 || len(out) < limit); ok = it.Prev() {
		rf, exp, _, err := decodeHistVal(it.Value())
		if err != nil {
			return nil, wrap("history", err)
		}
		if !f.live(rf.created, exp) {
			continue
		}
		e, found, err := s.entryOf(app, owner, rf)
		if err != nil {
			return nil, wrap("history", err)
		}
		if found {
			out = append(out, e)
		}
	}
	return out, wrap("history", it.Error())
}

// keyMessages returns the messages with msgKey in the conversation of a and
// b. A MsgKey names its MsgSeq, which for most messages is the Seq of one of
// the two copies: those are found through the sync keys, and only the others
// (explicit MsgSeqs of imports) have a famKey key. load reads a record (nil
// when gone); extra are candidates not yet in the engine.
func (s *Store) keyMessages(app int64, a, b, msgKey string, load func(ref) (*message, error), extra []ref) ([]*message, error) {
	p := convKeyPrefix(app, a, b, msgKey)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return nil, err
	}
	refs := append([]ref(nil), extra...)
	for ok := it.First(); ok; ok = it.Next() {
		rf, _, err := decodeSyncVal(it.Value())
		if err != nil {
			it.Close()
			return nil, err
		}
		refs = append(refs, rf)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	if seqText, _, ok := strings.Cut(msgKey, "_"); ok {
		if seq, err := strconv.ParseInt(seqText, 10, 64); err == nil && seq > 0 {
			owners := []string{a, b}
			if a == b {
				owners = owners[:1]
			}
			for _, owner := range owners {
				v, err := get(s.db, appKey(app, famSync).str(owner).u64(uint64(seq)))
				if err != nil {
					return nil, err
				}
				if v != nil {
					rf, _, err := decodeSyncVal(v)
					if err != nil {
						return nil, err
					}
					if rf.fam == famMsg {
						refs = append(refs, rf)
					}
				}
			}
		}
	}
	var out []*message
	seen := make(map[ref]bool, len(refs))
	for _, rf := range refs {
		if seen[rf] {
			continue
		}
		seen[rf] = true
		m, err := load(rf)
		if err != nil {
			return nil, err
		}
		if m != nil && m.msgKey == msgKey && ((m.from == a && m.to == b) || (m.from == b && m.to == a)) {
			out = append(out, m)
		}
	}
	return out, nil
}

// loadFrom returns a loader of records from the engine.
func (s *Store) loadFrom(app int64) func(ref) (*message, error) {
	return func(rf ref) (*message, error) {
		m, found, err := s.loadMessage(s.db, app, rf)
		if !found || err != nil {
			return nil, err
		}
		return &m, nil
	}
}

// FindMessage implements store.Messages.
func (s *Store) FindMessage(ctx context.Context, app int64, owner, peer, msgKey string) (store.Entry, error) {
	if err := s.enter(); err != nil {
		return store.Entry{}, err
	}
	defer s.closeMu.RUnlock()
	msgs, err := s.keyMessages(app, owner, peer, msgKey, s.loadFrom(app), nil)
	if err != nil {
		return store.Entry{}, wrap("find message", err)
	}
	for _, m := range msgs {
		if m.has(owner) {
			return m.entry(app, owner), nil
		}
	}
	return store.Entry{}, errs.ErrNotFound
}

// Unread implements store.Messages. Each conversation is counted from Owner's
// read position on (the history index from the read time), so only the unread
// part of it is read. With peers, every listed peer is in the result; without,
// only peers with unread messages.
func (s *Store) Unread(ctx context.Context, app int64, owner string, peers []string, notBefore, now time.Time) (map[string]int, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	f, err := s.filter(app, notBefore, now)
	if err != nil {
		return nil, wrap("unread", err)
	}
	out := make(map[string]int, len(peers))
	all := len(peers) == 0
	if all {
		var err error
		if peers, err = s.conversations(app, owner); err != nil {
			return nil, wrap("unread", err)
		}
	}
	// One iterator, re-bounded per conversation (conversation lists ask for
	// a page of them at once).
	it, err := s.iter(s.db, nil, nil)
	if err != nil {
		return nil, wrap("unread", err)
	}
	defer it.Close()
	for _, peer := range peers {
		n, err := s.unreadWith(it, app, owner, peer, f)
		if err != nil {
			return nil, wrap("unread", err)
		}
		if n > 0 || !all {
			out[peer] = n
		}
	}
	return out, nil
}

// conversations lists owner's peers from the history index, one seek per
// conversation (past its last key), not one step per message.
func (s *Store) conversations(app int64, owner string) ([]string, error) {
	p := appKey(app, famHist).str(owner)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var peers []string
	for ok := it.First(); ok; {
		d := dec{b: it.Key()[len(p):]}
		peer := d.str()
		if d.err != nil {
			return nil, d.err
		}
		peers = append(peers, peer)
		ok = it.SeekGE(prefixEnd(p.str(peer)))
	}
	return peers, it.Error()
}

func (s *Store) unreadWith(it *pebble.Iterator, app int64, owner, peer string, f liveFilter) (int, error) {
	p := appKey(app, famHist).str(owner).str(peer)
	lower := p
	// The read position through the same iterator (a Get makes one of its own).
	rk := appKey(app, famRead).str(owner).str(peer)
	it.SetBounds(rk, prefixEnd(rk))
	var v []byte
	if it.First() && len(it.Key()) == len(rk) {
		v = it.Value()
	}
	if err := it.Error(); err != nil {
		return 0, err
	}
	if len(v) == 8 {
		readTime := int64(binary.BigEndian.Uint64(v))
		if readTime == math.MaxInt64 {
			return 0, nil
		}
		lower = append(p[:len(p):len(p)], keyBuf(nil).i64(readTime+1)...)
	}
	it.SetBounds(lower, prefixEnd(p))
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		rf, exp, flags, err := decodeHistVal(it.Value())
		if err != nil {
			return 0, err
		}
		if flags&histCounts != 0 && flags&histRecalled == 0 && f.live(rf.created, exp) {
			n++
		}
	}
	return n, it.Error()
}

// PeerReadTime implements store.Messages (0 when Peer never read).
func (s *Store) PeerReadTime(ctx context.Context, app int64, owner, peer string) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	v, err := get(s.db, appKey(app, famRead).str(peer).str(owner))
	if err != nil || len(v) != 8 {
		return 0, wrap("peer read time", err)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
