package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestLimiterWindow(t *testing.T) {
	c := clock.NewManual(t0)
	l := NewLimiter(c)
	for i := range 5 {
		if ok, _ := l.Take(Key{Name: "email:a"}); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := l.Take(Key{Name: "email:a"})
	if ok || wait != 15*time.Minute {
		t.Fatalf("6th attempt: ok=%v wait=%v, want refused for 15m", ok, wait)
	}
	// Other keys are not affected; a refused multi-key take counts nothing.
	if ok, _ := l.Take(Key{Name: "email:b"}); !ok {
		t.Fatal("other key refused")
	}
	if ok, _ := l.Take(Key{Name: "email:a"}, Key{Name: "client:1.2.3.4"}); ok {
		t.Fatal("take with a full key allowed")
	}
	for range 4 {
		if ok, _ := l.Take(Key{Name: "client:1.2.3.4"}); !ok {
			t.Fatal("client key counted by a refused take")
		}
	}
	c.Advance(10 * time.Minute)
	if ok, wait := l.Take(Key{Name: "email:a"}); ok || wait != 5*time.Minute {
		t.Fatalf("after 10m: ok=%v wait=%v, want refused for 5m", ok, wait)
	}
	c.Advance(5 * time.Minute)
	if ok, _ := l.Take(Key{Name: "email:a"}); !ok {
		t.Fatal("refused after the window ended")
	}
}

func TestLimiterRelease(t *testing.T) {
	c := clock.NewManual(t0)
	l := NewLimiter(c)
	// Successful attempts (released) never add up to a refusal.
	for i := range 20 {
		if ok, _ := l.Take(Key{Name: "k"}); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Release(Key{Name: "k"})
	}
	// A success does not start the window of later failures.
	c.Advance(10 * time.Minute)
	for range 5 {
		l.Take(Key{Name: "k"})
	}
	if ok, wait := l.Take(Key{Name: "k"}); ok || wait != 15*time.Minute {
		t.Fatalf("after a success and 5 failures 10 minutes later: ok=%v wait=%v, want refused for 15m", ok, wait)
	}
	if l.Len() != 1 {
		t.Fatalf("%d keys kept", l.Len())
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	c := clock.NewManual(t0)
	l := &Limiter{Max: 5, Window: time.Minute, MaxKeys: 100, Clock: c}
	// A key still counting is never dropped: neither one that refuses nor one
	// part-way to it; a full limiter refuses new keys until a window ends.
	for range 5 {
		l.Take(Key{Name: "refusing"})
	}
	for range 4 {
		l.Take(Key{Name: "counting"})
	}
	c.Advance(10 * time.Second)
	for i := range 98 {
		if ok, _ := l.Take(Key{Name: fmt.Sprint("k", i)}); !ok {
			t.Fatalf("key %d refused with room left", i)
		}
	}
	if ok, wait := l.Take(Key{Name: "flood"}); ok || wait != 50*time.Second || l.Len() != 100 {
		t.Fatalf("a new key in a full limiter: ok=%v wait=%v len=%d, want refused for 50s", ok, wait, l.Len())
	}
	if ok, _ := l.Take(Key{Name: "counting"}); !ok {
		t.Fatal("the counting key lost its count")
	}
	if ok, _ := l.Take(Key{Name: "counting"}); ok {
		t.Fatal("the counting key was reset by the flood")
	}
	if ok, _ := l.Take(Key{Name: "refusing"}); ok {
		t.Fatal("a flood of new keys lifted a refusal")
	}
	// Once windows end, their keys make room: the two oldest first.
	c.Advance(50 * time.Second)
	for i := range 2 {
		if ok, _ := l.Take(Key{Name: fmt.Sprint("later", i)}); !ok {
			t.Fatalf("after the first two windows ended: key %d refused", i)
		}
	}
	if ok, _ := l.Take(Key{Name: "later2"}); ok {
		t.Fatal("a third new key found room")
	}
	c.Advance(time.Minute)
	for i := range 1000 {
		if ok, _ := l.Take(Key{Name: fmt.Sprint("again", i%50)}); !ok && i < 250 {
			t.Fatalf("after every window ended: key %d refused", i)
		}
		if n := l.Len(); n > 100 {
			t.Fatalf("%d keys kept, limit 100", n)
		}
	}
}

func TestLimiterPerKeyMax(t *testing.T) {
	l := NewLimiter(clock.NewManual(t0))
	for i := range 8 {
		if ok, _ := l.Take(Key{Name: "loose", Max: 8}, Key{Name: "default"}); ok != (i < 5) {
			t.Fatalf("attempt %d: ok=%v", i+1, ok)
		}
	}
	for i := range 3 {
		if ok, _ := l.Take(Key{Name: "loose", Max: 8}); !ok {
			t.Fatalf("loose key attempt %d refused below its own max", 6+i)
		}
	}
	if ok, _ := l.Take(Key{Name: "loose", Max: 8}); ok {
		t.Fatal("loose key allowed past its max")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(clock.NewManual(t0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.Take(Key{Name: "email:x"}, Key{Name: "client:y"}); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("%d concurrent attempts allowed, want 5", allowed)
	}
}

// TestLimiterFailOpen: a full FailOpen limiter makes room for a newcomer,
// dropping counting keys first and refusing ones only when it must.
func TestLimiterFailOpen(t *testing.T) {
	c := clock.NewManual(t0)
	l := &Limiter{Max: 2, Window: time.Minute, MaxKeys: 3, Clock: c, FailOpen: true}
	for range 2 {
		l.Take(Key{Name: "refusing"})
	}
	l.Take(Key{Name: "counting"})
	l.Take(Key{Name: "other"})
	if ok, _ := l.Take(Key{Name: "new"}); !ok || l.Len() != 3 {
		t.Fatalf("a newcomer in a full fail-open limiter: ok=%v len=%d", ok, l.Len())
	}
	if ok, _ := l.Take(Key{Name: "refusing"}); ok {
		t.Fatal("a refusing key was dropped while counting ones were kept")
	}
	full := &Limiter{Max: 1, Window: time.Minute, MaxKeys: 2, Clock: c, FailOpen: true}
	full.Take(Key{Name: "a"})
	full.Take(Key{Name: "b"})
	if ok, _ := full.Take(Key{Name: "c"}); !ok || full.Len() != 2 {
		t.Fatalf("a newcomer in a limiter full of refusing keys: ok=%v len=%d", ok, full.Len())
	}
}
