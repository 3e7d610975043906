package store

import (
	"context"
	"time"
)

// Topic is one topic of a Community created with SupportTopic (reference
// rest-api.md §3.7 create_topic, get_topic). A topic has its own message log,
// keyed by its TopicID ("<GroupId>@TOPIC#_<suffix>"); its members are the
// community's.
type Topic struct {
	App           int64
	GroupID       string // the community
	TopicID       string
	Name          string
	Creator       string // From_Account of create_topic ("" when the admin created it)
	CustomString  string
	FaceURL       string
	Notification  string
	Introduction  string
	MuteAllMember bool
	CreatedAt     time.Time // whole seconds (import_topic's CreateTime)
}

// TopicUpdate changes a topic: nil fields stay as they are.
type TopicUpdate struct {
	Name, CustomString, FaceURL, Notification, Introduction *string
	MuteAllMember                                           *bool
}

// Counter update modes of UpdateGroupCounters (update_group_counter's Mode).
const (
	CounterSet      = "Set"
	CounterIncrease = "Increase"
	CounterDecrease = "Decrease"
)

// Limits a GroupLimitError of GroupExtras reports.
const (
	LimitTopics       = "topics"        // topics of one community
	LimitAttrKeys     = "attr_keys"     // attribute keys of one group
	LimitAttrBytes    = "attr_bytes"    // bytes of all keys and values of one group's attributes
	LimitCounterKeys  = "counter_keys"  // counter keys of one group
	LimitCounterRange = "counter_range" // an Increase or Decrease would leave int64
)

// AttrBounds bounds one group's attributes as a whole (checked by the store in
// the transaction of the change). A bound <= 0 does not apply.
type AttrBounds struct {
	MaxKeys  int
	MaxBytes int // the sum of len(key)+len(value), in bytes
}

// GroupExtras stores what hangs off a group besides its members: community
// topics, group attributes (group_open_attr_http_svc) and group counters.
// Every change locks the group's row, so changes of one group are serialised
// (exact under concurrent Increase) and none outlives DeleteGroup, which
// removes the group's topics, attributes and counters with it. An unknown
// group fails with errs.ErrNotFound; nothing is written on failure.
type GroupExtras interface {
	// CreateTopic stores t (its group must exist: errs.ErrNotFound) and returns
	// it. errs.ErrExists when the TopicID is in use; a *GroupLimitError
	// (LimitTopics) when the group has maxTopics topics (<= 0: no bound).
	CreateTopic(ctx context.Context, t Topic, maxTopics int) (Topic, error)
	// GetTopic returns a topic; errs.ErrNotFound when none.
	GetTopic(ctx context.Context, app int64, topicID string) (Topic, error)
	// GroupTopics returns the group's topics by (CreatedAt, TopicID);
	// errs.ErrNotFound when the group does not exist.
	GroupTopics(ctx context.Context, app int64, groupID string) ([]Topic, error)
	// UpdateTopic changes a topic of groupID and returns it; errs.ErrNotFound
	// when the group has no such topic.
	UpdateTopic(ctx context.Context, app int64, groupID, topicID string, u TopicUpdate) (Topic, error)
	// DeleteTopic deletes a topic of groupID; errs.ErrNotFound when none.
	DeleteTopic(ctx context.Context, app int64, groupID, topicID string) error

	// GroupAttrs returns the group's attributes (never nil).
	GroupAttrs(ctx context.Context, app int64, groupID string) (map[string]string, error)
	// PutGroupAttrs writes attrs: merged into the group's attributes, or
	// replacing them all when replace is set. A *GroupLimitError
	// (LimitAttrKeys, LimitAttrBytes) when the result would pass b.
	PutGroupAttrs(ctx context.Context, app int64, groupID string, attrs map[string]string, replace bool, b AttrBounds) error
	// ClearGroupAttrs deletes every attribute of the group.
	ClearGroupAttrs(ctx context.Context, app int64, groupID string) error

	// GroupCounters returns the group's counters among keys (none: all).
	GroupCounters(ctx context.Context, app int64, groupID string, keys []string) (map[string]int64, error)
	// UpdateGroupCounters applies mode (Counter*) with vals to the group's
	// counters (a missing counter counts from 0) and returns the new values of
	// the keys of vals. A *GroupLimitError: LimitCounterKeys when the group
	// would have more than maxKeys counters (<= 0: no bound), LimitCounterRange
	// when a result would leave int64.
	UpdateGroupCounters(ctx context.Context, app int64, groupID, mode string, vals map[string]int64, maxKeys int) (map[string]int64, error)
	// DeleteGroupCounters deletes the group's counters among keys (unknown
	// keys are ignored).
	DeleteGroupCounters(ctx context.Context, app int64, groupID string, keys []string) error
}
