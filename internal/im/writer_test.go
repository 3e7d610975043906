package im

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Deliver(ds []bus.Delivery) { h.n.Add(int64(len(ds))) }

// Concurrent operations are committed together (group commit), each caller gets its
// own result, and every new entry is published once, after the commit.
func TestWriterGroupCommit(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := &countingHandler{}
	var batches, ops atomic.Int64
	var maxBatch atomic.Int64
	w := NewWriter(st, bus.NewLocal(h), 64, func(n int, _ time.Duration) {
		batches.Add(1)
		ops.Add(int64(n))
		for m := maxBatch.Load(); int64(n) > m && !maxBatch.CompareAndSwap(m, int64(n)); m = maxBatch.Load() {
		}
	})
	const senders = 200
	keys := make([]string, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.Do(context.Background(), store.Op{Kind: store.OpSend, App: 1, From: fmt.Sprintf("u%d", i), To: "hub",
				ClientID: fmt.Sprintf("c%d", i), MsgRandom: uint32(i + 1), MsgTime: 1, Body: hello, Unread: true, At: time.Now()})
			if err != nil || len(res.Entries) != 2 || res.Entries[0].From != fmt.Sprintf("u%d", i) {
				t.Errorf("sender %d: %v %+v", i, err, res)
				return
			}
			keys[i] = res.Entries[0].MsgKey
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, k := range keys {
		if seen[k] {
			t.Fatalf("sender %d got another sender's MsgKey %s", i, k)
		}
		seen[k] = true
	}
	if ops.Load() != senders || batches.Load() >= senders || maxBatch.Load() < 2 {
		t.Fatalf("%d ops in %d commits (largest %d): not grouped", ops.Load(), batches.Load(), maxBatch.Load())
	}
	if h.n.Load() != 2*senders {
		t.Fatalf("published %d deliveries, want %d", h.n.Load(), 2*senders)
	}
	if seq, _ := st.LastSeq(context.Background(), 1, "hub"); seq != senders {
		t.Fatalf("hub's log at %d, want %d", seq, senders)
	}
	w.Close()
	if _, err := w.Do(context.Background(), store.Op{Kind: store.OpSend, App: 1, From: "a", To: "b", Body: hello}); !errs.Is(err, errs.Internal) {
		t.Fatalf("Do after Close: %v", err)
	}
}

// The writer's goroutine starts with its first operation, whichever way it is
// submitted; a writer never used closes at once.
func TestWriterStartsWithFirstOperation(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	NewWriter(st, bus.NewLocal(&countingHandler{}), 8, nil).Close()
	w := NewWriter(st, bus.NewLocal(&countingHandler{}), 8, nil)
	defer w.Close()
	ops := []store.Op{
		{Kind: store.OpSend, App: 1, From: "a", To: "b", ClientID: "c1", MsgRandom: 1, MsgTime: 1, Body: hello, Unread: true, At: time.Now()},
		{Kind: store.OpSend, App: 1, From: "a", To: "b", ClientID: "c2", MsgRandom: 2, MsgTime: 1, Body: hello, Unread: true, At: time.Now()},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan []error, 1)
	go func() { _, errs := w.DoAll(ctx, ops); done <- errs }()
	select {
	case errs := <-done:
		for i, err := range errs {
			if err != nil {
				t.Errorf("op %d: %v", i, err)
			}
		}
	case <-ctx.Done():
		t.Fatal("DoAll as the first operation never returned")
	}
}
