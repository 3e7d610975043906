package loadgen

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// groupEntryFrames are group_entry pushes in the shapes a server may encode
// them (docs/protocol.md ("Groups")): field orders, tips with object bodies, recalls,
// texts that look like keys, foreign tags.
func groupEntryFrames() []string {
	body := `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"say \"seq\":9 and \"cloud_custom_data\":\"lg:7\""}}]`
	return []string{
		`{"op":"group_entry","code":0,"entry":{"group":"@TGS#1","seq":17,"kind":"msg","from":"g000000","msg_time":1700000000,"msg_random":5,"body":` + body + `,"cloud_custom_data":"lg:42"}}`,
		`{"op":"group_entry","code":0,"entry":{"cloud_custom_data":"lg:0","body":` + body + `,"kind":"msg","seq":1,"group":"g"}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":18,"kind":"tips","body":{"type":"join","operator":"u1","users":["u2"]}}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":19,"kind":"recall","msg_seq":17}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":20,"kind":"msg","body":[],"cloud_custom_data":"other"}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":21,"kind":"msg","body":[],"cloud_custom_data":"lg:007"}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":22,"kind":"msg","body":[],"cloud_custom_data":"lg:12x"}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":23,"kind":"msg","body":[]}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","seq":123456789012,"kind":"msg","cloud_custom_data":"lg:123456789"}}`,
	}
}

// The byte scan reads what a full decode reads, for every frame it accepts.
func TestScanGroupEntryMatchesDecode(t *testing.T) {
	for _, f := range groupEntryFrames() {
		if !json.Valid([]byte(f)) {
			t.Fatalf("test frame is not JSON: %s", f)
		}
		got, ok := scanGroupEntry([]byte(f))
		if !ok {
			t.Fatalf("scan refused %s", f)
		}
		dec, ok := decodeGroupFrame([]byte(f))
		if !ok || dec.Entry == nil {
			t.Fatalf("decode %s", f)
		}
		if want := dec.Entry.lite(); got != want {
			t.Errorf("scan(%s) = %+v, decode = %+v", f, got, want)
		}
	}
	for _, f := range []string{
		`{"op":"group_send","id":"1","code":0,"seq":3}`,
		`{"op":"entry","code":0,"entry":{"seq":3,"kind":"msg"}}`,
		`{"op":"group_entry","code":0,"entry":{"group":"g","kind":"msg"}}`,
	} {
		if e, ok := scanGroupEntry([]byte(f)); ok {
			t.Errorf("scan accepted %s as %+v", f, e)
		}
	}
}

func FuzzScanGroupEntry(f *testing.F) {
	for _, s := range groupEntryFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := scanGroupEntry([]byte(s))
		if !ok {
			return
		}
		if got.Seq <= 0 || (!got.Msg && got.N >= 0) {
			t.Fatalf("scan(%q) = %+v", s, got)
		}
	})
}

func TestSendFrameCarriesTheTag(t *testing.T) {
	r := &GroupRun{groupJSON: []byte(`"@TGS#_a\"b"`), cfg: GroupConfig{Body: DefaultBody}}
	b := r.sendFrame(nil, 1234)
	var f struct {
		Op, ID, Group   string
		ClientMsgID     string `json:"client_msg_id"`
		CloudCustomData string `json:"cloud_custom_data"`
		Body            json.RawMessage
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if f.Op != "group_send" || f.ID != "1234" || f.Group != `@TGS#_a"b` || f.CloudCustomData != "lg:1234" || f.ClientMsgID != "m1234" || string(f.Body) != string(DefaultBody) {
		t.Fatalf("%s decodes to %+v", b, f)
	}
}

// newTestGroupRun is a run of members without connections whose measured
// phase is [t0+1s, t0+2s).
func newTestGroupRun(members int, rate float64) *GroupRun {
	t0 := time.Unix(1_700_000_000, 0)
	r := &GroupRun{period: float64(time.Second) / rate, t0: t0, mStart: t0.Add(time.Second), mEnd: t0.Add(2 * time.Second),
		finished: make(chan struct{}), cfg: GroupConfig{Rate: rate, Duration: time.Second, Warmup: time.Second}, users: &GroupUsers{}}
	r.total = dueCount(r.t0, r.mEnd, r.period)
	r.members = make([]*member, members)
	for i := range r.members {
		r.members[i] = &member{r: r, i: i, isSender: i == 0}
	}
	return r
}

func entryFrame(seq int64, n int) []byte {
	return []byte(fmt.Sprintf(`{"op":"group_entry","code":0,"entry":{"group":"g","seq":%d,"kind":"msg","body":[],"cloud_custom_data":"lg:%d"}}`, seq, n))
}

// Every delivery is counted once, duplicates apart; latency runs from the due
// time; the drain ends once every acknowledged message reached every member
// but the sender.
func TestGroupCountsDeliveriesPerMember(t *testing.T) {
	r := newTestGroupRun(4, 10) // 20 messages, 10..19 measured
	if r.total != 20 || !r.measured(10) || r.measured(9) || r.measured(20) {
		t.Fatalf("total %d, measured(9,10,20) = %v %v %v", r.total, r.measured(9), r.measured(10), r.measured(20))
	}
	for n := 0; n < 20; n++ {
		r.members[0].frame([]byte(fmt.Sprintf(`{"op":"group_send","id":"%d","code":0,"group":"g","seq":%d,"entry":{"seq":%d,"kind":"msg"}}`, n, n+1, n+1)), r.due(n).Add(time.Millisecond))
	}
	if r.acked.Load() != 20 || r.ackLat.Count() != 10 || r.ackLat.Max() != time.Millisecond {
		t.Fatalf("acked %d, ack latencies %d (max %s)", r.acked.Load(), r.ackLat.Count(), r.ackLat.Max())
	}
	for i, m := range r.members[1:] {
		for n := 0; n < 20; n++ {
			m.frame(entryFrame(int64(n+1), n), r.due(n).Add(time.Duration(i+1)*time.Millisecond))
		}
	}
	r.members[1].frame(entryFrame(5, 4), r.mEnd) // the same message again
	select {
	case <-r.finished:
	default:
		t.Fatal("every message reached every receiver, the drain goes on")
	}
	rep := r.report(0)
	if rep.Sent != 0 || rep.Delivered != 30 || r.deliveredAll.Load() != 60 || rep.DupDeliveries != 1 || rep.GapSeqs != 0 {
		t.Fatalf("report %+v (all %d)", rep, r.deliveredAll.Load())
	}
	if rep.Latency.N != 30 || rep.Latency.P50 != 2 || rep.Latency.Max != 3 {
		t.Fatalf("latency %+v, want 30 samples of 1, 2 and 3 ms", rep.Latency)
	}
}

func TestGroupExpectedAndUndelivered(t *testing.T) {
	r := newTestGroupRun(3, 10)
	r.sent.Store(10) // the 10 measured messages written
	for n := 10; n < 20; n++ {
		r.members[1].frame(entryFrame(int64(n+1), n), r.due(n))
		if n%2 == 0 {
			r.members[2].frame(entryFrame(int64(n+1), n), r.due(n))
		}
	}
	rep := r.report(0)
	if rep.ExpectedDeliveries != 20 || rep.Delivered != 15 || rep.Undelivered != 5 || rep.UndeliveredPct != 25 {
		t.Fatalf("expected %d delivered %d undelivered %d (%.2f%%), want 20, 15, 5 (25%%)", rep.ExpectedDeliveries, rep.Delivered, rep.Undelivered, rep.UndeliveredPct)
	}
	// member 2 saw seqs 11, 13, …: 4 gaps of one seq each (a stored group asks group_sync; no connection here).
	if rep.GapSeqs != 4 {
		t.Fatalf("gap seqs %d, want 4", rep.GapSeqs)
	}
}

// In a live room a seq gap is a drop: nothing is synced.
func TestLiveRoomGapsAreDrops(t *testing.T) {
	r := newTestGroupRun(2, 10)
	r.users.LiveRoom = true
	m := r.members[1]
	for _, seq := range []int64{1, 2, 5, 6, 10} {
		m.frame(entryFrame(seq, int(seq)), r.mStart)
	}
	if r.gapSeqs.Load() != 5 || m.syncing || r.report(0).Mode != "liveroom" {
		t.Fatalf("gaps %d, syncing %v", r.gapSeqs.Load(), m.syncing)
	}
}

// A stored group's member fills a gap from group_sync pages.
func TestGroupGapIsSynced(t *testing.T) {
	r := newTestGroupRun(2, 10)
	m := r.members[1]
	m.frame(entryFrame(1, 0), r.mStart)
	m.frame(entryFrame(4, 3), r.mStart) // 2 and 3 missed
	if !m.syncing || m.syncTo != 3 {
		t.Fatalf("syncing %v to %d", m.syncing, m.syncTo)
	}
	m.frame([]byte(`{"op":"group_sync","id":"sync","code":0,"entries":[{"seq":2,"kind":"msg","cloud_custom_data":"lg:1"},{"seq":3,"kind":"tips"}],"complete":true}`), r.mStart)
	if m.syncing || r.synced.Load() != 1 || !m.got.has(1) || r.deliveredAll.Load() != 3 {
		t.Fatalf("after the sync page: syncing %v synced %d delivered %d", m.syncing, r.synced.Load(), r.deliveredAll.Load())
	}
}

// A server without group_send ("unknown op") is reported as unsupported.
func TestGroupUnknownOpIsUnsupported(t *testing.T) {
	r := newTestGroupRun(2, 10)
	r.members[0].frame([]byte(`{"op":"group_send","id":"0","code":70402,"message":"unknown op \"group_send\""}`), r.mStart)
	if r.refused.Load() != 1 || r.unsupportedReplies.Load() != 1 {
		t.Fatalf("refused %d unsupported %d", r.refused.Load(), r.unsupportedReplies.Load())
	}
}
