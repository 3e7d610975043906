package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// A frozen NATS server (SIGSTOP: the connection stays open but nothing is
// read) stalls nothing else: the node's sends go on being acknowledged, to
// devices on the same node and to devices on another (stored; delivered
// after), and /readyz answers 503 at once. Before the bus queued its
// publishes, the writer waited on the NATS connection for up to a minute.
func TestClusterNATSFrozen(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 2, pg, ns.url())
	n1, n2 := cl.nodes[0], cl.nodes[1]
	a := n1.planApp("premium")
	n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"s0", "r0", "s1", "r1"}})
	s0 := n1.mustLogin(a, "s0", "Web", 0)
	r0 := n1.mustLogin(a, "r0", "Web", 0)
	s1 := n1.mustLogin(a, "s1", "Web", 0)
	r1 := n2.mustLogin(a, "r1", "Web", 0)
	for _, c := range []*client.Client{s0, r0, s1, r1} {
		go func() {
			for range c.Entries() {
			}
		}()
	}

	text := strings.Repeat("y", 6000) // fills the node's socket to NATS within the test
	var local, cross atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	loop := func(send func(ctx context.Context, i int) error, n *atomic.Int64) {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if send(ctx, i) == nil {
				n.Add(1)
			}
			cancel()
		}
	}
	go loop(func(ctx context.Context, i int) error {
		_, err := s0.SendText(ctx, "r0", fmt.Sprintf("l%d", i), text)
		return err
	}, &local)
	go loop(func(ctx context.Context, i int) error {
		_, err := s1.SendText(ctx, "r1", fmt.Sprintf("c%d", i), text)
		return err
	}, &cross)
	eventually(t, 20*time.Second, "sends before the freeze", func() bool { return local.Load() > 10 && cross.Load() > 10 })

	if err := ns.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer ns.cmd.Process.Signal(syscall.SIGCONT)
	// The node notices (pings unanswered, or its writes not taken); /readyz
	// answers at once all along.
	frozen := time.Now()
	eventually(t, 40*time.Second, "/readyz 503 with NATS frozen", func() bool {
		start := time.Now()
		code := readyz(n1)
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("/readyz took %s with NATS frozen", took)
		}
		return code == 503
	})
	l0, c0 := local.Load(), cross.Load()
	eventually(t, 30*time.Second, "100 more sends of each kind while NATS is frozen", func() bool {
		return local.Load()-l0 >= 100 && cross.Load()-c0 >= 100
	})
	t.Logf("/readyz 503 after %s; then %d local and %d cross-node sends acknowledged with NATS frozen",
		time.Since(frozen).Round(time.Millisecond), local.Load()-l0, cross.Load()-c0)
}
