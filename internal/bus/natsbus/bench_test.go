package natsbus

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
)

// BenchmarkPublishBatch: a writer batch of 256 one-to-one sends (two copies
// each) handed to the bus: one encoding and one NATS message per copy's
// user, the local gateway's share included. Reported per copy.
func BenchmarkPublishBatch(b *testing.B) {
	c := newCluster(&testing.T{})
	bb, _ := c.startB(b)
	ds := make([]bus.Delivery, 512)
	for i := range ds {
		u := fmt.Sprintf("user%05d", i)
		ds[i] = bus.Delivery{App: c.app, User: u, Kind: bus.KindEntry, Entry: &store.Entry{App: c.app, Owner: u, Seq: int64(i + 1),
			Kind: store.KindMsg, From: "sender", To: u, MsgKey: "1_2_3", Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, world"}}]`)}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bb.Publish(ds)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ds)), "ns/copy")
}

// BenchmarkPublishGroup: one group entry for a group of any size: one
// message on the group's subject.
func BenchmarkPublishGroup(b *testing.B) {
	c := newCluster(&testing.T{})
	bb, _ := c.startB(b)
	members := make([]string, 1000)
	for i := range members {
		members[i] = fmt.Sprintf("m%04d", i)
	}
	b.ReportAllocs()
	for i := range b.N {
		e := &store.Entry{App: c.app, Group: "g", Seq: int64(i + 1), Kind: store.KindMsg, From: "m0001",
			Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, group"}}]`)}
		bb.Publish([]bus.Delivery{{App: c.app, Kind: bus.KindGroup, Entry: e, Group: &bus.GroupDelivery{Members: members, Group: "g"}}})
	}
}

func (c *cluster) startB(b *testing.B) (*Bus, *node) {
	bb, err := New(Config{URL: natsURL(nil), NodeID: c.prefix + "-bench", Groups: c.groups, Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bb.Close() })
	if err := bb.waitReady(); err != nil {
		b.Skip("no NATS server")
	}
	bb.Attach(nopHandler{})
	return bb, nil
}

// nopHandler is a gateway with nobody connected.
type nopHandler struct{}

func (nopHandler) Deliver([]bus.Delivery)             {}
func (nopHandler) Devices(int64, string) []bus.Device { return nil }
func (nopHandler) RemoteDevicesChanged(int64, string) {}

// BenchmarkPresenceMemory reports the heap one remote online user costs a
// node (a web device, as the directory keeps it after a change arrives).
func BenchmarkPresenceMemory(b *testing.B) {
	const users = 200_000
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pr := &peer{devices: map[userKey][]bus.Device{}}
		for i := range users {
			var d delta
			data := fmt.Appendf(nil, `{"n":"node2","i":"x","s":%d,"a":1400000001,"u":"user%07d","d":[{"Platform":"Web","ConnID":"%016x","Status":""}]}`, i+1, i, i)
			if err := json.Unmarshal(data, &d); err != nil {
				b.Fatal(err)
			}
			pr.apply(d)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "B/user")
		runtime.KeepAlive(pr)
	}
}
