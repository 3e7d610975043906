package sender

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// memStore is an in-memory store.Callbacks for the tests of this package.
type memStore struct {
	mu     sync.Mutex
	cfg    map[int64]store.CallbackConfig
	evs    map[int64]*memEvent
	nextID int64
	log    []store.CallbackLogEntry
	reads  int // CallbackConfig calls

	changed    chan struct{} // signalled after each FinishCallbacks
	claimed    int           // events claimed and not finished (by any node)
	maxClaimed int
}

type memEvent struct {
	ev    store.CallbackEvent
	node  string
	until time.Time
}

func newMemStore() *memStore {
	return &memStore{cfg: map[int64]store.CallbackConfig{}, evs: map[int64]*memEvent{}, changed: make(chan struct{}, 1)}
}

func (m *memStore) SetCallbackConfig(_ context.Context, app int64, c store.CallbackConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Commands = append([]string(nil), c.Commands...)
	m.cfg[app] = c
	return nil
}

func (m *memStore) CallbackConfig(_ context.Context, app int64) (store.CallbackConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.cfg[app], nil
}

func (m *memStore) AppendCallbacks(_ context.Context, evs []store.CallbackEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range evs {
		m.nextID++
		e.ID = m.nextID
		m.evs[e.ID] = &memEvent{ev: e}
	}
	return nil
}

func (m *memStore) DueCallbackApps(_ context.Context, now time.Time, after int64, limit int) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := map[int64]bool{}
	for _, e := range m.evs {
		if e.ev.App > after && !e.ev.NextAt.After(now) && (e.node == "" || !e.until.After(now)) {
			set[e.ev.App] = true
		}
	}
	var out []int64
	for a := range set {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) ClaimCallbacks(_ context.Context, app int64, node string, now time.Time, lease time.Duration, limit int) ([]store.CallbackEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []int64
	for id, e := range m.evs {
		if e.ev.App == app && !e.ev.NextAt.After(now) && (e.node == "" || !e.until.After(now)) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	defer func() { m.maxClaimed = max(m.maxClaimed, m.claimed) }()
	out := make([]store.CallbackEvent, 0, len(ids))
	for _, id := range ids {
		e := m.evs[id]
		if e.node == "" {
			m.claimed++
		}
		e.node, e.until = node, now.Add(lease)
		out = append(out, e.ev)
	}
	return out, nil
}

func (m *memStore) FinishCallbacks(_ context.Context, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range outs {
		e := m.evs[o.ID]
		if e == nil || e.node != node {
			continue
		}
		m.claimed--
		if o.Done {
			delete(m.evs, o.ID)
			continue
		}
		e.ev.Attempts++
		e.ev.NextAt, e.ev.LastError = o.NextAt, o.Error
		e.node, e.until = "", time.Time{}
	}
	m.log = append(m.log, log...)
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return nil
}

func (m *memStore) CallbackLog(_ context.Context, app int64, limit int) ([]store.CallbackLogEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.CallbackLogEntry
	for i := len(m.log) - 1; i >= 0 && len(out) < limit; i-- {
		if m.log[i].App == app {
			out = append(out, m.log[i])
		}
	}
	return out, nil
}

func (m *memStore) CallbackBacklog(_ context.Context, app int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, e := range m.evs {
		if e.ev.App == app {
			n++
		}
	}
	return n, nil
}

func (m *memStore) logCopy() []store.CallbackLogEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.CallbackLogEntry(nil), m.log...)
}

func (m *memStore) event(id int64) store.CallbackEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.evs[id]; e != nil {
		return e.ev
	}
	return store.CallbackEvent{}
}
