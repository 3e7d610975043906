package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupLogTests check store.GroupLog and the group ops of Apply.
var groupLogTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"GroupSendSeqs", testGroupSendSeqs},
	{"GroupSendIdempotent", testGroupSendIdempotent},
	{"GroupRecall", testGroupRecall},
	{"GroupSyncHistory", testGroupSyncHistory},
	{"GroupUnread", testGroupUnread},
	{"GroupDeleteBySender", testGroupDeleteBySender},
	{"GroupPurgeAndDelete", testGroupPurgeAndDelete},
	{"GroupConcurrentGapless", testGroupConcurrentGapless},
}

func gsend(group, from string, random uint32, clientID string) store.Op {
	return store.Op{Kind: store.OpGroupSend, App: app1, Group: group, From: from, ClientID: clientID,
		MsgRandom: random, MsgTime: t0.Unix(), Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`), At: t0}
}

func gsync(t *testing.T, s store.Store, group string, after int64) []store.Entry {
	t.Helper()
	es, err := s.GroupSync(ctx, app1, group, after, 0, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func testGroupSendSeqs(t *testing.T, s store.Store) {
	m := gsend("G1", "alice", 7, "")
	m.CloudCustomData, m.NeedReceipt, m.Targets = "ccd", true, []string{"bob", "carol"}
	res := applyOK(t, s, m, gsend("G1", "bob", 8, ""), gsend("G2", "alice", 9, ""),
		store.Op{Kind: store.OpGroupTips, App: app1, Group: "G1", From: "alice", Body: []byte(`{"type":"join"}`), At: t0})
	want := []int64{1, 2, 1, 3}
	for i, r := range res {
		if len(r.Entries) != 1 || r.Entries[0].Seq != want[i] || r.Entries[0].Owner != "" || r.Duplicate {
			t.Fatalf("op %d: %+v, want one entry with seq %d", i, r, want[i])
		}
	}
	got := gsync(t, s, "G1", 0)
	if !reflect.DeepEqual(seqsOf(got), []int64{1, 2, 3}) {
		t.Fatalf("sync G1: seqs %v", seqsOf(got))
	}
	e := got[0]
	if e.Kind != store.KindMsg || e.Group != "G1" || e.From != "alice" || e.MsgSeq != 1 || e.MsgRandom != 7 ||
		e.MsgTime != t0.Unix() || string(e.Body) != string(m.Body) || e.CloudCustomData != "ccd" || !e.NeedReceipt ||
		!reflect.DeepEqual(e.Targets, []string{"bob", "carol"}) || !e.CreatedAt.Equal(t0) {
		t.Fatalf("stored entry %+v", e)
	}
	if !reflect.DeepEqual(e, res[0].Entries[0]) {
		t.Fatalf("sync %+v\nApply %+v", e, res[0].Entries[0])
	}
	if got[2].Kind != store.KindGroupTips || string(got[2].Body) != `{"type":"join"}` {
		t.Fatalf("tips %+v", got[2])
	}
	if !e.VisibleTo("bob") || !e.VisibleTo("alice") || e.VisibleTo("dave") || !got[1].VisibleTo("dave") {
		t.Fatal("VisibleTo")
	}
	last, err := s.GroupLast(ctx, app1, "G1")
	if err != nil || last != (store.GroupLast{Seq: 3, MsgTime: t0.Unix()}) {
		t.Fatalf("GroupLast = %+v, %v", last, err)
	}
	if last, err := s.GroupLast(ctx, app1, "none"); err != nil || last != (store.GroupLast{}) {
		t.Fatalf("GroupLast of no group = %+v, %v", last, err)
	}
	lasts, err := s.GroupLasts(ctx, app1, []string{"G1", "none"})
	if err != nil || len(lasts) != 1 || lasts["G1"] != last {
		t.Fatalf("GroupLasts = %+v, %v", lasts, err)
	}
	if lasts, err := s.GroupLasts(ctx, app2, []string{"G1"}); err != nil || len(lasts) != 0 {
		t.Fatalf("GroupLasts of another app = %+v, %v", lasts, err)
	}
	// Group ops do not touch one-to-one logs.
	if n, err := s.LastSeq(ctx, app1, "alice"); err != nil || n != 0 {
		t.Fatalf("alice's LastSeq = %d, %v", n, err)
	}
	// A send without a group or sender fails alone.
	bad := gsend("", "alice", 1, "")
	res = apply(t, s, bad, gsend("G1", "", 1, ""), gsend("G1", "bob", 10, ""))
	if res[0].Err == nil || res[1].Err == nil || res[2].Err != nil || res[2].Entries[0].Seq != 4 {
		t.Fatalf("results %+v", res)
	}
}

func testGroupSendIdempotent(t *testing.T, s store.Store) {
	first := applyOK(t, s, gsend("G", "alice", 1, "c1"))[0].Entries[0]
	res := applyOK(t, s, gsend("G", "alice", 2, "c1"), gsend("G", "bob", 3, "c1"), gsend("G", "bob", 4, "c1"))
	if !res[0].Duplicate || !reflect.DeepEqual(res[0].Entries[0], first) {
		t.Fatalf("repeat: %+v", res[0])
	}
	if res[1].Duplicate || res[1].Entries[0].Seq != 2 || !res[2].Duplicate || res[2].Entries[0].Seq != 2 {
		t.Fatalf("another sender's ClientID: %+v", res[1:])
	}
	// The same Random of the same sender within the window is a duplicate.
	r := gsend("G", "carol", 42, "")
	r.RandomWindow = 5 * time.Minute
	applyOK(t, s, r)
	r2 := r
	r2.At = t0.Add(4 * time.Minute)
	r3 := r
	r3.From = "dave"
	if res := applyOK(t, s, r2, r3); !res[0].Duplicate || res[0].Entries[0].Seq != 3 || res[1].Duplicate {
		t.Fatalf("Random within the window: %+v", res)
	}
	r4 := r
	r4.At = t0.Add(6 * time.Minute)
	if res := applyOK(t, s, r4); res[0].Duplicate || res[0].Entries[0].Seq != 5 {
		t.Fatalf("Random after the window: %+v", res)
	}
	if n := len(gsync(t, s, "G", 0)); n != 5 {
		t.Fatalf("%d entries", n)
	}
}

func testGroupRecall(t *testing.T, s store.Store) {
	applyOK(t, s, gsend("G", "alice", 1, "c1"), gsend("G", "bob", 2, ""),
		store.Op{Kind: store.OpGroupTips, App: app1, Group: "G", Body: []byte(`{}`), At: t0})
	rec := store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", From: "admin", MsgSeq: 1, At: t0.Add(time.Minute)}
	res := apply(t, s, rec, store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", MsgSeq: 99, At: t0},
		store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", MsgSeq: 3, At: t0}, gsend("G", "bob", 3, ""))
	if res[0].Err != nil || len(res[0].Entries) != 1 {
		t.Fatalf("recall: %+v", res[0])
	}
	e := res[0].Entries[0]
	if e.Kind != store.KindRecall || e.Seq != 4 || e.MsgSeq != 1 || e.From != "admin" {
		t.Fatalf("recall entry %+v", e)
	}
	if !isErr(res[1].Err, errs.ErrNotFound) || !isErr(res[2].Err, errs.ErrNotFound) || res[3].Err != nil || res[3].Entries[0].Seq != 5 {
		t.Fatalf("unknown seq / tips / rest: %+v", res[1:])
	}
	got := gsync(t, s, "G", 0)
	if !got[0].Recalled || got[1].Recalled || got[3].Kind != store.KindRecall {
		t.Fatalf("after recall: %+v", got)
	}
	// A retry answers the recalled original; a second recall appends nothing.
	if r := applyOK(t, s, gsend("G", "alice", 1, "c1"))[0]; !r.Duplicate || !r.Entries[0].Recalled {
		t.Fatalf("retry of a recalled message: %+v", r)
	}
	if r := applyOK(t, s, rec)[0]; len(r.Entries) != 0 {
		t.Fatalf("second recall: %+v", r)
	}
	if last, _ := s.GroupLast(ctx, app1, "G"); last.Seq != 5 {
		t.Fatalf("last %+v", last)
	}
}

func testGroupSyncHistory(t *testing.T, s store.Store) {
	var ops []store.Op
	for i := 0; i < 10; i++ {
		op := gsend("G", "alice", uint32(i), "")
		op.At = t0.Add(time.Duration(i) * time.Minute)
		ops = append(ops, op)
	}
	applyOK(t, s, ops...)
	es, err := s.GroupSync(ctx, app1, "G", 3, 4, time.Time{}, time.Time{})
	if err != nil || !reflect.DeepEqual(seqsOf(es), []int64{4, 5, 6, 7}) {
		t.Fatalf("sync after 3 limit 4: %v %v", seqsOf(es), err)
	}
	es, err = s.GroupSync(ctx, app1, "G", 0, 0, t0.Add(8*time.Minute), time.Time{})
	if err != nil || !reflect.DeepEqual(seqsOf(es), []int64{9, 10}) {
		t.Fatalf("sync notBefore: %v %v", seqsOf(es), err)
	}
	es, err = s.GroupHistory(ctx, app1, "G", 0, 3, time.Time{}, time.Time{})
	if err != nil || !reflect.DeepEqual(seqsOf(es), []int64{10, 9, 8}) {
		t.Fatalf("history from the last: %v %v", seqsOf(es), err)
	}
	es, err = s.GroupHistory(ctx, app1, "G", 7, 20, t0.Add(5*time.Minute), time.Time{})
	if err != nil || !reflect.DeepEqual(seqsOf(es), []int64{7, 6}) {
		t.Fatalf("history from 7: %v %v", seqsOf(es), err)
	}
	// An expired message is skipped by reads at or after its end of life.
	exp := gsend("G", "bob", 1, "")
	exp.ExpiresAt = t0.Add(time.Hour)
	applyOK(t, s, exp)
	if es, _ := s.GroupSync(ctx, app1, "G", 10, 0, time.Time{}, t0.Add(time.Hour)); len(es) != 0 {
		t.Fatalf("expired: %+v", es)
	}
	if es, _ := s.GroupSync(ctx, app1, "G", 10, 0, time.Time{}, t0.Add(time.Minute)); len(es) != 1 {
		t.Fatalf("not yet expired: %+v", es)
	}
}

func testGroupUnread(t *testing.T, s store.Store) {
	tg := gsend("G", "alice", 3, "")
	tg.Targets = []string{"carol"}
	tb := gsend("G", "alice", 4, "")
	tb.Targets = []string{"bob"}
	applyOK(t, s,
		gsend("G", "alice", 1, ""), // 1
		gsend("G", "bob", 2, ""),   // 2: bob's own
		tg,                         // 3: targeted at carol
		tb,                         // 4: targeted at bob
		store.Op{Kind: store.OpGroupTips, App: app1, Group: "G", Body: []byte(`{}`), At: t0}, // 5
		gsend("G", "alice", 6, ""), // 6: recalled below
		gsend("G", "alice", 7, ""), // 7
	)
	applyOK(t, s, store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", MsgSeq: 6, At: t0}) // 8
	applyOK(t, s, gsend("H", "erin", 1, ""))
	for _, c := range []struct {
		member string
		read   int64
		want   int
	}{{"bob", 0, 3}, {"bob", 1, 2}, {"bob", 4, 1}, {"bob", 8, 0}, {"carol", 0, 4}, {"alice", 0, 1}, {"dave", 0, 3}} {
		n, err := s.GroupUnread(ctx, app1, "G", c.member, c.read, time.Time{}, time.Time{})
		if err != nil || n != c.want {
			t.Errorf("unread of %s after %d = %d, %v; want %d", c.member, c.read, n, err, c.want)
		}
		ns, err := s.GroupUnreads(ctx, app1, c.member, map[string]int64{"G": c.read, "H": 0, "none": 0}, time.Time{}, time.Time{})
		if err != nil || ns["G"] != c.want || ns["H"] != 1 || ns["none"] != 0 {
			t.Errorf("GroupUnreads of %s after %d = %v, %v; want G %d, H 1", c.member, c.read, ns, err, c.want)
		}
	}
	if n, _ := s.GroupUnread(ctx, app1, "G", "dave", 0, t0.Add(time.Second), time.Time{}); n != 0 {
		t.Errorf("unread before notBefore = %d", n)
	}
	if ns, _ := s.GroupUnreads(ctx, app1, "dave", map[string]int64{"G": 0}, t0.Add(time.Second), time.Time{}); ns["G"] != 0 {
		t.Errorf("GroupUnreads before notBefore = %v", ns)
	}
	if ns, err := s.GroupUnreads(ctx, app2, "dave", map[string]int64{"G": 0}, time.Time{}, time.Time{}); err != nil || ns["G"] != 0 {
		t.Errorf("GroupUnreads of another app = %v, %v", ns, err)
	}
}

func testGroupDeleteBySender(t *testing.T, s store.Store) {
	applyOK(t, s, gsend("G", "alice", 1, ""), gsend("G", "bob", 2, ""), gsend("G", "alice", 3, ""), gsend("H", "alice", 4, ""),
		store.Op{Kind: store.OpGroupTips, App: app1, Group: "G", From: "alice", Body: []byte(`{}`), At: t0})
	n, err := s.DeleteGroupMsgsBySender(ctx, app1, "G", "alice")
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if got := seqsOf(gsync(t, s, "G", 0)); !reflect.DeepEqual(got, []int64{2, 4}) {
		t.Fatalf("left %v", got)
	}
	if got := seqsOf(gsync(t, s, "H", 0)); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("other group %v", got)
	}
	if r := applyOK(t, s, gsend("G", "alice", 5, ""))[0]; r.Entries[0].Seq != 5 {
		t.Fatalf("seq after delete %+v", r)
	}
}

func testGroupPurgeAndDelete(t *testing.T, s store.Store) {
	old := gsend("G", "alice", 1, "c1")
	old.At = t0.Add(-2 * time.Hour)
	applyOK(t, s, old, gsend("G", "bob", 2, ""))
	other := gsend("G", "alice", 3, "")
	other.App = app2
	applyOK(t, s, other)
	n, err := s.PurgeBefore(ctx, app1, t0.Add(-time.Hour), time.Time{})
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if got := seqsOf(gsync(t, s, "G", 0)); !reflect.DeepEqual(got, []int64{2}) {
		t.Fatalf("after purge %v", got)
	}
	if got := seqsOf(gsync(t, s, "G", 0)); len(got) != 1 {
		t.Fatal(got)
	}
	if n, _ := s.GroupUnread(ctx, app1, "G", "carol", 0, time.Time{}, time.Time{}); n != 1 {
		t.Fatalf("unread after purge %d", n)
	}
	if err := s.DeleteGroupLog(ctx, app1, "G"); err != nil {
		t.Fatal(err)
	}
	if got := gsync(t, s, "G", 0); len(got) != 0 {
		t.Fatalf("after DeleteGroupLog %v", seqsOf(got))
	}
	if r := applyOK(t, s, gsend("G", "alice", 9, "c1"))[0]; r.Duplicate || r.Entries[0].Seq != 3 {
		t.Fatalf("send after DeleteGroupLog: %+v", r)
	}
	if n, err := s.PurgeBefore(ctx, app1, t0.Add(-time.Hour), time.Time{}); err != nil || n != 0 {
		t.Fatalf("second purge %d, %v", n, err)
	}
	es, err := s.GroupSync(ctx, app2, "G", 0, 0, time.Time{}, time.Time{})
	if err != nil || len(es) != 1 {
		t.Fatalf("other app %v %v", es, err)
	}
}

// testGroupConcurrentGapless sends to one group from many goroutines, one
// batch each: seqs are exactly 1..N.
func testGroupConcurrentGapless(t *testing.T, s store.Store) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				res, err := s.Apply(ctx, []store.Op{gsend("G", fmt.Sprintf("u%d", w), uint32(i), fmt.Sprintf("c%d", i))})
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				seen[res[0].Entries[0].Seq] = true
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= workers*each; seq++ {
		if !seen[seq] {
			t.Fatalf("seq %d missing (%d seen)", seq, len(seen))
		}
	}
	if got := gsync(t, s, "G", 0); len(got) != workers*each {
		t.Fatalf("%d entries", len(got))
	}
}
