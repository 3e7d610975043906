package loadgen

import (
	"testing"
	"time"
)

// newTestRun is a run of pairs without connections whose measured phase is
// [t0+1s, t0+2s).
func newTestRun(pairs int, rate float64) *Run {
	t0 := time.Unix(1_700_000_000, 0)
	r := &Run{pairs: pairs, period: float64(time.Second) / rate, t0: t0, mStart: t0.Add(time.Second), mEnd: t0.Add(2 * time.Second), finished: make(chan struct{})}
	r.total = dueCount(r.t0, r.mEnd, r.period)
	r.conns = make([]*conn, 2*pairs)
	for i := range r.conns {
		r.conns[i] = &conn{r: r, user: i, pair: i / 2, sender: i%2 == 0, self: name(i), peer: name(i ^ 1), ahead: map[int64]struct{}{}}
	}
	return r
}

func name(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestScheduleWalksEveryDueMessageOnceInOrder(t *testing.T) {
	for _, tc := range []struct {
		pairs, senders int
		rate           float64
	}{{1, 1, 1000}, {7, 3, 3333}, {100, 4, 2000}, {500, 4, 20000}, {3, 5, 7}} {
		r := newTestRun(tc.pairs, tc.rate)
		seen := map[[2]int]bool{}
		for k := range min(tc.senders, tc.pairs) {
			var last time.Time
			r.walk(k, min(tc.senders, tc.pairs), func(p, n int, due time.Time) bool {
				if due.Before(last) {
					t.Fatalf("%+v: goroutine %d walks back in time at pair %d message %d", tc, k, p, n)
				}
				last = due
				if seen[[2]int{p, n}] {
					t.Fatalf("%+v: pair %d message %d walked twice", tc, p, n)
				}
				seen[[2]int{p, n}] = true
				return true
			})
		}
		// Brute force: message m is due at t0 + m·period, for pair m % pairs.
		var want int64
		for m := 0; r.t0.Add(time.Duration(float64(m) * r.period)).Before(r.mEnd); m++ {
			if !seen[[2]int{m % tc.pairs, m / tc.pairs}] {
				t.Fatalf("%+v: message %d never walked", tc, m)
			}
			want++
		}
		if int64(len(seen)) != want || r.total != want {
			t.Fatalf("%+v: walked %d, counted %d, want %d", tc, len(seen), r.total, want)
		}
	}
}

func TestAcksSettleByIDInAnyOrder(t *testing.T) {
	r := newTestRun(1, 10)
	s := r.conns[0]
	s.next, s.wrote = 5, 5
	now := r.mStart
	s.ack(inFrame{Op: "send", ID: "2"}, now)
	s.ack(inFrame{Op: "send", ID: "0", Duplicate: true}, now)
	s.ack(inFrame{Op: "send", ID: "3", Code: 70500, Message: "internal error"}, now)
	s.ack(inFrame{Op: "send", ID: "2"}, now) // a second reply for the same message
	s.ack(inFrame{Op: "send", ID: "x"}, now) // not ours
	if got := s.unsettled(); len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Fatalf("unsettled %v, want [1 4]", got)
	}
	if s.low != 1 || r.acked.Load() != 2 || r.refused.Load() != 1 || r.dupAcks.Load() != 1 {
		t.Fatalf("low %d acked %d refused %d duplicate %d", s.low, r.acked.Load(), r.refused.Load(), r.dupAcks.Load())
	}
	s.ack(inFrame{Op: "send", ID: "1"}, now)
	if s.low != 4 || !s.acked.has(1) || s.acked.has(3) {
		t.Fatalf("low %d after the gap closed", s.low)
	}
}

func TestReceiverFillsGapsAndCountsEachMessageOnce(t *testing.T) {
	r := newTestRun(1, 10) // message n of pair 0 is due at t0 + n·100 ms: 10..19 are measured
	c := r.conns[1]
	from, to := c.peer, c.self
	now := r.mStart.Add(500 * time.Millisecond)
	msg := func(seq int64, n string) inEntry {
		return inEntry{Seq: seq, Kind: "msg", From: from, To: to, ClientMsgID: n}
	}
	c.entry(msg(1, "m10"), now)
	c.entry(msg(3, "m12"), now) // seq 2 was missed
	if !c.syncing || c.applied != 1 {
		t.Fatalf("after a gap: syncing %v applied %d", c.syncing, c.applied)
	}
	c.synced(inFrame{Op: "sync", Complete: true, Entries: []inEntry{
		msg(2, "m11"), msg(3, "m12"),
		{Seq: 4, Kind: "read", From: from, To: to}, // another kind moves the position too
	}}, now)
	if c.syncing || c.applied != 4 || len(c.ahead) != 0 {
		t.Fatalf("after the sync: syncing %v applied %d ahead %v", c.syncing, c.applied, c.ahead)
	}
	c.entry(msg(5, "m11"), now)                                                        // the same client_msg_id stored again
	c.entry(inEntry{Seq: 6, Kind: "msg", From: "zz", To: to, ClientMsgID: "m13"}, now) // not from the partner
	if r.deliveredAll.Load() != 3 || r.delivered.Load() != 3 || r.dupDeliveries.Load() != 1 || c.applied != 6 {
		t.Fatalf("delivered %d (measured %d), duplicates %d, applied %d", r.deliveredAll.Load(), r.delivered.Load(), r.dupDeliveries.Load(), c.applied)
	}
	if r.lat.Count() != 3 || r.lat.Max() != 500*time.Millisecond { // m10 was due at mStart, 500 ms before
		t.Fatalf("latency: %d samples, max %s", r.lat.Count(), r.lat.Max())
	}
}

func TestMessageIDsRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 123456789} {
		id := string(msgID(nil, n))
		if got, ok := msgNum(id); !ok || got != n {
			t.Fatalf("%q → %d %v", id, got, ok)
		}
	}
	for _, bad := range []string{"", "m", "x1", "m-1", "m1x"} {
		if _, ok := msgNum(bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
	var b bitset
	b.set(0)
	b.set(200)
	if !b.has(0) || !b.has(200) || b.has(199) || b.has(1000) {
		t.Fatal("bitset")
	}
}
