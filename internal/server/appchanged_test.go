package server

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/testdb"
)

// invBus records the invalidations published.
type invBus struct {
	bus.Bus
	mu   sync.Mutex
	invs []bus.Invalidation
}

func (b *invBus) Invalidate(invs ...bus.Invalidation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.invs = append(b.invs, invs...)
}

// An app suspended through the operator's commerce ends its devices on this
// node at once (not after the gateway's poll, which does not run here) and
// tells the other nodes (bus.InvApp).
func TestAppSuspensionEndsSessionsAtOnce(t *testing.T) {
	w := newWorld(t, testdb.SQLite(t), catalog.Trial, gateway.Limits{})
	rec := &invBus{Bus: w.s.Bus}
	w.s.Bus = rec
	alice := w.dial("alice", "Web")
	if _, err := w.s.Commerce.SuspendAccount(context.Background(), w.acc, "abuse"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-alice.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a session of a suspended app stayed open")
	}
	if !strings.Contains(alice.Kicked(), "suspended") {
		t.Errorf("kick reason %q", alice.Kicked())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, inv := range rec.invs {
		if inv.Kind == bus.InvApp && inv.App == w.app.SDKAppID {
			return
		}
	}
	t.Fatalf("published %+v, want InvApp of app %d", rec.invs, w.app.SDKAppID)
}
