package store

import (
	"context"
	"time"
)

// Kinds of group log entries (Entry.Kind with Entry.Group set). A group log
// also holds KindRecall entries: the message with MsgSeq was recalled.
const (
	KindGroupTips = "tips" // a system entry (membership or profile event); Body is a JSON object
)

// Group write-batch operations (Op.Kind). Each appends one entry, stored once
// whatever the group's size, with the group's next Seq (1, 2, 3, ... without
// gaps; a community topic is a group log of its own). Op.Group names the log;
// entries of a group log have Owner "" and Seq = the group seq.
const (
	// OpGroupSend appends a message from From. A ClientID already used by From
	// in the group, or (RandomWindow > 0) a message of From with the same
	// MsgRandom created within RandomWindow before At, makes it a Duplicate
	// answering the first message. Targets (≤ MaxGroupTargets) restricts who
	// may read it: the targets and the sender.
	OpGroupSend OpKind = iota + 100
	// OpGroupRecall marks the message with MsgSeq recalled and appends a
	// KindRecall entry; errs.ErrNotFound when the group has no message with
	// that seq; recalling a recalled message appends nothing.
	OpGroupRecall
	// OpGroupTips appends a system entry (KindGroupTips) from From (the
	// operator, "" for the app admin) with Body.
	OpGroupTips
)

// MaxGroupTargets bounds Op.Targets (the reference: ≤ 50 receivers of a
// targeted group message).
const MaxGroupTargets = 50

// GroupLast is the head of a group log.
type GroupLast struct {
	Seq     int64 // the last seq allocated (0 for an empty log); kept when entries are purged
	MsgTime int64 // Unix seconds of the last message (KindMsg), 0 when none
}

// GroupLog stores group logs: each entry once, read by every member. All
// reads skip entries created before notBefore (retention) and messages whose
// ExpiresAt is at or before now (a zero now skips none). Targeted messages
// are in Sync and History for every reader: the caller filters them with
// Entry.VisibleTo; GroupUnread filters them itself.
type GroupLog interface {
	// GroupSync returns the group's entries with seq > after, oldest first, at
	// most limit (limit <= 0: no limit).
	GroupSync(ctx context.Context, app int64, group string, after int64, limit int, notBefore, now time.Time) ([]Entry, error)
	// GroupLast returns the group's last seq and last message time.
	GroupLast(ctx context.Context, app int64, group string) (GroupLast, error)
	// GroupLasts returns the heads of many groups at once (a conversation
	// list), by group; groups without a log are left out.
	GroupLasts(ctx context.Context, app int64, groups []string) (map[string]GroupLast, error)
	// GroupHistory returns the group's entries with seq <= from (from <= 0:
	// from the last), newest first, at most limit. Recalled messages are
	// returned with Recalled set.
	GroupHistory(ctx context.Context, app int64, group string, from int64, limit int, notBefore, now time.Time) ([]Entry, error)
	// GroupUnread counts the messages with seq in (readSeq, last] that member
	// did not send, that are not recalled and that are not targeted at others
	// (tips and recall entries never count). It reads one small index key/row
	// per message, never a body, and at most MaxGroupUnreadScan of them (the
	// newest): the count is at most that bound.
	GroupUnread(ctx context.Context, app int64, group, member string, readSeq int64, notBefore, now time.Time) (int, error)
	// GroupUnreads is GroupUnread for many groups of one member at once (a
	// conversation list page): reads maps each GroupId to the member's read
	// seq; the counts come back by GroupId (groups without unread messages may
	// be left out).
	GroupUnreads(ctx context.Context, app int64, member string, reads map[string]int64, notBefore, now time.Time) (map[string]int, error)
	// DeleteGroupMsgsBySender removes the group's messages sent by sender (not
	// their seqs) and returns how many.
	DeleteGroupMsgsBySender(ctx context.Context, app int64, group, sender string) (int64, error)
	// DeleteGroupLog removes a group's log (a disbanded group); its seqs are
	// not reused if the GroupId is created again.
	DeleteGroupLog(ctx context.Context, app int64, group string) error
}

// MaxGroupUnreadScan bounds the index entries GroupUnread reads: 10,000.
const MaxGroupUnreadScan = 10000

// VisibleTo reports whether user may read the group entry: every entry but a
// targeted message, which only its targets and its sender see.
func (e *Entry) VisibleTo(user string) bool {
	if len(e.Targets) == 0 || e.From == user {
		return true
	}
	for _, t := range e.Targets {
		if t == user {
			return true
		}
	}
	return false
}
