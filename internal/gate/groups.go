package gate

import (
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Group types as the REST API names them (reference rest-api.md §4). The old
// names "Private" (Work) and "ChatRoom" (Meeting) are accepted on input and
// mapped to these.
const (
	GroupWork       = "Work"
	GroupPublic     = "Public"
	GroupMeeting    = "Meeting"
	GroupAVChatRoom = "AVChatRoom" // a live room
	GroupCommunity  = "Community"
)

// GroupQuota is what the store checks atomically when a group is created or
// members join (product spec §3). A limit of catalog.Unlimited (-1) does not apply.
type GroupQuota struct {
	MembersPerGroup int // members of one group, live rooms and communities not bound
	GroupsPerUser   int // groups one user belongs to (created or joined)
	GroupsPerApp    int // groups existing at once, live rooms excluded
	LiveRooms       int // live rooms created, app-wide
	DailyNet        int // groups created minus disbanded in one UTC day, all types
}

// GroupQuota returns the group limits of app's edition.
func (g *Gate) GroupQuota(app store.App) GroupQuota {
	ed := catalog.MustLookup(app.Edition)
	return GroupQuota{MembersPerGroup: ed.MembersPerGroup, GroupsPerUser: ed.GroupsPerUser,
		GroupsPerApp: ed.GroupsPerApp, LiveRooms: ed.LiveRooms, DailyNet: ed.DailyNetGroups}
}

// MaxBroadcastingLiveRooms is how many live rooms of one app may broadcast at
// once (product spec §3), on every edition.
const MaxBroadcastingLiveRooms = 5

// MemberBound reports whether the edition's members-per-group limit applies to
// groups of type t: not to live rooms nor to communities (product spec §3).
func MemberBound(t string) bool { return t != GroupAVChatRoom && t != GroupCommunity }

// Group limits, named for GroupLimitErr.
const (
	LimitMembers   = "members"    // 10038
	LimitJoined    = "joined"     // 10037
	LimitGroups    = "groups"     // errs.GroupAppLimit
	LimitLiveRooms = "live_rooms" // 10036
	LimitDaily     = "daily"      // errs.GroupDailyLimit
)

// GroupLimitErr is the refusal of an action that would pass the named limit
// (Limit* constants) of app's edition: the reference code where there is one,
// with a message naming the limit, its value and the edition.
func (g *Gate) GroupLimitErr(app store.App, limit string) error {
	ed := catalog.MustLookup(app.Edition)
	switch limit {
	case LimitMembers:
		return errs.New(errs.GroupMemberLimit, "the group is full: the %s edition allows %d members per group", ed.Name, ed.MembersPerGroup)
	case LimitJoined:
		return errs.New(errs.GroupJoinedLimit, "too many groups for one user: the %s edition allows %d groups per user", ed.Name, ed.GroupsPerUser)
	case LimitGroups:
		return errs.New(errs.GroupAppLimit, "too many groups: the %s edition allows %d groups at once (live rooms excluded)", ed.Name, ed.GroupsPerApp)
	case LimitLiveRooms:
		return errs.New(errs.GroupLiveRoomLimit, "too many live rooms: the %s edition allows %d live rooms per app", ed.Name, ed.LiveRooms)
	case LimitDaily:
		return errs.New(errs.GroupDailyLimit, "the app's net increase in groups of the UTC day is used up: the %s edition allows %d (created minus disbanded)", ed.Name, ed.DailyNetGroups)
	}
	return errs.New(errs.GroupInternal, "unknown group limit %q", limit)
}

// BroadcastingLimitErr refuses a live room that would be the sixth
// broadcasting at once (MaxBroadcastingLiveRooms).
func (g *Gate) BroadcastingLimitErr() error {
	return errs.New(errs.GroupBroadcastLimit, "at most %d live rooms of an app may broadcast at once", MaxBroadcastingLiveRooms)
}

// Group features of the edition matrix (product spec §3), for GroupFeature.
var groupFeatureNames = map[catalog.Feature]string{
	catalog.GroupReadReceipts:     "read receipts for group messages",
	catalog.TargetedGroupMessages: "targeted group messages",
	catalog.LiveRoomOnlineMembers: "the list of online members of a live room",
	catalog.BroadcastLiveRooms:    "broadcast messages to all live rooms",
	catalog.LiveRoomBan:           "banning members of a live room",
	catalog.LiveRoomHistory:       "message history for new members of live rooms",
	catalog.Community:             "community groups",
}

// GroupFeature refuses group feature f when app is not active (the errors of
// Active) or its edition lacks it: 10059 (the reference's code for group
// features), naming the feature, the app's edition and the editions that have it.
func (g *Gate) GroupFeature(app store.App, f catalog.Feature) error {
	if err := g.Active(app); err != nil {
		return err
	}
	ed := catalog.MustLookup(app.Edition)
	if ed.Has(f) {
		return nil
	}
	name := groupFeatureNames[f]
	if name == "" {
		name = string(f)
	}
	return errs.New(errs.GroupFeatureNotInEdition, "%s is not part of the %s edition; it is in %s", name, ed.Name, editionsWith(f, " and "))
}
