package embedded_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/store/pebblestore"
	"github.com/chatd/chatd/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		dir := t.TempDir()
		s, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// The message directory is private (0700) even when it existed with a wider mode.
func TestMessagesDirIsPrivate(t *testing.T) {
	dir := t.TempDir()
	msgs := filepath.Join(dir, "messages")
	if err := os.Mkdir(msgs, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(dir, "chatd.db"), msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Fatalf("messages directory has mode %o, want 700", m)
	}
}

// The engine's outbox survives a restart: its events are still there with
// their ids, a claim held before the restart is gone (the events are due
// again), and new ids are higher than every earlier one, even after the
// newest events were delivered and removed.
func TestCallbacksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *embedded.Store {
		s, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	const app = 1400000001
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	send := func(s store.Store, clientID string, sec int) {
		t.Helper()
		at := t0.Add(time.Duration(sec) * time.Second)
		op := store.Op{Kind: store.OpSend, App: app, From: "a", To: "b", ClientID: clientID, MsgRandom: 1, MsgTime: at.Unix(),
			Body: []byte(`[]`), At: at,
			Callback: func(first store.Entry) (store.CallbackEvent, bool) {
				return store.CallbackEvent{App: app, Command: "C2C.CallbackAfterSendMsg", Body: []byte(first.MsgKey), CreatedAt: at}, true
			}}
		if res, err := s.Apply(ctx, []store.Op{op}); err != nil || res[0].Err != nil {
			t.Fatalf("Apply: %v %+v", err, res)
		}
	}
	s := open()
	send(s, "c1", 1)
	send(s, "c2", 2)
	send(s, "c3", 3)
	if err := s.AppendCallbacks(ctx, []store.CallbackEvent{{App: app, Command: "Sns.CallbackFriendAdd", Body: []byte(`{}`), CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ClaimCallbacks(ctx, app, "n1", now, time.Hour, 10)
	if err != nil || len(evs) != 4 {
		t.Fatalf("claim = %+v, %v", evs, err)
	}
	if evs[0].ID&pebblestore.CallbackIDBit != 0 || evs[1].ID&pebblestore.CallbackIDBit == 0 {
		t.Fatalf("ids %d, %d: want SQLite's first (created first), then the engine's with CallbackIDBit", evs[0].ID, evs[1].ID)
	}
	// The newest engine event is delivered: its key is gone.
	newest := evs[3]
	if err := s.FinishCallbacks(ctx, "n1", []store.CallbackOutcome{{ID: newest.ID, App: app, Done: true}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	defer s.Close()
	if n, err := s.CallbackBacklog(ctx, app); err != nil || n != 3 {
		t.Fatalf("backlog after reopen = %d, %v; want 3", n, err)
	}
	// The engine's claims ended with the process: its events are due again
	// at once, also for another node, with their ids and bodies. SQLite's
	// claim is stored: held until its lease ends.
	again, err := s.ClaimCallbacks(ctx, app, "n2", now, time.Minute, 10)
	if err != nil || len(again) != 2 {
		t.Fatalf("claim after reopen = %+v, %v", again, err)
	}
	for i, e := range again {
		if want := evs[i+1]; e.ID != want.ID || string(e.Body) != string(want.Body) {
			t.Fatalf("event %d after reopen = %+v, want %+v", i, e, want)
		}
	}
	send(s, "c4", 4)
	more, err := s.ClaimCallbacks(ctx, app, "n2", now, time.Minute, 10)
	if err != nil || len(more) != 1 {
		t.Fatalf("claim of the new event = %+v, %v", more, err)
	}
	if more[0].ID <= newest.ID {
		t.Fatalf("new engine id %d after reopen, want above %d", more[0].ID, newest.ID)
	}
	rel, err := s.ClaimCallbacks(ctx, app, "n3", now.Add(time.Hour), time.Minute, 1)
	if err != nil || len(rel) != 1 || rel[0].ID != evs[0].ID {
		t.Fatalf("claim when every lease ended = %+v, %v; want SQLite's event (the oldest)", rel, err)
	}
}

// The embedded store's outbox methods merge SQLite's and the engine's: due
// apps are the union (the engine's found by a skip scan over apps, passing
// over held events), claims are the oldest by CreatedAt then ID across both,
// and what a claim does not hand out is free again at once.
func TestCallbacksMergeSources(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	send := func(app int64, clientID string, sec int) {
		t.Helper()
		at := t0.Add(time.Duration(sec) * time.Second)
		op := store.Op{Kind: store.OpSend, App: app, From: "a", To: "b", ClientID: clientID, MsgRandom: 1, MsgTime: at.Unix(),
			Body: []byte(`[]`), At: at,
			Callback: func(first store.Entry) (store.CallbackEvent, bool) {
				return store.CallbackEvent{App: app, Command: "C2C.CallbackAfterSendMsg", Body: []byte(clientID), CreatedAt: at}, true
			}}
		if res, err := s.Apply(ctx, []store.Op{op}); err != nil || res[0].Err != nil {
			t.Fatalf("Apply: %v %+v", err, res)
		}
	}
	const a, b, c, d = 1400000001, 1400000002, 1400000003, 1400000004
	send(a, "a1", 1)
	send(b, "b1", 1)
	send(c, "c1", 1)
	if err := s.AppendCallbacks(ctx, []store.CallbackEvent{{App: d, Command: "x", Body: []byte("d1"), CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	due := func(limit int) []int64 {
		t.Helper()
		apps, err := s.DueCallbackApps(ctx, now, 0, limit)
		if err != nil {
			t.Fatal(err)
		}
		return apps
	}
	if got := due(10); len(got) != 4 || got[0] != a || got[3] != d {
		t.Fatalf("due apps = %v, want [a b c d]", got)
	}
	if evs, err := s.ClaimCallbacks(ctx, b, "n1", now, time.Minute, 10); err != nil || len(evs) != 1 {
		t.Fatalf("claim of b = %+v, %v", evs, err)
	}
	if got := due(10); len(got) != 3 || got[0] != a || got[1] != c || got[2] != d {
		t.Fatalf("due apps while b's event is held = %v, want [a c d]", got)
	}
	if got := due(1); len(got) != 1 || got[0] != a {
		t.Fatalf("due apps, limit 1 = %v", got)
	}

	// App a: engine events at t0+2s and t0+4s, a SQLite one at t0+3s.
	send(a, "a2", 2)
	send(a, "a4", 4)
	if err := s.AppendCallbacks(ctx, []store.CallbackEvent{{App: a, Command: "x", Body: []byte("a3"), CreatedAt: t0.Add(3 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	bodies := func(evs []store.CallbackEvent) string {
		var out string
		for _, e := range evs {
			out += string(e.Body) + " "
		}
		return out
	}
	evs, err := s.ClaimCallbacks(ctx, a, "n1", now, time.Minute, 3)
	if err != nil || bodies(evs) != "a1 a2 a3 " {
		t.Fatalf("claim of a, limit 3 = %q, %v; want a1 a2 a3", bodies(evs), err)
	}
	evs, err = s.ClaimCallbacks(ctx, a, "n2", now, time.Minute, 10)
	if err != nil || bodies(evs) != "a4 " {
		t.Fatalf("second claim of a = %q, %v; want a4 (given back by the first)", bodies(evs), err)
	}
	if n, err := s.CallbackBacklog(ctx, a); err != nil || n != 4 {
		t.Fatalf("backlog of a = %d, %v; want 4", n, err)
	}
}
