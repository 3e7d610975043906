package im

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Push rules (reference §3.3 im_push and the push service's limits).
const (
	// PushMinInterval must pass between two pushes of an app (90024).
	PushMinInterval = time.Second
	// PushPerDay bounds an app's pushes per UTC calendar day (90047).
	PushPerDay = 100
	// MaxPushLifetime bounds MsgLifeTime, the offline storage time (90026).
	MaxPushLifetime = 7 * 24 * time.Hour
	// PushPage is how many targets the runner selects and writes at a time: one
	// keyset page, submitted to the writer together (it commits them in a few
	// group commits, interleaved with other traffic).
	PushPage = 500
	// pushInFlight is how many pages of a task may wait in the writer at once.
	pushInFlight = 2
	// PushLease is how long a node's claim of a task lasts (store.Cluster): the
	// node running the task renews it every third of it, and the other nodes
	// take over a task whose claim ran out (its node died) at their next
	// WatchPushes scan. Leases run on the real clock, never a manual one.
	PushLease = 30 * time.Second
)

// pushClientPrefix starts the idempotency key of a pushed copy, "rp:<TaskId>:<user>":
// a task resumed after a crash writes each target at most once. Devices may not
// use it (restKeyPrefixes).
const pushClientPrefix = "rp:"

// PushRequest is an im_push.
type PushRequest struct {
	From   string // sender; "" = the app's admin
	Random uint32
	Body   json.RawMessage
	// Lifetime is the offline storage time (MsgLifeTime): 0 hands the message to
	// online devices only; up to MaxPushLifetime.
	Lifetime time.Duration
	TagsAnd  []string
	TagsOr   []string
	AttrsAnd map[string]string // attribute name -> value
	AttrsOr  map[string]string
}

// Push starts a push to every user of the app, or to those the condition selects
// (im_push), and returns its TaskId. The task runs in the background: it selects
// targets a page at a time in UserID order and writes each page through the
// writer as one-to-one messages from From (receivers' copies only, expiring after
// Lifetime), so online devices get them at once and others on their next sync;
// its progress is stored and readable with PushTask. Refusals, before anything is
// stored: the gate's (90045, 60020); 70107 From not imported; 90002/90007/93000
// MsgBody; 90026 Lifetime; 90039 tags with attributes; 90032 over 10 tags in a
// list; 90040/90020 a bad tag; 90022 a tag in TagsAnd and TagsOr; 90033 an unknown
// attribute or a bad value; 90024 less than PushMinInterval after the app's last
// push; 90047 PushPerDay pushes today; 20012 a From whose global mute runs.
// A From other than the admin reaches only the targets a one-to-one message of
// it could reach (pushReachable: not those that block it, and under the app's
// friend_only_c2c only its friends both ways); the others count as targets, not
// as delivered.
func (s *Service) Push(ctx context.Context, app store.App, req PushRequest) (string, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return "", err
	}
	if req.From == "" {
		req.From = app.AdminUser
	}
	if err := ValidUserID(req.From); err != nil {
		return "", err
	}
	if req.Lifetime < 0 || req.Lifetime > MaxPushLifetime {
		return "", errs.New(errs.PushLifeTime, "MsgLifeTime must be 0 to %d seconds", int64(MaxPushLifetime/time.Second))
	}
	if err := ValidateBody(req.Body); err != nil {
		return "", err
	}
	cond, err := s.pushCondition(ctx, app, req)
	if err != nil {
		return "", err
	}
	if req.From != app.AdminUser {
		users, err := s.imported(ctx, app.SDKAppID, req.From)
		if err != nil {
			return "", err
		}
		if !users[req.From] {
			return "", errs.New(errs.AccountNotFound, "From_Account %q is not an imported account", req.From)
		}
		if err := s.checkMuted(ctx, app, req.From); err != nil {
			return "", err // 20012, as on the other sends of a muted user
		}
	}
	now := s.clock.Now()
	t := store.PushTask{
		ID: newTaskID(), App: app.SDKAppID, From: req.From, MsgRandom: req.Random, MsgSeq: RandomMsgSeq(),
		MsgTime: now.Unix(), Body: req.Body, Lifetime: req.Lifetime, Condition: cond,
		State: store.PushRunning, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.CreatePushTask(ctx, t, store.PushRate{MinInterval: PushMinInterval, PerDay: PushPerDay})
	switch {
	case errors.Is(err, errs.ErrConflict):
		return "", errs.New(errs.PushTooFrequent, "pushes of an app must be more than %s apart", PushMinInterval)
	case errors.Is(err, errs.ErrLimit):
		return "", errs.New(errs.PushDailyLimit, "the app has pushed %d times today (UTC); the limit is %d a day", PushPerDay, PushPerDay)
	case errors.Is(err, errs.ErrNotFound): // deleted meanwhile
		return "", errs.New(errs.AppNotFound, "app %d does not exist", app.SDKAppID)
	case err != nil:
		return "", storageErr(err)
	}
	s.pushes.start(s, t)
	return t.ID, nil
}

// pushCondition checks the request's condition and resolves attribute names.
func (s *Service) pushCondition(ctx context.Context, app store.App, req PushRequest) (store.PushCondition, error) {
	var c store.PushCondition
	tags := len(req.TagsAnd) > 0 || len(req.TagsOr) > 0
	attrs := len(req.AttrsAnd) > 0 || len(req.AttrsOr) > 0
	if tags && attrs {
		return c, errs.New(errs.PushAttrsAndTags, "a push goes by tags or by attributes, not both")
	}
	var err error
	for _, l := range []struct {
		name string
		in   []string
		out  *[]string
	}{{"TagsAnd", req.TagsAnd, &c.TagsAnd}, {"TagsOr", req.TagsOr, &c.TagsOr}} {
		if len(l.in) > MaxPushTagsPerCall {
			return c, errs.New(errs.PushTooManyTags, "%s lists %d tags; at most %d", l.name, len(l.in), MaxPushTagsPerCall)
		}
		if *l.out, err = cleanTags(l.in); err != nil {
			return c, err
		}
		if len(*l.out) == 0 {
			*l.out = nil
		}
	}
	for _, t := range c.TagsOr {
		for _, a := range c.TagsAnd {
			if t == a {
				return c, errs.New(errs.PushTagsOverlap, "tag %q is in both TagsAnd and TagsOr", t)
			}
		}
	}
	if !attrs {
		return c, nil
	}
	slots, _, err := s.attrSlots(ctx, app)
	if err != nil {
		return c, err
	}
	resolve := func(in map[string]string) (map[int]string, error) {
		if len(in) == 0 {
			return nil, nil
		}
		out := make(map[int]string, len(in))
		for name, v := range in {
			slot, ok := slots[name]
			if !ok {
				return nil, errs.New(errs.PushBadAttr, "attribute %.60q is not one of the app's attribute names", name)
			}
			if err := checkPushText("attribute value", v, MaxPushAttrValueLen, errs.PushBadAttr); err != nil {
				return nil, err
			}
			out[slot] = v
		}
		return out, nil
	}
	if c.AttrsAnd, err = resolve(req.AttrsAnd); err != nil {
		return c, err
	}
	c.AttrsOr, err = resolve(req.AttrsOr)
	return c, err
}

// newTaskID returns a TaskId: 24 random hex digits.
func newTaskID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxTaskIDLen bounds a TaskId taken from a request.
const maxTaskIDLen = 64

// PushTask returns a push task of the app with its progress; 90049 when the app
// has no task with that id.
func (s *Service) PushTask(ctx context.Context, app store.App, id string) (store.PushTask, error) {
	if id == "" || len(id) > maxTaskIDLen {
		return store.PushTask{}, errs.New(errs.PushTaskNotFound, "no push task %.64q", id)
	}
	t, err := s.store.PushTask(ctx, app.SDKAppID, id)
	if errors.Is(err, errs.ErrNotFound) {
		return store.PushTask{}, errs.New(errs.PushTaskNotFound, "no push task %.64q in app %d", id, app.SDKAppID)
	}
	if err != nil {
		return store.PushTask{}, storageErr(err)
	}
	return t, nil
}

// SetNode names this node in the claims of push tasks (store.Cluster): a task
// runs on the node that claims it, and moves to another only when that node
// released it or stopped renewing its claim. Call it before the first Push;
// nodes sharing a store need distinct names. Default "node".
func (s *Service) SetNode(id string) { s.pushes.node = id }

// ResumePushes starts the running tasks no node holds (each from its stored
// cursor; copies already written are not written twice): those left by a
// previous process of this node, and those of a node that died or stopped.
// Server start calls it, then WatchPushes calls it again and again.
func (s *Service) ResumePushes(ctx context.Context) error {
	tasks, err := s.store.RunningPushTasks(ctx)
	if err != nil {
		return storageErr(err)
	}
	for _, t := range tasks {
		s.pushes.start(s, t)
	}
	return nil
}

// WatchPushes calls ResumePushes every `every` (default PushLease) until ctx
// ends, so that the tasks of a node that died resume on another.
func (s *Service) WatchPushes(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = PushLease
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = s.ResumePushes(ctx) // a storage failure: the next tick tries again
	}
}

// StopPushes stops the running tasks after the page each is writing and waits for
// them; they stay "running" in the store and resume on the next start. Call it
// before closing the writer.
func (s *Service) StopPushes() { s.pushes.stop() }

// WaitPushes waits until no task is running in this process (for tests and tools).
func (s *Service) WaitPushes() { s.pushes.wg.Wait() }

// pushRunner runs push tasks: one goroutine per task, never per target.
type pushRunner struct {
	node  string        // this node's name in the claims (SetNode)
	lease time.Duration // PushLease unless a test lowers it

	mu      sync.Mutex
	stopped bool
	quit    chan struct{}
	running map[string]bool
	wg      sync.WaitGroup
}

func (r *pushRunner) start(s *Service, t store.PushTask) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.running[t.ID] {
		return
	}
	if r.quit == nil {
		r.quit = make(chan struct{})
		r.running = map[string]bool{}
	}
	r.running[t.ID] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.runClaimed(t, r.quit)
		r.mu.Lock()
		delete(r.running, t.ID)
		r.mu.Unlock()
	}()
}

func (r *pushRunner) stop() {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		if r.quit != nil {
			close(r.quit)
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// runClaimed runs task t if this node claims it, renewing the claim while it
// runs and releasing it after. The task is read again once claimed: another
// node may have advanced or finished it meanwhile.
func (s *Service) runClaimed(t store.PushTask, quit <-chan struct{}) {
	ctx := context.Background()
	node, lease := s.pushes.node, s.pushes.lease
	if node == "" {
		node = "node"
	}
	if lease <= 0 {
		lease = PushLease
	}
	if ok, err := s.store.ClaimPushTask(ctx, t.App, t.ID, node, time.Now(), lease); err != nil || !ok {
		return // another node runs it (or the store failed: the next scan tries again)
	}
	lost := make(chan struct{})
	var lostOnce sync.Once
	markLost := func() { lostOnce.Do(func() { close(lost) }) }
	stopRenew, renewed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stopRenew:
				return
			case <-tick.C:
			}
			ok, err := s.store.ClaimPushTask(ctx, t.App, t.ID, node, time.Now(), lease)
			if err == nil && !ok { // the lease ran out and another node took the task
				markLost()
				return
			}
		}
	}()
	defer func() {
		close(stopRenew)
		<-renewed
		select {
		case <-lost:
		default:
			_ = s.store.ReleasePushTask(ctx, t.App, t.ID, node) // a lost release: the lease runs out
		}
	}()
	cur, err := s.store.PushTask(ctx, t.App, t.ID)
	if err != nil || cur.State != store.PushRunning {
		return
	}
	// holds renews the claim now: false once another node took the task (a
	// storage error is not a loss: the background renewal tries again).
	holds := func() bool {
		select {
		case <-lost:
			return false
		default:
		}
		if ok, err := s.store.ClaimPushTask(ctx, t.App, t.ID, node, time.Now(), lease); err == nil && !ok {
			markLost()
			return false
		}
		return true
	}
	s.runPush(cur, quit, holds)
}

// runPush walks the task's targets page by page from its cursor and writes each
// page, until no target is left or quit. Stored pushes keep pushInFlight pages in
// the writer's queue (the next page is selected while one commits); the cursor and
// counts are recorded after each page is durable, in order, so the stored
// progress never runs ahead of what was written.
// Before it writes a page or ends the task it asks holds, and stops, like on
// quit, when another node took the task over.
func (s *Service) runPush(t store.PushTask, quit <-chan struct{}, holds func() bool) {
	ctx := context.Background()
	app, err := s.store.GetApp(ctx, t.App)
	if err != nil {
		s.finishPush(ctx, t, store.PushFailed, "reading the app failed: internal error")
		return
	}
	var pending []*pushPending
	after := t.Cursor // the last target selected (t.Cursor: the last one written)
	for {
		select {
		case <-quit:
			return // pages in flight still commit; a resume rewrites them idempotently
		default:
		}
		ids, err := s.store.PushTargets(ctx, t.App, t.Condition, after, PushPage)
		if err != nil {
			s.finishPush(ctx, t, store.PushFailed, "selecting targets failed: internal error")
			return
		}
		last := len(ids) < PushPage
		if len(ids) > 0 {
			after = ids[len(ids)-1]
			to, err := s.pushReachable(ctx, app, t.From, ids)
			if err != nil {
				s.finishPush(ctx, t, store.PushFailed, "checking blocklists failed: "+errs.Message(err))
				return
			}
			if !holds() {
				return // another node runs it now; pages in flight still commit
			}
			if t.Lifetime == 0 {
				pending = append(pending, s.pushOnline(t, ids, to))
			} else {
				pending = append(pending, s.submitPage(t, ids, to))
			}
		}
		for len(pending) > 0 && (len(pending) >= pushInFlight || last) {
			p := pending[0]
			<-p.done
			pending = pending[1:]
			if p.ok == 0 && p.err != nil {
				s.finishPush(ctx, t, store.PushFailed, "writing the messages failed: "+errs.Message(p.err))
				return
			}
			t.Cursor = p.ids[len(p.ids)-1]
			t.Targets += int64(len(p.ids))
			t.Delivered += p.ok
			if len(pending) > 0 || !last {
				t.UpdatedAt = s.clock.Now()
				_ = s.store.UpdatePushProgress(ctx, t) // a lost update only repeats a page, idempotently
			}
		}
		if last {
			if holds() {
				s.finishPush(ctx, t, store.PushDone, "")
			}
			return
		}
	}
}

// pushPending is one page of a task being written.
type pushPending struct {
	ids  []string
	left atomic.Int64 // operations not answered yet
	ok   int64        // answered without error (read after done)
	okN  atomic.Int64
	err  error // one failure, if any (read after done)
	mu   sync.Mutex
	done chan struct{}
}

func (s *Service) finishPush(ctx context.Context, t store.PushTask, state, why string) {
	t.State, t.Error = state, why
	t.UpdatedAt = s.clock.Now()
	t.DoneAt = t.UpdatedAt
	_ = s.store.UpdatePushProgress(ctx, t)
}

// pushOnline hands the task's message to the online devices of the users to of
// one page of targets (MsgLifeTime 0: nothing is stored); ok counts the users
// with a device.
func (s *Service) pushOnline(t store.PushTask, page, to []string) *pushPending {
	p := &pushPending{ids: page, done: make(chan struct{})}
	key := store.FormatMsgKey(t.MsgSeq, t.MsgRandom, t.MsgTime)
	now := s.clock.Now()
	ds := make([]bus.Delivery, 0, len(to))
	for _, u := range to {
		if len(s.bus.Devices(t.App, u)) == 0 {
			continue
		}
		e := &store.Entry{App: t.App, Owner: u, Kind: store.KindMsg, Peer: t.From, From: t.From, To: u,
			MsgSeq: t.MsgSeq, MsgRandom: t.MsgRandom, MsgTime: t.MsgTime, MsgKey: key, Body: t.Body, CreatedAt: now}
		ds = append(ds, bus.Delivery{App: t.App, User: u, Kind: bus.KindEntry, Entry: e})
		p.ok++
	}
	s.bus.Publish(ds)
	close(p.done)
	return p
}

// submitPage queues the task's copies for the users to of one page of targets
// in the writer (receivers' copies only, one MsgKey, expiring Lifetime after the
// push) and returns at once; done closes when every copy is answered. A copy
// already written (a resumed page) is answered as a duplicate and counts as
// delivered.
func (s *Service) submitPage(t store.PushTask, page, to []string) *pushPending {
	p := &pushPending{ids: page, done: make(chan struct{})}
	if len(to) == 0 {
		close(p.done)
		return p
	}
	p.left.Store(int64(len(to)))
	now := s.clock.Now()
	expires := time.Unix(t.MsgTime, 0).Add(t.Lifetime)
	for _, u := range to {
		op := store.Op{
			Kind: store.OpSend, App: t.App, From: t.From, To: u, MsgSeq: t.MsgSeq,
			ClientID: pushClientPrefix + t.ID + ":" + u, MsgRandom: t.MsgRandom, MsgTime: t.MsgTime,
			Body: t.Body, OnlyReceiver: true, Unread: true, At: now, ExpiresAt: expires,
		}
		s.writer.Submit(op, bus.Origin{}, func(res store.OpResult, err error) {
			if err == nil {
				err = res.Err
			}
			if err == nil {
				p.okN.Add(1)
			} else {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
			if p.left.Add(-1) == 0 {
				p.ok = p.okN.Load()
				close(p.done)
			}
		})
	}
	return p
}
