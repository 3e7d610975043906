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
