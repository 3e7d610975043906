package natsbus

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
)

// bareBus is a Bus with no connection and no goroutines: what publish queues
// stays queued, so the bounds can be read.
func bareBus(dropped *int) *Bus {
	b := &Bus{cfg: Config{NodeID: "me", Logger: discard(), Metrics: Metrics{Dropped: func() { *dropped++ }}},
		out: outbox{wake: make(chan struct{}, 1)}, snapSlots: make(chan struct{})} // no snapshot slot: none is fetched
	b.routes.init()
	b.pres.init()
	return b
}

// The outbox holds at most MaxOutboxBytes; past it messages are dropped and
// counted, never blocking; a message above MaxMessageBytes is never queued.
func TestOutboxBounds(t *testing.T) {
	var dropped int
	b := bareBus(&dropped)
	msg := make([]byte, 256<<10)
	fits := MaxOutboxBytes / len(msg)
	for range fits + 3 {
		b.publish("chatd.x", msg)
	}
	if len(b.out.q) != fits || b.out.bytes != fits*len(msg) || dropped != 3 {
		t.Fatalf("queued %d (%d bytes), dropped %d; want %d queued, 3 dropped", len(b.out.q), b.out.bytes, dropped, fits)
	}
	b.publish("chatd.x", make([]byte, MaxMessageBytes+1))
	if dropped != 4 || len(b.out.q) != fits {
		t.Fatalf("an oversized message: dropped %d, queued %d", dropped, len(b.out.q))
	}
}

// Heartbeats of more nodes than MaxNodes are ignored: a flood of made-up
// node ids costs a bounded directory.
func TestNodeCap(t *testing.T) {
	var dropped int
	b := bareBus(&dropped)
	for i := range MaxNodes + 50 {
		hb, _ := json.Marshal(heartbeatMsg{Node: fmt.Sprintf("n%d", i), Instance: "x", Seq: 0})
		b.onPresence(&nats.Msg{Subject: subjHB, Data: hb})
	}
	b.pres.mu.Lock()
	n := len(b.pres.peers)
	b.pres.mu.Unlock()
	if n != MaxNodes-1 {
		t.Fatalf("%d peers kept, want %d", n, MaxNodes-1)
	}
}
