package pebblestore

import (
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// A history longer than one chunk is cleared in several batches: every copy
// of the owner goes, the peer's stay, and Seqs go on.
func TestClearHistoryInChunks(t *testing.T) {
	defer func(n int) { clearChunk = n }(clearChunk)
	clearChunk = 3
	s := open(t)
	var ops []store.Op
	for i := range 10 {
		from, to := "alice", "bob"
		if i%2 == 1 {
			from, to = to, from
		}
		ops = append(ops, store.Op{Kind: store.OpSend, App: app, From: from, To: to, MsgRandom: uint32(i),
			MsgTime: t0.Unix() + int64(i), Body: []byte(`[]`), Unread: true, At: t0})
	}
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastSeq(ctx, app, "alice")
	if err := s.DeleteConversation(ctx, app, "alice", store.ConvID{Type: 1, Peer: "bob"}, true, t0); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.History(ctx, app, "alice", "bob", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{}); len(h) != 0 {
		t.Fatalf("alice's history: %d left", len(h))
	}
	if es, _ := s.Sync(ctx, app, "alice", 0, 0, time.Time{}, time.Time{}); len(es) != 0 {
		t.Fatalf("alice's log: %d left", len(es))
	}
	if h, _ := s.History(ctx, app, "bob", "alice", 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{}); len(h) != 10 {
		t.Fatalf("bob's history: %d, want 10", len(h))
	}
	if got, _ := s.LastSeq(ctx, app, "alice"); got != last {
		t.Fatalf("LastSeq %d after the clear, want %d", got, last)
	}
	// After a restart (no cached Seqs) the next Seq still follows.
	s.mu.Lock()
	s.seqs = map[int64]map[string]int64{}
	s.mu.Unlock()
	res, err := s.Apply(ctx, []store.Op{{Kind: store.OpSend, App: app, From: "bob", To: "alice", MsgRandom: 99, MsgTime: t0.Unix() + 20, Body: []byte(`[]`), At: t0}})
	if err != nil || res[0].Entries[1].Seq != last+1 {
		t.Fatalf("next Seq %+v, %v; want %d", res, err, last+1)
	}
}
