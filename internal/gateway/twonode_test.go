package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/bus/natsbus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usersig"
	"github.com/chatd/chatd/protocol"
)

// Two nodes over one store and a NATS server of the test's own (skipped when
// nats-server is not installed): the seam between im, the gateway and a
// cluster bus end to end.

// startNATS runs a nats-server on a free port until the test ends.
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr != nil {
			t.Skip("nats-server is not installed")
		}
		bin = "/usr/sbin/nats-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "--pid", filepath.Join(t.TempDir(), "pid"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// groupReader is the store's membership for natsbus.
type groupReader struct{ st store.Store }

func (g groupReader) UserGroupIDs(ctx context.Context, app int64, user string) ([]string, error) {
	ms, err := g.st.UserGroups(ctx, app, user)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
	}
	return ids, nil
}

func (g groupReader) GroupMemberIDs(ctx context.Context, app int64, group string) ([]string, error) {
	return g.st.GroupMemberIDs(ctx, app, group)
}

type twoNode struct {
	svc *im.Service
	gw  *gateway.Gateway
	bus *natsbus.Bus
	url string
}

var nodeSeq atomic.Int64

func startTwoNode(t *testing.T, st store.Store, c *clock.Manual, tenants *tenant.Service, natsURL string) *twoNode {
	t.Helper()
	b, err := natsbus.New(natsbus.Config{URL: natsURL, NodeID: fmt.Sprintf("n%d-%d", os.Getpid(), nodeSeq.Add(1)),
		Groups: groupReader{st}, Logger: slog.New(slog.DiscardHandler), HeartbeatEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := im.NewWriter(st, b, 64, nil)
	svc := im.New(st, c, &gate.Gate{MAU: st, Clock: c}, w, b)
	gw := gateway.New(gateway.Config{Tenants: tenants, IM: svc, Bus: b, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(gw)
	t.Cleanup(func() { gw.CloseAll(); srv.Close(); w.Close(); b.Close() })
	return &twoNode{svc: svc, gw: gw, bus: b, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

func TestTwoNodes(t *testing.T) {
	natsURL := startNATS(t)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "two.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(time.Now().UTC())
	tenants := &tenant.Service{Store: st, Clock: c}
	ctx := context.Background()
	acc, err := tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := tenants.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	a := startTwoNode(t, st, c, tenants, natsURL)
	b := startTwoNode(t, st, c, tenants, natsURL)
	if err := a.svc.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}, {UserID: "o"}}); err != nil {
		t.Fatal(err)
	}
	// Wait until each node knows the other.
	deadline := time.Now().Add(5 * time.Second)
	for len(a.bus.Nodes()) < 2 || len(b.bus.Nodes()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the nodes never saw each other")
		}
		time.Sleep(20 * time.Millisecond)
	}
	dial := func(n *twoNode, user string) *client.Client {
		t.Helper()
		sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, user, 3600, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(ctx, n.url, client.Options{SDKAppID: app.SDKAppID, User: user, UserSig: sig, Platform: "Web"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}

	// Status: alice on A sees bob come and go on B.
	alice := dial(a, "alice")
	if st, _, err := alice.SubscribeStatus(ctx, "bob"); err != nil || st[0].Status != protocol.StatusOffline {
		t.Fatalf("subscribe: %+v %v", st, err)
	}
	bob := dial(b, "bob")
	wantNotice(t, alice, "bob", protocol.StatusOnline)
	if s, _ := a.gw.UserState(app.SDKAppID, "bob"); s != protocol.StatusOnline {
		t.Fatalf("bob on B seen from A: %s", s)
	}
	bob.Close()
	wantNotice(t, alice, "bob", protocol.StatusOffline)

	// Membership: B caches the group's members; A adds bob, who is
	// connected to A; B's next sends reach him at once.
	if _, err := b.svc.CreateGroup(ctx, app, im.AdminActor, im.GroupSpec{Owner: "o", Type: "Public", GroupID: "g", Name: "g"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.SendGroupMsg(ctx, app, im.GroupSendRequest{Group: "g", Admin: true, Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"1"}}]`)}); err != nil {
		t.Fatal(err)
	}
	got := make(chan client.Entry, 100)
	bob = dial(a, "bob")
	bob.OnGroupEntry(func(e client.Entry) { got <- e })
	if _, err := a.svc.AddGroupMembers(ctx, app, im.AdminActor, "g", []string{"bob"}, true); err != nil {
		t.Fatal(err)
	}
	// The invalidation travels by NATS: send until one arrives (or 5 s).
	deadline = time.Now().Add(5 * time.Second)
	received := false
	for !received && time.Now().Before(deadline) {
		if _, err := b.svc.SendGroupMsg(ctx, app, im.GroupSendRequest{Group: "g", Admin: true, Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"2"}}]`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			received = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !received {
		t.Fatal("a member added on node A never got node B's group messages")
	}

	// App status: suspended through node A, alice's session on A and bob's
	// on A end; a session on B ends at once by the invalidation.
	carol := dial(b, "o")
	err = st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		x, err := tx.LockApp(ctx, app.SDKAppID)
		if err != nil {
			return err
		}
		x.Status, x.SuspendReason, x.SuspendedAt = "suspended", "expired", c.Now()
		return tx.UpdateApp(ctx, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	a.gw.AppChanged(ctx, app.SDKAppID)
	a.bus.Invalidate(bus.Invalidation{Kind: bus.InvApp, App: app.SDKAppID})
	waitEnded(t, alice, "node A's own session")
	waitEnded(t, carol, "node B's session, by the invalidation")
}
