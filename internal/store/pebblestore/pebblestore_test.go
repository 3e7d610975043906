package pebblestore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

const app = 1400000001

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "messages"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func send(from, to string, sec int, clientID string) store.Op {
	at := t0.Add(time.Duration(sec) * time.Second)
	return store.Op{Kind: store.OpSend, App: app, From: from, To: to, ClientID: clientID,
		MsgTime: at.Unix(), Body: []byte(`[]`), Unread: true, At: at}
}

// keys counts the keys of app's family fam.
func keys(t *testing.T, s *Store, fam byte) int {
	t.Helper()
	p := appKey(app, fam)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}

// The purge removes the records themselves (range deletes by creation time,
// and the expired ones through the expiry index), not only hides them.
func TestPurgeRemovesRecords(t *testing.T) {
	s := open(t)
	short := send("alice", "bob", 7200, "short")
	short.ExpiresAt = t0.Add(7300 * time.Second)
	ops := []store.Op{send("alice", "bob", 0, "a"), send("bob", "alice", 1, "b"), short, send("alice", "bob", 7201, "kept")}
	ops = append(ops, store.Op{Kind: store.OpRead, App: app, From: "bob", To: "alice", ReadTime: 1, At: t0.Add(2 * time.Second)})
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if m, e, x := keys(t, s, famMsg), keys(t, s, famEvent), keys(t, s, famExpiry); m != 4 || e != 2 || x != 1 {
		t.Fatalf("before the purge: %d messages, %d events, %d expiry keys", m, e, x)
	}
	n, err := s.PurgeBefore(ctx, app, t0.Add(time.Hour), t0.Add(7300*time.Second))
	if err != nil || n != 8 {
		t.Fatalf("PurgeBefore = %d, %v; want 8 entries (3 messages × 2 copies, 2 read entries)", n, err)
	}
	if m, e, x := keys(t, s, famMsg), keys(t, s, famEvent), keys(t, s, famExpiry); m != 1 || e != 0 || x != 0 {
		t.Fatalf("after the purge: %d messages, %d events, %d expiry keys; want 1, 0, 0", m, e, x)
	}
}

// Close is idempotent, and calls after it fail with ErrClosed instead of
// reaching the closed engine.
func TestClose(t *testing.T) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Apply(ctx, []store.Op{send("alice", "bob", 0, "")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Sync(ctx, app, "alice", 0, 0, time.Time{}, time.Time{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v, want ErrClosed", err)
	}
}
