package client

import (
	"context"
	"encoding/json"

	"github.com/chatd/chatd/protocol"
)

// GroupState is one of the user's groups (group_list).
type GroupState = protocol.GroupState

// GroupSendOptions are the optional parts of a group message.
type GroupSendOptions struct {
	CloudCustomData string
	Targets         []string // a targeted message: only these members (and the sender) get it
	NeedReceipt     bool
}

// GroupAck is the server's acknowledgement of a group message.
type GroupAck struct {
	Seq       int64 // the message's seq in the group (0 for none, e.g. an online-only message)
	MsgTime   int64
	Duplicate bool   // the same ClientMsgID was sent before: the first message's seq
	Entry     *Entry // the message's entry (nil for a duplicate)
}

// OnGroupEntry sets the handler of the user's group entries (group_entry
// pushes, and the entry of each of this device's own group sends, delivered
// before the send returns). It runs on the connection's read goroutine: it
// must not block. A device that misses entries (a reconnect) asks GroupSync
// from the last seq it has of each group.
func (c *Client) OnGroupEntry(fn func(Entry)) {
	c.mu.Lock()
	c.groupFn = fn
	c.mu.Unlock()
}

func (c *Client) groupEntry(e *Entry) {
	c.mu.Lock()
	fn := c.groupFn
	c.mu.Unlock()
	if fn != nil && e != nil {
		fn(*e)
	}
}

// GroupSend sends a message to a group.
func (c *Client) GroupSend(ctx context.Context, group, clientMsgID string, body json.RawMessage, o GroupSendOptions) (GroupAck, error) {
	f := frame{Op: protocol.OpGroupSend, ClientMsgID: clientMsgID, Body: body, CloudCustomData: o.CloudCustomData}
	f.Group, f.Targets, f.NeedReceipt = group, o.Targets, o.NeedReceipt
	r, err := c.call(ctx, f)
	if err != nil {
		return GroupAck{}, err
	}
	return GroupAck{Seq: r.Seq, MsgTime: r.MsgTime, Duplicate: r.Duplicate, Entry: r.Entry}, nil
}

// GroupSync fetches the group's entries after seq (oldest first, at most
// limit; complete when the page reaches the end).
func (c *Client) GroupSync(ctx context.Context, group string, after int64, limit int) ([]Entry, bool, error) {
	f := frame{Op: protocol.OpGroupSync, After: after, Limit: limit}
	f.Group = group
	r, err := c.call(ctx, f)
	if err != nil {
		return nil, false, err
	}
	return r.Entries, r.Complete, nil
}

// GroupRead reports that the user read the group up to seq.
func (c *Client) GroupRead(ctx context.Context, group string, seq int64) error {
	f := frame{Op: protocol.OpGroupRead, Seq: seq}
	f.Group = group
	_, err := c.call(ctx, f)
	return err
}

// GroupJoin joins a group, or applies to join one that needs approval
// (pending true).
func (c *Client) GroupJoin(ctx context.Context, group, message string) (pending bool, err error) {
	f := frame{Op: protocol.OpGroupJoin, Message: message}
	f.Group = group
	r, err := c.call(ctx, f)
	if err != nil {
		return false, err
	}
	return r.Reason == "pending", nil
}

// GroupQuit leaves a group.
func (c *Client) GroupQuit(ctx context.Context, group string) error {
	f := frame{Op: protocol.OpGroupQuit}
	f.Group = group
	_, err := c.call(ctx, f)
	return err
}

// GroupList returns the user's groups with their last seq, the user's read
// seq and unread count.
func (c *Client) GroupList(ctx context.Context) ([]GroupState, error) {
	r, err := c.call(ctx, frame{Op: protocol.OpGroupList})
	if err != nil {
		return nil, err
	}
	return r.GroupStates, nil
}

// GroupRecall recalls the message seq of group: the device's user sent it, or
// is the group's owner or an admin (10007 otherwise; 10030 no such message).
// Every member then gets a "recall" entry naming it (msg_seq).
func (c *Client) GroupRecall(ctx context.Context, group string, seq int64) error {
	f := frame{Op: protocol.OpGroupRecall, Seq: seq}
	f.Group = group
	_, err := c.call(ctx, f)
	return err
}
