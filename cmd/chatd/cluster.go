package main

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/chatd/chatd/internal/bus/natsbus"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
)

// openBus connects this node to the others when --nats-url is set (its
// metrics feed m); without it the server keeps the in-process bus (nil). A
// NATS server that is down is retried in the background: /readyz says so.
func openBus(c serveConfig, st store.Store, logger *slog.Logger, m *server.BusMetrics) (*natsbus.Bus, error) {
	if c.natsURL == "" {
		return nil, nil
	}
	logger.Info("cluster", "bus", "nats", "node", c.nodeID)
	b, err := natsbus.New(natsbus.Config{URL: c.natsURL, NodeID: c.nodeID, Groups: natsbus.StoreGroups(st), Logger: logger, Metrics: m.Hooks()})
	if err != nil { // the URL may hold a password: not repeated
		return nil, errors.New(strings.ReplaceAll(err.Error(), c.natsURL, "<--nats-url>"))
	}
	return b, nil
}
