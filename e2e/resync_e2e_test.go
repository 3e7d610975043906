package e2e

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// TestClusterNATSCutCatchUp: node 2 is cut from NATS (its own link only)
// while a kick, an account deletion and a message are made through node 1,
// which stays connected: NATS drops them for node 2 for good. Once node 2's
// link is back, its sessions of the kicked and the deleted user end, and the
// receiver's device there gets the message without any later message to
// show the gap (log_head).
func TestClusterNATSCutCatchUp(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 1, pg, ns.url())
	n1 := cl.nodes[0]
	link := startTCPProxy(t, ns.addr) // node 2's own way to NATS
	data := t.TempDir()
	token, err := os.ReadFile(filepath.Join(n1.data, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "operator.token"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, data, freeAddr(t), "--store", "postgres", "--postgres-url", pg,
		"--nats-url", "nats://"+link.addr(), "--node-id", "node-2")

	a := n1.createApp()
	n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"kicked", "gone", "r", "s"}})
	kicked := n2.mustLogin(a, "kicked", "Web", 0)
	gone := n2.mustLogin(a, "gone", "Web", 0)
	r := n2.mustLogin(a, "r", "Web", 0)
	status := func(user string) string {
		v := n1.restOK(a, "openim/query_online_status", map[string]any{"To_Account": []string{user}})
		return v["QueryResult"].([]any)[0].(map[string]any)["Status"].(string)
	}
	// Node 1 routes to node 2 only once NATS has node 2's interest.
	eventually(t, 10*time.Second, "r (on node 2) online through node 1", func() bool { return status("r") == "Online" })

	link.cut()
	eventually(t, 10*time.Second, "node 2 not ready without its link", func() bool { return readyz(n2) != 200 })
	eventually(t, 10*time.Second, "node 1 no longer counts node 2's devices", func() bool { return status("r") != "Online" })
	n1.restOK(a, "im_open_login_svc/kick", map[string]any{"UserID": "kicked"})
	n1.restOK(a, "im_open_login_svc/account_delete", map[string]any{"DeleteItem": []map[string]string{{"UserID": "gone"}}})
	n1.restOK(a, "openim/sendmsg", map[string]any{"From_Account": "s", "To_Account": "r", "MsgRandom": 1,
		"MsgBody": []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": "during the cut"}}}})
	link.restore()

	for _, c := range []struct {
		c      *client.Client
		reason string
	}{{kicked, "kicked by the app backend"}, {gone, "account deleted"}} {
		select {
		case <-c.c.Done():
			if c.c.Kicked() != c.reason {
				t.Errorf("kick reason %q, want %q", c.c.Kicked(), c.reason)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("session on node 2 still open after its link came back; want %q", c.reason)
		}
	}
	if e := nextMsg(t, r); text(e) != "during the cut" {
		t.Fatalf("r on node 2 got %+v", e)
	}
}

// tcpProxy forwards connections to an address until cut: then it closes
// them and refuses new ones until restored.
type tcpProxy struct {
	ln     net.Listener
	to     string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func startTCPProxy(t *testing.T, to string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, to: to}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.to)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// cut closes every forwarded connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.closed = false
	p.mu.Unlock()
}

// TestClusterNoSecondOnline: gina on node 2 subscribes to hank, online on
// node 1 (the reply says Online); hank's device logging in on node 2 sends
// gina no second Online: her next notice is hank's Offline, once both his
// devices are gone.
func TestClusterNoSecondOnline(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 2, pg, ns.url())
	n1, n2 := cl.nodes[0], cl.nodes[1]
	a := n1.createApp()
	n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"hank", "gina"}})
	hank1 := n1.mustLogin(a, "hank", "Web", 0)
	gina := n2.mustLogin(a, "gina", "Web", 0)
	online := func(n *node) bool {
		v := n.restOK(a, "openim/query_online_status", map[string]any{"To_Account": []string{"hank"}})
		return v["QueryResult"].([]any)[0].(map[string]any)["Status"] == "Online"
	}
	eventually(t, 10*time.Second, "hank (node 1) online through node 2", func() bool { return online(n2) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _, err := gina.SubscribeStatus(ctx, "hank")
	if err != nil || len(st) != 1 || st[0].Status != "Online" {
		t.Fatalf("subscribe: %+v, %v; want hank Online", st, err)
	}
	hank2 := n2.mustLogin(a, "hank", "Mac", 0)
	hank2.Close()
	<-hank2.Done()
	hank1.Close()
	select {
	case n := <-gina.StatusNotices():
		if n.User != "hank" || n.Status != "Offline" {
			t.Fatalf("gina's first notice %+v, want hank Offline (no second Online)", n)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no Offline notice")
	}
}
