package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeServer runs a WebSocket server that reads each frame of a connection and
// hands it to serve, which writes what it wants and returns false to end the
// connection. It returns the server's ws:// URL; the server closes with the test.
func fakeServer(t *testing.T, serve func(conn *websocket.Conn, f frame) bool) string {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			var f frame
			if err := conn.ReadJSON(&f); err != nil || !serve(conn, f) {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// answerThenClose is a server that answers the login with loginCode (0: accepted,
// then every sync as complete and every other request with 60020) and closes the
// connection right after any refusal, as chatd does.
func answerThenClose(t *testing.T, loginCode int) string {
	return fakeServer(t, func(conn *websocket.Conn, f frame) bool {
		r := frame{Op: f.Op, ID: f.ID}
		switch {
		case f.Op == "login":
			r.Code = loginCode
		case f.Op == "sync":
			r.Complete = true
		default:
			r.Code = 60020
		}
		if err := conn.WriteJSON(r); err != nil || r.Code != 0 {
			conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "refused"))
			return false
		}
		return true
	})
}

// The refusal the server sends before closing reaches the caller, never the bare
// close: a select over a reply and the end, both ready, must pick the reply.
func TestReplyBeforeCloseWins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	refusing := answerThenClose(t, 70398)
	accepting := answerThenClose(t, 0)
	for i := 0; i < 10; i++ {
		_, err := Dial(ctx, refusing, Options{SDKAppID: 1, User: "u", UserSig: "s"})
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != 70398 {
			t.Fatalf("login %d: %v, want the server's 70398", i, err)
		}
		c, err := Dial(ctx, accepting, Options{SDKAppID: 1, User: "u", UserSig: "s"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Ping(ctx)
		if !errors.As(err, &ce) || ce.Code != 60020 {
			t.Fatalf("ping %d: %v, want the server's 60020", i, err)
		}
		c.Close()
	}
}

// wait prefers a reply that is there over the end of the connection, even when
// both are ready at once (a select alone would pick either at random).
func TestWaitPrefersTheReply(t *testing.T) {
	for i := 0; i < 100; i++ {
		c := &Client{done: make(chan struct{}), err: errors.New("closed")}
		reply := make(chan frame, 1)
		reply <- frame{ID: "1", Code: 70398}
		close(c.done)
		f, err := c.wait(context.Background(), reply)
		if err != nil || f.Code != 70398 {
			t.Fatalf("wait = %+v, %v; want the reply", f, err)
		}
	}
}

// An online-only message (an entry without a seq) is delivered and leaves the
// position alone: the next stored entry follows without a resync.
func TestOnlineOnlyEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	syncs := make(chan struct{}, 10)
	url := fakeServer(t, func(conn *websocket.Conn, f frame) bool {
		r := frame{Op: f.Op, ID: f.ID}
		switch f.Op {
		case "login":
			r.Seq = 1
		case "sync":
			syncs <- struct{}{}
			if f.After < 1 {
				r.Entries = []Entry{{Seq: 1, Kind: "msg"}}
			}
			r.Complete = true
		}
		if err := conn.WriteJSON(r); err != nil {
			return false
		}
		if f.Op == "sync" && len(syncs) == 1 {
			conn.WriteJSON(frame{Op: "entry", Entry: &Entry{Seq: 0, Kind: "msg", MsgKey: "online"}})
			conn.WriteJSON(frame{Op: "entry", Entry: &Entry{Seq: 2, Kind: "msg"}})
		}
		return true
	})
	c, err := Dial(ctx, url, Options{SDKAppID: 1, User: "u", UserSig: "s", After: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var stored []int64
	online := 0
	for len(stored) < 2 || online < 1 {
		select {
		case e := <-c.Entries():
			if e.Seq == 0 {
				online++
			} else {
				stored = append(stored, e.Seq)
			}
		case <-ctx.Done():
			t.Fatalf("got stored %v and %d online entries; want [1 2] and 1", stored, online)
		}
	}
	if stored[0] != 1 || stored[1] != 2 || online != 1 || c.Applied() != 2 || len(syncs) != 1 {
		t.Fatalf("stored %v, online %d, applied %d, syncs %d; want [1 2], 1, 2, 1", stored, online, c.Applied(), len(syncs))
	}
}

// refuseAfterLogin is a server that accepts the login and answers the first frame
// after it with code, then sends "kicked" with that code and closes, as chatd does
// when the app became inactive.
func refuseAfterLogin(t *testing.T, code int) string {
	return fakeServer(t, func(conn *websocket.Conn, f frame) bool {
		if f.Op == "login" {
			_ = conn.WriteJSON(frame{Op: f.Op, ID: f.ID})
			return true
		}
		_ = conn.WriteJSON(frame{Op: f.Op, ID: f.ID, Code: code, Message: "refused"})
		_ = conn.WriteJSON(frame{Op: "kicked", Code: code, Reason: "app inactive"})
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "app inactive"))
		return false
	})
}

// When the server refuses the login's background resync and ends the session, a
// later call reports the server's code, not a bare close or a closed socket.
func TestRefusedResyncReportsTheServersCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, refuseAfterLogin(t, 70020), Options{SDKAppID: 1, User: "u", UserSig: "s"})
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done() // the resync was refused and the session ended
	var ce *Error
	if err := c.Ping(ctx); !errors.As(err, &ce) || ce.Code != 70020 {
		t.Fatalf("ping after the end: %v, want the server's 70020", err)
	}
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != 70020 {
		t.Fatalf("Err() = %v, want the server's 70020", err)
	}
}

// The sender's own copy comes inside the send's ack: the client delivers it on
// Entries and moves its position, so the next push (seq 2) follows without a
// resync.
func TestAckCarriesTheSendersEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	syncs := make(chan struct{}, 10)
	url := fakeServer(t, func(conn *websocket.Conn, f frame) bool {
		r := frame{Op: f.Op, ID: f.ID}
		switch f.Op {
		case "sync":
			syncs <- struct{}{}
			r.Complete = true
		case "send":
			r.Seq, r.MsgKey, r.ClientMsgID = 1, "1_2_3", f.ClientMsgID
			r.Entry = &Entry{Seq: 1, Kind: "msg", From: "u", To: f.To, Peer: f.To, MsgKey: "1_2_3", ClientMsgID: f.ClientMsgID}
		}
		if err := conn.WriteJSON(r); err != nil {
			return false
		}
		if f.Op == "send" {
			conn.WriteJSON(frame{Op: "entry", Entry: &Entry{Seq: 2, Kind: "msg", From: f.To, To: "u", Peer: f.To}})
		}
		return true
	})
	c, err := Dial(ctx, url, Options{SDKAppID: 1, User: "u", UserSig: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ack, err := c.SendText(ctx, "v", "c-1", "hi")
	if err != nil || ack.Seq != 1 || ack.MsgKey != "1_2_3" {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	for want := int64(1); want <= 2; want++ {
		select {
		case e := <-c.Entries():
			if e.Seq != want {
				t.Fatalf("entry seq %d, want %d", e.Seq, want)
			}
		case <-ctx.Done():
			t.Fatalf("entry %d never came", want)
		}
	}
	if len(syncs) != 1 {
		t.Fatalf("%d syncs; want only the login's", len(syncs))
	}
}
