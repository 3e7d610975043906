package usage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/testdb"
)

var ctx = context.Background()

// noon is 2026-03-10 12:00 UTC.
var noon = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const appA, appB int64 = 1400000001, 1400000002

func figures(t *testing.T, s store.Daily, app int64) []store.DailyUsage {
	t.Helper()
	d, err := s.DailyUsage(ctx, app, "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// now is the time of r's clock.
func now(r *Recorder) time.Time { return r.clock.Now() }

func flush(t *testing.T, r *Recorder) {
	t.Helper()
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// TestConcurrentExact: events counted by many goroutines while flushes run
// reach the store exactly once each.
func TestConcurrentExact(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		r := New(st, clock.NewManual(noon), nil)
		const workers, events = 8, 500
		var wg sync.WaitGroup
		stop := make(chan struct{})
		flushed := make(chan error, 1)
		go func() { // flushes while counting goes on
			var err error
			for {
				select {
				case <-stop:
					flushed <- err
					return
				default:
				}
				if e := r.Flush(ctx); e != nil && err == nil {
					err = e
				}
			}
		}()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range events {
					app := appA + int64(i%2)
					user := fmt.Sprintf("u%d", (w*events+i)%10)
					switch i % 3 {
					case 0:
						r.Login(app, user, now(r))
					case 1:
						r.C2C(app, user, now(r))
					default:
						r.Group(app, user, now(r))
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		if err := <-flushed; err != nil {
			t.Fatal(err)
		}
		flush(t, r)
		// Per app: half the events; of each worker's 500, i%2 and i%3 split
		// them evenly up to rounding: count them the same way.
		want := map[int64]*store.DailyUsage{appA: {Day: "2026-03-10"}, appB: {Day: "2026-03-10"}}
		users := map[int64]map[string]bool{appA: {}, appB: {}}
		for w := range workers {
			for i := range events {
				d := want[appA+int64(i%2)]
				users[appA+int64(i%2)][fmt.Sprintf("u%d", (w*events+i)%10)] = true
				switch i % 3 {
				case 0:
					d.Logins++
				case 1:
					d.C2CMsgs++
				default:
					d.GroupMsgs++
				}
			}
		}
		for app, d := range want {
			d.ActiveUsers = int64(len(users[app]))
			if got := figures(t, st, app); !reflect.DeepEqual(got, []store.DailyUsage{*d}) {
				t.Fatalf("app %d = %+v, want %+v", app, got, *d)
			}
		}
		if r.Dropped() != 0 {
			t.Fatalf("dropped %d", r.Dropped())
		}
	})
}

// TestShutdownFlush: ending Run writes what was counted since the last flush.
func TestShutdownFlush(t *testing.T) {
	st := testdb.SQLite(t)
	r := New(st, clock.NewManual(noon), nil)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(runCtx, time.Hour) // no periodic flush within the test
	}()
	for i := range 100 {
		r.C2C(appA, fmt.Sprintf("u%d", i%7), now(r))
	}
	r.Login(appA, "u9", now(r))
	cancel()
	<-done
	want := []store.DailyUsage{{Day: "2026-03-10", ActiveUsers: 8, Logins: 1, C2CMsgs: 100}}
	if got := figures(t, st, appA); !reflect.DeepEqual(got, want) {
		t.Fatalf("after shutdown = %+v, want %+v", got, want)
	}
}

// TestTwoNodes: two recorders on two stores over one PostgreSQL database add
// up; a user active on both nodes counts once.
func TestTwoNodes(t *testing.T) {
	testdb.SkipWithoutPostgres(t)
	u := testdb.PostgresURL(t)
	var recs []*Recorder
	var stores []store.Store
	for range 2 {
		s, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
		recs = append(recs, New(s, clock.NewManual(noon), nil))
	}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for n, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				r.Group(appA, fmt.Sprintf("shared%d", i%20), now(r)) // 20 users on both nodes
				if i%10 == 0 {
					r.Login(appA, fmt.Sprintf("node%d-%d", n, i), now(r)) // 30 of each node's own
					if err := r.Flush(ctx); err != nil {
						errc <- err
						return
					}
				}
			}
			errc <- r.Flush(ctx)
		}()
	}
	wg.Wait()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	want := []store.DailyUsage{{Day: "2026-03-10", ActiveUsers: 20 + 60, Logins: 60, GroupMsgs: 600}}
	for _, s := range stores {
		if got := figures(t, s, appA); !reflect.DeepEqual(got, want) {
			t.Fatalf("two nodes = %+v, want %+v", got, want)
		}
	}
}

// TestDayBoundary: events fall on the UTC day of the clock; a user active on
// both sides of midnight counts on both days.
func TestDayBoundary(t *testing.T) {
	st := testdb.SQLite(t)
	clk := clock.NewManual(time.Date(2026, 3, 10, 23, 59, 59, 999e6, time.UTC))
	r := New(st, clk, nil)
	r.Login(appA, "u1", now(r))
	r.C2C(appA, "u1", now(r))
	r.C2C(appA, "u2", now(r))
	clk.Set(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
	r.C2C(appA, "u1", now(r)) // counted yesterday, new today
	r.Group(appA, "u1", now(r))
	clk.Set(time.Date(2026, 3, 11, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))) // 00:00 UTC still the 11th
	r.Login(appA, "u3", now(r))
	flush(t, r)
	want := []store.DailyUsage{
		{Day: "2026-03-10", ActiveUsers: 2, Logins: 1, C2CMsgs: 2},
		{Day: "2026-03-11", ActiveUsers: 2, Logins: 1, C2CMsgs: 1, GroupMsgs: 1},
	}
	if got := figures(t, st, appA); !reflect.DeepEqual(got, want) {
		t.Fatalf("days = %+v\nwant %+v", got, want)
	}
}

// TestBoundedCells: a flood of apps holds at most maxCells cells; the
// events past the bound are dropped and counted, the others are written.
func TestBoundedCells(t *testing.T) {
	st := testdb.SQLite(t)
	r := New(st, clock.NewManual(noon), nil)
	r.maxCells = 16
	for app := range int64(40) {
		r.C2C(appA+app, "u", now(r))
	}
	if n := r.cells.Load(); n != 16 {
		t.Fatalf("cells = %d, want the bound 16", n)
	}
	if d := r.Dropped(); d != 24 {
		t.Fatalf("dropped = %d, want 24", d)
	}
	select {
	case <-r.wake:
	default:
		t.Fatal("the flusher was not woken at the bound")
	}
	flush(t, r)
	if n := r.cells.Load(); n != 0 {
		t.Fatalf("cells after flush = %d", n)
	}
	if got := figures(t, st, appA+15); len(got) != 1 || got[0].C2CMsgs != 1 {
		t.Fatalf("app within the bound: %+v", got)
	}
	r.C2C(appA+39, "u", now(r)) // room again after the flush
	flush(t, r)
	if got := figures(t, st, appA+39); len(got) != 1 || got[0].C2CMsgs != 1 {
		t.Fatalf("app past the bound, after a flush: %+v", got)
	}
}

// TestBoundedUsers: a flood of users holds at most maxPending queued and
// maxSeen remembered; a user dropped from the queue is queued again by its
// next event, and a forgotten user is admitted again without counting twice.
func TestBoundedUsers(t *testing.T) {
	st := testdb.SQLite(t)
	r := New(st, clock.NewManual(noon), nil)
	r.maxPending, r.maxSeen = 10, 15
	for i := range 30 {
		r.C2C(appA, fmt.Sprintf("u%d", i), now(r))
	}
	if p := r.pending.Load(); p != 10 {
		t.Fatalf("pending = %d, want the bound 10", p)
	}
	if d := r.Dropped(); d != 20 {
		t.Fatalf("dropped = %d, want 20", d)
	}
	flush(t, r)
	for i := range 30 { // u10..u29 are queued again; u0..u9 are known
		r.C2C(appA, fmt.Sprintf("u%d", i), now(r))
		if i%8 == 7 {
			flush(t, r)
		}
	}
	flush(t, r)
	if s := r.seen.Load(); s > 15 {
		t.Fatalf("seen = %d past the bound 15", s)
	}
	got := figures(t, st, appA)
	if len(got) != 1 || got[0].ActiveUsers != 30 || got[0].C2CMsgs != 60 {
		t.Fatalf("after the flood = %+v, want 30 users and 60 messages", got)
	}
}

// failing is a store.Daily whose writes fail while fail is set.
type failing struct {
	store.Daily
	mu   sync.Mutex
	fail bool
}

func (f *failing) AddDaily(ctx context.Context, c []store.DailyCounts, u []store.DailyUser) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("unavailable")
	}
	return f.Daily.AddDaily(ctx, c, u)
}

// TestFailedFlushRetried: a failed flush keeps its counts for the next.
func TestFailedFlushRetried(t *testing.T) {
	st := &failing{Daily: testdb.SQLite(t), fail: true}
	r := New(st, clock.NewManual(noon), nil)
	r.Login(appA, "u1", now(r))
	if err := r.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded on a failing store")
	}
	r.C2C(appA, "u2", now(r))
	st.fail = false
	flush(t, r)
	want := []store.DailyUsage{{Day: "2026-03-10", ActiveUsers: 2, Logins: 1, C2CMsgs: 1}}
	if got := figures(t, st, appA); !reflect.DeepEqual(got, want) {
		t.Fatalf("after retry = %+v, want %+v", got, want)
	}
}

// TestNilRecorder: a service without a recorder counts nothing and does not fail.
func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Login(appA, "u", noon)
	r.C2C(appA, "u", noon)
	r.Group(appA, "u", noon)
	if err := r.Flush(ctx); err != nil || r.Dropped() != 0 {
		t.Fatal(err)
	}
}

// BenchmarkCount is the per-message cost on the send path: an active user of
// an app sending (the steady state between two flushes), from all cores. The
// time is the send's own (callers pass the time they took), so the clock's
// cost is not in it.
func BenchmarkCount(b *testing.B) {
	r := New(nil, clock.Real{}, nil)
	at := time.Now()
	users := make([]string, 1000)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
		r.C2C(appA, users[i], at)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.C2C(appA, users[i%len(users)], at)
			i++
		}
	})
}

// TestLastDays: one item per day, oldest first, zeros where nothing was
// recorded; Purge keeps exactly the last RetentionDays.
func TestLastDays(t *testing.T) {
	st := testdb.SQLite(t)
	clk := clock.NewManual(noon)
	r := New(st, clk, nil)
	r.Login(appA, "u1", now(r))
	clk.Set(noon.AddDate(0, 0, -2))
	r.C2C(appA, "u1", now(r))
	r.C2C(appA, "u2", now(r))
	clk.Set(noon.AddDate(0, 0, -RetentionDays)) // one day past the retention
	r.Group(appA, "u1", now(r))
	flush(t, r)
	clk.Set(noon)
	got, err := r.LastDays(ctx, appA, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DailyUsage{
		{Day: "2026-03-08", ActiveUsers: 2, C2CMsgs: 2},
		{Day: "2026-03-09"},
		{Day: "2026-03-10", ActiveUsers: 1, Logins: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("LastDays = %+v\nwant %+v", got, want)
	}
	if _, err := r.LastDays(ctx, appA, 0); err == nil {
		t.Fatal("0 days accepted")
	}
	if _, err := r.LastDays(ctx, appA, RetentionDays+1); err == nil {
		t.Fatal("more days than kept accepted")
	}
	all := figures(t, st, appA)
	if len(all) != 3 {
		t.Fatalf("before purge: %+v", all)
	}
	n, err := r.Purge(ctx)
	if err != nil || n != 4 { // the old day's figures, its user and the two users of 2 days ago
		t.Fatalf("Purge = %d, %v; want 4", n, err)
	}
	if got := figures(t, st, appA); !reflect.DeepEqual(got, all[1:]) {
		t.Fatalf("after purge: %+v", got)
	}
	// Today's users are kept: today's user counts once still, also for a
	// recorder that has not seen it (another node, a restart).
	r2 := New(st, clk, nil)
	r2.Login(appA, "u1", now(r2))
	flush(t, r2)
	if got := figures(t, st, appA); got[len(got)-1].ActiveUsers != 1 || got[len(got)-1].Logins != 2 {
		t.Fatalf("today after purge: %+v", got)
	}
}

// BenchmarkCountSerial is BenchmarkCount from one goroutine (no contention).
func BenchmarkCountSerial(b *testing.B) {
	r := New(nil, clock.Real{}, nil)
	at := time.Now()
	users := make([]string, 1000)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
		r.Group(appA, users[i], at)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Group(appA, users[i%len(users)], at)
	}
}
