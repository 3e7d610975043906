// Package usage counts per-app daily usage on the hot paths (logins and sent
// messages) in memory and flushes it to the store (store.Daily) in batches:
// no store write and no goroutine per event, and several nodes add up because
// every flush adds.
//
// Days are UTC calendar days ("2006-01-02") by the recorder's clock.
//
// Memory is bounded: at most MaxCells (app, day) counters between two flushes,
// at most MaxSeen users remembered as already counted today and at most
// MaxPending new daily users waiting for a flush. Past a bound:
//   - a counter that would need a new cell is dropped (counted in Dropped),
//     and the flusher is woken early (at half the bound already);
//   - the remembered users of the shard are forgotten: a user seen again is
//     admitted again, which costs one more (idempotent) store write, never a
//     wrong figure;
//   - a new daily user is not queued (counted in Dropped) and not
//     remembered, so its next event that day queues it again.
package usage

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
)

// Bounds of the recorder's memory (see the package comment).
const (
	MaxCells   = 1 << 14 // (app, day) counter cells between two flushes
	MaxSeen    = 1 << 20 // users remembered as counted today, about 100 MB at most
	MaxPending = 1 << 16 // new daily users waiting for the next flush
)

// DefaultFlushEvery is the flush interval of Run when none is given.
const DefaultFlushEvery = 10 * time.Second

const nShards = 64

type key struct {
	app int64
	day int64 // days since 1970-01-01, UTC
}

type userKey struct {
	app  int64
	day  int64
	user string
}

type cell struct {
	logins, c2c, group atomic.Int64
}

type shard struct {
	mu      sync.RWMutex
	cells   map[key]*cell
	seen    map[userKey]struct{} // users of seenDay already queued or written
	seenDay int64
	pending []store.DailyUser
	_       [64]byte // keeps shards on separate cache lines
}

// Recorder counts daily usage. The zero value is not usable: use New. A nil
// *Recorder counts nothing (every method is a no-op), for services built
// without one.
type Recorder struct {
	store store.Daily
	clock clock.Clock
	log   *slog.Logger
	// The bounds, MaxCells, MaxSeen and MaxPending (lowered by tests).
	maxCells, maxSeen, maxPending int64

	shards   [nShards]shard
	cells    atomic.Int64 // cells in all shards
	seen     atomic.Int64 // remembered users in all shards
	pending  atomic.Int64 // queued users in all shards
	dropped  atomic.Int64
	wake     chan struct{}
	flushMu  sync.Mutex
	carry    []store.DailyCounts // a failed flush's, written by the next
	carryUsr []store.DailyUser
}

// New returns a recorder writing to st, with days by clk; log reports failed
// flushes and dropped events (nil: slog.Default()).
func New(st store.Daily, clk clock.Clock, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{store: st, clock: clk, log: log, wake: make(chan struct{}, 1),
		maxCells: MaxCells, maxSeen: MaxSeen, maxPending: MaxPending}
	for i := range r.shards {
		r.shards[i].cells = map[key]*cell{}
		r.shards[i].seen = map[userKey]struct{}{}
	}
	return r
}

// Login counts a successful login of user into app at time at (its UTC day
// is the day counted): a login and, once a day, an active user. Callers pass
// the time they already took from the clock.
func (r *Recorder) Login(app int64, user string, at time.Time) { r.count(app, user, at, kindLogin) }

// C2C counts a one-to-one message sent by user in app at time at.
func (r *Recorder) C2C(app int64, user string, at time.Time) { r.count(app, user, at, kindC2C) }

// Group counts a group message sent by user in app at time at.
func (r *Recorder) Group(app int64, user string, at time.Time) { r.count(app, user, at, kindGroup) }

// Dropped returns how many events were not counted because a bound was
// reached (since New).
func (r *Recorder) Dropped() int64 {
	if r == nil {
		return 0
	}
	return r.dropped.Load()
}

const (
	kindLogin = iota
	kindC2C
	kindGroup
)

func (c *cell) add(kind int) {
	switch kind {
	case kindLogin:
		c.logins.Add(1)
	case kindC2C:
		c.c2c.Add(1)
	default:
		c.group.Add(1)
	}
}

// dayOf is t's day number (UTC).
func dayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return d
}

// dayString is day number d as "2006-01-02".
func dayString(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }

// count is the hot path: a read lock of the app's shard, two map lookups and
// an atomic add when the app's cell of the day exists and the user is already
// known today; the write lock only otherwise. The add happens under the read
// lock, so a flush (which swaps the cells under the write lock) never misses it.
func (r *Recorder) count(app int64, user string, at time.Time, kind int) {
	if r == nil {
		return
	}
	day := dayOf(at)
	sh := &r.shards[uint64(app)%nShards]
	k, uk := key{app, day}, userKey{app, day, user}
	sh.mu.RLock()
	c, ok := sh.cells[k]
	_, known := sh.seen[uk]
	if ok && known {
		c.add(kind)
		sh.mu.RUnlock()
		return
	}
	sh.mu.RUnlock()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c, ok = sh.cells[k]; !ok {
		if r.cells.Load() >= r.maxCells {
			r.dropped.Add(1)
			r.poke()
		} else {
			c = &cell{}
			sh.cells[k] = c
			if r.cells.Add(1) >= r.maxCells/2 {
				r.poke()
			}
		}
	}
	if c != nil {
		c.add(kind)
	}
	r.admit(sh, uk)
}

// admit queues uk as a daily user unless it is known; sh.mu is held.
func (r *Recorder) admit(sh *shard, uk userKey) {
	if uk.day > sh.seenDay { // a new day: yesterday's users are done with
		r.seen.Add(-int64(len(sh.seen)))
		clear(sh.seen)
		sh.seenDay = uk.day
	}
	if _, ok := sh.seen[uk]; ok {
		return
	}
	if r.pending.Load() >= r.maxPending {
		r.dropped.Add(1)
		r.poke()
		return
	}
	if r.seen.Load() >= r.maxSeen {
		r.seen.Add(-int64(len(sh.seen)))
		clear(sh.seen)
	}
	uk.user = strings.Clone(uk.user) // not a slice of a request body kept alive
	// A late event of an earlier day is queued, not remembered.
	if uk.day == sh.seenDay {
		sh.seen[uk] = struct{}{}
		r.seen.Add(1)
	}
	sh.pending = append(sh.pending, store.DailyUser{App: uk.app, Day: dayString(uk.day), User: uk.user})
	if r.pending.Add(1) >= r.maxPending/2 {
		r.poke()
	}
}

// poke wakes Run for an early flush.
func (r *Recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Flush writes what was counted since the last flush in one store
// transaction. When the write fails, the counts are kept (within the bounds)
// and written by the next flush. Flushes run one at a time.
func (r *Recorder) Flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	counts, users := r.carry, r.carryUsr
	r.carry, r.carryUsr = nil, nil
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		cells, pend := sh.cells, sh.pending
		sh.cells, sh.pending = make(map[key]*cell, len(cells)), nil
		sh.mu.Unlock()
		r.cells.Add(-int64(len(cells)))
		r.pending.Add(-int64(len(pend)))
		// No count reaches these cells any more: counts add under the read
		// lock, and the swap took the write lock.
		for k, c := range cells {
			d := store.DailyCounts{App: k.app, Day: dayString(k.day), Logins: c.logins.Load(),
				C2CMsgs: c.c2c.Load(), GroupMsgs: c.group.Load()}
			if d.Logins|d.C2CMsgs|d.GroupMsgs != 0 {
				counts = append(counts, d)
			}
		}
		users = append(users, pend...)
	}
	if len(counts) == 0 && len(users) == 0 {
		return nil
	}
	err := r.store.AddDaily(ctx, counts, users)
	if err != nil {
		if n := int64(len(counts)) - r.maxCells; n > 0 {
			r.dropped.Add(n)
			counts = counts[:r.maxCells]
		}
		if n := int64(len(users)) - r.maxPending; n > 0 {
			r.dropped.Add(n)
			users = users[:r.maxPending]
		}
		r.carry, r.carryUsr = counts, users
	}
	return err
}

// Run flushes every interval (DefaultFlushEvery when 0) and early when a
// bound is half reached, until ctx ends; then it flushes once more (with its
// own 10-second deadline) and returns. Failures are logged.
func (r *Recorder) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultFlushEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var reported int64
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Flush(fctx); err != nil {
				r.log.Error("daily usage: final flush failed", "err", err)
			}
			return
		case <-t.C:
		case <-r.wake:
		}
		if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("daily usage: flush failed; retried at the next", "err", err)
		}
		if d := r.Dropped(); d != reported {
			r.log.Warn("daily usage: events dropped past the memory bounds", "dropped", d-reported)
			reported = d
		}
	}
}
