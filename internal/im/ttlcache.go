package im

import (
	"sync"
	"time"
)

// ttlCache keeps values read from the store for a short while, for the send
// path's per-message checks (mutes, blocklists, app settings). An entry expires
// ttl after it was stored; a cache of max entries starts over rather than grow
// (bounded memory). A value loaded before a change made through this node is
// never kept: every change moves the generation, and store refuses a value
// whose load began in an older one. Changes made through another node apply
// when its invalidation arrives (changed, clear: invalidation.go), and within
// ttl when that is lost.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu  sync.RWMutex
	m   map[K]ttlEntry[V]
	gen uint64
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max}
}

// get returns k's value if it has not expired at now, and the generation to
// hand to store after loading it from the store.
func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false, c.gen
	}
	return e.v, true, c.gen
}

// store keeps v for k unless a change came since the load began (gen from get).
func (c *ttlCache[K, V]) store(k K, v V, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	c.put(k, v, now)
}

// changed records a change of k made through this node: with v the new value
// (set), without it k is forgotten. Loads in flight are not kept.
func (c *ttlCache[K, V]) changed(k K, v *V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
	if v != nil {
		c.put(k, *v, now)
	}
}

// clear forgets every entry; loads in flight are not kept.
func (c *ttlCache[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

func (c *ttlCache[K, V]) put(k K, v V, now time.Time) {
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[K]ttlEntry[V])
	}
	c.m[k] = ttlEntry[V]{v: v, expires: now.Add(c.ttl)}
}
