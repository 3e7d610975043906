package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
)

// TestGlobalMuteOverWebSocket: a device of a globally muted user gets 20012 for
// its one-to-one sends until the mute ends by the server's clock; nothing is
// stored meanwhile.
func TestGlobalMuteOverWebSocket(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	secs := uint64(30)
	if err := e.svc.SetNoSpeaking(ctx, e.app, "alice", &secs, nil); err != nil {
		t.Fatal(err)
	}
	_, err = a.SendText(ctx, "bob", "m1", "hello")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != 20012 {
		t.Fatalf("send of a muted device: %v, want code 20012", err)
	}
	if seq, _ := e.svc.LastSeq(ctx, e.app, "bob"); seq != 0 {
		t.Fatalf("a refused send was stored (bob's log at %d)", seq)
	}
	e.clock.Advance(29 * time.Second)
	if _, err := a.SendText(ctx, "bob", "m2", "hello"); !errors.As(err, &ce) || ce.Code != 20012 {
		t.Fatalf("a second before the end: %v, want 20012", err)
	}
	e.clock.Advance(time.Second)
	if _, err := a.SendText(ctx, "bob", "m3", "hello"); err != nil {
		t.Fatalf("after the mute: %v", err)
	}
}
