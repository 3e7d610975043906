package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// appRowser is what a store with SQL tables offers to count an app's rows
// (sqlstore.Store.AppRows); the suite checks it where present.
type appRowser interface {
	AppRows(ctx context.Context, sdkappid int64) (map[string]int64, error)
}

// testDeleteAppDuringBatches deletes an app while batches of sends to many new
// receivers of that app and of another app are applied, then checks that every
// op either succeeded (before the deletion) or got 70020 (after it), never a
// batch-wide storage error, that the other app's ops all succeeded, and that
// no row of the deleted app is left in any of its tables: the Seq counters a
// batch reserves for new receivers included.
func testDeleteAppDuringBatches(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	doomed := createApp(t, s, "acc1", "doomed", 0)
	kept := createApp(t, s, "acc1", "kept", 0)
	const perBatch = 20
	batch := func(i int) []store.Op {
		ops := make([]store.Op, 0, 2*perBatch)
		for j := 0; j < perBatch; j++ {
			for _, app := range []int64{doomed.SDKAppID, kept.SDKAppID} {
				op := send("pusher", fmt.Sprintf("u%d-%d", i, j), i, fmt.Sprintf("c%d-%d", i, j))
				op.App, op.OnlyReceiver = app, true
				ops = append(ops, op)
			}
		}
		return ops
	}
	// check checks one batch's results and tells whether the doomed app's ops
	// were refused.
	check := func(i int, ops []store.Op, res []store.OpResult, err error) (refused bool, ok bool) {
		if err != nil {
			t.Errorf("batch %d: Apply failed as a whole: %v", i, err)
			return false, false
		}
		var n, nRefused int
		for k, r := range res {
			switch {
			case ops[k].App == kept.SDKAppID:
				if r.Err != nil || len(r.Entries) != 1 {
					t.Errorf("batch %d op %d: the other app's send = %+v, want one entry", i, k, r)
					return false, false
				}
			case r.Err == nil && len(r.Entries) == 1:
				n++
			case errs.Is(r.Err, errs.AppNotFound) && len(r.Entries) == 0:
				nRefused++
			default:
				t.Errorf("batch %d op %d: %+v, want one entry or 70020", i, k, r)
				return false, false
			}
		}
		if n != 0 && nRefused != 0 {
			t.Errorf("batch %d: %d of the deleted app's ops succeeded and %d were refused, want all or none", i, n, nRefused)
			return false, false
		}
		return nRefused > 0, true
	}

	started := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		i, refusedSeen := 0, false
		defer func() { done <- i }()
		for ; ; i++ {
			ops := batch(i)
			res, err := s.Apply(ctx, ops)
			refused, ok := check(i, ops, res, err)
			if !ok {
				return
			}
			if refusedSeen && !refused {
				t.Errorf("batch %d: the deleted app's ops succeeded after an earlier batch was refused", i)
				return
			}
			refusedSeen = refusedSeen || refused
			if i == 0 {
				close(started)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	select {
	case <-started:
	case i := <-done: // the first batch failed: reported by check
		t.Fatalf("the first batch failed (%d batches)", i)
	}
	if err := s.DeleteApp(ctx, doomed.SDKAppID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	n := <-done
	// One batch surely after the deletion, to receivers never seen before.
	ops := batch(n + 1)
	res, err := s.Apply(ctx, ops)
	if refused, ok := check(n+1, ops, res, err); ok && !refused {
		t.Fatalf("a batch after the deletion: the deleted app's sends succeeded")
	}
	for _, u := range []string{"pusher", fmt.Sprintf("u%d-0", n+1), "u0-0"} {
		if got := syncAll(t, s, doomed.SDKAppID, u); len(got) != 0 {
			t.Fatalf("%d entries of %s remain in the deleted app", len(got), u)
		}
		if seq := lastSeq(t, s, doomed.SDKAppID, u); seq != 0 {
			t.Fatalf("LastSeq(%s) of the deleted app = %d, want 0", u, seq)
		}
	}
	if got := syncAll(t, s, kept.SDKAppID, fmt.Sprintf("u%d-0", n+1)); len(got) != 1 {
		t.Fatalf("the other app's receiver has %d entries, want 1", len(got))
	}
	if r, ok := s.(appRowser); ok {
		rows, err := r.AppRows(ctx, doomed.SDKAppID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 0 {
			t.Fatalf("rows of the deleted app remain (after %d racing batches): %v", n, rows)
		}
	}
}
