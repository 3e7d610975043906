package im

import (
	"context"
	"fmt"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// BenchmarkConversationListGroups measures one get_list page (AssistFlags 1)
// of a user with 1,000 one-to-one conversations (3 messages each, 2 unread)
// and 500 groups (Work, 3 members, 3 messages each, 2 unread), on the
// embedded store and (with CHATD_TEST_POSTGRES_URL) PostgreSQL: p50, p99 and
// CPU per page. The group items are built at read time (memberships, one
// batched read of the group heads, the profiles of the groups with a message)
// and the page's group items get their unread count and last sender.
func BenchmarkConversationListGroups(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { benchConvListGroups(b, testdb.SQLite(&testing.T{})) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("CHATD_TEST_POSTGRES_URL") == "" {
			b.Skip("CHATD_TEST_POSTGRES_URL is not set")
		}
		benchConvListGroups(b, testdb.Postgres(&testing.T{}))
	})
}

func benchConvListGroups(b *testing.B, st store.Store) {
	defer st.Close()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	if err := st.CreateAccount(ctx, store.Account{ID: "acc", Name: "A", Email: "a@example.com", Status: "active", CreatedAt: c.Now()}); err != nil {
		b.Fatal(err)
	}
	app, err := st.CreateApp(ctx, store.App{AccountID: "acc", Name: "app", Region: "singapore", SecretKey: "k", AdminUser: "administrator",
		Edition: catalog.Premium, Status: "active", CreatedAt: c.Now(), ExpiresAt: c.Now().AddDate(0, 1, 0)}, 300)
	if err != nil {
		b.Fatal(err)
	}
	bs := bus.NewLocal()
	w := NewWriter(st, bs, 64, nil)
	defer w.Close()
	svc := New(st, c, &gate.Gate{MAU: st, Clock: c}, w, bs)
	users := []store.User{{UserID: "owner"}, {UserID: "m1"}, {UserID: "m2"}}
	if err := svc.ImportAccounts(ctx, app, users); err != nil {
		b.Fatal(err)
	}
	var ops []store.Op
	for i := range 1000 {
		peer := fmt.Sprintf("peer%04d", i)
		for k := range 3 {
			from, to := peer, "owner"
			if k == 2 {
				from, to = "owner", peer
			}
			ops = append(ops, store.Op{Kind: store.OpSend, App: app.SDKAppID, From: from, To: to, MsgRandom: uint32(i*3 + k),
				MsgTime: c.Now().Unix() - 2*int64(i), Body: hello, Unread: true, At: c.Now()})
		}
	}
	for i := range 500 {
		g := store.Group{App: app.SDKAppID, GroupID: fmt.Sprintf("grp%04d", i), Type: store.GroupWork, Name: "g", Owner: "owner",
			MaxMemberNum: 200, ApplyJoinOption: "DisableApply", InviteJoinOption: "FreeAccess", CreatedAt: c.Now()}
		var ms []store.GroupMember
		for _, u := range []string{"owner", "m1", "m2"} {
			role := store.RoleMember
			if u == "owner" {
				role = store.RoleOwner
			}
			ms = append(ms, store.GroupMember{App: app.SDKAppID, GroupID: g.GroupID, UserID: u, Role: role, JoinTime: c.Now(), JoinSeq: 1})
		}
		if _, err := st.CreateGroup(ctx, g, ms, store.GroupQuota{Day: "2026-11-26", At: c.Now()}); err != nil {
			b.Fatal(err)
		}
		for k, from := range []string{"m1", "m2", "owner"} {
			ops = append(ops, store.Op{Kind: store.OpGroupSend, App: app.SDKAppID, Group: g.GroupID, From: from, MsgRandom: uint32(k + 1),
				MsgTime: c.Now().Unix() - 2*int64(i) - 1, Body: hello, At: c.Now()})
		}
	}
	for len(ops) > 0 {
		n := min(len(ops), 512)
		if _, err := st.Apply(ctx, ops[:n]); err != nil {
			b.Fatal(err)
		}
		ops = ops[n:]
	}
	req := ConvListRequest{Owner: "owner", AssistFlags: 1}
	page, err := svc.ListConversations(ctx, app, req)
	if err != nil || len(page.Items) != ConvPageSize || page.Items[1].Type != store.ConvGroupChat || page.Items[1].Unread != 2 || page.Items[1].From != "owner" {
		b.Fatalf("first page: %d items, %+v, %v", len(page.Items), page.Items[:2], err)
	}
	times := make([]time.Duration, 0, b.N)
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := svc.ListConversations(ctx, app, req); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/op")
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}
