package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// A push task's claim: one node at a time; its own claim renews; another node
// takes it only once the lease ran out, or at once after a release; a release
// by a node that does not hold it changes nothing.
func testPushClaims(t *testing.T, s store.Store) {
	createAccount(t, s, "accC")
	a := createApp(t, s, "accC", "claims", 0)
	app, at, lease := a.SDKAppID, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 30*time.Second
	must(t, s.CreatePushTask(ctx, pushTask(app, "ct1", at), testRate))
	claim := func(node string, now time.Time, want bool) {
		t.Helper()
		ok, err := s.ClaimPushTask(ctx, app, "ct1", node, now, lease)
		if err != nil || ok != want {
			t.Fatalf("%s claims at +%s: %v, %v; want %v", node, now.Sub(at), ok, err, want)
		}
	}
	claim("n1", at, true)
	claim("n2", at.Add(lease-time.Millisecond), false)
	claim("n1", at.Add(20*time.Second), true) // renewed until +50s
	claim("n2", at.Add(lease), false)
	claim("n2", at.Add(50*time.Second), true) // n1's lease ran out: taken over
	claim("n1", at.Add(51*time.Second), false)
	must(t, s.ReleasePushTask(ctx, app, "ct1", "n1")) // not n1's: nothing
	claim("n1", at.Add(52*time.Second), false)
	must(t, s.ReleasePushTask(ctx, app, "ct1", "n2"))
	claim("n1", at.Add(52*time.Second), true)

	// Nodes claiming at once: exactly one wins.
	must(t, s.CreatePushTask(ctx, pushTask(app, "ct2", at.Add(time.Minute)), testRate))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimPushTask(ctx, app, "ct2", string(rune('a'+i)), at, lease)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d nodes won the same claim, want 1", won)
	}
}

// TryLock grants a free lock; release frees it for the next holder.
// (Whether a second node is refused is the PostgreSQL store's test: the
// embedded store has one node and always grants it.)
func testTryLock(t *testing.T, s store.Store) {
	for range 2 {
		release, ok, err := s.TryLock(ctx, "storetest")
		if err != nil || !ok {
			t.Fatalf("TryLock of a free lock: %v, %v", ok, err)
		}
		release()
	}
}
