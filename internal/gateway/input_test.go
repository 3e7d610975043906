package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// faultyStore is the store of the env's messaging service: once failUsers is
// set, user lookups fail with a database's own text.
type faultyStore struct {
	store.Store
	failUsers atomic.Bool
}

func (f *faultyStore) GetUsers(ctx context.Context, app int64, ids []string) (map[string]store.User, error) {
	if f.failUsers.Load() {
		return nil, errors.New(`ERROR: relation "users" does not exist (SQLSTATE 42P01)`)
	}
	return f.Store.GetUsers(ctx, app, ids)
}

// A storage failure at login is answered 70500 "internal error", without the
// database's text.
func TestLoginStorageFailureHidesItsText(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	e.faults.failUsers.Store(true)
	c := e.raw()
	defer c.Close()
	login, _ := json.Marshal(map[string]any{"op": "login", "id": "1", "sdkappid": e.app.SDKAppID, "user": "alice", "usersig": e.sig("alice"), "platform": "Web"})
	f := roundTrip(t, c, string(login))
	if f.Code != errs.Internal || f.Message != "internal error" {
		t.Fatalf("login: %+v", f)
	}
}

// Frames whose strings are not valid UTF-8, hold a NUL or an unpaired surrogate are
// answered with 60003, repeating op and id, and nothing is sent; a login frame like
// that is refused.
func TestFramesWithBadStrings(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	c := e.raw()
	defer c.Close()
	if f := roundTrip(t, c, `{"op":"login","id":"1","sdkappid":1,"user":"alice\u0000","platform":"Web"}`); f.Code != errs.JSONParse || f.Op != "login" {
		t.Fatalf("login with NUL: %+v", f)
	}
	cl, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	c = e.raw()
	defer c.Close()
	login, _ := json.Marshal(map[string]any{"op": "login", "id": "1", "sdkappid": e.app.SDKAppID, "user": "alice", "usersig": e.sig("alice"), "platform": "Web"})
	if f := roundTrip(t, c, string(login)); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}
	body := `"body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`
	for _, frame := range []string{
		`{"op":"send","id":"2","to":"bob","cloud_custom_data":"x\u0000",` + body + `}`,
		`{"op":"send","id":"2","to":"bob","client_msg_id":"c\u0000",` + body + `}`,
		"{\"op\":\"send\",\"id\":\"2\",\"to\":\"bob\",\"cloud_custom_data\":\"x\xff\"," + body + "}",
		`{"op":"send","id":"2","to":"bob","cloud_custom_data":"x\ud800",` + body + `}`,
		`{"op":"send","id":"2","to":"bob","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"\u0000"}}]}`,
	} {
		f := roundTrip(t, c, frame)
		if f.Code != errs.JSONParse || f.Op != "send" || f.ID != "2" || strings.Contains(f.Message, "SQL") {
			t.Errorf("%q: %+v", frame, f)
		}
	}
	if f := roundTrip(t, c, `{"op":"send","id":"3","to":"bob","client_msg_id":" c1",`+body+`}`); f.Code != errs.InvalidParameters {
		t.Errorf("client_msg_id with a leading space: %+v", f)
	}
	for _, id := range []string{"rs:bob:1:13106984ac99", "rb:7:aa", "ri:bob:1:bb"} {
		if f := roundTrip(t, c, `{"op":"send","id":"4","to":"bob","client_msg_id":"`+id+`",`+body+`}`); f.Code != errs.InvalidParameters || f.ID != "4" {
			t.Errorf("client_msg_id %q of the REST edge's form: %+v", id, f)
		}
	}
	if seq, err := e.svc.LastSeq(context.Background(), e.app, "bob"); err != nil || seq != 0 {
		t.Errorf("bob's log: seq %d, %v; want nothing stored", seq, err)
	}
}

// A frame with a field of the wrong JSON type is answered 60003 with its op and id
// (a client waiting for that id gets its answer) and a message that names JSON
// types, not Go ones; a frame that is not JSON gets an "error" reply.
func TestFramesWithWrongTypes(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	c := e.raw()
	defer c.Close()
	if f := roundTrip(t, c, `{"op":"login","id":"1","sdkappid":"1400000001"}`); f.Code != errs.JSONParse || f.Op != "login" || f.ID != "1" {
		t.Fatalf("login with a string sdkappid: %+v", f)
	}
	c = e.raw()
	defer c.Close()
	login, _ := json.Marshal(map[string]any{"op": "login", "id": "1", "sdkappid": e.app.SDKAppID, "user": "alice", "usersig": e.sig("alice"), "platform": "Web"})
	if f := roundTrip(t, c, string(login)); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}
	for frame, field := range map[string]string{
		`{"op":"send","id":"8","to":5,"client_msg_id":"c5"}`:   "to",
		`{"op":"sync","id":"12","after":99999999999999999999}`: "after",
		`{"op":"sync","id":"13","after":"0"}`:                  "after",
		`{"op":"conv_mark","id":"14","set_mark":"1"}`:          "frame field set_mark must be",
	} {
		f := roundTrip(t, c, frame)
		var want struct{ Op, ID string }
		json.Unmarshal([]byte(frame), &want)
		if f.Code != errs.JSONParse || f.Op != want.Op || f.ID != want.ID || !strings.Contains(f.Message, field) ||
			strings.Contains(f.Message, "Go struct") || strings.Contains(f.Message, "int64 ") || strings.Contains(f.Message, "Fields") {
			t.Errorf("%s: %+v", frame, f)
		}
	}
	if f := roundTrip(t, c, `{"op":"send","id":`); f.Code != errs.JSONParse || f.Op != "error" {
		t.Errorf("not JSON: %+v", f)
	}
	if f := roundTrip(t, c, `[1,2]`); f.Code != errs.JSONParse || f.Op != "error" || !strings.Contains(f.Message, "must be a JSON object") {
		t.Errorf("an array frame: %+v", f)
	}
}
