package postgres_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
)

// Two nodes (two store handles on one schema) write batches to the same few
// users at once, each batch naming its owners in a random order, and every
// batch is sent by both nodes (as after a client retry that reached the other
// node): no deadlock or other error, each send stored once, every log gapless.
func TestTwoNodesSameOwners(t *testing.T) {
	base, admin := testURL(t)
	u := freshSchema(t, base, admin)
	ctx := context.Background()
	var nodes [2]store.Store
	for i := range nodes {
		s, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	const (
		app     = 1400000001
		users   = 6
		pairs   = 3 // writers per node
		batches = 8
		perOp   = 12
	)
	user := func(i int) string { return fmt.Sprintf("user%d", i) }
	now := time.Now()
	// The batches of writer pair p, the same on both nodes.
	plan := make([][][]store.Op, pairs)
	for p := range plan {
		rng := mrand.New(mrand.NewPCG(uint64(p), 7))
		for b := range batches {
			var ops []store.Op
			for i := range perOp {
				from := rng.IntN(users)
				to := (from + 1 + rng.IntN(users-1)) % users
				ops = append(ops, store.Op{Kind: store.OpSend, App: app, From: user(from), To: user(to),
					ClientID: fmt.Sprintf("p%d-b%d-o%d", p, b, i), MsgRandom: rng.Uint32(), MsgTime: now.Unix(),
					Body: []byte(`[]`), Unread: true, At: now})
			}
			plan[p] = append(plan[p], ops)
		}
	}
	results := make([][2][][]store.OpResult, pairs) // [pair][node][batch]
	errc := make(chan error, 2*pairs)
	var wg sync.WaitGroup
	for p := range pairs {
		for n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, ops := range plan[p] {
					res, err := nodes[n].Apply(ctx, ops)
					if err != nil {
						errc <- fmt.Errorf("node %d, writer %d: %w", n, p, err)
						return
					}
					results[p][n] = append(results[p][n], res)
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	want := map[string]int{} // entries per log
	for p := range pairs {
		for b, ops := range plan[p] {
			for i, op := range ops {
				r0, r1 := results[p][0][b][i], results[p][1][b][i]
				if r0.Err != nil || r1.Err != nil || r0.Duplicate == r1.Duplicate {
					t.Fatalf("%s: node 0 %+v, node 1 %+v; want one stored, one Duplicate", op.ClientID, r0, r1)
				}
				if len(r0.Entries) != 2 || len(r1.Entries) != 2 || r0.Entries[0].MsgKey != r1.Entries[0].MsgKey {
					t.Fatalf("%s: the nodes see different messages: %+v, %+v", op.ClientID, r0.Entries, r1.Entries)
				}
				want[op.From]++
				want[op.To]++
			}
		}
	}
	for i := range users {
		owner := user(i)
		es, err := nodes[i%2].Sync(ctx, app, owner, 0, 0, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != want[owner] {
			t.Fatalf("%s's log has %d entries, want %d", owner, len(es), want[owner])
		}
		seen := map[string]bool{}
		for j, e := range es {
			if e.Seq != int64(j+1) {
				t.Fatalf("%s's log: entry %d has Seq %d (gap or duplicate)", owner, j, e.Seq)
			}
			if seen[e.ClientID] {
				t.Fatalf("%s's log holds %s twice", owner, e.ClientID)
			}
			seen[e.ClientID] = true
		}
		if last, err := nodes[(i+1)%2].LastSeq(ctx, app, owner); err != nil || last != int64(len(es)) {
			t.Fatalf("LastSeq(%s) = %d, %v; want %d", owner, last, err, len(es))
		}
	}
}

// A value PostgreSQL refuses (a NUL in a text column) fails its whole batch
// and leaves nothing behind: no entry, no Seq taken; the connection is rolled
// back and reused, so the store keeps working (more failures than the pool
// has connections), and the same ops without the bad one commit.
func TestRefusedBatchLeavesNothing(t *testing.T) {
	base, admin := testURL(t)
	s, err := postgres.Open(context.Background(), freshSchema(t, base, admin))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	op := func(from, custom string) store.Op {
		return store.Op{Kind: store.OpSend, App: 1, From: from, To: "bob", ClientID: "c-" + from,
			MsgRandom: 1, MsgTime: now.Unix(), Body: []byte(`[]`), CloudCustomData: custom, Unread: true, At: now}
	}
	for i := range 2 * postgres.MaxConns {
		good := op(fmt.Sprintf("good%d", i), "fine")
		bad := op("mallory", "bad\x00data") // refused when the entries are written
		if i%2 == 1 {
			bad = op("mal\x00lory", "") // refused when the counters are locked
		}
		if _, err := s.Apply(ctx, []store.Op{good, bad}); err == nil {
			t.Fatal("a batch with a NUL in a text column committed")
		}
		if n, err := s.LastSeq(ctx, 1, "bob"); err != nil || n != int64(i) {
			t.Fatalf("after the refused batch %d: bob's LastSeq %d, %v; want %d", i, n, err, i)
		}
		res, err := s.Apply(ctx, []store.Op{good})
		if err != nil || res[0].Err != nil || res[0].Duplicate || res[0].Entries[1].Seq != int64(i+1) {
			t.Fatalf("the good op alone: %+v, %v", res, err)
		}
	}
	if n, err := s.LastSeq(ctx, 1, "mallory"); err != nil || n != 0 {
		t.Fatalf("mallory's LastSeq %d, %v; want 0", n, err)
	}
}
