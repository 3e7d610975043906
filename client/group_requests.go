package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// GroupRequest is a pending group request pushed to the device: Kind
// "group_application" (User applied to Group, with Message; to its owner and
// admins) or "group_invitation" (User invited the device's user to Group).
type GroupRequest struct {
	Kind, Group, User, Message string
}

// OnGroupRequest sets the handler of pushed group requests; it runs on the
// reading goroutine and must not block. Set it before the requests may come.
func (c *Client) OnGroupRequest(fn func(GroupRequest)) {
	c.mu.Lock()
	c.groupRequestFn = fn
	c.mu.Unlock()
}

func (c *Client) groupRequest(f frame) {
	c.mu.Lock()
	fn := c.groupRequestFn
	c.mu.Unlock()
	if fn != nil {
		fn(GroupRequest{Kind: f.Op, Group: f.Group, User: f.User, Message: f.Message})
	}
}

// GroupApprove approves (or, with approve false, refuses) user's application
// to group: the owner and admins may (10007); 10024 when there is none.
func (c *Client) GroupApprove(ctx context.Context, group, user string, approve bool) error {
	f := frame{Op: protocol.OpGroupRefuse, User: user}
	if approve {
		f.Op = protocol.OpGroupApprove
	}
	f.Group = group
	_, err := c.call(ctx, f)
	return err
}

// GroupAcceptInvitation accepts (or, with accept false, declines) the
// device's user's invitation to group; 10024 when there is none.
func (c *Client) GroupAcceptInvitation(ctx context.Context, group string, accept bool) error {
	f := frame{Op: protocol.OpGroupDecline}
	if accept {
		f.Op = protocol.OpGroupAccept
	}
	f.Group = group
	_, err := c.call(ctx, f)
	return err
}
