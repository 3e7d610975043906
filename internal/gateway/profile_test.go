package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// login opens a raw session of user.
func (e *env) login(user, platform string) *websocket.Conn {
	e.t.Helper()
	c := e.raw()
	f := roundTrip(e.t, c, `{"op":"login","id":"1","sdkappid":`+jsonInt(e.app.SDKAppID)+`,"user":"`+user+`","usersig":"`+e.sig(user)+`","platform":"`+platform+`"}`)
	if f.Code != 0 {
		e.t.Fatalf("login of %s: %+v", user, f)
	}
	return c
}

// next reads c's next frame as raw JSON.
func next(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestProfileChangeReachesDevices: a profile change is pushed to every device
// of the user (a "profile" frame with the changed tags as stored, numbers as
// numbers); a user outside the audience hears nothing; a refused change pushes
// nothing.
func TestProfileChangeReachesDevices(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx := context.Background()
	web, ios, bob := e.login("alice", "Web"), e.login("alice", "iOS"), e.login("bob", "Web")
	items := []im.ProfileItem{
		{Tag: im.TagNick, Value: json.RawMessage(`"Alice \u00e9"`)},
		{Tag: im.TagLevel, Value: json.RawMessage(`7`)},
	}
	if err := e.svc.SetProfile(ctx, e.app, "alice", items); err != nil {
		t.Fatal(err)
	}
	want := `{"op":"profile","code":0,"profile":{"user":"alice","items":[{"tag":"Tag_Profile_IM_Nick","value":"Alice é"},{"tag":"Tag_Profile_IM_Level","value":7}]}}`
	for _, c := range []*websocket.Conn{web, ios} {
		if got := next(t, c); got != want {
			t.Fatalf("push = %s, want %s", got, want)
		}
	}
	// A refused change pushes nothing; bob is not in alice's audience.
	if err := e.svc.SetProfile(ctx, e.app, "alice", []im.ProfileItem{{Tag: im.TagGender, Value: json.RawMessage(`"Robot"`)}}); err == nil {
		t.Fatal("a bad gender was accepted")
	}
	for _, c := range []*websocket.Conn{web, bob} {
		if f := roundTrip(t, c, `{"op":"ping","id":"p"}`); f.Op != protocol.OpPong {
			t.Fatalf("next frame is %+v, want the pong (no push)", f)
		}
	}
}

// TestProfileChangeReachesFriends: a friend of the user hears of a profile change
// (profileAudience lists the user's friends); a user who is not a friend does not.
func TestProfileChangeReachesFriends(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx := context.Background()
	if err := e.svc.ImportAccounts(ctx, e.app, []store.User{{UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.ImportFriends(ctx, e.app, "alice", []im.FriendItem{{To: "bob", AddSource: "AddSource_Type_Test"}}); err != nil || res[0].Err != nil {
		t.Fatalf("import friend: %+v, %v", res, err)
	}
	bob, carol := e.login("bob", "Web"), e.login("carol", "Web")
	if err := e.svc.SetProfile(ctx, e.app, "alice", []im.ProfileItem{{Tag: im.TagNick, Value: json.RawMessage(`"Al"`)}}); err != nil {
		t.Fatal(err)
	}
	want := `{"op":"profile","code":0,"profile":{"user":"alice","items":[{"tag":"Tag_Profile_IM_Nick","value":"Al"}]}}`
	if got := next(t, bob); got != want {
		t.Fatalf("friend's push = %s, want %s", got, want)
	}
	if f := roundTrip(t, carol, `{"op":"ping","id":"p"}`); f.Op != protocol.OpPong {
		t.Fatalf("a non-friend's next frame is %+v, want the pong (no push)", f)
	}
}
