package im

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Online members of live rooms (reference rest-api.md §3.7
// group_open_avchatroom_http_svc/get_members, get_online_member_num). A member
// is online while one of its devices is connected (bus.Devices, Status "").
// Nothing is indexed: a call takes the room's member IDs (the send path's
// cached list) and asks the bus
// about each (a hash look-up). get_members then reads the rows of the online
// ones when they are few (≤ 2 × MaxLiveMembers), else the rows newest joined
// first until it has MaxLiveMembers online (newestOnline).

// Bounds of get_members.
const (
	liveScanPage       = 1000 // members read at once, newest first
	MaxLiveMembers     = 1000 // the newest online members get_members lists in all
	LiveMembersPerPage = 500  // members of one answer; NextTimestamp pages on
)

// LiveMember is one online member of a live room.
type LiveMember struct {
	UserID   string
	JoinTime int64 // Unix seconds
	Nick     string
	FaceURL  string
}

// userOnline reports whether user has a connected device.
func (s *Service) userOnline(app int64, user string) bool {
	for _, d := range s.bus.Devices(app, user) {
		if d.Status == "" {
			return true
		}
	}
	return false
}

// onlineMemberIDs returns the group's members with a connected device (stop:
// at most that many, 0 all).
func (s *Service) onlineMemberIDs(ctx context.Context, app int64, groupID string, stop int) ([]string, error) {
	ids, err := s.groupMembers.get(groupKey{app, groupID}, func() ([]string, error) {
		return s.store.GroupMemberIDs(ctx, app, groupID) // the send path's cache (group_membercache.go)
	})
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(groupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	var out []string
	for _, id := range ids {
		if s.userOnline(app, id) {
			out = append(out, id)
			if stop > 0 && len(out) >= stop {
				break
			}
		}
	}
	return out, nil
}

// loadLiveRoom loads a live room for the admin (10010; 10007 when the group is
// not an AVChatRoom).
func (s *Service) loadLiveRoom(ctx context.Context, app store.App, groupID, what string) (store.Group, error) {
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return g, err
	}
	if g.Type != gate.GroupAVChatRoom {
		return g, noPermission("%s is for live rooms (AVChatRoom); group %q is a %s group", what, groupID, g.Type)
	}
	return g, nil
}

// LiveRoomMembers answers get_members: the live room's online members, newest
// joined first, at most MaxLiveMembers in all, LiveMembersPerPage per answer
// from cursor (the Timestamp of the request: 0 first, then the NextTimestamp
// of the previous answer; next is 0 on the last page). mark filters by member
// mark: chatd keeps no marks (modify_user_info is not served), so a mark
// other than 0 lists no one. Refusals: 10059 on editions without the online
// member list (catalog.LiveRoomOnlineMembers), 10004 a negative Timestamp or
// Mark, 10010, 10007 not a live room.
func (s *Service) LiveRoomMembers(ctx context.Context, app store.App, groupID string, cursor, mark int64) ([]LiveMember, int64, error) {
	if cursor < 0 || cursor >= MaxLiveMembers && cursor != 0 {
		return nil, 0, groupBad("Timestamp %d is not a cursor of this list (0 first, then NextTimestamp)", cursor)
	}
	if mark < 0 {
		return nil, 0, groupBad("Mark must not be negative")
	}
	if err := s.gate.GroupFeature(app, catalog.LiveRoomOnlineMembers); err != nil {
		return nil, 0, err
	}
	g, err := s.loadLiveRoom(ctx, app, groupID, "the online member list")
	if err != nil {
		return nil, 0, err
	}
	if mark != 0 {
		return []LiveMember{}, 0, nil
	}
	list, err := s.liveList(ctx, app.SDKAppID, g)
	if err != nil {
		return nil, 0, err
	}
	if int(cursor) >= len(list) {
		return []LiveMember{}, 0, nil
	}
	page := list[cursor:min(len(list), int(cursor)+LiveMembersPerPage)]
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.UserID
	}
	users, err := s.store.GetUsers(ctx, app.SDKAppID, ids)
	if err != nil {
		return nil, 0, storageErr(err)
	}
	out := make([]LiveMember, len(page))
	for i, m := range page {
		u := users[m.UserID]
		out[i] = LiveMember{UserID: m.UserID, JoinTime: m.JoinTime.Unix(), Nick: u.Nick, FaceURL: u.FaceURL}
	}
	next := cursor + int64(len(page))
	if int(next) >= len(list) {
		next = 0
	}
	return out, next, nil
}

// newestOnline returns up to limit online members of g, newest joined first
// (ties by UserID, descending). It reads the members by (JoinTime, UserID)
// from the end, liveScanPage at a time, and stops once it has limit.
func (s *Service) newestOnline(ctx context.Context, app int64, g store.Group, limit int) ([]store.GroupMember, error) {
	_, end, err := s.store.ListGroupMembers(ctx, app, g.GroupID, store.MemberPage{Limit: 1}) // the count
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(g.GroupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	var out []store.GroupMember
	seen := map[string]bool{}
	for end > 0 && len(out) < limit {
		off := max(0, end-liveScanPage)
		ms, _, err := s.store.ListGroupMembers(ctx, app, g.GroupID, store.MemberPage{Offset: off, Limit: end - off})
		if errors.Is(err, errs.ErrNotFound) {
			return nil, groupNotFound(g.GroupID)
		}
		if err != nil {
			return nil, storageErr(err)
		}
		for i := len(ms) - 1; i >= 0 && len(out) < limit; i-- {
			if m := ms[i]; !seen[m.UserID] && s.userOnline(app, m.UserID) {
				seen[m.UserID] = true
				out = append(out, m)
			}
		}
		end = off
	}
	sortNewest(out)
	return out, nil
}

// liveList is the online members get_members lists: the MaxLiveMembers newest
// joined, newest first.
func (s *Service) liveList(ctx context.Context, app int64, g store.Group) ([]store.GroupMember, error) {
	online, err := s.onlineMemberIDs(ctx, app, g.GroupID, 2*MaxLiveMembers+1)
	if err != nil {
		return nil, err
	}
	if len(online) > 2*MaxLiveMembers {
		return s.newestOnline(ctx, app, g, MaxLiveMembers)
	}
	ms, err := s.store.GroupMembers(ctx, app, g.GroupID, online)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(g.GroupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	list := make([]store.GroupMember, 0, len(ms))
	for _, m := range ms {
		list = append(list, m)
	}
	sortNewest(list)
	return list[:min(len(list), MaxLiveMembers)], nil
}

// sortNewest orders members newest joined first, ties by UserID descending.
func sortNewest(ms []store.GroupMember) {
	slices.SortFunc(ms, func(a, b store.GroupMember) int {
		if c := b.JoinTime.Compare(a.JoinTime); c != 0 {
			return c
		}
		return cmp.Compare(b.UserID, a.UserID)
	})
}
