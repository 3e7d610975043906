package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/jsonscan"
	"github.com/chatd/chatd/protocol"
)

// writeTimeout bounds one frame write; a server that does not read for this long
// is treated as gone (the connection is closed and dialled again).
const writeTimeout = 10 * time.Second

// inFrame is the part of a server frame the generator reads (bodies are skipped).
type inFrame struct {
	Op        string    `json:"op"`
	ID        string    `json:"id"`
	Code      int       `json:"code"`
	Message   string    `json:"message"`
	Seq       int64     `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Complete  bool      `json:"complete"`
	Entry     *inEntry  `json:"entry"`
	Entries   []inEntry `json:"entries"`
}

type inEntry struct {
	Seq         int64  `json:"seq"`
	Kind        string `json:"kind"`
	From        string `json:"from"`
	To          string `json:"to"`
	ClientMsgID string `json:"client_msg_id"`
}

// entryPrefix starts a pushed entry as the server encodes it (protocol.Frame's
// field order); a frame that starts otherwise is decoded in full.
var entryPrefix = []byte(`{"op":"entry"`)

// decode decodes what the generator reads of frame into f (scratch: a buffer
// for unread).
func (c *conn) decode(frame []byte, scratch *[]byte, f *inFrame) bool {
	b := frame
	if short := c.unread((*scratch)[:0], frame); short != nil {
		*scratch, b = short, short
	}
	if scanFrame(b, f) {
		return true
	}
	*f = inFrame{}
	if len(b) < len(frame) && json.Unmarshal(b, f) == nil {
		return true
	}
	*f = inFrame{}
	return json.Unmarshal(frame, f) == nil
}

// scanFrame decodes the frames the generator reads most (send replies and
// pushed entries, as the server writes them) in one strict scan. It reports
// false for anything it does not read (escaped strings, a key that differs from
// one of inFrame's only by case, sync replies), which json.Unmarshal then
// decodes; what it accepts, json.Unmarshal decodes to the same inFrame when
// the frame is valid UTF-8, as the server writes it (FuzzScanFrame).
func scanFrame(b []byte, f *inFrame) bool {
	s := &jsonscan.Scanner{B: b}
	return scanObject(s, func(k []byte) bool {
		switch string(k) {
		case "op":
			return scanString(s, &f.Op)
		case "id":
			return scanString(s, &f.ID)
		case "message":
			return scanString(s, &f.Message)
		case "code":
			n, ok := s.Int()
			f.Code = int(n)
			return ok
		case "seq":
			n, ok := s.Int()
			f.Seq = n
			return ok
		case "duplicate":
			return scanBool(s, &f.Duplicate)
		case "complete":
			return scanBool(s, &f.Complete)
		case "entry":
			if s.Peek() == 'n' {
				return false
			}
			if f.Entry == nil { // a repeated key fills the same entry, as json.Unmarshal does
				f.Entry = new(inEntry)
			}
			e := f.Entry
			return scanObject(s, func(k []byte) bool {
				switch string(k) {
				case "seq":
					n, ok := s.Int()
					e.Seq = n
					return ok
				case "kind":
					return scanString(s, &e.Kind)
				case "from":
					return scanString(s, &e.From)
				case "to":
					return scanString(s, &e.To)
				case "client_msg_id":
					return scanString(s, &e.ClientMsgID)
				}
				return skipOther(s, k, "seq", "kind", "from", "to", "client_msg_id")
			})
		}
		return skipOther(s, k, "op", "id", "message", "code", "seq", "duplicate", "complete", "entry", "entries")
	}) && s.End()
}

// scanObject reads an object, calling member for each key with the scanner at
// its value; member reads the value.
func scanObject(s *jsonscan.Scanner, member func(key []byte) bool) bool {
	if !s.Next('{') {
		return false
	}
	if s.Next('}') {
		return true
	}
	for {
		k, ok := s.PlainString(true)
		if !ok || !s.Next(':') || !member(k) {
			return false
		}
		if s.Next(',') {
			continue
		}
		return s.Next('}')
	}
}

func scanString(s *jsonscan.Scanner, dst *string) bool {
	v, ok := s.PlainString(false)
	*dst = string(v)
	return ok
}

func scanBool(s *jsonscan.Scanner, dst *bool) bool {
	switch {
	case s.Literal("true"):
		*dst = true
	case s.Literal("false"):
		*dst = false
	default:
		return false
	}
	return true
}

// skipOther skips the value of key k, a key the decoder would ignore unless it
// matches one of known without case.
func skipOther(s *jsonscan.Scanner, k []byte, known ...string) bool {
	for _, name := range known {
		if strings.EqualFold(name, string(k)) {
			return false
		}
	}
	return s.Value(0)
}

// unread cuts from a frame what the generator does not read, so that it is not
// decoded: the entry of a send reply (the sender's copy) and the body and what
// follows it in a pushed entry. Both keys are found by their bytes: in valid
// JSON, text with unescaped quotes is never inside a string, and the server
// encodes the frame's and the entry's fields before these (protocol.Frame's
// and protocol.Entry's field order). The result may be invalid JSON if the
// server encodes otherwise; the caller then decodes the whole frame. The
// result is built in dst; nil when there is nothing to cut.
func (c *conn) unread(dst, frame []byte) []byte {
	switch {
	case c.sender && bytes.HasPrefix(frame, sendPrefix):
		if i := bytes.Index(frame, entryKey); i > 0 {
			return append(append(dst[:0], frame[:i]...), '}')
		}
	case !c.sender && bytes.HasPrefix(frame, entryPrefix):
		if i := bytes.Index(frame, bodyKey); i > 0 {
			return append(append(dst[:0], frame[:i]...), "}}"...)
		}
	}
	return nil
}

var (
	sendPrefix = []byte(`{"op":"send",`)
	entryKey   = []byte(`,"entry":{`)
	bodyKey    = []byte(`,"body":`)
)

// msgID is the client_msg_id of a sender's n-th message; msgNum reverses it.
func msgID(buf []byte, n int) []byte { return strconv.AppendInt(append(buf, 'm'), int64(n), 10) }

func msgNum(id string) (int, bool) {
	if len(id) < 2 || id[0] != 'm' {
		return 0, false
	}
	n, err := strconv.Atoi(id[1:])
	return n, err == nil && n >= 0
}

// bitset is a growable set of message numbers.
type bitset []uint64

func (b *bitset) set(n int) {
	for n>>6 >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[n>>6] |= 1 << (n & 63)
}

func (b bitset) has(n int) bool { return n>>6 < len(b) && b[n>>6]&(1<<(n&63)) != 0 }

// conn is one device of the load: a sender (even user index) or its receiver.
type conn struct {
	r          *Run
	user       int
	pair       int
	sender     bool
	self, peer string

	wmu   sync.Mutex      // one writer at a time; orders resends before new sends
	ws    *websocket.Conn // nil while disconnected
	next  int             // sender: messages scheduled so far
	wrote int             // sender: messages written at least once (they are written in order)
	buf   []byte

	pmu     sync.Mutex
	settled bitset // sender: acknowledged or refused: never sent again
	acked   bitset // sender: acknowledged (durable)
	low     int    // sender: every message below is settled

	// Receiver state, owned by the reader goroutine.
	applied int64              // every entry of the user's log up to here has been seen
	ahead   map[int64]struct{} // seqs seen beyond applied+1 (a gap is being synced)
	syncing bool
	seqOf   []int64 // message number → its seq in the receiver's log; 0: not received
}

// dial connects and logs in. A refused login is an error carrying the server's code.
func (c *conn) dial(ctx context.Context) (*websocket.Conn, int64, error) {
	return dialUser(ctx, c.r.users, c.user)
}

// dialUser connects user i of u and logs in; it returns the login's seq.
func dialUser(ctx context.Context, u *Users, i int) (*websocket.Conn, int64, error) {
	d := websocket.Dialer{TLSClientConfig: u.TLS, HandshakeTimeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, resp, err := d.DialContext(ctx, u.DeviceURL(i), nil)
	if err != nil {
		return nil, 0, err
	}
	resp.Body.Close()
	ws.SetReadLimit(16 << 20)
	a := u.App(i)
	login, _ := json.Marshal(protocol.Frame{Op: protocol.OpLogin, ID: "login", SDKAppID: a.ID, User: u.Names[i], UserSig: u.Sig(i), Platform: "Web"})
	_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := ws.WriteMessage(websocket.TextMessage, login); err != nil {
		ws.Close()
		return nil, 0, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, 0, err
		}
		var f inFrame
		if json.Unmarshal(data, &f) != nil || f.Op != protocol.OpLogin {
			continue
		}
		if f.Code != 0 {
			ws.Close()
			return nil, 0, fmt.Errorf("login %s: %d %s", u.Names[i], f.Code, f.Message)
		}
		_ = ws.SetReadDeadline(time.Time{})
		return ws, f.Seq, nil
	}
}

// redial dials until it succeeds or ctx ends, backing off from 50 ms to 1 s.
func (c *conn) redial(ctx context.Context) (*websocket.Conn, bool) {
	wait := 50 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		ws, _, err := c.dial(ctx)
		if err == nil {
			return ws, true
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return nil, false
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// serve reads ws until it fails, then dials again and resumes, until ctx ends.
func (c *conn) serve(ctx context.Context, ws *websocket.Conn) {
	for {
		c.read(ws)
		c.wmu.Lock()
		if c.ws == ws {
			c.ws = nil
		}
		c.wmu.Unlock()
		ws.Close()
		c.syncing = false // a sync in flight died with the connection
		if ctx.Err() != nil {
			return
		}
		var ok bool
		if ws, ok = c.redial(ctx); !ok {
			return
		}
		c.r.reconnects.Add(1)
		c.attach(ws)
	}
}

// attach makes ws the connection. A sender first resends, in order and with their
// client_msg_ids, every message not yet acknowledged or refused; a receiver syncs
// what it missed.
func (c *conn) attach(ws *websocket.Conn) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws = ws
	if !c.sender {
		if !c.syncing {
			c.syncing = true
			c.writeSync()
		}
		return
	}
	for _, n := range c.unsettled() {
		if n < c.wrote {
			c.r.resent.Add(1)
		}
		if !c.write(n) {
			return
		}
	}
}

// unsettled lists, in order, the messages scheduled and neither acknowledged nor
// refused; the caller holds wmu.
func (c *conn) unsettled() []int {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	var todo []int
	for n := c.low; n < c.next; n++ {
		if !c.settled.has(n) {
			todo = append(todo, n)
		}
	}
	return todo
}

// send schedules message n and writes it when connected; a disconnected sender
// writes it after the reconnect.
func (c *conn) send(n int) {
	c.wmu.Lock()
	c.next = n + 1
	if c.ws != nil {
		c.write(n)
	}
	c.wmu.Unlock()
}

// write sends message n on c.ws; the caller holds wmu. A failed write closes the
// connection, which the reader notices.
func (c *conn) write(n int) bool {
	b := append(c.buf[:0], `{"op":"send","id":"`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `","to":"`...)
	b = append(b, c.peer...)
	b = append(b, `","client_msg_id":"`...)
	b = msgID(b, n)
	b = append(b, `","body":`...)
	b = append(b, c.r.cfg.Body...)
	b = append(b, '}')
	c.buf = b
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.ws.Close()
		c.ws = nil
		return false
	}
	if n >= c.wrote {
		c.wrote = n + 1
		c.r.sentAll.Add(1)
		if c.r.measured(c.pair, n) {
			c.r.sent.Add(1)
		}
	}
	return true
}

// writeSync asks for the receiver's entries after applied; the caller holds wmu.
func (c *conn) writeSync() {
	b := strconv.AppendInt(append(c.buf[:0], `{"op":"sync","id":"sync","limit":500,"after":`...), c.applied, 10)
	b = append(b, '}')
	c.buf = b
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.ws.Close()
		c.ws = nil
	}
}

// ping keeps an otherwise silent connection alive.
func (c *conn) ping() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ws != nil {
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"ping","id":"ping"}`)) != nil {
			c.ws.Close()
			c.ws = nil
		}
	}
}

func (c *conn) read(ws *websocket.Conn) {
	var buf bytes.Buffer // reused: one frame at a time
	var cut []byte       // the part of it decoded
	for {
		_, rd, err := ws.NextReader()
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			return
		}
		if c.sender && bytes.HasPrefix(buf.Bytes(), entryPrefix) {
			continue // the sender's own copy: nothing to measure, not worth decoding
		}
		now := time.Now()
		var f inFrame
		if !c.decode(buf.Bytes(), &cut, &f) {
			continue
		}
		switch f.Op {
		case protocol.OpSend:
			if c.sender {
				c.ack(f, now)
			}
		case protocol.OpEntry:
			if !c.sender && f.Entry != nil {
				c.entry(*f.Entry, now)
			}
		case protocol.OpSync:
			if !c.sender {
				c.synced(f, now)
			}
		}
	}
}

// ack settles the message the reply's id names (replies may come in any order).
func (c *conn) ack(f inFrame, now time.Time) {
	n, err := strconv.Atoi(f.ID)
	if err != nil || n < 0 {
		return
	}
	r := c.r
	c.pmu.Lock()
	if c.settled.has(n) {
		c.pmu.Unlock()
		return
	}
	c.settled.set(n)
	if f.Code == 0 {
		c.acked.set(n)
	}
	for c.settled.has(c.low) {
		c.low++
	}
	c.pmu.Unlock()
	if f.Code != 0 {
		r.refused.Add(1)
		r.lastRefusal.Store(fmt.Sprintf("%d %s", f.Code, f.Message))
	} else {
		r.acked.Add(1)
		if f.Duplicate {
			r.dupAcks.Add(1)
		}
		if r.measured(c.pair, n) {
			r.ackLat.Record(now.Sub(r.due(c.pair, n)))
		}
	}
	r.progress()
}

// entry takes one entry of the receiver's log, pushed or synced.
func (c *conn) entry(e inEntry, now time.Time) {
	if e.Seq > 0 {
		switch {
		case e.Seq == c.applied+1:
			c.applied++
			for {
				if _, ok := c.ahead[c.applied+1]; !ok {
					break
				}
				delete(c.ahead, c.applied+1)
				c.applied++
			}
		case e.Seq > c.applied+1:
			c.ahead[e.Seq] = struct{}{}
			if !c.syncing { // a push was missed: fetch the gap
				c.syncing = true
				c.wmu.Lock()
				if c.ws != nil {
					c.writeSync()
				}
				c.wmu.Unlock()
			}
		}
	}
	if e.Kind != "msg" || e.To != c.self || e.From != c.peer {
		return
	}
	n, ok := msgNum(e.ClientMsgID)
	if !ok {
		return
	}
	for n >= len(c.seqOf) {
		c.seqOf = append(c.seqOf, make([]int64, len(c.seqOf)+64)...)
	}
	r := c.r
	switch prev := c.seqOf[n]; {
	case prev == 0:
		c.seqOf[n] = max(e.Seq, 1)
		r.deliveredAll.Add(1)
		if !now.Before(r.mStart) && now.Before(r.mEnd) {
			r.deliveredInWindow.Add(1)
		}
		if r.measured(c.pair, n) {
			r.delivered.Add(1)
			r.lat.Record(now.Sub(r.due(c.pair, n)))
		}
		r.progress()
	case prev != e.Seq && e.Seq > 0:
		r.dupDeliveries.Add(1) // the same client_msg_id stored twice
	}
}

// synced takes a sync reply and asks for the next page until the log is complete.
func (c *conn) synced(f inFrame, now time.Time) {
	if f.Code != 0 {
		c.syncing = false
		return
	}
	for _, e := range f.Entries {
		c.entry(e, now)
	}
	for s := range c.ahead {
		if s <= c.applied {
			delete(c.ahead, s)
		}
	}
	more := !f.Complete || (len(c.ahead) > 0 && len(f.Entries) > 0)
	if !more {
		c.syncing = false
		if len(c.ahead) > 0 { // the log itself skips seqs: do not ask forever
			r := c.r
			r.logGaps.Add(1)
			for s := range c.ahead {
				c.applied = max(c.applied, s)
			}
			clear(c.ahead)
		}
		return
	}
	c.wmu.Lock()
	if c.ws != nil {
		c.writeSync()
	}
	c.wmu.Unlock()
}
