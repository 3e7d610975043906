package im

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// The after-events whose items only the store knows (the members a call adds,
// the peers it blocks, whether a quit disbands) are appended in the store's
// transaction (store.WithCallbacksFor), never through Hooks.Emit after it.

// listed returns the accounts of a callback member or pair list (field key of
// each element).
func listed(t *testing.T, m map[string]any, list, key string) []string {
	t.Helper()
	items, _ := m[list].([]any)
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)[key].(string))
	}
	return out
}

// noEmits fails when any of the atomic commands went through Hooks.Emit.
func noEmits(t *testing.T, h *fakeHooks) {
	t.Helper()
	for _, c := range h.emitted() {
		if c == callback.GroupAfterNewMemberJoin || c == callback.SnsBlackListAdd || c == callback.GroupAfterGroupDestroyed {
			t.Fatalf("%s was appended through Hooks.Emit, after the store's commit", c)
		}
	}
}

func testAtomicJoinEvents(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	// Room for two more: of alice, bob (added), m (the group full), only
	// alice and bob are in the event.
	g := f.group(t, GroupSpec{Owner: "o", Type: "Public", Name: "g", ApplyJoinOption: ApplyFree, MaxMemberCount: 3})
	f.outbox(t)
	out, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, g, []string{"alice", "bob", "m"}, false)
	wantCode(t, "invite", err, 0)
	if out[0].Result != AddAdded || out[1].Result != AddAdded || out[2].Result != AddFailed {
		t.Fatalf("invite results %+v", out)
	}
	m := f.only(t, callback.GroupAfterNewMemberJoin)
	if got := listed(t, m, "NewMemberList", "Member_Account"); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("NewMemberList %v, want [alice bob]", got)
	}
	want(t, m, "JoinType", "Invited")
	want(t, m, "Operator_Account", "administrator")
	// Full: neither an invitation nor a join appends anything.
	_, err = f.svc.AddGroupMembers(ctx, f.app, AdminActor, g, []string{"m"}, false)
	wantCode(t, "invite into a full group", err, errs.GroupFull)
	_, err = f.svc.JoinGroup(ctx, f.app, "x", g, "")
	wantCode(t, "join a full group", err, errs.GroupFull)
	f.empty(t, "adds to a full group")
	// A join with room.
	wantCode(t, "kick", f.svc.DeleteGroupMembers(ctx, f.app, AdminActor, g, []string{"bob"}, true, ""), 0)
	f.outbox(t)
	_, err = f.svc.JoinGroup(ctx, f.app, "x", g, "")
	wantCode(t, "join", err, 0)
	m = f.only(t, callback.GroupAfterNewMemberJoin)
	if got := listed(t, m, "NewMemberList", "Member_Account"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("NewMemberList %v, want [x]", got)
	}
	want(t, m, "JoinType", "Apply")
	noEmits(t, h)
}

func testAtomicBlockEvents(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	_, err := f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob"})
	wantCode(t, "block", err, 0)
	f.outbox(t)
	// Of bob (blocked already), nobody (no account), alice (herself), m and
	// x, only m and x are in the event.
	out, err := f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob", "nobody", "alice", "m", "x"})
	wantCode(t, "block", err, 0)
	if out[0].Err == nil || out[1].Err == nil || out[2].Err == nil || out[3].Err != nil || out[4].Err != nil {
		t.Fatalf("block results %+v", out)
	}
	m := f.only(t, callback.SnsBlackListAdd)
	if got := listed(t, m, "PairList", "To_Account"); !slices.Equal(got, []string{"m", "x"}) {
		t.Fatalf("PairList To %v, want [m x]", got)
	}
	if got := listed(t, m, "PairList", "From_Account"); !slices.Equal(got, []string{"alice", "alice"}) {
		t.Fatalf("PairList From %v", got)
	}
	_, err = f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob", "nobody"})
	wantCode(t, "nothing to block", err, 0)
	f.empty(t, "no one blocked")
	noEmits(t, h)
}

func testAtomicLastQuitEvents(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	// The owner quits a Work group with a member left: no destroy.
	w := f.group(t, GroupSpec{Owner: "o", Type: "Work", Name: "w", Members: []MemberSpec{{UserID: "m"}}})
	f.outbox(t)
	wantCode(t, "owner quits", f.svc.QuitGroup(ctx, f.app, "o", w), 0)
	want(t, f.only(t, callback.GroupAfterMemberExit), "ExitType", "Quit")
	// The last one quits: its exit, then the group's end, once each.
	wantCode(t, "last quits", f.svc.QuitGroup(ctx, f.app, "m", w), 0)
	evs := f.outbox(t)
	if cs := commandsOf(evs); !slices.Equal(cs, []string{callback.GroupAfterMemberExit, callback.GroupAfterGroupDestroyed}) {
		t.Fatalf("last quit: %v", cs)
	}
	d := decodeEvent(t, evs[1])
	want(t, d, "GroupId", w)
	want(t, d, "Owner_Account", "m")
	want(t, d, "MemberList", []map[string]string{{"Member_Account": "m"}})
	err := f.svc.QuitGroup(ctx, f.app, "m", w)
	wantCode(t, "quit a disbanded group", err, errs.GroupNotFound)
	f.empty(t, "quit of a disbanded group")
	noEmits(t, h)
}

// testAtomicJoinsConcurrent: users join a group with less room than them at
// once, by joins and overlapping invitations: every member added is in
// exactly one event, and no one else is.
func testAtomicJoinsConcurrent(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	var users []store.User
	var ids []string
	for i := 0; i < 10; i++ {
		ids = append(ids, fmt.Sprintf("j%02d", i))
		users = append(users, store.User{UserID: ids[i]})
	}
	wantCode(t, "import", f.svc.ImportAccounts(ctx, f.app, users), 0)
	g := f.group(t, GroupSpec{Owner: "o", Type: "Public", Name: "g", ApplyJoinOption: ApplyFree, MaxMemberCount: 7})
	f.outbox(t)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := f.svc.JoinGroup(ctx, f.app, id, g, "")
				if err != nil && !errs.Is(err, errs.GroupFull) && !errs.Is(err, errs.GroupAlreadyMember) {
					t.Errorf("join %s: %v", id, err)
				}
				return
			}
			_, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, g, []string{id, ids[(i+1)%len(ids)], ids[(i+3)%len(ids)]}, true)
			if err != nil && !errs.Is(err, errs.GroupFull) {
				t.Errorf("invite with %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	members, err := f.svc.store.GroupMemberIDs(context.Background(), f.app.SDKAppID, g)
	if err != nil {
		t.Fatal(err)
	}
	members = slices.DeleteFunc(members, func(u string) bool { return u == "o" })
	var got []string
	for _, ev := range f.outbox(t) {
		if ev.Command != callback.GroupAfterNewMemberJoin {
			t.Fatalf("event %s", ev.Command)
		}
		got = append(got, listed(t, decodeEvent(t, ev), "NewMemberList", "Member_Account")...)
	}
	slices.Sort(got)
	if len(members) != 6 || !slices.Equal(got, members) {
		t.Fatalf("joined (events) %v, members %v (want 6, each once)", got, members)
	}
	noEmits(t, h)
}

// testAtomicBlocksConcurrent: overlapping blocklist additions of one user at
// once: every peer blocked is in exactly one event.
func testAtomicBlocksConcurrent(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	var users []store.User
	var ids []string
	for i := 0; i < 12; i++ {
		ids = append(ids, fmt.Sprintf("b%02d", i))
		users = append(users, store.User{UserID: ids[i]})
	}
	wantCode(t, "import", f.svc.ImportAccounts(ctx, f.app, users), 0)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tos := []string{ids[(2*i)%12], ids[(2*i+1)%12], ids[(2*i+2)%12], ids[(2*i+5)%12]}
			if _, err := f.svc.AddBlocks(ctx, f.app, "alice", tos); err != nil {
				t.Errorf("block %v: %v", tos, err)
			}
		}()
	}
	wg.Wait()
	var got []string
	for _, ev := range f.outbox(t) {
		if ev.Command != callback.SnsBlackListAdd {
			t.Fatalf("event %s", ev.Command)
		}
		got = append(got, listed(t, decodeEvent(t, ev), "PairList", "To_Account")...)
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Fatalf("blocked (events) %v, want each of %v once", got, ids)
	}
	noEmits(t, h)
}

// TestCallbacksAtomic runs the tests above on each store.
func TestCallbacksAtomic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, tc := range []struct {
			name string
			fn   func(*testing.T, testdb.Opener)
		}{
			{"JoinEvents", testAtomicJoinEvents},
			{"BlockEvents", testAtomicBlockEvents},
			{"LastQuitEvents", testAtomicLastQuitEvents},
			{"JoinsConcurrent", testAtomicJoinsConcurrent},
			{"BlocksConcurrent", testAtomicBlocksConcurrent},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
		}
	})
}
