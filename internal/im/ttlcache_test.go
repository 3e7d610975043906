package im

import (
	"testing"
	"time"
)

// TestTTLCache: entries expire after ttl; a value loaded before a change made
// through this node is not kept (the change wins); a full cache starts over.
func TestTTLCache(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	c := newTTLCache[string, int](5*time.Second, 3)

	_, ok, gen := c.get("a", now)
	if ok {
		t.Fatal("an empty cache has a")
	}
	c.store("a", 1, now, gen)
	if v, ok, _ := c.get("a", now.Add(4*time.Second)); !ok || v != 1 {
		t.Fatalf("a = %d, %v before its ttl", v, ok)
	}
	if _, ok, _ := c.get("a", now.Add(5*time.Second)); ok {
		t.Fatal("a outlived its ttl")
	}

	// A load begins (gen), a change is made through this node, the stale load ends.
	_, _, gen = c.get("b", now)
	two := 2
	c.changed("b", &two, now)
	c.store("b", 0, now, gen)
	if v, ok, _ := c.get("b", now); !ok || v != 2 {
		t.Fatalf("b = %d, %v: a load from before the change replaced it", v, ok)
	}
	c.changed("b", nil, now)
	if _, ok, _ := c.get("b", now); ok {
		t.Fatal("b is still cached after a change without a value")
	}

	_, _, gen = c.get("x", now)
	for _, k := range []string{"x", "y", "z", "w"} {
		c.store(k, 9, now, gen)
	}
	if len(c.m) > 3 {
		t.Fatalf("%d entries in a cache of 3", len(c.m))
	}
}
