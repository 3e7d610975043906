package store

import (
	"context"
	"time"
)

// Friend is one direction of a friendship: Peer is in Owner's friend list
// (reference §3.5). A two-way friendship is two rows.
type Friend struct {
	Owner      string
	Peer       string
	Remark     string            // Tag_SNS_IM_Remark
	Groups     []string          // Tag_SNS_IM_Group: the owner's friend lists holding Peer
	AddSource  string            // Tag_SNS_IM_AddSource ("AddSource_Type_<keyword>")
	AddWording string            // Tag_SNS_IM_AddWording
	AddTime    time.Time         // Tag_SNS_IM_AddTime (whole seconds)
	Custom     map[string]string // Tag_SNS_Custom_* tag -> JSON value (string or number)
}

// Block says that Owner has Peer in its blocklist since At.
type Block struct {
	Owner string
	Peer  string
	At    time.Time
}

// FriendRequest is a pending (or decided) request of From to be To's friend,
// made when To's AllowType is AllowType_Type_NeedConfirm.
type FriendRequest struct {
	From       string
	To         string
	AddType    string // "Add_Type_Both" or "Add_Type_Single"
	AddSource  string
	AddWording string
	Remark     string // From's remark for To, applied on acceptance
	GroupName  string // From's friend list for To, applied on acceptance
	Status     string // RequestPending, RequestAccepted or RequestRefused
	At         time.Time
}

// Statuses of a FriendRequest.
const (
	RequestPending  = "pending"
	RequestAccepted = "accepted"
	RequestRefused  = "refused"
)

// Relation says which directions of a relation exist between a user and another:
// Mine (the user has the other in its list) and Theirs (the other has the user).
type Relation struct {
	Mine   bool
	Theirs bool
}

// ListFull is the error of a refused insert because User's list is at its limit.
// It wraps errs.ErrLimit (errors.Is) and tells whose list is full.
type ListFull struct {
	User string
	Kind error // errs.ErrLimit
}

func (e *ListFull) Error() string { return "store: the list of " + e.User + " is full" }
func (e *ListFull) Unwrap() error { return e.Kind }

// SNS stores the relationship chain: friends, blocklists, friend lists and
// pending friend requests. Every limit is checked and applied in the same
// transaction as the insert it bounds, also across nodes.
type SNS interface {
	// AddFriends inserts the rows that do not exist yet, in one transaction, and
	// returns how many it inserted; existing rows are left as they are. Before each
	// insert, the Owner's friend count must be below max (max <= 0: no limit), else
	// nothing is written and the error is a *ListFull naming that owner (kind
	// errs.ErrLimit). Every Owner and Peer must be an imported user, else
	// errs.ErrNotFound. Pending requests between the pairs are marked accepted.
	AddFriends(ctx context.Context, app int64, rows []Friend, max int) (int, error)
	// UpdateFriend replaces the stored fields of the row (Owner, Peer); errs.ErrNotFound
	// when they are not friends. Groups must name friend lists of Owner.
	UpdateFriend(ctx context.Context, app int64, f Friend) error
	// DeleteFriends deletes Owner's rows of peers (and, with both, the peers' rows of
	// Owner) and returns, per peer, whether Owner had it.
	DeleteFriends(ctx context.Context, app int64, owner string, peers []string, both bool) (map[string]bool, error)
	// DeleteAllFriends deletes every friend of owner (with both, also owner from
	// their lists) and returns how many of owner's rows went.
	DeleteAllFriends(ctx context.Context, app int64, owner string, both bool) (int, error)
	// GetFriends returns Owner's rows of the given peers that exist, by peer.
	GetFriends(ctx context.Context, app int64, owner string, peers []string) (map[string]Friend, error)
	// ListFriends returns Owner's friends ordered by (AddTime, Peer), from offset,
	// at most limit, and the total count.
	ListFriends(ctx context.Context, app int64, owner string, offset, limit int) ([]Friend, int, error)
	// FriendRelations returns, per other, whether user has other as a friend and
	// other has user.
	FriendRelations(ctx context.Context, app int64, user string, others []string) (map[string]Relation, error)

	// AddBlocks puts peers in owner's blocklist at `at`, ends the friendship
	// between owner and each newly blocked peer in both directions and marks pending
	// requests between them refused, in one transaction. It returns, per peer,
	// nil, errs.ErrExists (already blocked, nothing changed) or errs.ErrNotFound (not
	// an imported user). Beyond max entries (max <= 0: no limit) the remaining peers
	// get errs.ErrLimit. Under WithCallbacksFor, the events built of the peers
	// blocked (in peers order, once each) are appended in the same transaction.
	AddBlocks(ctx context.Context, app int64, owner string, peers []string, at time.Time, max int) (map[string]error, error)
	// DeleteBlocks removes peers from owner's blocklist; per peer whether it was there.
	DeleteBlocks(ctx context.Context, app int64, owner string, peers []string) (map[string]bool, error)
	// ListBlocks returns owner's blocklist ordered by (At, Peer), from offset, at
	// most limit, and the total count.
	ListBlocks(ctx context.Context, app int64, owner string, offset, limit int) ([]Block, int, error)
	// BlockRelations returns, per other, whether user blocks other and other blocks user.
	BlockRelations(ctx context.Context, app int64, user string, others []string) (map[string]Relation, error)

	// AddFriendLists creates owner's friend lists (names that exist are kept) and
	// puts the peers that are owner's friends in all of them, one transaction. More
	// than max lists in all (max <= 0: no limit): errs.ErrLimit, nothing written.
	// It returns, per peer, whether it is owner's friend (and was put in the lists).
	AddFriendLists(ctx context.Context, app int64, owner string, names, peers []string, max int) (map[string]bool, error)
	// DeleteFriendLists deletes owner's friend lists and takes them out of owner's
	// friends' Groups; per name whether it existed.
	DeleteFriendLists(ctx context.Context, app int64, owner string, names []string) (map[string]bool, error)
	// FriendLists returns owner's friend lists in creation order.
	FriendLists(ctx context.Context, app int64, owner string) ([]string, error)

	// PutFriendRequest stores a pending request (replacing an earlier one of the same
	// From and To, whatever its status). When To already has max pending requests
	// (max <= 0: no limit) and this one is new, errs.ErrLimit and nothing is written.
	PutFriendRequest(ctx context.Context, app int64, r FriendRequest, max int) error
	// FriendRequests returns the pending requests sent to user (incoming) or by user
	// (outgoing), oldest first.
	FriendRequests(ctx context.Context, app int64, user string, incoming bool) ([]FriendRequest, error)
	// GetFriendRequest returns the pending request of from to to; errs.ErrNotFound when none.
	GetFriendRequest(ctx context.Context, app int64, from, to string) (FriendRequest, error)
	// DecideFriendRequest marks the pending request of from to to with status (accepted
	// or refused); errs.ErrNotFound when there is no pending one.
	DecideFriendRequest(ctx context.Context, app int64, from, to, status string, at time.Time) error
}

// AppSettings stores per-app settings as validated key/value pairs (the keys and
// values are checked by the domain; the store keeps strings).
type AppSettings interface {
	// SetAppSettings stores the given keys of app (an empty value deletes the key), one transaction.
	SetAppSettings(ctx context.Context, app int64, kv map[string]string) error
	// GetAppSettings returns every stored key of app.
	GetAppSettings(ctx context.Context, app int64) (map[string]string, error)
}
