package natsbus

import (
	"context"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	DefaultHeartbeatEvery = time.Second
	DefaultNodeTimeout    = 3 * time.Second
)

// Config is what a NATS bus needs. URL, NodeID, Groups and Logger are required.
type Config struct {
	// URL is the NATS server list (nats://host:port, comma-separated).
	URL string
	// NodeID names this node among the others; unique in the cluster
	// (1..64 bytes of [A-Za-z0-9_-]).
	NodeID string
	// Groups reads group membership from the store, for the group routes of
	// the users connected to this node.
	Groups GroupReader
	Logger *slog.Logger
	// HeartbeatEvery is how often this node says it is alive
	// (default DefaultHeartbeatEvery); NodeTimeout is how long a silent node
	// stays alive for the others: past it its devices stop counting
	// (default DefaultNodeTimeout, at least twice HeartbeatEvery).
	HeartbeatEvery, NodeTimeout time.Duration
	// Metrics are optional hooks.
	Metrics Metrics
}

// GroupReader is the store's view of group membership the bus needs.
type GroupReader interface {
	// UserGroupIDs lists the groups (GroupIds, communities included, topics
	// not) user is a member of.
	UserGroupIDs(ctx context.Context, app int64, user string) ([]string, error)
	// GroupMemberIDs lists the members of a group; errs.ErrNotFound when it
	// does not exist.
	GroupMemberIDs(ctx context.Context, app int64, group string) ([]string, error)
}

// Metrics are hooks for the node's metrics; nil ones are skipped.
type Metrics struct {
	Published func(n int)             // NATS messages published by this node
	Received  func(n int)             // NATS messages received by this node
	Dropped   func()                  // a message from another node that could not be used (malformed, too large)
	Connected func(up bool)           // the connection to NATS went up or down
	Nodes     func(n int)             // live nodes seen, this one included
	Resyncs   func()                  // presence snapshots taken from another node after a gap
	Invalid   func(kind string)       // invalidations received, by kind
	Routes    func(users, groups int) // user and group subscriptions of this node
}
