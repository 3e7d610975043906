package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/store/sqlstore"
	"github.com/chatd/chatd/internal/tenant"
)

// What runs "once" stays once when several nodes run the same work against
// one PostgreSQL: each test here opens three store handles on one schema.
// (The lifecycle jobs: lifecycle.TestNodesRunEachJobOnce.)

const nodeCount = 3

func openNodes(t *testing.T) [nodeCount]*sqlstore.Store {
	t.Helper()
	base, admin := testURL(t)
	u := freshSchema(t, base, admin)
	var nodes [nodeCount]*sqlstore.Store
	for i := range nodes {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	return nodes
}

// parallel runs fn(i) for i in [0, n) at once and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// First logins of the same users on every node at once: each user is first
// once, the month counts each once, and a capacity admits exactly that many.
func TestNodesMAUExact(t *testing.T) {
	nodes := openNodes(t)
	ctx := context.Background()
	const users, capacity = 40, 25
	at := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		app      int64
		capacity int
		want     int
	}{{1400000001, 0, users}, {1400000002, capacity, capacity}} {
		var firsts, limits atomic.Int32
		parallel(users*nodeCount, func(i int) {
			first, err := nodes[i%nodeCount].AdmitMonthly(ctx, tc.app, "2026-03", fmt.Sprintf("u%02d", i/nodeCount), tc.capacity, at)
			switch {
			case errors.Is(err, errs.ErrLimit):
				limits.Add(1)
			case err != nil:
				t.Error(err)
			case first:
				firsts.Add(1)
			}
		})
		n, err := nodes[1].CountMonthly(ctx, tc.app, "2026-03")
		if err != nil || n != tc.want || int(firsts.Load()) != tc.want {
			t.Fatalf("capacity %d: %d counted, %d first logins, %v; want %d", tc.capacity, n, firsts.Load(), err, tc.want)
		}
		if want := (users - tc.want) * nodeCount; int(limits.Load()) != want {
			t.Fatalf("capacity %d: %d refusals, want %d", tc.capacity, limits.Load(), want)
		}
	}
}

// Group creates on every node at once under a daily limit: exactly the limit
// is created, and the day's counter says so.
func TestNodesGroupDailyCounter(t *testing.T) {
	nodes := openNodes(t)
	ctx := context.Background()
	const app, tries, daily = 1400000003, 30, 7
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	q := store.GroupQuota{DailyNet: daily, Day: "2026-03-05", At: now}
	var ok, limited atomic.Int32
	parallel(tries, func(i int) {
		_, err := nodes[i%nodeCount].CreateGroup(ctx, store.Group{App: app, GroupID: fmt.Sprintf("g%02d", i), Type: store.GroupWork, Name: "g", CreatedAt: now}, nil, q)
		var l *store.GroupLimitError
		switch {
		case err == nil:
			ok.Add(1)
		case errors.As(err, &l) && l.Limit == store.LimitDaily:
			limited.Add(1)
		default:
			t.Error(err)
		}
	})
	if ok.Load() != daily || limited.Load() != tries-daily {
		t.Fatalf("%d groups created, %d refused; want %d and %d", ok.Load(), limited.Load(), daily, tries-daily)
	}
	var net int
	if err := nodes[2].ReadDB().QueryRow(`SELECT net FROM im_group_daily WHERE app = $1 AND day = $2`, app, q.Day).Scan(&net); err != nil || net != daily {
		t.Fatalf("the day's counter: %d, %v; want %d", net, err, daily)
	}
}

// The same order (one request id) placed on every node at once, twice each:
// one order, one charge, and every caller gets that order.
func TestNodesOrderIdempotent(t *testing.T) {
	nodes := openNodes(t)
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC))
	var coms [nodeCount]*commerce.Service
	for i, st := range nodes {
		coms[i] = &commerce.Service{Store: st, Clock: clk}
	}
	ten := &tenant.Service{Store: nodes[0], Clock: clk}
	acc, err := ten.CreateAccount(ctx, "Acme", "ops@acme.test", "")
	if err != nil {
		t.Fatal(err)
	}
	cash, _ := money.Parse("1000")
	if _, err := coms[0].TopUp(ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: cash}); err != nil {
		t.Fatal(err)
	}
	app, err := ten.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 2*nodeCount)
	parallel(2*nodeCount, func(i int) {
		o, err := coms[i%nodeCount].Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: "standard", Months: 1,
			AgreementAccepted: true, RequestID: "req-1"})
		if err != nil {
			t.Error(err)
			return
		}
		ids[i] = o.ID
	})
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("the callers got orders %v, want one", ids)
		}
	}
	orders, err := nodes[1].ListOrders(ctx, acc.ID)
	if err != nil || len(orders) != 1 {
		t.Fatalf("orders: %+v, %v; want one", orders, err)
	}
	ledger, err := nodes[2].ListLedger(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	charges := 0
	for _, l := range ledger {
		if l.Kind == "order" {
			charges++
		}
	}
	if charges != 1 {
		t.Fatalf("ledger: %+v; want one charge", ledger)
	}
}

// The retention purge lock: of the nodes trying at once exactly one holds it;
// once released another takes it. Purges that do run at once anyway (a lost
// lock connection) are safe: no error, each entry deleted once.
func TestNodesPurge(t *testing.T) {
	nodes := openNodes(t)
	ctx := context.Background()
	for round := range 3 {
		var held atomic.Int32
		releases := make([]func(), nodeCount*2)
		parallel(nodeCount*2, func(i int) {
			release, ok, err := nodes[i%nodeCount].TryLock(ctx, "retention-purge")
			if err != nil {
				t.Error(err)
			}
			if ok {
				held.Add(1)
				releases[i] = release
			}
		})
		if held.Load() != 1 {
			t.Fatalf("round %d: %d holders of one lock", round, held.Load())
		}
		for _, r := range releases {
			if r != nil {
				r()
			}
		}
	}
	// Another lock name is another lock.
	r1, ok1, err1 := nodes[0].TryLock(ctx, "a")
	r2, ok2, err2 := nodes[1].TryLock(ctx, "b")
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		t.Fatalf("two names: %v %v %v %v", ok1, ok2, err1, err2)
	}
	r1()
	r2()

	const app, users, perUser = 1400000004, 10, 20
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ops []store.Op
	for u := range users {
		for m := range perUser {
			ops = append(ops, store.Op{Kind: store.OpSend, App: app, From: fmt.Sprintf("u%d", u), To: fmt.Sprintf("u%d", (u+1)%users),
				ClientID: fmt.Sprintf("c%d-%d", u, m), MsgRandom: uint32(m), MsgTime: old.Unix(), Body: []byte(`[]`), Unread: true, At: old})
		}
	}
	if _, err := nodes[0].Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	var deleted atomic.Int64
	parallel(nodeCount*2, func(i int) {
		n, err := nodes[i%nodeCount].PurgeBefore(ctx, app, old.Add(time.Hour), old.Add(time.Hour))
		if err != nil {
			t.Error(err)
		}
		deleted.Add(n)
	})
	if deleted.Load() != 2*users*perUser {
		t.Fatalf("the purges deleted %d entries together, want %d", deleted.Load(), 2*users*perUser)
	}
}

// countingStore records which node selected the targets of which app.
type countingStore struct {
	*sqlstore.Store
	node  int
	pages *sync.Map // app -> *sync.Map of node -> true
}

func (c countingStore) PushTargets(ctx context.Context, app int64, cond store.PushCondition, after string, limit int) ([]string, error) {
	m, _ := c.pages.LoadOrStore(app, &sync.Map{})
	m.(*sync.Map).Store(c.node, true)
	return c.Store.PushTargets(ctx, app, cond, after, limit)
}

// Interrupted push tasks resumed by every node at once each run on one node
// only, to the end: every target gets its copy once.
func TestNodesPushTasksRunOnce(t *testing.T) {
	nodes := openNodes(t)
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC))
	now := clk.Now()
	if err := nodes[0].CreateAccount(ctx, store.Account{ID: "acc", Name: "A", Email: "a@example.com", Status: "active", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const tasks, users = 4, 1100 // three pages each
	var us []store.User
	for i := range users {
		us = append(us, store.User{UserID: fmt.Sprintf("user%04d", i), CreatedAt: now})
	}
	var apps []store.App
	for i := range tasks {
		app, err := nodes[0].CreateApp(ctx, store.App{AccountID: "acc", Name: "app", Region: "singapore", SecretKey: "k", AdminUser: "administrator",
			Edition: "trial", Status: "active", CreatedAt: now, ExpiresAt: now.AddDate(0, 1, 0)}, 300)
		if err != nil {
			t.Fatal(err)
		}
		if err := nodes[0].ImportUsers(ctx, app.SDKAppID, us); err != nil {
			t.Fatal(err)
		}
		task := store.PushTask{ID: fmt.Sprintf("task%d", i), App: app.SDKAppID, From: app.AdminUser, MsgRandom: 7, MsgSeq: 9,
			MsgTime: now.Unix(), Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`), Lifetime: time.Hour,
			State: store.PushRunning, CreatedAt: now, UpdatedAt: now}
		if err := nodes[0].CreatePushTask(ctx, task, store.PushRate{MinInterval: time.Second, PerDay: 10}); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	pages := &sync.Map{}
	var svcs [nodeCount]*im.Service
	for i, st := range nodes {
		cs := countingStore{Store: st, node: i, pages: pages}
		b := bus.NewLocal()
		w := im.NewWriter(cs, b, 64, nil)
		t.Cleanup(w.Close)
		svcs[i] = im.New(cs, clk, &gate.Gate{MAU: cs, Clock: clk}, w, b)
		svcs[i].SetNode(fmt.Sprintf("node%d", i))
	}
	parallel(nodeCount*2, func(i int) {
		if err := svcs[i%nodeCount].ResumePushes(ctx); err != nil {
			t.Error(err)
		}
	})
	for _, s := range svcs {
		s.WaitPushes()
	}
	for i, app := range apps {
		got, err := nodes[1].PushTask(ctx, app.SDKAppID, fmt.Sprintf("task%d", i))
		if err != nil || got.State != store.PushDone || got.Targets != users || got.Delivered != users {
			t.Fatalf("task %d: %+v, %v", i, got, err)
		}
		m, _ := pages.Load(app.SDKAppID)
		runners := 0
		m.(*sync.Map).Range(func(any, any) bool { runners++; return true })
		if runners != 1 {
			t.Fatalf("task %d ran on %d nodes", i, runners)
		}
		for _, u := range []string{us[0].UserID, us[users-1].UserID} {
			if n, err := nodes[2].LastSeq(ctx, app.SDKAppID, u); err != nil || n != 1 {
				t.Fatalf("task %d: %s's log: seq %d, %v; want one copy", i, u, n, err)
			}
		}
	}
}
