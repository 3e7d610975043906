package gate

import (
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// MaxFriends is how many friends one user of app may have (product spec section
// 3: Free Trial 20, Standard and Premium 3,000).
func (g *Gate) MaxFriends(app store.App) int {
	return catalog.MustLookup(app.Edition).FriendsPerUser
}

// FriendsFull is the refusal of a friendship because a friend list is at the
// edition's limit: 30010 when it is user's own list (own), 30014 when it is the
// peer's. The message names the limit and the edition.
func (g *Gate) FriendsFull(app store.App, own bool) error {
	ed := catalog.MustLookup(app.Edition)
	if own {
		return errs.New(errs.SNSOwnListFull, "the friend list is full: the %s edition allows %d friends per user", ed.Name, ed.FriendsPerUser)
	}
	return errs.New(errs.SNSPeerListFull, "the peer's friend list is full: the %s edition allows %d friends per user", ed.Name, ed.FriendsPerUser)
}
