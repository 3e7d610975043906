package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeGroupServer speaks the group ops of docs/protocol.md ("Groups") as chatd encodes
// them (gateway groups.go): login, group_join, group_sync (nothing stored) and
// group_send, answered to the sender with its entry and pushed once to every
// other connection. dropEvery > 0 skips the push of every dropEvery-th seq to
// the last connection (a live room dropping for a slow reader); unknown
// answers every group op with 70402 "unknown op".
type fakeGroupServer struct {
	mu        sync.Mutex
	conns     []*fakeConn
	seq       int64
	dropEvery int64
	unknown   bool
}

type fakeConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *fakeConn) write(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
}

func (s *fakeGroupServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &fakeConn{ws: ws}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	defer ws.Close()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			Op, ID, Group   string
			ClientMsgID     string          `json:"client_msg_id"`
			CloudCustomData string          `json:"cloud_custom_data"`
			Body            json.RawMessage `json:"body"`
		}
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		reply := func(extra string) { c.write([]byte(`{"op":"` + f.Op + `","id":"` + f.ID + `","code":0` + extra + `}`)) }
		if s.unknown && strings.HasPrefix(f.Op, "group_") {
			c.write([]byte(`{"op":"` + f.Op + `","id":"` + f.ID + `","code":70402,"message":"unknown op \"` + f.Op + `\""}`))
			continue
		}
		switch f.Op {
		case "login":
			reply(`,"seq":0`)
		case "group_join", "ping":
			reply("")
		case "group_sync":
			reply(`,"complete":true`)
		case "group_send":
			s.mu.Lock()
			s.seq++
			seq := strconv.FormatInt(s.seq, 10)
			gj, _ := json.Marshal(f.Group)
			entry := `{"group":` + string(gj) + `,"seq":` + seq + `,"kind":"msg","from":"g000000","msg_random":1,"msg_time":1700000000,"client_msg_id":"` +
				f.ClientMsgID + `","body":` + string(f.Body) + `,"cloud_custom_data":"` + f.CloudCustomData + `"}`
			push := []byte(`{"op":"group_entry","code":0,"entry":` + entry + `}`)
			// The member that misses pushes: the last connection that is not
			// the sender's (connections register in any order).
			victim := len(s.conns) - 1
			if victim >= 0 && s.conns[victim] == c {
				victim--
			}
			for i, o := range s.conns {
				if o == c || (s.dropEvery > 0 && i == victim && s.seq%s.dropEvery == 0) {
					continue
				}
				o.write(push)
			}
			s.mu.Unlock()
			c.write([]byte(`{"op":"group_send","id":"` + f.ID + `","code":0,"client_msg_id":"` + f.ClientMsgID + `","msg_time":1700000000,"seq":` + seq +
				`,"entry":` + entry + `,"group":` + string(gj) + `}`))
		}
	}
}

func fakeGroupUsers(url string, members int, live bool) *GroupUsers {
	u := &Users{Server: url, HTTP: http.DefaultClient, Apps: []App{{1400000001, "key"}}}
	for i := range members {
		u.Names = append(u.Names, "g"+strconv.Itoa(i))
	}
	return &GroupUsers{Users: u, Group: "@TGS#fake", LiveRoom: live}
}

// The whole group run against a fake server: every message reaches every
// member but the sender once; a live room's drops show as seq gaps and
// undelivered messages, nothing else.
func TestGroupRunAgainstFakeServer(t *testing.T) {
	for _, tc := range []struct {
		live      bool
		dropEvery int64
	}{{false, 0}, {true, 0}, {true, 5}} {
		fake := &fakeGroupServer{dropEvery: tc.dropEvery}
		srv := httptest.NewServer(fake)
		users := fakeGroupUsers(srv.URL, 8, tc.live)
		drain := 10 * time.Second // ends early once every delivery is in
		if tc.dropEvery > 0 {
			drain = 300 * time.Millisecond // dropped messages never come
		}
		run, err := ConnectGroup(context.Background(), users, GroupConfig{Rate: 200, Warmup: 50 * time.Millisecond, Duration: 250 * time.Millisecond, Drain: drain})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := run.Run(context.Background())
		run.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Acked != rep.Scheduled || rep.Refused != 0 || rep.Sent == 0 || rep.ExpectedDeliveries != 7*rep.Sent || rep.DupDeliveries != 0 || rep.Disconnects != 0 {
			t.Fatalf("%+v: %s", tc, rep.Text())
		}
		drops := int64(0)
		if tc.dropEvery > 0 {
			drops = rep.Scheduled / tc.dropEvery // the last member misses every 5th seq
		}
		// A gap shows once a later seq arrives: a drop of the very last seq is
		// undelivered but not (yet) a gap.
		if rep.GapSeqs != drops && rep.GapSeqs != drops-1 {
			t.Fatalf("%+v: gaps %d, want %d: %s", tc, rep.GapSeqs, drops, rep.Text())
		}
		if tc.dropEvery == 0 && (rep.Undelivered != 0 || rep.Latency.N != uint64(rep.Delivered)) {
			t.Fatalf("%+v: %s", tc, rep.Text())
		}
		if tc.dropEvery > 0 && (rep.Undelivered == 0 || rep.Undelivered > drops) {
			t.Fatalf("%+v: undelivered %d, want between 1 and the %d drops: %s", tc, rep.Undelivered, drops, rep.Text())
		}
	}
}

// A server without the group ops is ErrUnsupported.
func TestConnectGroupUnsupported(t *testing.T) {
	for _, live := range []bool{false, true} {
		srv := httptest.NewServer(&fakeGroupServer{unknown: true})
		_, err := ConnectGroup(context.Background(), fakeGroupUsers(srv.URL, 3, live), GroupConfig{Rate: 10, Duration: time.Second})
		srv.Close()
		if !IsUnsupported(err) {
			t.Fatalf("live %v: %v, want ErrUnsupported", live, err)
		}
	}
}
