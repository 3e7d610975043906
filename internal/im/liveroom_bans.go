package im

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Banning members of live rooms (reference rest-api.md §3.7 ban_group_member,
// unban_group_member, get_group_ban_member): a banned user is removed from the
// room and may not join it again until the ban ends. Edition feature
// catalog.LiveRoomBan (10059 without it).

// Bounds of the ban commands.
const (
	MaxBanAccounts         = 20         // Members_Account of ban/unban
	MaxBanDescriptionBytes = 1000       // Description
	MaxBanDuration         = 4294967295 // Duration, seconds (unsigned 32-bit)
	MaxBanPage             = 100        // get_group_ban_member Limit
	DefaultBanPage         = 100        // Limit 0 or absent
)

// TipBan is the tip of a ban: Users were banned (and left the room) by
// Operator; Changed holds "Description" and "BannedUntil" (Unix seconds).
const TipBan = "ban"

// BanMembers bans users from the live room for duration seconds
// (ban_group_member): members are removed, and none may join until the ban
// ends. Accounts need not be members but must be imported (10019); the owner
// cannot be banned (10007). Refusals: 10004 (Duration 0 or beyond
// MaxBanDuration, Description), 10005 (> MaxBanAccounts), 10059, 10010, 10007
// not a live room.
func (s *Service) BanMembers(ctx context.Context, app store.App, groupID string, users []string, duration int64, description string) error {
	if len(users) == 0 {
		return groupBad("Members_Account is empty")
	}
	users, err := uniqueUsers("Members_Account", users, MaxBanAccounts)
	if err != nil {
		return err
	}
	if duration <= 0 || duration > MaxBanDuration {
		return groupBad("Duration must be 1..%d seconds", int64(MaxBanDuration))
	}
	if err := checkGroupText("Description", description, MaxBanDescriptionBytes); err != nil {
		return err
	}
	if err := s.gate.GroupFeature(app, catalog.LiveRoomBan); err != nil {
		return err
	}
	g, err := s.loadLiveRoom(ctx, app, groupID, "banning")
	if err != nil {
		return err
	}
	have, err := s.imported(ctx, app.SDKAppID, users...)
	if err != nil {
		return err
	}
	for _, u := range users {
		if !have[u] {
			return notImported(u)
		}
		if u == g.Owner {
			return noPermission("the owner %q of group %q cannot be banned", u, groupID)
		}
	}
	q := s.groupQuota(app)
	until := q.At.Unix() + duration
	bans := make([]store.GroupBan, len(users))
	for i, u := range users {
		bans[i] = store.GroupBan{UserID: u, Until: until, Description: description}
	}
	r, err := s.store.BanGroupMembers(ctx, app.SDKAppID, groupID, bans, q)
	if errors.Is(err, errs.ErrNotFound) {
		return groupNotFound(groupID)
	}
	if err != nil {
		return storageErr(err)
	}
	if len(r.Removed) > 0 {
		s.groupMembersChanged(app.SDKAppID, groupID)
	}
	s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipBan, Users: users,
		Changed: map[string]string{"Description": description, "BannedUntil": strconv.FormatInt(until, 10)}}, users)
	return nil
}

// UnbanMembers lifts bans (unban_group_member); users without one are
// skipped. Refusals: 10004, 10005, 10059, 10010, 10007 not a live room.
func (s *Service) UnbanMembers(ctx context.Context, app store.App, groupID string, users []string) error {
	if len(users) == 0 {
		return groupBad("Members_Account is empty")
	}
	users, err := uniqueUsers("Members_Account", users, MaxBanAccounts)
	if err != nil {
		return err
	}
	if err := s.gate.GroupFeature(app, catalog.LiveRoomBan); err != nil {
		return err
	}
	if _, err := s.loadLiveRoom(ctx, app, groupID, "banning"); err != nil {
		return err
	}
	if err := s.store.UnbanGroupMembers(ctx, app.SDKAppID, groupID, users); err != nil {
		return storageErr(err)
	}
	return nil
}

// BannedMembers answers get_group_ban_member: the bans in force, by UserID,
// limit (1..MaxBanPage; 0 DefaultBanPage) from offset; next is the offset of
// the next page, 0 on the last. Refusals: 10004, 10059, 10010, 10007.
func (s *Service) BannedMembers(ctx context.Context, app store.App, groupID string, limit, offset int) ([]store.GroupBan, int, error) {
	if limit == 0 {
		limit = DefaultBanPage
	}
	if limit < 0 || limit > MaxBanPage {
		return nil, 0, groupBad("Limit must be 1..%d", MaxBanPage)
	}
	if offset < 0 || offset > 1<<30 {
		return nil, 0, groupBad("Offset %d is out of range", offset)
	}
	if err := s.gate.GroupFeature(app, catalog.LiveRoomBan); err != nil {
		return nil, 0, err
	}
	if _, err := s.loadLiveRoom(ctx, app, groupID, "banning"); err != nil {
		return nil, 0, err
	}
	bs, more, err := s.store.ListGroupBans(ctx, app.SDKAppID, groupID, s.clock.Now().Unix(), offset, limit)
	if err != nil {
		return nil, 0, storageErr(err)
	}
	next := 0
	if more {
		next = offset + len(bs)
	}
	if bs == nil {
		bs = []store.GroupBan{}
	}
	return bs, next, nil
}

// checkNotBanned refuses (10007) a user banned from the live room g now.
func (s *Service) checkNotBanned(ctx context.Context, app int64, g store.Group, user string) error {
	if g.Type != store.GroupAVChatRoom {
		return nil
	}
	bans, err := s.store.GroupBansOf(ctx, app, g.GroupID, []string{user}, s.clock.Now().Unix())
	if err != nil {
		return storageErr(err)
	}
	if b, ok := bans[user]; ok {
		return noPermission("%q is banned from live room %q until %s", user, g.GroupID, time.Unix(b.Until, 0).UTC().Format(time.RFC3339))
	}
	return nil
}
