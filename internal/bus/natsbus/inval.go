package natsbus

import (
	"encoding/json"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
)

// invalMsg carries one node's invalidations (chatd.inval).
type invalMsg struct {
	Node     string             `json:"n"`
	Instance string             `json:"i"`
	Invs     []bus.Invalidation `json:"v"`
}

// Invalidate keeps this node's group routes by the membership changes among
// invs and tells the other nodes.
func (b *Bus) Invalidate(invs ...bus.Invalidation) {
	if len(invs) == 0 {
		return
	}
	for _, inv := range invs {
		if inv.Kind == bus.InvGroupMembers {
			b.applyMembership(inv)
		}
	}
	data, err := json.Marshal(invalMsg{Node: b.cfg.NodeID, Instance: b.instance, Invs: invs})
	if err != nil {
		return
	}
	b.publish(subjInval, data)
}

// onInvalidation applies another node's invalidations: the routes here, then
// the handlers (im's caches, the gateway's apps).
func (b *Bus) onInvalidation(m *nats.Msg) {
	if b.cfg.Metrics.Received != nil {
		b.cfg.Metrics.Received(1)
	}
	var msg invalMsg
	if err := json.Unmarshal(m.Data, &msg); err != nil || msg.Instance == b.instance {
		b.dropped()
		return
	}
	for _, inv := range msg.Invs {
		if inv.Kind == bus.InvAll { // only a node's own bus says that, to itself
			continue
		}
		if b.cfg.Metrics.Invalid != nil {
			b.cfg.Metrics.Invalid(inv.Kind)
		}
		if inv.Kind == bus.InvGroupMembers {
			b.applyMembership(inv)
		}
		b.invalidateLocal(inv)
	}
}
