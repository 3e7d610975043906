package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/chatd/chatd/internal/bus/natsbus"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
)

// groupReader is natsbus.GroupReader over the store.
type groupReader struct{ st store.Store }

// UserGroupIDs lists the groups user is a member of (topics are not groups of
// their own: their messages travel on the community's subject).
func (g groupReader) UserGroupIDs(ctx context.Context, app int64, user string) ([]string, error) {
	ms, err := g.st.UserGroups(ctx, app, user)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
	}
	return ids, nil
}

// GroupMemberIDs lists the members of a group; errs.ErrNotFound when it does
// not exist.
func (g groupReader) GroupMemberIDs(ctx context.Context, app int64, group string) ([]string, error) {
	return g.st.GroupMemberIDs(ctx, app, group)
}

// openBus connects this node to the others when --nats-url is set (its
// metrics feed m); without it the server keeps the in-process bus (nil). A
// NATS server that is down is retried in the background: /readyz says so.
func openBus(c serveConfig, st store.Store, logger *slog.Logger, m *server.BusMetrics) (*natsbus.Bus, error) {
	if c.natsURL == "" {
		return nil, nil
	}
	logger.Info("cluster", "bus", "nats", "node", c.nodeID)
	b, err := natsbus.New(natsbus.Config{URL: c.natsURL, NodeID: c.nodeID, Groups: groupReader{st}, Logger: logger, Metrics: m.Hooks()})
	if err != nil { // the URL may hold a password: not repeated
		return nil, errors.New(strings.ReplaceAll(err.Error(), c.natsURL, "<--nats-url>"))
	}
	return b, nil
}
