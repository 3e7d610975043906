package im

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

func TestApplyMembers(t *testing.T) {
	in := func(u ...string) []memberOp {
		var ops []memberOp
		for _, x := range u {
			ops = append(ops, memberOp{x, true})
		}
		return ops
	}
	out := func(u ...string) []memberOp {
		var ops []memberOp
		for _, x := range u {
			ops = append(ops, memberOp{x, false})
		}
		return ops
	}
	for _, c := range []struct {
		ms   []string
		ops  []memberOp
		want string
	}{
		{nil, in("b"), "[b]"},
		{[]string{"b", "d"}, in("a", "c", "e"), "[a b c d e]"},
		{[]string{"b", "d"}, in("b"), "[b d]"},
		{[]string{"b", "d"}, out("a", "d"), "[b]"},
		{[]string{"b", "d"}, append(in("c"), out("d")...), "[b c]"},
		{[]string{"b", "d"}, append(out("d"), in("d")...), "[b d]"}, // quit then rejoin
		{[]string{"b", "d"}, append(in("c"), out("c")...), "[b d]"}, // join then quit
		{[]string{"a", "b", "c"}, append(out("a", "b", "c"), in("bb")...), "[bb]"},
	} {
		orig := slices.Clone(c.ms)
		got := applyMembers(c.ms, c.ops)
		if fmt.Sprint(got) != c.want {
			t.Errorf("applyMembers(%v, %v) = %v, want %s", c.ms, c.ops, got, c.want)
		}
		if !slices.Equal(orig, c.ms) {
			t.Errorf("applyMembers modified its input: %v", c.ms)
		}
	}
}

// TestMemberCacheInPlace: changes update the snapshot without a load and
// never modify a published one; a load in flight takes the changes applied
// meanwhile; a forget during a load, an unknown outcome and two overlapping
// changes of one user leave nothing cached.
func TestMemberCacheInPlace(t *testing.T) {
	var c memberCache
	k := groupKey{1, "g"}
	loads := 0
	load := func(ids ...string) func() ([]string, error) {
		return func() ([]string, error) { loads++; return slices.Clone(ids), nil }
	}
	first, _ := c.get(k, load("a", "c"))
	ch := c.begin(k, []string{"b"})
	c.end(ch, []string{"b"}, nil)
	ch = c.begin(k, []string{"c"})
	c.end(ch, nil, []string{"c"})
	got, _ := c.get(k, load("x"))
	if fmt.Sprint(got) != "[a b]" || loads != 1 {
		t.Fatalf("after join b and quit c: %v, %d loads", got, loads)
	}
	if fmt.Sprint(first) != "[a c]" {
		t.Fatalf("a published snapshot changed: %v", first)
	}
	if c.members != 2 || len(c.inflight) != 0 {
		t.Fatalf("members %d, in flight %d", c.members, len(c.inflight))
	}

	// A load overtaken by a change takes it: the read missed the join of d.
	c.forget(k)
	got, _ = c.get(k, func() ([]string, error) {
		ch := c.begin(k, []string{"d"})
		c.end(ch, []string{"d"}, nil)
		return []string{"a", "b"}, nil
	})
	if fmt.Sprint(got) != "[a b d]" {
		t.Fatalf("load overtaken by a join: %v", got)
	}
	if got, _ := c.get(k, load()); fmt.Sprint(got) != "[a b d]" {
		t.Fatalf("kept %v", got)
	}

	// A load overtaken by a forget is not kept (the race rule).
	c.forget(k)
	c.get(k, func() ([]string, error) { c.forget(k); return []string{"stale"}, nil })
	if got, _ := c.get(k, load("fresh")); fmt.Sprint(got) != "[fresh]" {
		t.Fatalf("a load overtaken by a forget was kept: %v", got)
	}

	// An unknown outcome forgets.
	ch = c.begin(k, []string{"e"})
	c.abort(ch)
	if _, ok := c.m[k]; ok {
		t.Fatal("abort kept the snapshot")
	}

	// Two changes of one user in flight at once: both ends forget.
	c.get(k, load("a"))
	ch1 := c.begin(k, []string{"u"})
	ch2 := c.begin(k, []string{"u"})
	c.end(ch2, nil, []string{"u"})
	if _, ok := c.m[k]; ok {
		t.Fatal("an overlapping change was applied")
	}
	c.get(k, load("a", "u"))
	c.end(ch1, []string{"u"}, nil)
	if _, ok := c.m[k]; ok {
		t.Fatal("the other overlapping change was applied")
	}
	if len(c.inflight) != 0 || len(c.loads) != 0 {
		t.Fatalf("in flight %d, loads %d", len(c.inflight), len(c.loads))
	}
}

// countingStore counts the reads of whole member lists.
type countingStore struct {
	store.Store
	memberIDs atomic.Int64
}

func (s *countingStore) GroupMemberIDs(ctx context.Context, app int64, groupID string) ([]string, error) {
	s.memberIDs.Add(1)
	return s.Store.GroupMemberIDs(ctx, app, groupID)
}

// countedFixture is a live fixture whose service counts member-list reads.
func countedFixture(t *testing.T, users ...string) (*liveFixture, *countingStore) {
	f := newLiveFixture(t, "premium", users...)
	cs := &countingStore{Store: f.st}
	b := attached(f.p)
	w := NewWriter(f.st, b, 64, nil)
	t.Cleanup(w.Close)
	f.svc = New(cs, f.clock, &gate.Gate{MAU: f.st, Clock: f.clock}, w, b)
	return f, cs
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// TestJoinsReadNoMemberList: joins, quits and sends of a live room and a
// group read the member list from the store once, not once per change.
func TestJoinsReadNoMemberList(t *testing.T) {
	for _, typ := range []string{"AVChatRoom", "Public"} {
		t.Run(typ, func(t *testing.T) {
			users := names("u", 50)
			f, cs := countedFixture(t, users...)
			ctx := context.Background()
			if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "owner", Type: typ, GroupID: "g", Name: "g", ApplyJoinOption: "FreeAccess"}, false); err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				if _, err := f.svc.JoinGroup(ctx, f.app, u, "g", ""); err != nil {
					t.Fatal(err)
				}
				if _, err := f.send(t, "g", "hi"); err != nil {
					t.Fatal(err)
				}
			}
			for _, u := range users[:10] {
				if err := f.svc.QuitGroup(ctx, f.app, u, "g"); err != nil {
					t.Fatal(err)
				}
			}
			if n := cs.memberIDs.Load(); n > 1 {
				t.Fatalf("%d member-list reads for 50 joins, 50 sends and 10 quits", n)
			}
			ms, _ := f.svc.groupMembers.get(groupKey{f.app.SDKAppID, "g"}, nil)
			want, _ := f.st.GroupMemberIDs(ctx, f.app.SDKAppID, "g")
			if !slices.Equal(ms, want) {
				t.Fatalf("cached %v, store %v", ms, want)
			}
		})
	}
}

// TestJoinQuitSendRace: with joins, quits and sends at once, every message
// reaches each user whose join answered before it was sent, and no user whose
// quit answered before it was sent (a change overlapping the send may or may
// not be seen; run with -count=20 -race).
func TestJoinQuitSendRace(t *testing.T) {
	for _, typ := range []string{"AVChatRoom", "Meeting"} {
		t.Run(typ, func(t *testing.T) {
			users := names("r", 12)
			f := newLiveFixture(t, "premium", users...)
			f.room(t, "g", typ)
			ctx := context.Background()
			var tick atomic.Int64
			type op struct {
				join       bool
				start, end int64
			}
			ops := make([][]op, len(users))
			var wg, sender sync.WaitGroup
			var usersDone atomic.Bool
			for i, u := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range 8 {
						o := op{join: n%2 == 0, start: tick.Add(1)}
						var err error
						if o.join {
							_, err = f.svc.JoinGroup(ctx, f.app, u, "g", "")
						} else {
							err = f.svc.QuitGroup(ctx, f.app, u, "g")
						}
						if err != nil {
							t.Error(err)
							return
						}
						o.end = tick.Add(1)
						ops[i] = append(ops[i], o)
					}
				}()
			}
			sentAt, doneAt := map[string]int64{}, map[string]int64{}
			var smu sync.Mutex
			sender.Add(1)
			go func() {
				defer sender.Done()
				body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]`)
				for n := 0; n < 60 || !usersDone.Load(); n++ { // and some after every change
					id := fmt.Sprint("m", n)
					smu.Lock()
					sentAt[id] = tick.Add(1)
					smu.Unlock()
					if _, err := f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "g", Admin: true, Body: body, ClientID: id}); err != nil {
						t.Error(err)
						return
					}
					smu.Lock()
					doneAt[id] = tick.Add(1)
					smu.Unlock()
				}
			}()
			wg.Wait()
			usersDone.Store(true)
			sender.Wait()
			f.svc.writer.Close() // every delivery published
			got := map[string][]string{}
			for _, d := range f.p.taken() {
				if _, ok := got[d.Entry.ClientID]; !ok { // later ones: a live room's history for a joiner
					got[d.Entry.ClientID] = d.Group.Members
				}
			}
			if len(got) != len(sentAt) {
				t.Fatalf("%d messages delivered, %d sent", len(got), len(sentAt))
			}
			checked := 0
			for id, at := range sentAt {
				for i, u := range users {
					member, known := false, true
					for _, o := range ops[i] {
						if o.end < at {
							member = o.join
						} else if o.start < doneAt[id] {
							known = false // in flight while the message was sent
						}
					}
					if !known {
						continue
					}
					checked++
					if _, in := slices.BinarySearch(got[id], u); in != member {
						t.Errorf("%s: %s member=%v, reached=%v", id, u, member, in)
					}
				}
			}
			if checked == 0 {
				t.Fatal("nothing checked")
			}
		})
	}
}

// TestLiveRoomTips: a live room's tips go as one live KindGroup delivery to
// the members (a quitter included); join and quit tips only up to the
// room's limit of members, other tips always.
func TestLiveRoomTips(t *testing.T) {
	users := names("t", 4)
	f := newLiveFixture(t, "premium", users...)
	f.svc.liveTipsMax = 3
	f.room(t, "l", "AVChatRoom")
	ctx := context.Background()
	tips := func() []bus.Delivery {
		f.p.mu.Lock()
		defer f.p.mu.Unlock()
		out := f.p.tips
		f.p.tips = nil
		return out
	}
	tipOf := func(d bus.Delivery) GroupTip {
		var tip GroupTip
		if err := json.Unmarshal(d.Entry.Body, &tip); err != nil {
			t.Fatal(err)
		}
		return tip
	}
	f.join(t, "l", "t000", "t001") // owner, t000, t001: 3 members
	ts := tips()
	if len(ts) != 2 {
		t.Fatalf("%d tips for two joins", len(ts))
	}
	if d := ts[1]; !d.Group.LiveRoom || d.Entry.Seq != 0 || fmt.Sprint(d.Group.Members) != "[owner t000 t001]" ||
		tipOf(d).Type != TipJoin || fmt.Sprint(tipOf(d).Users) != "[t001]" {
		t.Fatalf("join tip %+v to %v", tipOf(d), d.Group.Members)
	}
	if err := f.svc.QuitGroup(ctx, f.app, "t001", "l"); err != nil {
		t.Fatal(err)
	}
	if ts := tips(); len(ts) != 1 || tipOf(ts[0]).Type != TipQuit || fmt.Sprint(ts[0].Group.Members) != "[owner t000 t001]" {
		t.Fatalf("quit tips %v", ts)
	}
	f.join(t, "l", "t001", "t002") // 4 members: past the limit
	if ts := tips(); len(ts) != 1 {
		t.Fatalf("%d join tips; want the one up to 3 members", len(ts))
	}
	if err := f.svc.QuitGroup(ctx, f.app, "t002", "l"); err != nil {
		t.Fatal(err)
	}
	if ts := tips(); len(ts) != 0 { // 3 members and the quitter: 4 receivers
		t.Fatalf("%d quit tips past the limit", len(ts))
	}
	name := "renamed"
	if err := f.svc.ModifyGroup(ctx, f.app, AdminActor, "l", GroupChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DestroyGroup(ctx, f.app, AdminActor, "l"); err != nil {
		t.Fatal(err)
	}
	ts = tips()
	if len(ts) != 2 || tipOf(ts[0]).Type != TipInfo || tipOf(ts[1]).Type != TipDisband || len(ts[1].Group.Members) != 3 {
		t.Fatalf("info and disband tips: %d", len(ts))
	}
}
