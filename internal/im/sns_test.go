package im

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
)

// TestBlockWhileSending: sends and block changes from many goroutines (run with
// -race): once a block call returns, the blocked user's next send is refused
// (20007), and once it is lifted the next send goes through.
func TestBlockWhileSending(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, err := f.svc.Send(ctx, f.app, SendRequest{From: "bob", To: "alice", ClientID: fmt.Sprintf("g%d-%d", g, i), Body: hello})
				if err != nil && !errs.Is(err, errs.C2CBlocked) {
					t.Errorf("send: %v", err)
				}
			}
		}(g)
	}
	for i := 0; i < 10; i++ {
		if _, err := f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "bob", To: "alice", Body: hello}); !errs.Is(err, errs.C2CBlocked) {
			t.Fatalf("send right after the block: %v, want 20007", err)
		}
		if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}); err != nil {
			t.Fatalf("the blocker's send: %v", err)
		}
		if _, err := f.svc.DeleteBlocks(ctx, f.app, "alice", []string{"bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "bob", To: "alice", Body: hello}); err != nil {
			t.Fatalf("send right after unblocking: %v", err)
		}
	}
	wg.Wait()
}
