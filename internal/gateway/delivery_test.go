package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
)

// heldStore is the writer's store; hold makes its Apply calls wait until the
// returned release is called, so that sends pile up in flight.
type heldStore struct {
	store.Messages
	mu   sync.Mutex
	gate chan struct{}
}

// hold makes Apply calls wait until release, which may be called more than once.
func (h *heldStore) hold() (release func()) {
	g := make(chan struct{})
	h.mu.Lock()
	h.gate = g
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			h.gate = nil
			h.mu.Unlock()
			close(g)
		})
	}
}

func (h *heldStore) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	h.mu.Lock()
	g := h.gate
	h.mu.Unlock()
	if g != nil {
		<-g
	}
	return h.Messages.Apply(ctx, ops)
}

// readFrame reads the next frame of a raw connection.
func readFrame(t testing.TB, c *websocket.Conn) gateway.Frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f gateway.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFrame(t testing.TB, c *websocket.Conn, frame string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
}

func sendFrame(id int, to string) string {
	return fmt.Sprintf(`{"op":"send","id":"%d","to":"%s","client_msg_id":"c%d","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"m%d"}}]}`, id, to, id, id)
}

// A device sends N messages without waiting: the gateway keeps reading while
// none is durable yet (its ping is answered first), runs no goroutine per send,
// and then answers every send by id, in order, each ack carrying the sender's
// copy with the next seq of its log. The sending device gets no push of its own
// messages; the sender's other device and the receiver get one each.
func TestPipelinedSends(t *testing.T) {
	const n = 200
	e := newEnv(t, catalog.Trial)
	sender, other, bob := e.rawLogin("alice"), e.rawLogin("alice"), e.rawLogin("bob")
	base := runtime.NumGoroutine()
	release := e.held.hold()
	defer release() // a failure must not leave the writer waiting
	for i := 1; i <= n; i++ {
		writeFrame(t, sender, sendFrame(i, "bob"))
	}
	writeFrame(t, sender, `{"op":"ping","id":"p"}`)
	if f := readFrame(t, sender); f.Op != gateway.OpPong {
		t.Fatalf("while %d sends wait for the store, the next frame got %+v; want the pong", n, f)
	}
	// Every send is in flight now (the ping was read after them).
	if g := runtime.NumGoroutine(); g > base+8 {
		t.Fatalf("%d goroutines with %d sends in flight, %d before: a goroutine per send?", g, n, base)
	}
	release()
	for i := 1; i <= n; i++ {
		f := readFrame(t, sender)
		if f.Op != gateway.OpSend || f.ID != strconv.Itoa(i) || f.Code != 0 {
			t.Fatalf("frame %d: %+v; want the ack of send %d", i, f, i)
		}
		if f.Seq != int64(i) || f.Entry == nil || f.Entry.Seq != f.Seq || f.Entry.ClientMsgID != "c"+f.ID || f.Entry.MsgKey != f.MsgKey || f.ClientMsgID != "c"+f.ID {
			t.Fatalf("ack %d: seq %d, entry %+v; want seq %d with the sender's copy", i, f.Seq, f.Entry, i)
		}
	}
	// Nothing else was queued for the sending device: the next frame is the pong.
	writeFrame(t, sender, `{"op":"ping","id":"q"}`)
	if f := readFrame(t, sender); f.Op != gateway.OpPong {
		t.Fatalf("after the acks: %+v; want the pong (no push of the device's own messages)", f)
	}
	for _, dev := range []struct {
		c    *websocket.Conn
		what string
	}{{other, "alice's other device"}, {bob, "bob"}} {
		for i := 1; i <= n; i++ {
			f := readFrame(t, dev.c)
			if f.Op != gateway.OpEntry || f.Entry == nil || f.Entry.Seq != int64(i) || f.Entry.ClientMsgID != "c"+strconv.Itoa(i) {
				t.Fatalf("%s, frame %d: %+v; want the entry of message %d", dev.what, i, f, i)
			}
		}
	}
}

// A device may have more sends outstanding than MaxSendsInFlight: the rest are
// read as earlier ones are answered, and every one is answered, in order.
func TestSendsBeyondTheInFlightBound(t *testing.T) {
	const n = gateway.MaxSendsInFlight + 100
	e := newEnv(t, catalog.Trial)
	sender := e.rawLogin("alice")
	done := make(chan error, 1)
	go func() { // written while acks are read: TCP buffers need not hold them all
		for i := 1; i <= n; i++ {
			_ = sender.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := sender.WriteMessage(websocket.TextMessage, []byte(sendFrame(i, "bob"))); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 1; i <= n; i++ {
		if f := readFrame(t, sender); f.ID != strconv.Itoa(i) || f.Code != 0 || f.Seq != int64(i) {
			t.Fatalf("reply %d: %+v", i, f)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A failed send and a duplicate are answered by id without an entry; the
// pipeline goes on.
func TestPipelinedSendOutcomes(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	sender := e.rawLogin("alice")
	writeFrame(t, sender, sendFrame(1, "bob"))
	writeFrame(t, sender, sendFrame(2, "nobody"))
	writeFrame(t, sender, `{"op":"send","id":"3","to":"bob","client_msg_id":"c1","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"again"}}]}`)
	writeFrame(t, sender, sendFrame(4, "bob"))
	// The refused send is answered on the read goroutine, maybe before the
	// others are durable: replies come by id.
	got := map[string]gateway.Frame{}
	for i := 0; i < 4; i++ {
		f := readFrame(t, sender)
		got[f.ID] = f
	}
	first := got["1"]
	if first.Code != 0 || first.Seq != 1 || first.Entry == nil {
		t.Fatalf("first: %+v", first)
	}
	if f := got["2"]; f.Code == 0 || f.Entry != nil {
		t.Fatalf("send to an unknown user: %+v", f)
	}
	if f := got["3"]; f.Code != 0 || !f.Duplicate || f.Seq != 1 || f.MsgKey != first.MsgKey || f.Entry != nil {
		t.Fatalf("duplicate: %+v; want the first ack's seq and key, no entry", f)
	}
	if f := got["4"]; f.Code != 0 || f.Seq != 2 || f.Entry == nil || f.Entry.Seq != 2 {
		t.Fatalf("fourth: %+v", f)
	}
}

// When the delivery of the sender's copy is lost on the way, the send is still
// answered (without the entry), and the device fills the gap by a sync.
func TestAckWhenTheSendersDeliveryIsLost(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	sender := e.rawLogin("alice")
	e.lossy.dropNext("alice", 1)
	writeFrame(t, sender, sendFrame(1, "bob"))
	if f := readFrame(t, sender); f.ID != "1" || f.Code != 0 || f.Seq != 1 || f.Entry != nil {
		t.Fatalf("%+v; want the ack of seq 1 without the entry", f)
	}
}

// countingListener counts the write calls on the connections it accepts;
// holding makes the next write calls wait until released.
type countingListener struct {
	net.Listener
	writes atomic.Int64
	mu     sync.Mutex
	gate   chan struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) hold() (release func()) {
	g := make(chan struct{})
	l.mu.Lock()
	l.gate = g
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.gate = nil
			l.mu.Unlock()
			close(g)
		})
	}
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	g := c.l.gate
	c.l.mu.Unlock()
	if g != nil {
		<-g
	}
	c.l.writes.Add(1)
	return c.Conn.Write(p)
}

// Frames queued while the device's previous write is under way go out together:
// 100 entries pushed behind a held write take at most 2 write calls, not 100.
func TestFramesAreCoalesced(t *testing.T) {
	const n = 100
	var l *countingListener
	e := newEnvListening(t, catalog.Trial, gateway.Limits{}, gateway.Metrics{}, func(in net.Listener) net.Listener {
		l = &countingListener{Listener: in}
		return l
	})
	bob := e.rawLogin("bob")
	release := l.hold()
	defer release()
	before := l.writes.Load()
	for i := 1; i <= n; i++ {
		e.gw.Deliver([]bus.Delivery{{App: e.app.SDKAppID, User: "bob", Kind: bus.KindEntry,
			Entry: &store.Entry{Seq: int64(i), Kind: store.KindMsg, From: "alice", To: "bob", Peer: "alice", Body: []byte(`[]`)}}})
	}
	release()
	for i := 1; i <= n; i++ {
		if f := readFrame(t, bob); f.Op != gateway.OpEntry || f.Entry == nil || f.Entry.Seq != int64(i) {
			t.Fatalf("frame %d: %+v", i, f)
		}
	}
	if w := l.writes.Load() - before; w > 2 {
		t.Fatalf("%d frames took %d write calls; want at most 2", n, w)
	}
}

// The Go client pipelines sends from many goroutines; its user's log comes out
// of Entries complete and in order, the device's own messages included.
func TestClientPipelinesSends(t *testing.T) {
	const n = 100
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := alice.SendText(ctx, "bob", "c"+strconv.Itoa(i), "hi"); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for want := int64(1); want <= n; want++ {
		select {
		case got := <-alice.Entries():
			if got.Seq != want || got.From != "alice" {
				t.Fatalf("entry %+v; want seq %d from alice", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("entry %d never came", want)
		}
	}
	if a := alice.Applied(); a != n {
		t.Fatalf("applied %d, want %d", a, n)
	}
}

// A WebSocket ping is answered with a pong carrying its payload, written by the
// session's flusher in stream order.
func TestWebSocketPingIsAnswered(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	c := e.rawLogin("alice")
	pongs := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pongs <- data; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	writeFrame(t, c, `{"op":"ping","id":"x"}`)
	if f := readFrame(t, c); f.Op != gateway.OpPong || f.ID != "x" {
		t.Fatalf("%+v; want the pong of x", f)
	}
	select {
	case got := <-pongs:
		if got != "p1" {
			t.Fatalf("pong payload %q, want p1", got)
		}
	default:
		t.Fatal("no WebSocket pong came before the reply to the next frame")
	}
}
