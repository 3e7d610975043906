package lifecycle

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// Rule timings (product spec 5.3, 5.4).
const (
	day             = 24 * time.Hour
	reminderDays    = 7                // reminders on each of the 7 days up to and including the expiry day
	grace           = commerce.Grace   // suspension 24 hours after expiry, and after an unpaid bill
	repossessAfter  = 90 * day         // data of a suspended app is kept 90 days
	staleAfter      = day              // a reminder missed by more than a day (the node was down) is skipped
	defaultInterval = 30 * time.Second // how often the real-clock loop looks for due jobs
)

// Config is what the scheduler needs.
type Config struct {
	Store store.Store // required
	Clock clock.Clock // required unless Manual is set
	// Manual is the server's clock when it runs with --fake-clock: only Advance
	// and Set move it. Nil on the real clock.
	Manual *clock.Manual
	// Sender delivers notifications after they are recorded; nil records only.
	Sender notify.Sender
	Log    *slog.Logger
	// TrialAutoExtend grants each Free Trial its one extension automatically at
	// expiry (the operator's choice; otherwise the operator grants it).
	TrialAutoExtend bool
	// Metrics are observability hooks; nil fields are skipped.
	Metrics Metrics
	// OnAppChanged, when set, is called after a job's committed change of an
	// app (expiry, renewal, suspension, repossession: commerce.AppTx), once
	// per app; the server wires it to the gateway and the bus.
	OnAppChanged func(app int64)
}

// Metrics count what the scheduler does.
type Metrics struct {
	Job    func(kind string)   // a job ran: "bill", "arrears", "auto_renew", ...
	Notice func(status string) // a delivery attempt ended: "sent" or "failed"
}

// kindNames name the job kinds in logs and metrics.
var kindNames = [...]string{kindBill: "bill", kindArrears: "arrears", kindAutoRenew: "auto_renew",
	kindTrialExtend: "trial_extend", kindReminder: "reminder", kindExpire: "expire",
	kindRepossessNotice: "repossession_notice", kindRepossess: "repossess"}

// Scheduler runs the lifecycle jobs.
type Scheduler struct {
	cfg Config
	mu  sync.Mutex // one run at a time on this node
	// done remembers keys of jobs this node found claimed, so that the real-clock
	// loop does not try them again every round. Pruned by due time.
	done map[string]time.Time
}

// New returns a scheduler. It panics when a required dependency is missing (a
// wiring error).
func New(cfg Config) *Scheduler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Manual != nil {
		cfg.Clock = cfg.Manual
	}
	if cfg.Store == nil || cfg.Clock == nil {
		panic("lifecycle.New: store and clock (or manual) are required")
	}
	return &Scheduler{cfg: cfg, done: map[string]time.Time{}}
}

// Now is the scheduler's (and the server's) current time.
func (s *Scheduler) Now() time.Time { return s.cfg.Clock.Now() }

// Fake reports whether the scheduler runs on a manual clock.
func (s *Scheduler) Fake() bool { return s.cfg.Manual != nil }

// Advance moves a manual clock forward by d, running every job that falls due on
// the way at its own due time, in time order.
func (s *Scheduler) Advance(ctx context.Context, d time.Duration) (Report, error) {
	if s.cfg.Manual == nil {
		return Report{}, ErrRealClock
	}
	if d <= 0 {
		return Report{}, fmt.Errorf("%w: advance by a positive duration, not %s", ErrBackwards, d)
	}
	if d > MaxMove {
		return Report{}, fmt.Errorf("%w: not %s", ErrTooFar, d)
	}
	return s.runTo(ctx, s.Now().Add(d))
}

// Set moves a manual clock forward to t, as Advance does.
func (s *Scheduler) Set(ctx context.Context, t time.Time) (Report, error) {
	if s.cfg.Manual == nil {
		return Report{}, ErrRealClock
	}
	if t.Before(s.Now()) {
		return Report{}, fmt.Errorf("%w: %s is before the current time %s", ErrBackwards, t.UTC().Format(time.RFC3339), s.Now().Format(time.RFC3339))
	}
	if t.Sub(s.Now()) > MaxMove {
		return Report{}, fmt.Errorf("%w: %s is too far after the current time %s", ErrTooFar, t.UTC().Format(time.RFC3339), s.Now().Format(time.RFC3339))
	}
	return s.runTo(ctx, t.UTC())
}

// RunDue runs every job due now or earlier.
func (s *Scheduler) RunDue(ctx context.Context) (Report, error) {
	return s.runTo(ctx, s.Now())
}

// Loop runs due jobs every interval (default 30 s) until ctx ends. On a manual
// clock it only runs what is due at start: time moves through Advance and Set.
func (s *Scheduler) Loop(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = defaultInterval
	}
	for {
		if rep, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("lifecycle run failed", "err", err)
		} else if rep.Jobs > 0 {
			s.cfg.Log.Info("lifecycle run", "jobs", rep.Jobs)
		}
		if s.Fake() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// runTo runs the jobs due up to target in time order. On a manual clock the clock
// stands at each job's due time while it runs. A job changes only its own
// account, so after one ran, that account's jobs are derived again (a renewal
// creates new reminders, say) while the others' stay queued; the result is what
// would have happened had the time really passed.
func (s *Scheduler) runTo(ctx context.Context, target time.Time) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := Report{From: s.Now(), To: target}
	tried := map[string]bool{}
	for {
		jobs, err := s.pending(ctx, target, "")
		if err != nil {
			return rep, err
		}
		q := &queue{}
		for _, j := range jobs {
			if !tried[j.key] {
				heap.Push(q, j)
			}
		}
		if q.Len() == 0 {
			break
		}
		gen := map[string]int{} // a job of an older generation of its account is stale
		for q.Len() > 0 {
			j := heap.Pop(q).(job)
			if j.gen != gen[j.account] || tried[j.key] {
				continue
			}
			if s.cfg.Manual != nil && j.due.After(s.cfg.Manual.Now()) {
				s.cfg.Manual.Set(j.due)
			}
			tried[j.key] = true
			ran, err := s.run(ctx, j)
			if err != nil {
				return rep, fmt.Errorf("lifecycle job %s: %w", j.key, err)
			}
			if !ran {
				continue
			}
			rep.Jobs++
			gen[j.account]++
			fresh, err := s.pending(ctx, target, j.account)
			if err != nil {
				return rep, err
			}
			for _, f := range fresh {
				if !tried[f.key] {
					f.gen = gen[j.account]
					heap.Push(q, f)
				}
			}
		}
	}
	if s.cfg.Manual != nil && target.After(s.cfg.Manual.Now()) {
		s.cfg.Manual.Set(target)
	}
	s.redeliver(ctx)
	rep.To = s.Now()
	s.prune(target)
	return rep, nil
}

// queue orders jobs by due time, then kind, then key.
type queue []job

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, k int) bool {
	a, b := q[i], q[k]
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.key < b.key
}
func (q queue) Swap(i, k int) { q[i], q[k] = q[k], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(job)) }
func (q *queue) Pop() any {
	old := *q
	j := old[len(old)-1]
	*q = old[:len(old)-1]
	return j
}

func (s *Scheduler) prune(now time.Time) {
	for k, due := range s.done {
		if now.Sub(due) > 3*day {
			delete(s.done, k)
		}
	}
}

// Job kinds, in the order they run when due at the same instant.
const (
	kindBill = iota
	kindArrears
	kindAutoRenew
	kindTrialExtend
	kindReminder
	kindExpire
	kindRepossessNotice
	kindRepossess
)

// job is one occurrence of a rule for an account or an app.
type job struct {
	due     time.Time
	kind    int
	key     string // unique per occurrence: claimed once across all nodes
	account string
	app     int64
	month   string // kindBill
	days    int    // kindReminder: days to expiry (0 = the expiry day); kindRepossessNotice: days left
	// basis is the state the job was derived from (expiry, suspension or overdue
	// time); the job does nothing if the state moved on meanwhile.
	basis time.Time
	gen   int // runTo: the generation of the account's jobs this one belongs to
}

// pending derives the jobs due at or before upto from the stored state: of one
// account, or of all when account is "".
func (s *Scheduler) pending(ctx context.Context, upto time.Time, account string) ([]job, error) {
	now := s.Now()
	var accounts []store.Account
	var apps []store.App
	var billed map[string]string
	var err error
	if account == "" {
		if accounts, err = s.cfg.Store.AllAccounts(ctx); err != nil {
			return nil, err
		}
		if apps, err = s.cfg.Store.AllApps(ctx); err != nil {
			return nil, err
		}
		billed, err = s.cfg.Store.LastBillMonths(ctx, nil)
	} else {
		a, err := s.cfg.Store.GetAccount(ctx, account)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		accounts = []store.Account{a}
		if apps, err = s.cfg.Store.ListApps(ctx, account); err != nil {
			return nil, err
		}
		billed, err = s.cfg.Store.LastBillMonths(ctx, []string{account})
	}
	if err != nil {
		return nil, err
	}
	var jobs []job
	add := func(j job) {
		if j.due.After(upto) {
			return
		}
		if _, ok := s.done[j.key]; ok {
			return
		}
		jobs = append(jobs, j)
	}
	for _, a := range accounts {
		// The bill of each month from the account's creation on, due on the 1st
		// of the next month at 00:00 UTC; only the oldest unbilled one is derived
		// (issuing it derives the next).
		next := period.Month(a.CreatedAt)
		if last, ok := billed[a.ID]; ok {
			next = nextMonth(last)
		}
		if start, err := time.Parse("2006-01", next); err == nil {
			add(job{due: start.AddDate(0, 1, 0), kind: kindBill, key: "bill:" + a.ID + ":" + next, account: a.ID, month: next})
		}
		if a.Status == store.StatusActive && !a.OverdueSince.IsZero() {
			add(job{due: a.OverdueSince.Add(grace), kind: kindArrears, key: fmt.Sprintf("arrears:%s:%d", a.ID, a.OverdueSince.Unix()),
				account: a.ID, basis: a.OverdueSince})
		}
	}
	for _, app := range apps {
		id := app.SDKAppID
		switch app.Status {
		case store.StatusActive:
			e := app.ExpiresAt
			base := fmt.Sprintf("%d:%d", id, e.Unix())
			for d := reminderDays - 1; d >= 0; d-- {
				due := e.Add(-time.Duration(d) * day)
				if now.Sub(due) > staleAfter {
					continue
				}
				add(job{due: due, kind: kindReminder, key: fmt.Sprintf("remind:%s:%d", base, d), account: app.AccountID, app: id, days: d, basis: e})
			}
			if app.AutoRenew && app.Edition != catalog.Trial {
				add(job{due: e, kind: kindAutoRenew, key: "autorenew:" + base, account: app.AccountID, app: id, basis: e})
				// A second try just before suspension, for a balance topped up meanwhile.
				add(job{due: e.Add(grace), kind: kindAutoRenew, key: "autorenew2:" + base, account: app.AccountID, app: id, basis: e})
			}
			if app.Edition == catalog.Trial && !app.TrialExtended && s.cfg.TrialAutoExtend {
				add(job{due: e, kind: kindTrialExtend, key: "trialextend:" + base, account: app.AccountID, app: id, basis: e})
			}
			add(job{due: e.Add(grace), kind: kindExpire, key: "expire:" + base, account: app.AccountID, app: id, basis: e})
		case store.StatusSuspended:
			sa := app.SuspendedAt
			base := fmt.Sprintf("%d:%d", id, sa.Unix())
			for _, left := range []int{7, 1} {
				due := sa.Add(repossessAfter - time.Duration(left)*day)
				if now.Sub(due) > staleAfter {
					continue
				}
				add(job{due: due, kind: kindRepossessNotice, key: fmt.Sprintf("repo-notice:%s:%d", base, left), account: app.AccountID, app: id, days: left, basis: sa})
			}
			add(job{due: sa.Add(repossessAfter), kind: kindRepossess, key: "repossess:" + base, account: app.AccountID, app: id, basis: sa})
		}
	}
	return jobs, nil
}

func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// run runs one job in its own transaction: it locks the account (and app),
// checks that the state the job was derived from still holds, claims the job's
// key and acts. Notifications are recorded in the same transaction and delivered
// after the commit. It reports whether the job ran.
func (s *Scheduler) run(ctx context.Context, j job) (bool, error) {
	now := s.Now()
	var notes []store.Notification
	ran := false
	err := commerce.AppTx(ctx, s.cfg.Store, s.cfg.OnAppChanged, func(tx store.CommerceTx) error {
		notes, ran = nil, false
		acc, err := tx.LockAccount(ctx, j.account)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var app store.App
		if j.app != 0 {
			if app, err = tx.LockApp(ctx, j.app); err != nil {
				if errors.Is(err, errs.ErrNotFound) {
					return nil
				}
				return err
			}
			if !s.holds(j, app) {
				return nil
			}
		}
		claimed, err := tx.ClaimJob(ctx, j.key, j.due)
		if err != nil || !claimed {
			return err
		}
		n := &noter{acc: acc, app: app, key: j.key, due: now}
		if err := s.act(ctx, tx, j, &acc, &app, n, now); err != nil {
			return err
		}
		for _, note := range n.out {
			if err := tx.InsertNotification(ctx, note); err != nil && !errors.Is(err, errs.ErrExists) {
				return err
			}
		}
		notes, ran = n.out, true
		return nil
	})
	if err != nil {
		return false, err
	}
	if !ran {
		s.done[j.key] = j.due
	} else {
		s.cfg.Log.Info("lifecycle job", "job", kindNames[j.kind], "key", j.key, "due", j.due)
		if s.cfg.Metrics.Job != nil {
			s.cfg.Metrics.Job(kindNames[j.kind])
		}
	}
	s.deliver(ctx, notes)
	return ran, nil
}

// holds reports whether the app is still in the state the job was derived from.
func (s *Scheduler) holds(j job, app store.App) bool {
	switch j.kind {
	case kindReminder, kindAutoRenew, kindTrialExtend, kindExpire:
		return app.Status == store.StatusActive && app.ExpiresAt.Equal(j.basis)
	case kindRepossessNotice, kindRepossess:
		return app.Status == store.StatusSuspended && app.SuspendedAt.Equal(j.basis)
	}
	return true
}

// act does what the job is for.
func (s *Scheduler) act(ctx context.Context, tx store.CommerceTx, j job, acc *store.Account, app *store.App, n *noter, now time.Time) error {
	switch j.kind {
	case kindBill:
		last, err := tx.LastBillMonth(ctx, acc.ID)
		if err != nil {
			return err
		}
		if last >= j.month {
			return nil // billed meanwhile (by another node)
		}
		wasOverdue := !acc.OverdueSince.IsZero()
		b, err := commerce.IssueBill(ctx, tx, acc, j.month, now)
		if err != nil {
			return err
		}
		n.bill(b)
		if !wasOverdue && !acc.OverdueSince.IsZero() {
			n.overdue(*acc)
		}
	case kindArrears:
		if acc.Status != store.StatusActive || !acc.OverdueSince.Equal(j.basis) || acc.CashCents+acc.CreditCents >= 0 {
			return nil
		}
		if err := commerce.SuspendForArrears(ctx, tx, acc, now); err != nil {
			return err
		}
		n.accountSuspended(*acc)
	case kindAutoRenew:
		o, err := commerce.AutoRenew(ctx, tx, acc, app, now)
		switch {
		case err == nil:
			n.autoRenewed(*app, o)
		case errors.Is(err, commerce.ErrInsufficientBalance), errors.Is(err, commerce.ErrRefused):
			n.autoRenewFailed(*app, err)
		default:
			return err
		}
	case kindTrialExtend:
		if err := commerce.ExtendTrialLocked(ctx, tx, app, now); err != nil {
			if errors.Is(err, commerce.ErrRefused) {
				return nil
			}
			return err
		}
		n.trialExtended(*app)
	case kindReminder:
		n.reminder(*app, j.days)
	case kindExpire:
		commerce.SuspendApp(app, commerce.ReasonExpired, now)
		if err := tx.UpdateApp(ctx, *app); err != nil {
			return err
		}
		n.expired(*app)
	case kindRepossessNotice:
		n.repossessionNotice(*app, j.basis.Add(repossessAfter), j.days)
	case kindRepossess:
		if err := tx.DeleteAppData(ctx, app.SDKAppID, now); err != nil {
			return err
		}
		n.repossessed(*app)
	}
	return nil
}

// Delivery of notifications: a failed attempt is retried after 1, 2, 4 and 8
// minutes; after the last the notice stays "failed" (with its error) for the
// operator to see. An attempt whose node died is taken over after staleAttempt.
const (
	maxAttempts  = 5
	firstBackoff = time.Minute
	staleAttempt = 10 * time.Minute
)

// deliver sends notifications and records the outcome. Each attempt is claimed
// first, so two nodes never send one notice at the same time.
func (s *Scheduler) deliver(ctx context.Context, notes []store.Notification) {
	for _, n := range notes {
		now := s.Now()
		if s.cfg.Sender == nil {
			// Without a sender a notice is only recorded, never claimed as sent.
			if err := s.cfg.Store.SetNotificationStatus(ctx, n.ID, "recorded", "", now); err != nil {
				s.cfg.Log.Error("recording a notification", "id", n.ID, "err", err)
			}
			continue
		}
		claimed, err := s.cfg.Store.ClaimNotification(ctx, n.ID, now, now.Add(-staleAttempt), maxAttempts)
		if err != nil {
			s.cfg.Log.Error("claiming a notification", "id", n.ID, "err", err)
			continue
		}
		if !claimed {
			continue
		}
		status, msg := "sent", ""
		err = s.cfg.Sender.Send(ctx, notify.Message{ID: n.ID, AccountID: n.AccountID, SDKAppID: n.SDKAppID, Kind: n.Kind,
			Channel: n.Channel, Recipient: n.Recipient, Subject: n.Subject, Body: n.Body, DueAt: n.DueAt})
		if err != nil {
			status, msg = "failed", err.Error()
			s.cfg.Log.Error("notification not delivered", "id", n.ID, "kind", n.Kind, "channel", n.Channel,
				"attempt", n.Attempts+1, "err", err)
		}
		if s.cfg.Metrics.Notice != nil {
			s.cfg.Metrics.Notice(status)
		}
		if err := s.cfg.Store.SetNotificationStatus(ctx, n.ID, status, msg, s.Now()); err != nil {
			s.cfg.Log.Error("recording a notification's delivery", "id", n.ID, "err", err)
		}
	}
}

// redeliver retries the notices whose delivery failed (once their backoff has
// passed), that were never attempted (the node stopped after recording them) or
// whose attempt was abandoned.
func (s *Scheduler) redeliver(ctx context.Context) {
	if s.cfg.Sender == nil {
		return
	}
	now := s.Now()
	notes, err := s.cfg.Store.UndeliveredNotifications(ctx, now.Add(-staleAttempt), maxAttempts, 200)
	if err != nil {
		s.cfg.Log.Error("listing undelivered notifications", "err", err)
		return
	}
	var due []store.Notification
	for _, n := range notes {
		if n.Status == "failed" && now.Sub(n.SentAt) < firstBackoff<<(n.Attempts-1) {
			continue
		}
		due = append(due, n)
	}
	s.deliver(ctx, due)
}
