package im

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// userCache remembers which users exist, so that a send does not read the store to
// check its sender and receiver every time. Only existence is cached, never profile
// data. Deletions through this service forget the user at once; an entry also
// expires after userCacheTTL, which bounds how long another node that deleted the
// user can go unnoticed.
type userCache struct {
	shards [64]userCacheShard
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

func (c *userCache) add(k cacheKey, now time.Time) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil || len(sh.m) >= userCacheShardSize {
		sh.m = make(map[cacheKey]time.Time)
	}
	sh.m[k] = now.Add(userCacheTTL)
}

func (c *userCache) forget(k cacheKey) {
	sh := c.shard(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
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
	found, err := s.store.GetUsers(ctx, app, unknown)
	if err != nil {
		return nil, storageErr(err)
	}
	for _, id := range unknown {
		if _, ok := found[id]; ok {
			out[id] = true
			s.users.add(cacheKey{app, id}, now)
		} else {
			out[id] = false
		}
	}
	return out, nil
}
