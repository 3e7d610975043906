package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// The group tests speak the WebSocket group ops of docs/protocol.md ("Groups")
// (docs/protocol.md once merged) frame by frame: the Go client does not know
// them yet, and the tests read every field of what the server sends.

// gEntry is an entry of a group's log (the "entry" of a group_entry push).
type gEntry struct {
	Group           string          `json:"group"`
	Seq             int64           `json:"seq"`
	Kind            string          `json:"kind"` // msg, tips, recall
	From            string          `json:"from"`
	MsgTime         int64           `json:"msg_time"`
	MsgRandom       uint32          `json:"msg_random"`
	MsgSeq          int64           `json:"msg_seq"`
	Body            json.RawMessage `json:"body"`
	CloudCustomData string          `json:"cloud_custom_data"`
}

// gFrame is a server frame as the group tests read it.
type gFrame struct {
	Op        string   `json:"op"`
	ID        string   `json:"id"`
	Code      int      `json:"code"`
	Message   string   `json:"message"`
	Group     string   `json:"group"`
	Seq       int64    `json:"seq"`
	MsgTime   int64    `json:"msg_time"`
	Duplicate bool     `json:"duplicate"`
	Reason    string   `json:"reason"`
	Entry     *gEntry  `json:"entry"`
	Entries   []gEntry `json:"entries"`
	Complete  bool     `json:"complete"`
}

// gdev is one logged-in device reading its own frames.
type gdev struct {
	t       *testing.T
	user    string
	ws      *websocket.Conn
	wmu     sync.Mutex
	ids     atomic.Int64
	mu      sync.Mutex
	waiting map[string]chan gFrame
	entries chan gEntry // group_entry pushes, in order
	done    chan struct{}
}

// groupLogin logs user in over WebSocket and starts reading its frames.
func (n *node) groupLogin(a app, user string) *gdev {
	n.t.Helper()
	d, err := n.dialGroup(a, user)
	if err != nil {
		n.t.Fatalf("login %s: %v", user, err)
	}
	n.t.Cleanup(d.close)
	return d
}

func (n *node) dialGroup(a app, user string) (*gdev, error) {
	sig, err := tencentyun.GenUserSig(int(a.id), a.key, user, sigValidity)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dialer := websocket.Dialer{TLSClientConfig: n.tls, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := dialer.DialContext(ctx, strings.Replace(n.url("/v1/ws"), "http", "ws", 1), nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	ws.SetReadLimit(16 << 20)
	login, _ := json.Marshal(map[string]any{"op": "login", "id": "login", "sdkappid": a.id, "user": user, "usersig": sig, "platform": "Web"})
	if err := ws.WriteMessage(websocket.TextMessage, login); err != nil {
		ws.Close()
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, err
		}
		var f gFrame
		if json.Unmarshal(b, &f) != nil || f.Op != "login" {
			continue
		}
		if f.Code != 0 {
			ws.Close()
			return nil, fmt.Errorf("login refused: %d %s", f.Code, f.Message)
		}
		break
	}
	_ = ws.SetReadDeadline(time.Time{})
	d := &gdev{user: user, ws: ws, waiting: map[string]chan gFrame{}, entries: make(chan gEntry, 512), done: make(chan struct{})}
	go d.read()
	return d, nil
}

func (d *gdev) close() { d.ws.Close(); <-d.done }

func (d *gdev) read() {
	defer close(d.done)
	defer close(d.entries)
	for {
		_, b, err := d.ws.ReadMessage()
		if err != nil {
			return
		}
		var f gFrame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		if f.Op == "group_entry" && f.Entry != nil {
			select {
			case d.entries <- *f.Entry:
			default: // a test that stops reading: never block the reader
			}
			continue
		}
		if f.ID == "" {
			continue
		}
		d.mu.Lock()
		ch := d.waiting[f.ID]
		delete(d.waiting, f.ID)
		d.mu.Unlock()
		if ch != nil {
			ch <- f
		}
	}
}

// call sends a frame with op and fields and returns the reply with its id.
// A server without the op (70402 "unknown op") skips the test.
func (d *gdev) call(t *testing.T, op string, fields map[string]any) gFrame {
	t.Helper()
	id := fmt.Sprint(d.ids.Add(1))
	req := map[string]any{"op": op, "id": id}
	for k, v := range fields {
		req[k] = v
	}
	b, _ := json.Marshal(req)
	ch := make(chan gFrame, 1)
	d.mu.Lock()
	d.waiting[id] = ch
	d.mu.Unlock()
	d.wmu.Lock()
	err := d.ws.WriteMessage(websocket.TextMessage, b)
	d.wmu.Unlock()
	if err != nil {
		t.Fatalf("%s: %s: %v", d.user, op, err)
	}
	select {
	case f := <-ch:
		if f.Code == 70402 && strings.Contains(f.Message, "unknown op") {
			t.Skipf("the server lacks the WebSocket op %q (%d %s): groups are not merged yet", op, f.Code, f.Message)
		}
		return f
	case <-d.done:
		t.Fatalf("%s: connection closed waiting for the %s reply", d.user, op)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no %s reply within 20s", d.user, op)
	}
	return gFrame{}
}

// ok is call that fails the test unless the reply's code is 0.
func (d *gdev) ok(t *testing.T, op string, fields map[string]any) gFrame {
	t.Helper()
	f := d.call(t, op, fields)
	if f.Code != 0 {
		t.Fatalf("%s: %s %v: %d %s", d.user, op, fields, f.Code, f.Message)
	}
	return f
}

// nextGroupMsg returns the next group message pushed to d (tips and recalls
// are skipped).
func (d *gdev) nextGroupMsg(t *testing.T) gEntry {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-d.entries:
			if !ok {
				t.Fatalf("%s: connection closed", d.user)
			}
			if e.Kind == "msg" {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no group message within 20s", d.user)
		}
	}
}

// textBody is a one-element TIMTextElem body.
func textBody(s string) []map[string]any {
	return []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": s}}}
}

// bodyText returns the text of a one-element TIMTextElem body.
func bodyText(b json.RawMessage) string {
	var body []struct {
		MsgType    string
		MsgContent struct{ Text string }
	}
	if json.Unmarshal(b, &body) != nil || len(body) != 1 || body[0].MsgType != "TIMTextElem" {
		return fmt.Sprintf("<not one text element: %s>", b)
	}
	return body[0].MsgContent.Text
}

// grest calls a REST command; a server without it (60009) skips the test.
func (n *node) grest(t *testing.T, a app, path string, body any) map[string]any {
	t.Helper()
	v := n.rest(a, path, body)
	if v["ErrorCode"] == float64(60009) {
		t.Skipf("the server lacks %s (60009 %v): groups are not merged yet", path, v["ErrorInfo"])
	}
	return v
}

// grestOK is grest that fails unless the command succeeded.
func (n *node) grestOK(t *testing.T, a app, path string, body any) map[string]any {
	t.Helper()
	v := n.grest(t, a, path, body)
	if v["ActionStatus"] != "OK" || v["ErrorCode"] != float64(0) {
		t.Fatalf("%s %v: %v", path, body, v)
	}
	return v
}

// wantCode fails unless the REST answer carries code.
func wantCode(t *testing.T, what string, v map[string]any, code int) {
	t.Helper()
	if v["ErrorCode"] != float64(code) || v["ActionStatus"] != "FAIL" {
		t.Fatalf("%s: %v, want ActionStatus FAIL and ErrorCode %d", what, v, code)
	}
}

// importUsers imports users 100 at a time.
func (n *node) importUsers(t *testing.T, a app, users []string) {
	t.Helper()
	for i := 0; i < len(users); i += 100 {
		n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users[i:min(i+100, len(users))]})
	}
}

// addMembers adds users to group with add_group_member, 300 at a time, and
// checks that each was added (Result 1).
func (n *node) addMembers(t *testing.T, a app, group string, users []string) {
	t.Helper()
	for i := 0; i < len(users); i += 300 {
		var list []map[string]string
		for _, u := range users[i:min(i+300, len(users))] {
			list = append(list, map[string]string{"Member_Account": u})
		}
		v := n.grestOK(t, a, "group_open_http_svc/add_group_member", map[string]any{"GroupId": group, "Silence": 1, "MemberList": list})
		res, _ := v["MemberList"].([]any)
		if len(res) != len(list) {
			t.Fatalf("add_group_member: %d results for %d members: %v", len(res), len(list), v)
		}
		for _, r := range res {
			if m := r.(map[string]any); m["Result"] != float64(1) {
				t.Fatalf("add_group_member: %v, want Result 1 (added)", m)
			}
		}
	}
}

// createGroup creates a group with create_group and returns its GroupId.
func (n *node) createGroup(t *testing.T, a app, fields map[string]any) string {
	t.Helper()
	v := n.grestOK(t, a, "group_open_http_svc/create_group", fields)
	id, _ := v["GroupId"].(string)
	if id == "" {
		t.Fatalf("create_group %v: no GroupId in %v", fields, v)
	}
	return id
}

func userNames(prefix string, count int) []string {
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}
