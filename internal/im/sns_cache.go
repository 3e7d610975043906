package im

import (
	"context"
	"sync"
	"time"
)

// blockCacheTTL is how long a node keeps a user's blocklist for the send path
// without reading it again. A change made on this node applies at once (the
// cache entry is dropped), one made on another node within blockCacheTTL.
const blockCacheTTL = time.Second

// blockCache keeps users' blocklists for the send path, which checks one per
// message (20007) and would otherwise read the store for every send. Ages are
// real time (a cache's, not a rule's).
type blockCache struct {
	mu  sync.RWMutex
	m   map[cacheKey]cachedBlocks
	gen uint64 // moved by every forget: a load that began before it is not kept
}

type cachedBlocks struct {
	peers map[string]bool
	at    time.Time
}

// blocks reports whether owner has peer in its blocklist.
func (s *Service) blocks(ctx context.Context, app int64, owner, peer string) (bool, error) {
	k := cacheKey{app, owner}
	c := &s.blockList
	c.mu.RLock()
	e, ok := c.m[k]
	gen := c.gen
	c.mu.RUnlock()
	if ok && time.Since(e.at) <= blockCacheTTL {
		return e.peers[peer], nil
	}
	list, _, err := s.store.ListBlocks(ctx, app, owner, 0, MaxBlocks)
	if err != nil {
		return false, storageErr(err)
	}
	e = cachedBlocks{peers: make(map[string]bool, len(list)), at: time.Now()}
	for _, b := range list {
		e.peers[b.Peer] = true
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 100000 { // bounded: start again rather than grow without end
		c.m = map[cacheKey]cachedBlocks{}
	}
	if c.gen == gen { // no change since the read began: the list is current
		c.m[k] = e
	}
	c.mu.Unlock()
	return e.peers[peer], nil
}

// forgetBlocks drops owner's cached blocklist after a change.
func (s *Service) forgetBlocks(app int64, owner string) {
	s.blockList.mu.Lock()
	delete(s.blockList.m, cacheKey{app, owner})
	s.blockList.gen++
	s.blockList.mu.Unlock()
}
