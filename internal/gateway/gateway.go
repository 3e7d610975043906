// Package gateway is the WebSocket edge for end-user devices: login with a UserSig,
// sending, syncing, read reports, recall and live delivery to every device of a user.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// Limits of the protocol.
const (
	LoginTimeout   = 10 * time.Second
	IdleTimeout    = 120 * time.Second // no frame (ping included) for this long ends the session
	WriteTimeout   = 10 * time.Second
	MaxFrameBytes  = 64 * 1024
	MaxQueueFrames = 4096 // a device this far behind is disconnected and must resync
	// MaxSendsInFlight bounds the sends of one session submitted and not yet
	// answered: a device may pipeline this many; past it, the gateway reads the
	// connection's next frame only once the oldest of them is answered.
	MaxSendsInFlight = 256
	// MaxSyncReplyBytes bounds one sync reply: a page stops before the entry that
	// would pass it (complete false; one entry always fits), so a page of 500
	// large messages comes in several replies.
	MaxSyncReplyBytes = 1 << 20
)

// Defaults of Limits.
const (
	DefaultQueueBytes      = 8 << 20 // a device this many bytes behind is disconnected and must resync
	DefaultNodeQueueBytes  = 1 << 30 // all devices of this node together
	DefaultSessionsPerUser = 32
	DefaultSessionsPerApp  = 100_000
)

// Platforms a device may log in from.
var Platforms = map[string]bool{
	"iOS": true, "Android": true, "Web": true, "Windows": true, "Mac": true,
	"iPad": true, "Linux": true, "Unknown": true,
}

// Metrics are the gateway's observability hooks; nil fields are skipped.
type Metrics struct {
	Connections func(delta int)
	Frames      func(op string)
	// QueuedBytes reports changes of the bytes queued for devices and not yet
	// written. It is called with the session's lock held: keep it cheap.
	QueuedBytes func(delta int)
	// LiveRoomDropped counts live-room frames dropped for a device that is
	// behind (groups.go). Called with the session's lock held: keep it cheap.
	LiveRoomDropped func()
}

// Limits bound what devices may cost this node. Zero fields take the defaults.
type Limits struct {
	// WriteTimeout: a frame not written within this time ends the session.
	WriteTimeout time.Duration
	// QueueBytes caps the bytes of frames waiting to be written to one device
	// (sync replies and pushed entries); a device that passes it is disconnected
	// with close code 1013 and resyncs. At least MaxSyncReplyBytes is sensible.
	QueueBytes int
	// NodeQueueBytes caps the bytes queued for all devices of this node together,
	// so that many slow devices cannot add up what one may not: a frame that
	// would pass it disconnects its device (close code 1013) instead.
	NodeQueueBytes int64
	// SessionsPerUser caps the sessions of one user on this node; a login
	// beyond it is refused with 60018.
	SessionsPerUser int
	// SessionsPerApp caps the sessions of one app on this node; a login beyond
	// it is refused with 60011.
	SessionsPerApp int
	// NodeSubscriptions caps the user status subscriptions held on this node
	// (all users together); a subscribe beyond it is refused with 60011.
	NodeSubscriptions int
}

func (l Limits) withDefaults() Limits {
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = WriteTimeout
	}
	if l.QueueBytes <= 0 {
		l.QueueBytes = DefaultQueueBytes
	}
	if l.NodeQueueBytes <= 0 {
		l.NodeQueueBytes = DefaultNodeQueueBytes
	}
	if l.SessionsPerUser <= 0 {
		l.SessionsPerUser = DefaultSessionsPerUser
	}
	if l.SessionsPerApp <= 0 {
		l.SessionsPerApp = DefaultSessionsPerApp
	}
	if l.NodeSubscriptions <= 0 {
		l.NodeSubscriptions = DefaultNodeSubscriptions
	}
	return l
}

// Config is what a gateway needs. Tenants, IM, Bus and Logger are required;
// Limits and Metrics are optional (zero values: defaults, no hooks).
type Config struct {
	Tenants *tenant.Service
	IM      *im.Service
	// Bus is the one im publishes to: the gateway attaches to it as this node's
	// delivery end and tells it which users have devices here.
	Bus     bus.Bus
	Logger  *slog.Logger
	Limits  Limits
	Metrics Metrics
}

// Gateway accepts device connections and delivers their users' log entries.
type Gateway struct {
	tenants *tenant.Service
	im      *im.Service
	bus     bus.Bus
	log     *slog.Logger
	metrics Metrics

	limits Limits
	hub    hub
	status statusHub
	apps   appCache
	queued atomic.Int64 // bytes queued for all devices of this node

	appChecks    pending[int64]   // apps another node changed: end their sessions if they no longer serve
	remoteStatus pending[userKey] // users whose devices on other nodes changed (status.go)
	resyncs      pending[int64]   // apps whose sessions are checked after a bus reconnect (resync.go)
	notifyLocks  notifyLocks      // one status notice of a user at a time (status.go)
}

// New returns a gateway attached to cfg.Bus. It panics when a required
// dependency is missing (a wiring error).
func New(cfg Config) *Gateway {
	if cfg.Tenants == nil || cfg.IM == nil || cfg.Bus == nil || cfg.Logger == nil {
		panic("gateway.New: tenants, im, bus and logger are required")
	}
	g := &Gateway{tenants: cfg.Tenants, im: cfg.IM, bus: cfg.Bus, log: cfg.Logger, metrics: cfg.Metrics,
		limits: cfg.Limits.withDefaults()}
	g.hub.shards = make([]hubShard, 64)
	for i := range g.hub.shards {
		g.hub.shards[i].users = map[userKey][]*session{}
	}
	g.hub.apps = map[int64]int{}
	cfg.Bus.OnInvalidate(g.onInvalidate)
	cfg.Bus.Attach(g)
	return g
}

// onInvalidate handles another node's invalidations (the bus calls it; it
// must not block): a changed app is read again, and its sessions here end at
// once when it no longer serves; after InvAll every app is read again and
// every session here is checked and told its log head (resync.go).
func (g *Gateway) onInvalidate(inv bus.Invalidation) {
	switch inv.Kind {
	case bus.InvApp:
		g.apps.forget(inv.App)
		g.appChecks.add(inv.App, g.checkApp)
	case bus.InvAll:
		g.apps.clear()
		g.hub.appsMu.Lock()
		ids := make([]int64, 0, len(g.hub.apps))
		for id := range g.hub.apps {
			ids = append(ids, id)
		}
		g.hub.appsMu.Unlock()
		for _, id := range ids {
			g.resyncs.add(id, g.resyncApp) // the app, then its sessions (resync.go)
		}
	}
}

func (g *Gateway) checkApp(id int64) { g.endIfInactive(context.Background(), id, g.sessionsOf(id)) }

// AppChanged tells the gateway that the app's status, edition or add-ons
// changed on this node (committed): its cached copy is read again and, when
// the app no longer serves (suspended, deleted, repossessed), its sessions
// here end at once with a "kicked" frame. The other nodes learn of it by the
// bus (bus.InvApp), which the caller publishes.
func (g *Gateway) AppChanged(ctx context.Context, id int64) {
	g.apps.forget(id)
	g.endIfInactive(ctx, id, g.sessionsOf(id))
}

// sessionsOf returns the sessions of the app on this node.
func (g *Gateway) sessionsOf(id int64) []*session {
	var out []*session
	for i := range g.hub.shards {
		sh := &g.hub.shards[i]
		sh.mu.RLock()
		for k, ss := range sh.users {
			if k.app == id {
				out = append(out, ss...)
			}
		}
		sh.mu.RUnlock()
	}
	return out
}

// ServeHTTP upgrades the request to a WebSocket session.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Devices authenticate with a UserSig, not with cookies, so any origin may connect.
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the HTTP request
	}
	c.SetReadLimit(MaxFrameBytes)
	s := &session{gw: g, conn: c}
	// Pongs go through the session's queue: the flusher is then the connection's
	// only writer until it is closed, and no other write changes its deadline.
	c.SetPingHandler(func(data string) error {
		s.push(outFrame{b: []byte(data), pong: true})
		return nil
	})
	s.caller = callback.Caller{IP: remoteIP(r.RemoteAddr)}
	if !s.login(callback.WithCaller(r.Context(), s.caller)) {
		c.Close()
		return
	}
	// The connection is hijacked: net/http is done with it. The session's reads go on
	// in a fresh goroutine, and this one, whose stack grew through the HTTP request
	// and the login, ends; an idle device then costs one small goroutine.
	go s.run(callback.WithCaller(context.Background(), s.caller))
}

// remoteIP is the address of a request's peer without its port.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// optPlatform is the OptPlatform of a device's login platform (Linux, which
// the reference does not name, is Unknown).
func optPlatform(p string) string {
	switch p {
	case callback.PlatformWeb, callback.PlatformAndroid, callback.PlatformIOS, callback.PlatformWindows,
		callback.PlatformMac, callback.PlatformIPad:
		return p
	}
	return callback.PlatformUnknown
}

// Deliver hands deliveries from the bus to the devices connected here. It never blocks.
func (g *Gateway) Deliver(ds []bus.Delivery) {
	for i := range ds {
		d := &ds[i]
		if d.Kind == bus.KindGroup {
			g.deliverGroup(d) // one delivery for all its recipients (groups.go)
			continue
		}
		sessions := g.hub.get(userKey{d.App, d.User})
		if len(sessions) == 0 {
			continue
		}
		switch d.Kind {
		case bus.KindEntry:
			deliverEntry(d, sessions)
		case bus.KindProfile:
			deliverProfile(d, sessions)
		case bus.KindNotice:
			deliverNotice(d, sessions)
		case bus.KindConv:
			deliverConv(d, sessions) // conversations.go
		case bus.KindKick:
			kick(sessions, d.Reason)
		}
	}
}

// deliverEntry encodes d's entry once and queues the same bytes for every device
// of the user; the device the entry came from (d.Origin) gets it inside the reply
// to its send instead, in the same place of its stream, so that it sees its log
// in seq order.
func deliverEntry(d *bus.Delivery, sessions []*session) {
	entry := encodeEntry(d.Entry)
	var push []byte
	for _, s := range sessions {
		if d.Origin.ConnID != "" && s.connID == d.Origin.ConnID {
			s.acked(d.Origin.Token, sendAck(d.Origin.RequestID, d.Entry, entry))
			continue
		}
		if push == nil {
			push = entryFrame(entry)
		}
		s.enqueue(push)
	}
}

// EndInactiveApps ends the sessions of apps that were suspended or deleted since
// their devices logged in, with a "kicked" frame that says why. Sessions check
// their app on every frame; this catches the idle ones.
func (g *Gateway) EndInactiveApps(ctx context.Context) {
	byApp := map[int64][]*session{}
	for i := range g.hub.shards {
		sh := &g.hub.shards[i]
		sh.mu.RLock()
		for k, ss := range sh.users {
			byApp[k.app] = append(byApp[k.app], ss...)
		}
		sh.mu.RUnlock()
	}
	for id, sessions := range byApp {
		g.endIfInactive(ctx, id, sessions)
	}
}

// endIfInactive ends sessions, the app's, when the app no longer serves.
func (g *Gateway) endIfInactive(ctx context.Context, id int64, sessions []*session) {
	if len(sessions) == 0 {
		return
	}
	app, err := g.apps.get(ctx, g.tenants, id)
	if errors.Is(err, errs.ErrNotFound) {
		app = store.App{SDKAppID: id, Status: store.StatusDeleted}
	} else if err != nil {
		return // the store is unreachable: WatchApps tries again on its next round
	}
	gateErr := g.im.AppActive(app)
	if gateErr == nil {
		return
	}
	frame, _ := json.Marshal(Frame{Op: OpKicked, Code: errs.CodeOf(gateErr), Reason: errMessage(gateErr)})
	for _, s := range sessions {
		s.enqueue(frame)
		s.closeAfterFlush(websocket.ClosePolicyViolation, "app inactive")
	}
}

// WatchApps runs EndInactiveApps every appRefresh until ctx ends, so a suspended
// or deleted app loses its connected devices within about twice that time even
// when the change was not announced (AppChanged, bus.InvApp): a safety net.
func (g *Gateway) WatchApps(ctx context.Context) {
	t := time.NewTicker(appRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.EndInactiveApps(ctx)
		}
	}
}

// Devices reports the devices of a user connected to this node, and its
// mobile devices disconnected without logging out (Status PushOnline, status.go).
func (g *Gateway) Devices(app int64, user string) []bus.Device {
	sessions := g.hub.get(userKey{app, user})
	out := make([]bus.Device, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, bus.Device{Platform: s.platform, ConnID: s.connID})
	}
	for _, d := range g.localPushOnline(userKey{app, user}) {
		out = append(out, bus.Device{Platform: d.Platform, Status: d.Status})
	}
	return out
}

// CloseAll ends every session (graceful shutdown): devices reconnect elsewhere and resync.
func (g *Gateway) CloseAll() {
	for i := range g.hub.shards {
		sh := &g.hub.shards[i]
		sh.mu.Lock()
		var all []*session
		for _, ss := range sh.users {
			all = append(all, ss...)
		}
		sh.mu.Unlock()
		for _, s := range all {
			s.closeNow(websocket.CloseGoingAway, "server shutting down")
		}
	}
}

type userKey struct {
	app  int64
	user string
}

// hub indexes the sessions of this node by user, sharded to keep lock contention
// low, and counts them per app. Lock order: a shard, then appsMu.
type hub struct {
	shards []hubShard
	appsMu sync.Mutex
	apps   map[int64]int // sessions per app
}

type hubShard struct {
	mu    sync.RWMutex
	users map[userKey][]*session
}

func (h *hub) shard(k userKey) *hubShard {
	x := maphash.String(hubSeed, k.user) ^ uint64(k.app)
	return &h.shards[x%uint64(len(h.shards))]
}

var hubSeed = maphash.MakeSeed()

func (h *hub) get(k userKey) []*session {
	sh := h.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.users[k]
}

// add registers s unless the user or the app has lim's number of sessions, and
// reports whether it is the user's first session on this node. With
// replacePlatform, the user's sessions on s's platform are unregistered in the
// same step and returned (the caller ends them): two concurrent logins on one
// platform then leave exactly one session.
func (h *hub) add(k userKey, s *session, lim Limits, replacePlatform bool) (bool, []*session, error) {
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.users[k]
	var replaced []*session
	if replacePlatform {
		old, replaced = splitPlatform(old, s.platform)
	}
	if len(old) >= lim.SessionsPerUser {
		return false, nil, errs.New(errs.SessionsPerUser, "user %q has %d sessions, the most allowed; end one first", k.user, lim.SessionsPerUser)
	}
	h.appsMu.Lock()
	full := h.apps[k.app]-len(replaced) >= lim.SessionsPerApp
	if !full {
		h.apps[k.app] += 1 - len(replaced)
	}
	h.appsMu.Unlock()
	if full {
		return false, nil, errs.New(errs.SessionsPerApp, "app %d has %d sessions on this node, the most allowed", k.app, lim.SessionsPerApp)
	}
	// Copy on write: Deliver iterates slices without holding the lock.
	next := make([]*session, 0, len(old)+1)
	next = append(next, old...)
	sh.users[k] = append(next, s)
	return len(old) == 0 && len(replaced) == 0, replaced, nil
}

// remove unregisters s and reports whether the user has no session left here.
func (h *hub) remove(k userKey, s *session) bool {
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.users[k]
	next := make([]*session, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	if len(next) < len(old) { // s was registered (a replaced session is removed twice)
		h.appsMu.Lock()
		if h.apps[k.app]--; h.apps[k.app] <= 0 {
			delete(h.apps, k.app)
		}
		h.appsMu.Unlock()
	}
	if len(next) == 0 {
		delete(sh.users, k)
		return len(old) > 0
	}
	sh.users[k] = next
	return false
}

func newConnID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errQueueFull = errors.New("device is too slow")

// upgrader accepts device connections. Devices authenticate with a UserSig, not
// with cookies, so any origin may connect. Buffers are small and the write buffer
// is pooled, held only while a frame is being written: idle devices are the common
// case and should cost little memory.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true },
}

// closeNow sends a close frame (safe from any goroutine) and closes the connection.
func (s *session) closeNow(code int, why string) {
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(time.Second))
	s.conn.Close()
}

// session is one connected device. Its login is read on the HTTP handler's
// goroutine, its frames after that on one of its own (run); writes are queued and
// flushed by a goroutine that exists only while there is something to write, so
// an idle connection costs one goroutine.
type session struct {
	gw       *Gateway
	conn     *websocket.Conn
	app      store.App // refreshed by the read goroutine only
	appID    int64
	user     string
	platform string
	connID   string
	loginAt  time.Time       // the clock just before the login was checked (resync.go)
	sigTime  int64           // when its UserSig was made (TLS.time, Unix seconds)
	caller   callback.Caller // the device's address and OptPlatform, for app callbacks

	// sends holds a token per send in flight (MaxSendsInFlight): taken by the
	// read goroutine, given back when the writer answers. sendNo numbers the
	// sends (read goroutine only); ackSent, under mu, has bit sendNo mod
	// MaxSendsInFlight set while Deliver has answered that send and its writer
	// callback has not yet run.
	sends   chan struct{}
	sendNo  uint64
	ackSent [MaxSendsInFlight / 64]uint64

	mu        sync.Mutex
	queue     []outFrame
	queued    int // bytes in queue and in the flusher's hands, not yet written
	writing   bool
	closing   bool
	closeCode int
	closeWhy  string

	// syncWritten is closed once the last sync reply is written or dropped;
	// only the read goroutine uses it.
	syncWritten chan struct{}
}

// outFrame is a frame waiting to be written; written, when set, is closed once
// it has been written or dropped.
type outFrame struct {
	b       []byte
	written chan struct{}
	pong    bool // a pong control frame (b is its payload), else a text frame
	live    bool // a live-room frame: dropped when the device is behind (groups.go)
}

func (f outFrame) done() {
	if f.written != nil {
		close(f.written)
	}
}

// run reads and handles the frames of a logged-in device until the connection ends.
func (s *session) run(ctx context.Context) {
	defer s.conn.Close()
	key := userKey{s.appID, s.user}
	var readErr error
	defer func() {
		last := s.gw.hub.remove(key, s)
		if last {
			s.gw.bus.Unsubscribe(key.app, key.user)
		}
		// A logout: the device closed, or the server ended the session on purpose.
		s.mu.Lock()
		clean := cleanClose(readErr) || s.closeCode != 0
		s.mu.Unlock()
		s.gw.status.loggedOut(s, last, clean)
		action, reason := im.StateLogout, im.ReasonUnregister
		if !clean {
			action, reason = im.StateDisconnect, im.ReasonLinkClose
			if ne, ok := readErr.(net.Error); ok && ne.Timeout() {
				reason = im.ReasonTimeOut
			}
		}
		s.gw.im.StateChanged(ctx, key.app, key.user, action, reason, nil)
		// Gone, or dropped to PushOnline; a replaced session's end says it again.
		s.gw.bus.DevicesChanged(key.app, key.user)
		if s.gw.metrics.Connections != nil {
			s.gw.metrics.Connections(-1)
		}
	}()
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(IdleTimeout))
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			readErr = err
			return
		}
		if typ != websocket.TextMessage {
			s.reply(Frame{Op: OpError, Code: errs.InvalidParameters, Message: "frames are JSON text"})
			continue
		}
		f, bad := decodeFrame(data)
		if bad != nil {
			s.reply(*bad)
			continue
		}
		if s.gw.metrics.Frames != nil {
			s.gw.metrics.Frames(f.Op)
		}
		s.handle(ctx, f)
	}
}

// login waits for the login frame and admits the device.
func (s *session) login(ctx context.Context) bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(LoginTimeout))
	typ, data, err := s.conn.ReadMessage()
	if err != nil {
		return false
	}
	f, bad := decodeFrame(data)
	if bad != nil {
		bad.Op = OpLogin
		s.refuse(*bad)
		return false
	}
	if typ != websocket.TextMessage || f.Op != OpLogin {
		s.refuse(Frame{Op: OpLogin, Code: errs.InvalidParameters, Message: "the first frame must be a JSON login frame"})
		return false
	}
	fail := func(err error) bool {
		s.refuse(s.errFrame(OpLogin, f.ID, err))
		return false
	}
	if !Platforms[f.Platform] {
		return fail(errs.New(errs.InvalidParameters, "platform %q is not one of iOS, Android, Web, Windows, Mac, iPad, Linux, Unknown", f.Platform))
	}
	if err := im.ValidUserID(f.User); err != nil {
		return fail(err)
	}
	app, err := s.gw.apps.get(ctx, s.gw.tenants, f.SDKAppID)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return fail(errs.New(errs.AppNotFound, "SDKAppID %d does not exist", f.SDKAppID))
		}
		return fail(errs.Hidden(err))
	}
	s.loginAt = s.gw.tenants.Clock.Now()
	if s.sigTime, err = s.gw.im.LoginSig(ctx, app, f.User, f.UserSig); err != nil {
		return fail(err)
	}
	s.app, s.appID, s.user, s.platform, s.connID = app, app.SDKAppID, f.User, f.Platform, newConnID()
	s.caller.Platform = optPlatform(f.Platform)
	ctx = callback.WithCaller(ctx, s.caller)
	key := userKey{app.SDKAppID, f.User}
	// Register before reading the newest seq so no entry falls between the two.
	// An edition without concurrent logins on one platform keeps only the newest
	// device: the hub swaps it in for the older ones atomically (replace.go).
	first, replaced, err := s.gw.hub.add(key, s, s.gw.limits, !s.gw.im.AllowsSamePlatformDevices(app))
	if err != nil {
		return fail(err)
	}
	endReplaced(replaced, f.Platform)
	var kicked []string
	for range replaced {
		kicked = append(kicked, s.caller.Platform)
	}
	s.gw.im.StateChanged(ctx, app.SDKAppID, f.User, im.StateLogin, im.ReasonRegister, kicked)
	if first {
		s.gw.bus.Subscribe(key.app, key.user)
	}
	s.gw.status.loggedIn(s, first)
	s.gw.bus.DevicesChanged(key.app, key.user) // the other nodes' status answers (status.go)
	if s.gw.metrics.Connections != nil {
		s.gw.metrics.Connections(1)
	}
	seq, err := s.gw.im.LastSeq(ctx, app, f.User)
	if err != nil {
		s.reply(s.errFrame(OpLogin, f.ID, err))
		return true
	}
	caps := s.gw.im.Capabilities(app)
	s.reply(Frame{Op: OpLogin, ID: f.ID, User: f.User, ConnID: s.connID, Seq: seq, Edition: caps.Edition, Features: caps.Features})
	return true
}

func (s *session) handle(ctx context.Context, f Frame) {
	svc := s.gw.im
	var err error
	r := Frame{Op: f.Op, ID: f.ID}
	// The app may have been suspended or deleted since the login.
	if app, aerr := s.gw.apps.get(ctx, s.gw.tenants, s.appID); aerr == nil {
		s.app = app
	} else if errors.Is(aerr, errs.ErrNotFound) {
		s.app.Status = store.StatusDeleted
	}
	if err := svc.AppActive(s.app); err != nil {
		// The frame gets its error, and the device the same "kicked" notice an idle one
		// gets from EndInactiveApps, whichever of its requests is refused first.
		s.reply(s.errFrame(f.Op, f.ID, err))
		s.reply(Frame{Op: OpKicked, Code: errs.CodeOf(err), Reason: errMessage(err)})
		s.closeAfterFlush(websocket.ClosePolicyViolation, "app inactive")
		return
	}
	switch f.Op {
	case OpPing:
		r.Op = OpPong
	case OpSend:
		if err = im.DeviceClientID(f.ClientMsgID); err == nil {
			s.send(ctx, f)
			return
		}
	case OpSync:
		s.sync(ctx, f)
		return
	case OpRead:
		err = svc.MarkRead(ctx, s.app, s.user, f.Peer, f.Time)
	case OpRecall:
		err = svc.Recall(ctx, s.app, s.user, f.Peer, f.MsgKey, false)
	case OpSetStatus:
		err = s.setStatus(ctx, f)
	case OpSubscribe:
		if err = s.subscribeStatus(ctx, f); err == nil {
			return // replied
		}
	case OpUnsubscribe:
		err = s.unsubscribeStatus(f)
	case OpLogin:
		err = errs.New(errs.InvalidParameters, "already logged in")
	default:
		if sr, ok := s.handleSNS(ctx, f); ok { // friend requests (sns.go)
			s.reply(sr)
			return
		}
		if s.handleConv(ctx, f) { // conversations.go
			return
		}
		if s.handleGroup(ctx, f) { // group_ops.go
			return
		}
		err = errs.New(errs.InvalidParameters, "unknown op %q", f.Op)
	}
	if err != nil {
		r = s.errFrame(f.Op, f.ID, err)
	}
	s.reply(r)
}

// send submits a message without waiting for it to be durable, so the device's
// next frames are read meanwhile; the reply comes by id once it is. A message
// with a sender copy is answered by Deliver with that copy (sendAck), in the
// device's stream where its push would have been; any other outcome (an error,
// a duplicate) here.
func (s *session) send(ctx context.Context, f Frame) {
	if s.sends == nil { // made on the first send: an idle device does not pay for it
		s.sends = make(chan struct{}, MaxSendsInFlight)
	}
	s.sends <- struct{}{}
	s.sendNo++
	id, clientID, token := f.ID, f.ClientMsgID, s.sendNo
	req := im.SendRequest{From: s.user, To: f.To, ClientID: f.ClientMsgID, Body: f.Body, CloudCustomData: f.CloudCustomData}
	s.gw.im.SendAsync(ctx, s.app, req, bus.Origin{ConnID: s.connID, RequestID: id, Token: token}, func(res im.SendResult, err error) {
		answered := s.takeAcked(token)
		<-s.sends // after takeAcked: the bit may then be reused
		switch {
		case err != nil:
			s.reply(s.errFrame(OpSend, id, err))
		case answered:
		default: // a duplicate, no sender copy, or its delivery was lost
			s.reply(Frame{Op: OpSend, ID: id, MsgKey: res.MsgKey, MsgTime: res.MsgTime, Seq: res.Seq, Duplicate: res.Duplicate, ClientMsgID: clientID})
		}
	})
}

// acked queues Deliver's answer to send number token and notes that it did.
func (s *session) acked(token uint64, frame []byte) {
	i := token % MaxSendsInFlight
	s.mu.Lock()
	s.ackSent[i/64] |= 1 << (i % 64)
	s.mu.Unlock()
	s.enqueue(frame)
}

// takeAcked reports whether Deliver answered send number token, and forgets it.
// At most MaxSendsInFlight sends are in flight, so the bit is this send's.
func (s *session) takeAcked(token uint64) bool {
	i := token % MaxSendsInFlight
	bit := uint64(1) << (i % 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.ackSent[i/64]&bit != 0
	s.ackSent[i/64] &^= bit
	return was
}

// errFrame is the reply to a failed request. An internal failure is logged and
// answered without its text, which may come from the storage layer.
func (s *session) errFrame(op, id string, err error) Frame {
	if errs.CodeOf(err) == errs.Internal {
		s.gw.log.Error("device request failed", "op", op, "app", s.appID, "user", s.user, "err", err)
	}
	return Frame{Op: op, ID: id, Code: errs.CodeOf(err), Message: errMessage(err)}
}

// errMessage is the client-visible text of err: never storage text.
func errMessage(err error) string { return errs.Message(err) }

// decodeFrame applies the input rule to a raw frame (before decoding, which would
// turn invalid UTF-8 into U+FFFD) and decodes it. On failure it returns the error
// reply (60003), which repeats the frame's op and id when they can be read, so a
// client waiting for that id gets its answer; the message names JSON types, never
// Go ones.
func decodeFrame(data []byte) (Frame, *Frame) {
	var f Frame
	err := input.JSON(data)
	if err == nil {
		if scanFrame(data, &f) {
			return f, nil
		}
		f = Frame{}
		// Unmarshal goes on past a field of the wrong type, so op and id are read.
		err = json.Unmarshal(data, &f)
	} else {
		_ = json.Unmarshal(data, &f)
	}
	if err == nil {
		return f, nil
	}
	if f.Op == "" || input.Identifier(f.Op, 64) != nil || input.Text(f.ID) != nil {
		f.Op, f.ID = OpError, ""
	}
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	msg := "frame: " + err.Error()
	switch {
	case errors.As(err, &typ) && typ.Field == "":
		msg = fmt.Sprintf("a frame must be a JSON object, not %s", typ.Value)
	case errors.As(err, &typ):
		msg = fmt.Sprintf("frame field %s must be %s, not %s", wireField(typ.Field), input.JSONKind(typ.Type), typ.Value)
	case errors.As(err, &syn):
		msg = fmt.Sprintf("frame is not valid JSON (at byte %d)", syn.Offset)
	}
	return Frame{}, &Frame{Op: f.Op, ID: f.ID, Code: errs.JSONParse, Message: msg}
}

// wireField is a field path of an UnmarshalTypeError as the frame spells it:
// encoding/json puts the Go names of embedded structs in the path (e.g.
// "ConvFields.set_mark"); the wire names are all lower case.
func wireField(path string) string {
	parts := strings.Split(path, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

func (s *session) reply(f Frame) {
	s.push(outFrame{b: s.encode(f)})
}

func (s *session) encode(f Frame) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		b, _ = json.Marshal(Frame{Op: f.Op, ID: f.ID, Code: errs.Internal, Message: "could not encode reply"})
	}
	return b
}

// sync answers a sync request with at most MaxSyncReplyBytes. One sync is in
// flight per session: the next is read only once the previous reply is written,
// so a device that asks faster than it reads holds one reply, not thousands.
func (s *session) sync(ctx context.Context, f Frame) {
	if s.syncWritten != nil {
		<-s.syncWritten
	}
	entries, complete, err := s.gw.im.Sync(ctx, s.app, s.user, f.After, f.Limit)
	if err != nil {
		s.reply(s.errFrame(f.Op, f.ID, err))
		return
	}
	s.syncWritten = make(chan struct{})
	s.push(outFrame{b: syncReply(f.ID, entries, complete), written: s.syncWritten})
}

// syncReply is the reply to sync request id: the bytes json.Marshal gives for
// Frame{Op: OpSync, ID: id, Entries: ..., Complete: ...}, assembled from one
// encoding of each entry. It holds at most MaxSyncReplyBytes (at least one
// entry): when entries do not all fit, the reply says it is not complete.
func syncReply(id string, entries []store.Entry, complete bool) []byte {
	const tail = `],"complete":true}`
	head, _ := json.Marshal(Frame{Op: OpSync, ID: id})
	b := append([]byte(nil), head[:len(head)-1]...) // without its closing brace
	n := 0
	for i := range entries {
		e := encodeEntry(&entries[i])
		if n > 0 && len(b)+1+len(e)+len(tail) > MaxSyncReplyBytes {
			complete = false
			break
		}
		if n == 0 {
			b = append(b, `,"entries":[`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, e...)
		n++
	}
	if n > 0 {
		b = append(b, ']')
	}
	if complete {
		b = append(b, `,"complete":true`...)
	}
	return append(b, '}')
}

// refuse answers a failed login and closes the connection.
func (s *session) refuse(f Frame) {
	b, _ := json.Marshal(f)
	_ = s.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
	_ = s.conn.WriteMessage(websocket.TextMessage, b)
	s.closeNow(websocket.ClosePolicyViolation, "login refused")
}

// enqueue adds a frame to the device's queue and starts a flusher if none runs.
func (s *session) enqueue(frame []byte) { s.push(outFrame{b: frame}) }

// push queues f. A device with MaxQueueFrames frames or Limits.QueueBytes bytes
// not yet written, or whose frame would take the node past
// Limits.NodeQueueBytes, is disconnected (close code 1013): it reconnects and
// syncs.
func (s *session) push(f outFrame) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		f.done()
		return
	}
	if f.live && (len(s.queue) >= MaxLiveQueueFrames || s.queued+len(f.b) > s.gw.limits.QueueBytes/2) {
		if s.gw.metrics.LiveRoomDropped != nil {
			s.gw.metrics.LiveRoomDropped()
		}
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= MaxQueueFrames || s.queued+len(f.b) > s.gw.limits.QueueBytes ||
		s.gw.queued.Load()+int64(len(f.b)) > s.gw.limits.NodeQueueBytes {
		s.closing = true
		s.mu.Unlock()
		f.done()
		s.gw.log.Warn("disconnecting slow device", "app", s.appID, "user", s.user, "err", errQueueFull)
		// Not on the caller's goroutine: Deliver must not wait for a slow device.
		go s.closeNow(websocket.CloseTryAgainLater, "too slow; reconnect and sync")
		return
	}
	s.queue = append(s.queue, f)
	s.queued += len(f.b)
	s.gw.queued.Add(int64(len(f.b)))
	s.queuedBytes(len(f.b))
	start := !s.writing
	s.writing = true
	s.mu.Unlock()
	if start {
		go s.flush()
	}
}

// closeAfterFlush closes the connection once the queued frames are written.
func (s *session) closeAfterFlush(code int, why string) {
	s.mu.Lock()
	s.closeCode, s.closeWhy = code, why
	s.closing = true
	idle := !s.writing
	s.mu.Unlock()
	if idle {
		s.closeNow(code, why)
	}
}

// flush writes the queue until it is empty. Each round takes every frame queued
// so far and writes them together (writeFrames), so a busy device costs one
// write call per round, not one per frame.
func (s *session) flush() {
	var batch []outFrame
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.writing = false
			closing, code, why := s.closing, s.closeCode, s.closeWhy
			s.mu.Unlock()
			if closing && code != 0 {
				s.closeNow(code, why)
			}
			return
		}
		batch, s.queue = s.queue, batch[:0]
		s.mu.Unlock()
		err := s.writeFrames(batch)
		s.written(batch)
		clear(batch)
		if err != nil {
			s.mu.Lock()
			dropped := s.queue
			s.queue, s.writing, s.closing = nil, false, true
			s.mu.Unlock()
			s.written(dropped)
			s.conn.Close()
			return
		}
	}
}

// Coalesced writes.
const (
	// writeChunk is how many bytes of frames writeFrames gathers before a write call.
	writeChunk = 64 << 10
	// maxPooledChunk: a buffer grown past this (by a large sync reply) is not kept.
	maxPooledChunk = 256 << 10
)

var chunks = sync.Pool{New: func() any { b := make([]byte, 0, writeChunk+4<<10); return &b }}

// writeFrames writes frames as WebSocket frames, as many per write call as fit
// in writeChunk bytes. It frames them itself, on the connection under the
// WebSocket library, so that several frames share one write call: only this
// goroutine writes data frames and pongs (one flusher at a time); the library
// writes only the close frame, in a single write call, which net.Conn and
// tls.Conn never interleave with another write call's bytes.
func (s *session) writeFrames(frames []outFrame) error {
	bp := chunks.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledChunk {
			*bp = buf[:0]
			chunks.Put(bp)
		}
	}()
	nc := s.conn.NetConn()
	write := func() error {
		_ = nc.SetWriteDeadline(time.Now().Add(s.gw.limits.WriteTimeout))
		_, err := nc.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, f := range frames {
		op := byte(websocket.TextMessage)
		if f.pong {
			op = websocket.PongMessage
		}
		buf = appendFrame(buf, op, f.b)
		if len(buf) >= writeChunk {
			if err := write(); err != nil {
				return err
			}
		}
	}
	if len(buf) == 0 {
		return nil
	}
	return write()
}

// appendFrame appends payload as one unmasked, final frame of opcode op (RFC
// 6455 section 5.2; a server's frames are not masked).
func appendFrame(b []byte, op byte, payload []byte) []byte {
	const fin = 0x80
	switch n := len(payload); {
	case n < 126:
		b = append(b, fin|op, byte(n))
	case n <= 0xFFFF:
		b = append(b, fin|op, 126, byte(n>>8), byte(n))
	default:
		b = append(b, fin|op, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// written accounts for frames leaving the queue, written or dropped.
func (s *session) written(frames []outFrame) {
	n := 0
	for _, f := range frames {
		n += len(f.b)
	}
	s.mu.Lock()
	s.queued -= n
	s.gw.queued.Add(int64(-n))
	s.queuedBytes(-n)
	s.mu.Unlock()
	for _, f := range frames {
		f.done()
	}
}

func (s *session) queuedBytes(delta int) {
	if s.gw.metrics.QueuedBytes != nil {
		s.gw.metrics.QueuedBytes(delta)
	}
}
