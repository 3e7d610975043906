package im

import (
	"fmt"
	"testing"
)

// The cache returns the stored snapshot itself (no copy), forgets a group on
// a change, never stores a list loaded across a change, and stays within its
// bounds.
func TestMemberCache(t *testing.T) {
	var c memberCache
	k := groupKey{1, "G"}
	loads := 0
	load := func(ms ...string) func() ([]string, error) {
		return func() ([]string, error) { loads++; return ms, nil }
	}
	a, _ := c.get(k, load("u1", "u2"))
	b, _ := c.get(k, load("x"))
	if loads != 1 || &a[0] != &b[0] {
		t.Fatalf("second get loaded again or copied: %d loads", loads)
	}
	c.forget(k)
	if ms, _ := c.get(k, load("u1", "u2", "u3")); len(ms) != 3 || loads != 2 {
		t.Fatalf("after forget: %v", ms)
	}
	// A load that a change overtakes is used once, not kept.
	c.forget(k)
	if ms, _ := c.get(k, func() ([]string, error) { c.forget(k); return []string{"stale"}, nil }); ms[0] != "stale" {
		t.Fatal(ms)
	}
	if ms, _ := c.get(k, load("fresh")); ms[0] != "fresh" {
		t.Fatalf("a list loaded across a change was kept: %v", ms)
	}
	for i := range maxCachedGroups + 10 {
		c.get(groupKey{2, fmt.Sprint(i)}, load("m"))
	}
	if len(c.m) > maxCachedGroups || c.members > maxCachedMembers {
		t.Fatalf("%d groups, %d members cached", len(c.m), c.members)
	}
}
