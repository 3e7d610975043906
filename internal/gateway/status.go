package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"hash/maphash"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// User status (docs/protocol.md "User status"): which users are online, which
// mobile devices dropped their connection without logging out (PushOnline,
// the reference's "disconnected"), who is subscribed to whom, and the live
// status notices. Subscriptions and this node's devices are kept here; a
// status answer adds the user's devices on the other nodes
// (bus.RemoteDevices), and a change of those (RemoteDevicesChanged) reaches
// this node's subscribers, so that status is cluster-wide on a cluster bus.
// Lock order: a user's notifyLocks stripe, then the bus's own locks
// (RemoteDevices, called without statusHub.mu), then statusHub.mu. The bus
// is never called with statusHub.mu held: its DevicesChanged asks Devices.

// Bounds of user status on one node.
const (
	// DefaultNodeSubscriptions caps the status subscriptions held on this node
	// (all users together); a subscribe beyond it is refused with 60011.
	DefaultNodeSubscriptions = 1_000_000
	// PushOnlineFor is how long a mobile device that lost its connection without
	// logging out counts as PushOnline (the reference: 7 days, then Offline).
	PushOnlineFor = 7 * 24 * time.Hour
	// maxGoneDevices bounds the disconnected devices remembered per user.
	maxGoneDevices = 32
)

// pushPlatforms are the platforms that have a PushOnline state (the reference:
// mobile devices only; Web and desktop go straight to Offline).
var pushPlatforms = map[string]bool{"iOS": true, "Android": true, "iPad": true}

// statusHub holds this node's subscriptions and disconnected devices. Lock
// order: statusHub.mu, then a hub shard.
type statusHub struct {
	mu       sync.Mutex
	subs     map[userKey][]string            // subscriber -> targets, oldest first
	watchers map[userKey]map[string]struct{} // target -> subscribers (same app)
	total    int
	gone     map[userKey][]goneDevice
	// told is the last notice sent to a watched user's subscribers: a change
	// that leaves it the same (a device of a user online on another node
	// logging in here) sends none. Kept while the user is watched; a
	// subscribe reply that says the same keeps it, one that says otherwise
	// forgets it (subscribeStatus), so the next notice goes to all.
	told map[userKey]toldStatus
}

type toldStatus struct{ status, custom string }

type goneDevice struct {
	platform string
	at       time.Time
}

// DeviceState is one device of a user: connected (Online) or a mobile device
// that dropped its connection without logging out (PushOnline).
type DeviceState struct {
	Platform string
	Status   string
}

func (h *statusHub) init() {
	if h.subs == nil {
		h.subs = map[userKey][]string{}
		h.watchers = map[userKey]map[string]struct{}{}
		h.gone = map[userKey][]goneDevice{}
		h.told = map[userKey]toldStatus{}
	}
}

// UserState reports the status of user and the state of each of its devices,
// on this node and (bus.RemoteDevices) the other nodes: Online when a device
// is connected, PushOnline when only disconnected mobile devices (of the last
// PushOnlineFor, here) remain, else Offline.
func (g *Gateway) UserState(app int64, user string) (string, []DeviceState) {
	remote := g.bus.RemoteDevices(app, user)
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	return g.userStateLocked(userKey{app, user}, remote)
}

// localPushOnline returns k's mobile devices on this node that dropped their
// connection without logging out in the last PushOnlineFor.
func (g *Gateway) localPushOnline(k userKey) []DeviceState {
	now := g.tenants.Clock.Now()
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	var out []DeviceState
	for _, d := range g.status.gone[k] {
		if now.Sub(d.at) < PushOnlineFor {
			out = append(out, DeviceState{Platform: d.platform, Status: protocol.StatusPushOnline})
		}
	}
	return out
}

func summarize(devices []DeviceState) string {
	st := protocol.StatusOffline
	for _, d := range devices {
		if d.Status == protocol.StatusOnline {
			return protocol.StatusOnline
		}
		st = protocol.StatusPushOnline
	}
	return st
}

// watched reports whether anyone on this node subscribes to k.
func (g *Gateway) watched(k userKey) bool {
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	return len(g.status.watchers[k]) > 0
}

// loggedIn notes a new session: a mobile device coming back is no longer
// disconnected, and a user's first session makes it Online for its subscribers.
func (st *statusHub) loggedIn(s *session, first bool) {
	k := userKey{s.appID, s.user}
	st.mu.Lock()
	if gone := st.gone[k]; len(gone) > 0 {
		for i, d := range gone {
			if d.platform == s.platform {
				st.gone[k] = append(gone[:i:i], gone[i+1:]...)
				break
			}
		}
		if len(st.gone[k]) == 0 {
			delete(st.gone, k)
		}
	}
	st.mu.Unlock()
	if first {
		s.gw.notifyStatus(context.Background(), s.app, k, false)
	}
}

// loggedOut notes the end of session s: a mobile device that dropped its
// connection without a close frame counts as disconnected (PushOnline); when
// it was the user's last session here, the user's subscriptions end and its
// subscribers learn its new status.
func (st *statusHub) loggedOut(s *session, last, clean bool) {
	k := userKey{s.appID, s.user}
	st.mu.Lock()
	st.init()
	if !clean && pushPlatforms[s.platform] {
		gone := append(st.gone[k], goneDevice{platform: s.platform, at: s.gw.tenants.Clock.Now()})
		if len(gone) > maxGoneDevices {
			gone = gone[len(gone)-maxGoneDevices:]
		}
		st.gone[k] = gone
	}
	if last {
		st.dropAll(k)
	}
	st.mu.Unlock()
	if last {
		s.gw.notifyStatus(context.Background(), s.app, k, false)
	}
}

// dropAll ends every subscription of subscriber k; st.mu is held.
func (st *statusHub) dropAll(k userKey) {
	for _, t := range st.subs[k] {
		st.unwatch(userKey{k.app, t}, k.user)
	}
	st.total -= len(st.subs[k])
	delete(st.subs, k)
}

func (st *statusHub) unwatch(target userKey, subscriber string) {
	w := st.watchers[target]
	delete(w, subscriber)
	if len(w) == 0 {
		delete(st.watchers, target)
		delete(st.told, target)
	}
}

// subscribe adds targets to k's subscriptions, dropping k's oldest ones past
// im.MaxStatusSubscriptions; it refuses (60011) when the node would hold more
// than limit subscriptions.
func (st *statusHub) subscribe(k userKey, targets []string, limit int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	cur := st.subs[k]
	have := make(map[string]bool, len(cur))
	for _, t := range cur {
		have[t] = true
	}
	var add []string
	for _, t := range targets {
		if !have[t] {
			have[t] = true
			add = append(add, t)
		}
	}
	next := append(cur[:len(cur):len(cur)], add...)
	var dropped []string
	if over := len(next) - im.MaxStatusSubscriptions; over > 0 {
		dropped, next = next[:over], next[over:]
	}
	if st.total+len(next)-len(cur) > limit {
		return errs.New(errs.SessionsPerApp, "this node holds %d status subscriptions, the most allowed", limit)
	}
	for _, t := range dropped {
		st.unwatch(userKey{k.app, t}, k.user)
	}
	for _, t := range add {
		if !containsStr(dropped, t) {
			tk := userKey{k.app, t}
			if st.watchers[tk] == nil {
				st.watchers[tk] = map[string]struct{}{}
			}
			st.watchers[tk][k.user] = struct{}{}
		}
	}
	st.total += len(next) - len(cur)
	st.subs[k] = next
	return nil
}

// unsubscribe removes targets from k's subscriptions (all of them when none
// are named).
func (st *statusHub) unsubscribe(k userKey, targets []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	if len(targets) == 0 {
		st.dropAll(k)
		return
	}
	drop := map[string]bool{}
	for _, t := range targets {
		drop[t] = true
	}
	cur := st.subs[k]
	next := make([]string, 0, len(cur))
	for _, t := range cur {
		if drop[t] {
			st.unwatch(userKey{k.app, t}, k.user)
		} else {
			next = append(next, t)
		}
	}
	st.total -= len(cur) - len(next)
	if len(next) == 0 {
		delete(st.subs, k)
	} else {
		st.subs[k] = next
	}
}

// Subscriptions returns the users k subscribes to, oldest first.
func (g *Gateway) Subscriptions(app int64, user string) []string {
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	return append([]string(nil), g.status.subs[userKey{app, user}]...)
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// notifyStatus sends k's current status to its subscribers on this node (and,
// with self, to k's own devices: a custom status change), one encoding for all.
// app is k's app (for the custom status).
func (g *Gateway) notifyStatus(ctx context.Context, app store.App, k userKey, self bool) {
	if !self && !g.watched(k) {
		return
	}
	custom := ""
	if cs, err := g.im.CustomStatuses(ctx, app, []string{k.user}); err == nil {
		custom = cs[k.user]
	} else {
		g.log.Error("reading a custom status failed", "app", k.app, "user", k.user, "err", err)
	}
	// One notice of k at a time, its state read inside, so that notices of one
	// user leave in the order of its state changes and the last one says the
	// state that holds.
	nl := &g.notifyLocks[notifyStripe(k.user)]
	nl.Lock()
	defer nl.Unlock()
	remote := g.bus.RemoteDevices(k.app, k.user)
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	status, _ := g.userStateLocked(k, remote)
	g.status.init()
	told := toldStatus{status, custom}
	if !self && g.status.told[k] == told {
		return // the subscribers know it already
	}
	if len(g.status.watchers[k]) > 0 {
		g.status.told[k] = told
	}
	frame, _ := json.Marshal(Frame{Op: protocol.OpStatus, User: k.user, Status: status, CustomStatus: custom})
	for sub := range g.status.watchers[k] {
		for _, o := range g.hub.get(userKey{k.app, sub}) {
			o.enqueue(frame)
		}
	}
	if self {
		for _, o := range g.hub.get(k) {
			o.enqueue(frame)
		}
	}
}

// userStateLocked is UserState with g.status.mu held; remote are k's devices
// on the other nodes, read before taking it.
func (g *Gateway) userStateLocked(k userKey, remote []bus.Device) (string, []DeviceState) {
	now := g.tenants.Clock.Now()
	var out []DeviceState
	for _, s := range g.hub.get(k) {
		out = append(out, DeviceState{Platform: s.platform, Status: protocol.StatusOnline})
	}
	for _, d := range g.status.gone[k] {
		if now.Sub(d.at) < PushOnlineFor {
			out = append(out, DeviceState{Platform: d.platform, Status: protocol.StatusPushOnline})
		}
	}
	for _, d := range remote {
		st := protocol.StatusOnline
		if d.Status == bus.StatusPushOnline {
			st = protocol.StatusPushOnline
		}
		out = append(out, DeviceState{Platform: d.Platform, Status: st})
	}
	return summarize(out), out
}

// setStatus handles set_status: the user's custom status, then a notice to its
// subscribers and its own devices.
func (s *session) setStatus(ctx context.Context, f Frame) error {
	if err := s.gw.im.SetCustomStatus(ctx, s.app, s.user, f.CustomStatus); err != nil {
		return err
	}
	s.gw.notifyStatus(ctx, s.app, userKey{s.appID, s.user}, true)
	return nil
}

// subscribeStatus handles subscribe_status and queues its reply (nil error):
// the reply lists the current status of each user subscribed to and, in
// failed, the users refused (70402, 70107).
func (s *session) subscribeStatus(ctx context.Context, f Frame) error {
	checked, err := s.gw.im.CheckSubscription(ctx, s.app, s.user, f.Users)
	if err != nil {
		return err
	}
	r := Frame{Op: f.Op, ID: f.ID}
	var ok []string
	seen := map[string]bool{}
	for _, u := range f.Users {
		if seen[u] {
			continue
		}
		seen[u] = true
		if e := checked[u]; e != nil {
			r.Failed = append(r.Failed, protocol.UserFailure{User: u, Code: errs.CodeOf(e), Message: errMessage(e)})
			continue
		}
		ok = append(ok, u)
	}
	if len(ok) == 0 {
		s.reply(r)
		return nil
	}
	if err := s.gw.status.subscribe(userKey{s.appID, s.user}, ok, s.gw.limits.NodeSubscriptions); err != nil {
		return err
	}
	custom, err := s.gw.im.CustomStatuses(ctx, s.app, ok)
	if err != nil {
		return err
	}
	// The statuses are read, noted as told and the reply queued with the
	// notice locks of the users held (taken in stripe order), so that no
	// notice of theirs passes the reply and the next notice compares with
	// what the reply said: a device of a user online elsewhere logging in
	// here sends no second Online.
	stripes := map[int]bool{}
	for _, u := range ok {
		stripes[notifyStripe(u)] = true
	}
	for i := range s.gw.notifyLocks {
		if stripes[i] {
			s.gw.notifyLocks[i].Lock()
			defer s.gw.notifyLocks[i].Unlock()
		}
	}
	for _, u := range ok {
		k := userKey{s.appID, u}
		remote := s.gw.bus.RemoteDevices(k.app, k.user)
		s.gw.status.mu.Lock()
		st, _ := s.gw.userStateLocked(k, remote)
		told := toldStatus{st, custom[u]}
		if prev, had := s.gw.status.told[k]; had && prev != told {
			delete(s.gw.status.told, k) // the other subscribers were told otherwise
		} else if _, me := s.gw.status.watchers[k][s.user]; had || (me && len(s.gw.status.watchers[k]) == 1) {
			s.gw.status.told[k] = told
		}
		s.gw.status.mu.Unlock()
		r.Statuses = append(r.Statuses, protocol.UserStatus{User: u, Status: st, CustomStatus: custom[u]})
	}
	s.reply(r)
	return nil
}

// notifyStripe is the index of user's lock in Gateway.notifyLocks.
func notifyStripe(user string) int {
	return int(maphash.String(hubSeed, user) % uint64(len(notifyLocks{})))
}

type notifyLocks = [64]sync.Mutex

// unsubscribeStatus handles unsubscribe_status: users not subscribed to are
// ignored; no users ends every subscription.
func (s *session) unsubscribeStatus(f Frame) error {
	if err := s.gw.im.StatusAllowed(s.app); err != nil {
		return err
	}
	if len(f.Users) > im.MaxSubscribeBatch {
		return errs.New(errs.InvalidParameters, "users must list at most %d accounts, got %d", im.MaxSubscribeBatch, len(f.Users))
	}
	for _, u := range f.Users {
		if err := im.ValidUserID(u); err != nil {
			return err
		}
	}
	s.gw.status.unsubscribe(userKey{s.appID, s.user}, f.Users)
	return nil
}

// cleanClose reports whether err, the read error that ended a session, is a
// logout: the device sent a close frame (normal or going away).
func cleanClose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway)
}

// SubscriptionCount returns the status subscriptions held on this node.
func (g *Gateway) SubscriptionCount() int {
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	return g.status.total
}

// RemoteDevicesChanged is called by a cluster bus when user's devices on
// other nodes changed (single-node buses never call it): when someone here
// subscribes to the user, its new status goes to them. It never blocks: the
// notice (a read of the app and of the custom status) is sent by a
// background worker, once for changes that come faster than it.
func (g *Gateway) RemoteDevicesChanged(app int64, user string) {
	k := userKey{app, user}
	if g.watched(k) {
		g.remoteStatus.add(k, g.notifyRemote)
	}
}

// notifyRemote sends k's status to its subscribers here (RemoteDevicesChanged).
func (g *Gateway) notifyRemote(k userKey) {
	ctx := context.Background()
	app, err := g.apps.get(ctx, g.tenants, k.app)
	if err != nil {
		return // a deleted app's sessions end; an unreachable store loses the notice
	}
	g.notifyStatus(ctx, app, k, false)
}
