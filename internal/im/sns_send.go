package im

import (
	"context"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// relationRule applies the relationship chain to a one-to-one message of from to
// to: 20007 when from is in to's blocklist (a block is one-way: to's messages to
// from still go); with the app setting friend_only_c2c "on", 20009 when neither
// has the other as a friend, 20010 when from is not in to's friend list, 20011
// when to is not in from's. The admin identity and messages to oneself pass.
func (s *Service) relationRule(ctx context.Context, app store.App, from, to string) error {
	if from == to || from == app.AdminUser {
		return nil
	}
	blocked, err := s.blocks(ctx, app.SDKAppID, to, from)
	if err != nil {
		return err
	}
	settings, err := s.AppSettings(ctx, app)
	if err != nil {
		return err
	}
	friendOnly := settings[SettingFriendOnlyC2C] == "on"
	var rel store.Relation
	if friendOnly && !blocked {
		rels, err := s.store.FriendRelations(ctx, app.SDKAppID, from, []string{to})
		if err != nil {
			return storageErr(err)
		}
		rel = rels[to]
	}
	return relationErr(from, to, blocked, friendOnly, rel)
}

// relationErr is relationRule's verdict on a message of from to to, given
// whether to blocks from, whether the app is friend-only and, then, their
// friendship (Mine: from has to; Theirs: to has from).
func relationErr(from, to string, blocked, friendOnly bool, rel store.Relation) error {
	switch {
	case blocked:
		return errs.New(errs.C2CBlocked, "%q is in the blocklist of %q", from, to)
	case !friendOnly:
		return nil
	case !rel.Mine && !rel.Theirs:
		return errs.New(errs.C2CNotFriends, "%q and %q are not friends; this app allows messages only between friends", from, to)
	case !rel.Theirs:
		return errs.New(errs.C2CSenderNotFriend, "%q is not in the friend list of %q; this app allows messages only between friends", from, to)
	case !rel.Mine:
		return errs.New(errs.C2CPeerNotFriend, "%q is not in the friend list of %q; this app allows messages only between friends", to, from)
	}
	return nil
}
