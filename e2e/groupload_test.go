package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/loadgen"
)

// A tiny fan-out load, group and live room, against the binary: every
// message reaches every member but the sender, once, and nothing is refused,
// dropped or disconnected. Skips while the server lacks groups.
func TestGroupFanoutLoad(t *testing.T) {
	for _, live := range []bool{false, true} {
		name := "group"
		if live {
			name = "liveroom"
		}
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			n := startNode(t, data, freeAddr(t))
			token, err := os.ReadFile(filepath.Join(data, "operator.token"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			users, err := loadgen.SetupGroup(ctx, n.url(""), strings.TrimSpace(string(token)), "fanout-"+name, 20, live, nil, nil)
			if loadgen.IsUnsupported(err) {
				t.Skipf("the server lacks groups: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			run, err := loadgen.ConnectGroup(ctx, users, loadgen.GroupConfig{Rate: 50, Warmup: 200 * time.Millisecond, Duration: time.Second, Drain: 20 * time.Second})
			if loadgen.IsUnsupported(err) {
				t.Skipf("the server lacks the group ops: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			rep, err := run.Run(ctx)
			run.Close()
			if loadgen.IsUnsupported(err) {
				t.Skipf("the server lacks group_send: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Log(rep.Text())
			if rep.Acked != rep.Scheduled || rep.Refused != 0 {
				t.Errorf("%d of %d messages acknowledged, %d refused (%s)", rep.Acked, rep.Scheduled, rep.Refused, rep.LastRefusal)
			}
			if rep.Sent == 0 || rep.ExpectedDeliveries != rep.Sent*19 || rep.Undelivered != 0 || rep.DupDeliveries != 0 {
				t.Errorf("deliveries: expected %d (sent %d × 19), received %d, %d twice", rep.ExpectedDeliveries, rep.Sent, rep.Delivered, rep.DupDeliveries)
			}
			if rep.GapSeqs != 0 || rep.Disconnects != 0 || rep.Latency.N != uint64(rep.Delivered) {
				t.Errorf("gaps %d, disconnects %d, latency samples %d", rep.GapSeqs, rep.Disconnects, rep.Latency.N)
			}
		})
	}
}
