package im

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/bus"
)

// blockCacheTTL is how long a node keeps a user's blocklist for the send path
// without reading it again. A change made on this node applies at once (the
// cache entry is dropped), one made on another node at once by its
// invalidation (bus.InvBlocklist), within blockCacheTTL if that is lost.
const blockCacheTTL = time.Second

// The blocklist cache holds at most maxCachedBlocklists users' lists of at most
// maxCachedBlocklist peers each (about 100 MiB at worst); a longer list is read
// from the store on every send, and a full cache starts over.
const (
	maxCachedBlocklists = 16384
	maxCachedBlocklist  = 100
)

// blocks reports whether owner has peer in its blocklist.
func (s *Service) blocks(ctx context.Context, app int64, owner, peer string) (bool, error) {
	k := cacheKey{app, owner}
	peers, ok, gen := s.blockList.get(k, time.Now())
	if ok {
		return peers[peer], nil
	}
	list, _, err := s.store.ListBlocks(ctx, app, owner, 0, MaxBlocks)
	if err != nil {
		return false, storageErr(err)
	}
	peers = make(map[string]bool, len(list))
	for _, b := range list {
		peers[b.Peer] = true
	}
	if len(peers) <= maxCachedBlocklist {
		s.blockList.store(k, peers, time.Now(), gen)
	}
	return peers[peer], nil
}

// forgetBlocks drops owner's cached blocklist after a change, here and on
// the other nodes (bus.InvBlocklist).
func (s *Service) forgetBlocks(app int64, owner string) {
	s.blockList.changed(cacheKey{app, owner}, nil, time.Now())
	s.invalidate(userInvalidation(bus.InvBlocklist, app, owner))
}
