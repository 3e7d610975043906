package client

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/protocol"
)

// A log_head beyond the last delivered entry makes the client sync: the
// entries whose pushes were lost are delivered, each once; a log_head it has
// reached already starts no sync.
func TestLogHeadResyncs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last, head atomic.Int64 // the server's log: 1..last; the next ping's log_head
	var syncs atomic.Int32
	last.Store(2)
	url := fakeServer(t, func(conn *websocket.Conn, f frame) bool {
		r := frame{Op: f.Op, ID: f.ID}
		h := head.Load() // before the reply: the test moves it once the reply is in
		switch f.Op {
		case "login":
			r.Seq = last.Load()
		case "sync":
			syncs.Add(1)
			for s := f.After + 1; s <= last.Load(); s++ {
				r.Entries = append(r.Entries, Entry{Seq: s, Kind: "msg"})
			}
			r.Complete = true
		case "ping":
			r.Op = "pong"
		}
		if err := conn.WriteJSON(r); err != nil {
			return false
		}
		if f.Op == "ping" && h > 0 {
			_ = conn.WriteJSON(frame{Op: protocol.OpLogHead, Seq: h})
		}
		return true
	})
	c, err := Dial(ctx, url, Options{SDKAppID: 1, User: "u", UserSig: "s", After: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect := func(want int64) {
		t.Helper()
		select {
		case e := <-c.Entries():
			if e.Seq != want {
				t.Fatalf("entry %d, want %d", e.Seq, want)
			}
		case <-ctx.Done():
			t.Fatalf("entry %d never came", want)
		}
	}
	expect(1)
	expect(2)

	// Entries 3 and 4 are stored, their pushes lost; the log_head says 4.
	last.Store(4)
	head.Store(4)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	expect(3)
	expect(4)

	// A log_head at or behind what was delivered: no sync.
	head.Store(3)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	head.Store(0)
	if err := c.Ping(ctx); err != nil { // log_head 3 was handled before this pong
		t.Fatal(err)
	}
	c.applyMu.Lock()
	syncing := c.syncing
	c.applyMu.Unlock()
	if syncing || syncs.Load() != 2 || len(c.Entries()) != 0 || c.Applied() != 4 {
		t.Fatalf("after log_head 3: syncing %v, %d syncs, %d entries waiting, applied %d; want false, 2, 0, 4",
			syncing, syncs.Load(), len(c.Entries()), c.Applied())
	}
}
