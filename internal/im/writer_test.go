package im

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/testdb"
)

type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Deliver(ds []bus.Delivery)          { h.n.Add(int64(len(ds))) }
func (h *countingHandler) Devices(int64, string) []bus.Device { return nil }
func (h *countingHandler) RemoteDevicesChanged(int64, string) {}

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
	w := NewWriter(st, attached(h), 64, func(n int, _ time.Duration) {
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
	NewWriter(st, attached(&countingHandler{}), 8, nil).Close()
	w := NewWriter(st, attached(&countingHandler{}), 8, nil)
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

// gatedStore holds the first Apply until released, so that the operations sent in
// the meantime queue up and form the writer's next batch. With refuseNUL it refuses
// a batch holding a NUL in CloudCustomData, as PostgreSQL does (SQLite stores it).
type gatedStore struct {
	store.Messages
	entered, release chan struct{}
	once             sync.Once
	refuseNUL        bool
	batches          atomic.Int64
}

func (g *gatedStore) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	g.once.Do(func() { close(g.entered); <-g.release })
	g.batches.Add(1)
	for _, op := range ops {
		if g.refuseNUL && strings.Contains(op.CloudCustomData, "\x00") {
			return nil, errors.New(`ERROR: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)`)
		}
	}
	return g.Messages.Apply(ctx, ops)
}

// One operation the store refuses fails alone: the other operations of its batch,
// from other apps, commit and are delivered, and the failing caller gets a generic
// internal error without the store's text.
func TestWriterIsolatesAFailingOp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		g := &gatedStore{Messages: st, entered: make(chan struct{}), release: make(chan struct{}), refuseNUL: strings.HasSuffix(t.Name(), "sqlite")}
		rec := &recorder{got: make(chan bus.Delivery, 100)}
		w := NewWriter(g, attached(rec), 64, nil)
		defer w.Close()
		send := func(app int64, from, custom string) store.Op {
			return store.Op{Kind: store.OpSend, App: app, From: from, To: "bob", ClientID: from, MsgRandom: 1, MsgTime: 1,
				Body: hello, CloudCustomData: custom, Unread: true, At: time.Now()}
		}
		plug := make(chan error, 1)
		go func() { _, err := w.Do(context.Background(), send(1, "plug", "")); plug <- err }()
		<-g.entered
		const good = 6
		type answer struct {
			i   int
			err error
		}
		answers := make(chan answer, good+1)
		for i := range good + 1 {
			op := send(int64(10+i), fmt.Sprintf("u%d", i), "fine")
			if i == 3 {
				op = send(1, "mallory", "bad\x00data")
			}
			go func() { _, err := w.Do(context.Background(), op); answers <- answer{i, err} }()
		}
		for len(w.reqs) < good+1 { // every op is queued: they form one batch
			runtime.Gosched()
		}
		close(g.release)
		if err := <-plug; err != nil {
			t.Fatal(err)
		}
		for range good + 1 {
			a := <-answers
			switch {
			case a.i == 3 && !errs.Is(a.err, errs.Internal):
				t.Errorf("the bad op: %v, want an internal error", a.err)
			case a.i == 3 && errs.Message(a.err) != "internal error":
				t.Errorf("the bad op's message %q shows storage text", errs.Message(a.err))
			case a.i != 3 && a.err != nil:
				t.Errorf("good op %d failed with the bad one: %v", a.i, a.err)
			}
		}
		// The writer publishes before it answers, so every delivery is in by now.
		delivered := map[int64]int{}
		for len(rec.got) > 0 {
			delivered[(<-rec.got).App]++
		}
		for i := range good + 1 {
			if n := delivered[int64(10+i)]; i != 3 && n != 2 {
				t.Errorf("app %d: %d deliveries, want 2", 10+i, n)
			}
		}
		for i := range good + 1 {
			if i == 3 {
				continue
			}
			if seq, err := st.LastSeq(context.Background(), int64(10+i), "bob"); err != nil || seq != 1 {
				t.Errorf("app %d: bob's last seq %d, %v; want 1", 10+i, seq, err)
			}
		}
		if seq, _ := st.LastSeq(context.Background(), 1, "mallory"); seq != 0 {
			t.Errorf("the bad op was stored (seq %d)", seq)
		}
	})
}

// recordingHandler keeps what was delivered, in order.
type recordingHandler struct {
	mu sync.Mutex
	ds []bus.Delivery
}

func (h *recordingHandler) Deliver(ds []bus.Delivery) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range ds {
		e := *d.Entry
		d.Entry = &e // the writer's results are not kept after Deliver
		h.ds = append(h.ds, d)
	}
}
func (h *recordingHandler) Devices(int64, string) []bus.Device { return nil }
func (h *recordingHandler) RemoteDevicesChanged(int64, string) {}

func (h *recordingHandler) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ds)
}

// Submit answers through its callback, in submission order, after the batch's
// deliveries are published, without a goroutine per operation; the origin marks
// the sender's copy only.
func TestWriterSubmit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		gs := &gatedStore{Messages: open(t), entered: make(chan struct{}), release: make(chan struct{})}
		h := &recordingHandler{}
		w := NewWriter(gs, attached(h), 64, nil)
		defer w.Close()
		const n = 200
		base := runtime.NumGoroutine()
		var mu sync.Mutex
		var order []int
		var results []store.OpResult
		answered := make(chan struct{}, n)
		for i := range n {
			op := store.Op{Kind: store.OpSend, App: 1, From: "alice", To: "bob", ClientID: fmt.Sprintf("c%d", i),
				MsgRandom: uint32(i + 1), MsgTime: 1, Body: hello, Unread: true, At: time.Now()}
			w.Submit(op, bus.Origin{ConnID: "conn", RequestID: fmt.Sprint(i), Token: uint64(i)}, func(res store.OpResult, err error) {
				if err != nil {
					t.Errorf("op %d: %v", i, err)
				}
				delivered := h.len()
				mu.Lock()
				order = append(order, i)
				results = append(results, res)
				mu.Unlock()
				if delivered < 2*(i+1) {
					t.Errorf("op %d answered after %d deliveries; its own were not published yet", i, delivered)
				}
				answered <- struct{}{}
			})
			if i == 0 {
				<-gs.entered // the first batch is held: the others queue behind it
			}
		}
		if g := runtime.NumGoroutine(); g > base+2 {
			t.Errorf("%d goroutines with %d operations queued, %d before", g, n, base)
		}
		close(gs.release)
		for range n {
			<-answered
		}
		for i, got := range order {
			if got != i {
				t.Fatalf("answer %d was for op %d: not in submission order", i, got)
			}
			if seq := results[i].Entries[0].Seq; seq != int64(i+1) {
				t.Fatalf("op %d: sender's seq %d, want %d", i, seq, i+1)
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, d := range h.ds {
			want := bus.Origin{}
			if d.User == "alice" {
				want = bus.Origin{ConnID: "conn", RequestID: fmt.Sprint(d.Entry.Seq - 1), Token: uint64(d.Entry.Seq - 1)}
			}
			if d.Origin != want {
				t.Fatalf("delivery to %s of seq %d has origin %+v, want %+v", d.User, d.Entry.Seq, d.Origin, want)
			}
		}
	})
}

// After Close, Submit answers at once with an internal error.
func TestWriterSubmitAfterClose(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := NewWriter(st, attached(&countingHandler{}), 0, nil)
	w.Close()
	var got error
	w.Submit(store.Op{Kind: store.OpSend, App: 1, From: "a", To: "b", Body: hello}, bus.Origin{}, func(_ store.OpResult, err error) { got = err })
	if !errs.Is(got, errs.Internal) {
		t.Fatalf("Submit after Close: %v", got)
	}
}

// instantStore commits nothing and answers every send at once, so that a
// benchmark measures the writer's own cost per operation.
type instantStore struct {
	store.Messages
	seq int64
}

func (s *instantStore) Apply(_ context.Context, ops []store.Op) ([]store.OpResult, error) {
	res := make([]store.OpResult, len(ops))
	for i, op := range ops {
		s.seq++
		res[i].Entries = []store.Entry{{App: op.App, Owner: op.From, Seq: s.seq, Kind: store.KindMsg, From: op.From, To: op.To}}
	}
	return res, nil
}

// BenchmarkWriterOverhead compares the writer's cost per operation when 256
// callers each wait in Do with one device pipelining through Submit (the store
// takes no time).
func BenchmarkWriterOverhead(b *testing.B) {
	op := store.Op{Kind: store.OpSend, App: 1, From: "a", To: "b"}
	b.Run("Do/256-callers", func(b *testing.B) {
		w := NewWriter(&instantStore{}, attached(&countingHandler{}), 0, nil)
		defer w.Close()
		b.ReportAllocs()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 256 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					if _, err := w.Do(context.Background(), op); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
	b.Run("Submit/one-device", func(b *testing.B) {
		w := NewWriter(&instantStore{}, attached(&countingHandler{}), 0, nil)
		defer w.Close()
		b.ReportAllocs()
		inFlight := make(chan struct{}, 256)
		var wg sync.WaitGroup
		wg.Add(b.N)
		then := func(store.OpResult, error) { <-inFlight; wg.Done() }
		for range b.N {
			inFlight <- struct{}{}
			w.Submit(op, bus.Origin{ConnID: "c", RequestID: "1"}, then)
		}
		wg.Wait()
	})
}
