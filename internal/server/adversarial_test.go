package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/restapi"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
	"github.com/chatd/chatd/protocol"
)

// poisons are byte sequences no stored string may hold, as they appear inside a
// JSON string: a NUL escape, a raw NUL, invalid UTF-8 (a stray byte, a truncated
// sequence) and an unpaired surrogate escape.
var poisons = map[string]string{
	"nul escape": `\u0000`, "raw nul": "\x00", "byte ff": "\xff", "truncated": "\xc3", "lone surrogate": `\ud800`,
}

// queryPoisons are the same in a URL query, percent-encoded.
var queryPoisons = map[string]string{
	"nul escape": "%00", "raw nul": "%00", "byte ff": "%FF", "truncated": "%C3", "lone surrogate": "%ED%A0%80",
}

// restBodies are bodies of the served commands with every string field marked
// %[1]s, where a poison goes. A command without an entry gets genericBody, so a new
// command is swept too.
var restBodies = map[string]string{
	"im_open_login_svc/account_import":      `{"UserID":"mallory%[1]s","Nick":"n%[1]s","FaceUrl":"f%[1]s"}`,
	"im_open_login_svc/multiaccount_import": `{"Accounts":["mallory%[1]s"],"AccountList":[{"UserID":"mallory%[1]s","Nick":"n%[1]s","FaceUrl":"f%[1]s"}]}`,
	"im_open_login_svc/account_delete":      `{"DeleteItem":[{"UserID":"alice%[1]s"}]}`,
	"im_open_login_svc/account_check":       `{"CheckItem":[{"UserID":"alice%[1]s"}]}`,
	"im_open_login_svc/kick":                `{"UserID":"alice%[1]s"}`,
	"openim/query_online_status":            `{"To_Account":["alice%[1]s"]}`,
	"openim/sendmsg":                        `{"From_Account":"alice%[1]s","To_Account":"bob%[1]s","MsgRandom":7,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi%[1]s"}}],"CloudCustomData":"c%[1]s"}`,
	"openim/batchsendmsg":                   `{"From_Account":"alice%[1]s","To_Account":["bob%[1]s"],"MsgRandom":7,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi%[1]s"}}],"CloudCustomData":"c%[1]s"}`,
	"openim/importmsg":                      `{"SyncFromOldSystem":1,"From_Account":"alice%[1]s","To_Account":"bob%[1]s","MsgRandom":7,"MsgTimeStamp":1700000000,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi%[1]s"}}],"CloudCustomData":"c%[1]s"}`,
	"openim/admin_getroammsg":               `{"Operator_Account":"alice%[1]s","Peer_Account":"bob%[1]s","MaxCnt":10,"MinTime":0,"MaxTime":2000000000,"LastMsgKey":"k%[1]s"}`,
	"openim/admin_msgwithdraw":              `{"From_Account":"alice%[1]s","To_Account":"bob%[1]s","MsgKey":"k%[1]s"}`,
	"openim/admin_set_msg_read":             `{"Report_Account":"alice%[1]s","Peer_Account":"bob%[1]s"}`,
	"openim/get_c2c_unread_msg_num":         `{"To_Account":"alice%[1]s","Peer_Account":["bob%[1]s"]}`,
	"profile/portrait_set":                  `{"From_Account":"alice%[1]s","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick%[1]s","Value":"n%[1]s"}]}`,
	"profile/portrait_get":                  `{"To_Account":["alice%[1]s"],"TagList":["Tag_Profile_IM_Nick%[1]s"]}`,
}

const genericBody = `{"UserID":"alice%[1]s","From_Account":"alice%[1]s","To_Account":"bob%[1]s","Text":"t%[1]s"}`

// variants returns the body with the poison in one string field at a time.
func variants(tmpl, poison string) []string {
	n := strings.Count(tmpl, "%[1]s")
	out := make([]string, 0, n)
	for i := range n {
		k := 0
		out = append(out, replaceEach(tmpl, "%[1]s", func() string {
			k++
			if k-1 == i {
				return poison
			}
			return ""
		}))
	}
	return out
}

func replaceEach(s, old string, with func() string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		b.WriteString(with())
		s = s[i+len(old):]
	}
}

// storageWords are fragments of database error text; no reply may carry them.
var storageWords = []string{"SQLSTATE", "sqlite", "SQL", "postgres", "pgx", "invalid byte sequence", "0x00", "storage failure", "constraint"}

func leaksStorage(reply string) string {
	for _, w := range storageWords {
		if strings.Contains(strings.ToLower(reply), strings.ToLower(w)) {
			return w
		}
	}
	return ""
}

type advApp struct {
	app     store.App
	sig     string // the admin's
	userSig string // alice's
}

// The adversarial pass: every REST command of the registry and every WebSocket op
// gets strings with NUL and invalid UTF-8 in each field, on each store. Each answer
// is a clear client error (never 70500) without storage text, nothing is stored, and
// another app's traffic, sent all along, keeps succeeding.
func TestAdversarialInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		s, c, hs := newServerOn(t, st)
		ctx := context.Background()
		acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
		if err != nil {
			t.Fatal(err)
		}
		newApp := func() advApp {
			app, err := s.Tenants.CreateApp(ctx, acc.ID, "app", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice", Nick: "Alice"}, {UserID: "bob"}}); err != nil {
				t.Fatal(err)
			}
			sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, app.AdminUser, 86400, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			userSig, err := usersig.Gen(app.SDKAppID, app.SecretKey, "alice", 86400, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			return advApp{app, sig, userSig}
		}
		target, other := newApp(), newApp()
		before := snapshot(t, st, target.app.SDKAppID)

		// Good traffic of another app, all along the attack.
		stop := make(chan struct{})
		var good, bad atomic.Int64
		var wg sync.WaitGroup
		var once sync.Once
		stopTraffic := func() { once.Do(func() { close(stop) }); wg.Wait() }
		defer stopTraffic() // also when the test fails early
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body := fmt.Sprintf(`{"From_Account":"alice","To_Account":"bob","MsgRandom":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"ok"}}]}`, g*1_000_000+i+1)
					if code, _ := rest(t, hs.URL, other, "openim/sendmsg", "", []byte(body)); code == 0 {
						good.Add(1)
					} else {
						bad.Add(1)
					}
				}
			}()
		}

		requests := 0
		for _, cmd := range restapi.Commands() {
			tmpl, ok := restBodies[cmd]
			if !ok {
				tmpl = genericBody
			}
			for name, p := range poisons {
				for _, body := range variants(tmpl, p) {
					requests++
					code, reply := rest(t, hs.URL, target, cmd, "", []byte(body))
					checkRefused(t, fmt.Sprintf("%s %s body %q", cmd, name, body), code, reply)
				}
				q := "&random=1" + queryPoisons[name]
				code, reply := rest(t, hs.URL, target, cmd, q, []byte(fmt.Sprintf(tmpl, "")))
				checkRefused(t, fmt.Sprintf("%s %s query", cmd, name), code, reply)
			}
		}

		frames := 0
		for _, op := range protocol.ClientOps {
			for _, field := range frameStrings() {
				for name, p := range poisons {
					for _, frame := range wsFrames(target, op, field, p) {
						frames++
						code, reply := wsTry(t, hs.URL, target, op, frame)
						checkRefused(t, fmt.Sprintf("ws %s %s %s frame %q", op, field, name, frame), code, reply)
					}
				}
			}
		}

		stopTraffic()
		if bad.Load() != 0 || good.Load() == 0 {
			t.Errorf("another app's sends during the attack: %d ok, %d failed", good.Load(), bad.Load())
		}
		if after := snapshot(t, st, target.app.SDKAppID); after != before {
			t.Errorf("the attack changed the target app:\nbefore %s\nafter  %s", before, after)
		}
		t.Logf("%d REST requests, %d WebSocket frames refused; %d good sends of another app meanwhile", requests, frames, good.Load())
	})
}

func checkRefused(t *testing.T, what string, code int, reply string) {
	t.Helper()
	if code <= 0 || code == errs.Internal {
		t.Errorf("%s: code %d, want a client error: %s", what, code, reply)
	}
	if w := leaksStorage(reply); w != "" {
		t.Errorf("%s: the reply shows storage text (%q): %s", what, w, reply)
	}
}

// snapshot is the state of an app's users alice, bob and mallory: accounts,
// profiles and logs.
func snapshot(t *testing.T, st store.Store, app int64) string {
	t.Helper()
	ctx := context.Background()
	users, err := st.GetUsers(ctx, app, []string{"alice", "bob", "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range []string{"alice", "bob", "mallory"} {
		seq, err := st.LastSeq(ctx, app, u)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %+v seq %d; ", u, users[u], seq)
	}
	return b.String()
}

// rest posts body to cmd as the app's admin and returns ErrorCode and the reply.
func rest(t *testing.T, base string, a advApp, cmd, query string, body []byte) (int, string) {
	u := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&contenttype=json%s", base, cmd, a.app.SDKAppID, a.app.AdminUser, a.sig, query)
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return -1, ""
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct{ ErrorCode int }
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Errorf("%s: reply is not JSON: %s", cmd, raw)
		return -1, string(raw)
	}
	return env.ErrorCode, string(raw)
}

// frameStrings lists the JSON names of the string fields of a frame, and "body".
func frameStrings() []string {
	var out []string
	ft := reflect.TypeOf(protocol.Frame{})
	for i := range ft.NumField() {
		f := ft.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() == reflect.String || name == "body" {
			out = append(out, name)
		}
	}
	return out
}

// wsFrames returns frames of op with the poison in field; a login frame is a
// valid login of alice but for that field.
func wsFrames(a advApp, op, field, poison string) []string {
	f := map[string]any{"op": op, "id": "1", "sdkappid": a.app.SDKAppID, "user": "alice", "usersig": a.userSig, "platform": "Web",
		"to": "bob", "peer": "bob", "client_msg_id": "c1", "cloud_custom_data": "d", "msg_key": "k",
		"body": json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)}
	if field == "body" {
		f[field] = json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hiMARK"}}]`)
	} else {
		f[field] = fmt.Sprint(f[field]) + "MARK"
	}
	raw, _ := json.Marshal(f)
	return []string{strings.Replace(string(raw), "MARK", poison, 1)}
}

// wsTry logs alice in (unless the frame is itself a login), sends frame and
// returns the code and text of the answer to it.
func wsTry(t *testing.T, base string, a advApp, op, frame string) (int, string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if op != protocol.OpLogin {
		login, _ := json.Marshal(protocol.Frame{Op: protocol.OpLogin, ID: "login", SDKAppID: a.app.SDKAppID, User: "alice", UserSig: a.userSig, Platform: "Web"})
		if code, reply := wsSend(t, conn, string(login)); code != 0 {
			return -1, "login failed: " + reply
		}
	}
	return wsSend(t, conn, frame)
}

func wsSend(t *testing.T, conn *websocket.Conn, frame string) (int, string) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return -1, "connection closed: " + err.Error()
		}
		var f protocol.Frame
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("reply is not JSON: %s", raw)
		}
		if f.Op == protocol.OpEntry {
			continue // a delivery, not the answer
		}
		return f.Code, string(raw)
	}
}
