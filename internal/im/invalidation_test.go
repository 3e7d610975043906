package im

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

// clusterBus is a local bus that plays one node of a cluster: it records the
// invalidations this node publishes and lets the test feed those of "other
// nodes" to the registered handlers.
type clusterBus struct {
	*bus.Local
	mu   sync.Mutex
	invs []bus.Invalidation
	fns  []func(bus.Invalidation)
}

func (c *clusterBus) Invalidate(invs ...bus.Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invs = append(c.invs, invs...)
}

func (c *clusterBus) OnInvalidate(fn func(bus.Invalidation)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

// feed hands inv to the handlers, as a cluster bus does with another node's.
func (c *clusterBus) feed(inv bus.Invalidation) {
	c.mu.Lock()
	fns := slices.Clone(c.fns)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(inv)
	}
}

// take returns and forgets the invalidations published so far.
func (c *clusterBus) take() []bus.Invalidation {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.invs
	c.invs = nil
	return out
}

// newClusterFixture is newFixture on a clusterBus, with users o, m, x besides
// alice and bob.
func newClusterFixture(t *testing.T) (*fixture, *clusterBus) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "im.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	if err := st.CreateAccount(ctx, store.Account{ID: "acc", Name: "A", Email: "a@example.com", Status: "active", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	app, err := st.CreateApp(ctx, store.App{AccountID: "acc", Name: "app", Region: "singapore", SecretKey: "k", AdminUser: "administrator",
		Edition: catalog.Premium, Status: "active", CreatedAt: c.Now(), ExpiresAt: c.Now().AddDate(0, 1, 0)}, 300)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{got: make(chan bus.Delivery, 1000)}
	cb := &clusterBus{Local: attached(rec)}
	w := NewWriter(st, cb, 64, nil)
	t.Cleanup(func() { w.Close(); st.Close() })
	svc := New(st, c, &gate.Gate{MAU: st, Clock: c}, w, cb)
	if err := svc.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}, {UserID: "o"}, {UserID: "m"}, {UserID: "x"}}); err != nil {
		t.Fatal(err)
	}
	cb.take()
	return &fixture{svc: svc, clock: c, app: app, bus: rec}, cb
}

func (f *fixture) drain() {
	for {
		select {
		case <-f.bus.got:
		default:
			return
		}
	}
}

// Every change of state another node caches is published after it commits,
// with the users a membership change added or removed when they are known,
// and a reload when they are not.
func TestChangesPublishInvalidations(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	app := f.app.SDKAppID
	inv := func(kind, key string) bus.Invalidation { return bus.Invalidation{Kind: kind, App: app, Key: key} }
	members := func(g string, added, removed []string) bus.Invalidation {
		return bus.GroupMembersChanged(app, g, added, removed, false)
	}
	reload := func(g string) bus.Invalidation { return bus.GroupMembersChanged(app, g, nil, nil, true) }
	u16 := func(v uint64) *uint64 { return &v }
	steps := []struct {
		name string
		do   func() error
		want []bus.Invalidation
	}{
		{"create_group with members", func() error {
			_, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g",
				ApplyJoinOption: "FreeAccess", Members: []MemberSpec{{UserID: "alice"}}}, false)
			return err
		}, []bus.Invalidation{inv(bus.InvGroup, "g"), members("g", []string{"alice", "o"}, nil)}},
		{"add_group_member", func() error {
			_, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, "g", []string{"bob", "alice"}, false)
			return err
		}, []bus.Invalidation{members("g", []string{"bob"}, nil)}},
		{"add_group_member of a member", func() error {
			_, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, "g", []string{"bob"}, false)
			return err
		}, nil},
		{"delete_group_member", func() error {
			return f.svc.DeleteGroupMembers(ctx, f.app, AdminActor, "g", []string{"bob"}, true, "")
		}, []bus.Invalidation{members("g", nil, []string{"bob"})}},
		{"join (apply)", func() error { _, err := f.svc.JoinGroup(ctx, f.app, "m", "g", ""); return err },
			[]bus.Invalidation{members("g", []string{"m"}, nil)}},
		{"quit", func() error { return f.svc.QuitGroup(ctx, f.app, "m", "g") },
			[]bus.Invalidation{members("g", nil, []string{"m"})}},
		{"import_group_member", func() error {
			_, err := f.svc.ImportGroupMembers(ctx, f.app, "g", []MemberSpec{{UserID: "x"}, {UserID: "alice"}})
			return err
		}, []bus.Invalidation{members("g", []string{"x"}, nil)}},
		{"modify_group_base_info", func() error {
			name := "renamed"
			return f.svc.ModifyGroup(ctx, f.app, AdminActor, "g", GroupChange{Name: &name})
		}, []bus.Invalidation{inv(bus.InvGroup, "g")}},
		{"change_group_owner", func() error { return f.svc.ChangeGroupOwner(ctx, f.app, AdminActor, "g", "alice") },
			[]bus.Invalidation{reload("g")}},
		{"destroy_group", func() error { return f.svc.DestroyGroup(ctx, f.app, AdminActor, "g") },
			[]bus.Invalidation{reload("g"), inv(bus.InvGroup, "g")}},
		{"live room ban", func() error {
			if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "AVChatRoom", GroupID: "live", Name: "l"}, false); err != nil {
				return err
			}
			if _, err := f.svc.JoinGroup(ctx, f.app, "x", "live", ""); err != nil {
				return err
			}
			cb.take()
			return f.svc.BanMembers(ctx, f.app, "live", []string{"x"}, 60, "")
		}, []bus.Invalidation{reload("live")}},
		{"setnospeaking", func() error { return f.svc.SetNoSpeaking(ctx, f.app, "alice", u16(60), nil) },
			[]bus.Invalidation{inv(bus.InvMute, "alice")}},
		{"blocklist add", func() error { _, err := f.svc.AddBlocks(ctx, f.app, "bob", []string{"alice"}); return err },
			[]bus.Invalidation{inv(bus.InvBlocklist, "bob")}},
		{"blocklist delete", func() error { _, err := f.svc.DeleteBlocks(ctx, f.app, "bob", []string{"alice"}); return err },
			[]bus.Invalidation{inv(bus.InvBlocklist, "bob")}},
		{"app settings", func() error {
			return f.svc.SetAppSettings(ctx, f.app, map[string]string{SettingKeys()[0]: settingDefs[SettingKeys()[0]][0]})
		}, []bus.Invalidation{{Kind: bus.InvApp, App: app}}},
		{"account_delete", func() error { _, err := f.svc.DeleteAccounts(ctx, f.app, []string{"x"}); return err },
			[]bus.Invalidation{inv(bus.InvUser, "x")}},
		{"account_import", func() error { return f.svc.ImportAccounts(ctx, f.app, []store.User{{UserID: "x"}}) },
			[]bus.Invalidation{inv(bus.InvUser, "x")}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := cb.take()
		for _, w := range s.want {
			if !slices.ContainsFunc(got, func(g bus.Invalidation) bool { return invEqual(g, w) }) {
				t.Errorf("%s published %+v; want %+v among them", s.name, got, w)
			}
		}
		if s.want == nil && len(got) > 0 {
			t.Errorf("%s changed nothing but published %+v", s.name, got)
		}
	}
}

// An account deletion makes its groups be read again on the other nodes.
func TestAccountDeletionReloadsItsGroups(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g",
		Members: []MemberSpec{{UserID: "alice"}}}, false); err != nil {
		t.Fatal(err)
	}
	cb.take()
	if _, err := f.svc.DeleteAccounts(ctx, f.app, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	got := cb.take()
	want := bus.GroupMembersChanged(f.app.SDKAppID, "g", nil, nil, true)
	if !slices.ContainsFunc(got, func(g bus.Invalidation) bool { return invEqual(g, want) }) {
		t.Fatalf("account deletion published %+v; want %+v among them", got, want)
	}
}

func invEqual(a, b bus.Invalidation) bool {
	return a.Kind == b.Kind && a.App == b.App && a.Key == b.Key && a.Reload == b.Reload &&
		slices.Equal(sorted(a.Added), sorted(b.Added)) && slices.Equal(sorted(a.Removed), sorted(b.Removed))
}

func sorted(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

// groupSendMembers sends to the group and returns the members of its delivery.
func (f *fixture) groupSendMembers(t *testing.T, group string) (members []string, whole string) {
	t.Helper()
	f.drain()
	if _, err := f.svc.SendGroupMsg(context.Background(), f.app, GroupSendRequest{Group: group, Admin: true, Body: hello}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case d := <-f.bus.got:
			if d.Kind == bus.KindGroup && d.Entry.Kind == store.KindMsg {
				return d.Group.Members, d.Group.Group
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no group delivery")
		}
	}
}

// A membership change made on another node reaches this node's cached member
// list by its invalidation: the next send reads the list again.
func TestRemoteGroupMembersInvalidation(t *testing.T) {
	for _, inv := range []bus.Invalidation{
		bus.GroupMembersChanged(0, "g", []string{"x"}, nil, false),
		bus.GroupMembersChanged(0, "g", nil, nil, true),
		{Kind: bus.InvGroup, Key: "g"},
		{Kind: bus.InvAll},
	} {
		f, cb := newClusterFixture(t)
		ctx := context.Background()
		if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g"}, false); err != nil {
			t.Fatal(err)
		}
		if ms, whole := f.groupSendMembers(t, "g"); !slices.Equal(ms, []string{"o"}) || whole != "g" {
			t.Fatalf("members %v (group %q), want [o] of g", ms, whole)
		}
		// Another node adds x: the store changes behind this node's back.
		if _, err := f.svc.store.AddGroupMembers(ctx, f.app.SDKAppID, "g", []store.GroupMember{{UserID: "x", Role: store.RoleMember, JoinTime: f.clock.Now(), JoinSeq: 1}},
			store.GroupQuota{Day: "2026-11-26"}); err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.groupSendMembers(t, "g"); !slices.Equal(ms, []string{"o"}) {
			t.Fatalf("members %v before the invalidation; the test expects the cached [o]", ms)
		}
		if inv.Kind != bus.InvAll {
			inv.App = f.app.SDKAppID
		}
		cb.feed(inv)
		if ms, _ := f.groupSendMembers(t, "g"); !slices.Equal(ms, []string{"o", "x"}) {
			t.Fatalf("after %s: members %v, want [o x]", inv.Kind, ms)
		}
	}
}

// A one-to-one mute set on another node applies to the next send here.
func TestRemoteMuteInvalidation(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	send := func() error {
		_, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
		return err
	}
	if err := send(); err != nil {
		t.Fatal(err) // alice's mute (none) is cached
	}
	if err := f.svc.store.SetMute(ctx, f.app.SDKAppID, "alice", store.Mute{C2CUntil: store.MuteForever}); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("send with the cached mute: %v (the test expects the cache to hide the change)", err)
	}
	cb.feed(bus.Invalidation{Kind: bus.InvMute, App: f.app.SDKAppID, Key: "alice"})
	if err := send(); err == nil {
		t.Fatal("a mute set on another node did not apply after its invalidation")
	}
}

// A blocklist changed on another node applies to the next send here.
func TestRemoteBlocklistInvalidation(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	send := func() error {
		_, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
		return err
	}
	if err := send(); err != nil {
		t.Fatal(err) // bob's blocklist (empty) is cached
	}
	if _, err := f.svc.store.AddBlocks(ctx, f.app.SDKAppID, "bob", []string{"alice"}, f.clock.Now(), MaxBlocks); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("send with the cached blocklist: %v (the test expects the cache to hide the change)", err)
	}
	cb.feed(bus.Invalidation{Kind: bus.InvBlocklist, App: f.app.SDKAppID, Key: "bob"})
	if err := send(); !errs.Is(err, errs.C2CBlocked) {
		t.Fatalf("after the invalidation: %v, want %d", err, errs.C2CBlocked)
	}
}

// An account deleted on another node is seen at once by its invalidation, not
// only after the cache expires.
func TestRemoteUserInvalidation(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	if found, _ := f.svc.CheckAccounts(ctx, f.app, []string{"alice"}); !found["alice"] {
		t.Fatal("alice not found")
	}
	if err := f.svc.store.DeleteUsers(ctx, f.app.SDKAppID, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if found, _ := f.svc.CheckAccounts(ctx, f.app, []string{"alice"}); !found["alice"] {
		t.Fatal("the test expects the cache to hide the deletion")
	}
	cb.feed(bus.Invalidation{Kind: bus.InvUser, App: f.app.SDKAppID, Key: "alice"})
	if found, _ := f.svc.CheckAccounts(ctx, f.app, []string{"alice"}); found["alice"] {
		t.Fatal("a user deleted on another node is still found after its invalidation")
	}
}

// App settings changed on another node apply here by InvApp; every cache is
// dropped by InvAll.
func TestRemoteAppAndAllInvalidation(t *testing.T) {
	for _, kind := range []string{bus.InvApp, bus.InvAll} {
		f, cb := newClusterFixture(t)
		ctx := context.Background()
		key := SettingKeys()[0]
		before, err := f.svc.AppSettings(ctx, f.app)
		if err != nil {
			t.Fatal(err)
		}
		var other string
		for _, v := range settingDefs[key] {
			if v != before[key] {
				other = v
			}
		}
		if err := f.svc.store.SetAppSettings(ctx, f.app.SDKAppID, map[string]string{key: other}); err != nil {
			t.Fatal(err)
		}
		if kv, _ := f.svc.AppSettings(ctx, f.app); kv[key] != before[key] {
			t.Fatal("the test expects the cache to hide the change")
		}
		cb.feed(bus.Invalidation{Kind: kind, App: f.app.SDKAppID})
		if kv, _ := f.svc.AppSettings(ctx, f.app); kv[key] != other {
			t.Fatalf("after %s: %s=%q, want %q", kind, key, kv[key], other)
		}
	}
}

// A group's cached type is dropped by InvGroup (a GroupId disbanded and created
// again with another type on another node).
func TestRemoteGroupTypeInvalidation(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.groupTypes.of(ctx, f.svc, f.app.SDKAppID, []string{"g"}); err != nil {
		t.Fatal(err)
	}
	k := groupKey{f.app.SDKAppID, "g"}
	if _, ok, _ := f.svc.groupTypes.c.get(k, f.clock.Now()); !ok {
		t.Fatal("type not cached")
	}
	cb.feed(bus.Invalidation{Kind: bus.InvGroup, App: f.app.SDKAppID, Key: "g"})
	if _, ok, _ := f.svc.groupTypes.c.get(k, f.clock.Now()); ok {
		t.Fatal("type still cached after InvGroup")
	}
}

// A read of the store that began before a forget (or clear) is not kept: it
// may predate the change the forget announces.
func TestCacheForgetsBeatLoadsInFlight(t *testing.T) {
	now := time.Now()
	k := cacheKey{1, "u"}
	var uc userCache
	gen := uc.gen.Load()
	uc.forget(k)
	uc.add(k, now, gen)
	if uc.has(k, now) {
		t.Error("userCache kept a load that began before a forget")
	}
	gen = uc.gen.Load()
	uc.clear()
	uc.add(k, now, gen)
	if uc.has(k, now) {
		t.Error("userCache kept a load that began before a clear")
	}

	tc := newTTLCache[int64, int](time.Minute, 10)
	_, _, g := tc.get(1, now)
	tc.clear()
	tc.store(1, 5, now, g)
	if _, ok, _ := tc.get(1, now); ok {
		t.Error("ttlCache kept a load that began before a clear")
	}

	var mc memberCache
	gk := groupKey{1, "g"}
	if _, err := mc.get(gk, func() ([]string, error) {
		mc.clear() // an InvAll while the load runs
		return []string{"a"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	mc.mu.RLock()
	_, kept := mc.m[gk]
	mc.mu.RUnlock()
	if kept {
		t.Error("memberCache kept a load that ran across a clear")
	}
	if _, err := mc.get(gk, func() ([]string, error) { return []string{"a"}, nil }); err != nil {
		t.Fatal(err)
	}
	mc.clear()
	if len(mc.m) != 0 || mc.members != 0 {
		t.Errorf("after clear: %d groups, %d members", len(mc.m), mc.members)
	}
}

// Invalidations race with sends, changes and loads without corrupting the
// caches (run with -race).
func TestInvalidationsRace(t *testing.T) {
	f, cb := newClusterFixture(t)
	ctx := context.Background()
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g", ApplyJoinOption: "FreeAccess"}, false); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-f.bus.got:
			case <-stop:
				return
			}
		}
	}()
	app := f.app.SDKAppID
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_, _ = f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "g", Admin: true, Body: hello})
			_, _ = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 25; i++ {
			_, _ = f.svc.JoinGroup(ctx, f.app, "m", "g", "")
			_ = f.svc.QuitGroup(ctx, f.app, "m", "g")
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			for _, inv := range []bus.Invalidation{
				bus.GroupMembersChanged(app, "g", []string{"x"}, nil, false), {Kind: bus.InvUser, App: app, Key: "alice"},
				{Kind: bus.InvMute, App: app, Key: "alice"}, {Kind: bus.InvBlocklist, App: app, Key: "bob"},
				{Kind: bus.InvApp, App: app}, {Kind: bus.InvGroup, App: app, Key: "g"}, {Kind: bus.InvAll},
			} {
				cb.feed(inv)
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-drained
	if ms, _ := f.groupSendMembers(t, "g"); !slices.Equal(ms, []string{"o"}) {
		t.Fatalf("members after the race: %v, want [o]", ms)
	}
}

// collectGroup returns the KindGroup deliveries so far: entry kind and
// sender, with the group each names (bus.GroupDelivery.Group).
func (f *fixture) collectGroup() []bus.Delivery {
	var out []bus.Delivery
	for {
		select {
		case d := <-f.bus.got:
			if d.Kind == bus.KindGroup {
				out = append(out, d)
			}
		default:
			return out
		}
	}
}

// A group delivery names its group exactly when Members is the group's whole
// member list (a cluster bus routes it by the group); a chosen audience does not.
func TestGroupDeliveryNamesTheGroup(t *testing.T) {
	f, _ := newClusterFixture(t)
	ctx := context.Background()
	type want struct {
		what  string
		group string
		n     int // deliveries expected, at least
	}
	check := func(w want) {
		t.Helper()
		// Stored writes reach the bus after their commit: wait for them.
		var ds []bus.Delivery
		deadline := time.Now().Add(5 * time.Second)
		for len(ds) < w.n && time.Now().Before(deadline) {
			ds = append(ds, f.collectGroup()...)
			if len(ds) < w.n {
				select {
				case d := <-f.bus.got:
					if d.Kind == bus.KindGroup {
						ds = append(ds, d)
					}
				case <-time.After(time.Until(deadline)):
				}
			}
		}
		if len(ds) < w.n {
			t.Fatalf("%s: %d group deliveries, want %d", w.what, len(ds), w.n)
		}
		for _, d := range ds {
			if d.Group.Group != w.group {
				t.Errorf("%s: delivery of a %s entry names group %q, want %q (members %v)", w.what, d.Entry.Kind, d.Group.Group, w.group, d.Group.Members)
			}
		}
	}
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g",
		ApplyJoinOption: "FreeAccess", Members: []MemberSpec{{UserID: "alice"}, {UserID: "bob"}}}, false); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if _, err := f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "g", Admin: true, Body: hello}); err != nil {
		t.Fatal(err)
	}
	check(want{"group send", "g", 1})
	if _, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, "g", []string{"m"}, false); err != nil {
		t.Fatal(err)
	}
	check(want{"join tip to all members", "g", 1})
	if err := f.svc.DeleteGroupMembers(ctx, f.app, AdminActor, "g", []string{"m"}, false, ""); err != nil {
		t.Fatal(err)
	}
	check(want{"kick tip to the members and the removed", "", 1})
	if err := f.svc.GroupSystemNotification(ctx, f.app, "g", "", nil, "all"); err != nil {
		t.Fatal(err)
	}
	check(want{"system notification to all", "g", 1})
	if err := f.svc.GroupSystemNotification(ctx, f.app, "g", "", []string{"alice"}, "one"); err != nil {
		t.Fatal(err)
	}
	check(want{"system notification to ToMembers", "", 1})

	// A topic's entry names its community.
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Type: "Community", GroupID: "@TGS#_c", Name: "c", SupportTopic: true, Owner: "alice"}, false); err != nil {
		t.Fatal(err)
	}
	tp, err := f.svc.CreateTopic(ctx, f.app, TopicSpec{GroupID: "@TGS#_c", Name: "news"}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.drain()
	if _, err := f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "@TGS#_c", Topic: tp.TopicID, Admin: true, Body: hello}); err != nil {
		t.Fatal(err)
	}
	check(want{"topic send", "@TGS#_c", 1})

	// Live rooms: sends and broadcasts name the room; its history to a
	// joining member does not.
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "AVChatRoom", GroupID: "live", Name: "l"}, false); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if _, err := f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "live", Admin: true, Body: hello}); err != nil {
		t.Fatal(err)
	}
	check(want{"live-room send", "live", 1})
	if _, err := f.svc.SendBroadcast(ctx, f.app, BroadcastRequest{Body: hello}); err != nil {
		t.Fatal(err)
	}
	check(want{"live-room broadcast", "live", 1})
	f.svc.liveTipsMax = 0
	if _, err := f.svc.JoinGroup(ctx, f.app, "x", "live", ""); err != nil {
		t.Fatal(err)
	}
	var history, tips []bus.Delivery
	for _, d := range f.collectGroup() {
		if d.Entry.Kind == store.KindGroupTips {
			tips = append(tips, d)
		} else {
			history = append(history, d)
		}
	}
	if len(history) == 0 {
		t.Fatal("no live history to the joining member")
	}
	for _, d := range history {
		if d.Group.Group != "" {
			t.Errorf("live history to one member names group %q", d.Group.Group)
		}
	}
	for _, d := range tips {
		if d.Group.Group != "live" {
			t.Errorf("live join tip to all members names group %q, want live", d.Group.Group)
		}
	}
}
