package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// testConversations runs the conversation tests (store.ConvIndex and
// store.ConvStates), each with users of its own on one store.
func testConversations(t *testing.T, s store.Store) {
	// Conversation state is kept for imported accounts only.
	importUsers(t, s, app1, "a2", "a3", "a4", "a5", "a7")
	importUsers(t, s, app2, "a6")
	t.Run("LastMessageFollowsSends", func(t *testing.T) { testConvLast(t, s) })
	t.Run("DeleteAndComeBack", func(t *testing.T) { testConvDelete(t, s) })
	t.Run("DeleteClearsHistory", func(t *testing.T) { testConvClear(t, s) })
	t.Run("PinsAndMarks", func(t *testing.T) { testConvPinsMarks(t, s) })
	t.Run("Groups", func(t *testing.T) { testConvGroups(t, s) })
	t.Run("OtherAppUntouched", func(t *testing.T) { testConvOtherApp(t, s) })
	t.Run("LimitsConcurrent", func(t *testing.T) { testConvLimitsConcurrent(t, s) })
}

func c2c(peer string) store.ConvID { return store.ConvID{Type: store.ConvC2C, Peer: peer} }

func convs(t *testing.T, s store.Store, app int64, owner string) map[string]store.ConvLast {
	t.Helper()
	cs, err := s.Conversations(ctx, app, owner)
	if err != nil {
		t.Fatalf("Conversations(%s): %v", owner, err)
	}
	out := map[string]store.ConvLast{}
	for _, c := range cs {
		if c.Type != store.ConvC2C {
			t.Fatalf("conversation %+v: want type 1", c)
		}
		out[c.Peer] = c
	}
	return out
}

func wantLast(t *testing.T, got map[string]store.ConvLast, peer string, e store.Entry) {
	t.Helper()
	want := store.ConvLast{ConvID: c2c(peer), MsgTime: e.MsgTime, MsgKey: e.MsgKey, From: e.From, Seq: e.Seq}
	if got[peer] != want {
		t.Fatalf("conversation with %s = %+v, want %+v", peer, got[peer], want)
	}
}

func testConvLast(t *testing.T, s store.Store) {
	// In one batch: a1→b1, b1→a1 (the last of the pair), a1→c1; then a1→b1 alone.
	res := applyOK(t, s, send("a1", "b1", 1, ""), send("b1", "a1", 2, ""), send("a1", "c1", 3, ""))
	a := convs(t, s, app1, "a1")
	if len(a) != 2 {
		t.Fatalf("a1 has %d conversations, want 2: %+v", len(a), a)
	}
	wantLast(t, a, "b1", res[1].Entries[1]) // a1's copy (the receiver's)
	wantLast(t, a, "c1", res[2].Entries[0])
	b := convs(t, s, app1, "b1")
	wantLast(t, b, "a1", res[1].Entries[0])
	wantLast(t, convs(t, s, app1, "c1"), "a1", res[2].Entries[1])

	res = applyOK(t, s, send("a1", "b1", 4, ""))
	wantLast(t, convs(t, s, app1, "a1"), "b1", res[0].Entries[0])
	wantLast(t, convs(t, s, app1, "b1"), "a1", res[0].Entries[1])

	// A retry (same ClientID) changes nothing; a message to oneself lists oneself.
	r1 := applyOK(t, s, send("a1", "c1", 5, "cid-1"))
	applyOK(t, s, send("c1", "a1", 6, ""))
	if r := applyOK(t, s, send("a1", "c1", 7, "cid-1")); !r[0].Duplicate {
		t.Fatal("retry not a duplicate")
	}
	if got := convs(t, s, app1, "a1")["c1"]; got.From != "c1" {
		t.Fatalf("a retry moved the last message: %+v (first send %s)", got, r1[0].Entries[0].MsgKey)
	}
	self := applyOK(t, s, send("d1", "d1", 8, ""))
	wantLast(t, convs(t, s, app1, "d1"), "d1", self[0].Entries[0])
	if n := len(convs(t, s, app1, "nobody")); n != 0 {
		t.Fatalf("a user without messages has %d conversations", n)
	}
}

func testConvDelete(t *testing.T, s store.Store) {
	applyOK(t, s, send("a2", "b2", 1, ""), send("b2", "a2", 2, ""), send("a2", "c2", 3, ""))
	if err := s.SetPinned(ctx, app1, "a2", c2c("b2"), true, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, app1, "a2", c2c("b2"), false, t0); err != nil {
		t.Fatal(err)
	}
	a := convs(t, s, app1, "a2")
	if _, ok := a["b2"]; ok || len(a) != 1 {
		t.Fatalf("after delete: %+v", a)
	}
	if _, ok := convs(t, s, app1, "b2")["a2"]; !ok {
		t.Fatal("the peer's conversation was deleted too")
	}
	st, _, err := s.ConvStates(ctx, app1, "a2")
	if err != nil || len(st) != 0 {
		t.Fatalf("state after delete: %+v, %v", st, err)
	}
	// Without ClearRamble the history stays.
	h, err := s.History(ctx, app1, "a2", "b2", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{})
	if err != nil || len(h) != 2 {
		t.Fatalf("history after delete: %d messages, %v", len(h), err)
	}
	// Deleting a missing conversation is no error; a new message brings it back.
	if err := s.DeleteConversation(ctx, app1, "a2", c2c("zz"), true, t0); err != nil {
		t.Fatal(err)
	}
	res := applyOK(t, s, send("b2", "a2", 4, ""))
	wantLast(t, convs(t, s, app1, "a2"), "b2", res[0].Entries[1])
}

func testConvClear(t *testing.T, s store.Store) {
	res := applyOK(t, s, send("a3", "b3", 1, "x1"), send("b3", "a3", 2, ""), send("b3", "a3", 3, ""), send("c3", "a3", 4, ""))
	before := lastSeq(t, s, app1, "a3")
	if err := s.DeleteConversation(ctx, app1, "a3", c2c("b3"), true, t0); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, app1, "a3", "b3", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{})
	if err != nil || len(h) != 0 {
		t.Fatalf("a3's history after clear: %d, %v", len(h), err)
	}
	u, err := s.Unread(ctx, app1, "a3", nil, time.Time{}, time.Time{})
	if err != nil || u["b3"] != 0 || u["c3"] != 1 {
		t.Fatalf("unread after clear: %v, %v", u, err)
	}
	for _, e := range syncAll(t, s, app1, "a3") {
		if e.Kind == store.KindMsg && e.Peer == "b3" {
			t.Fatalf("a3's log still has %+v", e)
		}
	}
	if _, err := s.FindMessage(ctx, app1, "a3", "b3", res[1].Entries[0].MsgKey); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("FindMessage after clear: %v", err)
	}
	// The peer keeps its copies; a recall still finds them.
	h, err = s.History(ctx, app1, "b3", "a3", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{})
	if err != nil || len(h) != 3 {
		t.Fatalf("b3's history: %d, %v", len(h), err)
	}
	applyOK(t, s, recall("b3", "a3", res[1].Entries[0].MsgKey, 5))
	if e := findMessage(t, s, "b3", "a3", res[1].Entries[0].MsgKey); !e.Recalled {
		t.Fatal("recall of a cleared message did not reach the peer's copy")
	}
	if h, _ := s.History(ctx, app1, "a3", "b3", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{}); len(h) != 0 {
		t.Fatalf("a recall brought back a3's copy: %+v", h)
	}
	// A retry of a3's ClientID answers with the message b3 still has.
	if r := applyOK(t, s, send("a3", "b3", 6, "x1")); !r[0].Duplicate || r[0].Entries[0].MsgKey != res[0].Entries[0].MsgKey {
		t.Fatalf("retry after clear: %+v", r[0])
	}
	// Seqs go on from where they were.
	r := applyOK(t, s, send("b3", "a3", 7, ""))
	if got := r[0].Entries[1].Seq; got <= before {
		t.Fatalf("a3's next Seq %d, want > %d", got, before)
	}
	wantLast(t, convs(t, s, app1, "a3"), "b3", r[0].Entries[1])
}

// mark1 is SetMarks of one change.
func mark1(s store.Store, owner string, c store.ConvID, set, clear uint64, custom *string, maxMarked int, at time.Time) (store.ConvState, error) {
	st, res, err := s.SetMarks(ctx, app1, owner, []store.MarkChange{{Conv: c, Set: set, Clear: clear, Custom: custom}}, maxMarked, at)
	if err != nil {
		return store.ConvState{}, err
	}
	return st[0], res[0]
}

func testConvPinsMarks(t *testing.T, s store.Store) {
	at := t0.Add(time.Hour)
	if err := s.SetPinned(ctx, app1, "a4", c2c("b4"), true, at); err != nil {
		t.Fatal(err)
	}
	st, err := mark1(s, "a4", c2c("b4"), 1<<0|1<<3|1<<40, 0, nil, 2, at)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Pinned || st.Marks != 1|1<<3|1<<40 || st.CustomMark != "" || !st.UpdatedAt.Equal(at) {
		t.Fatalf("state = %+v", st)
	}
	cm := "abcd"
	if st, err = mark1(s, "a4", c2c("b4"), 1<<1, 1<<3, &cm, 2, at); err != nil || st.Marks != 1|1<<1|1<<40 || st.CustomMark != "abcd" {
		t.Fatalf("state = %+v, %v", st, err)
	}
	if _, err := mark1(s, "a4", c2c("c4"), 0, 0, &cm, 2, at); err != nil {
		t.Fatal(err)
	}
	// A third marked conversation is over the limit of 2: nothing changes.
	if _, err := mark1(s, "a4", c2c("d4"), 1, 0, nil, 2, at); !isErr(err, errs.ErrLimit) {
		t.Fatalf("third marked conversation: %v, want ErrLimit", err)
	}
	// Clearing a conversation's marks makes room.
	empty := ""
	if _, err := mark1(s, "a4", c2c("c4"), 0, 0, &empty, 2, at); err != nil {
		t.Fatal(err)
	}
	if _, err := mark1(s, "a4", c2c("d4"), 1, 0, nil, 2, at); err != nil {
		t.Fatal(err)
	}
	// In one call: a change over the limit fails alone; one that clears a
	// conversation's marks makes room for the next.
	st3, res, err := s.SetMarks(ctx, app1, "a4", []store.MarkChange{
		{Conv: c2c("e4"), Set: 1},      // b4 and d4 are marked: over 2
		{Conv: c2c("d4"), Clear: 1},    // d4 unmarked
		{Conv: c2c("e4"), Set: 1 << 2}, // now fits
		{Conv: c2c("f4"), Set: 1},      // over again
	}, 2, at)
	if err != nil || !isErr(res[0], errs.ErrLimit) || res[1] != nil || res[2] != nil || !isErr(res[3], errs.ErrLimit) {
		t.Fatalf("batch: %v, %v", res, err)
	}
	if st3[2].Peer != "e4" || st3[2].Marks != 1<<2 {
		t.Fatalf("batch states %+v", st3)
	}
	if _, err := mark1(s, "a4", c2c("d4"), 1, 0, nil, 2, at); !isErr(err, errs.ErrLimit) {
		t.Fatalf("d4 again: %v", err)
	}
	if _, err := mark1(s, "a4", c2c("e4"), 0, 1<<2, nil, 2, at); err != nil {
		t.Fatal(err)
	}
	if _, err := mark1(s, "a4", c2c("d4"), 1, 0, nil, 2, at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPinned(ctx, app1, "a4", c2c("b4"), false, at); err != nil {
		t.Fatal(err)
	}
	states, _, err := s.ConvStates(ctx, app1, "a4")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.ConvState{}
	for _, st := range states {
		got[st.Peer] = st
	}
	if len(got) != 4 || got["e4"].Marks != 0 || got["b4"].Pinned || got["b4"].Marks != 1|1<<1|1<<40 || got["c4"].Marks != 0 || got["d4"].Marks != 1 {
		t.Fatalf("states = %+v", states)
	}
}

func testConvGroups(t *testing.T, s store.Store) {
	at := t0.Add(2 * time.Hour)
	g1, err := s.CreateConvGroup(ctx, app1, "a5", "work", []store.ConvID{c2c("b5"), c2c("c5"), c2c("b5")}, 2, 2, at)
	if err != nil || g1.ID != 1 || g1.Name != "work" {
		t.Fatalf("create: %+v, %v", g1, err)
	}
	if _, err := s.CreateConvGroup(ctx, app1, "a5", "work", nil, 2, 2, at); !isErr(err, errs.ErrExists) {
		t.Fatalf("same name: %v", err)
	}
	if _, err := s.CreateConvGroup(ctx, app1, "a5", "big", []store.ConvID{c2c("x"), c2c("y"), c2c("z")}, 2, 2, at); !isErr(err, errs.ErrLimit) {
		t.Fatalf("3 conversations in a group of at most 2: %v", err)
	}
	g2, err := s.CreateConvGroup(ctx, app1, "a5", "home", nil, 2, 2, at)
	if err != nil || g2.ID != 2 {
		t.Fatalf("second group: %+v, %v", g2, err)
	}
	if _, err := s.CreateConvGroup(ctx, app1, "a5", "third", nil, 2, 2, at); !isErr(err, errs.ErrLimit) {
		t.Fatalf("third group of at most 2: %v", err)
	}
	if _, err := s.RenameConvGroup(ctx, app1, "a5", "home", "work", at); !isErr(err, errs.ErrExists) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if _, err := s.RenameConvGroup(ctx, app1, "a5", "nope", "x", at); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("rename a missing group: %v", err)
	}
	if g, err := s.RenameConvGroup(ctx, app1, "a5", "home", "family", at); err != nil || g.ID != 2 {
		t.Fatalf("rename: %+v, %v", g, err)
	}
	_, res, err := s.UpdateConvGroup(ctx, app1, "a5", "family", []store.ConvID{c2c("b5"), c2c("d5"), c2c("e5")}, nil, 2, at)
	if err != nil || len(res) != 3 || res[0] != nil || res[1] != nil || !isErr(res[2], errs.ErrLimit) {
		t.Fatalf("update: %v, %v", res, err)
	}
	if _, _, err := s.UpdateConvGroup(ctx, app1, "a5", "work", nil, []store.ConvID{c2c("c5")}, 2, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateConvGroup(ctx, app1, "a5", "nope", nil, nil, 2, at); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("update a missing group: %v", err)
	}
	states, groups, err := s.ConvStates(ctx, app1, "a5")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(groups, []store.ConvGroup{{ID: 1, Name: "work"}, {ID: 2, Name: "family"}}) {
		t.Fatalf("groups = %+v", groups)
	}
	in := map[string][]int64{}
	for _, st := range states {
		if len(st.Groups) > 0 {
			in[st.Peer] = st.Groups
		}
	}
	if !reflect.DeepEqual(in, map[string][]int64{"b5": {1, 2}, "d5": {2}}) {
		t.Fatalf("membership = %v", in)
	}
	gone, err := s.DeleteConvGroups(ctx, app1, "a5", []string{"work", "nope"})
	if err != nil || len(gone) != 1 || gone[0].ID != 1 {
		t.Fatalf("delete: %+v, %v", gone, err)
	}
	states, groups, _ = s.ConvStates(ctx, app1, "a5")
	var left []string
	for _, st := range states {
		for _, g := range st.Groups {
			if g == 1 {
				t.Fatalf("%s still in a deleted group", st.Peer)
			}
		}
		if len(st.Groups) > 0 {
			left = append(left, st.Peer)
		}
	}
	sort.Strings(left)
	if len(groups) != 1 || !reflect.DeepEqual(left, []string{"b5", "d5"}) {
		t.Fatalf("after delete: groups %+v, members %v", groups, left)
	}
	// Deleting the conversation takes it out of its groups.
	if err := s.DeleteConversation(ctx, app1, "a5", c2c("b5"), false, at); err != nil {
		t.Fatal(err)
	}
	states, _, _ = s.ConvStates(ctx, app1, "a5")
	for _, st := range states {
		if st.Peer == "b5" {
			t.Fatalf("b5 kept state %+v", st)
		}
	}
}

func testConvOtherApp(t *testing.T, s store.Store) {
	op := send("a6", "b6", 1, "")
	op.App = app2
	applyOK(t, s, op)
	if len(convs(t, s, app1, "a6")) != 0 || len(convs(t, s, app2, "a6")) != 1 {
		t.Fatal("conversations leak across apps")
	}
	if err := s.SetPinned(ctx, app2, "a6", c2c("b6"), true, t0); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.ConvStates(ctx, app1, "a6"); len(st) != 0 {
		t.Fatalf("state leaks across apps: %+v", st)
	}
}

// Concurrent creations and marks keep the per-user limits exactly (the
// owner's lock row serialises them, also across nodes).
func testConvLimitsConcurrent(t *testing.T, s store.Store) {
	const n, limit = 12, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, marked := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, gerr := s.CreateConvGroup(ctx, app1, "a7", fmt.Sprintf("g%d", i), nil, limit, 10, t0)
			_, merr := mark1(s, "a7", c2c(fmt.Sprintf("p%d", i)), 1, 0, nil, limit, t0)
			mu.Lock()
			defer mu.Unlock()
			for _, e := range []struct {
				err error
				n   *int
			}{{gerr, &created}, {merr, &marked}} {
				switch {
				case e.err == nil:
					*e.n++
				case !isErr(e.err, errs.ErrLimit):
					t.Errorf("unexpected error %v", e.err)
				}
			}
		}()
	}
	wg.Wait()
	states, groups, err := s.ConvStates(ctx, app1, "a7")
	if err != nil {
		t.Fatal(err)
	}
	if created != limit || len(groups) != limit || marked != limit || len(states) != limit {
		t.Fatalf("created %d (%d stored), marked %d (%d stored), want %d each", created, len(groups), marked, len(states), limit)
	}
}
