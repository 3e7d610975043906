package im

import (
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Writer is the single writer of the message log: it gathers concurrent operations
// into batches and commits each batch in one transaction (group commit), so the cost
// of a durable commit is shared by every message in the batch. Only after the commit
// are the callers answered and the deliveries published.
type Writer struct {
	store    store.Messages
	bus      bus.Bus
	maxBatch int
	reqs     chan *writeReq
	wg       sync.WaitGroup
	start    sync.Once // starts run with the first operation
	closeMu  sync.RWMutex
	closed   bool
	onBatch  func(size int, took time.Duration) // metrics hook; may be nil
	pool     sync.Pool
}

type writeReq struct {
	op     store.Op
	origin bus.Origin
	res    store.OpResult
	err    error
	done   chan struct{}
	// then, when set, answers the request instead of done (Submit).
	then func(store.OpResult, error)
	// group, for a group op, is the audience of its entry (SubmitGroup).
	group *bus.GroupDelivery
}

// errClosed answers operations submitted after Close.
func errClosed() error { return errs.New(errs.Internal, "server is shutting down") }

// DefaultMaxBatch is the most operations of one group commit when NewWriter is
// given no bound.
const DefaultMaxBatch = 512

// NewWriter returns a writer; its goroutine starts with the first operation,
// so that building a server starts nothing. maxBatch bounds the operations per
// transaction (0: DefaultMaxBatch).
func NewWriter(s store.Messages, b bus.Bus, maxBatch int, onBatch func(int, time.Duration)) *Writer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	w := &Writer{store: s, bus: b, maxBatch: maxBatch, reqs: make(chan *writeReq, 4*maxBatch), onBatch: onBatch}
	w.pool.New = func() any { return &writeReq{done: make(chan struct{}, 1)} }
	return w
}

// Do submits one operation and waits until it is durable (or failed).
func (w *Writer) Do(ctx context.Context, op store.Op) (store.OpResult, error) {
	r := w.pool.Get().(*writeReq)
	r.op = op
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		w.pool.Put(r)
		return store.OpResult{}, errClosed()
	}
	w.running()
	w.reqs <- r
	w.closeMu.RUnlock()
	// The writer always answers, even when ctx ends: the op may already be committed,
	// and the request must not be reused before it is answered.
	<-r.done
	res, err := r.res, r.err
	r.res, r.err, r.op = store.OpResult{}, nil, store.Op{}
	w.pool.Put(r)
	return res, err
}

// Submit queues one operation without waiting for it: then is called once with
// its result, on the writer's goroutine after the batch is committed and its
// deliveries are published (or at once, on the caller's goroutine, after Close).
// then must not block: it runs before the next batch is taken. Submit blocks only
// while the writer's queue (4 × the batch bound) is full. Operations are committed
// in the order they are submitted, as with Do.
//
// origin, when set, marks the delivery of the new entry owned by op.From (the
// sender's copy) so that the gateway answers the sending device with it.
func (w *Writer) Submit(op store.Op, origin bus.Origin, then func(store.OpResult, error)) {
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		then(store.OpResult{}, errClosed())
		return
	}
	r := w.pool.Get().(*writeReq)
	r.op, r.origin, r.then = op, origin, then
	w.running()
	w.reqs <- r
	w.closeMu.RUnlock()
}

// running starts the writer's goroutine once. Callers hold closeMu for
// reading, so Close, which takes it for writing, waits for a started goroutine.
func (w *Writer) running() {
	w.start.Do(func() {
		w.wg.Add(1)
		go w.run()
	})
}

// DoAll submits several operations at once and waits until all are durable, so
// they usually share one transaction. Results and errors are in the order of ops.
func (w *Writer) DoAll(ctx context.Context, ops []store.Op) ([]store.OpResult, []error) {
	reqs := make([]*writeReq, len(ops))
	results := make([]store.OpResult, len(ops))
	errors := make([]error, len(ops))
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		for i := range errors {
			errors[i] = errClosed()
		}
		return results, errors
	}
	w.running()
	for i, op := range ops {
		reqs[i] = w.pool.Get().(*writeReq)
		reqs[i].op = op
		w.reqs <- reqs[i]
	}
	w.closeMu.RUnlock()
	for i, r := range reqs {
		<-r.done
		results[i], errors[i] = r.res, r.err
		if errors[i] == nil && r.res.Err != nil {
			errors[i] = r.res.Err
		}
		r.res, r.err, r.op = store.OpResult{}, nil, store.Op{}
		w.pool.Put(r)
	}
	return results, errors
}

// Close stops accepting operations, commits what is queued and returns.
func (w *Writer) Close() {
	w.closeMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.closeMu.Unlock()
	w.wg.Wait()
}

func (w *Writer) run() {
	defer w.wg.Done()
	batch := make([]*writeReq, 0, w.maxBatch)
	ops := make([]store.Op, 0, w.maxBatch)
	var deliveries []bus.Delivery
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill: // take whatever else is already waiting, without waiting for more
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		start := time.Now()
		ops = w.apply(batch, ops)
		if w.onBatch != nil {
			w.onBatch(len(batch), time.Since(start))
		}
		deliveries = deliveries[:0]
		for _, r := range batch {
			if r.err != nil || r.res.Duplicate || r.res.Err != nil {
				continue
			}
			origin := r.origin
			if r.group != nil { // one delivery per group entry (group_fanout.go)
				for j := range r.res.Entries {
					deliveries = append(deliveries, groupDelivery(&r.res.Entries[j], r.group, origin))
					r.group = nil // a second entry would need an Encoded of its own
				}
				continue
			}
			for j := range r.res.Entries {
				e := &r.res.Entries[j]
				if e.Group != "" {
					continue // a group entry without an audience (an import): nobody to tell
				}
				d := bus.Delivery{App: e.App, User: e.Owner, Kind: bus.KindEntry, Entry: e}
				if e.Owner == r.op.From && origin != (bus.Origin{}) {
					d.Origin, origin = origin, bus.Origin{} // the first copy of the sender's only
				}
				deliveries = append(deliveries, d)
			}
		}
		w.bus.Publish(deliveries)
		for i, r := range batch {
			batch[i] = nil
			if r.then == nil {
				r.done <- struct{}{} // Do takes the result and puts r back
				continue
			}
			then, res, err := r.then, r.res, r.err
			*r = writeReq{done: r.done}
			w.pool.Put(r)
			then(res, err)
		}
	}
}

// apply commits batch in one transaction and sets each request's result or error.
// When the transaction fails, the batch is split in halves, each applied again in
// order, down to single operations: one operation the store refuses (a value it
// cannot store, say) fails alone and the other callers' operations still commit.
// The common path stays one transaction. ops is scratch space, returned for reuse.
func (w *Writer) apply(batch []*writeReq, ops []store.Op) []store.Op {
	ops = ops[:0]
	for _, r := range batch {
		ops = append(ops, r.op)
	}
	results, err := w.store.Apply(context.Background(), ops)
	switch {
	case err == nil:
		for i, r := range batch {
			r.res = results[i]
		}
	case len(batch) == 1:
		batch[0].err = errs.Hidden(err) // the store's text is for the log only
	default:
		mid := len(batch) / 2
		ops = w.apply(batch[:mid], ops)
		ops = w.apply(batch[mid:], ops)
	}
	return ops
}
