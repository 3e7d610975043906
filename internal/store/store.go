// Package store defines chatd's persistence contract. Two implementations satisfy it:
// embedded (the default: SQLite through package sqlite for relational data, the Pebble
// engine of package pebblestore for messages) and postgres (scale-out). The SQL parts
// share one core (package sqlstore); all pass one conformance suite (package storetest).
package store

import (
	"context"
	"strconv"
	"time"
)

// Implementations fail with the shared kinds of package errs (wrapped or not):
// errs.ErrNotFound, errs.ErrExists and errs.ErrLimit, as each method says.

// Store is the whole persistence contract.
type Store interface {
	Tenants
	Users
	Messages
	ConvIndex  // conversations.go
	ConvStates // conversations.go
	MAU
	GroupBans // groupbans.go
	Commerce
	Profiles
	UserStatuses
	Push
	SNS
	AppSettings
	GroupLog    // grouplog.go
	Groups      // groups.go
	GroupExtras // group_extras.go
	Close() error
	GroupReceipts // group_receipts.go
	Cluster       // cluster.go
	Callbacks     // callbacks.go
	Console       // console.go
	Daily         // daily.go
}

// Statuses of accounts and apps.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDeleted   = "deleted" // apps only: the tombstone that keeps an SDKAppID from reuse
)

// Account is a customer account: it owns apps and has a balance.
type Account struct {
	ID        string
	Name      string
	Email     string
	Phone     string
	Status    string // "active", "suspended"
	CreatedAt time.Time

	// The balance, in US cents: cash paid in by the customer and credit granted by
	// the operator. Cash goes below zero when a bill exceeds the balance.
	CashCents   int64
	CreditCents int64
	// OverdueSince is when the account became overdue (the bill it could not
	// pay); zero when it is not overdue.
	OverdueSince time.Time
	// SuspendReason says why a suspended account is suspended: "arrears" (lifted
	// by a top-up that brings the balance to zero or more) or "violation"
	// (permanent). Empty when active.
	SuspendReason string
	SuspendedAt   time.Time
}

// App is one tenant of the chat service, identified by its SDKAppID.
type App struct {
	SDKAppID  int64
	AccountID string
	Name      string
	Region    string
	SecretKey string
	AdminUser string // the admin identity allowed to call the REST API
	Edition   string // catalog edition id: "trial", "standard", "premium"
	Status    string // "active", "suspended", "deleted"
	CreatedAt time.Time
	ExpiresAt time.Time
	DeletedAt time.Time // zero unless deleted

	// PlanAnchor is the start of the paid plan's first period: later periods run
	// from the anchor's day of month (the month-end rule of package period). Zero
	// on the Free Trial.
	PlanAnchor    time.Time
	AutoRenew     bool
	TrialExtended bool // the Free Trial's one extension was granted
	// SuspendReason says why a suspended app is suspended: "expired" (the plan or
	// trial expired more than 24 hours ago), "refund" (its plan was refunded),
	// "arrears" (its account is overdue) or "violation" (its account was
	// suspended by the operator). Empty when active.
	SuspendReason string
	SuspendedAt   time.Time
}

// Tenants stores accounts and apps.
type Tenants interface {
	CreateAccount(ctx context.Context, a Account) error // errs.ErrExists on a duplicate ID
	GetAccount(ctx context.Context, id string) (Account, error)

	// CreateApp allocates the next SDKAppID (never reused, even after deletion; the
	// first is 1400000001), stores the app and returns it. It fails with errs.ErrLimit when
	// the account already owns maxApps apps that are not deleted, and errs.ErrNotFound when
	// the account does not exist. The check and the insert are atomic.
	CreateApp(ctx context.Context, a App, maxApps int) (App, error)
	// GetApp returns an app, including a deleted one (Status "deleted").
	GetApp(ctx context.Context, sdkappid int64) (App, error)
	// ListApps lists the account's apps that are not deleted, by SDKAppID.
	ListApps(ctx context.Context, accountID string) ([]App, error)
	// AllApps lists every app that is not deleted, of every account, by SDKAppID.
	AllApps(ctx context.Context) ([]App, error)
	// DeleteApp marks the app deleted at `at` and removes all of its data (users,
	// messages, read state, MAU records) in one transaction (the embedded store:
	// SQLite's, then one range delete of the app's messages, redone on start). The
	// app row stays as a tombstone so the SDKAppID is never reused.
	DeleteApp(ctx context.Context, sdkappid int64, at time.Time) error
}

// User is an imported account of an app (an end user).
type User struct {
	UserID    string
	Nick      string
	FaceURL   string
	Profile   map[string]string // profile tags (Tag_Profile_*), values as strings
	CreatedAt time.Time
}

// Users stores the end users of apps.
type Users interface {
	// ImportUsers creates the users that do not exist and updates Nick/FaceURL of
	// those that do (when the new value is non-empty). One transaction.
	ImportUsers(ctx context.Context, app int64, users []User) error
	// DeleteUsers removes users, their profiles, their mutes and their relationship chain
	// (friends both ways, blocklist entries both ways, friend lists, requests). Missing users are ignored.
	DeleteUsers(ctx context.Context, app int64, ids []string) error
	// GetUsers returns the users that exist, keyed by UserID.
	GetUsers(ctx context.Context, app int64, ids []string) (map[string]User, error)
	// SetProfile merges tags into the user's profile. errs.ErrNotFound if the user is missing.
	SetProfile(ctx context.Context, app int64, userID string, tags map[string]string) error
	// SetKickTime records that the user was kicked at at (millisecond precision),
	// keeping the later time when one is stored. It outlives the user's deletion:
	// a UserSig made before a kick stays refused after a re-import.
	SetKickTime(ctx context.Context, app int64, userID string, at time.Time) error
	// KickTime returns the user's last kick, or the zero time if never kicked.
	KickTime(ctx context.Context, app int64, userID string) (time.Time, error)
}

// Kinds of entries in a user's sync log.
const (
	KindMsg    = "msg"    // a one-to-one message (sender's or receiver's copy)
	KindRecall = "recall" // a message of the conversation was recalled (MsgKey tells which)
	KindRead   = "read"   // Owner or Peer read the conversation up to ReadTime
)

// Entry is one item of a user's sync log. A one-to-one message is in two logs, the
// sender's and the receiver's, each with that owner's Seq (the SQL stores keep a row
// per copy; the embedded engine stores the message once and points at it from both).
type Entry struct {
	App   int64
	Owner string // whose log this is
	Seq   int64  // position in Owner's log, 1, 2, 3, ...
	Kind  string
	Peer  string // the other side of the conversation
	From  string // sender of the message (KindMsg) or actor (recall, read)
	To    string

	MsgSeq          int64
	MsgRandom       uint32
	MsgTime         int64  // Unix seconds of the message
	MsgKey          string // "<MsgSeq>_<MsgRandom>_<MsgTime>", same in both copies (and in every copy of a batch send)
	ClientID        string // client's idempotency key; "" when none
	Body            []byte // JSON array of message elements (MsgBody)
	CloudCustomData string
	Recalled        bool
	ReadTime        int64 // KindRead: conversation read up to this Unix time
	CreatedAt       time.Time
	// ExpiresAt ends a message's offline life (sendmsg's MsgLifeTime): from then on
	// reads skip it and PurgeBefore deletes it. Zero: it lives for the retention window.
	ExpiresAt time.Time

	// Group log entries (grouplog.go): the GroupId or TopicId, the receivers
	// of a targeted message (empty: every member), and whether the sender asked
	// for read receipts.
	Group       string
	Targets     []string
	NeedReceipt bool
}

// FormatMsgKey formats a MsgKey: "<MsgSeq>_<MsgRandom>_<MsgTime>".
func FormatMsgKey(msgSeq int64, random uint32, msgTime int64) string {
	return strconv.FormatInt(msgSeq, 10) + "_" + strconv.FormatUint(uint64(random), 10) + "_" + strconv.FormatInt(msgTime, 10)
}

// OpKind says what a write-batch operation does.
type OpKind int

const (
	OpSend   OpKind = iota // append a message to both logs (idempotent on ClientID, and on MsgKey with an explicit MsgSeq)
	OpRecall               // mark MsgKey recalled in both logs; append KindRecall to both
	OpRead                 // Owner read conversation with Peer up to ReadTime; append KindRead to both
)

// Op is one operation of a write batch.
type Op struct {
	Kind OpKind
	App  int64
	From string // OpSend: sender; OpRecall: the sender of the message; OpRead: the reader
	To   string // OpSend: receiver; OpRecall: receiver; OpRead: the peer

	// OpSend. With an explicit MsgSeq, a message of the same conversation (either
	// direction) with the same MsgKey (MsgSeq, MsgRandom, MsgTime) makes the op a
	// Duplicate: the first message is kept, as with a repeated ClientID.
	MsgSeq          int64 // the message's MsgSeq; 0 = the sender copy's Seq (the receiver's without one)
	ClientID        string
	MsgRandom       uint32
	MsgTime         int64 // Unix seconds
	Body            []byte
	CloudCustomData string
	OnlyReceiver    bool      // store only the receiver's copy (e.g. importmsg without sync)
	Unread          bool      // false for imported messages that must not raise unread counts
	ExpiresAt       time.Time // Entry.ExpiresAt of both copies; zero = never

	// OpRecall
	MsgKey string

	// OpRead
	ReadTime int64

	// Group ops (grouplog.go): the group log, the targets of a targeted
	// message, read receipts, and the window in which a repeated MsgRandom of
	// the same sender is a duplicate (0: none). OpGroupRecall names the
	// message by MsgSeq.
	Group        string
	Targets      []string
	NeedReceipt  bool
	RandomWindow time.Duration

	At time.Time // when the operation happens (CreatedAt of new entries)

	// Callback, when set, makes Apply append the after-event it returns to the
	// callback outbox (callbacks.go) in the same batch as the op's entries, so
	// both are durable or neither: called once for an op that succeeds, is not
	// a Duplicate and makes entries, with its first new entry (the sender's
	// copy of a message, the group log's entry). It runs inside the write and
	// must be quick; ok false appends nothing.
	Callback func(first Entry) (ev CallbackEvent, ok bool)
}

// OpResult is what one Op produced. Err is a per-op failure (the rest of the batch
// still commits): errs.ErrNotFound for a recall of an unknown message.
type OpResult struct {
	Entries   []Entry // new entries, in the order written (sender's first)
	Duplicate bool    // OpSend whose ClientID was seen before: Entries holds the originals
	Err       error
}

// Cursor is a position in a conversation's history: messages are ordered by
// (MsgTime, Seq), so a message imported late with an old MsgTime sorts by that time.
type Cursor struct {
	MsgTime int64
	Seq     int64
}

// Messages stores one-to-one messages and the per-user sync logs.
type Messages interface {
	// Apply writes a batch of operations in one transaction and returns one result
	// per op, in order. Seqs are allocated per (app, owner) without gaps.
	Apply(ctx context.Context, ops []Op) ([]OpResult, error)
	// Sync returns Owner's entries with Seq > after, oldest first, at most limit,
	// skipping entries created before notBefore (retention) and messages whose
	// ExpiresAt is at or before now (a zero now skips none).
	Sync(ctx context.Context, app int64, owner string, after int64, limit int, notBefore, now time.Time) ([]Entry, error)
	// LastSeq returns the highest Seq of Owner's log (0 when empty).
	LastSeq(ctx context.Context, app int64, owner string) (int64, error)
	// History returns Owner's copies of messages (KindMsg) of the conversation with
	// Peer whose MsgTime is within [minTime, maxTime], newest first by (MsgTime, Seq),
	// at most limit, only those older than before when before.Seq > 0, created
	// at or after notBefore and not expired at now (as in Sync).
	History(ctx context.Context, app int64, owner, peer string, minTime, maxTime int64, before Cursor, limit int, notBefore, now time.Time) ([]Entry, error)
	// FindMessage returns Owner's copy of the message with MsgKey in the conversation with Peer.
	FindMessage(ctx context.Context, app int64, owner, peer, msgKey string) (Entry, error)
	// Unread counts, per peer, Owner's received messages (Unread ones, not recalled)
	// newer than Owner's read time of that conversation, created at or after notBefore
	// and not expired at now (as in Sync). An empty peers list means every conversation of Owner.
	Unread(ctx context.Context, app int64, owner string, peers []string, notBefore, now time.Time) (map[string]int, error)
	// PeerReadTime returns the time up to which Peer has read its conversation with Owner.
	PeerReadTime(ctx context.Context, app int64, owner, peer string) (int64, error)
	// PurgeBefore deletes the app's entries created before t and its messages whose
	// ExpiresAt is at or before now, and returns how many.
	PurgeBefore(ctx context.Context, app int64, t, now time.Time) (int64, error)
}

// MAU records monthly active users.
type MAU interface {
	// AdmitMonthly records that user was active in month ("2006-01", UTC). It
	// returns true when this is the user's first activity of that month. When
	// capacity > 0 and the month already counts capacity users, a new user is refused
	// with errs.ErrLimit (and nothing is recorded); users already counted are admitted.
	// Atomic under concurrency, also across nodes.
	AdmitMonthly(ctx context.Context, app int64, month, user string, capacity int, at time.Time) (bool, error)
	// CountMonthly returns the exact number of distinct users of the month.
	CountMonthly(ctx context.Context, app int64, month string) (int, error)
}
