package store

import (
	"context"
	"time"
)

// Conversation types (the reference's SessionItem Type, rest-api.md 3.6).
const (
	ConvC2C       = 1 // one-to-one: Peer is the other UserID
	ConvGroupChat = 2 // group: Peer is the GroupId (group conversations are written by the group engine)
)

// ConvID names one conversation of an owner.
type ConvID struct {
	Type int    // ConvC2C or ConvGroupChat
	Peer string // UserID (Type 1) or GroupId (Type 2)
}

// ConvLast is a conversation's last message, kept by the message engine in the
// same batch as the message itself.
type ConvLast struct {
	ConvID
	MsgTime int64  // Unix seconds of the last message
	MsgKey  string // its MsgKey
	From    string // its sender
	Seq     int64  // the owner's Seq of its copy
}

// ConvState is the relational state of one conversation of an owner: pin,
// marks and conversation groups (rest-api.md 3.6). A conversation with no
// state has no row.
type ConvState struct {
	ConvID
	Pinned     bool
	Marks      uint64  // standard mark bits: 0 star, 1 unread, 2 folded, 3 hidden; 4–63 custom
	CustomMark string  // the reference's CustomMark, at most 256 bytes
	Groups     []int64 // ids of the owner's conversation groups holding it, ascending
	UpdatedAt  time.Time
}

// MarkChange sets then clears mark bits of Conv, and sets its CustomMark when
// Custom is not nil.
type MarkChange struct {
	Conv       ConvID
	Set, Clear uint64
	Custom     *string
}

// ConvGroup is a conversation group (folder) of an owner.
type ConvGroup struct {
	ID   int64 // 1, 2, ... per owner
	Name string
}

// ConvIndex is the message engine's part of the conversation list.
type ConvIndex interface {
	// Conversations returns Owner's conversations that have a last message, in
	// no particular order.
	Conversations(ctx context.Context, app int64, owner string) ([]ConvLast, error)
	// DeleteConversation removes c from Owner's list: its last message and its
	// state (pin, marks, group membership). With clearHistory, Owner's copies of
	// the conversation's messages go too (History, Unread, Sync and
	// FindMessage no longer return them; the peer's copies stay). A later
	// message brings the conversation back. Deleting a missing one is no error.
	DeleteConversation(ctx context.Context, app int64, owner string, c ConvID, clearHistory bool, at time.Time) error
}

// ConvStates stores pins, marks and conversation groups.
type ConvStates interface {
	// ConvStates returns Owner's conversation states (by type, peer) and
	// conversation groups (by id).
	ConvStates(ctx context.Context, app int64, owner string) ([]ConvState, []ConvGroup, error)
	// SetPinned pins or unpins c.
	SetPinned(ctx context.Context, app int64, owner string, c ConvID, pinned bool, at time.Time) error
	// SetMarks applies mark changes in order, in one transaction, and returns
	// each conversation's state after its change and one result per change:
	// nil, or errs.ErrLimit when a conversation that had neither marks nor a
	// CustomMark would get one while maxMarked conversations of Owner already
	// have some (that change is not made; the others are).
	SetMarks(ctx context.Context, app int64, owner string, changes []MarkChange, maxMarked int, at time.Time) ([]ConvState, []error, error)
	// CreateConvGroup creates a group named name holding convs. errs.ErrExists
	// when the name is taken; errs.ErrLimit when Owner has maxGroups groups or
	// convs has more than maxConvs conversations.
	CreateConvGroup(ctx context.Context, app int64, owner, name string, convs []ConvID, maxGroups, maxConvs int, at time.Time) (ConvGroup, error)
	// RenameConvGroup renames a group. errs.ErrNotFound when old does not
	// exist, errs.ErrExists when newName is taken.
	RenameConvGroup(ctx context.Context, app int64, owner, old, newName string, at time.Time) (ConvGroup, error)
	// UpdateConvGroup adds and removes conversations of group name and returns
	// one result per add, then per remove: nil or errs.ErrLimit (the group
	// would hold more than maxConvs). errs.ErrNotFound when the group is missing.
	UpdateConvGroup(ctx context.Context, app int64, owner, name string, add, remove []ConvID, maxConvs int, at time.Time) (ConvGroup, []error, error)
	// DeleteConvGroups deletes the named groups and returns those that existed.
	DeleteConvGroups(ctx context.Context, app int64, owner string, names []string) ([]ConvGroup, error)
	// HideGroupConv hides owner's group conversation (Type 2) group until its
	// log's last seq passes seq (recentcontact/delete of a Type 2 item).
	HideGroupConv(ctx context.Context, app int64, owner, group string, seq int64, at time.Time) error
	// HiddenGroupConvs returns owner's hidden group conversations: the seq each
	// is hidden up to, by GroupId.
	HiddenGroupConvs(ctx context.Context, app int64, owner string) (map[string]int64, error)
}
