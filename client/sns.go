package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// FriendRequest is a pending friend request (docs/protocol.md "Friends").
type FriendRequest = protocol.FriendRequest

// FriendRequests lists the pending friend requests sent to the user, oldest first.
func (c *Client) FriendRequests(ctx context.Context) ([]FriendRequest, error) {
	f, err := c.call(ctx, frame{Op: protocol.OpFriendRequests})
	if err != nil {
		return nil, err
	}
	return f.FriendRequests, nil
}

// AcceptFriend accepts peer's pending friend request: 30614 when there is none,
// 30010/30014 when a friend list is at the edition's limit.
func (c *Client) AcceptFriend(ctx context.Context, peer string) error {
	_, err := c.call(ctx, frame{Op: protocol.OpFriendAccept, Peer: peer})
	return err
}

// RefuseFriend refuses peer's pending friend request (30614 when there is none).
func (c *Client) RefuseFriend(ctx context.Context, peer string) error {
	_, err := c.call(ctx, frame{Op: protocol.OpFriendRefuse, Peer: peer})
	return err
}
