package store

import (
	"context"
	"time"
)

// Group types as stored (the same strings as gate.GroupWork..; package gate
// imports store, so store keeps its own copy). Reference rest-api.md §4.
const (
	GroupWork       = "Work"
	GroupPublic     = "Public"
	GroupMeeting    = "Meeting"
	GroupAVChatRoom = "AVChatRoom" // a live room
	GroupCommunity  = "Community"
)

// Member roles (reference rest-api.md §3.7).
const (
	RoleOwner  = "Owner"
	RoleAdmin  = "Admin"
	RoleMember = "Member"
)

// MutedForever is the MutedUntil of a member muted for ever (MuteTime
// 4294967295); stored and read back exactly.
const MutedForever int64 = 4294967295

// Group is one group of an app (reference rest-api.md §3.7 create_group,
// get_group_info).
type Group struct {
	App          int64
	GroupID      string // ≤ 48 bytes, printable ASCII (checked by the domain)
	Type         string // GroupWork, GroupPublic, GroupMeeting, GroupAVChatRoom, GroupCommunity
	Name         string
	Introduction string
	Notification string
	FaceURL      string
	Owner        string // "" when the group has no owner (created by the admin without Owner_Account)
	MaxMemberNum int
	// ApplyJoinOption and InviteJoinOption: "FreeAccess", "NeedPermission",
	// "DisableApply" (invite: "DisableInvite").
	ApplyJoinOption  string
	InviteJoinOption string
	MuteAllMember    bool
	AppDefinedData   map[string]string // never nil when read
	SupportTopic     bool
	CreatedAt        time.Time // whole seconds (import_group's CreateTime)
	// InfoSeq starts at 1 and is bumped by every change of the group's profile
	// (UpdateGroup, ChangeGroupOwner); LastInfoTime is when it last changed.
	InfoSeq      int64
	LastInfoTime time.Time
	MemberNum    int   // members now (kept by the store)
	Serial       int64 // the group's creation order within the app, 1, 2, ... (get_appid_group_list's Next)
}

// GroupMember is one member of a group.
type GroupMember struct {
	App      int64
	GroupID  string
	UserID   string
	Role     string    // RoleOwner, RoleAdmin, RoleMember
	JoinTime time.Time // whole seconds
	NameCard string
	MsgFlag  string // "AcceptAndNotify" (the default when empty), "AcceptNotNotify", "Discard"
	// MutedUntil is the Unix second until which the member may not send: 0
	// none, MutedForever for ever (stored exactly).
	MutedUntil           int64
	AppMemberDefinedData map[string]string // never nil when read
	JoinSeq              int64             // the first group message seq the member may read (set by the caller)
	ReadSeq              int64             // read up to this group message seq (only raised)
	LastSendTime         int64             // Unix seconds of the member's last group message; 0 none
}

// GroupQuota is what the store checks, atomically with the change it bounds,
// when a group is created or members join (product spec §3; gate.GroupQuota
// gives the numbers). A limit <= 0 does not apply (catalog.Unlimited is -1).
type GroupQuota struct {
	MembersPerGroup int // members of one group; not for AVChatRoom nor Community
	GroupsPerUser   int // groups one user belongs to, live rooms not counted
	GroupsPerApp    int // groups existing at once, live rooms excluded
	LiveRooms       int // live rooms existing at once, app-wide
	DailyNet        int // groups created minus disbanded in the UTC day Day, all types
	// Day is the UTC day ("2006-01-02") of the change: creations count against
	// it and a disbanding frees it when the group was created that same day.
	Day string
	// At is when the change happens (LastInfoTime of an ownership that passes
	// when its owner leaves).
	At time.Time
}

// Names of the limits a GroupLimitError reports (the same strings as gate.Limit*).
const (
	LimitMembers   = "members"    // the edition's members per group (10038)
	LimitJoined    = "joined"     // the edition's groups per user (10037)
	LimitGroups    = "groups"     // the edition's groups at once (10960)
	LimitLiveRooms = "live_rooms" // the edition's live rooms (10036)
	LimitDaily     = "daily"      // the edition's daily net increase (10961)
	LimitFull      = "full"       // the group's own MaxMemberNum (10014)
)

// GroupLimitError refuses a change that would pass Limit (Limit*). User names
// the user whose groups are too many (LimitJoined). It wraps errs.ErrLimit.
type GroupLimitError struct {
	Limit string
	User  string
	Kind  error // errs.ErrLimit
}

func (e *GroupLimitError) Error() string {
	if e.User != "" {
		return "store: group limit " + e.Limit + " reached by " + e.User
	}
	return "store: group limit " + e.Limit + " reached"
}
func (e *GroupLimitError) Unwrap() error { return e.Kind }

// GroupUpdate changes a group's profile: nil fields stay as they are.
// AppDefinedData is merged: an empty value deletes the key.
type GroupUpdate struct {
	Name, Introduction, Notification, FaceURL *string
	MaxMemberNum                              *int
	ApplyJoinOption, InviteJoinOption         *string
	MuteAllMember                             *bool
	AppDefinedData                            map[string]string
	At                                        time.Time // LastInfoTime
}

// GroupMemberUpdate changes a member: nil fields stay as they are.
// AppMemberDefinedData is merged: an empty value deletes the key.
type GroupMemberUpdate struct {
	Role, NameCard, MsgFlag *string
	MutedUntil              *int64
	AppMemberDefinedData    map[string]string
}

// MemberPage selects a page of members: Roles filters (none: all); with After (or
// ByUserID) members come ordered by UserID after After, else ordered by
// (JoinTime, UserID) from Offset. Limit > 0.
type MemberPage struct {
	Roles    []string
	Offset   int
	After    string
	ByUserID bool
	Limit    int
}

// GroupRemoval is what RemoveGroupMembers did.
type GroupRemoval struct {
	Removed   []string // the users that were members and left, sorted
	NewOwner  string   // the member the ownership passed to ("" when it did not move)
	Disbanded bool     // the owner left an otherwise empty group, which was disbanded
}

// GroupRequest is a pending application to join (Kind "apply", from User) or
// an invitation waiting for the invitee's consent (Kind "invite", to User).
type GroupRequest struct {
	GroupID  string
	UserID   string
	Kind     string // GroupApply or GroupInvite
	Operator string // the inviter ("invite"); "" for an application
	Wording  string
	At       time.Time
}

// Kinds of GroupRequest.
const (
	GroupApply  = "apply"
	GroupInvite = "invite"
)

// Groups stores groups, their members and pending join requests. Every limit is
// checked in the same transaction as the change it bounds, also across nodes.
// Unknown (or disbanded) groups fail with errs.ErrNotFound.
type Groups interface {
	// CreateGroup stores g with its members (the owner, when g.Owner is set, with
	// RoleOwner; members not named twice) and returns it as GetGroup would. It
	// assigns Serial, InfoSeq 1, MemberNum. errs.ErrExists when the GroupID is in
	// use; errs.ErrNotFound when a member is not an imported user; a
	// *GroupLimitError (LimitGroups, LimitLiveRooms, LimitDaily, LimitMembers,
	// LimitFull, LimitJoined) when q or g.MaxMemberNum refuse it. Nothing is
	// written on failure.
	CreateGroup(ctx context.Context, g Group, members []GroupMember, q GroupQuota) (Group, error)
	// GetGroup returns a group; errs.ErrNotFound when none.
	GetGroup(ctx context.Context, app int64, groupID string) (Group, error)
	// GetGroups returns the groups among ids that exist, by GroupID.
	GetGroups(ctx context.Context, app int64, ids []string) (map[string]Group, error)
	// ListGroups returns the app's groups of type groupType ("" every type) with
	// Serial > after, by Serial, at most limit, and how many there are of that
	// type in all.
	ListGroups(ctx context.Context, app int64, groupType string, after int64, limit int) ([]Group, int, error)
	// UpdateGroup changes the profile, bumps InfoSeq and returns the group.
	UpdateGroup(ctx context.Context, app int64, groupID string, u GroupUpdate) (Group, error)
	// ChangeGroupOwner makes newOwner (a member: else errs.ErrNotFound) the
	// owner; the old owner stays a RoleMember. Bumps InfoSeq.
	ChangeGroupOwner(ctx context.Context, app int64, groupID, newOwner string, at time.Time) error
	// DeleteGroup disbands the group (members, requests, and the GroupExtras:
	// topics, attributes, counters go with it) and
	// returns the members it had, sorted. A group created on q.Day frees one of
	// that day's net increase.
	DeleteGroup(ctx context.Context, app int64, groupID string, q GroupQuota) ([]string, error)

	// AddGroupMembers adds members (GroupID, App from the arguments) and returns
	// one error per member, in order: nil added, errs.ErrExists already a
	// member, errs.ErrNotFound not an imported user, a *GroupLimitError
	// (LimitJoined for that user; LimitMembers or LimitFull once the group is
	// full — the rest are refused too). Pending requests of added users go.
	// Under WithCallbacksFor, the events built of the UserIDs added (in ms
	// order) are appended in the same transaction.
	AddGroupMembers(ctx context.Context, app int64, groupID string, ms []GroupMember, q GroupQuota) ([]error, error)
	// RemoveGroupMembers removes users. When the owner leaves, ownership passes
	// to the earliest-joined remaining member (admins first); when no one
	// remains, the group is disbanded as DeleteGroup does. Under
	// WithCallbacksFor, the events built of []string{groupID} are appended in
	// the same transaction when it disbands the group (none otherwise).
	RemoveGroupMembers(ctx context.Context, app int64, groupID string, users []string, q GroupQuota) (GroupRemoval, error)
	// GetGroupMember returns a member; errs.ErrNotFound when the group or the
	// member does not exist.
	GetGroupMember(ctx context.Context, app int64, groupID, userID string) (GroupMember, error)
	// GroupMembers returns the members among users, by UserID (the group must exist).
	GroupMembers(ctx context.Context, app int64, groupID string, users []string) (map[string]GroupMember, error)
	// GroupMemberIDs returns every member's UserID, sorted; errs.ErrNotFound when
	// the group does not exist.
	GroupMemberIDs(ctx context.Context, app int64, groupID string) ([]string, error)
	// ListGroupMembers returns a page of members (see MemberPage) and how many
	// members match the Roles filter in all.
	ListGroupMembers(ctx context.Context, app int64, groupID string, p MemberPage) ([]GroupMember, int, error)
	// UpdateGroupMember changes a member and returns it; errs.ErrNotFound when
	// not a member.
	UpdateGroupMember(ctx context.Context, app int64, groupID, userID string, u GroupMemberUpdate) (GroupMember, error)
	// SetGroupReadSeq raises the member's ReadSeq to seq (never lowers it);
	// errs.ErrNotFound when not a member.
	SetGroupReadSeq(ctx context.Context, app int64, groupID, userID string, seq int64) error
	// UserGroups returns the user's memberships (every group type), by GroupID.
	UserGroups(ctx context.Context, app int64, userID string) ([]GroupMember, error)

	// PutGroupRequest stores a pending request (replacing one of the same group,
	// user and kind). errs.ErrNotFound when the group or the user does not exist.
	PutGroupRequest(ctx context.Context, app int64, r GroupRequest) error
	// GroupRequests returns the group's pending requests, oldest first.
	GroupRequests(ctx context.Context, app int64, groupID string) ([]GroupRequest, error)
	// TakeGroupRequest deletes the pending request and returns it;
	// errs.ErrNotFound when none.
	TakeGroupRequest(ctx context.Context, app int64, groupID, userID, kind string) (GroupRequest, error)
}
