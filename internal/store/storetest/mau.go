package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func admit(t *testing.T, s store.Store, app int64, month, user string, capacity int) (bool, error) {
	t.Helper()
	return s.AdmitMonthly(ctx, app, month, user, capacity, t0)
}

func count(t *testing.T, s store.Store, app int64, month string) int {
	t.Helper()
	n, err := s.CountMonthly(ctx, app, month)
	if err != nil {
		t.Fatalf("CountMonthly: %v", err)
	}
	return n
}

func testAdmitMonthly(t *testing.T, s store.Store) {
	const march, april = "2025-03", "2025-04"
	expect := func(app int64, month, user string, capacity int, wantFirst bool, wantErr error) {
		t.Helper()
		first, err := admit(t, s, app, month, user, capacity)
		if first != wantFirst || !isErr(err, wantErr) || (wantErr == nil && err != nil) {
			t.Fatalf("AdmitMonthly(%d, %s, %s, cap %d) = %v, %v; want %v, %v", app, month, user, capacity, first, err, wantFirst, wantErr)
		}
	}
	if n := count(t, s, app1, march); n != 0 {
		t.Fatalf("CountMonthly of an empty month = %d", n)
	}
	expect(app1, march, "u1", 0, true, nil)  // first time
	expect(app1, march, "u1", 0, false, nil) // again
	expect(app1, march, "u2", 2, true, nil)
	expect(app1, march, "u3", 2, false, errs.ErrLimit) // full
	expect(app1, march, "u1", 2, false, nil)           // counted users are admitted
	expect(app1, march, "u2", 2, false, nil)
	if n := count(t, s, app1, march); n != 2 {
		t.Fatalf("CountMonthly = %d, want 2: the refused user was recorded", n)
	}
	expect(app1, march, "u3", 3, true, nil) // a larger capacity admits
	expect(app1, march, "u4", 0, true, nil) // capacity 0: no limit
	if n := count(t, s, app1, march); n != 4 {
		t.Fatalf("CountMonthly = %d, want 4", n)
	}
	// Months are separate.
	expect(app1, april, "u1", 1, true, nil)
	expect(app1, april, "u2", 1, false, errs.ErrLimit)
	if n := count(t, s, app1, april); n != 1 {
		t.Fatalf("CountMonthly(april) = %d, want 1", n)
	}
	// Apps are separate.
	expect(app2, march, "u1", 1, true, nil)
	expect(app2, march, "u9", 1, false, errs.ErrLimit)
	if n := count(t, s, app2, march); n != 1 {
		t.Fatalf("CountMonthly(app2) = %d, want 1", n)
	}
	if n := count(t, s, app1, march); n != 4 {
		t.Fatalf("CountMonthly(app1) = %d after app2's admissions, want 4", n)
	}
}

func testAdmitMonthlyConcurrent(t *testing.T, s store.Store) {
	const month, capacity, users = "2025-03", 20, 50
	var wg sync.WaitGroup
	firsts, limits := make(chan string, users), make(chan string, users)
	failures := make(chan error, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("user%02d", i)
			first, err := s.AdmitMonthly(ctx, app1, month, user, capacity, t0)
			switch {
			case err == nil && first:
				firsts <- user
			case isErr(err, errs.ErrLimit) && !first:
				limits <- user
			default:
				failures <- fmt.Errorf("%s: %v, %v", user, first, err)
			}
		}()
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Fatalf("AdmitMonthly: %v", err)
	}
	if len(firsts) != capacity || len(limits) != users-capacity {
		t.Fatalf("%d admitted, %d refused; want %d, %d", len(firsts), len(limits), capacity, users-capacity)
	}
	if n := count(t, s, app1, month); n != capacity {
		t.Fatalf("CountMonthly = %d, want %d", n, capacity)
	}
	// The admitted are admitted again; the refused are still refused.
	close(firsts)
	for u := range firsts {
		if first, err := admit(t, s, app1, month, u, capacity); first || err != nil {
			t.Fatalf("admitted user %s again: %v, %v", u, first, err)
		}
	}
	close(limits)
	for u := range limits {
		if _, err := admit(t, s, app1, month, u, capacity); !isErr(err, errs.ErrLimit) {
			t.Fatalf("refused user %s again: %v", u, err)
		}
	}
}

// testSendConcurrentSameClientID: several writers retry one send at once;
// exactly one stores it and all see the same message.
func testSendConcurrentSameClientID(t *testing.T, s store.Store) {
	const writers = 8
	op := send("alice", "bob", 1, "retry-me")
	var wg sync.WaitGroup
	results := make([]store.OpResult, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Apply(ctx, []store.Op{send("carol", "bob", 100+i, ""), op})
			if err == nil {
				results[i] = res[1]
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	stored := 0
	for i := range writers {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		r := results[i]
		if r.Err != nil || len(r.Entries) != 2 {
			t.Fatalf("writer %d: %+v", i, r)
		}
		if !r.Duplicate {
			stored++
		}
		if r.Entries[0].MsgKey != results[0].Entries[0].MsgKey {
			t.Fatalf("writers see different messages: %s, %s", r.Entries[0].MsgKey, results[0].Entries[0].MsgKey)
		}
	}
	if stored != 1 {
		t.Fatalf("%d writers stored the message, want 1", stored)
	}
	if es := syncAll(t, s, app1, "alice"); len(es) != 1 {
		t.Fatalf("alice's log has %d entries, want 1", len(es))
	}
	bobs := syncAll(t, s, app1, "bob")
	var seqs []int64
	n := 0
	for i, e := range bobs {
		seqs = append(seqs, int64(i+1))
		if e.From == "alice" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("bob's log has %d copies of the message, want 1", n)
	}
	equalSeqs(t, "bob's log", seqsOf(bobs), seqs...)
	if len(bobs) != writers+1 {
		t.Fatalf("bob's log has %d entries, want %d", len(bobs), writers+1)
	}
}

// testSendConcurrentGapless: concurrent batches to one receiver (as from several
// nodes) keep its log gapless.
func testSendConcurrentGapless(t *testing.T, s store.Store) {
	const writers, batches, perBatch = 4, 5, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var ops []store.Op
				for i := range perBatch {
					ops = append(ops, send(fmt.Sprintf("sender%d", w), "bob", b*perBatch+i, ""))
				}
				if _, err := s.Apply(ctx, ops); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Apply: %v", err)
	}
	es := syncAll(t, s, app1, "bob")
	want := make([]int64, writers*batches*perBatch)
	for i := range want {
		want[i] = int64(i + 1)
	}
	equalSeqs(t, "bob's log", seqsOf(es), want...)
	if n := lastSeq(t, s, app1, "bob"); n != int64(len(want)) {
		t.Fatalf("LastSeq(bob) = %d, want %d", n, len(want))
	}
}
