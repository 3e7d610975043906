package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/testdb"
)

// startNATS runs a NATS server of the test's own (own port, own directory).
func startNATS(t *testing.T) string {
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// Two nodes on one PostgreSQL database linked by NATS: a message sent by a
// device on node A reaches the receiver's device on node B at once, and a
// kick through node A's REST API ends the session on node B.
func TestTwoNodesOverNATS(t *testing.T) {
	testdb.SkipWithoutPostgres(t)
	nats := startNATS(t)
	pg := testdb.PostgresURL(t)
	a := startNode(t, t.TempDir(), freeAddr(t), "--store", "postgres", "--postgres-url", pg, "--nats-url", nats, "--node-id", "a")
	b := startNode(t, t.TempDir(), freeAddr(t), "--store", "postgres", "--postgres-url", pg, "--nats-url", nats, "--node-id", "b")
	ap := a.createApp()
	a.restOK(ap, "im_open_login_svc/account_import", map[string]any{"UserID": "alice"})
	a.restOK(ap, "im_open_login_svc/account_import", map[string]any{"UserID": "bob"})
	bob := b.mustLogin(ap, "bob", "Android", 0)
	alice := a.mustLogin(ap, "alice", "iOS", 0)
	ack, err := alice.SendText(context.Background(), "bob", "a-1", "hello from node a")
	if err != nil || ack.MsgKey == "" {
		t.Fatalf("send: %v %+v", err, ack)
	}
	if e := nextMsg(t, bob); text(e) != "hello from node a" || e.MsgKey != ack.MsgKey {
		t.Fatalf("bob on node b got %+v", e)
	}
	a.restOK(ap, "im_open_login_svc/kick", map[string]any{"UserID": "bob"})
	select {
	case <-bob.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a kick on node a did not end bob's session on node b")
	}
}
