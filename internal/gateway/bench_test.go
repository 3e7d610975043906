package gateway_test

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
)

// BenchmarkDeliverFanOut measures the delivery path from the bus to K devices of
// one user over real WebSocket connections on loopback: each op is one entry
// (a 100-byte text message) encoded once and written to every device, in
// batches of 64 deliveries per Deliver call, as the writer publishes them.
// Reported: write calls per frame (coalescing) and allocations per entry.
func BenchmarkDeliverFanOut(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("devices=%d", k), func(b *testing.B) {
			var l *countingListener
			e := newEnvListening(b, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, func(in net.Listener) net.Listener {
				l = &countingListener{Listener: in}
				return l
			})
			var target atomic.Int64
			reached := make(chan struct{}, k)
			for range k {
				c := e.rawLogin("bob")
				go func() {
					for n := int64(1); ; n++ {
						if _, _, err := c.NextReader(); err != nil {
							return
						}
						if n == target.Load() {
							reached <- struct{}{}
						}
					}
				}()
			}
			body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a message of about one hundred bytes, as chat messages mostly are, give or take"}}]`)
			const round, batch = 2048, 64
			ds := make([]bus.Delivery, batch)
			entries := make([]store.Entry, batch)
			b.ReportAllocs()
			b.ResetTimer()
			writes0 := l.writes.Load()
			for sent := 0; sent < b.N; {
				n := min(round, b.N-sent)
				target.Store(int64(sent + n))
				for i := 0; i < n; i += batch {
					m := min(batch, n-i)
					for j := range m {
						seq := int64(sent + i + j + 1)
						entries[j] = store.Entry{App: e.app.SDKAppID, Owner: "bob", Seq: seq, Kind: store.KindMsg, From: "alice", To: "bob", Peer: "alice",
							MsgKey: strconv.FormatInt(seq, 10) + "_1_1764140000", MsgSeq: seq, MsgRandom: 1, MsgTime: 1764140000, Body: body}
						ds[j] = bus.Delivery{App: e.app.SDKAppID, User: "bob", Kind: bus.KindEntry, Entry: &entries[j]}
					}
					e.gw.Deliver(ds[:m])
				}
				for range k {
					<-reached
				}
				sent += n
			}
			b.StopTimer()
			b.ReportMetric(float64(l.writes.Load()-writes0)/float64(b.N*k), "writes/frame")
		})
	}
}
