package im

import (
	"context"
	"fmt"
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

// BenchmarkConversationList measures one get_list page (AssistFlags 7: pinned
// first and paged, empty conversations) of a user with 1,000 conversations on
// the embedded store (SQLite + Pebble): 10 pinned, 50 marked, each
// conversation with 3 messages, 2 of them unread. It reports p50 and p99 of a
// page (one call: the engine's conversation keys, the states, sorting, and the
// unread counts of the page's 100 conversations), and the CPU time per page
// (user + system, all threads: on a loaded machine the wall-clock figures
// include waiting for a core).
func BenchmarkConversationList(b *testing.B) {
	st := testdb.SQLite(&testing.T{})
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
	users := []store.User{{UserID: "owner"}}
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
				MsgTime: c.Now().Unix() - int64(i), Body: hello, Unread: true, At: c.Now()})
		}
	}
	for len(ops) > 0 {
		n := min(len(ops), 512)
		if _, err := st.Apply(ctx, ops[:n]); err != nil {
			b.Fatal(err)
		}
		ops = ops[n:]
	}
	for i := range 50 {
		conv := store.ConvID{Type: store.ConvC2C, Peer: fmt.Sprintf("peer%04d", i*20)}
		if i < 10 {
			if err := st.SetPinned(ctx, app.SDKAppID, "owner", conv, true, c.Now()); err != nil {
				b.Fatal(err)
			}
		}
		if _, _, err := st.SetMarks(ctx, app.SDKAppID, "owner", []store.MarkChange{{Conv: conv, Set: 1}}, 1000, c.Now()); err != nil {
			b.Fatal(err)
		}
	}
	req := ConvListRequest{Owner: "owner", AssistFlags: 7}
	page, err := svc.ListConversations(ctx, app, req)
	if err != nil || len(page.Items) != ConvPageSize || page.Items[0].Unread != 2 || !page.Items[0].Pinned {
		b.Fatalf("first page: %d items, %+v, %v", len(page.Items), page.Items[0], err)
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
