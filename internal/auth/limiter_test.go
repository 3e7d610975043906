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
		if ok, _ := l.Take("email:a"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := l.Take("email:a")
	if ok || wait != 15*time.Minute {
		t.Fatalf("6th attempt: ok=%v wait=%v, want refused for 15m", ok, wait)
	}
	// Other keys are not affected; a refused multi-key take counts nothing.
	if ok, _ := l.Take("email:b"); !ok {
		t.Fatal("other key refused")
	}
	if ok, _ := l.Take("email:a", "client:1.2.3.4"); ok {
		t.Fatal("take with a full key allowed")
	}
	for range 4 {
		if ok, _ := l.Take("client:1.2.3.4"); !ok {
			t.Fatal("client key counted by a refused take")
		}
	}
	c.Advance(10 * time.Minute)
	if ok, wait := l.Take("email:a"); ok || wait != 5*time.Minute {
		t.Fatalf("after 10m: ok=%v wait=%v, want refused for 5m", ok, wait)
	}
	c.Advance(5 * time.Minute)
	if ok, _ := l.Take("email:a"); !ok {
		t.Fatal("refused after the window ended")
	}
}

func TestLimiterRelease(t *testing.T) {
	l := NewLimiter(clock.NewManual(t0))
	// Successful attempts (released) never add up to a refusal.
	for i := range 20 {
		if ok, _ := l.Take("k"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Release("k")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	c := clock.NewManual(t0)
	l := &Limiter{Max: 5, Window: time.Minute, MaxKeys: 100, Clock: c}
	for i := range 1000 {
		l.Take(fmt.Sprint("k", i))
		if n := l.Len(); n > 100 {
			t.Fatalf("%d keys kept, limit 100", n)
		}
	}
	// Expired keys are dropped first: a full limiter keeps its live keys.
	c.Advance(time.Minute)
	for range 5 {
		l.Take("live")
	}
	for i := range 99 {
		l.Take(fmt.Sprint("new", i))
	}
	if ok, _ := l.Take("live"); ok {
		t.Fatal("a live key was dropped while expired ones were kept")
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
			if ok, _ := l.Take("email:x", "client:y"); ok {
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
