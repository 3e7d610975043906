package lifecycle_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// readClock reads a manual clock without letting anyone move it: the clock of a
// node that runs on "real" time.
type readClock struct{ m *clock.Manual }

func (c readClock) Now() time.Time { return c.m.Now() }

// Three nodes over one database run the scheduler at the same moments, each
// twice at once: every bill, reminder, renewal and suspension happens exactly
// once. Node 1 runs on the manual clock, nodes 2 and 3 on plain clocks reading it.
func TestNodesRunEachJobOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stores func(t *testing.T) (store.Store, store.Store, store.Store)
	}{
		{"sqlite, one store", func(t *testing.T) (store.Store, store.Store, store.Store) {
			st := testdb.SQLite(t)
			return st, st, st
		}},
		{"postgres, three stores on one schema", func(t *testing.T) (store.Store, store.Store, store.Store) {
			u := postgresURL(t)
			return openPostgres(t, u), openPostgres(t, u), openPostgres(t, u)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st1, st2, st3 := tc.stores(t)
			w := newWorldOn(t, st1, false)
			rec2 := &recorder{}
			node2 := lifecycle.New(lifecycle.Config{Store: st2, Clock: readClock{w.clk}, Sender: rec2})
			rec3 := &recorder{}
			node3 := lifecycle.New(lifecycle.Config{Store: st3, Clock: readClock{w.clk}, Sender: rec3})
			if node2.Fake() || node3.Fake() {
				t.Fatal("node 2 or 3 runs on a manual clock")
			}

			// A renews automatically once; its account has a phone.
			accA := w.account(t, "Renews", "+49 30 1234567")
			w.topUp(t, accA.ID, 2*39900)
			appA := w.app(t, accA.ID, "renews")
			w.buy(t, appA.SDKAppID, catalog.Standard, 1, true)
			// B: one plan expires, the other runs on; a Push overage bill of
			// 300.00 it cannot pay suspends the account for arrears.
			accB := w.account(t, "Arrears", "")
			w.topUp(t, accB.ID, 39900+3*39900+29900)
			appB1 := w.app(t, accB.ID, "expires")
			w.buy(t, appB1.SDKAppID, catalog.Standard, 1, false)
			appB2 := w.app(t, accB.ID, "runs on")
			w.buy(t, appB2.SDKAppID, catalog.Standard, 3, false)
			if _, err := w.com.BuyAddon(ctx, commerce.AddonRequest{SDKAppID: appB2.SDKAppID, Addon: catalog.Push, Months: 1}); err != nil {
				t.Fatal(err)
			}
			if err := w.st.AddUsage(ctx, store.Usage{SDKAppID: appB2.SDKAppID, Metric: catalog.MetricPushCalls, Day: "2026-02-10", Quantity: 130}); err != nil {
				t.Fatal(err)
			}
			// C: a Free Trial that ends.
			accC := w.account(t, "Tries", "")
			appC := w.app(t, accC.ID, "tries")

			end := at(3, 3, 16)
			jobs := 0
			var mu sync.Mutex
			for tt := t0.Add(2 * time.Hour); !tt.After(end); tt = tt.Add(2 * time.Hour) {
				w.clk.Set(tt)
				var wg sync.WaitGroup
				errs := make(chan error, 6)
				for _, s := range []*lifecycle.Scheduler{w.sch, node2, node3, w.sch, node2, node3} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rep, err := s.RunDue(ctx)
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						jobs += rep.Jobs
						mu.Unlock()
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("RunDue at %s: %v", ts(tt), err)
				}
				if !w.clk.Now().Equal(tt) {
					t.Fatalf("RunDue moved the clock from %s to %s", ts(tt), ts(w.clk.Now()))
				}
			}

			// A: 2 bills, 6 reminders, 1 renewal. B: 2 bills, 7 reminders, 1
			// expiry, 1 arrears. C: 2 bills, 7 reminders, 1 expiry.
			if jobs != 30 {
				t.Errorf("the nodes ran %d jobs together, want 30", jobs)
			}

			for _, acc := range []store.Account{accA, accB, accC} {
				if ms := billMonths(w.bills(t, acc.ID)); fmt.Sprint(ms) != "[2026-01 2026-02]" {
					t.Errorf("bills of %s: %v, want January and February once each", acc.Name, ms)
				}
			}

			// A renewed once, on the anchor.
			osA := w.orders(t, accA.ID)
			if len(osA) != 2 || osA[1].Kind != store.OrderRenew || !osA[1].EffectiveTo.Equal(at(3, 31, 10)) {
				t.Errorf("orders of A: %+v, want the buy and one renewal to 31 Mar 10:00", osA)
			}
			if a := w.getAccount(t, accA.ID); a.CashCents != 0 {
				t.Errorf("balance of A %d, want 0 (one renewal)", a.CashCents)
			}
			wantStatus(t, w.getApp(t, appA.SDKAppID), "active", "", time.Time{})

			// B billed once, suspended once.
			bB := w.bills(t, accB.ID)
			if bB[1].TotalCents != 30000 {
				t.Errorf("February bill of B %d, want 300.00", bB[1].TotalCents)
			}
			aB := w.getAccount(t, accB.ID)
			if aB.CashCents != -30000 || aB.Status != "suspended" || aB.SuspendReason != commerce.ReasonArrears || !aB.SuspendedAt.Equal(at(3, 2, 0)) {
				t.Errorf("account B: %+v, want -300.00, suspended for arrears on 2 Mar 00:00", aB)
			}
			wantStatus(t, w.getApp(t, appB1.SDKAppID), "suspended", commerce.ReasonExpired, at(3, 1, 10))
			wantStatus(t, w.getApp(t, appB2.SDKAppID), "suspended", commerce.ReasonArrears, at(3, 2, 0))
			wantStatus(t, w.getApp(t, appC.SDKAppID), "suspended", commerce.ReasonExpired, at(3, 1, 10))

			// The ledger: each money movement once (sorted: entries of one
			// instant come in id order).
			kinds := func(acc store.Account) string {
				var ks []string
				for _, l := range w.ledger(t, acc.ID) {
					ks = append(ks, fmt.Sprintf("%s:%d", l.Kind, l.CashCents+l.CreditCents))
				}
				sort.Strings(ks)
				return fmt.Sprint(ks)
			}
			if got := kinds(accA); got != "[order:-39900 order:-39900 topup:79800]" {
				t.Errorf("ledger of A: %s", got)
			}
			if got := kinds(accB); got != "[bill:-30000 order:-119700 order:-29900 order:-39900 topup:189500]" {
				t.Errorf("ledger of B: %s", got)
			}
			if got := kinds(accC); got != "[]" {
				t.Errorf("ledger of C: %s", got)
			}

			// The notices: each once, at its time, delivered once by one node.
			reminders := func(app int64, from, to int) []note {
				var ns []note
				for d := from; d <= to; d++ {
					ns = append(ns, note{App: app, Kind: "renewal_reminder", Due: ts(at(2, d, 10))})
				}
				return ns
			}
			want := map[string][]note{
				accA.ID: expand([]string{"email", "sms"}, append(reminders(appA.SDKAppID, 22, 27),
					note{App: appA.SDKAppID, Kind: "auto_renewed", Due: ts(at(2, 28, 10))})...),
				accB.ID: expand([]string{"email"}, append(reminders(appB1.SDKAppID, 22, 28),
					note{App: appB1.SDKAppID, Kind: "suspended", Due: ts(at(3, 1, 10))},
					note{Kind: "bill", Due: ts(at(3, 1, 0))},
					note{Kind: "overdue", Due: ts(at(3, 1, 0))},
					note{Kind: "account_suspended", Due: ts(at(3, 2, 0))})...),
				accC.ID: expand([]string{"email"}, append(reminders(appC.SDKAppID, 22, 28),
					note{App: appC.SDKAppID, Kind: "suspended", Due: ts(at(3, 1, 10))})...),
			}
			delivered := map[string]int{}
			for _, m := range append(append(w.rec.all(), rec2.all()...), rec3.all()...) {
				delivered[m.ID]++
			}
			total := 0
			for _, acc := range []store.Account{accA, accB, accC} {
				ns := w.notes(t, acc.ID)
				total += len(ns)
				sameNotes(t, "notifications of "+acc.Name, summary(ns), want[acc.ID])
				for _, n := range ns {
					if delivered[n.ID] != 1 || n.Status != "sent" {
						t.Errorf("%s/%s of %s at %s: delivered %d times, status %q; want once, sent",
							n.Kind, n.Channel, acc.Name, ts(n.DueAt), delivered[n.ID], n.Status)
					}
				}
			}
			if len(delivered) != total {
				t.Errorf("the senders got %d distinct messages for %d notifications", len(delivered), total)
			}
			if sent := len(w.rec.all()) + len(rec2.all()) + len(rec3.all()); sent != total {
				t.Errorf("the senders got %d messages for %d notifications", sent, total)
			}
		})
	}
}

// A failed delivery is retried after 1, 2, 4 and 8 minutes, and then left
// "failed" with its error; a relay that comes back delivers the notice once.
func TestFailedDeliveryIsRetried(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int // the sender fails this many times, then works
		calls    int // attempts in the end
		status   string
	}{
		{"relay back after two failures", 2, 3, "sent"},
		{"relay down for good", 100, 5, "failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, open testdb.Opener) {
				st := open(t)
				clk := clock.NewManual(t0)
				calls := 0
				sch := lifecycle.New(lifecycle.Config{Store: st, Manual: clk, Sender: senderFunc(func(m notify.Message) error {
					calls++
					if calls <= tt.failures {
						return fmt.Errorf("relay down")
					}
					return nil
				})})
				w := &world{st: st, clk: clk, ten: &tenant.Service{Store: st, Clock: clk}, com: &commerce.Service{Store: st, Clock: clk}, sch: sch}
				acc := w.account(t, "Unlucky", "")
				w.app(t, acc.ID, "trial")
				first := at(2, 22, 10)
				w.setTo(t, first)
				ns := w.notes(t, acc.ID)
				if len(ns) != 1 || ns[0].Kind != "renewal_reminder" || ns[0].Status != "failed" || ns[0].Error == "" || ns[0].Attempts != 1 {
					t.Fatalf("notifications %+v, want one failed reminder with its error", ns)
				}
				w.setTo(t, first.Add(59*time.Second)) // within the first backoff
				if calls != 1 {
					t.Fatalf("retried after 59 s: %d calls", calls)
				}
				// Step a minute at a time through the backoffs (1+2+4+8 minutes).
				for m := 1; m <= 20; m++ {
					w.setTo(t, first.Add(time.Duration(m)*time.Minute))
				}
				ns = w.notes(t, acc.ID)
				if calls != tt.calls || len(ns) != 1 || ns[0].Status != tt.status || ns[0].Attempts != tt.calls {
					t.Errorf("%d calls, notices %+v; want %d attempts ending %q", calls, ns, tt.calls, tt.status)
				}
				w.setTo(t, first.Add(23*time.Hour)) // before the next day's reminder
				if calls != tt.calls {
					t.Errorf("tried again after the last attempt: %d calls", calls)
				}
			})
		})
	}
}

type senderFunc func(m notify.Message) error

func (f senderFunc) Send(_ context.Context, m notify.Message) error { return f(m) }

// A node that was down catches up when it comes back: reminders missed by more
// than a day are skipped, the rest, the suspension and the bills happen once, at
// the time the node runs them.
func TestNodeBackAfterDowntime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		w := newWorldOn(t, st, false)
		rec := &recorder{}
		node := lifecycle.New(lifecycle.Config{Store: st, Clock: readClock{w.clk}, Sender: rec})
		acc := w.account(t, "Downtime", "")
		app := w.app(t, acc.ID, "trial") // expires 28 Feb 10:00

		w.clk.Set(at(2, 27, 12)) // down since 31 Jan
		rep, err := node.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// January's bill is due; the reminders of 22–26 Feb are more than a day
		// old, 27 Feb 10:00 is not.
		if rep.Jobs != 2 {
			t.Errorf("catching up ran %d jobs, want 2 (January's bill and the reminder of 27 Feb)", rep.Jobs)
		}
		sameNotes(t, "after catching up", summary(w.notes(t, acc.ID)),
			expand([]string{"email"}, note{App: app.SDKAppID, Kind: "renewal_reminder", Due: ts(at(2, 27, 12))}))

		w.clk.Set(at(3, 1, 12)) // down again from 27 Feb 12:00 to 1 Mar 12:00
		if _, err := node.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		// 28 Feb 10:00 is 26 hours late: skipped. The suspension and the bill
		// are never skipped.
		wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, at(3, 1, 12))
		if ms := billMonths(w.bills(t, acc.ID)); fmt.Sprint(ms) != "[2026-01 2026-02]" {
			t.Errorf("bills %v, want January and February", ms)
		}
		sameNotes(t, "after the second catch-up", summary(w.notes(t, acc.ID)), expand([]string{"email"},
			note{App: app.SDKAppID, Kind: "renewal_reminder", Due: ts(at(2, 27, 12))},
			note{App: app.SDKAppID, Kind: "suspended", Due: ts(at(3, 1, 12))}))
		if rep, err := node.RunDue(ctx); err != nil || rep.Jobs != 0 {
			t.Errorf("running again: %d jobs, %v; want none", rep.Jobs, err)
		}
		if len(rec.all()) != 2 {
			t.Errorf("%d messages sent, want 2", len(rec.all()))
		}
	})
}

// Jobs of the scheduler and the customer's own actions on the same account
// serialise: a top-up racing the arrears suspension, and a manual renewal racing
// the automatic one, leave the account in one consistent state whichever wins.
func TestSchedulerRacesCustomerActions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for round := 0; round < 3; round++ {
			st := open(t)
			w := newWorldOn(t, st, false)
			node2 := lifecycle.New(lifecycle.Config{Store: st, Clock: readClock{w.clk}, Sender: &recorder{}})

			// Arrears: a Push overage of 300.00 on an account that has nothing left.
			debtor := w.account(t, "Debtor", "")
			w.topUp(t, debtor.ID, 3*39900+29900)
			app := w.app(t, debtor.ID, "debtor")
			w.buy(t, app.SDKAppID, catalog.Standard, 3, false)
			if _, err := w.com.BuyAddon(ctx, commerce.AddonRequest{SDKAppID: app.SDKAppID, Addon: catalog.Push, Months: 1}); err != nil {
				t.Fatal(err)
			}
			if err := st.AddUsage(ctx, store.Usage{SDKAppID: app.SDKAppID, Metric: catalog.MetricPushCalls, Day: "2026-02-10", Quantity: 130}); err != nil {
				t.Fatal(err)
			}
			// Renewal: auto-renew on, enough for two months.
			renewer := w.account(t, "Renewer", "")
			w.topUp(t, renewer.ID, 3*39900)
			rapp := w.app(t, renewer.ID, "renewer")
			w.buy(t, rapp.SDKAppID, catalog.Standard, 1, true)

			w.setTo(t, at(2, 28, 10).Add(-time.Second))
			w.clk.Set(at(2, 28, 10)) // the automatic renewal is due
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			wg.Add(3)
			go func() { defer wg.Done(); _, err := w.sch.RunDue(ctx); errs <- err }()
			go func() { defer wg.Done(); _, err := node2.RunDue(ctx); errs <- err }()
			go func() {
				defer wg.Done()
				_, err := w.com.Renew(ctx, commerce.RenewRequest{SDKAppIDs: []int64{rapp.SDKAppID}, Months: 1})
				errs <- err
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			renewals := 0
			for _, o := range w.orders(t, renewer.ID) {
				if o.Kind == store.OrderRenew {
					renewals++
				}
			}
			got := w.getApp(t, rapp.SDKAppID)
			acc := w.getAccount(t, renewer.ID)
			// The manual renewal always happens; the automatic one only when it
			// came first (afterwards the plan no longer expires now).
			want := map[int]time.Time{1: at(3, 31, 10), 2: at(4, 30, 10)}[renewals]
			if want.IsZero() || !got.ExpiresAt.Equal(want) || acc.CashCents != int64(3-1-renewals)*39900 {
				t.Errorf("round %d: %d renewals, expiry %s, balance %d", round, renewals, ts(got.ExpiresAt), acc.CashCents)
			}

			w.setTo(t, at(3, 2, 0).Add(-time.Second))
			if a := w.getAccount(t, debtor.ID); a.CashCents != -30000 || !a.OverdueSince.Equal(at(3, 1, 0)) {
				t.Fatalf("round %d: debtor %+v, want -300.00 overdue since 1 Mar", round, a)
			}
			w.clk.Set(at(3, 2, 0)) // the arrears suspension is due
			errs = make(chan error, 3)
			wg.Add(3)
			go func() { defer wg.Done(); _, err := w.sch.RunDue(ctx); errs <- err }()
			go func() { defer wg.Done(); _, err := node2.RunDue(ctx); errs <- err }()
			go func() {
				defer wg.Done()
				_, err := w.com.TopUp(ctx, commerce.TopUpRequest{AccountID: debtor.ID, Cash: 30000})
				errs <- err
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			a := w.getAccount(t, debtor.ID)
			if a.Status != "active" || a.CashCents != 0 || !a.OverdueSince.IsZero() {
				t.Errorf("round %d: debtor after the race %+v, want active with 0.00", round, a)
			}
			wantStatus(t, w.getApp(t, app.SDKAppID), "active", "", time.Time{})
			if n := len(only(w.notes(t, debtor.ID), "account_suspended", 0)); n > 1 {
				t.Errorf("round %d: %d account_suspended notices", round, n)
			}
		}
	})
}

// Without a sender a notice is recorded, never claimed as sent.
func TestNoSenderRecordsOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		clk := clock.NewManual(t0)
		sch := lifecycle.New(lifecycle.Config{Store: st, Manual: clk})
		w := &world{st: st, clk: clk, ten: &tenant.Service{Store: st, Clock: clk}, com: &commerce.Service{Store: st, Clock: clk}, sch: sch}
		acc := w.account(t, "Quiet", "")
		w.app(t, acc.ID, "trial")
		w.setTo(t, at(2, 22, 10))
		ns := w.notes(t, acc.ID)
		if len(ns) != 1 || ns[0].Status != "recorded" || ns[0].Attempts != 0 {
			t.Fatalf("notifications %+v, want one recorded reminder", ns)
		}
	})
}
