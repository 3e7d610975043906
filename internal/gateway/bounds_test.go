package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// meter follows the gateway's queued bytes and the sessions that ended.
type meter struct {
	mu     sync.Mutex
	queued int
	peak   int
	ended  chan struct{}
}

func newMeter() *meter { return &meter{ended: make(chan struct{}, 1024)} }

func (m *meter) metrics() gateway.Metrics {
	return gateway.Metrics{
		QueuedBytes: func(d int) {
			m.mu.Lock()
			m.queued += d
			m.peak = max(m.peak, m.queued)
			m.mu.Unlock()
		},
		Connections: func(d int) {
			if d < 0 {
				m.ended <- struct{}{}
			}
		},
	}
}

func (m *meter) peakBytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

func (m *meter) waitEnded(t *testing.T, what string) {
	t.Helper()
	select {
	case <-m.ended:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the session was not ended", what)
	}
}

// rawLogin opens a WebSocket and logs user in with raw frames.
func (e *env) rawLogin(user string) *websocket.Conn {
	e.t.Helper()
	c := e.raw()
	login := `{"op":"login","id":"l","sdkappid":` + jsonInt(e.app.SDKAppID) + `,"user":"` + user + `","usersig":"` + e.sig(user) + `","platform":"Web"}`
	if f := roundTrip(e.t, c, login); f.Code != 0 {
		e.t.Fatalf("login: %+v", f)
	}
	return c
}

// bigText is a message body of about n bytes.
func bigText(n int) json.RawMessage {
	b, _ := json.Marshal([]map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": strings.Repeat("x", n)}}})
	return b
}

// The attack of issue 7: a device with many stored 11 KB messages asks for the
// largest sync page over and over and does not read. What is queued for it stays
// under the per-session byte cap, each sync reply stays within its byte budget,
// and the device is cut off.
func TestSyncFloodOfASlowReaderIsBounded(t *testing.T) {
	const queueCap = 2 << 20
	m := newMeter()
	e := newEnvWith(t, catalog.Trial, gateway.Limits{QueueBytes: queueCap, WriteTimeout: 300 * time.Millisecond}, m.metrics())
	ctx := context.Background()
	for i := 0; i < 150; i++ {
		if _, err := e.svc.Send(ctx, e.app, im.SendRequest{From: "alice", To: "bob", Body: bigText(11000)}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.rawLogin("bob")
	go func() { // the attacker writes until the server stops reading or closes
		for i := 0; i < 64; i++ {
			_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"op":"sync","id":"%d","after":0,"limit":500}`, i))) != nil {
				return
			}
		}
	}()
	m.waitEnded(t, "sync flood")
	if p := m.peakBytes(); p > queueCap {
		t.Fatalf("%d bytes were queued for one device; the cap is %d", p, queueCap)
	}
	// What did reach the device: sync replies within the byte budget, each saying
	// that more is to come.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			break
		}
		var f gateway.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		if f.Op == gateway.OpSync && (len(data) > gateway.MaxSyncReplyBytes || f.Complete || len(f.Entries) == 0) {
			t.Fatalf("sync reply of %d bytes, %d entries, complete=%v; budget %d", len(data), len(f.Entries), f.Complete, gateway.MaxSyncReplyBytes)
		}
	}
}

// A device that reads nothing while entries are pushed to it is disconnected once
// its queue holds more than the byte cap, not after thousands of frames.
func TestSlowReaderIsCutOffByQueuedBytes(t *testing.T) {
	const queueCap = 256 << 10
	m := newMeter()
	e := newEnvWith(t, catalog.Trial, gateway.Limits{QueueBytes: queueCap}, m.metrics())
	e.rawLogin("bob")
	body := bigText(11000)
	// 22 MB in all: more than the socket buffers hold, far less than 4,096 frames.
	for i := 1; i <= 2000; i++ {
		e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, User: "bob", Kind: bus.KindEntry,
			Entry: &store.Entry{Seq: int64(i), Kind: store.KindMsg, From: "alice", To: "bob", Peer: "alice", Body: body}}})
	}
	m.waitEnded(t, "slow reader")
	if p := m.peakBytes(); p > queueCap {
		t.Fatalf("%d bytes were queued for one device; the cap is %d", p, queueCap)
	}
}

// Logins beyond the per-user and per-app session caps are refused with their
// codes; a closed session frees its place.
func TestSessionCaps(t *testing.T) {
	m := newMeter()
	e := newEnvWith(t, catalog.Trial, gateway.Limits{SessionsPerUser: 2, SessionsPerApp: 3}, m.metrics())
	if err := e.svc.ImportAccounts(context.Background(), e.app, []store.User{{UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	dial := func(user string) (*client.Client, int) {
		t.Helper()
		c, err := e.dial(user, "Web")
		var ce *client.Error
		switch {
		case err == nil:
			return c, 0
		case errors.As(err, &ce):
			return nil, ce.Code
		}
		t.Fatal(err)
		return nil, 0
	}
	a1, code := dial("alice")
	if code != 0 {
		t.Fatalf("first alice: %d", code)
	}
	if _, code := dial("alice"); code != 0 {
		t.Fatalf("second alice: %d", code)
	}
	if _, code := dial("alice"); code != errs.SessionsPerUser {
		t.Fatalf("third alice: %d, want %d", code, errs.SessionsPerUser)
	}
	if _, code := dial("bob"); code != 0 {
		t.Fatalf("bob: %d", code)
	}
	if _, code := dial("carol"); code != errs.SessionsPerApp {
		t.Fatalf("carol with the app full: %d, want %d", code, errs.SessionsPerApp)
	}
	a1.Close()
	m.waitEnded(t, "closed session")
	if _, code := dial("carol"); code != 0 {
		t.Fatalf("carol after a session ended: %d", code)
	}
}

// Slow devices of several users cannot together queue more than the node's cap,
// though each stays under its own: the device whose frame would pass the node's
// cap is disconnected.
func TestSlowReadersAreBoundedPerNode(t *testing.T) {
	const queueCap, nodeCap = 256 << 10, 300 << 10
	m := newMeter()
	e := newEnvWith(t, catalog.Trial, gateway.Limits{QueueBytes: queueCap, NodeQueueBytes: nodeCap}, m.metrics())
	if err := e.svc.ImportAccounts(context.Background(), e.app, []store.User{{UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	e.rawLogin("bob")
	e.rawLogin("carol")
	body := bigText(11000)
	// 11 MB for each: more than the socket buffers hold.
	for i := 1; i <= 1000; i++ {
		for _, u := range []string{"bob", "carol"} {
			e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, User: u, Kind: bus.KindEntry,
				Entry: &store.Entry{Seq: int64(i), Kind: store.KindMsg, From: "alice", To: u, Peer: "alice", Body: body}}})
		}
	}
	m.waitEnded(t, "first slow reader")
	m.waitEnded(t, "second slow reader")
	if p := m.peakBytes(); p > nodeCap {
		t.Fatalf("%d bytes were queued on the node; its cap is %d", p, nodeCap)
	}
}
