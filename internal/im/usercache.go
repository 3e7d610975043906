package im

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// userCache remembers which users exist, so that a send does not read the store to
// check its sender and receiver every time. Only existence is cached, never profile
// data. Deletions through this service forget the user at once, and so does
// another node's deletion when the bus tells (bus.InvUser, invalidation.go);
// an entry also expires after userCacheTTL, which bounds how long a deletion
// can go unnoticed when that news is lost. A read of the store that began
// before a forget is not kept (gen).
type userCache struct {
	shards [64]userCacheShard
	gen    atomic.Uint64 // moves on every forget and clear, inside the shard lock
}

type userCacheShard struct {
	mu sync.Mutex
	m  map[cacheKey]time.Time // expiry
}

type cacheKey struct {
	app  int64
	user string
}

const (
	userCacheTTL       = time.Minute
	userCacheShardSize = 16384 // entries per shard; a full shard starts over
)

func (c *userCache) shard(k cacheKey) *userCacheShard {
	h := maphash.String(cacheSeed, k.user) ^ uint64(k.app)
	return &c.shards[h%uint64(len(c.shards))]
}

var cacheSeed = maphash.MakeSeed()

func (c *userCache) has(k cacheKey, now time.Time) bool {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	exp, ok := sh.m[k]
	return ok && now.Before(exp)
}

// add keeps k unless a forget came since gen was read (before the store
// read that found k).
func (c *userCache) add(k cacheKey, now time.Time, gen uint64) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if sh.m == nil || len(sh.m) >= userCacheShardSize {
		sh.m = make(map[cacheKey]time.Time)
	}
	sh.m[k] = now.Add(userCacheTTL)
}

func (c *userCache) forget(k cacheKey) {
	sh := c.shard(k)
	sh.mu.Lock()
	c.gen.Add(1)
	delete(sh.m, k)
	sh.mu.Unlock()
}

// clear forgets every user.
func (c *userCache) clear() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.m = nil
		sh.mu.Unlock()
	}
}

// imported reports, for each id, whether it is an imported user of the app, reading
// the store only for ids the cache does not know.
func (s *Service) imported(ctx context.Context, app int64, ids ...string) (map[string]bool, error) {
	now := s.clock.Now()
	out := make(map[string]bool, len(ids))
	var unknown []string
	for _, id := range ids {
		if s.users.has(cacheKey{app, id}, now) {
			out[id] = true
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	gen := s.users.gen.Load()
	found, err := s.store.GetUsers(ctx, app, unknown)
	if err != nil {
		return nil, storageErr(err)
	}
	for _, id := range unknown {
		if _, ok := found[id]; ok {
			out[id] = true
			s.users.add(cacheKey{app, id}, now, gen)
		} else {
			out[id] = false
		}
	}
	return out, nil
}
