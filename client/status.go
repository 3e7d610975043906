package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// Capabilities are the app's edition and its feature flags, as the server
// listed them in the login reply (docs/protocol.md "Capabilities").
type Capabilities struct {
	Edition  string   // "trial", "standard" or "premium"
	Features []string // e.g. "local_search", "user_status", "multi_device_same_platform"
}

// Has reports whether the edition has feature f.
func (c Capabilities) Has(f string) bool {
	for _, x := range c.Features {
		if x == f {
			return true
		}
	}
	return false
}

// Capabilities returns the edition and features of the app, from the login reply.
func (c *Client) Capabilities() Capabilities {
	return Capabilities{Edition: c.caps.Edition, Features: append([]string(nil), c.caps.Features...)}
}

// UserStatus is a user's status: Status is "Online", "PushOnline" (disconnected,
// not logged out) or "Offline".
type UserStatus = protocol.UserStatus

// UserFailure is a user a status request could not act on, with its code.
type UserFailure = protocol.UserFailure

// statusBuffer is the capacity of the StatusNotices channel.
const statusBuffer = 256

// StatusNotices delivers the status notices of subscribed users and of the
// user's own custom status changes. A notice that finds the channel full
// (statusBuffer unread notices) is dropped: read it, or query again.
func (c *Client) StatusNotices() <-chan UserStatus { return c.statuses }

// SetCustomStatus sets the user's custom status (at most 100 bytes; "" clears it).
func (c *Client) SetCustomStatus(ctx context.Context, text string) error {
	_, err := c.call(ctx, frame{Op: protocol.OpSetStatus, CustomStatus: text})
	return err
}

// SubscribeStatus subscribes to the status of users (at most 100 per call) and
// returns their current status, and the users refused with why.
func (c *Client) SubscribeStatus(ctx context.Context, users ...string) ([]UserStatus, []UserFailure, error) {
	f, err := c.call(ctx, frame{Op: protocol.OpSubscribe, Users: users})
	if err != nil {
		return nil, nil, err
	}
	return f.Statuses, f.Failed, nil
}

// UnsubscribeStatus ends subscriptions to users; with none, every subscription.
func (c *Client) UnsubscribeStatus(ctx context.Context, users ...string) error {
	_, err := c.call(ctx, frame{Op: protocol.OpUnsubscribe, Users: users})
	return err
}

// statusNotice hands a status push to StatusNotices without blocking the reader.
func (c *Client) statusNotice(f frame) {
	select {
	case c.statuses <- UserStatus{User: f.User, Status: f.Status, CustomStatus: f.CustomStatus}:
	default:
	}
}
