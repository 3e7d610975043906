package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// callbackTests cover store.Callbacks: configuration, the outbox (claims,
// leases, outcomes), the log, and the atomic appends of WithCallbacks and
// Op.Callback.
var callbackTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"CallbackConfig", testCallbackConfig},
	{"CallbackClaimFinish", testCallbackClaimFinish},
	{"CallbackLeases", testCallbackLeases},
	{"CallbackClaimOrderLimit", testCallbackClaimOrderLimit},
	{"CallbackClaimConcurrent", testCallbackClaimConcurrent},
	{"CallbackLogBounded", testCallbackLogBounded},
	{"CallbackWithCallbacks", testCallbackWithCallbacks},
	{"CallbackOpCallback", testCallbackOpCallback},
	{"CallbackOpCallbackGroups", testCallbackOpCallbackGroups},
	{"CallbackDeleteApp", testCallbackDeleteApp},
}

// cbEvent is an after-event of app created at t0 + sec seconds.
func cbEvent(app int64, name string, sec int) store.CallbackEvent {
	return store.CallbackEvent{
		App: app, Command: "C2C.CallbackAfterSendMsg", Body: []byte(`{"CallbackCommand":"C2C.CallbackAfterSendMsg","n":"` + name + `"}`),
		ClientIP: "10.0.0.1", Platform: "Web", CreatedAt: t0.Add(time.Duration(sec) * time.Second),
	}
}

func appendCB(t *testing.T, s store.Store, evs ...store.CallbackEvent) {
	t.Helper()
	if err := s.AppendCallbacks(ctx, evs); err != nil {
		t.Fatalf("AppendCallbacks: %v", err)
	}
}

func claimCB(t *testing.T, s store.Callbacks, app int64, node string, now time.Time, lease time.Duration, limit int) []store.CallbackEvent {
	t.Helper()
	evs, err := s.ClaimCallbacks(ctx, app, node, now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimCallbacks(%d, %s): %v", app, node, err)
	}
	return evs
}

func finishCB(t *testing.T, s store.Store, node string, outs []store.CallbackOutcome, log ...store.CallbackLogEntry) {
	t.Helper()
	if err := s.FinishCallbacks(ctx, node, outs, log); err != nil {
		t.Fatalf("FinishCallbacks: %v", err)
	}
}

func backlog(t *testing.T, s store.Store, app int64) int64 {
	t.Helper()
	n, err := s.CallbackBacklog(ctx, app)
	if err != nil {
		t.Fatalf("CallbackBacklog: %v", err)
	}
	return n
}

func dueApps(t *testing.T, s store.Store, now time.Time, limit int) []int64 {
	t.Helper()
	apps, err := s.DueCallbackApps(ctx, now, 0, limit)
	if err != nil {
		t.Fatalf("DueCallbackApps: %v", err)
	}
	if apps == nil {
		apps = []int64{}
	}
	return apps
}

// names returns the "n" of each event's body, in order.
func names(evs []store.CallbackEvent) []string {
	out := []string{}
	for _, e := range evs {
		b := string(e.Body)
		i := len(`{"CallbackCommand":"C2C.CallbackAfterSendMsg","n":"`)
		if len(b) > i+2 {
			out = append(out, b[i:len(b)-2])
		} else {
			out = append(out, b)
		}
	}
	return out
}

func testCallbackConfig(t *testing.T, s store.Store) {
	c, err := s.CallbackConfig(ctx, app1)
	if err != nil || !reflect.DeepEqual(c, store.CallbackConfig{}) {
		t.Fatalf("CallbackConfig of an app never set = %+v, %v; want the zero value", c, err)
	}
	want := store.CallbackConfig{URL: "https://example.com/cb?x=1", Token: "tok", Commands: []string{"C2C.CallbackAfterSendMsg", "Sns.CallbackFriendAdd"},
		UpdatedAt: t0.Add(1500 * time.Millisecond)}
	if err := s.SetCallbackConfig(ctx, app1, want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallbackConfig(ctx, app2, store.CallbackConfig{URL: "http://other", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if c, err = s.CallbackConfig(ctx, app1); err != nil || !reflect.DeepEqual(c, want) {
		t.Fatalf("CallbackConfig = %+v, %v; want %+v", c, err, want)
	}
	// Replaced whole: a zero URL turns callbacks off, no commands stay.
	off := store.CallbackConfig{UpdatedAt: t0.Add(time.Hour)}
	if err := s.SetCallbackConfig(ctx, app1, off); err != nil {
		t.Fatal(err)
	}
	if c, err = s.CallbackConfig(ctx, app1); err != nil || !reflect.DeepEqual(c, off) {
		t.Fatalf("CallbackConfig after replace = %+v, %v; want %+v", c, err, off)
	}
	if c, err = s.CallbackConfig(ctx, app2); err != nil || c.URL != "http://other" || c.Commands != nil || !c.UpdatedAt.Equal(t0) {
		t.Fatalf("the other app's config = %+v, %v", c, err)
	}
}

func testCallbackClaimFinish(t *testing.T, s store.Store) {
	now := t0.Add(time.Hour)
	later := cbEvent(app1, "later", 2)
	later.NextAt = now.Add(time.Minute)
	appendCB(t, s, cbEvent(app1, "a", 0), cbEvent(app1, "b", 1), later, cbEvent(app2, "x", 0))
	if n := backlog(t, s, app1); n != 3 {
		t.Fatalf("backlog = %d, want 3", n)
	}
	if got := dueApps(t, s, now, 10); !reflect.DeepEqual(got, []int64{app1, app2}) {
		t.Fatalf("due apps = %v", got)
	}
	if got := dueApps(t, s, now, 1); !reflect.DeepEqual(got, []int64{app1}) {
		t.Fatalf("due apps, limit 1 = %v", got)
	}
	// after: only apps with a greater SDKAppID (a dispatcher serving apps in turn).
	if got, err := s.DueCallbackApps(ctx, now, app1, 10); err != nil || !reflect.DeepEqual(got, []int64{app2}) {
		t.Fatalf("due apps after %d = %v, %v; want [%d]", app1, got, err, app2)
	}
	if got, err := s.DueCallbackApps(ctx, now, app2, 10); err != nil || len(got) != 0 {
		t.Fatalf("due apps after %d = %v, %v; want none", app2, got, err)
	}
	evs := claimCB(t, s, app1, "n1", now, time.Minute, 10)
	if !reflect.DeepEqual(names(evs), []string{"a", "b"}) {
		t.Fatalf("claimed %v, want [a b] (later is not due)", names(evs))
	}
	want := cbEvent(app1, "a", 0)
	want.ID = evs[0].ID
	if !reflect.DeepEqual(evs[0], want) {
		t.Fatalf("claimed event\n got  %+v\n want %+v", evs[0], want)
	}
	if evs[0].ID <= 0 || evs[1].ID <= evs[0].ID {
		t.Fatalf("ids %d, %d: want increasing in append order", evs[0].ID, evs[1].ID)
	}
	if again := claimCB(t, s, app1, "n2", now, time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed while held: %v", names(again))
	}
	if got := dueApps(t, s, now, 10); !reflect.DeepEqual(got, []int64{app2}) {
		t.Fatalf("due apps while app1's events are held = %v", got)
	}
	a, b := evs[0], evs[1]
	retryAt := now.Add(30 * time.Second)
	entry := store.CallbackLogEntry{App: app1, Command: a.Command, At: now.Add(time.Second), Millis: 12, Status: 200, Result: "ok", Attempt: 1, EventID: a.ID}
	// Another node's outcomes are ignored.
	finishCB(t, s, "n2", []store.CallbackOutcome{{ID: a.ID, App: app1, Done: true}})
	if n := backlog(t, s, app1); n != 3 {
		t.Fatalf("backlog after another node's outcome = %d, want 3", n)
	}
	finishCB(t, s, "n1", []store.CallbackOutcome{
		{ID: a.ID, App: app1, Done: true},
		{ID: b.ID, App: app1, NextAt: retryAt, Error: "HTTP 500"},
		{ID: a.ID + b.ID + 1000, App: app1, Done: true}, // gone: ignored
	}, entry)
	if n := backlog(t, s, app1); n != 2 {
		t.Fatalf("backlog after finish = %d, want 2", n)
	}
	if got := claimCB(t, s, app1, "n2", now, time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed before NextAt: %v", names(got))
	}
	got := claimCB(t, s, app1, "n2", retryAt, time.Minute, 10)
	if len(got) != 1 || got[0].ID != b.ID || got[0].Attempts != 1 || !got[0].NextAt.Equal(retryAt) || got[0].LastError != "HTTP 500" {
		t.Fatalf("retried event = %+v, want b with Attempts 1, NextAt and LastError", got)
	}
	got = claimCB(t, s, app1, "n1", later.NextAt, time.Minute, 10)
	if !reflect.DeepEqual(names(got), []string{"later"}) {
		t.Fatalf("claimed at later's NextAt: %v", names(got))
	}
	finishCB(t, s, "n2", []store.CallbackOutcome{{ID: b.ID, App: app1, Done: true}})
	finishCB(t, s, "n1", []store.CallbackOutcome{{ID: got[0].ID, App: app1, Done: true}})
	if n := backlog(t, s, app1); n != 0 {
		t.Fatalf("backlog when all are done = %d", n)
	}
	if n := backlog(t, s, app2); n != 1 {
		t.Fatalf("the other app's backlog = %d, want 1", n)
	}
	log, err := s.CallbackLog(ctx, app1, 10)
	if err != nil || len(log) != 1 || !reflect.DeepEqual(log[0], entry) {
		t.Fatalf("log = %+v, %v; want [%+v]", log, err, entry)
	}
}

func testCallbackLeases(t *testing.T, s store.Store) {
	now := t0.Add(time.Hour)
	appendCB(t, s, cbEvent(app1, "a", 0))
	evs := claimCB(t, s, app1, "n1", now, 10*time.Second, 10)
	if len(evs) != 1 {
		t.Fatalf("claimed %d", len(evs))
	}
	if got := claimCB(t, s, app1, "n2", now.Add(9999*time.Millisecond), time.Minute, 10); len(got) != 0 {
		t.Fatal("a live lease was taken over")
	}
	if got := dueApps(t, s, now.Add(10*time.Second), 10); !reflect.DeepEqual(got, []int64{app1}) {
		t.Fatalf("due apps when the lease expired = %v", got)
	}
	got := claimCB(t, s, app1, "n2", now.Add(10*time.Second), time.Minute, 10)
	if len(got) != 1 || got[0].ID != evs[0].ID || got[0].Attempts != 0 {
		t.Fatalf("expired lease not taken over: %+v", got)
	}
	// The first node no longer holds it: its outcome is ignored.
	finishCB(t, s, "n1", []store.CallbackOutcome{{ID: evs[0].ID, App: app1, Done: true}})
	if n := backlog(t, s, app1); n != 1 {
		t.Fatalf("backlog after the old holder's outcome = %d, want 1", n)
	}
	finishCB(t, s, "n2", []store.CallbackOutcome{{ID: evs[0].ID, App: app1, Done: true}})
	if n := backlog(t, s, app1); n != 0 {
		t.Fatalf("backlog = %d, want 0", n)
	}
}

func testCallbackClaimOrderLimit(t *testing.T, s store.Store) {
	now := t0.Add(time.Hour)
	for i := range 5 {
		appendCB(t, s, cbEvent(app1, fmt.Sprint(i), i))
	}
	first := claimCB(t, s, app1, "n1", now, time.Minute, 2)
	if !reflect.DeepEqual(names(first), []string{"0", "1"}) {
		t.Fatalf("first claim %v", names(first))
	}
	// A retried event that is due again comes back in id order.
	finishCB(t, s, "n1", []store.CallbackOutcome{{ID: first[0].ID, App: app1, NextAt: now.Add(time.Second), Error: "timeout"}})
	rest := claimCB(t, s, app1, "n2", now.Add(time.Second), time.Minute, 10)
	if !reflect.DeepEqual(names(rest), []string{"0", "2", "3", "4"}) {
		t.Fatalf("second claim %v", names(rest))
	}
	if got := claimCB(t, s, app1, "n3", now.Add(time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("third claim %v", names(got))
	}
}

// Claimers at once never get the same event, and together get all of them.
func testCallbackClaimConcurrent(t *testing.T, s store.Store) {
	ClaimConcurrently(t, []store.Store{s})
}

// ClaimConcurrently appends events and claims them from every store handle
// in handles at once (several goroutines each), checking that no event is
// handed out twice and that every one is handed out. The PostgreSQL tests run
// it with several handles on one database.
func ClaimConcurrently(t *testing.T, handles []store.Store) {
	const events, claimers = 120, 6
	s := handles[0]
	evs := make([]store.CallbackEvent, events)
	for i := range evs {
		evs[i] = cbEvent(app1, fmt.Sprint(i), i)
	}
	appendCB(t, s, evs...)
	now := t0.Add(time.Hour)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[c%len(handles)]
			node := fmt.Sprintf("node%d", c)
			<-start
			for {
				got, err := h.ClaimCallbacks(ctx, app1, node, now, time.Minute, 7)
				if err != nil {
					t.Errorf("%s: ClaimCallbacks: %v", node, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					if other, dup := seen[e.ID]; dup {
						t.Errorf("event %d claimed by %s and %s", e.ID, other, node)
					}
					seen[e.ID] = node
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(seen) != events {
		t.Fatalf("%d events claimed, want %d", len(seen), events)
	}
}

func testCallbackLogBounded(t *testing.T, s store.Store) {
	at := t0
	entry := func(app int64, i int) store.CallbackLogEntry {
		return store.CallbackLogEntry{App: app, Command: "C2C.CallbackAfterSendMsg", At: at.Add(time.Duration(i) * time.Second),
			Millis: int64(i), Status: 500, Result: "failed", Error: fmt.Sprint("err ", i), Attempt: 1 + i%3, EventID: int64(i)}
	}
	var batch []store.CallbackLogEntry
	for i := range 150 {
		batch = append(batch, entry(app1, i))
	}
	finishCB(t, s, "n1", nil, batch...)
	finishCB(t, s, "n1", nil, entry(app2, 0))
	batch = batch[:0]
	for i := 150; i < 260; i++ {
		batch = append(batch, entry(app1, i))
	}
	finishCB(t, s, "n1", nil, batch...)
	log, err := s.CallbackLog(ctx, app1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != store.MaxCallbackLog {
		t.Fatalf("log holds %d entries, want %d", len(log), store.MaxCallbackLog)
	}
	for i, l := range log {
		if want := entry(app1, 259-i); !reflect.DeepEqual(l, want) {
			t.Fatalf("log[%d] = %+v, want %+v (newest first)", i, l, want)
		}
	}
	if log, err = s.CallbackLog(ctx, app1, 3); err != nil || len(log) != 3 || log[0].EventID != 259 {
		t.Fatalf("log, limit 3 = %+v, %v", log, err)
	}
	if log, err = s.CallbackLog(ctx, app2, 10); err != nil || len(log) != 1 {
		t.Fatalf("the other app's log = %+v, %v", log, err)
	}
}

func testCallbackWithCallbacks(t *testing.T, s store.Store) {
	ev := cbEvent(app1, "friend", 0)
	cctx := store.WithCallbacks(ctx, ev)
	snsUsers(t, s, app1, "a", "b", "c", "d", "e", "f")
	if _, err := s.AddFriends(ctx, app1, both("a", "b", 1), 1); err != nil {
		t.Fatal(err)
	}
	// A method that fails appends nothing.
	if _, err := s.AddFriends(cctx, app1, both("a", "c", 2), 1); !isErr(err, errs.ErrLimit) {
		t.Fatalf("AddFriends at the limit: %v, want ErrLimit", err)
	}
	if n := backlog(t, s, app1); n != 0 {
		t.Fatalf("backlog after a failed method = %d, want 0", n)
	}
	// One that succeeds appends once; a later transaction under ctx appends no more.
	if n, err := s.AddFriends(cctx, app1, both("c", "d", 2), 1); err != nil || n != 2 {
		t.Fatalf("AddFriends = %d, %v", n, err)
	}
	if n := backlog(t, s, app1); n != 1 {
		t.Fatalf("backlog = %d, want 1", n)
	}
	if _, err := s.AddFriends(cctx, app1, both("e", "f", 2), 1); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, s, app1); n != 1 {
		t.Fatalf("backlog after a second transaction under ctx = %d, want 1", n)
	}
	got := claimCB(t, s, app1, "n1", t0.Add(time.Hour), time.Minute, 10)
	if len(got) != 1 || got[0].Command != ev.Command || string(got[0].Body) != string(ev.Body) {
		t.Fatalf("claimed %+v", got)
	}
	// A message batch is a write transaction too.
	if _, err := s.Apply(store.WithCallbacks(ctx, cbEvent(app1, "batch", 1)), []store.Op{send("a", "b", 1, "m1")}); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, s, app1); n != 2 {
		t.Fatalf("backlog after Apply under WithCallbacks = %d, want 2", n)
	}
	// So is the deletion of a group's log (the message engine's, embedded).
	applyOK(t, s, gsend("G", "alice", 1, ""))
	if err := s.DeleteGroupLog(store.WithCallbacks(ctx, cbEvent(app1, "disband", 2)), app1, "G"); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, s, app1); n != 3 {
		t.Fatalf("backlog after DeleteGroupLog under WithCallbacks = %d, want 3", n)
	}
	got = claimCB(t, s, app1, "n1", t0.Add(time.Hour), time.Minute, 10)
	if !reflect.DeepEqual(names(got), []string{"batch", "disband"}) {
		t.Fatalf("claimed %v, want [batch disband]", names(got))
	}
}

// onSend makes op append an event naming its first entry.
func onSend(op store.Op, name string) store.Op {
	op.Callback = func(first store.Entry) (store.CallbackEvent, bool) {
		ev := cbEvent(first.App, name, 0)
		ev.Body = []byte(fmt.Sprintf(`{"n":%q,"owner":%q,"seq":%d,"key":%q,"group":%q,"kind":%q}`,
			name, first.Owner, first.Seq, first.MsgKey, first.Group, first.Kind))
		return ev, true
	}
	return op
}

func testCallbackOpCallback(t *testing.T, s store.Store) {
	skip := send("a", "b", 3, "c3")
	skip.Callback = func(store.Entry) (store.CallbackEvent, bool) { return store.CallbackEvent{}, false }
	res := apply(t, s,
		onSend(send("a", "b", 1, "c1"), "first"),
		onSend(send("a", "b", 2, "c1"), "dup-in-batch"), // same ClientID: a Duplicate
		skip,
		onSend(recall("a", "b", "9_9_9", 4), "unknown-recall"), // fails
		onSend(read("b", "a", t0.Unix(), 5), "read"),
		send("a", "b", 6, "c6"), // no callback
	)
	if res[0].Err != nil || res[1].Duplicate != true || res[3].Err == nil {
		t.Fatalf("results %+v", res)
	}
	evs := claimCB(t, s, app1, "n1", t0.Add(time.Hour), time.Minute, 10)
	want := []string{
		fmt.Sprintf(`{"n":"first","owner":"a","seq":1,"key":%q,"group":"","kind":"msg"}`, res[0].Entries[0].MsgKey),
		`{"n":"read","owner":"b","seq":3,"key":"","group":"","kind":"read"}`,
	}
	if len(evs) != len(want) {
		t.Fatalf("events %d, want %d: %+v", len(evs), len(want), evs)
	}
	for i, e := range evs {
		if string(e.Body) != want[i] {
			t.Fatalf("event %d body %s, want %s", i, e.Body, want[i])
		}
	}
	// A retry in a later batch is a Duplicate: no event.
	res = apply(t, s, onSend(send("a", "b", 1, "c1"), "retry"))
	if !res[0].Duplicate {
		t.Fatalf("retry: %+v", res[0])
	}
	if n := backlog(t, s, app1); n != 2 {
		t.Fatalf("backlog after a retried send = %d, want 2", n)
	}
}

func testCallbackOpCallbackGroups(t *testing.T, s store.Store) {
	first := apply(t, s,
		onSend(gsend("G", "alice", 1, "g1"), "gsend"),
		onSend(gsend("G", "alice", 2, "g1"), "gdup"),
		onSend(store.Op{Kind: store.OpGroupTips, App: app1, Group: "G", Body: []byte(`{}`), At: t0}, "tips"),
	)
	if first[0].Err != nil || !first[1].Duplicate || first[2].Err != nil {
		t.Fatalf("results %+v", first)
	}
	res := apply(t, s,
		onSend(store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", From: "admin", MsgSeq: 1, At: t0}, "recall"),
		onSend(store.Op{Kind: store.OpGroupRecall, App: app1, Group: "G", From: "admin", MsgSeq: 99, At: t0}, "recall-unknown"),
	)
	if res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("recall results %+v", res)
	}
	recalled := res[0].Entries[0]
	evs := claimCB(t, s, app1, "n1", t0.Add(time.Hour), time.Minute, 10)
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Body))
	}
	body := func(name string, e store.Entry) string {
		return fmt.Sprintf(`{"n":%q,"owner":"","seq":%d,"key":%q,"group":"G","kind":%q}`, name, e.Seq, e.MsgKey, e.Kind)
	}
	want := []string{body("gsend", first[0].Entries[0]), body("tips", first[2].Entries[0]), body("recall", recalled)}
	if recalled.Seq != 3 || recalled.Kind != store.KindRecall {
		t.Fatalf("recall entry %+v", recalled)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("group events\n got  %v\n want %v", got, want)
	}
}

func testCallbackDeleteApp(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	doomed := createApp(t, s, "acc1", "doomed", 0).SDKAppID
	kept := createApp(t, s, "acc1", "kept", 0).SDKAppID
	for _, app := range []int64{doomed, kept} {
		if err := s.SetCallbackConfig(ctx, app, store.CallbackConfig{URL: "https://x", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		appendCB(t, s, cbEvent(app, "rel", 0))
		op := onSend(send("a", "b", 1, "c1"), "msg")
		op.App = app
		applyOK(t, s, op)
		finishCB(t, s, "n1", nil, store.CallbackLogEntry{App: app, Command: "x", At: t0, Result: "ok"})
	}
	if n := backlog(t, s, doomed); n != 2 {
		t.Fatalf("backlog = %d, want 2", n)
	}
	claimCB(t, s, doomed, "n1", t0.Add(time.Hour), time.Minute, 1)
	if err := s.DeleteApp(ctx, doomed, t0); err != nil {
		t.Fatal(err)
	}
	c, err := s.CallbackConfig(ctx, doomed)
	if err != nil || !reflect.DeepEqual(c, store.CallbackConfig{}) {
		t.Fatalf("config after DeleteApp = %+v, %v", c, err)
	}
	if n := backlog(t, s, doomed); n != 0 {
		t.Fatalf("backlog after DeleteApp = %d", n)
	}
	if log, err := s.CallbackLog(ctx, doomed, 10); err != nil || len(log) != 0 {
		t.Fatalf("log after DeleteApp = %+v, %v", log, err)
	}
	if got := claimCB(t, s, doomed, "n2", t0.Add(2*time.Hour), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed after DeleteApp: %+v", got)
	}
	if got := dueApps(t, s, t0.Add(2*time.Hour), 10); !reflect.DeepEqual(got, []int64{kept}) {
		t.Fatalf("due apps after DeleteApp = %v", got)
	}
	if n := backlog(t, s, kept); n != 2 {
		t.Fatalf("the other app's backlog = %d, want 2", n)
	}
	if log, err := s.CallbackLog(ctx, kept, 10); err != nil || len(log) != 1 {
		t.Fatalf("the other app's log = %+v, %v", log, err)
	}
}
