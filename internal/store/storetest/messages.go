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

func key(seq int64, op store.Op) string {
	return fmt.Sprintf("%d_%d_%d", seq, op.MsgRandom, op.MsgTime)
}

// wantCopy is the entry a send should produce in owner's log.
func wantCopy(op store.Op, owner string, seq, msgSeq int64) store.Entry {
	peer := op.To
	if owner == op.To {
		peer = op.From
	}
	return store.Entry{
		App: op.App, Owner: owner, Seq: seq, Kind: store.KindMsg, Peer: peer, From: op.From, To: op.To,
		MsgSeq: msgSeq, MsgRandom: op.MsgRandom, MsgTime: op.MsgTime, MsgKey: key(msgSeq, op),
		ClientID: op.ClientID, Body: op.Body, CloudCustomData: op.CloudCustomData, CreatedAt: op.At,
	}
}

func testSendBothCopies(t *testing.T, s store.Store) {
	ops := []store.Op{
		send("alice", "bob", 1, "c1"),
		send("alice", "bob", 2, ""),
		send("bob", "alice", 3, "c3"),
		send("alice", "carol", 4, "c4"),
	}
	res := applyOK(t, s, ops...)
	want := [][]store.Entry{
		{wantCopy(ops[0], "alice", 1, 1), wantCopy(ops[0], "bob", 1, 1)},
		{wantCopy(ops[1], "alice", 2, 2), wantCopy(ops[1], "bob", 2, 2)},
		{wantCopy(ops[2], "bob", 3, 3), wantCopy(ops[2], "alice", 3, 3)},
		{wantCopy(ops[3], "alice", 4, 4), wantCopy(ops[3], "carol", 1, 4)},
	}
	for i := range ops {
		if res[i].Duplicate {
			t.Fatalf("op %d: Duplicate on a first send", i)
		}
		equalEntries(t, fmt.Sprintf("op %d entries", i), res[i].Entries, want[i])
	}
	// A second batch continues each log without gaps.
	more := send("carol", "alice", 5, "c5")
	res = applyOK(t, s, more)
	equalEntries(t, "next batch", res[0].Entries, []store.Entry{wantCopy(more, "carol", 2, 2), wantCopy(more, "alice", 5, 2)})

	equalEntries(t, "alice's log", syncAll(t, s, app1, "alice"), []store.Entry{
		want[0][0], want[1][0], want[2][1], want[3][0], res[0].Entries[1]})
	equalEntries(t, "bob's log", syncAll(t, s, app1, "bob"), []store.Entry{want[0][1], want[1][1], want[2][0]})
	equalEntries(t, "carol's log", syncAll(t, s, app1, "carol"), []store.Entry{want[3][1], res[0].Entries[0]})
	for owner, n := range map[string]int64{"alice": 5, "bob": 3, "carol": 2, "dave": 0} {
		if got := lastSeq(t, s, app1, owner); got != n {
			t.Fatalf("LastSeq(%s) = %d, want %d", owner, got, n)
		}
	}
	// Logs are per app.
	if es := syncAll(t, s, app2, "alice"); len(es) != 0 {
		t.Fatalf("app2 log of alice: %v", es)
	}
}

func testSendOnlyReceiver(t *testing.T, s store.Store) {
	applyOK(t, s, send("alice", "bob", 1, ""), send("carol", "bob", 2, ""))
	op := send("alice", "bob", 3, "imp1")
	op.OnlyReceiver = true
	op.Unread = false
	res := applyOK(t, s, op)
	// Bob's log is at 2: the message is bob's seq 3, and so is its MsgSeq.
	equalEntries(t, "receiver-only send", res[0].Entries, []store.Entry{wantCopy(op, "bob", 3, 3)})
	if n := lastSeq(t, s, app1, "alice"); n != 1 {
		t.Fatalf("LastSeq(alice) = %d after a receiver-only send, want 1", n)
	}
	// A retry is still recognised.
	res = apply(t, s, op)
	if !res[0].Duplicate {
		t.Fatal("retried receiver-only send not Duplicate")
	}
	equalEntries(t, "retried receiver-only send", res[0].Entries, []store.Entry{wantCopy(op, "bob", 3, 3)})
	if n := lastSeq(t, s, app1, "bob"); n != 3 {
		t.Fatalf("LastSeq(bob) = %d, want 3", n)
	}
}

func testSendToSelf(t *testing.T, s store.Store) {
	op := send("alice", "alice", 1, "self")
	res := applyOK(t, s, op)
	if len(res[0].Entries) == 0 {
		t.Fatal("send to oneself stored nothing")
	}
	for _, e := range res[0].Entries {
		if e.Owner != "alice" || e.Peer != "alice" || e.Kind != store.KindMsg {
			t.Fatalf("send to oneself: %+v", e)
		}
	}
	es := syncAll(t, s, app1, "alice")
	equalEntries(t, "alice's log", es, res[0].Entries)
	equalSeqs(t, "alice's log", seqsOf(es), seqsOf(res[0].Entries)...)
	if r := apply(t, s, op); !r[0].Duplicate {
		t.Fatal("retried send to oneself not Duplicate")
	}
	if got := syncAll(t, s, app1, "alice"); len(got) != len(es) {
		t.Fatalf("retried send to oneself wrote %d entries", len(got)-len(es))
	}
}

func testSendIdempotent(t *testing.T, s store.Store) {
	op := send("alice", "bob", 1, "cid-1")
	first := applyOK(t, s, op)[0]
	applyOK(t, s, send("bob", "alice", 2, "cid-2"))

	retry := op
	retry.At = op.At.Add(time.Minute) // a retry is a new request: other time, same ClientID
	retry.MsgRandom++
	res := apply(t, s, retry, send("alice", "bob", 3, "cid-3"))
	if res[0].Err != nil || !res[0].Duplicate {
		t.Fatalf("retry: Duplicate=%v Err=%v, want Duplicate", res[0].Duplicate, res[0].Err)
	}
	equalEntries(t, "retry returns the originals", res[0].Entries, first.Entries)
	if res[1].Duplicate {
		t.Fatal("new ClientID reported Duplicate")
	}
	equalSeqs(t, "alice's log", seqsOf(syncAll(t, s, app1, "alice")), 1, 2, 3)
	equalSeqs(t, "bob's log", seqsOf(syncAll(t, s, app1, "bob")), 1, 2, 3)

	// A retry to another receiver is still the sender's ClientID: nothing new.
	other := op
	other.To = "carol"
	res = apply(t, s, other)
	if !res[0].Duplicate {
		t.Fatal("same ClientID to another receiver not Duplicate")
	}
	equalEntries(t, "retry to another receiver", res[0].Entries, first.Entries)
	if es := syncAll(t, s, app1, "carol"); len(es) != 0 {
		t.Fatalf("retry to another receiver wrote to carol: %v", es)
	}
	equalSeqs(t, "alice's log after retry", seqsOf(syncAll(t, s, app1, "alice")), 1, 2, 3)

	// The ClientID is the sender's: another sender may use the same one.
	res = applyOK(t, s, send("bob", "alice", 4, "cid-1"))
	if res[0].Duplicate {
		t.Fatal("another sender's equal ClientID reported Duplicate")
	}
	// No ClientID: never deduplicated.
	noID := send("alice", "bob", 5, "")
	res = applyOK(t, s, noID, noID)
	if res[0].Duplicate || res[1].Duplicate || res[0].Entries[0].Seq == res[1].Entries[0].Seq {
		t.Fatalf("sends without ClientID deduplicated: %+v", res)
	}
	// The same ClientID in another app is another message.
	inApp2 := op
	inApp2.App = app2
	if res := applyOK(t, s, inApp2); res[0].Duplicate {
		t.Fatal("ClientID of app1 deduplicated in app2")
	}
}

func testSendIdempotentWithinBatch(t *testing.T, s store.Store) {
	a := send("alice", "bob", 1, "same")
	b := send("alice", "bob", 2, "same")
	c := send("alice", "bob", 3, "other")
	res := apply(t, s, a, b, c)
	if res[0].Duplicate || !res[1].Duplicate || res[2].Duplicate {
		t.Fatalf("Duplicate flags = %v %v %v, want false true false", res[0].Duplicate, res[1].Duplicate, res[2].Duplicate)
	}
	equalEntries(t, "in-batch retry", res[1].Entries, res[0].Entries)
	equalEntries(t, "next send", res[2].Entries, []store.Entry{wantCopy(c, "alice", 2, 2), wantCopy(c, "bob", 2, 2)})
	equalSeqs(t, "alice's log", seqsOf(syncAll(t, s, app1, "alice")), 1, 2)
	equalSeqs(t, "bob's log", seqsOf(syncAll(t, s, app1, "bob")), 1, 2)
}

func findMessage(t *testing.T, s store.Store, owner, peer, key string) store.Entry {
	t.Helper()
	e, err := s.FindMessage(ctx, app1, owner, peer, key)
	if err != nil {
		t.Fatalf("FindMessage(%s, %s, %s): %v", owner, peer, key, err)
	}
	return e
}

func testRecall(t *testing.T, s store.Store) {
	m1, m2 := send("alice", "bob", 1, "m1"), send("alice", "bob", 2, "m2")
	res := applyOK(t, s, m1, m2)
	k1, k2 := res[0].Entries[0].MsgKey, res[1].Entries[0].MsgKey

	rc := applyOK(t, s, recall("alice", "bob", k1, 10))[0]
	if len(rc.Entries) != 2 {
		t.Fatalf("recall entries = %+v, want one per log", rc.Entries)
	}
	for i, owner := range []string{"alice", "bob"} {
		e := rc.Entries[i]
		if e.Owner != owner || e.Kind != store.KindRecall || e.MsgKey != k1 || e.Seq != 3 ||
			e.From != "alice" || e.To != "bob" || !e.CreatedAt.Equal(t0.Add(10*time.Second)) {
			t.Fatalf("recall entry %d = %+v", i, e)
		}
	}
	for _, owner := range []string{"alice", "bob"} {
		es := syncAll(t, s, app1, owner)
		if !reflect.DeepEqual(kindsOf(es), []string{"msg", "msg", "recall"}) {
			t.Fatalf("%s's log kinds = %v", owner, kindsOf(es))
		}
		equalEntries(t, owner+"'s recall entry", es[2:], []store.Entry{rc.Entries[map[string]int{"alice": 0, "bob": 1}[owner]]})
		if !es[0].Recalled || es[1].Recalled {
			t.Fatalf("%s's log: Recalled = %v, %v; want true, false", owner, es[0].Recalled, es[1].Recalled)
		}
	}
	peerOf := map[string]string{"alice": "bob", "bob": "alice"}
	for owner, peer := range peerOf {
		if e := findMessage(t, s, owner, peer, k1); !e.Recalled {
			t.Fatalf("FindMessage(%s, k1).Recalled = false", owner)
		}
		if e := findMessage(t, s, owner, peer, k2); e.Recalled {
			t.Fatalf("FindMessage(%s, k2).Recalled = true", owner)
		}
	}

	// Recalling again is no error; the message stays recalled.
	if r := apply(t, s, recall("alice", "bob", k1, 11))[0]; r.Err != nil {
		t.Fatalf("second recall: %v", r.Err)
	}
	if e := findMessage(t, s, "bob", "alice", k1); !e.Recalled {
		t.Fatal("message not recalled after a second recall")
	}

	// A receiver-only message is recalled too.
	imp := send("carol", "bob", 20, "imp")
	imp.OnlyReceiver = true
	ik := applyOK(t, s, imp)[0].Entries[0].MsgKey
	rc = applyOK(t, s, recall("carol", "bob", ik, 21))[0]
	if len(rc.Entries) == 0 {
		t.Fatal("recall of a receiver-only message appended nothing")
	}
	if e := findMessage(t, s, "bob", "carol", ik); !e.Recalled {
		t.Fatal("receiver-only message not recalled")
	}
	// A message recalled in the batch that sends it; a retry later in the
	// batch returns it recalled.
	m3 := send("alice", "bob", 40, "m3")
	k3 := key(lastSeq(t, s, app1, "alice")+1, m3)
	res = applyOK(t, s, m3, recall("alice", "bob", k3, 41), m3)
	if res[0].Duplicate || len(res[0].Entries) != 2 || res[0].Entries[0].MsgKey != k3 {
		t.Fatalf("send = %+v, want key %s", res[0], k3)
	}
	if len(res[1].Entries) != 2 || res[1].Entries[0].Kind != store.KindRecall {
		t.Fatalf("recall in the sending batch = %+v", res[1])
	}
	if !res[2].Duplicate || len(res[2].Entries) != 2 || !res[2].Entries[0].Recalled || !res[2].Entries[1].Recalled {
		t.Fatalf("retry after the recall = %+v, want the recalled copies", res[2])
	}
	if res[0].Entries[0].Recalled {
		t.Fatal("the send's own result changed after the recall")
	}
	for owner, peer := range peerOf {
		if e := findMessage(t, s, owner, peer, k3); !e.Recalled {
			t.Fatalf("FindMessage(%s, k3).Recalled = false", owner)
		}
	}

	// Unknown keys: in the conversation with the wrong peer, or never sent.
	res = apply(t, s, recall("alice", "carol", k2, 30), recall("alice", "bob", "99_1_1", 30), recall("alice", "bob", "garbage", 30))
	for i, r := range res {
		if !isErr(r.Err, errs.ErrNotFound) || len(r.Entries) != 0 {
			t.Fatalf("recall %d of an unknown key: %+v, want ErrNotFound", i, r)
		}
	}
}

func testRecallUnknownKeyRestCommits(t *testing.T, s store.Store) {
	m := send("alice", "bob", 1, "m1")
	k := applyOK(t, s, m)[0].Entries[0].MsgKey
	next := send("bob", "alice", 2, "m2")
	res := apply(t, s,
		recall("alice", "bob", "12345_1_1", 3),
		next,
		recall("alice", "bob", k, 4),
	)
	if !isErr(res[0].Err, errs.ErrNotFound) {
		t.Fatalf("recall of unknown key: Err = %v, want ErrNotFound", res[0].Err)
	}
	if res[1].Err != nil || res[2].Err != nil {
		t.Fatalf("other ops failed: %v, %v", res[1].Err, res[2].Err)
	}
	// The failed recall took no Seq; the rest committed.
	es := syncAll(t, s, app1, "alice")
	if !reflect.DeepEqual(kindsOf(es), []string{"msg", "msg", "recall"}) {
		t.Fatalf("alice's log kinds = %v", kindsOf(es))
	}
	equalSeqs(t, "alice's log", seqsOf(es), 1, 2, 3)
	if !es[0].Recalled {
		t.Fatal("recall in the same batch as a failed one did not commit")
	}
}

func testRead(t *testing.T, s store.Store) {
	m := send("alice", "bob", 1, "m1")
	applyOK(t, s, m)
	readTime := m.MsgTime + 5
	res := applyOK(t, s, read("bob", "alice", readTime, 10))[0]
	if len(res.Entries) != 2 {
		t.Fatalf("read entries = %+v, want one per log", res.Entries)
	}
	for i, owner := range []string{"bob", "alice"} {
		e := res.Entries[i]
		if e.Owner != owner || e.Kind != store.KindRead || e.ReadTime != readTime || e.Seq != 2 ||
			e.From != "bob" || e.To != "alice" || e.Peer != map[string]string{"bob": "alice", "alice": "bob"}[owner] {
			t.Fatalf("read entry %d = %+v", i, e)
		}
		es := syncAll(t, s, app1, owner)
		equalEntries(t, owner+"'s read entry", es[1:], res.Entries[i:i+1])
	}
	// Alice sees how far bob has read; nobody has read alice's side.
	if rt, err := s.PeerReadTime(ctx, app1, "alice", "bob"); err != nil || rt != readTime {
		t.Fatalf("PeerReadTime(alice, bob) = %d, %v; want %d", rt, err, readTime)
	}
	if rt, err := s.PeerReadTime(ctx, app1, "bob", "alice"); err != nil || rt != 0 {
		t.Fatalf("PeerReadTime(bob, alice) = %d, %v; want 0", rt, err)
	}
	// Monotonic: an older read time does not move it back.
	res = applyOK(t, s, read("bob", "alice", readTime-100, 11))[0]
	if len(res.Entries) != 2 || res.Entries[0].Kind != store.KindRead {
		t.Fatalf("second read entries = %+v", res.Entries)
	}
	if rt, _ := s.PeerReadTime(ctx, app1, "alice", "bob"); rt != readTime {
		t.Fatalf("PeerReadTime moved back to %d, want %d", rt, readTime)
	}
	applyOK(t, s, read("bob", "alice", readTime+100, 12))
	if rt, _ := s.PeerReadTime(ctx, app1, "alice", "bob"); rt != readTime+100 {
		t.Fatalf("PeerReadTime = %d, want %d", rt, readTime+100)
	}
	if rt, _ := s.PeerReadTime(ctx, app2, "alice", "bob"); rt != 0 {
		t.Fatalf("PeerReadTime in app2 = %d, want 0", rt)
	}
}

func testSyncPaging(t *testing.T, s store.Store) {
	var ops []store.Op
	for i := range 10 {
		ops = append(ops, send("alice", "bob", i, ""))
	}
	applyOK(t, s, ops...)
	all := syncAll(t, s, app1, "bob")
	equalSeqs(t, "bob's log", seqsOf(all), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	var got []store.Entry
	after := int64(0)
	for pages := 0; ; pages++ {
		page, err := s.Sync(ctx, app1, "bob", after, 4, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 4 {
			t.Fatalf("page of %d entries, limit 4", len(page))
		}
		if len(page) == 0 {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	equalEntries(t, "paged log", got, all)
	page, err := s.Sync(ctx, app1, "bob", 7, 100, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	equalSeqs(t, "Sync after 7", seqsOf(page), 8, 9, 10)
}

func testSyncNotBefore(t *testing.T, s store.Store) {
	var ops []store.Op
	for i := range 3 {
		ops = append(ops, send("alice", "bob", i, "")) // at t0 .. t0+2s
	}
	later := send("alice", "bob", 0, "")
	later.At = t0.Add(time.Hour)
	ops = append(ops, later)
	applyOK(t, s, ops...)
	applyOK(t, s, read("bob", "alice", 1, 0)) // a read entry created at t0

	page, err := s.Sync(ctx, app1, "bob", 0, 0, t0.Add(time.Second), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	equalSeqs(t, "Sync notBefore t0+1s", seqsOf(page), 2, 3, 4)
	page, err = s.Sync(ctx, app1, "bob", 0, 2, t0.Add(time.Second), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	equalSeqs(t, "Sync notBefore t0+1s limit 2", seqsOf(page), 2, 3)
	page, err = s.Sync(ctx, app1, "bob", 0, 0, t0.Add(30*time.Minute), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	equalSeqs(t, "Sync notBefore t0+30m", seqsOf(page), 4)
}

func testLastSeq(t *testing.T, s store.Store) {
	if n := lastSeq(t, s, app1, "alice"); n != 0 {
		t.Fatalf("LastSeq of an empty log = %d", n)
	}
	m := send("alice", "bob", 1, "m")
	k := applyOK(t, s, m, send("bob", "alice", 2, ""))[0].Entries[0].MsgKey
	applyOK(t, s, recall("alice", "bob", k, 3), read("bob", "alice", 5, 4))
	if n := lastSeq(t, s, app1, "alice"); n != 4 {
		t.Fatalf("LastSeq(alice) = %d, want 4", n)
	}
	if n := lastSeq(t, s, app2, "alice"); n != 0 {
		t.Fatalf("LastSeq(app2, alice) = %d, want 0", n)
	}
}

// testSeqNotReusedAfterPurge: purging the log must not let Seqs start over,
// or clients syncing from their last Seq would never see new entries.
func testSeqNotReusedAfterPurge(t *testing.T, s store.Store) {
	applyOK(t, s, send("alice", "bob", 0, ""), send("alice", "bob", 1, ""))
	if _, err := s.PurgeBefore(ctx, app1, t0.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if es := syncAll(t, s, app1, "bob"); len(es) != 0 {
		t.Fatalf("log after purge: %v", es)
	}
	m := send("alice", "bob", 7200, "")
	res := applyOK(t, s, m)
	equalEntries(t, "send after purge", res[0].Entries, []store.Entry{wantCopy(m, "alice", 3, 3), wantCopy(m, "bob", 3, 3)})
	if n := lastSeq(t, s, app1, "bob"); n != 3 {
		t.Fatalf("LastSeq(bob) = %d, want 3", n)
	}
}

func testHistory(t *testing.T, s store.Store) {
	// alice <-> bob: 6 messages, MsgTime m0+0 .. m0+5, with other entries between.
	var keys []string
	for i := range 6 {
		from, to := "alice", "bob"
		if i%2 == 1 {
			from, to = to, from
		}
		res := applyOK(t, s, send(from, to, i, ""), send("alice", "carol", 100+i, ""))
		keys = append(keys, res[0].Entries[0].MsgKey)
	}
	m0 := send("alice", "bob", 0, "").MsgTime
	applyOK(t, s, read("alice", "bob", m0+10, 200), recall("alice", "bob", keys[0], 201))

	history := func(minT, maxT int64, before store.Cursor, limit int, notBefore time.Time) []store.Entry {
		t.Helper()
		h, err := s.History(ctx, app1, "alice", "bob", minT, maxT, before, limit, notBefore, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range h {
			if e.Kind != store.KindMsg || e.Owner != "alice" || e.Peer != "bob" {
				t.Fatalf("History returned %+v", e)
			}
		}
		return h
	}
	times := func(h []store.Entry) []int64 {
		out := []int64{}
		for _, e := range h {
			out = append(out, e.MsgTime-m0)
		}
		return out
	}
	check := func(what string, h []store.Entry, want ...int64) {
		t.Helper()
		if got := times(h); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: MsgTimes %v, want %v", what, got, want)
		}
	}
	maxT := m0 + 1000
	none := store.Cursor{}
	after := func(e store.Entry) store.Cursor { return store.Cursor{MsgTime: e.MsgTime, Seq: e.Seq} }
	all := history(m0, maxT, none, 100, time.Time{})
	check("all", all, 5, 4, 3, 2, 1, 0)
	if !all[5].Recalled {
		t.Fatal("History: recalled message not marked Recalled")
	}
	page := history(m0, maxT, none, 2, time.Time{})
	check("first page", page, 5, 4)
	page = history(m0, maxT, after(page[1]), 2, time.Time{})
	check("second page", page, 3, 2)
	page = history(m0, maxT, after(page[1]), 10, time.Time{})
	check("last page", page, 1, 0)
	check("time window", history(m0+1, m0+3, none, 100, time.Time{}), 3, 2, 1)
	check("time window and limit", history(m0+1, m0+3, none, 2, time.Time{}), 3, 2)
	check("notBefore", history(m0, maxT, none, 100, t0.Add(4*time.Second)), 5, 4)
	check("bob's side", func() []store.Entry {
		h, err := s.History(ctx, app1, "bob", "alice", m0, maxT, none, 3, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}(), 5, 4, 3)
	h, err := s.History(ctx, app1, "alice", "dave", 0, maxT, none, 10, time.Time{}, time.Time{})
	if err != nil || len(h) != 0 {
		t.Fatalf("History with a stranger = %v, %v", h, err)
	}
	// A message written last but sent earlier (an import) sorts by its MsgTime, and
	// paging across it loses nothing.
	old := send("bob", "alice", 0, "")
	old.MsgTime = m0 + 2
	applyOK(t, s, old)
	check("import by time", history(m0, maxT, none, 100, time.Time{}), 5, 4, 3, 2, 2, 1, 0)
	var paged []store.Entry
	for cur := none; ; {
		p := history(m0, maxT, cur, 2, time.Time{})
		if len(p) == 0 {
			break
		}
		paged = append(paged, p...)
		cur = after(p[len(p)-1])
	}
	check("paged with import", paged, 5, 4, 3, 2, 2, 1, 0)
}

// One message sent to several receivers (a batch send) shares one MsgKey: every
// receiver's copy is found, and recalled, by it.
func testSharedMsgSeq(t *testing.T, s store.Store) {
	var ops []store.Op
	for _, to := range []string{"bob", "carol", "dave"} {
		op := send("alice", to, 1, "")
		op.MsgSeq = 777
		ops = append(ops, op)
	}
	res := applyOK(t, s, ops...)
	key := res[0].Entries[0].MsgKey
	for i, to := range []string{"bob", "carol", "dave"} {
		for _, e := range res[i].Entries {
			if e.MsgKey != key || e.MsgSeq != 777 {
				t.Fatalf("copy for %s: key %s seq %d, want %s", to, e.MsgKey, e.MsgSeq, key)
			}
		}
		if _, err := s.FindMessage(ctx, app1, to, "alice", key); err != nil {
			t.Fatalf("FindMessage(%s): %v", to, err)
		}
		if _, err := s.FindMessage(ctx, app1, "alice", to, key); err != nil {
			t.Fatalf("FindMessage(alice, %s): %v", to, err)
		}
	}
	rec := applyOK(t, s, recall("alice", "carol", key, 50))
	if len(rec[0].Entries) != 2 {
		t.Fatalf("recall wrote %d entries", len(rec[0].Entries))
	}
	for to, want := range map[string]bool{"bob": false, "carol": true, "dave": false} {
		e, err := s.FindMessage(ctx, app1, to, "alice", key)
		if err != nil || e.Recalled != want {
			t.Fatalf("%s's copy recalled=%v (%v), want %v", to, e.Recalled, err, want)
		}
	}
}

func testFindMessage(t *testing.T, s store.Store) {
	m := send("alice", "bob", 1, "m")
	res := applyOK(t, s, send("bob", "alice", 0, ""), m)
	k := res[1].Entries[0].MsgKey
	equalEntries(t, "FindMessage sender copy", []store.Entry{findMessage(t, s, "alice", "bob", k)}, res[1].Entries[:1])
	equalEntries(t, "FindMessage receiver copy", []store.Entry{findMessage(t, s, "bob", "alice", k)}, res[1].Entries[1:])
	for _, c := range []struct{ owner, peer, key string }{
		{"alice", "carol", k},
		{"carol", "alice", k},
		{"alice", "bob", "999_1_1"},
		{"alice", "bob", k + "0"},
		{"alice", "bob", "garbage"},
		{"alice", "bob", ""},
	} {
		if _, err := s.FindMessage(ctx, app1, c.owner, c.peer, c.key); !isErr(err, errs.ErrNotFound) {
			t.Fatalf("FindMessage(%s, %s, %q): %v, want ErrNotFound", c.owner, c.peer, c.key, err)
		}
	}
	if _, err := s.FindMessage(ctx, app2, "alice", "bob", k); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("FindMessage in app2: %v, want ErrNotFound", err)
	}
}

func testUnread(t *testing.T, s store.Store) {
	var ops []store.Op
	for i := range 4 {
		ops = append(ops, send("alice", "bob", i, "")) // MsgTime m0+0..3
	}
	imported := send("alice", "bob", 4, "")
	imported.Unread = false
	ops = append(ops, imported)
	ops = append(ops, send("carol", "bob", 10, ""), send("carol", "bob", 11, ""), send("carol", "bob", 12, ""))
	ops = append(ops, send("bob", "alice", 20, ""), send("bob", "dave", 21, "")) // bob's own messages
	res := applyOK(t, s, ops...)
	m0 := ops[0].MsgTime

	unread := func(peers []string, notBefore time.Time) map[string]int {
		t.Helper()
		u, err := s.Unread(ctx, app1, "bob", peers, notBefore, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		// Zero counts may be present or absent; drop them.
		for p, n := range u {
			if n == 0 {
				delete(u, p)
			}
		}
		return u
	}
	check := func(what string, got, want map[string]int) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Unread = %v, want %v", what, got, want)
		}
	}
	check("all", unread(nil, time.Time{}), map[string]int{"alice": 4, "carol": 3})
	check("alice and dave", unread([]string{"alice", "dave"}, time.Time{}), map[string]int{"alice": 4})

	// Bob reads alice up to m0+1: two left. Alice reading bob changes nothing for bob.
	applyOK(t, s, read("bob", "alice", m0+1, 30), read("alice", "bob", m0+100, 30))
	// A recalled message is not unread.
	applyOK(t, s, recall("carol", "bob", res[5].Entries[0].MsgKey, 31))
	check("after read and recall", unread(nil, time.Time{}), map[string]int{"alice": 2, "carol": 2})
	check("carol only", unread([]string{"carol"}, time.Time{}), map[string]int{"carol": 2})
	check("notBefore", unread(nil, t0.Add(11*time.Second)), map[string]int{"carol": 2})
	check("notBefore later", unread(nil, t0.Add(12*time.Second)), map[string]int{"carol": 1})
	// Alice has nothing unread from bob: she read past his message.
	u, err := s.Unread(ctx, app1, "alice", nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if u["bob"] != 0 {
		t.Fatalf("Unread(alice) = %v, want nothing from bob", u)
	}
	u, err = s.Unread(ctx, app2, "bob", nil, time.Time{}, time.Time{})
	if err != nil || len(u) != 0 {
		t.Fatalf("Unread in app2 = %v, %v", u, err)
	}
}

func testPurgeBefore(t *testing.T, s store.Store) {
	old := send("alice", "bob", 0, "")
	newer := send("alice", "bob", 3600, "")
	inApp2 := send("alice", "bob", 0, "")
	inApp2.App = app2
	applyOK(t, s, old, old, newer, inApp2)
	n, err := s.PurgeBefore(ctx, app1, t0.Add(time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("PurgeBefore deleted %d entries, want 4", n)
	}
	for _, owner := range []string{"alice", "bob"} {
		equalSeqs(t, owner+"'s log in app1", seqsOf(syncAll(t, s, app1, owner)), 3)
		equalSeqs(t, owner+"'s log in app2", seqsOf(syncAll(t, s, app2, owner)), 1)
	}
	if n, err := s.PurgeBefore(ctx, app1, t0.Add(time.Hour), time.Time{}); err != nil || n != 0 {
		t.Fatalf("second PurgeBefore = %d, %v; want 0", n, err)
	}
}

// testSameMsgKeyOnce: sends with an explicit MsgSeq are idempotent on their
// conversation and MsgKey, in either direction, across batches and within one:
// the first message is kept and every later one answers with it.
func testSameMsgKeyOnce(t *testing.T, s store.Store) {
	imp := func(from, to, text, clientID string) store.Op {
		op := send(from, to, 1, clientID)
		op.MsgSeq, op.MsgRandom = 5, 9
		op.Body = []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + text + `"}}]`)
		return op
	}
	first := applyOK(t, s, imp("alice", "bob", "first", "i1"))[0]
	if first.Duplicate {
		t.Fatal("first import reported as a duplicate")
	}
	later := applyOK(t, s, imp("alice", "bob", "second", "i2"), imp("bob", "alice", "swapped", ""))
	inBatch := applyOK(t, s, imp("alice", "carol", "one", ""), imp("carol", "alice", "two", "x"))
	for i, r := range []store.OpResult{later[0], later[1], inBatch[1]} {
		if !r.Duplicate {
			t.Fatalf("repeat %d of a MsgKey in its conversation stored again: %+v", i, r.Entries)
		}
	}
	equalEntries(t, "answer to a repeat", later[1].Entries, first.Entries)
	equalEntries(t, "answer to a repeat in its batch", inBatch[1].Entries, inBatch[0].Entries)
	if inBatch[0].Duplicate {
		t.Fatal("the same MsgKey in another conversation is a duplicate")
	}
	for _, owner := range []string{"alice", "bob"} {
		h, err := s.History(ctx, app1, owner, other(owner), 0, 0, store.Cursor{}, 10, time.Time{}, time.Time{})
		if err != nil || len(h) != 1 || string(h[0].Body) != string(first.Entries[0].Body) {
			t.Fatalf("%s's history: %+v, %v; want the first import only", owner, h, err)
		}
	}
	applyOK(t, s, recall("alice", "bob", first.Entries[0].MsgKey, 9))
	for _, owner := range []string{"alice", "bob"} {
		h, _ := s.History(ctx, app1, owner, other(owner), 0, 0, store.Cursor{}, 10, time.Time{}, time.Time{})
		if len(h) != 1 || !h[0].Recalled {
			t.Fatalf("%s's history after the recall: %+v", owner, h)
		}
	}
}

func other(owner string) string {
	if owner == "alice" {
		return "bob"
	}
	return "alice"
}

// testExpiresAt: a message's offline life ends at its ExpiresAt: reads at or
// after it skip the message and the purge deletes it.
func testExpiresAt(t *testing.T, s store.Store) {
	short := send("alice", "bob", 1, "short")
	short.ExpiresAt = t0.Add(10 * time.Second)
	res := applyOK(t, s, short, send("alice", "bob", 2, "long"))
	if got := res[0].Entries[1].ExpiresAt; !got.Equal(short.ExpiresAt) {
		t.Fatalf("ExpiresAt of the receiver's copy = %v, want %v", got, short.ExpiresAt)
	}
	for _, c := range []struct {
		now  time.Time
		want int
	}{{time.Time{}, 2}, {t0.Add(9 * time.Second), 2}, {t0.Add(10 * time.Second), 1}} {
		es, err := s.Sync(ctx, app1, "bob", 0, 0, time.Time{}, c.now)
		if err != nil || len(es) != c.want {
			t.Fatalf("Sync at %v: %d entries (%v), want %d", c.now, len(es), err, c.want)
		}
		h, err := s.History(ctx, app1, "alice", "bob", 0, 0, store.Cursor{}, 10, time.Time{}, c.now)
		if err != nil || len(h) != c.want {
			t.Fatalf("History at %v: %d messages (%v), want %d", c.now, len(h), err, c.want)
		}
		u, err := s.Unread(ctx, app1, "bob", nil, time.Time{}, c.now)
		if err != nil || u["alice"] != c.want {
			t.Fatalf("Unread at %v: %v (%v), want %d", c.now, u, err, c.want)
		}
	}
	if n, err := s.PurgeBefore(ctx, app1, time.Time{}, t0.Add(9*time.Second)); err != nil || n != 0 {
		t.Fatalf("purge before the end of life deleted %d (%v)", n, err)
	}
	if n, err := s.PurgeBefore(ctx, app1, time.Time{}, t0.Add(10*time.Second)); err != nil || n != 2 {
		t.Fatalf("purge at the end of life deleted %d (%v), want both copies", n, err)
	}
	equalSeqs(t, "bob's log after the purge", seqsOf(syncAll(t, s, app1, "bob")), 2)
}

// testSameMsgKeyConcurrent: writers racing to store one MsgKey in a conversation,
// in both directions and with different content, store it once.
func testSameMsgKeyConcurrent(t *testing.T, s store.Store) {
	const writers = 8
	var wg sync.WaitGroup
	results := make([]store.OpResult, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := "alice", "bob"
			if i%2 == 1 {
				from, to = to, from
			}
			op := send(from, to, 1, fmt.Sprintf("w%d", i))
			op.MsgSeq, op.MsgRandom = 5, 9
			res, err := s.Apply(ctx, []store.Op{op})
			if err == nil {
				results[i] = res[0]
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	stored := 0
	for i := range writers {
		if errs[i] != nil || results[i].Err != nil {
			t.Fatalf("writer %d: %v %v", i, errs[i], results[i].Err)
		}
		if !results[i].Duplicate {
			stored++
		}
	}
	if stored != 1 {
		t.Fatalf("%d writers stored the MsgKey, want 1", stored)
	}
	for _, owner := range []string{"alice", "bob"} {
		if es := syncAll(t, s, app1, owner); len(es) != 1 {
			t.Fatalf("%s's log has %d entries, want 1", owner, len(es))
		}
	}
}

// testRecallEveryCopyOfKey: two messages that share a MsgKey in a conversation
// (server-chosen MsgSeqs of opposite directions that meet, or rows written before
// MsgKeys were kept once) are both recalled by that key.
func testRecallEveryCopyOfKey(t *testing.T, s store.Store) {
	toCarol := send("alice", "carol", 0, "")
	ab := send("alice", "bob", 1, "")
	ba := send("bob", "alice", 1, "")
	ab.MsgRandom, ba.MsgRandom = 9, 9 // alice's Seq 2 and bob's Seq 2: one MsgKey
	res := applyOK(t, s, toCarol, ab, ba)
	key := res[1].Entries[0].MsgKey
	if res[2].Entries[0].MsgKey != key {
		t.Skipf("the two messages do not share a MsgKey (%s, %s)", key, res[2].Entries[0].MsgKey)
	}
	rec := applyOK(t, s, recall("alice", "bob", key, 5))
	if len(rec[0].Entries) != 2 {
		t.Fatalf("recall wrote %d entries, want 2", len(rec[0].Entries))
	}
	for _, owner := range []string{"alice", "bob"} {
		h, err := s.History(ctx, app1, owner, other(owner), 0, 0, store.Cursor{}, 10, time.Time{}, time.Time{})
		if err != nil || len(h) != 2 || !h[0].Recalled || !h[1].Recalled {
			t.Fatalf("%s's history after recalling %s: %+v, %v", owner, key, h, err)
		}
	}
}

// testSeqsGaplessAfterNoops: ops that append nothing (a retry, a recall of a
// recalled message, a recall of an unknown key, an op without To) take no Seq,
// also when they share a batch with ops that do, across apps; the next send
// continues each log without a gap. Two reads of one conversation in a batch
// keep the later read time.
func testSeqsGaplessAfterNoops(t *testing.T, s store.Store) {
	m := send("alice", "bob", 1, "m1")
	k := applyOK(t, s, m)[0].Entries[0].MsgKey
	applyOK(t, s, recall("alice", "bob", k, 2))
	inApp2 := send("alice", "bob", 3, "m1")
	inApp2.App = app2
	noTo := send("alice", "", 4, "x")
	res := apply(t, s,
		m,                                  // retry: Duplicate
		recall("alice", "bob", k, 5),       // recalled before: nothing
		recall("alice", "bob", "9_9_9", 5), // unknown: ErrNotFound
		noTo,                               // invalid
		inApp2,                             // appends in app2 only
		read("bob", "alice", m.MsgTime+10, 6),
		read("bob", "alice", m.MsgTime+5, 7), // older: the later time stays
	)
	if !res[0].Duplicate || len(res[1].Entries) != 0 || res[1].Err != nil || !isErr(res[2].Err, errs.ErrNotFound) || res[3].Err == nil {
		t.Fatalf("no-op results: %+v", res[:4])
	}
	if rt := res[6].Entries[0].ReadTime; rt != m.MsgTime+10 {
		t.Fatalf("second read's ReadTime = %d, want %d", rt, m.MsgTime+10)
	}
	if rt, err := s.PeerReadTime(ctx, app1, "alice", "bob"); err != nil || rt != m.MsgTime+10 {
		t.Fatalf("PeerReadTime = %d, %v; want %d", rt, err, m.MsgTime+10)
	}
	// alice: msg 1, recall 2, read 3, read 4; bob the same; app2: msg 1 each.
	for _, c := range []struct {
		app   int64
		owner string
		last  int64
	}{{app1, "alice", 4}, {app1, "bob", 4}, {app2, "alice", 1}, {app2, "bob", 1}} {
		if n := lastSeq(t, s, c.app, c.owner); n != c.last {
			t.Fatalf("LastSeq(%d, %s) = %d, want %d", c.app, c.owner, n, c.last)
		}
	}
	next := applyOK(t, s, send("bob", "alice", 8, "m2"))[0]
	if next.Entries[0].Seq != 5 || next.Entries[1].Seq != 5 {
		t.Fatalf("next send's Seqs = %d, %d; want 5, 5", next.Entries[0].Seq, next.Entries[1].Seq)
	}
	for _, owner := range []string{"alice", "bob"} {
		equalSeqs(t, owner+"'s log", seqsOf(syncAll(t, s, app1, owner)), 1, 2, 3, 4, 5)
	}
}

// testPurgedGoneFromEveryRead: what PurgeBefore removed (by age or end of
// life) is gone from every read, not only from Sync: history, the message
// lookup, unread counts, and idempotency (a ClientID of a purged message may
// be used again); the recall of a purged message finds nothing.
func testPurgedGoneFromEveryRead(t *testing.T, s store.Store) {
	old := send("alice", "bob", 0, "old")
	short := send("alice", "bob", 3600, "short")
	short.ExpiresAt = t0.Add(3610 * time.Second)
	kept := send("alice", "bob", 3601, "kept")
	res := applyOK(t, s, old, short, kept, read("bob", "alice", 0, 3602))
	if _, err := s.PurgeBefore(ctx, app1, t0.Add(time.Hour), t0.Add(3610*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Reads without bounds of their own: the purge alone hides.
	h, err := s.History(ctx, app1, "bob", "alice", 0, 0, store.Cursor{}, 10, time.Time{}, time.Time{})
	if err != nil || len(h) != 1 || h[0].ClientID != "kept" {
		t.Fatalf("history after the purge: %+v, %v; want the kept message only", h, err)
	}
	u, err := s.Unread(ctx, app1, "bob", nil, time.Time{}, time.Time{})
	if err != nil || !reflect.DeepEqual(u, map[string]int{"alice": 1}) {
		t.Fatalf("unread after the purge: %v, %v; want alice: 1", u, err)
	}
	u, err = s.Unread(ctx, app1, "bob", []string{"alice"}, time.Time{}, time.Time{})
	if err != nil || u["alice"] != 1 {
		t.Fatalf("unread of alice after the purge: %v, %v; want 1", u, err)
	}
	for _, r := range res[:2] {
		if _, err := s.FindMessage(ctx, app1, "bob", "alice", r.Entries[1].MsgKey); !isErr(err, errs.ErrNotFound) {
			t.Fatalf("FindMessage of a purged message: %v, want not found", err)
		}
	}
	rec := apply(t, s, recall("alice", "bob", res[0].Entries[0].MsgKey, 3700))
	if !isErr(rec[0].Err, errs.ErrNotFound) {
		t.Fatalf("recall of a purged message: %+v, want not found", rec[0])
	}
	again := applyOK(t, s, send("alice", "bob", 3800, "old"))
	if again[0].Duplicate || again[0].Entries[0].Seq != 5 {
		t.Fatalf("a purged message's ClientID sent again: %+v; want a new message with alice's Seq 5", again[0])
	}
}
