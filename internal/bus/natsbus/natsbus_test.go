package natsbus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// The tests run real nodes (Bus values) on the machine's NATS server
// (CHATD_TEST_NATS_URL, default nats://127.0.0.1:4222). Each test uses its
// own app ids and node ids, so tests sharing the server do not see each
// other's users.

func natsURL(*testing.T) string {
	if u := os.Getenv("CHATD_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// node is a test gateway: what it was delivered, the devices it reports,
// the remote changes it was told.
type node struct {
	mu      sync.Mutex
	got     []bus.Delivery
	devices map[userKey][]bus.Device
	remote  []userKey
	invs    []bus.Invalidation
	signal  chan struct{}
}

func newNode() *node {
	return &node{devices: map[userKey][]bus.Device{}, signal: make(chan struct{}, 1)}
}

func (n *node) poke() {
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

func (n *node) Deliver(ds []bus.Delivery) {
	n.mu.Lock()
	for _, d := range ds {
		if d.Group != nil { // what the gateway would read: the recipients
			var to []string
			d.Recipients(func(u string) { to = append(to, u) })
			d.Group = &bus.GroupDelivery{Members: to, Group: d.Group.Group, LiveRoom: d.Group.LiveRoom}
		}
		n.got = append(n.got, d)
	}
	n.mu.Unlock()
	n.poke()
}

func (n *node) Devices(app int64, user string) []bus.Device {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.devices[userKey{app, user}]
}

func (n *node) RemoteDevicesChanged(app int64, user string) {
	n.mu.Lock()
	n.remote = append(n.remote, userKey{app, user})
	n.mu.Unlock()
	n.poke()
}

func (n *node) setDevices(app int64, user string, ds ...bus.Device) {
	n.mu.Lock()
	n.devices[userKey{app, user}] = ds
	n.mu.Unlock()
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, n *node, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-n.signal:
		case <-tick.C:
		}
	}
}

func (n *node) deliveries() []bus.Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// groups is a GroupReader over maps.
type groups struct {
	mu      sync.Mutex
	members map[groupKey][]string
	// hold, when set, makes the next GroupMemberIDs read what is stored
	// now and answer only when hold is closed (a slow read).
	hold chan struct{}
}

func (g *groups) UserGroupIDs(_ context.Context, app int64, user string) ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for k, ms := range g.members {
		if k.app == app && slices.Contains(ms, user) {
			out = append(out, k.group)
		}
	}
	return out, nil
}

func (g *groups) GroupMemberIDs(_ context.Context, app int64, group string) ([]string, error) {
	g.mu.Lock()
	ms, ok := g.members[groupKey{app, group}]
	ms = slices.Clone(ms)
	hold := g.hold
	g.hold = nil
	g.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if !ok {
		return nil, errs.ErrNotFound
	}
	return ms, nil
}

func (g *groups) set(app int64, group string, ms ...string) {
	g.mu.Lock()
	g.members[groupKey{app, group}] = ms
	g.mu.Unlock()
}

func discard() *slog.Logger {
	if os.Getenv("NB_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type cluster struct {
	t      *testing.T
	app    int64
	prefix string
	groups *groups
}

func newCluster(t *testing.T) *cluster {
	return &cluster{t: t, app: 1_900_000_000 + rand.Int64N(99_999_999), prefix: fmt.Sprintf("t%x", rand.Uint64()),
		groups: &groups{members: map[groupKey][]string{}}}
}

// start runs a node named id with its test gateway.
func (c *cluster) start(id string) (*Bus, *node) {
	c.t.Helper()
	b, err := New(Config{URL: natsURL(c.t), NodeID: c.prefix + "-" + id, Groups: c.groups,
		Logger:         discard(),
		HeartbeatEvery: 50 * time.Millisecond, NodeTimeout: 300 * time.Millisecond})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { b.Close() })
	if err := b.waitReady(); err != nil {
		c.t.Skipf("no NATS server at %s: %v", natsURL(c.t), err)
	}
	n := newNode()
	b.Attach(n)
	return b, n
}

func (b *Bus) waitReady() error {
	deadline := time.Now().Add(3 * time.Second)
	for b.Ready() != nil {
		if time.Now().After(deadline) {
			return b.Ready()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func entry(app int64, owner string, seq int64) *store.Entry {
	return &store.Entry{App: app, Owner: owner, Seq: seq, Kind: store.KindMsg, From: "x", To: owner, Body: []byte(`[]`)}
}

func seqsOf(ds []bus.Delivery, user string) []int64 {
	var out []int64
	for _, d := range ds {
		if d.User == user && d.Entry != nil {
			out = append(out, d.Entry.Seq)
		}
	}
	return out
}

// A user's deliveries reach the node its device is on, in order, and the
// sending node's own gateway once; a node without the user gets nothing.
func TestUserDeliveryCrossNode(t *testing.T) {
	c := newCluster(t)
	a, na := c.start("a")
	b, nb := c.start("b")
	_, nc := c.start("c")
	b.Subscribe(c.app, "bob")
	var ds []bus.Delivery
	for i := int64(1); i <= 50; i++ {
		ds = append(ds, bus.Delivery{App: c.app, User: "bob", Kind: bus.KindEntry, Entry: entry(c.app, "bob", i)})
	}
	ds = append(ds, bus.Delivery{App: c.app, User: "bob", Kind: bus.KindKick, Reason: "bye"},
		bus.Delivery{App: c.app, User: "bob", Kind: bus.KindNotice, Notice: &bus.Notice{Op: "friend_request", Fields: map[string]any{"from": "al"}}})
	a.Publish(ds)
	waitFor(t, "bob's deliveries on b", nb, func() bool { return len(nb.deliveries()) == 52 })
	got := nb.deliveries()
	if s := seqsOf(got, "bob"); len(s) != 50 || !slices.IsSorted(s) || s[0] != 1 {
		t.Fatalf("seqs on b: %v", s)
	}
	if got[50].Kind != bus.KindKick || got[50].Reason != "bye" {
		t.Fatalf("kick: %+v", got[50])
	}
	if n := got[51].Notice; n == nil || n.Op != "friend_request" || string(n.Fields.(json.RawMessage)) != `{"from":"al"}` {
		t.Fatalf("notice: %+v", got[51].Notice)
	}
	if len(na.deliveries()) != 52 {
		t.Fatalf("the sending node's gateway got %d deliveries, want 52", len(na.deliveries()))
	}
	// After Unsubscribe b gets nothing more; c never subscribed.
	b.Unsubscribe(c.app, "bob")
	b.Subscribe(c.app, "marker")
	b.nc.Flush()
	a.Publish([]bus.Delivery{{App: c.app, User: "bob", Kind: bus.KindEntry, Entry: entry(c.app, "bob", 51)},
		{App: c.app, User: "marker", Kind: bus.KindEntry, Entry: entry(c.app, "marker", 1)}})
	waitFor(t, "the marker on b", nb, func() bool { return len(seqsOf(nb.deliveries(), "marker")) == 1 })
	if s := seqsOf(nb.deliveries(), "bob"); len(s) != 50 {
		t.Fatalf("b got bob's entry after Unsubscribe: %v", s)
	}
	if len(nc.deliveries()) != 0 {
		t.Fatalf("c got %d deliveries for users it does not have", len(nc.deliveries()))
	}
}

// A group entry crosses once per node and reaches that node's members
// online; membership changes told by Invalidate move the routes, on the
// node that made the change and on the others.
func TestGroupRoutes(t *testing.T) {
	c := newCluster(t)
	c.groups.set(c.app, "g1", "u1", "u2", "u3")
	a, na := c.start("a")
	b, nb := c.start("b")
	b.Subscribe(c.app, "u1")
	b.Subscribe(c.app, "u4")
	a.Subscribe(c.app, "u2")
	send := func(seq int64, targets ...string) {
		e := &store.Entry{App: c.app, Group: "g1", Seq: seq, Kind: store.KindMsg, From: "u2", Targets: targets}
		a.Publish([]bus.Delivery{{App: c.app, Kind: bus.KindGroup, Entry: e,
			Group: &bus.GroupDelivery{Members: []string{"u1", "u2", "u3"}, Group: "g1"}}})
	}
	send(1)
	waitFor(t, "g1's entry on b", nb, func() bool { return len(nb.deliveries()) == 1 })
	if d := nb.deliveries()[0]; !slices.Equal(d.Group.Members, []string{"u1"}) || d.Entry.Seq != 1 {
		t.Fatalf("on b: members %v seq %d", d.Group.Members, d.Entry.Seq)
	}
	if d := na.deliveries()[0]; len(d.Group.Members) != 3 {
		t.Fatalf("the sending node delivers to the whole list, got %v", d.Group.Members)
	}
	// u4 joins through a (the store first, then the invalidation).
	c.groups.set(c.app, "g1", "u1", "u2", "u3", "u4")
	a.Invalidate(bus.GroupMembersChanged(c.app, "g1", []string{"u4"}, nil, false))
	waitFor(t, "u4's route on b", nb, func() bool { return slices.Equal(b.groupMembers(c.app, "g1"), []string{"u1", "u4"}) })
	send(2)
	waitFor(t, "entry 2 on b", nb, func() bool { return len(nb.deliveries()) == 2 })
	if d := nb.deliveries()[1]; !slices.Equal(d.Group.Members, []string{"u1", "u4"}) {
		t.Fatalf("entry 2 on b for %v", d.Group.Members)
	}
	// A targeted entry is for its targets and its sender only.
	send(3, "u4")
	waitFor(t, "entry 3 on b", nb, func() bool { return len(nb.deliveries()) == 3 })
	if d := nb.deliveries()[2]; !slices.Equal(d.Group.Members, []string{"u4", "u2"}) { // the gateway looks each up
		t.Fatalf("targeted entry on b for %v", d.Group.Members)
	}
	// u1 and u4 leave by a Reload (the group is destroyed): b drops the route.
	c.groups.mu.Lock()
	delete(c.groups.members, groupKey{c.app, "g1"})
	c.groups.mu.Unlock()
	a.Invalidate(bus.GroupMembersChanged(c.app, "g1", nil, nil, true))
	waitFor(t, "g1's route gone on b", nb, func() bool { return b.groupMembers(c.app, "g1") == nil })
	// The removal also ended a's own route (u2 is local there).
	waitFor(t, "g1's route gone on a", na, func() bool { return a.groupMembers(c.app, "g1") == nil })
}

// An entry for a chosen audience goes to each recipient's node by user, for
// that recipient alone.
func TestGroupAudienceByUser(t *testing.T) {
	c := newCluster(t)
	a, _ := c.start("a")
	b, nb := c.start("b")
	b.Subscribe(c.app, "v1")
	b.Subscribe(c.app, "v2")
	e := &store.Entry{App: c.app, Group: "room", Kind: store.KindGroupTips, Body: []byte(`{}`)}
	a.Publish([]bus.Delivery{{App: c.app, Kind: bus.KindGroup, Entry: e,
		Group: &bus.GroupDelivery{Members: []string{"v1", "v2", "v9"}, LiveRoom: true}}})
	waitFor(t, "two copies on b", nb, func() bool { return len(nb.deliveries()) == 2 })
	var to []string
	for _, d := range nb.deliveries() {
		if !d.Group.LiveRoom || len(d.Group.Members) != 1 {
			t.Fatalf("delivery %+v", d.Group)
		}
		to = append(to, d.Group.Members[0])
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"v1", "v2"}) {
		t.Fatalf("recipients on b: %v", to)
	}
}

// Devices on another node count while it lives; its changes reach the
// others' gateways; a node that joins later learns the devices already
// there; a dead node's devices stop counting within NodeTimeout.
func TestPresenceAcrossNodes(t *testing.T) {
	c := newCluster(t)
	a, na := c.start("a")
	b, nb := c.start("b")
	web := bus.Device{Platform: "Web", ConnID: "c1"}
	nb.setDevices(c.app, "bob", web)
	b.DevicesChanged(c.app, "bob")
	waitFor(t, "bob online on a", na, func() bool { return len(a.RemoteDevices(c.app, "bob")) == 1 })
	if d := a.Devices(c.app, "bob"); len(d) != 1 || d[0] != web {
		t.Fatalf("devices on a: %v", d)
	}
	na.mu.Lock()
	told := slices.Contains(na.remote, userKey{c.app, "bob"})
	na.mu.Unlock()
	if !told {
		t.Fatal("a's gateway was not told of bob's change")
	}
	// A node started later gets b's devices by a snapshot.
	late, nl := c.start("late")
	waitFor(t, "bob online on the late node", nl, func() bool { return len(late.RemoteDevices(c.app, "bob")) == 1 })
	// Logout.
	nb.setDevices(c.app, "bob")
	b.DevicesChanged(c.app, "bob")
	waitFor(t, "bob offline on a", na, func() bool { return len(a.RemoteDevices(c.app, "bob")) == 0 })
	// b dies (no goodbye): its devices stop counting.
	nb.setDevices(c.app, "carol", bus.Device{Platform: "iOS", ConnID: "c2"})
	b.DevicesChanged(c.app, "carol")
	waitFor(t, "carol online on a", na, func() bool { return len(a.RemoteDevices(c.app, "carol")) == 1 })
	b.Close()
	waitFor(t, "carol gone on a", na, func() bool { return len(a.RemoteDevices(c.app, "carol")) == 0 })
}

// A node that missed changes (a gap in the numbers) catches up by a
// snapshot.
func TestPresenceGapResync(t *testing.T) {
	c := newCluster(t)
	a, na := c.start("a")
	b, nb := c.start("b")
	for i := range 5 {
		u := fmt.Sprintf("u%d", i)
		nb.setDevices(c.app, u, bus.Device{Platform: "Web", ConnID: u})
		b.DevicesChanged(c.app, u)
	}
	waitFor(t, "five users on a", na, func() bool { return len(a.RemoteDevices(c.app, "u4")) == 1 })
	// Changes b makes while a does not hear them: b numbers them, but they
	// are not published.
	b.pres.mu.Lock()
	b.pres.seq += 3
	delete(b.pres.local, userKey{c.app, "u0"})
	b.pres.local[userKey{c.app, "x"}] = []bus.Device{{Platform: "Web", ConnID: "x"}}
	b.pres.mu.Unlock()
	waitFor(t, "a resynced from b", na, func() bool {
		return len(a.RemoteDevices(c.app, "u0")) == 0 && len(a.RemoteDevices(c.app, "x")) == 1
	})
}

// Invalidations reach the other nodes' handlers, not the sender's.
func TestInvalidations(t *testing.T) {
	c := newCluster(t)
	a, na := c.start("a")
	b, nb := c.start("b")
	var mu sync.Mutex
	var onA, onB []bus.Invalidation
	a.OnInvalidate(func(i bus.Invalidation) { mu.Lock(); onA = append(onA, i); mu.Unlock(); na.poke() })
	b.OnInvalidate(func(i bus.Invalidation) { mu.Lock(); onB = append(onB, i); mu.Unlock(); nb.poke() })
	a.Invalidate(bus.Invalidation{Kind: bus.InvMute, App: c.app, Key: "bob"}, bus.Invalidation{Kind: bus.InvApp, App: c.app})
	waitFor(t, "b's invalidations", nb, func() bool { mu.Lock(); defer mu.Unlock(); return len(onB) == 2 })
	mu.Lock()
	defer mu.Unlock()
	if onB[0].Kind != bus.InvMute || onB[0].Key != "bob" || onB[1].Kind != bus.InvApp || len(onA) != 0 {
		t.Fatalf("on b %+v, on a %+v", onB, onA)
	}
}

// Any UserID or GroupId is one subject token.
func TestSubjects(t *testing.T) {
	for _, id := range []string{"a.b", "*", ">", "with space", "é", "x"} {
		app, got, ok := parseSubject(userSubject(7, id), prefixUser)
		if !ok || app != 7 || got != id {
			t.Fatalf("%q: %d %q %v", id, app, got, ok)
		}
		if _, _, ok := parseSubject(groupSubject(7, id), prefixUser); ok {
			t.Fatalf("a group subject parsed as a user's")
		}
	}
}

// An Unsubscribe that arrives after the user's next login (the gateway's
// calls of one user may cross) leaves the routes of the device there.
func TestUnsubscribeAfterRelogin(t *testing.T) {
	c := newCluster(t)
	b, nb := c.start("b")
	b.Subscribe(c.app, "bob")
	nb.setDevices(c.app, "bob", bus.Device{Platform: "Web", ConnID: "new"})
	b.Subscribe(c.app, "bob") // the new session's, before the old one's Unsubscribe
	b.Unsubscribe(c.app, "bob")
	b.routes.mu.Lock()
	_, ok := b.routes.users[userKey{c.app, "bob"}]
	b.routes.mu.Unlock()
	if !ok {
		t.Fatal("the route of a connected user was dropped")
	}
	nb.setDevices(c.app, "bob", bus.Device{Platform: "iOS", Status: bus.StatusPushOnline})
	b.Unsubscribe(c.app, "bob")
	b.routes.mu.Lock()
	_, ok = b.routes.users[userKey{c.app, "bob"}]
	b.routes.mu.Unlock()
	if ok {
		t.Fatal("a user with only a PushOnline device kept its route")
	}
}

// Every field of a store.Entry crosses the wire: the test sets each field
// (by reflection, so a field added later is covered) and compares.
func TestEntryWireRoundTrip(t *testing.T) {
	e := &store.Entry{}
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Int64, reflect.Int:
			f.SetInt(int64(1000 + i))
		case reflect.Uint32:
			f.SetUint(uint64(2000 + i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				f.SetBytes([]byte(`[{"x":1}]`))
			} else {
				f.Set(reflect.ValueOf([]string{"a", "b"}))
			}
		case reflect.Struct:
			f.Set(reflect.ValueOf(time.Unix(1_800_000_000, int64(i)).UTC()))
		default:
			t.Fatalf("field %s of kind %s: teach this test and the wire", v.Type().Field(i).Name, f.Kind())
		}
	}
	data, err := json.Marshal(toWireEntry(e))
	if err != nil {
		t.Fatal(err)
	}
	var w wireEntry
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	got := w.entry(e.App)
	got.CreatedAt, got.ExpiresAt = got.CreatedAt.UTC(), got.ExpiresAt.UTC()
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
}

// A node does not start with the id of a live node; and one that hears
// another process with its id (two started at once) is not ready while that
// process lives.
func TestSameNodeID(t *testing.T) {
	c := newCluster(t)
	a, na := c.start("same")
	_, err := New(Config{URL: natsURL(t), NodeID: a.cfg.NodeID, Groups: c.groups, Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "in use by a live node") {
		t.Fatalf("second node with the id: %v", err)
	}
	if a.Ready() != nil {
		t.Fatalf("the first node is unready: %v", a.Ready())
	}
	nc, err := nats.Connect(natsURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hb, _ := json.Marshal(heartbeatMsg{Node: a.cfg.NodeID, Instance: "twin", Seq: 1})
	if err := nc.Publish(subjHB, hb); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a unready", na, func() bool { return a.Ready() != nil })
	waitFor(t, "a ready again", na, func() bool { return a.Ready() == nil })
}

// A removal told while a reload's read is in flight is not undone by that
// read (older than the removal): the read is made again.
func TestReloadDoesNotUndoRemoval(t *testing.T) {
	c := newCluster(t)
	c.groups.set(c.app, "g", "u1", "u2")
	b, nb := c.start("b")
	b.Subscribe(c.app, "u1")
	b.Subscribe(c.app, "u2")
	hold := make(chan struct{})
	c.groups.mu.Lock()
	c.groups.hold = hold
	c.groups.mu.Unlock()
	b.Invalidate(bus.GroupMembersChanged(c.app, "g", nil, nil, true)) // its read sees u1, u2 and waits
	waitFor(t, "the read in flight", nb, func() bool {
		c.groups.mu.Lock()
		defer c.groups.mu.Unlock()
		return c.groups.hold == nil
	})
	c.groups.set(c.app, "g", "u1")
	b.Invalidate(bus.GroupMembersChanged(c.app, "g", nil, []string{"u2"}, false))
	close(hold)
	waitFor(t, "the reload done", nb, func() bool {
		b.routes.mu.Lock()
		defer b.routes.mu.Unlock()
		return len(b.routes.reloads) == 0
	})
	if got := b.groupMembers(c.app, "g"); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("route after the reload: %v, want [u1]", got)
	}
}
