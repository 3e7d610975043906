package im

import (
	"context"

	"github.com/chatd/chatd/internal/store"
)

// pushReachable returns the targets of one page of a push from `from` that a
// one-to-one message of from may reach: relationRule's verdict (relationErr),
// batched (one query for the page's blocks, one for its friendships when the
// app's friend_only_c2c setting is on). Targets that block from, or that are not its
// friends both ways under friend_only_c2c, are left out. The admin identity
// reaches everyone.
func (s *Service) pushReachable(ctx context.Context, app store.App, from string, ids []string) ([]string, error) {
	if from == app.AdminUser || len(ids) == 0 {
		return ids, nil
	}
	blocks, err := s.store.BlockRelations(ctx, app.SDKAppID, from, ids)
	if err != nil {
		return nil, storageErr(err)
	}
	settings, err := s.AppSettings(ctx, app)
	if err != nil {
		return nil, err
	}
	friendOnly := settings[SettingFriendOnlyC2C] == "on"
	var friends map[string]store.Relation
	if friendOnly {
		if friends, err = s.store.FriendRelations(ctx, app.SDKAppID, from, ids); err != nil {
			return nil, storageErr(err)
		}
	}
	out := ids[:0:0]
	for _, u := range ids {
		if u == from || relationErr(from, u, blocks[u].Theirs, friendOnly, friends[u]) == nil {
			out = append(out, u)
		}
	}
	return out, nil
}
