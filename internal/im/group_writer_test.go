package im

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
)

type groupRecorder struct {
	mu sync.Mutex
	ds []bus.Delivery
}

func (h *groupRecorder) Deliver(ds []bus.Delivery) {
	h.mu.Lock()
	h.ds = append(h.ds, ds...)
	h.mu.Unlock()
}
func (h *groupRecorder) Devices(int64, string) []bus.Device { return nil }
func (h *groupRecorder) RemoteDevicesChanged(int64, string) {}

// Many goroutines send to one group through the Writer: the seqs are exactly
// 1..N, and each entry is published once, as one delivery sharing the
// members snapshot.
func TestWriterGroupSendsGapless(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "w.db"), filepath.Join(t.TempDir(), "msgs"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := &groupRecorder{}
	w := NewWriter(st, attached(h), 64, nil)
	defer w.Close()
	members := []string{"u0", "u1", "u2"}
	const senders, each = 16, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	seqs := map[int64]int{}
	for i := range senders {
		for j := range each {
			wg.Add(1)
			op := store.Op{Kind: store.OpGroupSend, App: 1, Group: "G", From: fmt.Sprintf("u%d", i%3),
				ClientID: fmt.Sprintf("c%d-%d", i, j), MsgTime: 1, Body: hello, At: time.Now()}
			go w.SubmitGroup(op, members, "", bus.Origin{}, func(res store.OpResult, err error) {
				defer wg.Done()
				if err != nil || res.Err != nil || len(res.Entries) != 1 {
					t.Errorf("send: %v %+v", err, res)
					return
				}
				mu.Lock()
				seqs[res.Entries[0].Seq]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for seq := int64(1); seq <= senders*each; seq++ {
		if seqs[seq] != 1 {
			t.Fatalf("seq %d allocated %d times (%d seqs)", seq, seqs[seq], len(seqs))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ds) != senders*each {
		t.Fatalf("%d deliveries", len(h.ds))
	}
	for _, d := range h.ds {
		if d.Kind != bus.KindGroup || d.User != "" || &d.Group.Members[0] != &members[0] || d.Entry.Group != "G" {
			t.Fatalf("delivery %+v", d)
		}
	}
}
