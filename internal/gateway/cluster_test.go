package gateway_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// clusterBus is a local bus that plays one node of a cluster: the test sets
// the devices of users on "other nodes" and feeds their invalidations; it
// records this node's DevicesChanged calls.
type clusterBus struct {
	*bus.Local
	mu      sync.Mutex
	fns     []func(bus.Invalidation)
	remote  map[string][]bus.Device
	changed []string    // DevicesChanged users, in order
	notify  chan string // DevicesChanged users, as they come
	invs    []bus.Invalidation
}

func newClusterBus() *clusterBus {
	return &clusterBus{Local: bus.NewLocal(), remote: map[string][]bus.Device{}, notify: make(chan string, 100)}
}

func (c *clusterBus) OnInvalidate(fn func(bus.Invalidation)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

func (c *clusterBus) Invalidate(invs ...bus.Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invs = append(c.invs, invs...)
}

func (c *clusterBus) feed(inv bus.Invalidation) {
	c.mu.Lock()
	fns := slices.Clone(c.fns)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(inv)
	}
}

func (c *clusterBus) RemoteDevices(_ int64, user string) []bus.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.remote[user])
}

func (c *clusterBus) setRemote(user string, ds ...bus.Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remote[user] = ds
}

func (c *clusterBus) DevicesChanged(app int64, user string) {
	c.mu.Lock()
	c.changed = append(c.changed, user)
	c.mu.Unlock()
	select {
	case c.notify <- user:
	default:
	}
}

// waitChanged waits until DevicesChanged was called for user.
func (c *clusterBus) waitChanged(t *testing.T, user, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u := <-c.notify:
			if u == user {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no DevicesChanged for %s", what, user)
		}
	}
}

func suspend(t *testing.T, e *env) {
	t.Helper()
	err := e.st.InCommerceTx(context.Background(), func(tx store.CommerceTx) error {
		a, err := tx.LockApp(context.Background(), e.app.SDKAppID)
		if err != nil {
			return err
		}
		a.Status, a.SuspendReason, a.SuspendedAt = "suspended", "expired", e.clock.Now()
		return tx.UpdateApp(context.Background(), a)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitEnded(t *testing.T, c *client.Client, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the session stayed open", what)
	}
	if !strings.Contains(c.Kicked(), "suspended") {
		t.Errorf("%s: kick reason %q does not say the app is suspended", what, c.Kicked())
	}
}

// An app suspended on another node (its InvApp) ends this node's sessions at
// once, without waiting for the app cache to expire or for the poll.
func TestRemoteAppInvalidationEndsSessions(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cb.feed(bus.Invalidation{Kind: bus.InvApp, App: e.app.SDKAppID}) // still active: nothing ends
	alive(t, alice, "session of an active app")
	suspend(t, e) // the clock does not move: the cached app is fresh
	cb.feed(bus.Invalidation{Kind: bus.InvApp, App: e.app.SDKAppID})
	waitEnded(t, alice, "InvApp of a suspended app")
}

// InvAll (after a reconnect) drops the app cache and checks the apps with
// sessions here.
func TestRemoteInvAllEndsSessionsOfSuspendedApps(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	suspend(t, e)
	cb.feed(bus.Invalidation{Kind: bus.InvAll})
	waitEnded(t, alice, "InvAll")
}

// An app changed on this node (AppChanged) ends its sessions at once.
func TestAppChangedEndsSessionsAtOnce(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	e.gw.AppChanged(context.Background(), e.app.SDKAppID) // active: nothing ends
	alive(t, alice, "session of an active app")
	suspend(t, e)
	e.gw.AppChanged(context.Background(), e.app.SDKAppID)
	waitEnded(t, alice, "AppChanged of a suspended app")
}

// A login, a logout and a mobile device dropping to PushOnline tell the bus.
func TestDevicesChangedOnLoginAndLogout(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cb.waitChanged(t, "alice", "login")
	alice.Close()
	cb.waitChanged(t, "alice", "logout")

	// A mobile device that drops its connection stays as PushOnline: the
	// bus is told, and Devices (which a cluster bus reports) lists it.
	c := e.raw()
	if f := roundTrip(t, c, `{"op":"login","id":"1","sdkappid":`+jsonInt(e.app.SDKAppID)+`,"user":"bob","usersig":"`+e.sig("bob")+`","platform":"iOS"}`); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}
	cb.waitChanged(t, "bob", "mobile login")
	c.UnderlyingConn().Close() // no close frame
	cb.waitChanged(t, "bob", "mobile drop")
	ds := e.gw.Devices(e.app.SDKAppID, "bob")
	if len(ds) != 1 || ds[0].Status != bus.StatusPushOnline {
		t.Fatalf("devices after the drop: %+v, want one PushOnline", ds)
	}
}

// A session replaced by a login on the same platform tells the bus too (the
// replacing login's and the replaced session's end).
func TestDevicesChangedOnReplace(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Standard, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	first, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cb.waitChanged(t, "alice", "first login")
	second, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	cb.waitChanged(t, "alice", "replacing login")
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced session stayed open")
	}
	cb.waitChanged(t, "alice", "replaced session's end")
	if ds := e.gw.Devices(e.app.SDKAppID, "alice"); len(ds) != 1 {
		t.Fatalf("devices after the replace: %+v", ds)
	}
}

// Status is cluster-wide: a device that only another node reports makes its
// user Online in status answers here, and a change of it reaches this node's
// subscribers as a notice.
func TestStatusCountsRemoteDevices(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	ctx := context.Background()
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	st, _, err := alice.SubscribeStatus(ctx, "bob")
	if err != nil || len(st) != 1 || st[0].Status != protocol.StatusOffline {
		t.Fatalf("bob nowhere: %+v, %v", st, err)
	}

	// bob logs in on another node.
	cb.setRemote("bob", bus.Device{Platform: "Android", ConnID: "remote-1"})
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	wantNotice(t, alice, "bob", protocol.StatusOnline)
	if s, ds := e.gw.UserState(e.app.SDKAppID, "bob"); s != protocol.StatusOnline || len(ds) != 1 || ds[0].Platform != "Android" {
		t.Fatalf("UserState of a remote device: %s %+v", s, ds)
	}
	// Devices stays this node's own: a cluster bus adds the others itself.
	if ds := e.gw.Devices(e.app.SDKAppID, "bob"); len(ds) != 0 {
		t.Fatalf("Devices lists remote devices: %+v", ds)
	}

	// A new subscriber sees bob online in its reply.
	carol := "carol"
	if err := e.svc.ImportAccounts(ctx, e.app, []store.User{{UserID: carol}}); err != nil {
		t.Fatal(err)
	}
	c, err := e.dial(carol, "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, _, err := c.SubscribeStatus(ctx, "bob"); err != nil || len(st) != 1 || st[0].Status != protocol.StatusOnline {
		t.Fatalf("subscribing to a user online on another node: %+v, %v", st, err)
	}

	// bob's device there drops to PushOnline, then goes.
	cb.setRemote("bob", bus.Device{Platform: "Android", Status: bus.StatusPushOnline})
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	wantNotice(t, alice, "bob", protocol.StatusPushOnline)
	cb.setRemote("bob")
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	wantNotice(t, alice, "bob", protocol.StatusOffline)

	// A local device and a remote one: online while either is.
	cb.setRemote("bob", bus.Device{Platform: "Android", ConnID: "remote-2"})
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, alice, "bob", protocol.StatusOnline)
	bob.Close()
	// bob's last session here ended, but the remote device holds: the notice
	// (if any) says Online.
	select {
	case n := <-alice.StatusNotices():
		if n.Status != protocol.StatusOnline {
			t.Fatalf("notice after the local logout with a remote device: %+v", n)
		}
	case <-bob.Done():
	}
	if s, _ := e.gw.UserState(e.app.SDKAppID, "bob"); s != protocol.StatusOnline {
		t.Fatalf("bob with a remote device: %s", s)
	}
}

func wantNotice(t *testing.T, c *client.Client, user, status string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case n := <-c.StatusNotices():
			if n.User == user && n.Status == status {
				return
			}
		case <-deadline:
			t.Fatalf("no status notice %s %s", user, status)
		}
	}
}

// RemoteDevicesChanged of a user no one here watches sends nothing and never
// blocks; many of them, racing with local logins and subscriptions, leave the
// last state in the last notice (run with -race).
func TestRemoteDevicesChangedRace(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	ctx := context.Background()
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if _, _, err := alice.SubscribeStatus(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if i%2 == 0 {
				cb.setRemote("bob", bus.Device{Platform: "Android", ConnID: "r"})
			} else {
				cb.setRemote("bob")
			}
			e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
			e.gw.RemoteDevicesChanged(e.app.SDKAppID, "nobody")
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 5; i++ {
			b, err := e.dial("bob", "Web")
			if err != nil {
				t.Error(err)
				return
			}
			b.Close()
			<-b.Done()
		}
	}()
	wg.Wait()
	cb.setRemote("bob", bus.Device{Platform: "Mac", ConnID: "final"})
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	wantNotice(t, alice, "bob", protocol.StatusOnline)
}

// A notice goes only when the status a subscriber knows changes: a user
// online on another node logging in and out here sends none.
func TestStatusNoticesOnlyOnChange(t *testing.T) {
	cb := newClusterBus()
	e := newEnvOn(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil, cb)
	ctx := context.Background()
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if _, _, err := alice.SubscribeStatus(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	next := func() client.UserStatus {
		t.Helper()
		select {
		case n := <-alice.StatusNotices():
			return n
		case <-time.After(5 * time.Second):
			t.Fatal("no status notice")
			return client.UserStatus{}
		}
	}
	cb.setRemote("bob", bus.Device{Platform: "Android", ConnID: "r"})
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	if n := next(); n.User != "bob" || n.Status != protocol.StatusOnline {
		t.Fatalf("notice %+v, want bob Online", n)
	}
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cb.waitChanged(t, "bob", "bob's login here")
	bob.Close()
	cb.waitChanged(t, "bob", "bob's logout here") // after its notice, if any
	cb.setRemote("bob")
	e.gw.RemoteDevicesChanged(e.app.SDKAppID, "bob")
	if n := next(); n.User != "bob" || n.Status != protocol.StatusOffline {
		t.Fatalf("notice %+v, want bob Offline (no repeated Online)", n)
	}
}
