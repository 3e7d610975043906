package store

import (
	"context"
	"time"
)

// ReceiptMsg names a group message sent with read receipts (Entry.NeedReceipt):
// its seq, its sender and its targets (empty: every member). The caller has
// checked that the message exists and asked for receipts.
type ReceiptMsg struct {
	Seq     int64
	Sender  string
	Targets []string
}

// GroupReceipt is the read receipt state of one group message (reference
// rest-api.md §3.7 get_group_msg_receipt): ReadNum members read it, UnreadNum
// did not.
type GroupReceipt struct {
	Seq       int64
	ReadNum   int
	UnreadNum int
}

// MaxReceiptPage bounds a page of GroupReceiptReaders (the reference's Count:
// at most 200).
const MaxReceiptPage = 200

// GroupReceipts stores the read receipts of group messages: one row/key per
// (message, reader), so a message has at most the group's member count of
// them, and a counter per message, so counts never scan the group.
//
// A message's audience, the members who count for it, is fixed the first time
// the message is marked or counted: the members then whose JoinSeq is at or
// before the message's seq, not its sender, and only its targets for a
// targeted message. UnreadNum is the audience minus ReadNum (never below 0):
// a member who leaves later stays counted. The rows go with the group
// (DeleteGroup), the app (DeleteApp) and the reader (DeleteUsers; the counter
// keeps the read). An unknown group fails with errs.ErrNotFound.
type GroupReceipts interface {
	// MarkGroupReceipts records that reader read msgs (the caller checked that
	// the reader is in each message's audience) at at, and returns the new
	// state of each message whose ReadNum changed, by seq; a message read
	// before by the reader changes nothing. One transaction.
	MarkGroupReceipts(ctx context.Context, app int64, group, reader string, msgs []ReceiptMsg, at time.Time) ([]GroupReceipt, error)
	// GroupReceipts returns the state of each of msgs, in order.
	GroupReceipts(ctx context.Context, app int64, group string, msgs []ReceiptMsg, at time.Time) ([]GroupReceipt, error)
	// GroupReceiptReaders returns a page of msg's readers (read) or of the
	// members in its audience now who did not read it (!read), ordered by
	// UserID after after, at most limit (1..MaxReceiptPage), and whether the
	// list ends with this page.
	GroupReceiptReaders(ctx context.Context, app int64, group string, msg ReceiptMsg, read bool, after string, limit int) ([]string, bool, error)
	// PurgeGroupReceipts deletes the app's message rows made and reader rows
	// written before before (the retention start: their messages were sent
	// before it, so are purged too) and returns how many.
	PurgeGroupReceipts(ctx context.Context, app int64, before time.Time) (int64, error)
}
