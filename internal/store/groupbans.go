package store

import "context"

// GroupBan is a user banned from a live room (reference rest-api.md §3.7
// ban_group_member): the user may not join it again before Until.
type GroupBan struct {
	UserID      string
	Until       int64  // Unix seconds; the ban ends then
	Description string // ≤ 1,000 bytes (checked by the domain)
}

// GroupBans stores the bans of live rooms. A ban goes with its group (disband),
// its user (user deletion) and its app (app deletion).
type GroupBans interface {
	// BanGroupMembers stores bans (replacing earlier bans of the same users)
	// and removes the banned users who are members, in one transaction, and
	// returns the removal (as RemoveGroupMembers). Bans that ended before at
	// go. errs.ErrNotFound when the group does not exist; nothing is written
	// on failure.
	BanGroupMembers(ctx context.Context, app int64, groupID string, bans []GroupBan, q GroupQuota) (GroupRemoval, error)
	// UnbanGroupMembers lifts the bans of users (those without one are skipped).
	UnbanGroupMembers(ctx context.Context, app int64, groupID string, users []string) error
	// GroupBansOf returns the bans among users that last beyond now (Unix
	// seconds), by UserID.
	GroupBansOf(ctx context.Context, app int64, groupID string, users []string, now int64) (map[string]GroupBan, error)
	// ListGroupBans returns the group's bans that last beyond now, ordered by
	// UserID, from offset, at most limit (> 0), and whether more follow.
	ListGroupBans(ctx context.Context, app int64, groupID string, now int64, offset, limit int) ([]GroupBan, bool, error)
}
