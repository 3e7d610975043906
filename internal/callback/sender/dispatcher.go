package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// DispatcherOptions tune a Dispatcher; zero fields take the defaults named.
type DispatcherOptions struct {
	PerApp     int           // requests in flight per app (8)
	Global     int           // requests in flight on this node (64)
	Lease      time.Duration // how long a claim holds events (30 s)
	Poll       time.Duration // how often the outbox is polled when idle (100 ms)
	Flush      time.Duration // how often outcomes and logs are written (100 ms)
	FlushBatch int           // outcomes that make a write at once (256)
	Timeout    time.Duration // an after-event request's timeout (5 s)
	MinBackoff time.Duration // the first retry's delay (1 s); doubled per attempt
	MaxBackoff time.Duration // the longest retry delay (60 s)
	MaxAge     time.Duration // events older than this are dropped (7 days)
	MaxDueApps int           // apps looked at per poll (256)
	// Apps, when set, tells the status of an app: events of a deleted app
	// (Status "deleted" or errs.ErrNotFound) are dropped. Wire store.Tenants.
	// Answers are cached for 10 s per app; a failed read retries the event.
	Apps interface {
		GetApp(ctx context.Context, sdkappid int64) (store.App, error)
	}
	Logger *slog.Logger // nil: no logs
}

func (o *DispatcherOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	defi(&o.PerApp, 8)
	defi(&o.Global, 64)
	defi(&o.FlushBatch, 256)
	defi(&o.MaxDueApps, 256)
	def(&o.Lease, 30*time.Second)
	def(&o.Poll, 100*time.Millisecond)
	def(&o.Flush, 100*time.Millisecond)
	def(&o.Timeout, 5*time.Second)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, time.Minute)
	def(&o.MaxAge, 7*24*time.Hour)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Dispatcher delivers the callback outbox at least once: it claims due
// events of each app (bounded in flight per app and per node), posts them,
// and records outcomes and log entries in batches. A failed event is retried
// with exponential backoff, and its app is paused on this node until then
// (one probe request at a time while it keeps failing), so a dead receiver
// costs about one request per backoff period. Events of an app whose
// callbacks (or that command) are off, of a deleted app, or older than
// MaxAge are dropped with a log entry and counted. Several nodes may run a
// Dispatcher on one store: claims (leases) keep them from sending an event
// twice while both are alive.
type Dispatcher struct {
	st   store.Callbacks
	h    *Hooks
	node string
	clk  clock.Clock
	o    DispatcherOptions
	log  *slog.Logger

	outs chan result
	wake chan struct{}

	afterRound func() // tests: called after each claim round

	appsMu sync.Mutex
	apps   map[int64]appState // Options.Apps answers, cached for appTTL
}

type appState struct {
	deleted bool
	at      time.Time
}

// appTTL is how long an app's status is cached by the Dispatcher; the cache
// holds at most maxAppStates apps (emptied when full).
const (
	appTTL       = 10 * time.Second
	maxAppStates = 10000
)

// appDeleted reports whether app is deleted (false without Options.Apps).
func (d *Dispatcher) appDeleted(ctx context.Context, app int64, now time.Time) (bool, error) {
	if d.o.Apps == nil {
		return false, nil
	}
	d.appsMu.Lock()
	st, ok := d.apps[app]
	d.appsMu.Unlock()
	if ok && now.Sub(st.at) < appTTL && !now.Before(st.at) {
		return st.deleted, nil
	}
	a, err := d.o.Apps.GetApp(ctx, app)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		st = appState{deleted: true, at: now}
	case err != nil:
		return false, err
	default:
		st = appState{deleted: a.Status == store.StatusDeleted, at: now}
	}
	d.appsMu.Lock()
	if len(d.apps) >= maxAppStates {
		clear(d.apps)
	}
	d.apps[app] = st
	d.appsMu.Unlock()
	return st.deleted, nil
}

// result is one delivery's outcome and log entry.
type result struct {
	out    store.CallbackOutcome
	log    store.CallbackLogEntry
	failed bool
}

// NewDispatcher returns a Dispatcher of node (a name unique among the nodes
// sharing st) that posts with h's client and configurations. clk must be real
// time: it schedules retries and leases. Its metrics are h's (registered by
// New); h's before-event log entries are written by this Dispatcher.
func NewDispatcher(st store.Callbacks, h *Hooks, node string, clk clock.Clock, o DispatcherOptions) *Dispatcher {
	o.defaults()
	return &Dispatcher{st: st, h: h, node: node, clk: clk, o: o, log: o.Logger,
		outs: make(chan result, o.Global), wake: make(chan struct{}, 1), apps: map[int64]appState{}}
}

// Notify wakes the Dispatcher at once (events were appended, or the clock moved).
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the requests in flight and
// writes their outcomes (with a short context of its own). It returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	inflight := map[int64]int{}
	total := 0
	paused := map[int64]time.Time{} // app -> not before
	failing := map[int64]bool{}     // app's last delivery failed: one probe at a time
	var outs []store.CallbackOutcome
	var logs []store.CallbackLogEntry

	flush := func(ctx context.Context) {
	drain:
		for len(logs) < 4*d.o.FlushBatch {
			select {
			case le := <-d.h.logs:
				logs = append(logs, le)
			default:
				break drain
			}
		}
		if len(outs) == 0 && len(logs) == 0 {
			return
		}
		// Error texts quote what receivers answered: made storable on every store.
		for i := range outs {
			outs[i].Error = cleanText(outs[i].Error)
		}
		for i := range logs {
			logs[i].Error = cleanText(logs[i].Error)
		}
		// Not cancelled with Run's context: a write cut off by the stop may
		// commit yet report an error, and be written again.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := d.st.FinishCallbacks(fctx, d.node, outs, logs)
		if err != nil && len(logs) > 0 {
			// One log entry the store refuses must not hold every app's
			// outcomes back: the outcomes alone, then the entries one by
			// one, dropping those refused.
			if len(outs) == 0 || d.st.FinishCallbacks(fctx, d.node, outs, nil) == nil {
				refused := 0
				for _, le := range logs {
					if d.st.FinishCallbacks(fctx, d.node, nil, []store.CallbackLogEntry{le}) != nil {
						refused++
					}
				}
				if refused > 0 {
					d.log.Error("callbacks: log entries refused by the store (dropped)", "err", err, "entries", refused)
					d.h.m.dropped.WithLabelValues("log_unwritten").Add(float64(refused))
				}
				outs, logs, err = outs[:0], logs[:0], nil
			}
		}
		cancel()
		if err != nil {
			d.log.Error("callbacks: recording outcomes", "err", err, "outcomes", len(outs))
			if len(outs) > 16*d.o.FlushBatch { // the leases end; the events are sent again
				outs = outs[:0]
			}
			if len(logs) > 4*d.o.FlushBatch {
				logs = logs[:0]
			}
			return
		}
		outs, logs = outs[:0], logs[:0]
	}
	var cursor int64 // the last app events were claimed for: the next round starts after it
	take := func(r result) {
		app := r.out.App
		total--
		if inflight[app]--; inflight[app] <= 0 {
			delete(inflight, app)
		}
		if r.failed {
			failing[app] = true
			if r.out.NextAt.After(paused[app]) {
				paused[app] = r.out.NextAt
			}
		} else {
			delete(failing, app)
		}
		outs = append(outs, r.out)
		logs = append(logs, r.log)
	}
	round := func() {
		if d.afterRound != nil {
			defer d.afterRound()
		}
		now := d.clk.Now()
		for app, until := range paused {
			if !until.After(now) {
				delete(paused, app)
			}
		}
		if total >= d.o.Global {
			return
		}
		// Apps paused or full here are listed too: ask for that many more,
		// so they cannot crowd the others out. Apps are served in turn: the
		// list starts after the last app served and wraps around, so free
		// slots go to each app with due events before any gets a second turn.
		want := d.o.MaxDueApps + len(paused) + len(inflight)
		apps, err := d.st.DueCallbackApps(ctx, now, cursor, want)
		if err == nil && len(apps) < want && cursor > 0 {
			var first []int64
			first, err = d.st.DueCallbackApps(ctx, now, 0, want-len(apps))
			for _, app := range first {
				if app <= cursor {
					apps = append(apps, app)
				}
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("callbacks: listing due apps", "err", err)
			}
			return
		}
		// Forget the failing state of apps with nothing left to send.
		for app := range failing {
			if _, p := paused[app]; !p && inflight[app] == 0 && !slices.Contains(apps, app) {
				delete(failing, app)
			}
		}
		for _, app := range apps {
			if _, p := paused[app]; p {
				continue
			}
			limit := d.o.PerApp
			if failing[app] {
				limit = 1
			}
			n := min(limit-inflight[app], d.o.Global-total)
			if n <= 0 {
				continue
			}
			evs, err := d.st.ClaimCallbacks(ctx, app, d.node, now, d.o.Lease, n)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Error("callbacks: claiming", "app", app, "err", err)
				}
				continue
			}
			if len(evs) > 0 {
				cursor = app
			}
			for _, ev := range evs {
				inflight[app]++
				total++
				go func() { d.outs <- d.deliver(ctx, ev) }()
			}
			if total >= d.o.Global {
				return
			}
		}
	}

	poll := time.NewTicker(d.o.Poll)
	defer poll.Stop()
	flushT := time.NewTicker(d.o.Flush)
	defer flushT.Stop()
	round()
	for {
		select {
		case <-ctx.Done():
			for total > 0 {
				take(<-d.outs)
			}
			flush(ctx)
			return nil
		case r := <-d.outs:
			take(r)
			if len(outs) >= d.o.FlushBatch || total == 0 {
				flush(ctx)
				round()
			}
		case <-flushT.C:
			flush(ctx)
		case <-poll.C:
			flush(ctx)
			round()
		case <-d.wake:
			flush(ctx)
			round()
		case <-d.h.wake:
			flush(ctx)
			round()
		}
	}
}

// backoff is the delay before retry number attempts+1.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.o.MinBackoff
	for i := 0; i < attempts && b < d.o.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.o.MaxBackoff)
}

// deliver posts one event, or drops it, and returns the outcome.
func (d *Dispatcher) deliver(ctx context.Context, ev store.CallbackEvent) result {
	start := d.clk.Now()
	le := store.CallbackLogEntry{App: ev.App, Command: ev.Command, At: start, Attempt: ev.Attempts + 1, EventID: ev.ID}
	drop := func(reason, why string) result {
		d.h.m.dropped.WithLabelValues(reason).Inc()
		le.Result, le.Error = "failed", "dropped: "+why
		return result{out: store.CallbackOutcome{ID: ev.ID, App: ev.App, Done: true}, log: le}
	}
	if age := start.Sub(ev.CreatedAt); !ev.CreatedAt.IsZero() && age > d.o.MaxAge {
		return drop("expired", fmt.Sprintf("older than %s (not delivered in time)", d.o.MaxAge))
	}
	if deleted, err := d.appDeleted(ctx, ev.App, start); err != nil {
		return d.fail(ctx, ev, le, start, 0, fmt.Errorf("reading the app: %v", err))
	} else if deleted {
		return drop("deleted", "the app is deleted")
	}
	c, err := d.h.config(ctx, ev.App)
	if err != nil && c == nil {
		return d.fail(ctx, ev, le, start, 0, fmt.Errorf("reading the callback configuration: %v", err))
	}
	if !c.on(ev.Command) {
		if c == nil || c.url == nil {
			return drop("off", "the app's callbacks are off (no callback URL)")
		}
		return drop("off", "the app turned "+ev.Command+" off")
	}
	target := c.requestURL(ev.App, ev.Command, ev.ClientIP, ev.Platform, start)
	status, _, err := d.h.post(ctx, target, ev.Body, d.o.Timeout)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("HTTP status %d", status)
	}
	if err != nil {
		return d.fail(ctx, ev, le, start, status, err)
	}
	took := d.clk.Now().Sub(start)
	d.h.m.request(ev.App, "after", "ok", took)
	le.Millis, le.Status, le.Result = took.Milliseconds(), status, "ok"
	return result{out: store.CallbackOutcome{ID: ev.ID, App: ev.App, Done: true}, log: le}
}

// fail is a failed delivery: retried after the backoff.
func (d *Dispatcher) fail(ctx context.Context, ev store.CallbackEvent, le store.CallbackLogEntry, start time.Time, status int, err error) result {
	now := d.clk.Now()
	took := now.Sub(start)
	if ctx.Err() != nil { // this node stops: due again at once, for any node
		le.Result, le.Error = "failed", "not delivered: the node stopped"
		return result{out: store.CallbackOutcome{ID: ev.ID, App: ev.App, NextAt: now, Error: le.Error}, log: le}
	}
	res := "failed"
	if errors.Is(err, ErrTimeout) {
		res = "timeout"
	}
	d.h.m.request(ev.App, "after", res, took)
	msg := errs.Clip(err.Error())
	le.Millis, le.Status, le.Result, le.Error = took.Milliseconds(), status, res, msg
	next := now.Add(d.backoff(ev.Attempts))
	return result{out: store.CallbackOutcome{ID: ev.ID, App: ev.App, NextAt: next, Error: msg}, log: le, failed: true}
}

// maxErrorText bounds an error text kept in the outbox and the log, in bytes.
const maxErrorText = 512

// cleanText makes an error text that may quote a receiver's answer storable
// and printable: invalid UTF-8 and control characters (NUL, escapes, line
// breaks) become spaces or U+FFFD, and it is cut to maxErrorText bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
