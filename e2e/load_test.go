package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/loadgen"
)

// kill -9 of the server in the middle of an open-loop load: the devices reconnect,
// resync and resend every unacknowledged message with its client_msg_id; afterwards
// every acknowledged message is in the sender's and the receiver's log exactly once.
func TestKill9UnderOpenLoopLoad(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	n := startNode(t, data, addr)
	token, err := os.ReadFile(filepath.Join(data, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	users, err := loadgen.Setup(ctx, n.url(""), strings.TrimSpace(string(token)), "crash", 100, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var restarted atomic.Pointer[node]
	cfg := loadgen.Config{
		Rate: 2000, Warmup: time.Second, Duration: 3 * time.Second, Drain: 30 * time.Second,
		CrashAfter: time.Second,
		Crash: func() error {
			n.crash()
			n2, err := launch(t, data, addr)
			restarted.Store(n2)
			return err
		},
	}
	run, err := loadgen.Connect(ctx, users, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run.Run(ctx)
	run.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Text())
	if restarted.Load() == nil {
		t.Fatal("the server was not restarted")
	}
	if rep.Reconnects < int64(len(users.Names)) {
		t.Errorf("%d reconnects, want every one of the %d devices to reconnect", rep.Reconnects, len(users.Names))
	}
	if rep.Refused != 0 || rep.Acked != rep.Scheduled {
		t.Errorf("%d of %d messages acknowledged, %d refused (%s)", rep.Acked, rep.Scheduled, rep.Refused, rep.LastRefusal)
	}
	if rep.Delivered != rep.Sent || rep.DupDeliveries != 0 {
		t.Errorf("receivers got %d of %d measured messages, %d twice", rep.Delivered, rep.Sent, rep.DupDeliveries)
	}
	check, err := run.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("logs: %+v", check)
	if check.Acked != rep.Scheduled || check.Lost != 0 || check.Duplicated != 0 || check.Unacked != 0 {
		t.Fatalf("after kill -9: %+v, want all %d acknowledged, none lost or duplicated", check, rep.Scheduled)
	}
	// Both logs of every message were read.
	if check.Entries != 2*check.Acked {
		t.Fatalf("%d message entries in the logs, want %d", check.Entries, 2*check.Acked)
	}
}
