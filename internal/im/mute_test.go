package im

import (
	"context"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// A mute recorded by another node (straight in the store) applies once this
// node's cached answer is muteCacheTTL old; deleting the account forgets the
// mute, so a re-imported account is not muted.
func TestMuteFromAnotherNode(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	send := func(id string) error {
		_, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", ClientID: id, Body: hello})
		return err
	}
	if err := send("c1"); err != nil {
		t.Fatal(err)
	}
	until := f.clock.Now().Add(2 * muteCacheTTL).UnixMilli()
	if err := f.svc.store.SetMute(ctx, f.app.SDKAppID, "alice", store.Mute{C2CUntil: until}); err != nil {
		t.Fatal(err)
	}
	if err := send("c2"); err != nil {
		t.Fatalf("within the cache's time: %v (the cached answer is used)", err)
	}
	f.clock.Advance(muteCacheTTL)
	if err := send("c3"); !errs.Is(err, errs.SenderMuted) {
		t.Fatalf("after muteCacheTTL: %v, want 20012", err)
	}
	if _, err := f.svc.DeleteAccounts(ctx, f.app, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ImportAccounts(ctx, f.app, []store.User{{UserID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := send("c4"); err != nil {
		t.Fatalf("a re-imported account is muted: %v", err)
	}
}

// The standard tags are the twelve of the reference, which MaxProfileItems counts.
func TestStandardTagCount(t *testing.T) {
	if len(standardTags) != 12 || MaxProfileItems != len(standardTags)+MaxProfileFields {
		t.Fatalf("%d standard tags; MaxProfileItems %d", len(standardTags), MaxProfileItems)
	}
}

// BenchmarkCheckMuted is the send path's cost of the mute check for a sender
// whose answer is cached (the common case), from many goroutines.
func BenchmarkCheckMuted(b *testing.B) {
	f := newFixture(b, catalog.Trial)
	ctx := context.Background()
	if err := f.svc.checkMuted(ctx, f.app, "alice"); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f.svc.checkMuted(ctx, f.app, "alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
