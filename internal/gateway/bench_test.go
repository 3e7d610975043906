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

// BenchmarkOneDeviceSends measures what one device can send through the gateway
// into the embedded store (SQLite in a temporary directory) when it writes its
// send frames without waiting and reads the acks: each op is one message made
// durable and acknowledged; the receiver's device reads its pushes meanwhile.
func BenchmarkOneDeviceSends(b *testing.B) {
	e := newEnvListening(b, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, nil)
	sender, receiver := e.rawLogin("alice"), e.rawLogin("bob")
	go func() {
		for {
			if _, _, err := receiver.NextReader(); err != nil {
				return
			}
		}
	}()
	frames := make([][]byte, b.N)
	for i := range frames {
		frames[i] = []byte(sendFrame(i+1, "bob"))
	}
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for _, f := range frames {
			if err := sender.WriteMessage(1, f); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, _, err := sender.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
