package store

import (
	"context"
	"time"
)

// PushCondition selects the targets of a push to all users (reference §3.3,
// im_push's Condition): users that have every tag of TagsAnd and at least one of
// TagsOr (when given), or every attribute value of AttrsAnd and at least one of
// AttrsOr (when given). Attributes are keyed by their slot (0..9). An empty
// condition selects every user of the app.
type PushCondition struct {
	TagsAnd  []string
	TagsOr   []string
	AttrsAnd map[int]string
	AttrsOr  map[int]string
}

// Empty reports whether c selects every user.
func (c PushCondition) Empty() bool {
	return len(c.TagsAnd) == 0 && len(c.TagsOr) == 0 && len(c.AttrsAnd) == 0 && len(c.AttrsOr) == 0
}

// States of a push task.
const (
	PushRunning = "running" // targets are being selected and written
	PushDone    = "done"    // every target was handled
	PushFailed  = "failed"  // stopped for good; Error says why
)

// PushTask is one im_push: its message, its condition and its progress. The
// runner walks the targets in UserID order; Cursor is the last UserID handled,
// so a restart resumes after it.
type PushTask struct {
	ID        string
	App       int64
	From      string
	MsgRandom uint32
	MsgSeq    int64
	MsgTime   int64  // Unix seconds, the same for every copy (one MsgKey)
	Body      []byte // MsgBody, a JSON array
	// Lifetime is the offline storage time (MsgLifeTime); 0 = online devices only.
	Lifetime  time.Duration
	Condition PushCondition
	State     string
	Cursor    string // last UserID handled; "" before the first
	Targets   int64  // users selected so far (all of them once done)
	Delivered int64  // targets whose copy is stored (or, online-only, handed to their devices)
	Error     string // PushFailed: why
	CreatedAt time.Time
	UpdatedAt time.Time
	DoneAt    time.Time // zero while running
}

// PushRate limits the pushes of an app: at least MinInterval between two, and at
// most PerDay in one UTC calendar day.
type PushRate struct {
	MinInterval time.Duration
	PerDay      int
}

// Push stores what push to all users needs: the app's attribute names, users'
// attributes and tags, and push tasks.
type Push interface {
	// SetPushAttrNames sets the names of attribute slots (0..9), keeping the others.
	SetPushAttrNames(ctx context.Context, app int64, names map[int]string) error
	// PushAttrNames returns the app's attribute names by slot.
	PushAttrNames(ctx context.Context, app int64) (map[int]string, error)
	// SetUserPushAttrs sets attribute values of a user, by slot, keeping the others.
	SetUserPushAttrs(ctx context.Context, app int64, user string, attrs map[int]string) error
	// RemoveUserPushAttrs removes attribute slots of a user (missing ones are ignored).
	RemoveUserPushAttrs(ctx context.Context, app int64, user string, slots []int) error
	// UserPushAttrs returns the attributes of the given users that have any, by slot.
	UserPushAttrs(ctx context.Context, app int64, users []string) (map[string]map[int]string, error)
	// AddUserPushTags adds tags to a user (tags it has already are kept once). When
	// the user would then have more than max tags nothing is added: errs.ErrLimit.
	AddUserPushTags(ctx context.Context, app int64, user string, tags []string, max int) error
	// RemoveUserPushTags removes tags of a user (missing ones are ignored).
	RemoveUserPushTags(ctx context.Context, app int64, user string, tags []string) error
	// RemoveAllUserPushTags removes every tag of the users.
	RemoveAllUserPushTags(ctx context.Context, app int64, users []string) error
	// UserPushTags returns the tags of the given users that have any, sorted.
	UserPushTags(ctx context.Context, app int64, users []string) (map[string][]string, error)
	// PushTargets returns at most limit UserIDs that the condition selects and that
	// sort after `after`, in ascending order (a keyset page: the next page starts
	// after the last UserID returned). Users are those of the app that exist.
	PushTargets(ctx context.Context, app int64, c PushCondition, after string, limit int) ([]string, error)

	// CreatePushTask stores a new task (State PushRunning) unless the rate refuses
	// it: errs.ErrConflict when the app's last push is less than MinInterval before
	// t.CreatedAt, errs.ErrLimit when PerDay pushes of that UTC day exist. The check
	// and the insert are atomic, also across nodes.
	CreatePushTask(ctx context.Context, t PushTask, rate PushRate) error
	// PushTask returns a task of the app; errs.ErrNotFound when there is none.
	PushTask(ctx context.Context, app int64, id string) (PushTask, error)
	// UpdatePushProgress records a task's progress: State, Cursor, Targets,
	// Delivered, Error, UpdatedAt and DoneAt of t.
	UpdatePushProgress(ctx context.Context, t PushTask) error
	// RunningPushTasks lists the tasks still running (of apps not deleted), oldest first.
	RunningPushTasks(ctx context.Context) ([]PushTask, error)
}
