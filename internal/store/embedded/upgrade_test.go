package embedded

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/pebblestore"
	"github.com/chatd/chatd/internal/store/sqlite"
)

var (
	ctx = context.Background()
	t0  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

const app1, app2 int64 = 1400000001, 1400000002

var users = []string{"alice", "bob", "carol"}

func send(app int64, from, to string, sec int, clientID string) store.Op {
	at := t0.Add(time.Duration(sec) * time.Second)
	return store.Op{
		Kind: store.OpSend, App: app, From: from, To: to, ClientID: clientID,
		MsgRandom: uint32(7000 + sec), MsgTime: at.Unix(),
		Body:            []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"m` + clientID + `"}}]`),
		CloudCustomData: "ccd", Unread: true, At: at,
	}
}

// legacyDB writes, through the SQL store, a data directory as chatd kept it
// before the message engine: messages (with a ClientID and without, to
// oneself, receiver-only, with an explicit MsgSeq, with an end of life),
// recalls, reads, and a purge that leaves Seqs above the oldest entries. With
// v2 it then turns the database back into schema version 2 (no expires_at).
func legacyDB(t *testing.T, dir string, v2 bool) {
	t.Helper()
	sq, err := sqlite.Open(filepath.Join(dir, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	imp := send(app1, "carol", "alice", 50, "")
	imp.MsgSeq, imp.OnlyReceiver, imp.Unread = 77, true, false
	short := send(app1, "bob", "alice", 60, "s1")
	if !v2 {
		short.ExpiresAt = t0.Add(time.Hour)
	}
	batches := [][]store.Op{
		{send(app1, "alice", "bob", 0, "purged"), send(app2, "alice", "bob", 0, "other-app")},
		{send(app1, "alice", "bob", 10, "a1"), send(app1, "bob", "alice", 11, ""), send(app1, "alice", "alice", 12, "self")},
		{imp, short, send(app1, "alice", "carol", 70, "a2")},
	}
	for _, ops := range batches {
		if _, err := sq.Apply(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sq.PurgeBefore(ctx, app1, t0.Add(5*time.Second), time.Time{}); err != nil {
		t.Fatal(err)
	}
	sent, err := sq.Sync(ctx, app1, "bob", 0, 0, time.Time{}, time.Time{})
	if err != nil || len(sent) == 0 {
		t.Fatalf("bob's log: %v %v", sent, err)
	}
	var key string
	for _, e := range sent {
		if e.From == "bob" && e.To == "alice" && e.ClientID == "" {
			key = e.MsgKey
		}
	}
	if _, err := sq.Apply(ctx, []store.Op{
		{Kind: store.OpRecall, App: app1, From: "bob", To: "alice", MsgKey: key, At: t0.Add(80 * time.Second)},
		{Kind: store.OpRead, App: app1, From: "bob", To: "alice", ReadTime: t0.Unix() + 10, At: t0.Add(81 * time.Second)},
		{Kind: store.OpRead, App: app1, From: "carol", To: "alice", ReadTime: t0.Unix() + 70, At: t0.Add(82 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	if v2 {
		for _, q := range []string{
			`ALTER TABLE entries DROP COLUMN expires_at`,
			`UPDATE schema_version SET version = 2`,
		} {
			if _, err := sq.WriteDB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// view is everything a store tells about the users of app1 and app2.
type view struct {
	Sync    map[string][]store.Entry
	Last    map[string]int64
	Unread  map[string]map[string]int
	Read    map[string]int64
	History map[string][]store.Entry
}

func viewOf(t *testing.T, s store.Messages) view {
	t.Helper()
	v := view{map[string][]store.Entry{}, map[string]int64{}, map[string]map[string]int{}, map[string]int64{}, map[string][]store.Entry{}}
	for _, app := range []int64{app1, app2} {
		for _, u := range users {
			k := string(rune('0'+app%10)) + u
			var err error
			if v.Sync[k], err = s.Sync(ctx, app, u, 0, 0, time.Time{}, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if v.Last[k], err = s.LastSeq(ctx, app, u); err != nil {
				t.Fatal(err)
			}
			if v.Unread[k], err = s.Unread(ctx, app, u, nil, time.Time{}, time.Time{}); err != nil {
				t.Fatal(err)
			}
			for _, p := range users {
				if v.Read[k+">"+p], err = s.PeerReadTime(ctx, app, u, p); err != nil {
					t.Fatal(err)
				}
				if v.History[k+">"+p], err = s.History(ctx, app, u, p, 0, 0, store.Cursor{}, 0, time.Time{}, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return v
}

// legacyView reads the legacy database through the SQL store.
func legacyView(t *testing.T, dir string) view {
	t.Helper()
	sq, err := sqlite.Open(filepath.Join(dir, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	return viewOf(t, sq)
}

func openDir(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkUpgraded opens dir and checks that it tells exactly what the legacy
// database told, that SQLite kept no messages, and that logs go on from
// where they were (Seqs, retries of old ClientIDs, recalls of old messages).
func checkUpgraded(t *testing.T, dir string, want view) {
	t.Helper()
	s := openDir(t, dir)
	defer s.Close()
	got := viewOf(t, s)
	if !reflect.DeepEqual(got, want) {
		for k := range want.Sync {
			if !reflect.DeepEqual(got.Sync[k], want.Sync[k]) {
				t.Errorf("log %s:\n got %+v\nwant %+v", k, got.Sync[k], want.Sync[k])
			}
		}
		t.Fatalf("after the upgrade:\n got %+v\nwant %+v", got, want)
	}
	var left int
	if err := s.WriteDB().QueryRow(`SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM seqs) + (SELECT COUNT(*) FROM reads)`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("SQLite still holds %d message rows (%v)", left, err)
	}
	res, err := s.Apply(ctx, []store.Op{send(app1, "alice", "bob", 100, "a1"), send(app1, "alice", "bob", 101, "new")})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || len(res[0].Entries) != 2 || !reflect.DeepEqual(res[0].Entries[0], findClient(want.Sync["1alice"], "a1")) ||
		!reflect.DeepEqual(res[0].Entries[1], findClient(want.Sync["1bob"], "a1")) {
		t.Fatalf("retry of an upgraded ClientID: %+v", res[0])
	}
	if res[1].Duplicate || res[1].Entries[0].Seq != want.Last["1alice"]+1 || res[1].Entries[1].Seq != want.Last["1bob"]+1 {
		t.Fatalf("new send after the upgrade: %+v; want Seqs %d and %d", res[1], want.Last["1alice"]+1, want.Last["1bob"]+1)
	}
	a2 := findClient(want.Sync["1alice"], "a2")
	rec, err := s.Apply(ctx, []store.Op{{Kind: store.OpRecall, App: app1, From: "alice", To: "carol", MsgKey: a2.MsgKey, At: t0.Add(200 * time.Second)}})
	if err != nil || rec[0].Err != nil || len(rec[0].Entries) != 2 {
		t.Fatalf("recall of an upgraded message: %+v, %v", rec, err)
	}
	if m, err := s.FindMessage(ctx, app1, "carol", "alice", a2.MsgKey); err != nil || !m.Recalled {
		t.Fatalf("upgraded message after its recall: %+v, %v", m, err)
	}
}

func findClient(es []store.Entry, clientID string) store.Entry {
	for _, e := range es {
		if e.Kind == store.KindMsg && e.ClientID == clientID {
			return e
		}
	}
	return store.Entry{}
}

func TestUpgrade(t *testing.T) {
	for _, c := range []struct {
		name  string
		v2    bool
		chunk int
	}{{"v2", true, 4096}, {"v3", false, 4096}, {"v3 in chunks of 2", false, 2}} {
		t.Run(c.name, func(t *testing.T) {
			defer func(n int) { importChunk = n }(importChunk)
			importChunk = c.chunk
			dir := t.TempDir()
			legacyDB(t, dir, c.v2)
			want := legacyView(t, dir)
			if len(want.Sync["1alice"]) < 5 || want.Last["1alice"] <= int64(len(want.Sync["1alice"])) {
				t.Fatalf("the legacy data is not what the test means: %+v", want.Sync["1alice"])
			}
			checkUpgraded(t, dir, want)
		})
	}
}

// TestUpgradeInterrupted: a crash during the copy (some of the messages in the
// engine, completion not recorded) and a crash after it (completion recorded,
// SQLite not yet emptied) both end, on the next start, with every message
// once.
func TestUpgradeInterrupted(t *testing.T) {
	t.Run("during the copy", func(t *testing.T) {
		dir := t.TempDir()
		legacyDB(t, dir, false)
		want := legacyView(t, dir)
		m, err := pebblestore.Open(filepath.Join(dir, "messages"))
		if err != nil {
			t.Fatal(err)
		}
		// What the crash left need not be what the copy writes again.
		var some []pebblestore.Legacy
		for _, e := range want.Sync["1alice"][:3] {
			e.Seq += 100
			some = append(some, pebblestore.Legacy{Entry: e})
		}
		if err := m.Import(some); err != nil {
			t.Fatal(err)
		}
		m.Close()
		checkUpgraded(t, dir, want)
	})
	t.Run("before SQLite is emptied", func(t *testing.T) {
		dir := t.TempDir()
		legacyDB(t, dir, false)
		want := legacyView(t, dir)
		sq, err := sqlite.Open(filepath.Join(dir, "chatd.db"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := pebblestore.Open(filepath.Join(dir, "messages"))
		if err != nil {
			t.Fatal(err)
		}
		db := sq.WriteDB()
		var upTo int64
		if err := db.QueryRow(`SELECT MAX(rowid) FROM entries`).Scan(&upTo); err != nil {
			t.Fatal(err)
		}
		for _, step := range []func() error{
			m.BeginUpgrade,
			func() error { return copyEntries(ctx, db, m) },
			func() error { return copySeqs(ctx, db, m) },
			func() error { return copyReads(ctx, db, m) },
			func() error { return m.SetUpgradeState(pebblestore.UpgradeState(upTo)) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		m.Close()
		sq.Close()
		checkUpgraded(t, dir, want)
	})
}

// TestUpgradeKeepsRowsOfOlderChatd: messages an older chatd wrote to SQLite
// after the upgrade are neither deleted nor copied twice: chatd refuses to start.
func TestUpgradeKeepsRowsOfOlderChatd(t *testing.T) {
	dir := t.TempDir()
	legacyDB(t, dir, false)
	openDir(t, dir).Close() // the upgrade
	sq, err := sqlite.Open(filepath.Join(dir, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sq.Apply(ctx, []store.Op{send(app1, "alice", "bob", 500, "old-binary")}); err != nil {
		t.Fatal(err)
	}
	sq.Close()
	if s, err := Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages")); err == nil {
		s.Close()
		t.Fatal("chatd started over message rows an older chatd wrote to SQLite")
	}
	sq, err = sqlite.Open(filepath.Join(dir, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	if es, err := sq.Sync(ctx, app1, "bob", 0, 0, time.Time{}, time.Time{}); err != nil || len(es) != 1 || es[0].ClientID != "old-binary" {
		t.Fatalf("the older chatd's message in SQLite: %+v, %v", es, err)
	}
}

// TestDeleteAppInterrupted: an app marked deleted in SQLite whose messages a
// crash kept in the engine loses them on the next start; other apps keep theirs.
func TestDeleteAppInterrupted(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	if err := s.CreateAccount(ctx, store.Account{ID: "acc", Name: "A", Status: store.StatusActive, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	var apps []int64
	for range 2 {
		a, err := s.CreateApp(ctx, store.App{AccountID: "acc", Name: "x", Status: store.StatusActive, CreatedAt: t0}, 10)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a.SDKAppID)
		if _, err := s.Apply(ctx, []store.Op{send(a.SDKAppID, "alice", "bob", 1, "c")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Store.DeleteApp(ctx, apps[0], t0); err != nil { // SQLite only: the crash comes next
		t.Fatal(err)
	}
	if es, _ := s.Sync(ctx, apps[0], "bob", 0, 0, time.Time{}, time.Time{}); len(es) != 1 {
		t.Fatalf("the engine lost the messages before the crash: %v", es)
	}
	s.Close()
	s = openDir(t, dir)
	defer s.Close()
	for i, want := range []int{0, 1} {
		es, err := s.Sync(ctx, apps[i], "bob", 0, 0, time.Time{}, time.Time{})
		if err != nil || len(es) != want {
			t.Fatalf("app %d after the restart: %d entries (%v), want %d", apps[i], len(es), err, want)
		}
		if seq, _ := s.LastSeq(ctx, apps[i], "alice"); seq != int64(want) {
			t.Fatalf("app %d: LastSeq = %d, want %d", apps[i], seq, want)
		}
	}
}

// TestReopen: counters recovered on open go on without reusing a Seq or a
// record id (an id reused would overwrite an older message).
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	first, err := s.Apply(ctx, []store.Op{send(app1, "alice", "bob", 1, "c1"), send(app1, "bob", "alice", 1, "")})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openDir(t, dir)
	defer s.Close()
	second, err := s.Apply(ctx, []store.Op{send(app1, "alice", "bob", 1, "c2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := second[0].Entries[0].Seq; got != 3 {
		t.Fatalf("alice's Seq after reopening = %d, want 3", got)
	}
	es, err := s.Sync(ctx, app1, "bob", 0, 0, time.Time{}, time.Time{})
	if err != nil || len(es) != 3 {
		t.Fatalf("bob's log: %+v, %v", es, err)
	}
	want := []store.Entry{first[0].Entries[1], first[1].Entries[0], second[0].Entries[1]}
	if !reflect.DeepEqual(es, want) {
		t.Fatalf("bob's log after reopening:\n got %+v\nwant %+v", es, want)
	}
}
