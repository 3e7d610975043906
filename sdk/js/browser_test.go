package js_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
)

// Two pages log in; a message sent from one arrives in the other, and the
// sender's copy is in its own log, in order.
func TestBrowserLoginAndMessage(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob := b.open("alice"), b.open("bob")
	info := alice.login(n, "alice", 0)
	if info.ConnID == "" || info.Edition != "trial" || info.Reconnect || info.Seq != 0 {
		t.Fatalf("alice's login: %+v", info)
	}
	if !slices.Contains(info.Features, "local_search") {
		t.Errorf("login features %v lack Free Trial's local_search", info.Features)
	}
	bob.login(n, "bob", 0)
	if st := eval[string](alice, "t.c.state"); st != "online" {
		t.Fatalf("alice's state %q", st)
	}

	if caps := eval[loginInfo](alice, "t.c.capabilities"); caps.Edition != "trial" || !slices.Equal(caps.Features, info.Features) {
		t.Fatalf("capabilities %+v, login %+v", caps, info)
	}
	a := eval[ack](alice, `t.c.sendText('bob', 'hello bob', {clientMsgId: 'm-1', cloudCustomData: 'cd-1'})`)
	if a.Seq != 1 || a.Duplicate || a.MsgKey == "" || a.ClientMsgID != "m-1" {
		t.Fatalf("ack %+v", a)
	}
	bob.wait("alice's message", "t.entries.length === 1")
	got := bob.entries()[0]
	if got.Seq != 1 || got.Kind != "msg" || got.From != "alice" || got.Peer != "alice" || got.text() != "hello bob" ||
		got.MsgKey != a.MsgKey || got.ClientMsgID != "m-1" || got.CustomData != "cd-1" {
		t.Fatalf("bob got %+v", got)
	}
	alice.wait("alice's copy", "t.entries.length === 1")
	if own := alice.entries()[0]; own.Seq != a.Seq || own.To != "bob" || own.MsgKey != a.MsgKey {
		t.Fatalf("alice's copy %+v, ack %+v", own, a)
	}
	// And back, with a generated client_msg_id.
	r := eval[ack](bob, `t.c.sendText('alice', 'hi alice')`)
	if len(r.ClientMsgID) != 32 || r.Seq != 2 {
		t.Fatalf("bob's ack %+v", r)
	}
	alice.wait("bob's answer", "t.entries.length === 2")
	es := alice.entries()
	checkLog(t, "alice", es)
	if fmt.Sprint(texts(es)) != "[hello bob hi alice]" || es[1].ClientMsgID != r.ClientMsgID {
		t.Fatalf("alice's log %+v", es)
	}
	if applied := eval[int64](alice, "t.c.applied"); applied != 2 {
		t.Fatalf("alice's applied %d", applied)
	}

	// Any other op goes through request; pushes the SDK does not handle come as "push".
	convs := eval[[]struct{ Peer string }](alice, `t.c.request({op: 'conv_list'}).then((r) => r.convs)`)
	if len(convs) != 1 || convs[0].Peer != "bob" {
		t.Fatalf("conv_list: %+v", convs)
	}
	alice.do(`t.c.request({op: 'set_status', custom_status: 'busy'})`)
	alice.wait("the status push", "t.pushes.some((f) => f.op === 'status' && f.custom_status === 'busy' && f.user === 'alice')")
	if code := eval[int](alice, `t.c.request({op: 'set_status', custom_status: 'x'.repeat(101)}).then(() => 0, (e) => e.code)`); code != 70402 {
		t.Fatalf("a custom status of 101 bytes: %d, want 70402", code)
	}

	// A read report without a time reads up to now.
	bob.do("t.c.markRead('alice')")
	alice.wait("bob's read report", "t.entries.some((e) => e.kind === 'read')")
	for _, e := range alice.entries() {
		if e.Kind == "read" && (e.From != "bob" || e.ReadTime < r.MsgTime) {
			t.Fatalf("read report %+v (bob's message at %d)", e, r.MsgTime)
		}
	}
}

// A refused first login rejects connect with the server's code and closes the
// client; a reconnect refused for the session limit (60018) is retried; one
// refused otherwise ends the client with an "error" event and no reconnect.
func TestBrowserLoginRefusals(t *testing.T) {
	n := startNodeWith(t, gateway.Limits{SessionsPerUser: 1})
	b := newBrowser(t, n)
	carol := b.open("carol")
	if code := eval[int](carol, fmt.Sprintf(`t.start({url: %q, sdkAppID: %d, user: 'carol', userSig: %q}).then(() => 0, (e) => e.code)`,
		n.wsURL(), n.app.SDKAppID, n.sig("bob"))); code != 70013 {
		t.Fatalf("carol's login with bob's sig: %d, want 70013", code)
	}
	if st := eval[string](carol, "t.c.state"); st != "closed" {
		t.Fatalf("carol's state %q", st)
	}

	// bob's sig comes from a function, called at each login; t.gate holds it.
	bob := b.open("bob")
	bob.do(fmt.Sprintf(`t.sig = %q; t.sigCalls = 0; t.gate = Promise.resolve();
		t.start({url: %q, sdkAppID: %d, user: 'bob', userSig: async () => { t.sigCalls++; await t.gate; return t.sig; }})`,
		n.sig("bob"), n.wsURL(), n.app.SDKAppID))
	bob.do("t.gate = new Promise((r) => { t.open = r; }); t.drop()")
	bob.wait("the reconnect to ask for a sig", "t.sigCalls === 2")
	deadline := time.Now().Add(5 * time.Second)
	for len(n.s.Gateway.Devices(n.app.SDKAppID, "bob")) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("bob's first session did not end")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	other, err := client.Dial(ctx, n.wsURL(), client.Options{SDKAppID: n.app.SDKAppID, User: "bob", UserSig: n.sig("bob"), Platform: "Web"})
	if err != nil {
		t.Fatal(err)
	}
	bob.do("t.open()")
	bob.wait("two refused logins", "t.sigCalls >= 4")
	if st := eval[string](bob, "t.c.state"); st == "online" || st == "closed" {
		t.Fatalf("bob's state %q while the other session holds the limit", st)
	}
	other.Close()
	bob.wait("the login once the other session ended", "t.c.state === 'online' && t.onlines.length === 2")
	if errs := eval[[]string](bob, "t.errors"); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}

	bob.do("t.sig = 'not a sig'; t.drop()")
	bob.wait("the refused login to end the client", "t.c.state === 'closed'")
	if errs := eval[[]string](bob, "t.errors"); len(errs) != 1 || !strings.HasPrefix(errs[0], "70003 ") {
		t.Fatalf("errors %v, want one 70003", errs)
	}
	// Once its last connection's close event has been handled, a closed client
	// has decided not to reconnect: no disconnected event, no new connection.
	disconnects := eval[int](bob, "t.disconnects.length")
	bob.wait("the last connection's close event", "t.closes === t.sockets")
	if d := eval[int](bob, "t.disconnects.length"); d != disconnects || eval[string](bob, "t.c.state") != "closed" || eval[bool](bob, "t.c._timer !== null && t.c._timer !== undefined") {
		t.Fatalf("a closed client planned a reconnect: %d disconnected events, state %q", d-disconnects, eval[string](bob, "t.c.state"))
	}
}

// A message sent while the receiver is offline reaches it by sync when it
// comes back with the seq it had; what it had is not delivered again.
func TestBrowserOfflineReceiverSyncs(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob := b.open("alice"), b.open("bob")
	alice.login(n, "alice", 0)
	bob.login(n, "bob", 0)
	eval[ack](alice, `t.c.sendText('bob', 'before')`)
	bob.wait("the first message", "t.entries.length === 1")
	bob.do("t.c.close()")
	if st := eval[string](bob, "t.c.state"); st != "closed" {
		t.Fatalf("bob's state after close: %q", st)
	}
	after := eval[int64](bob, "t.c.applied")
	if code := eval[int](bob, `t.c.sendText('alice', 'x').then(() => 0, (e) => e.code)`); code != -1 {
		t.Fatalf("a send of a closed client: %d, want -1", code)
	}
	eval[ack](alice, `t.c.sendText('bob', 'away 1')`)
	eval[ack](alice, `t.c.sendText('bob', 'away 2')`)

	info := bob.login(n, "bob", after)
	if info.Seq != 3 {
		t.Fatalf("bob's login seq %d, want 3", info.Seq)
	}
	bob.wait("the sync", "t.synced >= 1 && t.entries.length >= 3")
	es := bob.entries()
	checkLog(t, "bob", es)
	if fmt.Sprint(texts(es)) != "[before away 1 away 2]" || es[0].Seq != 1 {
		t.Fatalf("bob's log %+v", es)
	}
	// A new client with after -1 skips the history.
	bob.do("t.c.close(); t.entries = []; t.synced = 0")
	bob.do(fmt.Sprintf("t.start({url: %q, sdkAppID: %d, user: 'bob', userSig: %q, after: -1})", n.wsURL(), n.app.SDKAppID, n.sig("bob")))
	eval[ack](alice, `t.c.sendText('bob', 'new')`)
	bob.wait("the new message", "t.entries.length === 1")
	if es := bob.entries(); es[0].Seq != 4 || es[0].text() != "new" {
		t.Fatalf("bob after -1: %+v", es)
	}

	// A listener that closes the client stops the delivery of the sync's page.
	bob.do("t.c.close(); t.entries = []; t.synced = 0")
	bob.do(fmt.Sprintf("const p = t.start({url: %q, sdkAppID: %d, user: 'bob', userSig: %q}); t.c.on('entry', () => t.c.close()); p",
		n.wsURL(), n.app.SDKAppID, n.sig("bob")))
	bob.wait("the close", "t.c.state === 'closed'")
	if es, applied := bob.entries(), eval[int64](bob, "t.c.applied"); len(es) != 1 || applied != 1 {
		t.Fatalf("after a close in a listener: %d entries, applied %d", len(es), applied)
	}
	if code := eval[int](bob, "t.c.connect().then(() => 0, (e) => e.code)"); code != -1 {
		t.Fatalf("connect of a closed client: %d", code)
	}
}

// A send repeated with its client_msg_id is answered duplicate and delivered
// once; a send whose reply was lost is resent after the reconnect with the same
// client_msg_id, answered duplicate with the original msg_key, and delivered once.
func TestBrowserDuplicateSend(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob := b.open("alice"), b.open("bob")
	alice.login(n, "alice", 0)
	bob.login(n, "bob", 0)

	first := eval[ack](alice, `t.c.sendText('bob', 'once', {clientMsgId: 'dup-1'})`)
	again := eval[ack](alice, `t.c.sendText('bob', 'once', {clientMsgId: 'dup-1'})`)
	if first.Duplicate || !again.Duplicate || again.MsgKey != first.MsgKey {
		t.Fatalf("first %+v, again %+v", first, again)
	}

	// The reply to this send never reaches the SDK; the message is stored.
	alice.do(`t.filter = (f) => f.op === 'send'`)
	alice.do(`t.send('lost', 'bob', 'lost reply', 'dup-2')`)
	bob.wait("the message whose reply is lost", "t.texts().includes('lost reply')")
	alice.wait("the reply to be dropped", "t.dropped === 1")
	if v := eval[*ack](alice, "t.acks.lost"); v != nil {
		t.Fatalf("the send was answered: %+v", v)
	}
	alice.do("t.filter = null; t.drop()")
	alice.wait("the resent send's answer", "t.acks.lost !== null")
	lost := eval[ack](alice, "t.acks.lost")
	var bobs entry
	for _, e := range bob.entries() {
		if e.ClientMsgID == "dup-2" {
			bobs = e
		}
	}
	if !lost.Duplicate || lost.MsgKey != bobs.MsgKey || lost.Error != 0 {
		t.Fatalf("resent send: %+v, bob's copy %+v", lost, bobs)
	}
	if s := eval[int](alice, "t.sockets"); s != 2 {
		t.Fatalf("alice opened %d connections, want 2", s)
	}

	eval[ack](alice, `t.c.sendText('bob', 'marker')`)
	bob.wait("the marker", "t.texts().includes('marker')")
	es := bob.entries()
	checkLog(t, "bob", es)
	if fmt.Sprint(texts(es)) != "[once lost reply marker]" {
		t.Fatalf("bob's log %+v", es)
	}
	// Alice's own copy of the message whose reply was lost came by the resync.
	alice.wait("alice's copies", "t.entries.length === 3")
	mine := alice.entries()
	checkLog(t, "alice", mine)
	if fmt.Sprint(texts(mine)) != "[once lost reply marker]" {
		t.Fatalf("alice's log %+v", mine)
	}
}

// A read report and a recall reach the peer as entries; a sync shows the
// recalled message without its body.
func TestBrowserReadAndRecall(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob := b.open("alice"), b.open("bob")
	alice.login(n, "alice", 0)
	bob.login(n, "bob", 0)
	a := eval[ack](alice, `t.c.sendText('bob', 'oops')`)
	bob.wait("the message", "t.entries.length === 1")

	bob.do(fmt.Sprintf("t.c.markRead('alice', %d)", a.MsgTime))
	alice.wait("bob's read report", "t.entries.some((e) => e.kind === 'read')")
	var read entry
	for _, e := range alice.entries() {
		if e.Kind == "read" {
			read = e
		}
	}
	if read.From != "bob" || read.Peer != "bob" || read.ReadTime != a.MsgTime {
		t.Fatalf("read report %+v (message at %d)", read, a.MsgTime)
	}

	alice.do(fmt.Sprintf("t.c.recall('bob', %q)", a.MsgKey))
	bob.wait("the recall", "t.entries.some((e) => e.kind === 'recall')")
	es := bob.entries()
	checkLog(t, "bob", es)
	if r := es[len(es)-1]; r.Kind != "recall" || r.MsgKey != a.MsgKey || r.From != "alice" || r.Peer != "alice" {
		t.Fatalf("recall entry %+v", r)
	}
	// Errors of the server reject with their code.
	if code := eval[int](alice, `t.c.recall('bob', 'not-a-key').then(() => 0, (e) => e.code)`); code != 70402 {
		t.Fatalf("recall of a malformed key: %d, want 70402", code)
	}

	// Synced again from the start, the message is recalled and has no body.
	bob.do("t.c.close(); t.entries = []; t.synced = 0")
	bob.login(n, "bob", 0)
	bob.wait("the sync", "t.synced >= 1")
	es = bob.entries()
	checkLog(t, "bob", es)
	if len(es) < 1 || es[0].MsgKey != a.MsgKey || !es[0].Recalled || len(es[0].Body) != 0 {
		t.Fatalf("synced log %+v", es)
	}
}

// A dropped connection reconnects with backoff; a kick ends the client with
// its reason and it does not reconnect; its sends then reject.
func TestBrowserKick(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	bob := b.open("bob")
	bob.login(n, "bob", 0)

	bob.do("t.drop()")
	bob.wait("the reconnect", "t.onlines.length === 2 && t.c.state === 'online'")
	if re := eval[bool](bob, "t.onlines[1].reconnect"); !re || eval[int](bob, "t.sockets") != 2 {
		t.Fatal("the dropped connection did not reconnect as one new connection")
	}

	n.rest("im_open_login_svc/kick", map[string]string{"UserID": "bob"})
	bob.wait("the kick", "t.kicks.length === 1 && t.c.state === 'kicked'")
	if reason := eval[string](bob, "t.kicks[0].reason"); reason != im.KickedByBackend {
		t.Fatalf("kick reason %q, want %q", reason, im.KickedByBackend)
	}
	// No reconnect: once the connection's close event has been handled, the
	// client has planned none (no disconnected event, no timer) and stays kicked.
	bob.wait("the kicked connection's close event", "t.closes === t.sockets")
	if s, st, d := eval[int](bob, "t.sockets"), eval[string](bob, "t.c.state"), eval[int](bob, "t.disconnects.length"); s != 2 || st != "kicked" || d != 1 ||
		eval[bool](bob, "t.c._timer !== null && t.c._timer !== undefined") {
		t.Fatalf("after the kick: %d connections, state %q, %d disconnected events", s, st, d)
	}
	if states := eval[[]string](bob, "t.states"); states[len(states)-1] != "kicked" || slices.Contains(states[len(states)-2:], "reconnecting") {
		t.Fatalf("states %v", states)
	}
	if code := eval[int](bob, `t.c.sendText('alice', 'x').then(() => 0, (e) => e.code)`); code != -1 {
		t.Fatalf("a send after the kick: %d, want -1", code)
	}
}

// A gap in the pushed entries (a push that never came) and a log_head beyond
// the last entry make the client sync: every entry arrives once, in order.
func TestBrowserGapAndLogHead(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob := b.open("alice"), b.open("bob")
	alice.login(n, "alice", 0)
	bob.login(n, "bob", 0)

	bob.do(`t.filter = (f) => f.op === 'entry' && t.text(f.entry) === 'lost 1'`)
	eval[ack](alice, `t.c.sendText('bob', 'lost 1')`)
	bob.wait("the push to be dropped", "t.dropped === 1")
	eval[ack](alice, `t.c.sendText('bob', 'after the gap')`)
	bob.wait("the gap to be filled", "t.entries.length === 2")
	es := bob.entries()
	checkLog(t, "bob", es)
	if fmt.Sprint(texts(es)) != "[lost 1 after the gap]" {
		t.Fatalf("bob's log %+v", es)
	}

	// The last push is lost and nothing follows it: a log_head says so.
	bob.do(`t.filter = (f) => f.op === 'entry'`)
	a := eval[ack](alice, `t.c.sendText('bob', 'lost 2')`)
	bob.wait("the push to be dropped", "t.dropped === 2")
	syncs := eval[int](bob, "t.synced")
	bob.do(`t.inject({op: 'log_head', code: 0, seq: 2})`) // at the client's position: nothing to do
	bob.do(fmt.Sprintf(`t.inject({op: 'log_head', code: 0, seq: %d})`, a.Seq))
	bob.wait("the log_head's sync", "t.entries.length === 3")
	es = bob.entries()
	checkLog(t, "bob", es)
	if fmt.Sprint(texts(es)) != "[lost 1 after the gap lost 2]" {
		t.Fatalf("bob's log %+v", es)
	}
	if got := eval[int](bob, "t.synced"); got != syncs+1 {
		t.Fatalf("%d syncs for two log_heads, want 1", got-syncs)
	}

	// A push of an entry the client has (a late push after a sync) is not
	// delivered again; an online-only message (seq 0) is delivered and moves
	// no position.
	syncs = eval[int](bob, "t.synced")
	bob.do(`t.filter = null; t.inject({op: 'entry', code: 0, entry: t.entries[1]})`)
	bob.do(`t.inject({op: 'entry', code: 0, entry: {seq: 0, kind: 'msg', from: 'admin', peer: 'admin', to: 'bob', body: [{MsgType: 'TIMTextElem', MsgContent: {Text: 'online only'}}]}})`)
	eval[ack](alice, `t.c.sendText('bob', 'last')`)
	bob.wait("the last message", "t.texts().includes('last')")
	es = bob.entries()
	if fmt.Sprint(texts(es)) != "[lost 1 after the gap lost 2 online only last]" || es[3].Seq != 0 || es[4].Seq != 4 {
		t.Fatalf("bob's log %+v", es)
	}
	if applied := eval[int64](bob, "t.c.applied"); applied != 4 {
		t.Fatalf("applied %d, want 4", applied)
	}
	if got := eval[int](bob, "t.synced"); got != syncs {
		t.Fatalf("an entry the client had started %d syncs", got-syncs)
	}
}

// A server restart: both clients reconnect and resync; a send made while the
// server was down goes out after the reconnect; nothing is lost or delivered twice.
func TestBrowserServerRestart(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	alice, bob, carol := b.open("alice"), b.open("bob"), b.open("carol")
	alice.login(n, "alice", 0)
	bob.login(n, "bob", 0)
	eval[ack](alice, `t.c.sendText('bob', 'm1')`)
	eval[ack](alice, `t.c.sendText('bob', 'm2')`)
	bob.wait("m1 and m2", "t.entries.length === 2")

	n.stop()
	for _, p := range []*page{alice, bob} {
		p.wait("the disconnect", "t.c.state !== 'online' && t.states.includes('reconnecting')")
	}
	// Each failed attempt doubles the delay (50 ms first, 400 ms at most), with jitter.
	alice.wait("failed reconnects", "t.disconnects.length >= 5")
	for i, d := range eval[[]struct{ RetryIn int }](alice, "t.disconnects") {
		if max := min(400, 50<<i); d.RetryIn < max/2 || d.RetryIn > max {
			t.Fatalf("reconnect %d after %d ms, want %d..%d", i, d.RetryIn, max/2, max)
		}
	}
	// A first connect while the server is down waits and retries.
	carol.do(fmt.Sprintf("t.start({url: %q, sdkAppID: %d, user: 'carol', userSig: %q}).then((i) => { t.first = i; }); true",
		n.wsURL(), n.app.SDKAppID, n.sig("carol")))
	carol.wait("a failed first attempt", "t.disconnects.length >= 2")
	alice.do(`t.send('m3', 'bob', 'm3')`)
	if v := eval[*ack](alice, "t.acks.m3"); v != nil {
		t.Fatalf("a send while the server is down was answered: %+v", v)
	}
	n.start()
	n.rest("openim/sendmsg", map[string]any{"SyncOtherMachine": 1, "From_Account": "alice", "To_Account": "bob",
		"MsgRandom": 7, "MsgBody": []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": "m4"}}}})

	carol.wait("carol's first login", "t.first !== undefined && t.c.state === 'online'")
	if re := eval[bool](carol, "t.first.reconnect"); re {
		t.Fatal("carol's first login is marked a reconnect")
	}
	alice.wait("m3's answer", "t.acks.m3 !== null")
	if a := eval[ack](alice, "t.acks.m3"); a.Error != 0 || a.MsgKey == "" {
		t.Fatalf("m3: %+v", a)
	}
	for _, p := range []*page{alice, bob} {
		p.wait("all four messages", "t.entries.length >= 4 && t.c.state === 'online'")
		es := p.entries()
		checkLog(t, p.name, es)
		got := texts(es)
		slices.Sort(got)
		if fmt.Sprint(got) != "[m1 m2 m3 m4]" || es[0].Seq != 1 {
			t.Fatalf("%s's log %+v", p.name, es)
		}
		if re := eval[bool](p, "t.onlines.length === 2 && t.onlines[1].reconnect"); !re {
			t.Fatalf("%s did not log in again", p.name)
		}
	}
	// A login starts the backoff again from the first delay.
	alice.do("t.disconnects = []; t.drop()")
	alice.wait("the disconnect", "t.disconnects.length === 1")
	if d := eval[int](alice, "t.disconnects[0].retryIn"); d < 25 || d > 50 {
		t.Fatalf("first reconnect after a login: %d ms, want 25..50", d)
	}
}

// A connection whose pings go unanswered is taken as dead: the client opens a
// new one and logs in again.
func TestBrowserPingTimeout(t *testing.T) {
	n := startNode(t)
	b := newBrowser(t, n)
	bob := b.open("bob")
	bob.loginWith(n, "bob", map[string]any{"pingInterval": 100, "pingTimeout": 1000})
	bob.do(`t.filter = (f) => { if (f.op === 'pong') t.pongs = (t.pongs || 0) + 1; return false; }`)
	bob.wait("pongs", "t.pongs >= 3")
	if s := eval[int](bob, "t.sockets"); s != 1 {
		t.Fatalf("%d connections while pongs come", s)
	}
	bob.do(`t.filter = (f) => f.op === 'pong'`)
	bob.wait("the dead connection to be replaced", "t.sockets === 2 && t.c.state === 'online' && t.onlines.length === 2")
}
