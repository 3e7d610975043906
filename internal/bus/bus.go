// Package bus carries deliveries to the node(s) where a user's devices are connected.
// Durable state is always in the store first: a delivery is only a notification, and
// a device that misses one catches up by syncing from its last sequence number.
// The one exception is an online-only message (MsgLifeTime 0): it is never stored,
// so a device that misses its delivery never gets it, as intended.
package bus

import (
	"sync/atomic"

	"github.com/chatd/chatd/internal/store"
)

// Delivery kinds.
const (
	KindEntry = "entry" // a new entry of the user's sync log; Seq 0: an online-only message, not in the log
	KindKick  = "kick"  // the user's sessions must end
	// KindNotice is an event for the user's devices that is not in the sync log
	// (e.g. a friend request arrived): the gateway writes Notice as a frame.
	KindNotice = "notice"
)

// Notice is a KindNotice event: the frame's op and its JSON fields.
type Notice struct {
	Op     string
	Fields any // marshalled into the frame beside op (a struct or map)
}

// Delivery is one notification addressed to all devices of one user.
type Delivery struct {
	App     int64
	User    string
	Kind    string
	Entry   *store.Entry   // KindEntry
	Reason  string         // KindKick
	Profile *ProfileChange // KindProfile
	Notice  *Notice        // KindNotice
	Conv    *ConvChange    // KindConv (conversations.go)
	Group   *GroupDelivery // KindGroup (group.go): the audience of Entry
	// Origin, when set, names the device whose request wrote Entry (the sender's
	// copy of its own send): that device gets the entry inside the request's reply
	// instead of as a push; the user's other devices get the push as usual.
	Origin Origin
}

// Origin is the device and request a write came from. The zero value is none.
// The origin device is connected to the node that wrote the entry, so a bus hands
// such a delivery to that node's handler; if it is lost all the same, the gateway
// answers the request without the entry and the device fills the gap by a sync.
type Origin struct {
	ConnID    string // the session's conn_id
	RequestID string // the id of the device's request frame
	Token     uint64 // the session's own number for the request
}

// Device is one device of a user: connected (Status "", ConnID set) or, with
// Status StatusPushOnline, a mobile device that lost its connection without
// logging out (the reference's PushOnline).
type Device struct {
	Platform string
	ConnID   string
	Status   string
}

// StatusPushOnline marks a Device that is disconnected but not logged out.
const StatusPushOnline = "PushOnline"

// Handler is a node's delivery end (the gateway): it receives deliveries for users
// connected to the node and reports their devices.
type Handler interface {
	// Deliver hands ds to the devices connected here. It must not block.
	Deliver(ds []Delivery)
	// Devices reports the devices of a user connected here.
	Devices(app int64, user string) []Device
	// RemoteDevicesChanged tells the handler that user's devices on other
	// nodes changed (a cluster bus calls it; Local never does), so that status
	// watchers here learn of it. It must not block.
	RemoteDevicesChanged(app int64, user string)
}

// Bus is the seam between the messaging domain and delivery: im publishes to it
// and asks it who is online; a node's Handler attaches to it.
type Bus interface {
	// Attach makes h this node's delivery end. The gateway attaches when it is
	// built, before it serves; until then deliveries find no device here.
	Attach(h Handler)
	// Publish sends a batch of deliveries. It never blocks on slow devices.
	Publish(ds []Delivery)
	// Devices reports the devices of a user: those of this node (the handler's;
	// none when no handler is attached) and, on a cluster bus, those of the
	// other live nodes.
	Devices(app int64, user string) []Device
	// RemoteDevices reports the devices of a user on the other live nodes
	// (Local: none). A handler that adds them to its own must not call
	// Devices, which asks it back.
	RemoteDevices(app int64, user string) []Device
	// Subscribe and Unsubscribe tell the bus that this node has (or no longer has) a
	// device of the user, so that a multi-node bus routes only what a node needs.
	// Subscribe returns once deliveries for the user (and for the groups it is a
	// member of) reach this node: the caller reads the user's newest seq after it.
	Subscribe(app int64, user string)
	Unsubscribe(app int64, user string)
	// DevicesChanged tells the bus that user's devices on this node changed (a
	// login, a logout, a mobile device dropped or its PushOnline ending): a
	// cluster bus tells the other nodes. It must not block.
	DevicesChanged(app int64, user string)
	// Invalidate tells the other nodes that state they may cache changed here
	// (invalidation.go); this node has updated its own caches already. A
	// cluster bus also keeps its group routes by InvGroupMembers. Never blocks.
	Invalidate(invs ...Invalidation)
	// OnInvalidate registers fn to receive the invalidations of other nodes,
	// and InvAll when some may have been missed (after a reconnect). fn must
	// not block. Local never calls it.
	OnInvalidate(fn func(Invalidation))
	Close() error
}

// Local is the in-process bus: every user is connected to this node.
type Local struct{ h atomic.Pointer[Handler] }

// NewLocal returns a bus that hands deliveries straight to the attached handler.
func NewLocal() *Local { return &Local{} }

// Attach makes h the handler; a later Attach replaces it.
func (l *Local) Attach(h Handler) { l.h.Store(&h) }

// Publish delivers ds to the handler, if one is attached.
func (l *Local) Publish(ds []Delivery) {
	if h := l.h.Load(); h != nil && len(ds) > 0 {
		(*h).Deliver(ds)
	}
}

// Devices asks the handler, if one is attached.
func (l *Local) Devices(app int64, user string) []Device {
	if h := l.h.Load(); h != nil {
		return (*h).Devices(app, user)
	}
	return nil
}

// RemoteDevices is empty: there is no other node.
func (l *Local) RemoteDevices(int64, string) []Device { return nil }

// Subscribe is a no-op: one process sees every user.
func (l *Local) Subscribe(int64, string) {}

// Unsubscribe is a no-op.
func (l *Local) Unsubscribe(int64, string) {}

// DevicesChanged is a no-op: there is no other node to tell.
func (l *Local) DevicesChanged(int64, string) {}

// Invalidate is a no-op: there is no other node to tell.
func (l *Local) Invalidate(...Invalidation) {}

// OnInvalidate keeps nothing: no other node sends invalidations.
func (l *Local) OnInvalidate(func(Invalidation)) {}

// Close is a no-op.
func (l *Local) Close() error { return nil }
