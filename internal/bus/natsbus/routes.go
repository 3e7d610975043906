package natsbus

import (
	"errors"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
)

// routes are this node's subscriptions: one per user with a device here, one
// per group with a member online here, and each group's members online here
// (whom a group entry from another node is for).
//
// A user's groups are read from the store when its first device arrives
// (Subscribe). Membership changes reach every node as InvGroupMembers
// (Invalidate here, onInvalidation from the others). A change that arrives
// while a user's groups are being read is journaled and applied on top of
// what was read, so that the read cannot undo it.
type routes struct {
	mu      sync.Mutex
	users   map[userKey]*userRoute
	groups  map[groupKey]*groupRoute
	loading map[userKey]*journal
	// reloads are the groups whose members are being read: dirty when a
	// change came meanwhile, so that the read, maybe older than the change,
	// is made again rather than undo it.
	reloads map[groupKey]*reload
}

type reload struct{ dirty bool }

type userRoute struct {
	sub    *nats.Subscription
	groups map[string]struct{}
}

type groupRoute struct {
	sub *nats.Subscription
	// members are this node's users online in the group: an immutable
	// sorted snapshot, replaced on change, read by the dispatcher.
	members []string
}

// journal is the membership changes of one user seen while its groups are
// read: applied in order after the read.
type journal struct {
	ops      []memberOp
	canceled bool // the user left this node meanwhile
}

type memberOp struct {
	group string
	in    bool
}

func (r *routes) init() {
	r.users = map[userKey]*userRoute{}
	r.groups = map[groupKey]*groupRoute{}
	r.loading = map[userKey]*journal{}
	r.reloads = map[groupKey]*reload{}
}

// Subscribe routes the user's deliveries and those of its groups to this
// node, and returns once the NATS server has the subscriptions (at most
// flushTimeout). While NATS is away it returns at once: the subscriptions
// are sent on reconnect, and the device resyncs then (log_head).
func (b *Bus) Subscribe(app int64, user string) {
	k := userKey{app, user}
	r := &b.routes
	r.mu.Lock()
	if _, ok := r.users[k]; ok {
		r.mu.Unlock()
		return
	}
	sub, err := b.nc.ChanSubscribe(userSubject(app, user), b.in)
	if err != nil {
		b.cfg.Logger.Warn("nats: subscribing a user failed", "app", app, "err", err)
	}
	ur := &userRoute{sub: sub, groups: map[string]struct{}{}}
	r.users[k] = ur
	j := &journal{}
	r.loading[k] = j
	r.mu.Unlock()

	ctx, cancel := ctxTimeout(readTimeout)
	groups, err := b.cfg.Groups.UserGroupIDs(ctx, app, user)
	cancel()
	if err != nil {
		// The user's group entries do not reach this node until its groups are
		// read again (a reconnect or its next login); its devices resync.
		b.cfg.Logger.Warn("reading a user's groups for its routes failed", "app", app, "err", err)
	}
	r.mu.Lock()
	if r.loading[k] == j {
		delete(r.loading, k)
	}
	if !j.canceled && r.users[k] == ur {
		for _, g := range groups {
			b.joinLocked(k, ur, g)
		}
		b.replayLocked(k, ur, j)
	}
	b.routeMetrics()
	r.mu.Unlock()
	if !b.up.Load() {
		return // NATS is away: the routes are sent when it is back, and devices resync
	}
	if err := b.nc.FlushTimeout(flushTimeout); err != nil {
		b.cfg.Logger.Debug("nats: flush after subscribing", "err", err)
	}
}

// Unsubscribe ends the routes of a user without devices here. A device that
// logged in meanwhile keeps them: the gateway's Subscribe and Unsubscribe of
// one user may arrive in either order, so the handler is asked under the
// routes' lock.
func (b *Bus) Unsubscribe(app int64, user string) {
	k := userKey{app, user}
	r := &b.routes
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := b.handler(); h != nil {
		for _, d := range h.Devices(app, user) {
			if d.Status == "" {
				return // connected here again
			}
		}
	}
	if j := r.loading[k]; j != nil {
		j.canceled = true
		delete(r.loading, k)
	}
	ur, ok := r.users[k]
	if !ok {
		return
	}
	delete(r.users, k)
	if ur.sub != nil {
		_ = ur.sub.Unsubscribe()
	}
	for g := range ur.groups {
		b.leaveLocked(k, ur, g)
	}
	b.routeMetrics()
}

// joinLocked adds a local user to a group's route (r.mu held).
func (b *Bus) joinLocked(k userKey, ur *userRoute, group string) {
	if _, ok := ur.groups[group]; ok {
		return
	}
	ur.groups[group] = struct{}{}
	gk := groupKey{k.app, group}
	gr := b.routes.groups[gk]
	if gr == nil {
		sub, err := b.nc.ChanSubscribe(groupSubject(k.app, group), b.in)
		if err != nil {
			b.cfg.Logger.Warn("nats: subscribing a group failed", "app", k.app, "err", err)
		}
		gr = &groupRoute{sub: sub}
		b.routes.groups[gk] = gr
	}
	i, found := slices.BinarySearch(gr.members, k.user)
	if !found {
		gr.members = slices.Insert(slices.Clip(gr.members), i, k.user)
	}
}

// leaveLocked removes a local user from a group's route, and the route when
// it has no member here left (r.mu held).
func (b *Bus) leaveLocked(k userKey, ur *userRoute, group string) {
	if ur != nil {
		delete(ur.groups, group)
	}
	gk := groupKey{k.app, group}
	gr := b.routes.groups[gk]
	if gr == nil {
		return
	}
	if i, found := slices.BinarySearch(gr.members, k.user); found {
		gr.members = slices.Delete(slices.Clone(gr.members), i, i+1)
	}
	if len(gr.members) == 0 {
		if gr.sub != nil {
			_ = gr.sub.Unsubscribe()
		}
		delete(b.routes.groups, gk)
	}
}

// groupMembers is the snapshot of a group's members online here.
func (b *Bus) groupMembers(app int64, group string) []string {
	b.routes.mu.Lock()
	defer b.routes.mu.Unlock()
	if gr := b.routes.groups[groupKey{app, group}]; gr != nil {
		return gr.members
	}
	return nil
}

// applyMembership updates the routes for a membership change made on any
// node. A Reload is read from the store in the background.
func (b *Bus) applyMembership(inv bus.Invalidation) {
	if inv.Reload {
		b.startReload(groupKey{inv.App, inv.Key})
		return
	}
	r := &b.routes
	r.mu.Lock()
	defer r.mu.Unlock()
	if rl := r.reloads[groupKey{inv.App, inv.Key}]; rl != nil {
		rl.dirty = true
	}
	for _, list := range [2]struct {
		users []string
		in    bool
	}{{inv.Added, true}, {inv.Removed, false}} {
		for _, u := range list.users {
			k := userKey{inv.App, u}
			if j := r.loading[k]; j != nil {
				j.ops = append(j.ops, memberOp{inv.Key, list.in})
			}
			ur := r.users[k]
			if ur == nil {
				continue
			}
			if list.in {
				b.joinLocked(k, ur, inv.Key)
			} else {
				b.leaveLocked(k, ur, inv.Key)
			}
		}
	}
	b.routeMetrics()
}

// maxRereads bounds the reads of one reload that changes keep spoiling;
// the last read is applied.
const maxRereads = 5

// startReload reads a group's members in the background, unless a read is
// in flight already: that one is made again.
func (b *Bus) startReload(gk groupKey) {
	r := &b.routes
	r.mu.Lock()
	if rl := r.reloads[gk]; rl != nil {
		rl.dirty = true
		r.mu.Unlock()
		return
	}
	rl := &reload{}
	r.reloads[gk] = rl
	r.mu.Unlock()
	go b.reloadGroup(gk, rl)
}

// reloadGroup reads a group's members and sets its route to those online
// here (none when the group is gone). A change that arrives during the read
// makes it read again.
func (b *Bus) reloadGroup(gk groupKey, rl *reload) {
	r := &b.routes
	for try := 1; ; try++ {
		ctx, cancel := ctxTimeout(readTimeout)
		ids, err := b.cfg.Groups.GroupMemberIDs(ctx, gk.app, gk.group)
		cancel()
		r.mu.Lock()
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			delete(r.reloads, gk)
			r.mu.Unlock()
			b.cfg.Logger.Warn("reading a group's members for its route failed", "app", gk.app, "err", err)
			return
		}
		if rl.dirty && try < maxRereads {
			rl.dirty = false
			r.mu.Unlock()
			continue
		}
		delete(r.reloads, gk)
		b.setGroupLocked(gk, ids)
		r.mu.Unlock()
		return
	}
}

// setGroupLocked sets a group's route to the users of ids online here
// (r.mu held).
func (b *Bus) setGroupLocked(gk groupKey, ids []string) {
	r := &b.routes
	in := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		in[id] = struct{}{}
	}
	for k, j := range r.loading {
		if k.app == gk.app {
			_, ok := in[k.user]
			j.ops = append(j.ops, memberOp{gk.group, ok})
		}
	}
	if gr := r.groups[gk]; gr != nil {
		for _, u := range gr.members {
			if _, ok := in[u]; !ok {
				k := userKey{gk.app, u}
				b.leaveLocked(k, r.users[k], gk.group)
			}
		}
	}
	for _, id := range ids {
		k := userKey{gk.app, id}
		if ur := r.users[k]; ur != nil {
			b.joinLocked(k, ur, gk.group)
		}
	}
	b.routeMetrics()
}

// reloadAllRoutes reads the groups of every user here again (after a
// reconnect, when membership changes may have been missed).
func (b *Bus) reloadAllRoutes() {
	b.routes.mu.Lock()
	keys := make([]userKey, 0, len(b.routes.users))
	for k := range b.routes.users {
		keys = append(keys, k)
	}
	b.routes.mu.Unlock()
	for _, k := range keys {
		select {
		case <-b.stop:
			return
		default:
		}
		b.reloadUser(k)
	}
}

// reloadUser sets a user's group routes to its groups in the store.
func (b *Bus) reloadUser(k userKey) {
	r := &b.routes
	r.mu.Lock()
	ur := r.users[k]
	if ur == nil || r.loading[k] != nil {
		r.mu.Unlock()
		return
	}
	j := &journal{}
	r.loading[k] = j
	r.mu.Unlock()
	ctx, cancel := ctxTimeout(readTimeout)
	groups, err := b.cfg.Groups.UserGroupIDs(ctx, k.app, k.user)
	cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loading[k] == j {
		delete(r.loading, k)
	}
	if err != nil || j.canceled || r.users[k] != ur {
		return
	}
	want := make(map[string]struct{}, len(groups))
	for _, g := range groups {
		want[g] = struct{}{}
	}
	for g := range ur.groups {
		if _, ok := want[g]; !ok {
			b.leaveLocked(k, ur, g)
		}
	}
	for g := range want {
		b.joinLocked(k, ur, g)
	}
	b.replayLocked(k, ur, j)
	b.routeMetrics()
}

// replayLocked applies the changes journaled while the user's groups were
// read, in order (r.mu held).
func (b *Bus) replayLocked(k userKey, ur *userRoute, j *journal) {
	for _, op := range j.ops {
		if op.in {
			b.joinLocked(k, ur, op.group)
		} else {
			b.leaveLocked(k, ur, op.group)
		}
	}
}

// routeMetrics reports the route counts (r.mu held).
func (b *Bus) routeMetrics() {
	if b.cfg.Metrics.Routes != nil {
		b.cfg.Metrics.Routes(len(b.routes.users), len(b.routes.groups))
	}
}
