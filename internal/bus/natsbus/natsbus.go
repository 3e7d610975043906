// Package natsbus is the bus of several chatd nodes: deliveries, presence and
// invalidations travel between the nodes over NATS core subjects. The store
// stays the source of truth: a delivery lost between nodes (NATS down, a slow
// node, a node that just subscribed) is recovered by the device's resync from
// its last seq, so nothing here needs JetStream (docs/operations.md).
//
// Subjects (hex is the lower-case hex of the id's bytes, so that any UserID or
// GroupId is one subject token):
//
//	chatd.u.<app>.<hex UserID>   deliveries for one user; a node subscribes
//	                             while it has a device of the user
//	chatd.g.<app>.<hex GroupId>  entries of one group (topics: the community's);
//	                             a node subscribes while one of its users online
//	                             is a member, and delivers to those users
//	chatd.p.change               each node's device changes, numbered
//	chatd.p.hb                   each node's heartbeat (its last change number)
//	chatd.snap.<node>            a node's devices, asked for after a gap
//	chatd.inval                  invalidations of cached state
//
// The connection uses NoEcho: a node hands its own deliveries to its own
// gateway in process and never receives them back.
//
// At scale (1M online users, 100k groups, N nodes): NATS holds one interest
// per online user (1M subscriptions over the nodes, about 1 KiB each in
// nats-server) and one per (group, node with a member online), at most
// 100k per node; a message crosses only to the nodes that asked for it, and
// a group entry crosses once per such node whatever the group's size (no
// member list on the wire: each node keeps its members online per group).
// Presence costs every node about 160 bytes per online user of the others
// (160 MB per million) and one message per login or logout. The alternative,
// one subject per node with the sender choosing the nodes from the presence
// directory, needs no interest churn but makes every sender trust a directory
// that lags logins; interest on the NATS server is exact once Subscribe has
// flushed, before the device's first sync.
package natsbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
)

// Bounds of one node's NATS traffic.
const (
	// inboxCap is the messages of user and group subjects waiting for this
	// node's dispatcher; past it NATS drops them (Metrics.Dropped) and the
	// devices concerned resync.
	inboxCap = 16384
	// MaxMessageBytes bounds one published message; NATS's own default
	// max_payload is 1 MiB. A delivery larger than this is not sent (the
	// device resyncs); a batch is split below it.
	MaxMessageBytes = 512 << 10
	// snapChunkBytes bounds one message of a presence snapshot.
	snapChunkBytes = 256 << 10
	// snapTimeout bounds the wait for a whole snapshot.
	snapTimeout = 5 * time.Second
	// readTimeout bounds a membership read from the store.
	readTimeout = 5 * time.Second
	// flushTimeout bounds the wait for the server to confirm subscriptions.
	flushTimeout = 2 * time.Second
	// idProbeTimeout bounds the start-up check that no live node has this
	// node's id.
	idProbeTimeout = 300 * time.Millisecond
	// MaxNodes bounds the nodes one node keeps presence for (itself
	// included); heartbeats of more are ignored.
	MaxNodes = 256
	// snapConcurrency bounds the presence snapshots fetched at once.
	snapConcurrency = 4
)

const (
	subjPresence = "chatd.p.change"
	subjHB       = "chatd.p.hb"
	subjPresAll  = "chatd.p.*" // one subscription: changes and heartbeats stay in order
	subjInval    = "chatd.inval"
	prefixSnap   = "chatd.snap."
	prefixUser   = "chatd.u."
	prefixGroup  = "chatd.g."
)

var validNodeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

type userKey struct {
	app  int64
	user string
}

type groupKey struct {
	app   int64
	group string
}

// Bus is a NATS bus. New connects it; Close ends it.
type Bus struct {
	cfg      Config
	nc       *nats.Conn
	instance string // this process's own id: a restarted node is a new instance
	h        atomic.Pointer[bus.Handler]
	in       chan *nats.Msg // user and group subjects, for the dispatcher
	events   chan string    // "connected", "reconnected": handled by the heartbeat loop
	stop     chan struct{}
	done     sync.WaitGroup // the dispatcher and the heartbeat loop
	sending  sync.WaitGroup // the outbox's sender

	invalMu sync.RWMutex
	onInval []func(bus.Invalidation)

	routes     routes
	pres       presence
	out        outbox
	up         atomic.Bool   // connected to NATS, as the connection's handlers last said
	snapSlots  chan struct{} // snapshots in flight
	sameID     sync.Once     // another process with this node id was reported
	sameIDSeen atomic.Int64  // Unix ns of that process's last heartbeat
	closing    atomic.Bool
	announced  atomic.Bool // "connected" was reported: once, however nats.go calls back
}

// New connects to NATS and starts the node's heartbeat and dispatcher. It
// fails on a bad Config; a NATS server that is down is retried in the
// background (Ready reports it), so nodes and NATS may start in any order.
func New(cfg Config) (*Bus, error) {
	if cfg.URL == "" || cfg.Groups == nil || cfg.Logger == nil {
		return nil, errors.New("natsbus: URL, Groups and Logger are required")
	}
	if !validNodeID.MatchString(cfg.NodeID) {
		return nil, fmt.Errorf("natsbus: node id %q must be 1 to 64 letters, digits, _ or -", cfg.NodeID)
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = DefaultHeartbeatEvery
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = DefaultNodeTimeout
	}
	if cfg.NodeTimeout < 2*cfg.HeartbeatEvery {
		cfg.NodeTimeout = 2 * cfg.HeartbeatEvery
	}
	b := &Bus{cfg: cfg, in: make(chan *nats.Msg, inboxCap), stop: make(chan struct{}), events: make(chan string, 8),
		out: outbox{wake: make(chan struct{}, 1)}, snapSlots: make(chan struct{}, snapConcurrency),
		instance: cfg.NodeID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	b.routes.init()
	b.pres.init()
	nc, err := nats.Connect(cfg.URL,
		nats.Name("chatd "+cfg.NodeID),
		nats.NoEcho(),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(8<<20),
		nats.PingInterval(5*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.ConnectHandler(func(*nats.Conn) { b.up.Store(true); b.event("connected") }),
		nats.ReconnectHandler(func(*nats.Conn) { b.up.Store(true); b.event("reconnected") }),
		nats.ClosedHandler(func(*nats.Conn) { b.up.Store(false) }),
		// A write that NATS does not take within a second means a stalled
		// server: the connection is dropped and made again.
		nats.FlusherTimeout(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.up.Store(false)
			if b.closing.Load() {
				return
			}
			cfg.Logger.Warn("nats: disconnected", "err", err)
			if cfg.Metrics.Connected != nil {
				cfg.Metrics.Connected(false)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.dropped()
				return
			}
			cfg.Logger.Warn("nats: error", "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	b.nc = nc
	for subj, fn := range map[string]nats.MsgHandler{
		subjPresAll: b.onPresence, subjInval: b.onInvalidation,
		prefixSnap + cfg.NodeID: b.onSnapshotRequest,
	} {
		if _, err := nc.Subscribe(subj, fn); err != nil {
			nc.Close()
			return nil, fmt.Errorf("natsbus: subscribing %s: %w", subj, err)
		}
	}
	if nc.IsConnected() {
		b.up.Store(true)
		// The node's own subscriptions are in place before it serves.
		if err := nc.FlushTimeout(flushTimeout); err != nil {
			cfg.Logger.Warn("nats: flush after subscribing", "err", err)
		}
		// A live node with this id answers its snapshot subject: two nodes
		// with one id would take each other's presence and invalidations
		// for their own. Asked before this node says a word.
		if _, err := nc.Request(prefixSnap+cfg.NodeID, nil, idProbeTimeout); err == nil {
			b.closing.Store(true)
			nc.Close()
			return nil, fmt.Errorf("natsbus: node id %q is in use by a live node; give each node its own --node-id", cfg.NodeID)
		}
	}
	b.done.Add(2)
	go b.dispatch()
	go b.heartbeats()
	b.sending.Add(1)
	go b.send()
	if b.up.Load() {
		b.event("connected")
	} else {
		cfg.Logger.Warn("nats: not reachable yet; retrying", "url", redact(cfg.URL))
	}
	return b, nil
}

// redact drops credentials from a NATS URL list before it is logged.
var userinfo = regexp.MustCompile(`//[^@/]*@`)

func redact(u string) string { return userinfo.ReplaceAllString(u, "//") }

// event hands a connection event to the heartbeat loop (never blocking: a
// burst keeps the first eight, which is enough).
func (b *Bus) event(how string) {
	select {
	case b.events <- how:
	default:
	}
}

// connected runs on every (re)connection: the node's caches and routes may
// have missed invalidations, and the others learn of it at once.
func (b *Bus) connected(how string) {
	if how == "connected" && !b.announced.CompareAndSwap(false, true) {
		return
	}
	b.cfg.Logger.Info("nats: "+how, "url", redact(b.nc.ConnectedUrlRedacted()), "node", b.cfg.NodeID)
	if b.cfg.Metrics.Connected != nil {
		b.cfg.Metrics.Connected(true)
	}
	b.heartbeat()
	if how == "reconnected" {
		b.invalidateLocal(bus.Invalidation{Kind: bus.InvAll})
		go b.reloadAllRoutes()
	}
}

// Ready reports whether the node is connected to NATS.
// It also fails while another node runs with this node's id (its heartbeats
// seen within NodeTimeout): presence between the two is wrong until one of
// them gets its own id.
func (b *Bus) Ready() error {
	if !b.up.Load() {
		return errors.New("not connected")
	}
	if at := b.sameIDSeen.Load(); at != 0 && time.Since(time.Unix(0, at)) < b.cfg.NodeTimeout {
		return fmt.Errorf("another node runs with node id %q", b.cfg.NodeID)
	}
	return nil
}

// Attach makes h this node's delivery end.
func (b *Bus) Attach(h bus.Handler) { b.h.Store(&h) }

func (b *Bus) handler() bus.Handler {
	if h := b.h.Load(); h != nil {
		return *h
	}
	return nil
}

// OnInvalidate registers fn for the invalidations of other nodes.
func (b *Bus) OnInvalidate(fn func(bus.Invalidation)) {
	b.invalMu.Lock()
	b.onInval = append(b.onInval, fn)
	b.invalMu.Unlock()
}

func (b *Bus) invalidateLocal(inv bus.Invalidation) {
	b.invalMu.RLock()
	fns := b.onInval
	b.invalMu.RUnlock()
	for _, fn := range fns {
		fn(inv)
	}
}

// Close stops the node's work and closes the connection (its subscriptions
// end with it, and the other nodes drop its devices after NodeTimeout).
func (b *Bus) Close() error {
	select {
	case <-b.stop:
		return nil
	default:
	}
	close(b.stop)
	b.closing.Store(true)
	b.sending.Wait() // what was queued goes out first
	b.nc.Close()
	b.done.Wait()
	return nil
}

func (b *Bus) dropped() {
	if b.cfg.Metrics.Dropped != nil {
		b.cfg.Metrics.Dropped()
	}
}

func (b *Bus) published(n int) {
	if b.cfg.Metrics.Published != nil && n > 0 {
		b.cfg.Metrics.Published(n)
	}
}

func userSubject(app int64, user string) string {
	return prefixUser + strconv.FormatInt(app, 10) + "." + hex.EncodeToString([]byte(user))
}

func groupSubject(app int64, group string) string {
	return prefixGroup + strconv.FormatInt(app, 10) + "." + hex.EncodeToString([]byte(group))
}

// parseSubject reads the app and id of a user or group subject.
func parseSubject(subj, prefix string) (int64, string, bool) {
	if len(subj) <= len(prefix) || subj[:len(prefix)] != prefix {
		return 0, "", false
	}
	rest := subj[len(prefix):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			app, err := strconv.ParseInt(rest[:i], 10, 64)
			if err != nil {
				return 0, "", false
			}
			id, err := hex.DecodeString(rest[i+1:])
			if err != nil || len(id) == 0 {
				return 0, "", false
			}
			return app, string(id), true
		}
	}
	return 0, "", false
}

func ctxTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
