package lifecycle_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

var ctx = context.Background()

const day = 24 * time.Hour

// t0 is when every test world starts: 31 January 2026, 10:00 UTC.
var t0 = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

// at is a time of 2026, UTC.
func at(month time.Month, d, hour int) time.Time {
	return time.Date(2026, month, d, hour, 0, 0, 0, time.UTC)
}

// recorder is a notify.Sender that keeps every message it is given.
type recorder struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) all() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Message(nil), r.msgs...)
}

// world is one installation: a store, a manual clock, the real services and a
// scheduler that delivers through a recorder.
type world struct {
	st  store.Store
	clk *clock.Manual
	ten *tenant.Service
	com *commerce.Service
	sch *lifecycle.Scheduler
	rec *recorder
}

// postgresURL returns the URL of a fresh schema on the server of
// CHATD_TEST_POSTGRES_URL (open it several times for several nodes), skipping
// the test when it is unset.
func postgresURL(t *testing.T) string {
	t.Helper()
	testdb.SkipWithoutPostgres(t)
	return testdb.PostgresURL(t)
}

// openPostgres opens a store on url, closed when the test ends.
func openPostgres(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newWorldOn(t *testing.T, st store.Store, trialAutoExtend bool) *world {
	t.Helper()
	clk := clock.NewManual(t0)
	rec := &recorder{}
	return &world{
		st:  st,
		clk: clk,
		ten: &tenant.Service{Store: st, Clock: clk},
		com: &commerce.Service{Store: st, Clock: clk},
		sch: lifecycle.New(lifecycle.Config{Store: st, Manual: clk, Sender: rec, TrialAutoExtend: trialAutoExtend}),
		rec: rec,
	}
}

func (w *world) account(t *testing.T, name, phone string) store.Account {
	t.Helper()
	a, err := w.ten.CreateAccount(ctx, name, strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@example.com", phone)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) app(t *testing.T, accountID, name string) store.App {
	t.Helper()
	a, err := w.ten.CreateApp(ctx, accountID, name, "singapore")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) topUp(t *testing.T, accountID string, cash money.Cents) store.Account {
	t.Helper()
	a, err := w.com.TopUp(ctx, commerce.TopUpRequest{AccountID: accountID, Cash: cash})
	if err != nil {
		t.Fatalf("top up %s: %v", cash, err)
	}
	return a
}

func (w *world) buy(t *testing.T, app int64, edition string, months int, autoRenew bool) store.Order {
	t.Helper()
	o, err := w.com.Buy(ctx, commerce.BuyRequest{SDKAppID: app, Edition: edition, Months: months, AutoRenew: autoRenew, AgreementAccepted: true})
	if err != nil {
		t.Fatalf("buy %s for %d: %v", edition, app, err)
	}
	return o
}

// setTo moves the scheduler's clock to tt, running what falls due.
func (w *world) setTo(t *testing.T, tt time.Time) lifecycle.Report {
	t.Helper()
	rep, err := w.sch.Set(ctx, tt)
	if err != nil {
		t.Fatalf("Set(%s): %v", tt.Format(time.RFC3339), err)
	}
	if !w.clk.Now().Equal(tt) {
		t.Fatalf("after Set(%s) the clock stands at %s", tt.Format(time.RFC3339), w.clk.Now().Format(time.RFC3339))
	}
	return rep
}

func (w *world) getApp(t *testing.T, id int64) store.App {
	t.Helper()
	a, err := w.st.GetApp(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) getAccount(t *testing.T, id string) store.Account {
	t.Helper()
	a, err := w.st.GetAccount(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) notes(t *testing.T, accountID string) []store.Notification {
	t.Helper()
	ns, err := w.st.ListNotifications(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func (w *world) bills(t *testing.T, accountID string) []store.Bill {
	t.Helper()
	bs, err := w.st.ListBills(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func (w *world) orders(t *testing.T, accountID string) []store.Order {
	t.Helper()
	os, err := w.st.ListOrders(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	return os
}

func (w *world) ledger(t *testing.T, accountID string) []store.LedgerEntry {
	t.Helper()
	ls, err := w.st.ListLedger(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// admit records n users ("<prefix>00000", ...) as active in month, from a few
// goroutines (PostgreSQL takes them in parallel).
func (w *world) admit(t *testing.T, app int64, month, prefix string, n int, when time.Time) {
	t.Helper()
	const workers = 4
	errc := make(chan error, workers)
	for k := 0; k < workers; k++ {
		go func() {
			for i := k; i < n; i += workers {
				if _, err := w.st.AdmitMonthly(ctx, app, month, fmt.Sprintf("%s%05d", prefix, i), 0, when); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for k := 0; k < workers; k++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if got, err := w.st.CountMonthly(ctx, app, month); err != nil || got < n {
		t.Fatalf("CountMonthly after admitting %d users: %d, %v", n, got, err)
	}
}

// note is the part of a notification the tests compare.
type note struct {
	App     int64
	Kind    string
	Channel string
	Due     string // RFC 3339, UTC
}

func (n note) String() string { return fmt.Sprintf("%s/%s/%d@%s", n.Kind, n.Channel, n.App, n.Due) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// summary lists notifications as notes, sorted by time, kind, channel and app.
func summary(ns []store.Notification) []note {
	out := make([]note, 0, len(ns))
	for _, n := range ns {
		out = append(out, note{App: n.SDKAppID, Kind: n.Kind, Channel: n.Channel, Due: ts(n.DueAt)})
	}
	sortNotes(out)
	return out
}

func sortNotes(ns []note) {
	sort.Slice(ns, func(i, k int) bool {
		a, b := ns[i], ns[k]
		if a.Due != b.Due {
			return a.Due < b.Due
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.App < b.App
	})
}

// expand gives one note per channel for each (app, kind, due).
func expand(channels []string, items ...note) []note {
	var out []note
	for _, it := range items {
		for _, ch := range channels {
			it.Channel = ch
			out = append(out, it)
		}
	}
	sortNotes(out)
	return out
}

// only keeps the notifications of kind (any kind when "") about app (any app when 0).
func only(ns []store.Notification, kind string, app int64) []store.Notification {
	var out []store.Notification
	for _, n := range ns {
		if (kind == "" || n.Kind == kind) && (app == 0 || n.SDKAppID == app) {
			out = append(out, n)
		}
	}
	return out
}

func sameNotes(t *testing.T, what string, got, want []note) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, ts(got), ts(want))
	}
}

func wantStatus(t *testing.T, app store.App, status, reason string, since time.Time) {
	t.Helper()
	if app.Status != status || app.SuspendReason != reason || !app.SuspendedAt.Equal(since) {
		t.Errorf("app %d: status %q reason %q since %s, want %q %q %s", app.SDKAppID, app.Status, app.SuspendReason,
			ts(app.SuspendedAt), status, reason, ts(since))
	}
}

// mauLine is a MAU line of a paid app: 10,000 free users, then 0.015 USD
// (15,000 micro-dollars) per user.
func mauLine(app int64, edition string, usage, billable, amountCents int64) store.BillLine {
	return store.BillLine{SDKAppID: app, Product: edition, Metric: catalog.MetricMAU, Usage: usage, Free: 10_000,
		Billable: billable, BlockSize: 1, BlockMicro: 15_000, AmountCents: amountCents}
}
