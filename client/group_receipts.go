package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// GroupReceipt is the read state of one of the user's group messages sent
// with NeedReceipt (a group_receipt_update push).
type GroupReceipt = protocol.GroupReceipt

// GroupReceipt reports that the user read the group messages seqs (each sent
// with NeedReceipt; at most protocol.MaxReceiptSeqs): their senders are told.
// Errors: 10059 (edition), 10010 (group), 10007 (not a member), 10004 (a seq
// out of range), 10005 (too many seqs), 10062 (a message without receipts).
func (c *Client) GroupReceipt(ctx context.Context, group string, seqs []int64) error {
	f := frame{Op: protocol.OpGroupReceipt}
	f.Group, f.Seqs = group, seqs
	_, err := c.call(ctx, f)
	return err
}

// OnGroupReceipt sets the handler of group_receipt_update pushes: the new
// read counts of the user's messages of group (changes are gathered for a
// short window and pushed together, each message once with its newest
// counts). It runs on the connection's read goroutine: it must not block.
func (c *Client) OnGroupReceipt(fn func(group string, receipts []GroupReceipt)) {
	c.mu.Lock()
	c.receiptFn = fn
	c.mu.Unlock()
}

func (c *Client) groupReceipts(f frame) {
	c.mu.Lock()
	fn := c.receiptFn
	c.mu.Unlock()
	if fn != nil {
		fn(f.Group, f.Receipts)
	}
}
