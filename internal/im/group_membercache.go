package im

import (
	"slices"
	"sync"
)

// Bounds of the member-list cache of the group send path.
const (
	maxCachedGroups  = 10_000    // groups whose member list is kept
	maxCachedMembers = 4_000_000 // member ids kept in all (about 64 MB of string headers and ids)
	// maxLoadJournal bounds the changes noted for one load in flight; past it
	// the load is not kept.
	maxLoadJournal = 10_000
)

type groupKey struct {
	app   int64
	group string
}

type memberKey struct {
	groupKey
	user string
}

// memberCache keeps each group's member list as an immutable snapshot
// ([]string, sorted): a send takes the snapshot and hands it to the bus as it
// is, never copied per message, never modified once published.
//
// A membership change made by this process updates the snapshot in place
// (copy-on-write: a new sorted slice with the users added or removed), so
// that a join or quit costs no read of the member list from the store. The
// store stays the truth: a change whose outcome is unknown (a storage
// error), a change the caller does not describe (account deletion, disband,
// ban) and two changes of one user in one group in flight at once (their
// commit order is unknown here) forget the snapshot instead, and the next
// reader loads it again.
//
// The race rules:
//   - a change is announced (begin) before its store write and applied (end)
//     after its commit, before its caller answers: a send that starts after
//     a join's (quit's) reply sees the member (does not);
//   - a load (a store read of the whole list) notes the changes applied while
//     it runs and applies them to what it read before keeping it: a read
//     that missed a committed change is corrected, one that saw it is left
//     as is (adding a member present, or removing one absent, changes
//     nothing); a forget while it runs means it is not kept (it may be
//     older than the change);
//   - two changes of the same user and group in flight at once mark the
//     user in doubt: each one's end forgets the group.
//
// Bounded in groups and in members: past either bound, arbitrary snapshots
// are dropped; in-flight records exist only while a change or load runs.
type memberCache struct {
	mu       sync.RWMutex
	m        map[groupKey][]string
	members  int
	inflight map[memberKey]*memberInflight
	loads    map[groupKey][]*memberLoad
}

type memberInflight struct {
	n     int  // changes of this user and group in flight
	doubt bool // two overlapped: the order of their commits is unknown
}

// memberLoad is a load in flight: the changes applied meanwhile.
type memberLoad struct {
	ops     []memberOp
	spoiled bool
}

// memberChange is a change announced by begin; end or forget closes it.
type memberChange struct {
	k     groupKey
	users []string
	done  bool
}

// get returns the cached snapshot, or loads, stores and returns one. The
// returned slice must not be modified.
func (c *memberCache) get(k groupKey, load func() ([]string, error)) ([]string, error) {
	c.mu.RLock()
	ms, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return ms, nil
	}
	l := &memberLoad{}
	c.mu.Lock()
	if c.loads == nil {
		c.loads = map[groupKey][]*memberLoad{}
	}
	c.loads[k] = append(c.loads[k], l)
	c.mu.Unlock()

	ms, err := load()

	c.mu.Lock()
	defer c.mu.Unlock()
	ls := c.loads[k]
	if i := slices.Index(ls, l); i >= 0 {
		ls = slices.Delete(ls, i, i+1)
	}
	if len(ls) == 0 {
		delete(c.loads, k)
	} else {
		c.loads[k] = ls
	}
	if err != nil {
		return nil, err
	}
	if l.spoiled {
		return ms, nil
	}
	if len(l.ops) > 0 {
		ms = applyMembers(ms, l.ops)
	}
	if len(ms) > maxCachedMembers/4 {
		return ms, nil // too large to keep: loaded per send
	}
	c.put(k, ms)
	return ms, nil
}

// put stores ms as k's snapshot, dropping others past the bounds (c.mu held).
func (c *memberCache) put(k groupKey, ms []string) {
	if c.m == nil {
		c.m = map[groupKey][]string{}
	}
	if old, ok := c.m[k]; ok {
		c.members -= len(old)
		delete(c.m, k)
	}
	for kk, v := range c.m {
		if len(c.m) < maxCachedGroups && c.members+len(ms) <= maxCachedMembers {
			break
		}
		delete(c.m, kk)
		c.members -= len(v)
	}
	c.m[k] = ms
	c.members += len(ms)
}

// begin announces a change of users' membership of k, before it is written.
// The caller closes it with end (the change committed) or forget (anything
// else), once.
func (c *memberCache) begin(k groupKey, users []string) *memberChange {
	ch := &memberChange{k: k, users: slices.Clone(users)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight == nil {
		c.inflight = map[memberKey]*memberInflight{}
	}
	for _, u := range ch.users {
		mk := memberKey{k, u}
		r := c.inflight[mk]
		if r == nil {
			r = &memberInflight{}
			c.inflight[mk] = r
		}
		r.n++
		if r.n > 1 {
			r.doubt = true
		}
	}
	return ch
}

// release closes ch's in-flight records and reports whether one was in
// doubt (c.mu held).
func (c *memberCache) release(ch *memberChange) (doubt bool) {
	if ch.done {
		return false
	}
	ch.done = true
	for _, u := range ch.users {
		mk := memberKey{ch.k, u}
		r := c.inflight[mk]
		if r == nil {
			continue
		}
		doubt = doubt || r.doubt
		if r.n--; r.n <= 0 {
			delete(c.inflight, mk)
		}
	}
	return doubt
}

// end applies a committed change: added are now members, removed are not
// (each must be among the users announced by begin). It reports false when
// the change overlapped another of the same user (in doubt: the group was
// forgotten instead).
func (c *memberCache) end(ch *memberChange, added, removed []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.release(ch) {
		c.forgetLocked(ch.k)
		return false
	}
	if len(added)+len(removed) == 0 {
		return true
	}
	ops := make([]memberOp, 0, len(added)+len(removed))
	for _, u := range added {
		ops = append(ops, memberOp{u, true})
	}
	for _, u := range removed {
		ops = append(ops, memberOp{u, false})
	}
	for _, l := range c.loads[ch.k] {
		if len(l.ops)+len(ops) > maxLoadJournal {
			l.spoiled = true
			continue
		}
		l.ops = append(l.ops, ops...)
	}
	if ms, ok := c.m[ch.k]; ok {
		next := applyMembers(ms, ops)
		c.members += len(next) - len(ms)
		c.m[ch.k] = next
	}
	return true
}

// abort closes a change whose outcome is unknown or that failed: the group
// is forgotten.
func (c *memberCache) abort(ch *memberChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.release(ch)
	c.forgetLocked(ch.k)
}

// forget drops the group's snapshot; loads in flight are not kept.
func (c *memberCache) forget(k groupKey) {
	c.mu.Lock()
	c.forgetLocked(k)
	c.mu.Unlock()
}

// clear drops every snapshot; loads in flight are not kept (another node's
// changes may have been missed). Changes in flight stay announced.
func (c *memberCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.members = nil, 0
	for _, ls := range c.loads {
		for _, l := range ls {
			l.spoiled = true
		}
	}
}

func (c *memberCache) forgetLocked(k groupKey) {
	if old, ok := c.m[k]; ok {
		c.members -= len(old)
		delete(c.m, k)
	}
	for _, l := range c.loads[k] {
		l.spoiled = true
	}
}

// memberOp is one user's membership after a change: in or out.
type memberOp struct {
	user string
	in   bool
}

// applyMembers returns a new sorted list: ms (sorted, left unchanged) with
// ops applied in order (for one user the last op counts). Adding a present id
// or removing an absent one changes nothing. It costs a binary search per op
// and one copy of the list.
func applyMembers(ms []string, ops []memberOp) []string {
	final := make(map[string]bool, len(ops))
	for _, o := range ops {
		final[o.user] = o.in
	}
	type edit struct {
		at   int
		del  bool
		user string
	}
	var edits []edit
	adds := 0
	for u, in := range final {
		i, found := slices.BinarySearch(ms, u)
		switch {
		case in && !found:
			edits = append(edits, edit{at: i, user: u})
			adds++
		case !in && found:
			edits = append(edits, edit{at: i, del: true, user: u})
		}
	}
	if len(edits) == 0 {
		return ms
	}
	slices.SortFunc(edits, func(a, b edit) int {
		switch {
		case a.at != b.at:
			return a.at - b.at
		case a.del != b.del: // insertions before ms[at], then its deletion
			if a.del {
				return 1
			}
			return -1
		case a.user < b.user:
			return -1
		case a.user > b.user:
			return 1
		}
		return 0
	})
	out := make([]string, 0, len(ms)+adds)
	prev := 0
	for _, e := range edits {
		out = append(out, ms[prev:e.at]...)
		prev = e.at
		if e.del {
			prev = e.at + 1
		} else {
			out = append(out, e.user)
		}
	}
	return append(out, ms[prev:]...)
}
