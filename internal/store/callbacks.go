package store

import (
	"context"
	"sync"
	"time"
)

// CallbackConfig is an app's third-party callback settings (reference §6,
// product.md §6): where events go, the authentication token that signs them,
// and which events are on. The zero value is "callbacks off".
type CallbackConfig struct {
	URL       string   // absolute http(s) URL; "" turns every callback off
	Token     string   // callback authentication token; "" sends no Sign
	Commands  []string // the CallbackCommand names that are on, sorted, no repeats
	UpdatedAt time.Time
}

// CallbackEvent is one after-event in the durable callback outbox: delivered
// at least once to the app's callback URL, then removed.
type CallbackEvent struct {
	ID        int64 // set by the store: increasing in the order events are appended
	App       int64
	Command   string // CallbackCommand, e.g. "C2C.CallbackAfterSendMsg"
	Body      []byte // the complete JSON body sent (it holds CallbackCommand itself)
	ClientIP  string // query parameter ClientIP
	Platform  string // query parameter OptPlatform
	CreatedAt time.Time
	Attempts  int       // failed deliveries so far
	NextAt    time.Time // not delivered before this time
	LastError string    // why the last attempt failed ("" before the first)
}

// CallbackOutcome is what one claimed event's delivery came to: Done removes
// it from the outbox; otherwise it is retried at NextAt with Attempts+1 and
// LastError = Error, and the claim ends.
type CallbackOutcome struct {
	ID     int64
	App    int64
	Done   bool
	NextAt time.Time
	Error  string
}

// CallbackLogEntry records one callback request (an after-event delivery
// attempt or a before-event decision), for `chatd app callback log`.
type CallbackLogEntry struct {
	App     int64
	Command string
	At      time.Time
	Millis  int64  // how long the request took
	Status  int    // the HTTP status, 0 when there was no answer
	Result  string // "ok", "rejected" (a before-event refused), "failed", "timeout"
	Error   string // why it failed, for the operator (never sent to clients)
	Attempt int    // 1 for the first attempt of an event
	EventID int64  // the outbox event (0 for a before-event)
}

// MaxCallbackLog bounds the log kept per app: older entries are removed.
const MaxCallbackLog = 200

// Callbacks stores the callback configuration of apps, their durable outbox
// of after-events and the log of recent requests.
//
// After-events are appended atomically with the change that causes them:
// through WithCallbacks (the next write transaction of a store method),
// WithCallbacksFor (events made from the items a method applied) or
// Op.Callback (a write batch of Messages.Apply). Events of a deleted app are
// dropped, never appended (DeleteApp's own included). AppendCallbacks appends in a
// transaction of its own, for events with no stored change (logins, live rooms).
type Callbacks interface {
	// SetCallbackConfig replaces the app's configuration (a zero URL turns
	// callbacks off; events already in the outbox stay).
	SetCallbackConfig(ctx context.Context, app int64, c CallbackConfig) error
	// CallbackConfig returns the app's configuration; the zero value, nil when
	// none was ever set.
	CallbackConfig(ctx context.Context, app int64) (CallbackConfig, error)

	// AppendCallbacks appends events to the outbox in one transaction.
	AppendCallbacks(ctx context.Context, evs []CallbackEvent) error
	// DueCallbackApps lists at most limit apps with SDKAppID > after that have
	// events due at now (NextAt <= now) and not claimed by a live lease, by
	// SDKAppID (a caller serving apps in turn passes the last one it served,
	// then 0 to wrap around).
	DueCallbackApps(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error)
	// ClaimCallbacks gives node the app's oldest due events (by ID) that no
	// other node holds, at most limit, until now+lease. Two nodes claiming at
	// once never get the same event; an expired lease is taken over.
	ClaimCallbacks(ctx context.Context, app int64, node string, now time.Time, lease time.Duration, limit int) ([]CallbackEvent, error)
	// FinishCallbacks records outcomes of node's claimed events and appends log
	// entries (keeping the newest MaxCallbackLog per app), in one transaction.
	// An outcome of an event node no longer holds, or that is gone, is ignored.
	FinishCallbacks(ctx context.Context, node string, outs []CallbackOutcome, log []CallbackLogEntry) error
	// CallbackLog returns the app's newest log entries, newest first, at most limit.
	CallbackLog(ctx context.Context, app int64, limit int) ([]CallbackLogEntry, error)
	// CallbackBacklog counts the app's events in the outbox.
	CallbackBacklog(ctx context.Context, app int64) (int64, error)
}

// PendingCallbacks are after-events carried by a context to the next write
// transaction of a store method (WithCallbacks).
type PendingCallbacks struct {
	mu      sync.Mutex
	evs     []CallbackEvent
	written bool
}

type pendingKey struct{}

// WithCallbacks returns ctx carrying after-events: the first write
// transaction that a store method commits under it appends them to the outbox
// in that same transaction, so the change and its events are durable together
// or not at all. A method that fails (rolls back) appends nothing, and a later
// transaction under the same ctx does not append them again. No events: ctx.
func WithCallbacks(ctx context.Context, evs ...CallbackEvent) context.Context {
	if len(evs) == 0 {
		return ctx
	}
	return context.WithValue(ctx, pendingKey{}, &PendingCallbacks{evs: evs})
}

// CallbacksOf returns the events ctx carries that no transaction wrote yet
// (nil when none), and commit, which a store calls once its transaction that
// wrote them has committed. Stores call it in each write transaction.
func CallbacksOf(ctx context.Context) (evs []CallbackEvent, commit func()) {
	p, _ := ctx.Value(pendingKey{}).(*PendingCallbacks)
	if p == nil {
		return nil, func() {}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return nil, func() {}
	}
	return p.evs, func() {
		p.mu.Lock()
		p.written = true
		p.mu.Unlock()
	}
}

// AppliedCallbacks is a function carried by a context to the store method
// that applies items (WithCallbacksFor).
type AppliedCallbacks struct {
	mu      sync.Mutex
	build   func(applied []string) []CallbackEvent
	written bool
}

type appliedKey struct{}

// WithCallbacksFor returns ctx carrying build, which makes after-events of
// the items a store method applied, for changes where only the store knows
// which items it applies. A method that says so calls build inside its write
// transaction with the items it applied, in the order given to it, and
// appends the events build returns in that same transaction (after those of
// WithCallbacks): nothing when it applied none or fails (rolls back). The
// methods that say so:
//   - Groups.AddGroupMembers: the UserIDs it added;
//   - Groups.RemoveGroupMembers: the GroupID, when the removal disbanded the group;
//   - SNS.AddBlocks: the peers it blocked.
//
// Other methods ignore it. Once a transaction that appended build's events
// committed, no later one under ctx calls build again. build runs inside the
// transaction: it must be quick and must not call the store. nil build: ctx.
func WithCallbacksFor(ctx context.Context, build func(applied []string) []CallbackEvent) context.Context {
	if build == nil {
		return ctx
	}
	return context.WithValue(ctx, appliedKey{}, &AppliedCallbacks{build: build})
}

// AppliedCallbacksOf returns the events that ctx's build (WithCallbacksFor)
// makes of applied, and commit, which a store calls once the transaction that
// wrote them has committed. Nil events when ctx carries no build, its events
// were written already, or applied is empty. Stores call it inside the
// transaction of a method that documents its applied items.
func AppliedCallbacksOf(ctx context.Context, applied []string) (evs []CallbackEvent, commit func()) {
	p, _ := ctx.Value(appliedKey{}).(*AppliedCallbacks)
	if p == nil || len(applied) == 0 {
		return nil, func() {}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return nil, func() {}
	}
	evs = p.build(applied)
	if len(evs) == 0 {
		return nil, func() {}
	}
	return evs, func() {
		p.mu.Lock()
		p.written = true
		p.mu.Unlock()
	}
}
