package lifecycle_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// Spec 5.1, 5.3, 5.4: a Standard plan bought on 31 January for one month expires
// on 28 February at the same time of day; reminders go out on each of the 7 days
// up to and including that day; 24 hours after expiry the app is suspended; its
// data is kept 90 days (notices 7 days and 1 day before) and then deleted for
// good, while the account's orders and bills stay and the SDKAppID is never
// reused. Run once with a single Advance over the whole story and once step by
// step over its boundaries: both must give the same notices at the same times.
func TestExpiryRemindersSuspensionRepossession(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		suspended := at(3, 1, 10)
		for _, tc := range []struct {
			name     string
			phone    string
			channels []string
			stepwise bool
		}{
			{"email only, one advance", "", []string{"email"}, false},
			{"email and sms, one advance", "+65 6123 4567", []string{"email", "sms"}, false},
			{"email and sms, step by step", "+65 6123 4567", []string{"email", "sms"}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := newWorldOn(t, open(t), false)
				acc := w.account(t, "Acme Chat", tc.phone)
				w.topUp(t, acc.ID, 39900)
				app := w.app(t, acc.ID, "acme")
				id := app.SDKAppID

				// Data that repossession must delete.
				if err := w.st.ImportUsers(ctx, id, []store.User{{UserID: "a", Nick: "A", CreatedAt: t0}, {UserID: "b", Nick: "B", CreatedAt: t0}}); err != nil {
					t.Fatal(err)
				}
				if _, err := w.st.Apply(ctx, []store.Op{{Kind: store.OpSend, App: id, From: "a", To: "b", MsgRandom: 1,
					MsgTime: w.clk.Now().Unix(), Body: []byte(`[]`), At: w.clk.Now(), Unread: true}}); err != nil {
					t.Fatal(err)
				}
				for _, u := range []string{"a", "b"} {
					if _, err := w.st.AdmitMonthly(ctx, id, "2026-02", u, 0, at(2, 1, 12)); err != nil {
						t.Fatal(err)
					}
				}

				o := w.buy(t, id, catalog.Standard, 1, false)
				wantTime(t, "order EffectiveFrom", o.EffectiveFrom, t0)
				wantTime(t, "order EffectiveTo (month-end rule)", o.EffectiveTo, at(2, 28, 10))
				if o.ListCents != 39900 || o.CashCents != 39900 {
					t.Errorf("order list %d cash %d, want 39900 39900", o.ListCents, o.CashCents)
				}

				if !tc.stepwise {
					// 29 days to the suspension, 90 more to the repossession: 120 days
					// reach past the end of the story in a single call.
					rep, err := w.sch.Advance(ctx, 120*day)
					if err != nil {
						t.Fatal(err)
					}
					wantTime(t, "Report.From", rep.From, t0)
					wantTime(t, "Report.To", rep.To, t0.Add(120*day))
					wantTime(t, "clock after Advance", w.clk.Now(), t0.Add(120*day))
				} else {
					w.setTo(t, suspended.Add(-time.Second))
					got := w.getApp(t, id)
					wantStatus(t, got, "active", "", time.Time{})
					w.setTo(t, suspended)
					got = w.getApp(t, id)
					wantStatus(t, got, "suspended", commerce.ReasonExpired, suspended)
					if err := (&gate.Gate{MAU: w.st, Clock: w.clk}).Active(got); errs.CodeOf(err) != errs.PlanInactive {
						t.Errorf("gate.Active of the suspended app = %v, want code %d", err, errs.PlanInactive)
					}
					w.setTo(t, suspended.Add(90*day-time.Second))
					got = w.getApp(t, id)
					wantStatus(t, got, "suspended", commerce.ReasonExpired, suspended)
					if us, _ := w.st.GetUsers(ctx, id, []string{"a", "b"}); len(us) != 2 {
						t.Errorf("a second before repossession the app has %d users, want 2", len(us))
					}
					w.setTo(t, suspended.Add(90*day))
					w.setTo(t, t0.Add(120*day))
				}

				// The app is gone, with its data.
				got := w.getApp(t, id)
				if got.Status != "deleted" {
					t.Fatalf("app status %q after 90 days of suspension, want deleted", got.Status)
				}
				wantTime(t, "DeletedAt", got.DeletedAt, suspended.Add(90*day))
				wantTime(t, "SuspendedAt of the deleted app", got.SuspendedAt, suspended)
				if got.SuspendReason != commerce.ReasonExpired {
					t.Errorf("SuspendReason %q, want expired", got.SuspendReason)
				}
				if us, err := w.st.GetUsers(ctx, id, []string{"a", "b"}); err != nil || len(us) != 0 {
					t.Errorf("users after repossession: %v, %v; want none", us, err)
				}
				for _, owner := range []string{"a", "b"} {
					if es, err := w.st.Sync(ctx, id, owner, 0, 100, time.Time{}, time.Time{}); err != nil || len(es) != 0 {
						t.Errorf("sync log of %s after repossession: %d entries, %v; want none", owner, len(es), err)
					}
				}
				if n, err := w.st.CountMonthly(ctx, id, "2026-02"); err != nil || n != 0 {
					t.Errorf("February MAU after repossession = %d, %v; want 0", n, err)
				}
				if apps, _ := w.st.ListApps(ctx, acc.ID); len(apps) != 0 {
					t.Errorf("ListApps still lists %d apps", len(apps))
				}

				// The account's records stay.
				if os := w.orders(t, acc.ID); len(os) != 1 || os[0].ID != o.ID {
					t.Errorf("orders after repossession: %+v, want the buy order", os)
				}
				bills := w.bills(t, acc.ID)
				var months []string
				for _, b := range bills {
					months = append(months, b.Month)
				}
				if len(months) != 4 || months[0] != "2026-01" || months[3] != "2026-04" {
					t.Errorf("bills after repossession: %v, want 2026-01 to 2026-04", months)
				}
				if ls := w.ledger(t, acc.ID); len(ls) != 2 {
					t.Errorf("ledger has %d entries, want the top-up and the order", len(ls))
				}

				// The notices, each at its own time.
				var items []note
				for d := 22; d <= 28; d++ {
					items = append(items, note{App: id, Kind: "renewal_reminder", Due: ts(at(2, d, 10))})
				}
				items = append(items,
					note{App: id, Kind: "suspended", Due: ts(suspended)},
					note{App: id, Kind: "repossession_notice", Due: ts(suspended.Add(83 * day))},
					note{App: id, Kind: "repossession_notice", Due: ts(suspended.Add(89 * day))},
					note{App: id, Kind: "repossessed", Due: ts(suspended.Add(90 * day))},
				)
				want := expand(tc.channels, items...)
				ns := w.notes(t, acc.ID)
				sameNotes(t, "notifications", summary(ns), want)
				for _, n := range ns {
					wantRecipient := acc.Email
					if n.Channel == "sms" {
						wantRecipient = acc.Phone
					}
					if n.Recipient != wantRecipient || n.AccountID != acc.ID {
						t.Errorf("%s/%s goes to %q of %s, want %q of %s", n.Kind, n.Channel, n.Recipient, n.AccountID, wantRecipient, acc.ID)
					}
					if n.Status != "sent" || n.SentAt.IsZero() {
						t.Errorf("%s/%s at %s: status %q sent at %s, want sent", n.Kind, n.Channel, ts(n.DueAt), n.Status, ts(n.SentAt))
					}
				}

				// Delivered through the Sender, each exactly once.
				msgs := w.rec.all()
				if len(msgs) != len(ns) {
					t.Errorf("the sender got %d messages for %d notifications", len(msgs), len(ns))
				}
				byID := map[string]store.Notification{}
				for _, n := range ns {
					byID[n.ID] = n
				}
				seen := map[string]bool{}
				for _, m := range msgs {
					n, ok := byID[m.ID]
					switch {
					case !ok:
						t.Errorf("the sender got %s/%s (id %s), which is not recorded", m.Kind, m.Channel, m.ID)
					case seen[m.ID]:
						t.Errorf("the sender got %s/%s (id %s) twice", m.Kind, m.Channel, m.ID)
					case m.Kind != n.Kind || m.Channel != n.Channel || m.Recipient != n.Recipient || !m.DueAt.Equal(n.DueAt) || m.Subject != n.Subject:
						t.Errorf("the sender got %+v for the notification %+v", m, n)
					}
					seen[m.ID] = true
				}

				// Nothing is repeated by a later run.
				rep, err := w.sch.Advance(ctx, 30*day)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Jobs != 1 { // the (empty) bill of May
					t.Errorf("a second Advance ran %d jobs, want 1 (the bill of May)", rep.Jobs)
				}
				sameNotes(t, "notifications after a second Advance", summary(w.notes(t, acc.ID)), want)
				if n := len(w.rec.all()); n != len(msgs) {
					t.Errorf("a second Advance sent %d more messages", n-len(msgs))
				}

				// A new app never gets the repossessed app's SDKAppID.
				app2 := w.app(t, acc.ID, "acme again")
				if app2.SDKAppID <= id {
					t.Errorf("new app got SDKAppID %d after %d was repossessed", app2.SDKAppID, id)
				}
			})
		}
	})
}

// Spec 5.3: auto-renewal renews at expiry when the balance covers a month, on the
// plan's anchor; otherwise it fails, the reminders continue and the app is
// suspended 24 hours after expiry unless a top-up lets the renewal succeed in
// those 24 hours.
func TestAutoRenewal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		expiry := at(2, 28, 10)
		grace := expiry.Add(day)

		t.Run("balance covers a month", func(t *testing.T) {
			w := newWorldOn(t, open(t), false)
			acc := w.account(t, "Renewing", "")
			w.topUp(t, acc.ID, 2*39900)
			app := w.app(t, acc.ID, "renewing")
			w.buy(t, app.SDKAppID, catalog.Standard, 1, true)

			w.setTo(t, grace.Add(time.Hour))
			got := w.getApp(t, app.SDKAppID)
			wantStatus(t, got, "active", "", time.Time{})
			wantTime(t, "ExpiresAt after the renewal", got.ExpiresAt, at(3, 31, 10))
			wantTime(t, "PlanAnchor after the renewal", got.PlanAnchor, t0)
			os := w.orders(t, acc.ID)
			if len(os) != 2 {
				t.Fatalf("%d orders, want the buy and one renewal", len(os))
			}
			r := os[1]
			if r.Kind != store.OrderRenew || r.Product != catalog.Standard || r.Months != 1 || r.ListCents != 39900 ||
				r.CashCents != 39900 || r.CreditCents != 0 || r.VoucherCents != 0 || r.SDKAppID != app.SDKAppID || r.Status != store.OrderPaid {
				t.Errorf("renewal order %+v, want a paid 1-month Standard renewal of 399.00 from cash", r)
			}
			wantTime(t, "renewal EffectiveFrom", r.EffectiveFrom, expiry)
			wantTime(t, "renewal EffectiveTo", r.EffectiveTo, at(3, 31, 10))
			wantTime(t, "renewal CreatedAt", r.CreatedAt, expiry)
			if a := w.getAccount(t, acc.ID); a.CashCents != 0 || a.CreditCents != 0 {
				t.Errorf("balance after the renewal: cash %d credit %d, want 0", a.CashCents, a.CreditCents)
			}
			ns := w.notes(t, acc.ID)
			sameNotes(t, "auto_renewed", summary(only(ns, "auto_renewed", 0)), expand([]string{"email"}, note{App: app.SDKAppID, Kind: "auto_renewed", Due: ts(expiry)}))
			for _, kind := range []string{"auto_renew_failed", "suspended"} {
				if n := only(ns, kind, 0); len(n) != 0 {
					t.Errorf("%d %s notices, want none", len(n), kind)
				}
			}
			// The next expiry, with the balance used up: the renewal fails and the
			// app stops 24 hours later.
			w.setTo(t, at(4, 1, 11))
			got = w.getApp(t, app.SDKAppID)
			wantStatus(t, got, "suspended", commerce.ReasonExpired, at(4, 1, 10))
			ns = w.notes(t, acc.ID)
			var reminders []note
			for d := 25; d <= 31; d++ {
				reminders = append(reminders, note{App: app.SDKAppID, Kind: "renewal_reminder", Due: ts(at(3, d, 10))})
			}
			var march []note
			for _, n := range summary(only(ns, "renewal_reminder", 0)) {
				if n.Due >= ts(at(3, 1, 0)) {
					march = append(march, n)
				}
			}
			sameNotes(t, "reminders before the second expiry", march, expand([]string{"email"}, reminders...))
			if f := only(ns, "auto_renew_failed", 0); len(f) == 0 || !f[0].DueAt.Equal(at(3, 31, 10)) {
				t.Errorf("auto_renew_failed notices %v, want the first at 31 Mar 10:00", summary(f))
			}
		})

		t.Run("balance short", func(t *testing.T) {
			w := newWorldOn(t, open(t), false)
			acc := w.account(t, "Short", "+1 555 0100")
			w.topUp(t, acc.ID, 39900)
			app := w.app(t, acc.ID, "short")
			w.buy(t, app.SDKAppID, catalog.Standard, 1, true)

			w.setTo(t, expiry.Add(12*time.Hour))
			wantStatus(t, w.getApp(t, app.SDKAppID), "active", "", time.Time{}) // within the 24 hours
			w.setTo(t, grace.Add(time.Hour))
			wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, grace)
			if os := w.orders(t, acc.ID); len(os) != 1 {
				t.Errorf("%d orders, want only the buy", len(os))
			}
			ns := w.notes(t, acc.ID)
			ch := []string{"email", "sms"}
			var reminders []note
			for d := 22; d <= 28; d++ {
				reminders = append(reminders, note{App: app.SDKAppID, Kind: "renewal_reminder", Due: ts(at(2, d, 10))})
			}
			// The reminders continue after the failure: the expiry day's one too.
			sameNotes(t, "reminders", summary(only(ns, "renewal_reminder", 0)), expand(ch, reminders...))
			sameNotes(t, "suspended", summary(only(ns, "suspended", 0)), expand(ch, note{App: app.SDKAppID, Kind: "suspended", Due: ts(grace)}))
			failed := summary(only(ns, "auto_renew_failed", 0))
			if len(failed) < 2 || failed[0].Due != ts(expiry) || failed[1].Due != ts(expiry) {
				t.Errorf("auto_renew_failed notices %v, want one per channel at the expiry", failed)
			}
			for _, f := range failed {
				if f.Due != ts(expiry) && f.Due != ts(grace) {
					t.Errorf("auto_renew_failed at %s, want at the expiry or the second try 24 hours later", f.Due)
				}
			}
			if n := only(ns, "auto_renewed", 0); len(n) != 0 {
				t.Errorf("%d auto_renewed notices, want none", len(n))
			}
		})

		t.Run("top-up within 24 hours of expiry", func(t *testing.T) {
			w := newWorldOn(t, open(t), false)
			acc := w.account(t, "Late payer", "")
			w.topUp(t, acc.ID, 39900)
			app := w.app(t, acc.ID, "late")
			w.buy(t, app.SDKAppID, catalog.Standard, 1, true)

			w.setTo(t, expiry.Add(12*time.Hour))
			if f := only(w.notes(t, acc.ID), "auto_renew_failed", 0); len(f) != 1 || !f[0].DueAt.Equal(expiry) {
				t.Errorf("auto_renew_failed notices %v, want one at the expiry", summary(f))
			}
			w.topUp(t, acc.ID, 39900)
			w.setTo(t, grace.Add(time.Hour))

			got := w.getApp(t, app.SDKAppID)
			wantStatus(t, got, "active", "", time.Time{})
			os := w.orders(t, acc.ID)
			if len(os) != 2 {
				t.Fatalf("%d orders, want the buy and one renewal", len(os))
			}
			r := os[1]
			if r.Kind != store.OrderRenew || r.ListCents != 39900 || r.CashCents != 39900 {
				t.Errorf("renewal order %+v, want a 399.00 renewal from cash", r)
			}
			// The renewal continues the plan: from its expiry, on its anchor (31st).
			wantTime(t, "renewal EffectiveFrom", r.EffectiveFrom, expiry)
			wantTime(t, "renewal EffectiveTo", r.EffectiveTo, at(3, 31, 10))
			wantTime(t, "renewal Anchor", r.Anchor, t0)
			wantTime(t, "ExpiresAt after the renewal", got.ExpiresAt, at(3, 31, 10))
			wantTime(t, "PlanAnchor after the renewal", got.PlanAnchor, t0)
			ns := w.notes(t, acc.ID)
			if n := only(ns, "suspended", 0); len(n) != 0 {
				t.Errorf("%d suspended notices, want none", len(n))
			}
			sameNotes(t, "auto_renewed", summary(only(ns, "auto_renewed", 0)), expand([]string{"email"}, note{App: app.SDKAppID, Kind: "auto_renewed", Due: ts(grace)}))
		})
	})
}

// Spec 3 (Decision): Free Trial lasts one month from the app's creation and may be
// extended once by one month, by the operator or automatically; it can never be
// bought back.
func TestFreeTrialExpiryAndItsOneExtension(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		expiry := at(2, 28, 10)
		grace := expiry.Add(day)

		t.Run("granted by the operator", func(t *testing.T) {
			w := newWorldOn(t, open(t), false)
			acc := w.account(t, "Trier", "")
			w.topUp(t, acc.ID, 100000)
			app := w.app(t, acc.ID, "trial")
			wantTime(t, "trial ExpiresAt", app.ExpiresAt, expiry)
			if app.Edition != catalog.Trial {
				t.Fatalf("a new app is on %q, want trial", app.Edition)
			}

			w.setTo(t, grace.Add(-time.Second))
			wantStatus(t, w.getApp(t, app.SDKAppID), "active", "", time.Time{})
			w.setTo(t, grace)
			wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, grace)
			var items []note
			for d := 22; d <= 28; d++ {
				items = append(items, note{App: app.SDKAppID, Kind: "renewal_reminder", Due: ts(at(2, d, 10))})
			}
			items = append(items, note{App: app.SDKAppID, Kind: "suspended", Due: ts(grace)})
			sameNotes(t, "notices of the trial", summary(only(w.notes(t, acc.ID), "", app.SDKAppID)), expand([]string{"email"}, items...))

			// Free Trial cannot be bought back.
			if _, err := w.com.Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: catalog.Trial, Months: 1, AgreementAccepted: true}); !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("Buy trial: %v, want ErrRefused", err)
			}

			w.setTo(t, at(3, 3, 12))
			got, err := w.com.ExtendTrial(ctx, app.SDKAppID)
			if err != nil {
				t.Fatalf("ExtendTrial: %v", err)
			}
			wantStatus(t, got, "active", "", time.Time{})
			wantTime(t, "ExpiresAt after the extension", got.ExpiresAt, at(4, 3, 12))
			if !got.TrialExtended || got.Edition != catalog.Trial {
				t.Errorf("after the extension: edition %q extended %v", got.Edition, got.TrialExtended)
			}
			if stored := w.getApp(t, app.SDKAppID); stored.Status != "active" || !stored.ExpiresAt.Equal(at(4, 3, 12)) {
				t.Errorf("stored app %+v, want active until 3 Apr 12:00", stored)
			}
			if _, err := w.com.ExtendTrial(ctx, app.SDKAppID); !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("second ExtendTrial: %v, want ErrRefused", err)
			}

			// The extended trial expires and is suspended again; no third month.
			w.setTo(t, at(4, 4, 12))
			wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, at(4, 4, 12))
			if _, err := w.com.ExtendTrial(ctx, app.SDKAppID); !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("ExtendTrial after the extended trial expired: %v, want ErrRefused", err)
			}
			if n := only(w.notes(t, acc.ID), "trial_extended", 0); len(n) != 0 {
				t.Errorf("%d trial_extended notices without automatic extension", len(n))
			}
		})

		t.Run("automatic", func(t *testing.T) {
			w := newWorldOn(t, open(t), true)
			acc := w.account(t, "Auto trier", "+44 20 7946 0000")
			app := w.app(t, acc.ID, "trial")

			w.setTo(t, grace.Add(time.Hour))
			got := w.getApp(t, app.SDKAppID)
			wantStatus(t, got, "active", "", time.Time{})
			// One month from the expiry it extends.
			wantTime(t, "ExpiresAt after the automatic extension", got.ExpiresAt, at(3, 28, 10))
			if !got.TrialExtended {
				t.Error("TrialExtended not set")
			}
			want := expand([]string{"email", "sms"}, note{App: app.SDKAppID, Kind: "trial_extended", Due: ts(expiry)})
			sameNotes(t, "trial_extended", summary(only(w.notes(t, acc.ID), "trial_extended", 0)), want)

			w.setTo(t, at(4, 30, 10))
			wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, at(3, 29, 10))
			ns := w.notes(t, acc.ID)
			sameNotes(t, "trial_extended after the second expiry", summary(only(ns, "trial_extended", 0)), want)
			sameNotes(t, "suspended", summary(only(ns, "suspended", 0)), expand([]string{"email", "sms"}, note{App: app.SDKAppID, Kind: "suspended", Due: ts(at(3, 29, 10))}))
			if _, err := w.com.ExtendTrial(ctx, app.SDKAppID); !errors.Is(err, commerce.ErrRefused) {
				t.Errorf("ExtendTrial after the automatic extension: %v, want ErrRefused", err)
			}
		})
	})
}

// Spec 5.5: a refund of the edition suspends the app at once; the current month's
// pay-as-you-go usage is still billed, nothing from the next month.
func TestRefundSuspendsAndStopsBilling(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorldOn(t, open(t), false)
		acc := w.account(t, "Refunder", "")
		w.topUp(t, acc.ID, 39900)
		app := w.app(t, acc.ID, "refunded")
		id := app.SDKAppID
		w.buy(t, id, catalog.Standard, 1, true)
		g := &gate.Gate{MAU: w.st, Clock: w.clk}

		w.setTo(t, at(2, 3, 9))
		for _, u := range []string{"u1", "u2", "u3"} {
			if err := g.AdmitLogin(ctx, w.getApp(t, id), u); err != nil {
				t.Fatalf("login of %s: %v", u, err)
			}
		}

		w.setTo(t, at(2, 10, 12))
		r, err := w.com.Refund(ctx, commerce.RefundRequest{SDKAppID: id, Reason: "moving"})
		if err != nil {
			t.Fatal(err)
		}
		// Period 31 Jan 10:00 – 28 Feb 10:00 (28 days), 11 days started:
		// 399 × 11/28 = 156.75 used, 242.25 back.
		if r.Amount != 24225 || r.Cash != 24225 || r.Used != 15675 {
			t.Errorf("refund %s (cash %s, used %s), want 242.25 cash, 156.75 used", r.Amount, r.Cash, r.Used)
		}
		got := w.getApp(t, id)
		wantStatus(t, got, "suspended", commerce.ReasonRefund, at(2, 10, 12))
		if err := g.AdmitLogin(ctx, got, "u4"); errs.CodeOf(err) != errs.PlanInactive {
			t.Errorf("login to the refunded app: %v, want code %d", err, errs.PlanInactive)
		}

		w.setTo(t, at(3, 1, 0))
		bills := w.bills(t, acc.ID)
		if len(bills) != 2 || bills[1].Month != "2026-02" {
			t.Fatalf("bills %+v, want January and February", bills)
		}
		feb := bills[1]
		wantTime(t, "February bill IssuedAt", feb.IssuedAt, at(3, 1, 0))
		if len(feb.Lines) != 1 || feb.Lines[0] != mauLine(id, catalog.Standard, 3, 0, 0) {
			t.Errorf("February lines %+v, want the refunded app's MAU line (3 users)", feb.Lines)
		}

		w.setTo(t, at(3, 5, 8))
		if err := g.AdmitLogin(ctx, w.getApp(t, id), "u1"); errs.CodeOf(err) != errs.PlanInactive {
			t.Errorf("login in March: %v, want code %d", err, errs.PlanInactive)
		}
		w.setTo(t, at(4, 1, 0))
		bills = w.bills(t, acc.ID)
		if len(bills) != 3 || bills[2].Month != "2026-03" {
			t.Fatalf("bills %+v, want January to March", bills)
		}
		if len(bills[2].Lines) != 0 || bills[2].TotalCents != 0 {
			t.Errorf("March bill %+v, want no line for the refunded app", bills[2])
		}
		if a := w.getAccount(t, acc.ID); a.CashCents != 24225 || !a.OverdueSince.IsZero() {
			t.Errorf("balance %d overdue since %s, want 242.25 and not overdue", a.CashCents, ts(a.OverdueSince))
		}
		ns := w.notes(t, acc.ID)
		for _, kind := range []string{"renewal_reminder", "auto_renew_failed", "auto_renewed", "suspended"} {
			if n := only(ns, kind, id); len(n) != 0 {
				t.Errorf("%d %s notices about the refunded app, want none", len(n), kind)
			}
		}
	})
}

// The clock moves only forward, and only on a manual clock; the report counts
// the jobs that ran.
func TestClockAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorldOn(t, open(t), false)
		if !w.sch.Fake() {
			t.Error("a scheduler on a manual clock says it is not fake")
		}
		for _, d := range []time.Duration{0, -time.Second, -day} {
			if _, err := w.sch.Advance(ctx, d); !errors.Is(err, lifecycle.ErrBackwards) {
				t.Errorf("Advance(%s): %v, want ErrBackwards", d, err)
			}
		}
		if _, err := w.sch.Set(ctx, t0.Add(-time.Second)); !errors.Is(err, lifecycle.ErrBackwards) {
			t.Errorf("Set to the past: %v, want ErrBackwards", err)
		}
		// One move is bounded (a clock set to year 9999 would run bills for
		// millennia inside one request).
		if _, err := w.sch.Set(ctx, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)); !errors.Is(err, lifecycle.ErrTooFar) {
			t.Errorf("Set to year 9999: %v, want ErrTooFar", err)
		}
		if _, err := w.sch.Advance(ctx, lifecycle.MaxMove+time.Second); !errors.Is(err, lifecycle.ErrTooFar) {
			t.Errorf("Advance past MaxMove: %v, want ErrTooFar", err)
		}
		wantTime(t, "clock after refused moves", w.clk.Now(), t0)

		real := lifecycle.New(lifecycle.Config{Store: w.st, Clock: clock.Real{}})
		if real.Fake() {
			t.Error("a scheduler on the real clock says it is fake")
		}
		if _, err := real.Advance(ctx, time.Hour); !errors.Is(err, lifecycle.ErrRealClock) {
			t.Errorf("Advance on the real clock: %v, want ErrRealClock", err)
		}
		if _, err := real.Set(ctx, time.Now().Add(time.Hour)); !errors.Is(err, lifecycle.ErrRealClock) {
			t.Errorf("Set on the real clock: %v, want ErrRealClock", err)
		}

		acc := w.account(t, "Counter", "")
		app := w.app(t, acc.ID, "counted")
		rep, err := w.sch.Set(ctx, t0)
		if err != nil || rep.Jobs != 0 {
			t.Errorf("Set to now: %d jobs, %v; want 0, nil", rep.Jobs, err)
		}
		// Bills of January (1 Feb) and February (1 Mar), 7 reminders and the
		// suspension on 1 Mar 10:00.
		rep, err = w.sch.Advance(ctx, 29*day)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Jobs != 10 {
			t.Errorf("Report.Jobs = %d, want 10", rep.Jobs)
		}
		wantTime(t, "Report.From", rep.From, t0)
		wantTime(t, "Report.To", rep.To, at(3, 1, 10))
		wantStatus(t, w.getApp(t, app.SDKAppID), "suspended", commerce.ReasonExpired, at(3, 1, 10))
		if rep, err := w.sch.RunDue(ctx); err != nil || rep.Jobs != 0 {
			t.Errorf("RunDue right after: %d jobs, %v; want 0, nil", rep.Jobs, err)
		}
		if rep, err := w.sch.Advance(ctx, time.Hour); err != nil || rep.Jobs != 0 {
			t.Errorf("Advance by an hour: %d jobs, %v; want 0, nil", rep.Jobs, err)
		}
		wantTime(t, "clock", w.sch.Now(), at(3, 1, 11))
	})
}
