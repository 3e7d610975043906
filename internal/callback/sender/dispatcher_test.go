package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// watched wraps a store and signals after each FinishCallbacks.
type watched struct {
	store.Callbacks
	changed chan struct{}
}

func watch(st store.Callbacks) *watched {
	return &watched{Callbacks: st, changed: make(chan struct{}, 1)}
}

func (w *watched) FinishCallbacks(ctx context.Context, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	err := w.Callbacks.FinishCallbacks(ctx, node, outs, log)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return err
}

// until waits for cond, re-checking after each FinishCallbacks (bounded by
// 20 s so a broken dispatcher fails the test instead of hanging it).
func (w *watched) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

func backlog(st store.Callbacks, app int64) int64 {
	n, err := st.CallbackBacklog(context.Background(), app)
	if err != nil {
		return -1
	}
	return n
}

func logOf(t *testing.T, st store.Callbacks, app int64) []store.CallbackLogEntry {
	l, err := st.CallbackLog(context.Background(), app, store.MaxCallbackLog)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// counting is a receiver that answers status (changeable) and counts requests by event body.
type counting struct {
	status atomic.Int32
	n      atomic.Int32
	mu     sync.Mutex
	seen   map[string]int // body -> requests
}

func newCounting(t *testing.T, status int) (*counting, *httptest.Server) {
	c := &counting{seen: map[string]int{}}
	c.status.Store(int32(status))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.seen[string(b)]++
		c.mu.Unlock()
		c.n.Add(1)
		w.WriteHeader(int(c.status.Load()))
		io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0}`)
	}))
	t.Cleanup(srv.Close)
	return c, srv
}

func afterEvents(app int64, n int, at time.Time) []store.CallbackEvent {
	evs := make([]store.CallbackEvent, n)
	for i := range evs {
		b := &callback.MsgReportBody{Report: "bob", Peer: "alice", LastReadTime: int64(i)}
		evs[i] = callback.Event(context.Background(), app, callback.C2CAfterMsgReport, b, at)
	}
	return evs
}

func runDispatcher(t *testing.T, d *Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func configure(t *testing.T, st store.Callbacks, app int64, url string, cmds ...string) {
	t.Helper()
	if len(cmds) == 0 {
		cmds = []string{AllCommands}
	}
	p, _ := ParsePolicy("127.0.0.1")
	if _, err := NewConfigs(st, p, clock.Real{}).Set(context.Background(), store.App{SDKAppID: app, Status: store.StatusActive}, url, "tok", cmds); err != nil {
		t.Fatal(err)
	}
}

func testHooks(st store.Callbacks) *Hooks {
	p, _ := ParsePolicy("127.0.0.1")
	return New(st, p, clock.Real{}, HooksOptions{})
}

func TestDispatcherDeliversOnce(t *testing.T) { forStores(t, testDeliversOnce) }

func testDeliversOnce(t *testing.T, raw store.Callbacks) {
	st := watch(raw)
	rc, srv := newCounting(t, 200)
	configure(t, st, testApp, srv.URL+"/after?x=1")
	ctx := context.Background()
	h := testHooks(st)
	if err := h.Emit(ctx, afterEvents(testApp, 5, clock.Real{}.Now())); err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(st, h, "n1", clock.Real{}, DispatcherOptions{})
	stop := runDispatcher(t, d)
	st.until(t, "backlog empty", func() bool { return backlog(st, testApp) == 0 })
	stop()
	if rc.n.Load() != 5 || len(rc.seen) != 5 {
		t.Fatalf("%d requests for %d events", rc.n.Load(), len(rc.seen))
	}
	l := logOf(t, st, testApp)
	if len(l) != 5 {
		t.Fatalf("log %+v", l)
	}
	for _, e := range l {
		if e.Result != "ok" || e.Status != 200 || e.Attempt != 1 || e.EventID == 0 || e.Command != callback.C2CAfterMsgReport {
			t.Fatalf("log entry %+v", e)
		}
	}
}

// A receiver that is down gets one probe per backoff period; once up, every
// event is delivered. Retry times follow the dispatcher's clock (manual here).
func TestDispatcherBackoff(t *testing.T) { forStores(t, testBackoff) }

func testBackoff(t *testing.T, raw store.Callbacks) {
	st := watch(raw)
	rc, srv := newCounting(t, 503)
	configure(t, st, testApp, srv.URL)
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clk := clock.NewManual(t0)
	h := testHooks(st)
	if err := h.Emit(context.Background(), afterEvents(testApp, 3, t0)); err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(st, h, "n1", clk, DispatcherOptions{})
	stop := runDispatcher(t, d)
	defer stop()

	st.until(t, "3 failures", func() bool { return len(logOf(t, st, testApp)) == 3 })
	for _, e := range logOf(t, st, testApp) {
		if e.Result != "failed" || e.Status != 503 || !strings.Contains(e.Error, "503") || e.Attempt != 1 {
			t.Fatalf("log entry %+v", e)
		}
	}
	if n := rc.n.Load(); n != 3 {
		t.Fatalf("%d requests", n)
	}
	// Not due before 1 s.
	clk.Advance(999 * time.Millisecond)
	d.Notify()
	// One probe at 1 s: still down; that event waits 2 s, the app too.
	clk.Advance(time.Millisecond)
	d.Notify()
	st.until(t, "the probe", func() bool { return len(logOf(t, st, testApp)) == 4 })
	if n := rc.n.Load(); n != 4 {
		t.Fatalf("%d requests after one backoff period, want 4", n)
	}
	if l := logOf(t, st, testApp); l[0].Attempt != 2 {
		t.Fatalf("probe %+v", l[0])
	}
	// Up again: at 3 s everything is delivered.
	rc.status.Store(200)
	clk.Advance(time.Second)
	d.Notify()
	clk.Advance(time.Second)
	d.Notify()
	st.until(t, "backlog empty", func() bool { return backlog(st, testApp) == 0 })
	if n := rc.n.Load(); n != 7 {
		t.Fatalf("%d requests, want 7 (3 failed, 1 probe failed, 3 delivered)", n)
	}
	if len(rc.seen) != 3 {
		t.Fatalf("%d distinct events", len(rc.seen))
	}
}

func TestBackoffSchedule(t *testing.T) {
	d := NewDispatcher(newMemStore(), testHooks(newMemStore()), "n", clock.Real{}, DispatcherOptions{})
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := d.backoff(i); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i, got, w)
		}
	}
	if got := d.backoff(1000); got != time.Minute {
		t.Errorf("backoff(1000) = %s", got)
	}
}

// With a receiver that blocks, no more than PerApp events of an app and
// Global events in all are claimed at once.
func TestDispatcherInFlightBound(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	const a1, a2, a3 = 1400000001, 1400000002, 1400000003
	for _, a := range []int64{a1, a2, a3} {
		configure(t, st, a, srv.URL)
		st.AppendCallbacks(context.Background(), afterEvents(a, 6, clock.Real{}.Now()))
	}
	h := testHooks(w)
	d := NewDispatcher(w, h, "n1", clock.Real{}, DispatcherOptions{PerApp: 2, Global: 5})
	rounds := make(chan struct{}, 100)
	d.afterRound = func() { rounds <- struct{}{} }
	stop := runDispatcher(t, d)
	for i := 0; i < 5; i++ {
		<-arrived
	}
	// Two more claim rounds while all five are blocked.
	<-rounds
	<-rounds
	st.mu.Lock()
	claimed, maxClaimed := st.claimed, st.maxClaimed
	st.mu.Unlock()
	if claimed != 5 || maxClaimed != 5 {
		t.Fatalf("claimed %d (max %d), want 5", claimed, maxClaimed)
	}
	close(release)
	w.until(t, "backlog empty", func() bool {
		return backlog(st, a1)+backlog(st, a2)+backlog(st, a3) == 0
	})
	stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.maxClaimed > 5 {
		t.Fatalf("max claimed %d", st.maxClaimed)
	}
	perApp := map[int64]int{}
	for _, e := range st.log {
		if e.Result != "ok" {
			t.Fatalf("log %+v", e)
		}
		perApp[e.App]++
	}
	if perApp[a1] != 6 || perApp[a2] != 6 || perApp[a3] != 6 {
		t.Fatalf("delivered %v", perApp)
	}
}

// Events of apps whose callbacks are off, of deleted apps, and older than
// MaxAge are dropped with a log entry, without a request.
func TestDispatcherDrops(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	rc, srv := newCounting(t, 200)
	const on, off, cmdOff, deleted, old, gone = 1400000001, 1400000002, 1400000003, 1400000004, 1400000005, 1400000006
	now := clock.Real{}.Now()
	configure(t, st, on, srv.URL)
	configure(t, st, cmdOff, srv.URL, callback.StateChange)
	configure(t, st, deleted, srv.URL)
	configure(t, st, old, srv.URL)
	configure(t, st, gone, srv.URL)
	for _, a := range []int64{on, off, cmdOff, deleted, gone} {
		st.AppendCallbacks(context.Background(), afterEvents(a, 1, now))
	}
	st.AppendCallbacks(context.Background(), afterEvents(old, 1, now.Add(-7*24*time.Hour-time.Minute)))
	h := testHooks(w)
	d := NewDispatcher(w, h, "n1", clock.Real{}, DispatcherOptions{Apps: fakeApps{deleted: true}})
	stop := runDispatcher(t, d)
	w.until(t, "all done", func() bool {
		var n int64
		for _, a := range []int64{on, off, cmdOff, deleted, old, gone} {
			n += backlog(st, a)
		}
		return n == 0
	})
	stop()
	if rc.n.Load() != 1 {
		t.Fatalf("%d requests, want 1", rc.n.Load())
	}
	want := map[int64]string{on: "", off: "callbacks are off", cmdOff: "turned C2C.CallbackAfterMsgReport off", deleted: "deleted", old: "older than", gone: "deleted"}
	for a, text := range want {
		l := logOf(t, st, a)
		if len(l) != 1 {
			t.Fatalf("app %d: log %+v", a, l)
		}
		if text == "" {
			if l[0].Result != "ok" {
				t.Fatalf("app %d: %+v", a, l[0])
			}
			continue
		}
		if l[0].Result != "failed" || !strings.HasPrefix(l[0].Error, "dropped: ") || !strings.Contains(l[0].Error, text) {
			t.Fatalf("app %d: %+v, want dropped: ...%s", a, l[0], text)
		}
	}
	if got := counter(t, h.m.dropped.WithLabelValues("expired")); got != 1 {
		t.Fatalf("expired counted %v", got)
	}
}

type fakeApps struct{ deleted bool }

func (f fakeApps) GetApp(_ context.Context, id int64) (store.App, error) {
	switch {
	case id == 1400000004 && f.deleted:
		return store.App{SDKAppID: id, Status: store.StatusDeleted}, nil
	case id > 1400000005:
		return store.App{}, errs.ErrNotFound
	}
	return store.App{SDKAppID: id, Status: store.StatusActive}, nil
}

// Before-event log entries reach the store through the Dispatcher.
func TestDispatcherWritesBeforeLog(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	_, srv := newCounting(t, 200)
	configure(t, st, testApp, srv.URL)
	h := testHooks(w)
	if d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody()); d.Err != nil {
		t.Fatal(d.Err)
	}
	stop := runDispatcher(t, NewDispatcher(w, h, "n1", clock.Real{}, DispatcherOptions{}))
	defer stop()
	w.until(t, "the before log", func() bool { return len(logOf(t, st, testApp)) == 1 })
	l := logOf(t, st, testApp)
	if l[0].Command != callback.C2CBeforeSendMsg || l[0].Result != "ok" || l[0].EventID != 0 {
		t.Fatalf("%+v", l[0])
	}
}

// Two dispatchers (two nodes) on one store never deliver an event twice
// while both are alive.
func TestTwoDispatchers(t *testing.T) { forStores(t, testTwoDispatchers) }

func testTwoDispatchers(t *testing.T, raw store.Callbacks) {
	st := watch(raw)
	rc, srv := newCounting(t, 200)
	const n = 60
	configure(t, st, testApp, srv.URL)
	configure(t, st, testApp+1, srv.URL)
	h1, h2 := testHooks(st), testHooks(st)
	stop1 := runDispatcher(t, NewDispatcher(st, h1, "node-1", clock.Real{}, DispatcherOptions{PerApp: 3}))
	stop2 := runDispatcher(t, NewDispatcher(st, h2, "node-2", clock.Real{}, DispatcherOptions{PerApp: 3}))
	for i := 0; i < n/6; i++ {
		if err := h1.Emit(context.Background(), afterEvents(testApp, 3, clock.Real{}.Now())); err != nil {
			t.Fatal(err)
		}
		if err := h2.Emit(context.Background(), afterEvents(testApp+1, 3, clock.Real{}.Now())); err != nil {
			t.Fatal(err)
		}
	}
	st.until(t, "backlog empty", func() bool { return backlog(st, testApp)+backlog(st, testApp+1) == 0 })
	stop1()
	stop2()
	if got := rc.n.Load(); got != n {
		t.Fatalf("%d requests for %d events", got, n)
	}
	// Bodies repeat across the batches (same LastReadTime); count by log event IDs.
	seen := map[int64]bool{}
	for _, a := range []int64{testApp, testApp + 1} {
		for _, e := range logOf(t, st, a) {
			if e.Result != "ok" || seen[e.EventID] {
				t.Fatalf("log entry %+v (seen %v)", e, seen[e.EventID])
			}
			seen[e.EventID] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d events logged", len(seen))
	}
}

// flaky fails its first FinishCallbacks calls.
type flaky struct {
	*watched
	fails atomic.Int32
}

func (f *flaky) FinishCallbacks(ctx context.Context, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	if f.fails.Add(-1) >= 0 {
		select {
		case f.changed <- struct{}{}:
		default:
		}
		return errors.New("disk full")
	}
	return f.watched.FinishCallbacks(ctx, node, outs, log)
}

// Outcomes a failed write could not record are written by a later flush.
func TestDispatcherRetriesFinish(t *testing.T) {
	st := newMemStore()
	w := &flaky{watched: watch(st)}
	w.fails.Store(3)
	rc, srv := newCounting(t, 200)
	configure(t, st, testApp, srv.URL)
	st.AppendCallbacks(context.Background(), afterEvents(testApp, 4, clock.Real{}.Now()))
	stop := runDispatcher(t, NewDispatcher(w, testHooks(w), "n1", clock.Real{}, DispatcherOptions{}))
	w.until(t, "backlog empty", func() bool { return backlog(st, testApp) == 0 })
	stop()
	if rc.n.Load() != 4 || len(logOf(t, st, testApp)) != 4 || w.fails.Load() >= 0 {
		t.Fatalf("%d requests, log %d, fails left %d", rc.n.Load(), len(logOf(t, st, testApp)), w.fails.Load())
	}
}

// An after-event without an answer in time is a timeout, retried later.
func TestDispatcherTimeout(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	configure(t, st, testApp, srv.URL)
	st.AppendCallbacks(context.Background(), afterEvents(testApp, 1, clock.Real{}.Now()))
	clk := clock.NewManual(clock.Real{}.Now())
	h := testHooks(w)
	stop := runDispatcher(t, NewDispatcher(w, h, "n1", clk, DispatcherOptions{Timeout: 50 * time.Millisecond}))
	w.until(t, "the timeout", func() bool { return len(logOf(t, st, testApp)) == 1 })
	stop()
	l := logOf(t, st, testApp)[0]
	ev := st.event(1)
	if l.Result != "timeout" || !strings.Contains(l.Error, "no answer") || ev.Attempts != 1 || !ev.NextAt.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("log %+v, event %+v", l, ev)
	}
	if got := counter(t, h.m.requests.WithLabelValues("1400000001", "after", "timeout")); got != 1 {
		t.Fatalf("timeouts counted %v", got)
	}
}

// An app paused after a failure does not crowd the other due apps out of
// the poll's list.
func TestDispatcherPausedAppDoesNotStarveOthers(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	_, down := newCounting(t, 503)
	up, upSrv := newCounting(t, 200)
	const a, b = 1400000001, 1400000002
	configure(t, st, a, down.URL)
	configure(t, st, b, upSrv.URL)
	now := clock.Real{}.Now()
	st.AppendCallbacks(context.Background(), afterEvents(a, 3, now))
	clk := clock.NewManual(now)
	d := NewDispatcher(w, testHooks(w), "n1", clk, DispatcherOptions{PerApp: 1, MaxDueApps: 1})
	stop := runDispatcher(t, d)
	defer stop()
	w.until(t, "a's first failure", func() bool { return len(logOf(t, st, a)) == 1 })
	st.AppendCallbacks(context.Background(), afterEvents(b, 2, now))
	d.Notify()
	w.until(t, "b delivered", func() bool { return backlog(st, b) == 0 })
	if up.n.Load() != 2 {
		t.Fatalf("%d requests to b", up.n.Load())
	}
	if n := len(logOf(t, st, a)); n != 1 {
		t.Fatalf("a, paused, got %d requests", n)
	}
}

// A failure's log entry and the event's LastError say what failed without the
// request's URL: it holds the Sign and the query of the configured URL.
func TestDispatcherErrorHidesURL(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/cb?secret=hush"
	srv.Close() // connections are refused
	configure(t, st, testApp, url)
	st.AppendCallbacks(context.Background(), afterEvents(testApp, 1, clock.Real{}.Now()))
	clk := clock.NewManual(clock.Real{}.Now())
	stop := runDispatcher(t, NewDispatcher(w, testHooks(w), "n1", clk, DispatcherOptions{}))
	w.until(t, "the failure", func() bool { return len(logOf(t, st, testApp)) == 1 })
	stop()
	l, ev := logOf(t, st, testApp)[0], st.event(1)
	if l.Result != "failed" || l.Error == "" {
		t.Fatalf("log %+v", l)
	}
	for _, text := range []string{l.Error, ev.LastError} {
		if strings.Contains(text, "hush") || strings.Contains(text, "Sign=") || strings.Contains(text, "/cb") {
			t.Fatalf("the error shows the request URL: %q", text)
		}
	}
}

// A receiver's answer quoted in the log (a NUL, escapes, invalid UTF-8, a huge
// ErrorInfo) is stored cleaned on every store, and never holds back the
// outcomes of other apps' events.
func TestDispatcherDirtyAnswerText(t *testing.T) { forStores(t, testDirtyAnswerText) }

func testDirtyAnswerText(t *testing.T, raw store.Callbacks) {
	st := watch(raw)
	dirty := "bad\x00x\x1b[2J\xff" + strings.Repeat("y", 70000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": dirty[:60000]})
	}))
	defer srv.Close()
	configure(t, st, testApp, srv.URL)
	other := int64(testApp + 1)
	_, good := newCounting(t, 200)
	configure(t, st, other, good.URL)
	h := testHooks(st)
	if d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody()); d.Allowed() {
		t.Fatalf("decision %+v, want a refusal", d)
	}
	if err := h.Emit(context.Background(), afterEvents(other, 3, clock.Real{}.Now())); err != nil {
		t.Fatal(err)
	}
	stop := runDispatcher(t, NewDispatcher(st, h, "n1", clock.Real{}, DispatcherOptions{}))
	defer stop()
	st.until(t, "both logs and the other app's outbox drained", func() bool {
		return len(logOf(t, raw, testApp)) == 1 && len(logOf(t, raw, other)) == 3 && backlog(st, other) == 0
	})
	e := logOf(t, raw, testApp)[0]
	if !utf8.ValidString(e.Error) || strings.ContainsAny(e.Error, "\x00\x1b") || len(e.Error) > maxErrorText || !strings.Contains(e.Error, "bad x") {
		t.Fatalf("log error %q", e.Error)
	}
}

// Apps are served in turn: when apps with slow receivers and long backlogs
// hold every slot, a freed slot goes to an app that has not had a turn yet,
// not back to the app with the lowest SDKAppID.
func TestDispatcherServesAppsInTurn(t *testing.T) {
	st := newMemStore()
	w := watch(st)
	release := make(chan struct{})
	arrived := make(chan string, 16) // the SdkAppid of each request, in order
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.URL.Query().Get("SdkAppid")
		<-release
		io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0}`)
	}))
	defer slow.Close()
	const a, b, c = 1400000001, 1400000002, 1400000003
	now := clock.Real{}.Now()
	for _, app := range []int64{a, b, c} {
		configure(t, st, app, slow.URL)
		st.AppendCallbacks(context.Background(), afterEvents(app, 3, now))
	}
	d := NewDispatcher(w, testHooks(w), "n1", clock.NewManual(now), DispatcherOptions{PerApp: 1, Global: 2})
	stop := runDispatcher(t, d)
	defer stop()
	defer close(release) // before stop: the deliveries still held end
	next := func() string {
		select {
		case app := <-arrived:
			return app
		case <-time.After(20 * time.Second):
			t.Fatal("no request")
			return ""
		}
	}
	first := []string{next(), next()}
	slices.Sort(first)
	if fmt.Sprint(first) != "[1400000001 1400000002]" {
		t.Fatalf("first requests %v, want a's and b's", first)
	}
	release <- struct{}{} // one of them ends: one slot is free
	if got := next(); got != "1400000003" {
		t.Fatalf("the freed slot went to %s, want c (a and b had their turn)", got)
	}
}
