package js_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/testbrowser"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/usersig"
)

// The browser tests run chatd.js in headless Chromium against a real chatd:
// an in-process server over the embedded store, served on a port of its own,
// and a test page from another localhost origin that imports /sdk/chatd.js
// from it, as a web app hosted elsewhere would.

// node is a chatd server that can be stopped and started again on the same
// address and data directory.
type node struct {
	t      *testing.T
	dir    string
	addr   string
	app    store.App
	lim    gateway.Limits
	s      *server.Server
	cancel context.CancelFunc
	done   chan error
}

// startNode starts a chatd with an app (Free Trial) and the users alice, bob
// and carol.
func startNode(t *testing.T) *node { return startNodeWith(t, gateway.Limits{}) }

// startNodeWith is startNode with session limits.
func startNodeWith(t *testing.T, lim gateway.Limits) *node {
	n := &node{t: t, dir: t.TempDir(), addr: "127.0.0.1:0", lim: lim}
	n.start()
	t.Cleanup(n.stop)
	ctx := context.Background()
	acc, err := n.s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	if n.app, err = n.s.Tenants.CreateApp(ctx, acc.ID, "chat", ""); err != nil {
		t.Fatal(err)
	}
	if err := n.s.IM.ImportAccounts(ctx, n.app, []store.User{{UserID: "alice"}, {UserID: "bob"}, {UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	return n
}

// start opens the store and serves; the first start picks a free port, later
// ones take the same.
func (n *node) start() {
	t := n.t
	st, err := embedded.Open(filepath.Join(n.dir, "chatd.db"), filepath.Join(n.dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler),
		OperatorToken: "secret", PurgeEvery: time.Hour, Sessions: n.lim})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", n.addr)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	n.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	n.s, n.cancel, n.done = s, cancel, make(chan error, 1)
	go func() { n.done <- s.Serve(ctx, ln, "", "") }()
}

// stop shuts the server down as chatd serve does on SIGTERM: sessions end,
// writes are committed, the store is closed. Stopping a stopped node does nothing.
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		n.t.Errorf("serve: %v", err)
	}
	n.cancel = nil
}

func (n *node) base() string  { return "http://" + n.addr }
func (n *node) wsURL() string { return "ws://" + n.addr + "/v1/ws" }

func (n *node) sig(user string) string {
	s, err := usersig.Gen(n.app.SDKAppID, n.app.SecretKey, user, 86400, time.Now())
	if err != nil {
		n.t.Fatal(err)
	}
	return s
}

// rest calls a REST command as the app's admin and fails the test unless it
// answers ErrorCode 0.
func (n *node) rest(cmd string, body any) map[string]any {
	t := n.t
	t.Helper()
	b, _ := json.Marshal(body)
	url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json",
		n.base(), cmd, n.app.SDKAppID, n.app.AdminUser, n.sig(n.app.AdminUser))
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || out["ErrorCode"] != float64(0) {
		t.Fatalf("%s: %s", cmd, raw)
	}
	return out
}

// harness is the test page's script: it imports the SDK from chatd and keeps
// what a client reports in window.t for the tests to read. Its WebSocket
// counts the connections the SDK opens and their close events, can drop incoming frames (t.filter),
// inject frames as if the server had sent them (t.inject) and close the
// connection from the page (t.drop).
const harness = `
import { Client, ChatdError } from 'CHATD_BASE/sdk/chatd.js';
let current = null;
class TestSocket extends WebSocket {
  // t.closes counts close events; this listener runs before the SDK's, which
  // decides on a reconnect (and says so: state, disconnected) in that dispatch.
  constructor(url) { super(url); t.sockets++; current = this; this.listeners = []; super.addEventListener('close', () => { t.closes++; }); }
  addEventListener(type, fn, opts) {
    if (type === 'message') {
      const inner = fn;
      fn = (ev) => { if (t.filter && t.filter(JSON.parse(ev.data))) { t.dropped++; return; } inner(ev); };
      this.listeners.push(inner);
    }
    super.addEventListener(type, fn, opts);
  }
}
const t = window.t = {
  sockets: 0, closes: 0, dropped: 0, filter: null,
  entries: [], states: [], kicks: [], errors: [], onlines: [], pushes: [], disconnects: [], synced: 0, acks: {},
  start(opts) {
    const c = new Client(Object.assign({ WebSocket: TestSocket, minDelay: 50, maxDelay: 400 }, opts));
    t.c = c;
    c.on('entry', (e) => t.entries.push(e));
    c.on('state', (s) => t.states.push(s.state));
    c.on('kicked', (k) => t.kicks.push(k));
    c.on('error', (e) => t.errors.push(e.code + ' ' + e.message));
    c.on('online', (o) => t.onlines.push(o));
    c.on('synced', () => t.synced++);
    c.on('push', (f) => t.pushes.push(f));
    c.on('disconnected', (d) => t.disconnects.push(d));
    return c.connect();
  },
  // send starts a send and records its outcome in t.acks[name] (null while it waits).
  send(name, to, text, clientMsgId) {
    t.acks[name] = null;
    t.c.sendText(to, text, clientMsgId ? { clientMsgId } : undefined).then(
      (a) => { t.acks[name] = a; },
      (e) => { t.acks[name] = { error: e.code, message: e.message, isChatdError: e instanceof ChatdError }; });
    return true;
  },
  drop() { current.close(); return true; },
  inject(frame) { for (const fn of current.listeners) fn(new MessageEvent('message', { data: JSON.stringify(frame) })); return true; },
  text(e) { return e.body && e.body[0] && e.body[0].MsgContent ? e.body[0].MsgContent.Text : ''; },
  texts() { return t.entries.filter((e) => e.kind === 'msg').map((e) => t.text(e)); },
};
window.ready = true;
`

// browser is one headless Chromium with a fresh profile; the test page's
// server is its own origin.
type browser struct {
	t    *testing.T
	ctx  context.Context
	page string // the test page's URL
}

// newBrowser starts Chromium (testbrowser.Start) and serves the test page for n.
func newBrowser(t *testing.T, n *node) *browser {
	ctx := testbrowser.Start(t)
	script := strings.Replace(harness, "CHATD_BASE", n.base(), 1)
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>chatd.js test</title><script type=\"module\">%s</script>", script)
	}))
	t.Cleanup(pages.Close)
	return &browser{t: t, ctx: ctx, page: pages.URL + "/"}
}

// page is one tab with the test page loaded.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []string
}

// open opens a tab on the test page and waits for the SDK to be imported.
func (b *browser) open(name string) *page {
	t := b.t
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &page{t: t, name: name, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m.String())
			p.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.page)); err != nil {
		t.Fatalf("%s: opening the test page: %v", name, err)
	}
	p.wait("the SDK to load", "window.ready === true")
	return p
}

// login starts a client of user on the page (resuming after seq after).
func (p *page) login(n *node, user string, after int64) loginInfo {
	p.t.Helper()
	return p.loginWith(n, user, map[string]any{"after": after})
}

// loginWith starts a client of user on the page with more options.
func (p *page) loginWith(n *node, user string, extra map[string]any) loginInfo {
	p.t.Helper()
	o := map[string]any{"url": n.wsURL(), "sdkAppID": n.app.SDKAppID, "user": user, "userSig": n.sig(user)}
	for k, v := range extra {
		o[k] = v
	}
	opts, _ := json.Marshal(o)
	return eval[loginInfo](p, fmt.Sprintf("t.start(%s)", opts))
}

type loginInfo struct {
	ConnID    string   `json:"connId"`
	Seq       int64    `json:"seq"`
	Edition   string   `json:"edition"`
	Features  []string `json:"features"`
	Reconnect bool     `json:"reconnect"`
}

// entry is an entry as the SDK delivered it.
type entry struct {
	Seq         int64  `json:"seq"`
	Kind        string `json:"kind"`
	Peer        string `json:"peer"`
	From        string `json:"from"`
	To          string `json:"to"`
	MsgKey      string `json:"msg_key"`
	ClientMsgID string `json:"client_msg_id"`
	CustomData  string `json:"cloud_custom_data"`
	Body        []struct {
		MsgContent struct{ Text string }
	} `json:"body"`
	Recalled bool  `json:"recalled"`
	ReadTime int64 `json:"read_time"`
}

func (e entry) text() string {
	if len(e.Body) == 0 {
		return ""
	}
	return e.Body[0].MsgContent.Text
}

type ack struct {
	MsgKey      string `json:"msgKey"`
	MsgTime     int64  `json:"msgTime"`
	Seq         int64  `json:"seq"`
	Duplicate   bool   `json:"duplicate"`
	ClientMsgID string `json:"clientMsgId"`
	Error       int    `json:"error"`
	Message     string `json:"message"`
}

// eval evaluates expr on p (awaiting a promise) and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %s: %v%s", p.name, expr, err, p.dump())
	}
	return v
}

// do evaluates expr for its effect.
func (p *page) do(expr string) {
	p.t.Helper()
	eval[chromedp.Void](p, expr)
}

// wait waits until the page's expr is true (10 s at most).
func (p *page) wait(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		p.t.Fatalf("%s: waiting for %s (%s): %v%s", p.name, what, expr, err, p.dump())
	}
}

// entries returns what the page's client delivered on "entry".
func (p *page) entries() []entry {
	p.t.Helper()
	return eval[[]entry](p, "t.entries")
}

// dump describes the page's state for a failure message.
func (p *page) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`JSON.stringify({state: t.c && t.c.state, applied: t.c && t.c.applied, states: t.states, sockets: t.sockets, errors: t.errors, entries: t.entries, acks: t.acks})`))
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("\n%s: %s\nconsole:\n%s", p.name, state, strings.Join(p.console, "\n"))
}

// checkLog fails unless es is a run of consecutive seqs, each once.
func checkLog(t *testing.T, who string, es []entry) {
	t.Helper()
	for i, e := range es {
		if i > 0 && e.Seq != es[i-1].Seq+1 {
			t.Fatalf("%s: entry %d has seq %d after %d: %+v", who, i, e.Seq, es[i-1].Seq, es)
		}
	}
}

// texts returns the texts of the msg entries of es.
func texts(es []entry) []string {
	var out []string
	for _, e := range es {
		if e.Kind == "msg" {
			out = append(out, e.text())
		}
	}
	return out
}
