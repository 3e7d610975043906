package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

func importUsers(t testing.TB, e *env, ids ...string) {
	t.Helper()
	for len(ids) > 0 {
		n := min(len(ids), 100) // the import's bound per call
		us := make([]store.User, n)
		for i, id := range ids[:n] {
			us[i] = store.User{UserID: id}
		}
		if err := e.svc.ImportAccounts(context.Background(), e.app, us); err != nil {
			t.Fatal(err)
		}
		ids = ids[n:]
	}
}

func groupEntry(app int64, seq int64, from string, targets ...string) *store.Entry {
	return &store.Entry{App: app, Group: "G", Seq: seq, Kind: store.KindMsg, From: from, MsgSeq: seq, MsgRandom: 9,
		MsgTime: 1764140000, ClientID: "c1", Body: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`),
		CloudCustomData: "x", Targets: targets}
}

// A group entry reaches every member's devices as one group_entry frame; a
// targeted one only its targets and its sender; non-members never.
func TestGroupEntryDelivery(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	importUsers(t, e, "carol", "dave")
	conns := map[string]*websocket.Conn{}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		conns[u] = e.rawLogin(u)
	}
	members := []string{"alice", "bob", "carol"}
	e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, Kind: bus.KindGroup, Entry: groupEntry(e.app.SDKAppID, 1, "alice"), Group: &bus.GroupDelivery{Members: members}}})
	e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, Kind: bus.KindGroup, Entry: groupEntry(e.app.SDKAppID, 2, "alice", "bob"), Group: &bus.GroupDelivery{Members: members}}})
	for _, u := range []string{"alice", "bob"} {
		for seq := int64(1); seq <= 2; seq++ {
			f := readFrame(t, conns[u])
			if f.Op != protocol.OpGroupEntry || f.Entry == nil || f.Entry.Seq != seq || f.Entry.Group != "G" {
				t.Fatalf("%s: %+v", u, f)
			}
		}
	}
	f := readFrame(t, conns["carol"])
	if f.Entry == nil || f.Entry.Seq != 1 {
		t.Fatalf("carol: %+v", f)
	}
	// carol gets nothing more, dave nothing at all: a ping comes back first.
	for _, u := range []string{"carol", "dave"} {
		writeFrame(t, conns[u], `{"op":"ping","id":"p"}`)
		if f := readFrame(t, conns[u]); f.Op != "pong" {
			t.Fatalf("%s got %+v before its pong", u, f)
		}
	}
}

// The encoding of a group entry decodes to the entry's fields.
func TestGroupEntryEncoding(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	c := e.rawLogin("bob")
	ent := groupEntry(e.app.SDKAppID, 7, "alice", "bob")
	ent.NeedReceipt = true
	e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, Kind: bus.KindGroup, Entry: ent, Group: &bus.GroupDelivery{Members: []string{"alice", "bob"}}}})
	f := readFrame(t, c)
	want := protocol.Entry{Group: "G", Seq: 7, Kind: "msg", From: "alice", MsgRandom: 9, MsgTime: 1764140000, ClientMsgID: "c1",
		Body: ent.Body, CloudCustomData: "x", Targets: []string{"bob"}, NeedReceipt: true}
	if f.Entry == nil || !reflect.DeepEqual(*f.Entry, want) {
		t.Fatalf("got %+v\nwant %+v", f.Entry, want)
	}
}

// A device that does not read drops live-room frames once it is behind, and
// stays connected; the drops are counted.
func TestLiveRoomFramesDroppedForSlowReader(t *testing.T) {
	var dropped atomic.Int64
	e := newEnvListening(t, catalog.Trial, gateway.Limits{QueueBytes: 1 << 20}, gateway.Metrics{LiveRoomDropped: func() { dropped.Add(1) }}, nil)
	c := e.rawLogin("bob")
	const n = 20000
	ds := make([]bus.Delivery, n)
	for i := range ds {
		ent := groupEntry(e.app.SDKAppID, int64(i+1), "alice")
		ds[i] = bus.Delivery{App: e.app.SDKAppID, Kind: bus.KindGroup, Entry: ent, Group: &bus.GroupDelivery{Members: []string{"bob"}, LiveRoom: true}}
	}
	e.gw.Deliver(ds) // far faster than loopback drains a queue that nobody reads
	if dropped.Load() == 0 {
		t.Fatal("no live-room frame was dropped")
	}
	// Still connected: what was queued arrives, then the pong.
	writeFrame(t, c, `{"op":"ping","id":"p"}`)
	got := 0
	for {
		f := readFrame(t, c)
		if f.Op == "pong" {
			break
		}
		got++
	}
	if int64(got)+dropped.Load() != n {
		t.Fatalf("%d received + %d dropped != %d", got, dropped.Load(), n)
	}
}

// BenchmarkGroupFanOut measures the delivery of group messages to a group of
// 1,000 members, each with one device on a real WebSocket connection over
// loopback: each op is one entry (a 100-byte text message) delivered to all
// 1,000 devices, published as the writer does (one bus.Delivery per entry, 64
// per Deliver call). Reported: deliveries/s (frames that reached a device per
// second) and allocs/delivery (of the whole process, readers included).
func BenchmarkGroupFanOut(b *testing.B) {
	const members = 1000
	e := newEnvListening(b, catalog.Premium, gateway.Limits{}, gateway.Metrics{}, nil)
	ids := make([]string, members)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%04d", i)
	}
	importUsers(b, e, ids...)
	var target atomic.Int64
	reached := make(chan struct{}, members)
	lost := make(chan error, members)
	for _, id := range ids {
		c := e.rawLogin(id)
		_ = c.SetReadDeadline(time.Time{}) // the login's deadline is for the login
		go func() {
			for n := int64(1); ; n++ {
				if _, _, err := c.NextReader(); err != nil {
					lost <- err // a session ended: fail rather than wait for ever
					return
				}
				if n == target.Load() {
					reached <- struct{}{}
				}
			}
		}()
	}
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a message of about one hundred bytes, as chat messages mostly are, give or take"}}]`)
	const round, batch = 256, 64
	ds := make([]bus.Delivery, batch)
	entries := make([]store.Entry, batch)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(round, b.N-sent)
		target.Store(int64(sent + n))
		for i := 0; i < n; i += batch {
			m := min(batch, n-i)
			for j := range m {
				seq := int64(sent + i + j + 1)
				entries[j] = store.Entry{App: e.app.SDKAppID, Group: "G", Seq: seq, Kind: store.KindMsg, From: "sender", MsgSeq: seq, MsgRandom: 1, MsgTime: 1764140000, Body: body}
				ds[j] = bus.Delivery{App: e.app.SDKAppID, Kind: bus.KindGroup, Entry: &entries[j], Group: &bus.GroupDelivery{Members: ids}}
			}
			e.gw.Deliver(ds[:m])
		}
		for range members {
			select {
			case <-reached:
			case err := <-lost:
				b.Fatalf("a member's connection ended: %v", err)
			}
		}
		sent += n
	}
	took := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.N*members)/took.Seconds(), "deliveries/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N*members), "allocs/delivery")
}
