package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/bus/natsbus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

// natsServer starts a NATS server of the test's own (own port, own
// directory) and returns its URL and a function that stops it.
func natsServer(t *testing.T) (string, func()) {
	t.Helper()
	bin := "/usr/sbin/nats-server"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no nats-server")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--pid", filepath.Join(t.TempDir(), "nats.pid"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stopped atomic.Bool
	stop := func() {
		if stopped.CompareAndSwap(false, true) {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return fmt.Sprintf("nats://127.0.0.1:%d", port), stop
}

// waitForGET polls GET url until its answer has code and contains want.
func waitForGET(t *testing.T, url string, code int, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, body := get(t, url, "")
		if c == code && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q; want %d with %q", url, c, body, code, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On a cluster /readyz has a line for NATS: ready (200) only while the node
// is connected, 503 "nats: not connected" while it is not; the store's line
// stays ok. The node's metrics name its bus, store and id.
func TestReadyzReportsNATS(t *testing.T) {
	url, stopNATS := natsServer(t)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	bm := NewBusMetrics()
	nb, err := natsbus.New(natsbus.Config{URL: url, NodeID: "n1", Groups: noGroups{}, Logger: logger, Metrics: bm.Hooks()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Clock: clock.Real{}, Logger: logger, OperatorToken: "secret", Bus: nb, BusMetrics: bm, NodeID: "n1"})
	if err != nil {
		nb.Close()
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	waitForGET(t, hs.URL+"/readyz", 200, "store: ok\nnats: ok\nready")
	_, metrics := get(t, hs.URL+"/metrics", "")
	for _, want := range []string{`chatd_node_info{bus="nats",node="n1",store="sqlite"} 1`, "chatd_bus_connected 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	stopNATS()
	waitForGET(t, hs.URL+"/readyz", http.StatusServiceUnavailable, "store: ok\nnats: not connected\nnot ready")
	waitForGET(t, hs.URL+"/metrics", 200, "chatd_bus_connected 0")
}

type noGroups struct{}

func (noGroups) UserGroupIDs(context.Context, int64, string) ([]string, error)   { return nil, nil }
func (noGroups) GroupMemberIDs(context.Context, int64, string) ([]string, error) { return nil, nil }

// A single node: its info says so, the bus metrics exist, and the hooks of a
// bus feed them.
func TestNodeAndBusMetrics(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	bm := NewBusMetrics()
	s, err := New(Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", BusMetrics: bm, NodeID: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	h := bm.Hooks()
	h.Published(3)
	h.Received(2)
	h.Dropped()
	h.Nodes(3)
	h.Resyncs()
	h.Invalid(bus.InvGroupMembers)
	h.Routes(5, 7)
	_, body := get(t, hs.URL+"/metrics", "")
	for _, want := range []string{
		`chatd_node_info{bus="local",node="solo",store="sqlite"} 1`,
		"chatd_bus_messages_published_total 3", "chatd_bus_messages_received_total 2",
		"chatd_bus_messages_dropped_total 1", "chatd_bus_connected 0", "chatd_bus_nodes 3",
		"chatd_bus_presence_resyncs_total 1", `chatd_bus_invalidations_received_total{kind="group_members"} 1`,
		`chatd_bus_routes{kind="user"} 5`, `chatd_bus_routes{kind="group"} 7`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// lockedOut is a store on which another node holds every lock.
type lockedOut struct {
	store.Store
	apps atomic.Int32
}

func (*lockedOut) TryLock(context.Context, string) (func(), bool, error) { return nil, false, nil }
func (l *lockedOut) AllApps(ctx context.Context) ([]store.App, error) {
	l.apps.Add(1)
	return l.Store.AllApps(ctx)
}

// The retention purge runs only under the store's purge lock: while another
// node holds it, this node reads nothing and purges nothing.
func TestPurgeNeedsTheLock(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	lo := &lockedOut{Store: st}
	s, err := New(Config{Store: lo, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if n, err := s.purge(context.Background()); n != 0 || err != nil || lo.apps.Load() != 0 {
		t.Fatalf("purge without the lock: %d, %v, %d reads of the apps", n, err, lo.apps.Load())
	}
}

// closeOrderBus records whether anything is published after it closed.
type closeOrderBus struct {
	*bus.Local
	closed, late atomic.Int32
}

func (b *closeOrderBus) Publish(ds []bus.Delivery) {
	if b.closed.Load() > 0 {
		b.late.Add(1)
	}
	b.Local.Publish(ds)
}

func (b *closeOrderBus) Close() error { b.closed.Add(1); return nil }

// Close closes the bus once, after the writer flushed (and published) its
// last batch.
func TestCloseClosesTheBusAfterTheWriter(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	b := &closeOrderBus{Local: bus.NewLocal()}
	s, err := New(Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", Bus: b})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "one", "one@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Tenants.CreateApp(ctx, acc.ID, "one", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)
	for i := range 50 { // queued in the writer, not waited for
		s.Writer.Submit(store.Op{Kind: store.OpSend, App: app.SDKAppID, From: "alice", To: "bob", ClientID: fmt.Sprint("c", i),
			MsgRandom: uint32(i), MsgTime: time.Now().Unix(), Body: body, Unread: true, At: time.Now()}, bus.Origin{}, func(store.OpResult, error) {})
	}
	s.Close()
	if b.closed.Load() != 1 || b.late.Load() != 0 {
		t.Fatalf("bus closed %d times, %d publishes after its close", b.closed.Load(), b.late.Load())
	}
}
