// Package client is a Go client for chatd's WebSocket protocol (docs/protocol.md).
//
// A Client logs in, sends one-to-one messages (acknowledged once durable), and
// receives every entry of its user's log in order, exactly once: after a reconnect
// it resumes from the last sequence number it delivered and loses nothing.
package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/protocol"
)

// Options say who logs in and where to resume.
type Options struct {
	SDKAppID int64
	User     string
	UserSig  string
	Platform string // iOS, Android, Web, Windows, Mac, iPad, Linux, Unknown; default "Unknown"
	// After is the last sequence number the caller already has. Entries after it are
	// delivered first (a resync), then live ones. Use -1 to skip history and receive
	// only entries that arrive after login.
	After int64
	// Buffer is the capacity of the Entries channel (default 1024).
	Buffer int
	// TLSConfig, when set, is used for wss:// (e.g. to trust a private CA).
	TLSConfig *tls.Config
}

// Entry is one item of the user's log: a message ("msg"), a recall or a read receipt.
type Entry = protocol.Entry

// Ack is the server's acknowledgement of a durable send.
type Ack struct {
	MsgKey    string
	MsgTime   int64
	Seq       int64 // the message's position in the sender's own log
	Duplicate bool  // the same ClientMsgID was sent before; nothing new was stored
}

// Error is a failure reported by the server, with the reference error code.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("chatd: %d: %s", e.Code, e.Message) }

type frame = protocol.Frame

// Client is one logged-in device.
type Client struct {
	conn    *websocket.Conn
	writeMu sync.Mutex
	entries chan Entry
	done    chan struct{}

	mu      sync.Mutex
	nextID  uint64
	pending map[string]chan frame
	err     error  // why the connection ended
	kicked  string // reason, when the server kicked this device

	convCh  chan ConvChange // conv_changed pushes (conversations.go), under mu
	groupFn func(Entry)     // group entry handler (groups.go), under mu

	receiptFn      func(string, []GroupReceipt) // group_receipt_update handler (group_receipts.go), under mu
	groupRequestFn func(GroupRequest)           // group_requests.go

	applyMu  sync.Mutex
	applied  int64 // highest seq delivered on Entries
	syncing  bool
	again    bool    // a log_head beyond applied came during a sync: sync once more
	buffered []Entry // live entries that arrived during a sync
	closed   bool    // Entries is closed
	ConnID   string
	caps     Capabilities    // from the login reply
	statuses chan UserStatus // status notices (status.go)
	// LoginSeq is the newest seq of the user's log when the login was accepted.
	LoginSeq int64
}

// Dial connects to url (ws://host:port/v1/ws), logs in and starts delivering entries.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	if opts.Platform == "" {
		opts.Platform = "Unknown"
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 1024
	}
	dialer := websocket.Dialer{TLSClientConfig: opts.TLSConfig, HandshakeTimeout: 30 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	conn.SetReadLimit(16 << 20) // sync pages can be large
	c := &Client{conn: conn, entries: make(chan Entry, opts.Buffer), done: make(chan struct{}), pending: map[string]chan frame{},
		statuses: make(chan UserStatus, statusBuffer)}
	reply := c.await("login")
	c.syncing = true // hold live entries until the resync below has run
	go c.readLoop()
	if err := c.write(ctx, frame{Op: "login", ID: "login", SDKAppID: opts.SDKAppID, User: opts.User, UserSig: opts.UserSig, Platform: opts.Platform}); err != nil {
		conn.Close()
		return nil, err
	}
	f, err := c.wait(ctx, reply)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if f.Code != 0 {
		conn.Close()
		return nil, &Error{Code: f.Code, Message: f.Message}
	}
	c.ConnID, c.LoginSeq = f.ConnID, f.Seq
	c.caps = Capabilities{Edition: f.Edition, Features: f.Features}
	after := opts.After
	if after < 0 {
		after = f.Seq
	}
	c.applyMu.Lock() // the read loop may be handling a push already
	c.applied = after
	c.applyMu.Unlock()
	// The resync runs in the background: the caller reads Entries while it runs.
	go c.resync()
	return c, nil
}

// Entries delivers the user's log entries in sequence order, each once, and
// online-only messages (Seq 0: sent with MsgLifeTime 0, never stored) as they
// arrive; those move no position. It is closed when the connection ends.
func (c *Client) Entries() <-chan Entry { return c.entries }

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (nil while it is open).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Kicked returns the server's reason when it ended the session, or "".
func (c *Client) Kicked() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kicked
}

// Applied returns the highest sequence number delivered so far.
func (c *Client) Applied() int64 {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	return c.applied
}

// Close ends the connection.
func (c *Client) Close() error {
	c.writeMu.Lock()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	c.writeMu.Unlock()
	return c.conn.Close()
}

// Send sends a one-to-one message and returns once it is durable. clientMsgID makes a
// retry safe: a resend with the same id returns the original ack and stores nothing.
// The message's entry in the user's log is delivered on Entries as well, in seq
// order (the server puts it in the ack, not in a push of its own). Send may be called from many goroutines at once: the sends are
// pipelined on the connection and answered by id.
func (c *Client) Send(ctx context.Context, to, clientMsgID string, body json.RawMessage) (Ack, error) {
	f, err := c.call(ctx, frame{Op: "send", To: to, ClientMsgID: clientMsgID, Body: body})
	if err != nil {
		return Ack{}, err
	}
	return Ack{MsgKey: f.MsgKey, MsgTime: f.MsgTime, Seq: f.Seq, Duplicate: f.Duplicate}, nil
}

// SendText sends a text message.
func (c *Client) SendText(ctx context.Context, to, clientMsgID, text string) (Ack, error) {
	body, _ := json.Marshal([]map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": text}}})
	return c.Send(ctx, to, clientMsgID, body)
}

// MarkRead reports that the user has read the conversation with peer up to now.
func (c *Client) MarkRead(ctx context.Context, peer string) error {
	_, err := c.call(ctx, frame{Op: "read", Peer: peer})
	return err
}

// Recall withdraws a message the user sent to peer.
func (c *Client) Recall(ctx context.Context, peer, msgKey string) error {
	_, err := c.call(ctx, frame{Op: "recall", Peer: peer, MsgKey: msgKey})
	return err
}

// Ping checks the connection (and keeps it alive: send one at least every minute).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, frame{Op: "ping"})
	return err
}

// Sync fetches entries after seq directly, without delivering them on Entries.
func (c *Client) Sync(ctx context.Context, after int64, limit int) ([]Entry, bool, error) {
	f, err := c.call(ctx, frame{Op: "sync", After: after, Limit: limit})
	if err != nil {
		return nil, false, err
	}
	return f.Entries, f.Complete, nil
}

func (c *Client) call(ctx context.Context, req frame) (frame, error) {
	c.mu.Lock()
	c.nextID++
	req.ID = strconv.FormatUint(c.nextID, 10)
	c.mu.Unlock()
	reply := c.await(req.ID)
	if err := c.write(ctx, req); err != nil {
		c.forget(req.ID)
		return frame{}, c.ended(ctx, err)
	}
	f, err := c.wait(ctx, reply)
	if err != nil {
		c.forget(req.ID)
		return frame{}, err
	}
	if f.Code != 0 {
		return f, &Error{Code: f.Code, Message: f.Message}
	}
	return f, nil
}

// wait waits for the reply to a request. The server may answer and then close
// the connection (a refused login, an app that became inactive): a reply that
// arrived before the end wins over the end.
func (c *Client) wait(ctx context.Context, reply chan frame) (frame, error) {
	select {
	case f := <-reply:
		return f, nil
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-c.done:
		select {
		case f := <-reply:
			return f, nil
		default:
			return frame{}, c.Err()
		}
	}
}

// ended returns why a request could not be written: the reason the session ended
// (a refusal or kick the server sent before closing) once the read side has seen
// the end, or err when ctx ends first. A failed write leaves the connection
// unusable, so it is closed.
func (c *Client) ended(ctx context.Context, err error) error {
	c.conn.Close()
	select {
	case <-c.done:
		return c.Err()
	case <-ctx.Done():
		return err
	}
}

// setErr records why the session ends, unless a reason is known already.
func (c *Client) setErr(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (c *Client) await(id string) chan frame {
	ch := make(chan frame, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	return ch
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func (c *Client) write(ctx context.Context, f frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	// The WebSocket library allows one writer at a time.
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = c.conn.SetWriteDeadline(deadline)
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func (c *Client) readLoop() {
	defer func() {
		close(c.done)
		c.applyMu.Lock()
		c.closed = true
		close(c.entries)
		c.applyMu.Unlock()
	}()
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.setErr(err)
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		switch f.Op {
		case "entry":
			if f.Entry != nil {
				c.live(*f.Entry)
			}
		case protocol.OpLogHead:
			c.logHead(f.Seq)
		case "status":
			c.statusNotice(f)
		case protocol.OpConvChanged:
			c.convPush(f) // conversations.go
		case protocol.OpGroupEntry:
			c.groupEntry(f.Entry) // groups.go
		case protocol.OpGroupReceiptUpdate:
			c.groupReceipts(f) // group_receipts.go
		case "group_application", "group_invitation":
			c.groupRequest(f) // group_requests.go
		case "kicked":
			c.mu.Lock()
			c.kicked = f.Reason
			c.err = &Error{Code: f.Code, Message: "kicked: " + f.Reason}
			c.mu.Unlock()
		default:
			if f.Op == "send" && f.Code == 0 && f.Entry != nil {
				// The sender's own copy comes in its ack, at its place in the
				// stream: applied here, before the ack is handed to Send.
				c.live(*f.Entry)
			}
			if f.Op == protocol.OpGroupSend && f.Code == 0 && f.Entry != nil {
				c.groupEntry(f.Entry) // the device's own group message (groups.go)
			}
			c.mu.Lock()
			ch := c.pending[f.ID]
			delete(c.pending, f.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		}
	}
}

// live handles a pushed entry: in order it is delivered; after a gap (a missed push)
// or during a sync it is held and a sync fills the gap. An online-only message
// (Seq 0) is not in the log: it is delivered at once and moves no position.
func (c *Client) live(e Entry) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	switch {
	case e.Seq == 0:
		if !c.closed {
			c.entries <- e
		}
	case e.Seq <= c.applied:
		return // already delivered (by a sync)
	case c.syncing:
		c.buffered = append(c.buffered, e)
	case e.Seq == c.applied+1:
		c.emit(e)
	default:
		c.buffered = append(c.buffered, e)
		c.syncing = true
		go c.resync()
	}
}

// logHead handles a log_head push: the user's log reaches seq. Beyond the
// last delivered entry, pushes were lost and a sync delivers the missing
// entries (once each); a sync already running syncs once more before it ends,
// since its last page may have been read before seq was written.
func (c *Client) logHead(seq int64) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	switch {
	case seq <= c.applied:
	case c.syncing:
		c.again = true
	default:
		c.syncing = true
		go c.resync()
	}
}

// emit delivers e; the caller holds applyMu.
func (c *Client) emit(e Entry) {
	if c.closed {
		return
	}
	c.applied = e.Seq
	c.entries <- e
}

// resync runs catchUp. A failure ends the session: the server refused the sync
// (its error becomes the reason Err reports) or the connection is gone.
func (c *Client) resync() {
	if err := c.catchUp(context.Background()); err != nil {
		c.setErr(err)
		c.conn.Close()
	}
}

// catchUp syncs from the last delivered seq until the server says complete, then
// releases the live entries held meanwhile.
func (c *Client) catchUp(ctx context.Context) error {
	for {
		c.applyMu.Lock()
		after := c.applied
		c.applyMu.Unlock()
		entries, complete, err := c.Sync(ctx, after, 500)
		if err != nil {
			return err
		}
		c.applyMu.Lock()
		for _, e := range entries {
			if e.Seq > c.applied {
				c.emit(e)
			}
		}
		if complete {
			held := c.buffered
			c.buffered = nil
			gap := false
			for _, e := range held {
				if e.Seq == c.applied+1 {
					c.emit(e)
				} else if e.Seq > c.applied+1 {
					gap = true
				}
			}
			if !gap && c.again {
				c.again = false // a log_head came meanwhile: one more round
			} else if !gap {
				c.syncing = false
				c.applyMu.Unlock()
				return nil
			}
		}
		c.applyMu.Unlock()
	}
}
