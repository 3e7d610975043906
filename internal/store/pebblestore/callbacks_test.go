package pebblestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

var seq int

// appendEvents writes n after-events of app through Apply's ctx.
func appendEvents(t testing.TB, s *Store, app int64, n int) {
	t.Helper()
	ctx := context.Background()
	evs := make([]store.CallbackEvent, n)
	for i := range evs {
		evs[i] = store.CallbackEvent{App: app, Command: "C2C.CallbackAfterSendMsg", Body: []byte(`{}`), CreatedAt: time.Unix(1, 0)}
	}
	seq++
	if _, err := s.Apply(store.WithCallbacks(ctx, evs...), []store.Op{send("a", "b", 1, fmt.Sprint("cb-", seq))}); err != nil {
		t.Fatal(err)
	}
}

// deliverAll claims and finishes every due event of app, returning how many.
func deliverAll(t testing.TB, s *Store, app int64, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for {
		evs, err := s.ClaimCallbacks(ctx, app, "n1", now, time.Minute, 256)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return n
		}
		outs := make([]store.CallbackOutcome, len(evs))
		for i, e := range evs {
			outs[i] = store.CallbackOutcome{ID: e.ID, App: app, Done: true}
		}
		if err := s.FinishCallbacks(ctx, "n1", outs); err != nil {
			t.Fatal(err)
		}
		n += len(evs)
	}
}

// The scans start where the app's remaining events start: delivered events'
// keys before them are skipped, an app without events leaves the due list
// and comes back with its next event, and a retried event is still found.
func TestCallbackScansSkipDelivered(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Unix(1000, 0)
	appendEvents(t, s, 7, 300)
	appendEvents(t, s, 9, 1)
	if apps, err := s.DueCallbackApps(ctx, now, 0, 10); err != nil || fmt.Sprint(apps) != "[7 9]" {
		t.Fatalf("due apps %v %v", apps, err)
	}
	if n := deliverAll(t, s, 7, now); n != 300 {
		t.Fatalf("delivered %d of 300", n)
	}
	if apps, _ := s.DueCallbackApps(ctx, now, 0, 10); fmt.Sprint(apps) != "[9]" {
		t.Fatalf("due apps after delivering app 7: %v", apps)
	}
	if _, ok := s.cbApps[7]; ok {
		t.Fatal("app 7 has no events but stays in the due list")
	}
	appendEvents(t, s, 7, 2)
	if apps, _ := s.DueCallbackApps(ctx, now, 0, 10); fmt.Sprint(apps) != "[7 9]" {
		t.Fatalf("due apps after new events: %v", apps)
	}
	// A failed attempt: due again at its NextAt, not before.
	evs, err := s.ClaimCallbacks(ctx, 7, "n1", now, time.Minute, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("claim %v %v", evs, err)
	}
	if err := s.FinishCallbacks(ctx, "n1", []store.CallbackOutcome{{ID: evs[0].ID, App: 7, NextAt: now.Add(time.Hour), Error: "down"}}); err != nil {
		t.Fatal(err)
	}
	if n := deliverAll(t, s, 7, now); n != 1 {
		t.Fatalf("delivered %d before the retry is due, want the other 1", n)
	}
	if n := deliverAll(t, s, 7, now.Add(time.Hour)); n != 1 {
		t.Fatalf("delivered %d at the retry's time, want 1", n)
	}
	if apps, _ := s.DueCallbackApps(ctx, now.Add(time.Hour), 0, 10); fmt.Sprint(apps) != "[9]" {
		t.Fatalf("due apps at the end: %v", apps)
	}
}

// BenchmarkClaimAfterDelivered measures one claim and finish of a new event
// after 100,000 events of the app were delivered (their deleted keys are
// still in the engine).
func BenchmarkClaimAfterDelivered(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Unix(1000, 0)
	for i := 0; i < 100; i++ {
		appendEvents(b, s, 7, 1000)
	}
	deliverAll(b, s, 7, now)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		appendEvents(b, s, 7, 1)
		if _, err := s.DueCallbackApps(context.Background(), now, 0, 10); err != nil {
			b.Fatal(err)
		}
		if n := deliverAll(b, s, 7, now); n != 1 {
			b.Fatalf("delivered %d", n)
		}
	}
}
