package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func init() {
	callbackTests = append(callbackTests, []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CallbackWithCallbacksFor", testCallbackWithCallbacksFor},
		{"CallbackWithCallbacksForNone", testCallbackWithCallbacksForNone},
		{"CallbackWithCallbacksForDisband", testCallbackWithCallbacksForDisband},
		{"CallbackDeletedAppDropped", testCallbackDeletedAppDropped},
	}...)
}

// builder is a WithCallbacksFor build that records the items of each call and
// makes one event of app1 named after them, joined by ",".
type builder struct {
	mu    sync.Mutex
	calls [][]string
}

func (b *builder) build(applied []string) []store.CallbackEvent {
	b.mu.Lock()
	b.calls = append(b.calls, append([]string(nil), applied...))
	b.mu.Unlock()
	return []store.CallbackEvent{cbEvent(app1, strings.Join(applied, ","), 0)}
}

// failing returns a ctx whose build records the items and then cancels the
// ctx: the method's transaction fails after applying them.
func (b *builder) failing() context.Context {
	c, cancel := context.WithCancel(ctx)
	return store.WithCallbacksFor(c, func(applied []string) []store.CallbackEvent {
		evs := b.build(applied)
		cancel()
		return evs
	})
}

// claimNames claims every due event of app1 and returns their names.
func claimNames(t *testing.T, s store.Store, node string) []string {
	t.Helper()
	return names(claimCB(t, s, app1, node, t0.Add(time.Hour), time.Hour, 100))
}

func testCallbackWithCallbacksFor(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b", "c", "d", "e")
	// Members: of a (added), zz (no user), b (added), o (a member), c (the
	// group full), only a and b are applied.
	g := newGroup("g", store.GroupPublic, "o")
	g.MaxMemberNum = 3
	mustCreate(t, s, g, noQuota)
	b := &builder{}
	res, err := s.AddGroupMembers(store.WithCallbacksFor(ctx, b.build), app1, "g",
		[]store.GroupMember{mem("a"), mem("zz"), mem("b"), mem("o"), mem("c")}, noQuota)
	if err != nil || res[0] != nil || !isErr(res[1], errs.ErrNotFound) || res[2] != nil || !isErr(res[3], errs.ErrExists) || limitOf(res[4]) != store.LimitFull {
		t.Fatalf("AddGroupMembers = %v, %v", res, err)
	}
	if !reflect.DeepEqual(b.calls, [][]string{{"a", "b"}}) {
		t.Fatalf("build called with %v, want [[a b]]", b.calls)
	}
	if got := claimNames(t, s, "n1"); !reflect.DeepEqual(got, []string{"a,b"}) {
		t.Fatalf("events after AddGroupMembers = %v, want [a,b]", got)
	}

	// Blocks: of d (blocked already), b (blocked), zed (no user), b again, c
	// (blocked), e (the list full at 3), only b and c are applied.
	if _, err := s.AddBlocks(ctx, app1, "a", []string{"d"}, t0, 3); err != nil {
		t.Fatal(err)
	}
	b = &builder{}
	bctx := store.WithCallbacksFor(ctx, b.build)
	got, err := s.AddBlocks(bctx, app1, "a", []string{"d", "b", "zed", "b", "c", "e"}, t0, 3)
	if err != nil || !isErr(got["d"], errs.ErrExists) || got["b"] != nil || !isErr(got["zed"], errs.ErrNotFound) ||
		got["c"] != nil || !isErr(got["e"], errs.ErrLimit) {
		t.Fatalf("AddBlocks = %v, %v", got, err)
	}
	if !reflect.DeepEqual(b.calls, [][]string{{"b", "c"}}) {
		t.Fatalf("build called with %v, want [[b c]]", b.calls)
	}
	// A later call under the same ctx appends no more: the events are written.
	if got, err := s.AddBlocks(bctx, app1, "b", []string{"e"}, t0, 0); err != nil || got["e"] != nil {
		t.Fatalf("AddBlocks under a used ctx = %v, %v", got, err)
	}
	if got := claimNames(t, s, "n2"); !reflect.DeepEqual(got, []string{"b,c"}) {
		t.Fatalf("events after AddBlocks = %v, want [b,c]", got)
	}

	// Methods that do not say so ignore it.
	b = &builder{}
	fctx := store.WithCallbacksFor(ctx, b.build)
	if n, err := s.AddFriends(fctx, app1, both("d", "e", 1), 0); err != nil || n != 2 {
		t.Fatalf("AddFriends = %d, %v", n, err)
	}
	if err := s.PutGroupRequest(fctx, app1, store.GroupRequest{GroupID: "g", UserID: "d", Kind: store.GroupApply, At: t0}); err != nil {
		t.Fatal(err)
	}
	if got := claimNames(t, s, "n3"); len(b.calls) != 0 || len(got) != 0 {
		t.Fatalf("other methods: build called %v, events %v", b.calls, got)
	}
	// With WithCallbacks too: its events first, then build's, in one transaction.
	b = &builder{}
	g2 := newGroup("g2", store.GroupPublic, "o")
	mustCreate(t, s, g2, noQuota)
	both := store.WithCallbacksFor(store.WithCallbacks(ctx, cbEvent(app1, "first", 0)), b.build)
	if res, err := s.AddGroupMembers(both, app1, "g2", []store.GroupMember{mem("d")}, noQuota); err != nil || res[0] != nil {
		t.Fatalf("AddGroupMembers = %v, %v", res, err)
	}
	if got := claimNames(t, s, "n4"); !reflect.DeepEqual(got, []string{"first", "d"}) {
		t.Fatalf("events = %v, want [first d]", got)
	}
}

// testCallbackWithCallbacksForNone: a call that applies nothing, or fails,
// appends nothing, and leaves build to a later call that applies items.
func testCallbackWithCallbacksForNone(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("g", store.GroupPublic, "o"), noQuota, "a")
	b := &builder{}
	bctx := store.WithCallbacksFor(ctx, b.build)
	// Nothing applied: a member already, no such user.
	if res, err := s.AddGroupMembers(bctx, app1, "g", []store.GroupMember{mem("a"), mem("zz")}, noQuota); err != nil || !isErr(res[0], errs.ErrExists) {
		t.Fatalf("AddGroupMembers = %v, %v", res, err)
	}
	if got, err := s.AddBlocks(bctx, app1, "o", []string{"zz"}, t0, 0); err != nil || !isErr(got["zz"], errs.ErrNotFound) {
		t.Fatalf("AddBlocks = %v, %v", got, err)
	}
	if got, err := s.AddBlocks(bctx, app1, "o", nil, t0, 0); err != nil || len(got) != 0 {
		t.Fatalf("AddBlocks of none = %v, %v", got, err)
	}
	// Failing calls: no group, no owner.
	if _, err := s.AddGroupMembers(bctx, app1, "none", []store.GroupMember{mem("b")}, noQuota); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("AddGroupMembers to no group: %v", err)
	}
	if _, err := s.AddBlocks(bctx, app1, "nobody", []string{"a"}, t0, 0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("AddBlocks of no owner: %v", err)
	}
	if n := backlog(t, s, app1); n != 0 || len(b.calls) != 0 {
		t.Fatalf("after calls applying nothing: backlog %d, build called %v", n, b.calls)
	}
	// A call that fails after applying items (here the ctx is cancelled while
	// build runs) appends nothing and applies nothing.
	if _, err := s.AddGroupMembers(b.failing(), app1, "g", []store.GroupMember{mem("b")}, noQuota); err == nil {
		t.Fatal("AddGroupMembers with its ctx cancelled in the transaction succeeded")
	}
	if ms, err := s.GroupMembers(ctx, app1, "g", []string{"b"}); err != nil || len(ms) != 0 {
		t.Fatalf("members after a failed AddGroupMembers = %v, %v", ms, err)
	}
	if _, err := s.AddBlocks(b.failing(), app1, "o", []string{"a", "b"}, t0, 0); err == nil {
		t.Fatal("AddBlocks with its ctx cancelled in the transaction succeeded")
	}
	if rel := relBlocks(t, s, "o", "a", "b"); rel["a"].Mine || rel["b"].Mine {
		t.Fatalf("blocks after a failed AddBlocks = %+v", rel)
	}
	if n := backlog(t, s, app1); n != 0 || !reflect.DeepEqual(b.calls, [][]string{{"b"}, {"a", "b"}}) {
		t.Fatalf("after failed calls: backlog %d, build called %v", n, b.calls)
	}
	b.calls = nil
	// The call that applies items appends once.
	if got, err := s.AddBlocks(bctx, app1, "o", []string{"b"}, t0, 0); err != nil || got["b"] != nil {
		t.Fatalf("AddBlocks = %v, %v", got, err)
	}
	if got := claimNames(t, s, "n1"); !reflect.DeepEqual(got, []string{"b"}) || !reflect.DeepEqual(b.calls, [][]string{{"b"}}) {
		t.Fatalf("events = %v, build called %v; want [b]", got, b.calls)
	}
}

func relBlocks(t *testing.T, s store.Store, user string, others ...string) map[string]store.Relation {
	t.Helper()
	rel, err := s.BlockRelations(ctx, app1, user, others)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// testCallbackWithCallbacksForDisband: RemoveGroupMembers builds of its
// GroupID only when it disbands the group.
func testCallbackWithCallbacksForDisband(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a")
	mustCreate(t, s, newGroup("w", store.GroupWork, "o"), noQuota, "a")
	b := &builder{}
	// The owner leaves with a member left: ownership passes; then a non-member.
	r, err := s.RemoveGroupMembers(store.WithCallbacksFor(ctx, b.build), app1, "w", []string{"o"}, noQuota)
	if err != nil || r.Disbanded || r.NewOwner != "a" {
		t.Fatalf("owner leaves = %+v, %v", r, err)
	}
	if r, err := s.RemoveGroupMembers(store.WithCallbacksFor(ctx, b.build), app1, "w", []string{"o"}, noQuota); err != nil || len(r.Removed) != 0 {
		t.Fatalf("a non-member leaves = %+v, %v", r, err)
	}
	if len(b.calls) != 0 || backlog(t, s, app1) != 0 {
		t.Fatalf("no disband: build called %v, backlog %d", b.calls, backlog(t, s, app1))
	}
	// The last one, the owner now, leaves: disbanded, after the exit event.
	rctx := store.WithCallbacksFor(store.WithCallbacks(ctx, cbEvent(app1, "exit", 0)), b.build)
	if r, err := s.RemoveGroupMembers(rctx, app1, "w", []string{"a"}, noQuota); err != nil || !r.Disbanded {
		t.Fatalf("last leaves = %+v, %v", r, err)
	}
	if !reflect.DeepEqual(b.calls, [][]string{{"w"}}) {
		t.Fatalf("build called with %v, want [[w]]", b.calls)
	}
	if got := claimNames(t, s, "n1"); !reflect.DeepEqual(got, []string{"exit", "w"}) {
		t.Fatalf("events = %v, want [exit w]", got)
	}
	// A failing call (the group is gone) appends nothing.
	if _, err := s.RemoveGroupMembers(store.WithCallbacksFor(ctx, b.build), app1, "w", []string{"a"}, noQuota); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("remove from a disbanded group: %v", err)
	}
	if got := claimNames(t, s, "n2"); len(got) != 0 {
		t.Fatalf("events after a failed call: %v", got)
	}
}

// testCallbackDeletedAppDropped: events of a deleted app are never appended,
// whatever carries them: WithCallbacks into DeleteApp or into a batch after
// the deletion, Op.Callback, AppendCallbacks. Another app's go in.
func testCallbackDeletedAppDropped(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	doomed := createApp(t, s, "acc1", "doomed", 0).SDKAppID
	kept := createApp(t, s, "acc1", "kept", 0).SDKAppID
	if err := s.DeleteApp(store.WithCallbacks(ctx, cbEvent(doomed, "delete", 0), cbEvent(kept, "kept-delete", 0)), doomed, t0); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, s, doomed); n != 0 {
		t.Fatalf("backlog of the deleted app after DeleteApp under WithCallbacks = %d", n)
	}
	op := onSend(send("a", "b", 1, "c1"), "doomed-op")
	op.App = doomed
	keptOp := onSend(send("a", "b", 1, "c1"), "kept-op")
	keptOp.App = kept
	res, err := s.Apply(store.WithCallbacks(ctx, cbEvent(doomed, "batch", 0), cbEvent(kept, "kept-batch", 0)), []store.Op{op, keptOp})
	if err != nil || res[0].Err == nil || res[1].Err != nil {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if n := backlog(t, s, doomed); n != 0 {
		t.Fatalf("backlog of the deleted app after Apply under WithCallbacks = %d", n)
	}
	if err := s.AppendCallbacks(ctx, []store.CallbackEvent{cbEvent(doomed, "append", 0), cbEvent(kept, "kept-append", 0)}); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, s, doomed); n != 0 {
		t.Fatalf("backlog of the deleted app after AppendCallbacks = %d", n)
	}
	if got := dueApps(t, s, t0.Add(time.Hour), 10); !reflect.DeepEqual(got, []int64{kept}) {
		t.Fatalf("due apps = %v, want [%d]", got, kept)
	}
	if got := claimCB(t, s, doomed, "n1", t0.Add(time.Hour), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed of the deleted app: %+v", got)
	}
	// (The embedded store keeps a batch's events apart from the others': the
	// order across them is by CreatedAt, the same here.)
	var got []string
	for _, e := range claimCB(t, s, kept, "n1", t0.Add(time.Hour), time.Minute, 10) {
		got = append(got, string(e.Body))
	}
	slices.Sort(got)
	op0 := res[1].Entries[0]
	want := []string{
		string(cbEvent(kept, "kept-append", 0).Body), string(cbEvent(kept, "kept-batch", 0).Body), string(cbEvent(kept, "kept-delete", 0).Body),
		fmt.Sprintf(`{"n":"kept-op","owner":"a","seq":%d,"key":%q,"group":"","kind":"msg"}`, op0.Seq, op0.MsgKey),
	}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the kept app's events\n got  %v\n want %v", got, want)
	}
}
