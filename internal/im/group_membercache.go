package im

import (
	"sync"
	"sync/atomic"
)

// Bounds of the member-list cache of the group send path.
const (
	maxCachedGroups  = 10_000    // groups whose member list is kept
	maxCachedMembers = 4_000_000 // member ids kept in all (about 64 MB of string headers and ids)
)

type groupKey struct {
	app   int64
	group string
}

// memberCache keeps each group's member list as an immutable snapshot
// ([]string, sorted): a send takes the snapshot and hands it to the bus as it
// is, never copied per message; a membership change drops it
// (groupMembersChanged) and the next send loads a new one. Bounded in groups
// and in members: past either bound, arbitrary entries are dropped.
type memberCache struct {
	mu      sync.RWMutex
	m       map[groupKey][]string
	members int
	// epoch moves on every invalidation: a load that began before one does
	// not store what it read (it may be older than the change).
	epoch atomic.Uint64
}

// get returns the cached snapshot, or loads, stores and returns one.
func (c *memberCache) get(k groupKey, load func() ([]string, error)) ([]string, error) {
	c.mu.RLock()
	ms, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return ms, nil
	}
	epoch := c.epoch.Load()
	ms, err := load()
	if err != nil {
		return nil, err
	}
	if len(ms) > maxCachedMembers/4 {
		return ms, nil // too large to keep: loaded per send
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return ms, nil
	}
	if c.m == nil {
		c.m = map[groupKey][]string{}
	}
	if old, ok := c.m[k]; ok {
		c.members -= len(old)
	}
	for kk, v := range c.m {
		if len(c.m) < maxCachedGroups && c.members+len(ms) <= maxCachedMembers {
			break
		}
		delete(c.m, kk)
		c.members -= len(v)
	}
	c.m[k] = ms
	c.members += len(ms)
	return ms, nil
}

// forget drops the group's snapshot.
func (c *memberCache) forget(k groupKey) {
	c.epoch.Add(1)
	c.mu.Lock()
	if old, ok := c.m[k]; ok {
		c.members -= len(old)
		delete(c.m, k)
	}
	c.mu.Unlock()
}
