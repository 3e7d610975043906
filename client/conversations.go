package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// Conversations (docs/protocol.md, "Conversations").

// Conv is a conversation of the user's list.
type Conv = protocol.Conv

// ConvRef names a conversation: Type 1 (one-to-one) with the peer's UserID, or 2 with a GroupId.
type ConvRef = protocol.ConvRef

// ConvGroup is a conversation group.
type ConvGroup = protocol.ConvGroup

// ConvCursor is a conversation list position; the zero value is the start.
type ConvCursor = protocol.ConvCursor

// ConvChange is a conv_changed push: Conv is the changed conversation (Deleted
// when it left the list), or nil when the conversation groups changed (Groups
// lists them all).
type ConvChange struct {
	Conv   *Conv
	Groups []ConvGroup
}

// ConvChanges delivers the pushes about changes of the user's conversation
// list made by any of its devices or by the REST API. It holds 256 changes;
// beyond that they are dropped (list the conversations again).
func (c *Client) ConvChanges() <-chan ConvChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.convCh == nil {
		c.convCh = make(chan ConvChange, 256)
	}
	return c.convCh
}

func (c *Client) convPush(f frame) {
	c.mu.Lock()
	if c.convCh == nil {
		c.convCh = make(chan ConvChange, 256)
	}
	ch := c.convCh
	c.mu.Unlock()
	select {
	case ch <- ConvChange{Conv: f.Conv, Groups: f.Groups}:
	default:
	}
}

// Conversations returns one page of the user's conversation list from cursor
// (nil: the start) with AssistFlags flags, the next page's cursor, and
// whether it was the last page.
func (c *Client) Conversations(ctx context.Context, cursor *ConvCursor, flags int64) ([]Conv, ConvCursor, bool, error) {
	f, err := c.call(ctx, frame{Op: protocol.OpConvList, ConvFields: protocol.ConvFields{Cursor: cursor, Flags: flags}})
	if err != nil {
		return nil, ConvCursor{}, false, err
	}
	var next ConvCursor
	if f.Cursor != nil {
		next = *f.Cursor
	}
	return f.Convs, next, f.Complete, nil
}

// DeleteConversation deletes a conversation from the list; with clear, the
// user's copies of its messages too.
func (c *Client) DeleteConversation(ctx context.Context, conv ConvRef, clear bool) error {
	_, err := c.call(ctx, frame{Op: protocol.OpConvDelete, Peer: conv.Peer, ConvFields: protocol.ConvFields{ConvType: conv.Type, Clear: clear}})
	return err
}

// PinConversation pins or unpins a conversation.
func (c *Client) PinConversation(ctx context.Context, conv ConvRef, pinned bool) error {
	_, err := c.call(ctx, frame{Op: protocol.OpConvPin, Peer: conv.Peer, ConvFields: protocol.ConvFields{ConvType: conv.Type, Pinned: pinned}})
	return err
}

// MarkConversation sets then clears mark bits (0 star, 1 unread, 2 folded,
// 3 hidden, 4–63 custom) and, when custom is not nil, sets the CustomMark.
func (c *Client) MarkConversation(ctx context.Context, conv ConvRef, set, clear []int, custom *string) (Conv, error) {
	f, err := c.call(ctx, frame{Op: protocol.OpConvMark, Peer: conv.Peer,
		ConvFields: protocol.ConvFields{ConvType: conv.Type, SetMark: set, ClearMark: clear, CustomMark: custom}})
	if err != nil || f.Conv == nil {
		return Conv{}, err
	}
	return *f.Conv, nil
}

// CreateConvGroup creates a conversation group holding convs.
func (c *Client) CreateConvGroup(ctx context.Context, name string, convs []ConvRef) (ConvGroup, error) {
	return c.groupCall(ctx, frame{Op: protocol.OpConvGroupCreate, ConvFields: protocol.ConvFields{GroupName: name, Add: convs}})
}

// RenameConvGroup renames a conversation group.
func (c *Client) RenameConvGroup(ctx context.Context, name, newName string) (ConvGroup, error) {
	return c.groupCall(ctx, frame{Op: protocol.OpConvGroupRename, ConvFields: protocol.ConvFields{GroupName: name, NewGroupName: newName}})
}

// UpdateConvGroup adds and removes conversations of a group; codes has one
// result per add, then per remove (0 or 51008).
func (c *Client) UpdateConvGroup(ctx context.Context, name string, add, remove []ConvRef) (codes []int, err error) {
	f, err := c.call(ctx, frame{Op: protocol.OpConvGroupUpdate, ConvFields: protocol.ConvFields{GroupName: name, Add: add, Remove: remove}})
	return f.Codes, err
}

// DeleteConvGroup deletes a conversation group.
func (c *Client) DeleteConvGroup(ctx context.Context, name string) error {
	_, err := c.call(ctx, frame{Op: protocol.OpConvGroupDelete, ConvFields: protocol.ConvFields{GroupName: name}})
	return err
}

// ConvGroups returns the conversations with marks or groups from index start
// (a page of at most 100), the groups, the next index and whether it was the last page.
func (c *Client) ConvGroups(ctx context.Context, start int64) ([]Conv, []ConvGroup, int64, bool, error) {
	f, err := c.call(ctx, frame{Op: protocol.OpConvGroups, After: start})
	return f.Convs, f.Groups, f.After, f.Complete, err
}

func (c *Client) groupCall(ctx context.Context, f frame) (ConvGroup, error) {
	r, err := c.call(ctx, f)
	if err != nil || len(r.Groups) == 0 {
		return ConvGroup{}, err
	}
	return r.Groups[0], nil
}
