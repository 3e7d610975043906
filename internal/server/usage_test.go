package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

// TestDailyUsageThroughTheEdges: logins and sends through the WebSocket and
// REST edges are counted, and Close writes them (no periodic flush ran: its
// interval is an hour).
func TestDailyUsageThroughTheEdges(t *testing.T) {
	dir := t.TempDir()
	db, msgs := filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages")
	st, err := embedded.Open(db, msgs)
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret",
		PurgeEvery: time.Hour, UsageFlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewServer(s.Handler)
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, s: s, hs: hs, c: c, acc: acc.ID}
	app := w.newApp(catalog.Trial, "alice", "bob")
	w.app = app

	alice := w.dial("alice", "Web")
	w.dial("bob", "Web")
	w.dial("bob", "iOS")
	for i := range 3 {
		if _, err := alice.SendText(ctx, "bob", "c"+string(rune('0'+i)), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	rest := func(cmd, body string) {
		t.Helper()
		raw := adminCall(t, hs.URL, app, c.Now(), cmd, []byte(body))
		var r struct{ ErrorCode int }
		if err := json.Unmarshal(raw, &r); err != nil || r.ErrorCode != 0 {
			t.Fatalf("%s: %s", cmd, raw)
		}
	}
	rest("openim/sendmsg", `{"From_Account":"bob","To_Account":"alice","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"yo"}}]}`)
	rest("group_open_http_svc/create_group", `{"Owner_Account":"bob","Type":"Public","GroupId":"G1","Name":"g","MemberList":[{"Member_Account":"alice"}]}`)
	if _, err := alice.GroupSend(ctx, "G1", "g1", json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"all"}}]`), client.GroupSendOptions{}); err != nil {
		t.Fatal(err)
	}
	rest("group_open_http_svc/send_group_msg", `{"GroupId":"G1","From_Account":"bob","Random":7,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`)

	hs.Close()
	s.Close() // flushes the counts and closes the store

	st2, err := embedded.Open(db, msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got, err := st2.DailyUsage(ctx, app.SDKAppID, "2026-11-26", "2026-11-26")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DailyUsage{{Day: "2026-11-26", ActiveUsers: 2, Logins: 3, C2CMsgs: 4, GroupMsgs: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("daily usage after close = %+v, want %+v", got, want)
	}
}

// TestRetentionPurgeDailyUsage: the retention purge deletes daily figures
// older than usage.RetentionDays (400) and keeps the others.
func TestRetentionPurgeDailyUsage(t *testing.T) {
	// Not started: the started server's own first purge would hold the lock.
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: testdb.SQLite(t), Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := context.Background()
	day := func(ago int) string { return c.Now().AddDate(0, 0, -ago).Format(time.DateOnly) }
	for _, ago := range []int{400, 399} {
		if err := s.cfg.Store.AddDaily(ctx, []store.DailyCounts{{App: 1400000001, Day: day(ago), Logins: 1}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.purge(ctx); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want the one day before the last 400", n, err)
	}
	got, err := s.cfg.Store.DailyUsage(ctx, 1400000001, "2000-01-01", "2100-01-01")
	if err != nil || len(got) != 1 || got[0].Day != day(399) {
		t.Fatalf("kept = %+v, %v", got, err)
	}
}

// TestDailyUsageTwoNodes: two servers on one PostgreSQL database count the
// same app; closing both writes the sum, and a user active on both nodes
// counts once.
func TestDailyUsageTwoNodes(t *testing.T) {
	testdb.SkipWithoutPostgres(t)
	u := testdb.PostgresURL(t)
	ctx := context.Background()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	var nodes []*Server
	for range 2 {
		st, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret",
			PurgeEvery: time.Hour, UsageFlushEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		nodes = append(nodes, s)
	}
	acc, err := nodes[0].Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := nodes[0].Tenants.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}, {UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)
	for n, s := range nodes {
		sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, "alice", 86400, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.IM.Login(ctx, app, "alice", sig); err != nil { // alice on both nodes
			t.Fatal(err)
		}
		from := []string{"bob", "carol"}[n] // one sender per node
		for range 5 {
			if _, err := s.IM.Send(ctx, app, im.SendRequest{From: from, To: "alice", Body: body}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range nodes {
		s.Close()
	}
	st, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.DailyUsage(ctx, app.SDKAppID, "2026-11-26", "2026-11-26")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DailyUsage{{Day: "2026-11-26", ActiveUsers: 3, Logins: 2, C2CMsgs: 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("two nodes = %+v, want %+v", got, want)
	}
}
