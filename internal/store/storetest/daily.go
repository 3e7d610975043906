package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/store"
)

var dailyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"DailyAddsUp", testDailyAddsUp},
	{"DailyConcurrent", testDailyConcurrent},
	{"DailyPurge", testDailyPurge},
}

func dailyOf(t *testing.T, s store.Store, app int64, from, to string) []store.DailyUsage {
	t.Helper()
	d, err := s.DailyUsage(ctx, app, from, to)
	if err != nil {
		t.Fatalf("DailyUsage: %v", err)
	}
	return d
}

// testDailyAddsUp: counts add, a user counts once per app and day, days and
// apps are separate, the range is inclusive and ascending.
func testDailyAddsUp(t *testing.T, s store.Store) {
	const d1, d2, d3 = "2025-03-01", "2025-03-02", "2025-03-03"
	if d := dailyOf(t, s, app1, d1, d3); len(d) != 0 {
		t.Fatalf("empty store: %v", d)
	}
	must := func(c []store.DailyCounts, u []store.DailyUser) {
		t.Helper()
		if err := s.AddDaily(ctx, c, u); err != nil {
			t.Fatalf("AddDaily: %v", err)
		}
	}
	must([]store.DailyCounts{{App: app1, Day: d1, Logins: 2, C2CMsgs: 5, GroupMsgs: 1}, {App: app1, Day: d1, Logins: 1}},
		[]store.DailyUser{du(app1, d1, "u1"), du(app1, d1, "u2"), du(app1, d1, "u1")})
	must([]store.DailyCounts{{App: app1, Day: d1, C2CMsgs: 3}, {App: app2, Day: d1, GroupMsgs: 7}, {App: app1, Day: d3, Logins: 1}},
		[]store.DailyUser{du(app1, d1, "u2"), du(app1, d1, "u3"), du(app2, d1, "u1"), du(app1, d3, "u1")})
	must(nil, []store.DailyUser{du(app1, d2, "u9")}) // users alone make a day
	must(nil, nil)
	want := []store.DailyUsage{
		{Day: d1, ActiveUsers: 3, Logins: 3, C2CMsgs: 8, GroupMsgs: 1},
		{Day: d2, ActiveUsers: 1},
		{Day: d3, ActiveUsers: 1, Logins: 1},
	}
	if got := dailyOf(t, s, app1, d1, d3); !reflect.DeepEqual(got, want) {
		t.Fatalf("app1 = %+v\nwant %+v", got, want)
	}
	if got := dailyOf(t, s, app1, d2, d2); !reflect.DeepEqual(got, want[1:2]) {
		t.Fatalf("app1 %s only = %+v", d2, got)
	}
	if got := dailyOf(t, s, app2, d1, d3); !reflect.DeepEqual(got, []store.DailyUsage{{Day: d1, ActiveUsers: 1, GroupMsgs: 7}}) {
		t.Fatalf("app2 = %+v", got)
	}
}

// testDailyConcurrent: concurrent writers (connections, or nodes on one
// database) add up exactly, and a user admitted by several counts once.
func testDailyConcurrent(t *testing.T, s store.Store) {
	const day = "2025-03-01"
	const writers, rounds = 8, 10
	var wg sync.WaitGroup
	errc := make(chan error, writers*rounds)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// Every writer admits the same 5 users plus one of its own,
				// and counts for both apps (in opposite orders).
				users := []store.DailyUser{du(app1, day, fmt.Sprintf("w%d-%d", w, r))}
				for i := range 5 {
					users = append(users, store.DailyUser{App: app1, Day: day, User: fmt.Sprintf("shared%d", 4-i)})
				}
				counts := []store.DailyCounts{{App: app2, Day: day, C2CMsgs: 2}, {App: app1, Day: day, Logins: 1, C2CMsgs: 1, GroupMsgs: 3}}
				if w%2 == 1 {
					counts[0], counts[1] = counts[1], counts[0]
				}
				errc <- s.AddDaily(ctx, counts, users)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("AddDaily: %v", err)
		}
	}
	n := int64(writers * rounds)
	want := []store.DailyUsage{{Day: day, ActiveUsers: n + 5, Logins: n, C2CMsgs: n, GroupMsgs: 3 * n}}
	if got := dailyOf(t, s, app1, day, day); !reflect.DeepEqual(got, want) {
		t.Fatalf("app1 = %+v, want %+v", got, want)
	}
	if got := dailyOf(t, s, app2, day, day); !reflect.DeepEqual(got, []store.DailyUsage{{Day: day, C2CMsgs: 2 * n}}) {
		t.Fatalf("app2 = %+v", got)
	}
}

// testDailyPurge: days before the bound go (users and figures), the others stay.
func testDailyPurge(t *testing.T, s store.Store) {
	for _, day := range []string{"2024-01-31", "2024-02-01", "2024-02-02"} {
		if err := s.AddDaily(ctx, []store.DailyCounts{{App: app1, Day: day, Logins: 1}}, []store.DailyUser{du(app1, day, "u")}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PurgeDailyBefore(ctx, "2024-02-01", "2024-02-01")
	if err != nil || n != 2 {
		t.Fatalf("PurgeDailyBefore = %d, %v; want 2 (a figure and a user)", n, err)
	}
	got := dailyOf(t, s, app1, "2000-01-01", "2100-01-01")
	if len(got) != 2 || got[0].Day != "2024-02-01" {
		t.Fatalf("after purge: %+v", got)
	}
	// The purged day's user is gone too: admitted again, it counts again.
	if err := s.AddDaily(ctx, nil, []store.DailyUser{du(app1, "2024-01-31", "u")}); err != nil {
		t.Fatal(err)
	}
	if got := dailyOf(t, s, app1, "2024-01-31", "2024-01-31"); len(got) != 1 || got[0].ActiveUsers != 1 {
		t.Fatalf("re-admitted after purge: %+v", got)
	}
	// Users go sooner than figures: the figures stay, the users' rows go.
	n, err = s.PurgeDailyBefore(ctx, "2000-01-01", "2100-01-01")
	if err != nil || n != 3 {
		t.Fatalf("PurgeDailyBefore(users only) = %d, %v; want 3 users", n, err)
	}
	if got := dailyOf(t, s, app1, "2024-02-01", "2024-02-02"); len(got) != 2 || got[0].ActiveUsers != 1 || got[0].Logins != 1 {
		t.Fatalf("figures after the users went: %+v", got)
	}
}

func du(app int64, day, user string) store.DailyUser {
	return store.DailyUser{App: app, Day: day, User: user}
}
