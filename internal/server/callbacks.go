package server

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
)

// callbacks are the parts of app callbacks (webhooks) on this node: the
// settings service of the operator API, the Hooks the messaging service asks
// and emits to, and the Dispatcher that delivers the outbox.
type callbacks struct {
	configs    *sender.Configs
	hooks      *sender.Hooks
	dispatcher *sender.Dispatcher
}

// newCallbacks builds them over the server's store with the operator's policy;
// their metrics go to reg. Requests are signed, and retries and leases
// scheduled, by the real clock even on a server with a manual one: a receiver
// refuses a RequestTime 60 s off, and delivery must not wait for the operator
// to move a fake clock. Settings are stamped with the server's clock.
func newCallbacks(s *Server, reg prometheus.Registerer) *callbacks {
	cfg := s.cfg
	real := clock.Real{}
	h := sender.New(cfg.Store, cfg.CallbackPolicy, real, sender.HooksOptions{Registerer: reg})
	c := sender.NewConfigs(cfg.Store, cfg.CallbackPolicy, cfg.Clock)
	c.OnSet = h.Invalidate // this node sees a change at once; others within sender.ConfigTTL
	o := sender.DispatcherOptions{Apps: cfg.Store, Logger: cfg.Logger}
	if cfg.Manual != nil {
		// Events are stamped by the domain's clock, which a manual clock puts
		// anywhere: their age in real time means nothing, so none expires.
		o.MaxAge = time.Duration(math.MaxInt64)
	}
	d := sender.NewDispatcher(cfg.Store, h, cfg.NodeID, real, o)
	return &callbacks{configs: c, hooks: h, dispatcher: d}
}

// run delivers the outbox until ctx ends (Start runs it; Close waits for it).
func (cb *callbacks) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	_ = cb.dispatcher.Run(ctx) // it returns nil once ctx ends and its requests in flight are recorded
}
