// Package bus carries deliveries to the node(s) where a user's devices are connected.
// Durable state is always in the store first: a delivery is only a notification, and
// a device that misses one catches up by syncing from its last sequence number.
// The one exception is an online-only message (MsgLifeTime 0): it is never stored,
// so a device that misses its delivery never gets it, as intended.
package bus

import "github.com/chatd/chatd/internal/store"

// Delivery kinds.
const (
	KindEntry = "entry" // a new entry of the user's sync log; Seq 0: an online-only message, not in the log
	KindKick  = "kick"  // the user's sessions must end
)

// Delivery is one notification addressed to all devices of one user.
type Delivery struct {
	App    int64
	User   string
	Kind   string
	Entry  *store.Entry // KindEntry
	Reason string       // KindKick
}

// Handler receives deliveries for users connected to this node. Deliver must not block.
type Handler interface {
	Deliver(ds []Delivery)
}

// Bus publishes deliveries to whichever node holds the user's devices.
type Bus interface {
	// Publish sends a batch of deliveries. It never blocks on slow devices.
	Publish(ds []Delivery)
	// Subscribe and Unsubscribe tell the bus that this node has (or no longer has) a
	// device of the user, so that a multi-node bus routes only what a node needs.
	Subscribe(app int64, user string)
	Unsubscribe(app int64, user string)
	Close() error
}

// Local is the in-process bus: every user is connected to this node.
type Local struct{ h Handler }

// NewLocal returns a bus that hands deliveries straight to h.
func NewLocal(h Handler) *Local { return &Local{h: h} }

// Publish delivers ds to the handler.
func (l *Local) Publish(ds []Delivery) {
	if len(ds) > 0 {
		l.h.Deliver(ds)
	}
}

// Subscribe is a no-op: one process sees every user.
func (l *Local) Subscribe(int64, string) {}

// Unsubscribe is a no-op.
func (l *Local) Unsubscribe(int64, string) {}

// Close is a no-op.
func (l *Local) Close() error { return nil }
