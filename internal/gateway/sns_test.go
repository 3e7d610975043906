package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// loginRaw logs user in on a raw connection.
func (e *env) loginRaw(user string) *websocket.Conn {
	e.t.Helper()
	c := e.raw()
	login := `{"op":"login","id":"login","sdkappid":` + jsonInt(e.app.SDKAppID) + `,"user":"` + user + `","usersig":"` + e.sig(user) + `","platform":"Web"}`
	if f := roundTrip(e.t, c, login); f.Code != 0 {
		e.t.Fatalf("login %s: %+v", user, f)
	}
	return c
}

// next reads the next frame of c (failing after 5 s).
func nextFrame(t *testing.T, c *websocket.Conn) gateway.Frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("no frame: %v", err)
	}
	var f gateway.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func write(t *testing.T, c *websocket.Conn, frame string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
}

// TestFriendRequestsOverWebSocket: a request reaches its target's device, which
// lists, accepts or refuses it; both users' devices hear of the friendship.
func TestFriendRequestsOverWebSocket(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx := context.Background()
	if err := e.svc.ImportAccounts(ctx, e.app, []store.User{{UserID: "carol"}}); err != nil {
		t.Fatal(err)
	}
	alice, bob, carol := e.loginRaw("alice"), e.loginRaw("bob"), e.loginRaw("carol")

	res, err := e.svc.AddFriends(ctx, e.app, "alice", []im.FriendItem{{To: "bob", AddSource: "AddSource_Type_Web", AddWording: "hi bob"}}, "", false)
	if err != nil || errs.CodeOf(res[0].Err) != errs.SNSPending {
		t.Fatalf("friend_add = %+v, %v; want 30539", res, err)
	}
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendRequest || f.Request == nil || f.Request.From != "alice" || f.Request.AddWording != "hi bob" || f.Request.AddType != "Add_Type_Both" {
		t.Fatalf("bob's push = %+v", f)
	}
	f := roundTrip(t, bob, `{"op":"friend_requests","id":"1"}`)
	if f.Code != 0 || len(f.FriendRequests) != 1 || f.FriendRequests[0].From != "alice" || f.FriendRequests[0].To != "bob" {
		t.Fatalf("friend_requests = %+v", f)
	}
	write(t, bob, `{"op":"friend_accept","id":"2","peer":"alice"}`)
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendAdded || f.Peer != "alice" {
		t.Fatalf("bob's notice = %+v", f)
	}
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendAccept || f.ID != "2" || f.Code != 0 {
		t.Fatalf("accept reply = %+v", f)
	}
	if f := nextFrame(t, alice); f.Op != protocol.OpFriendAdded || f.Peer != "bob" {
		t.Fatalf("alice's notice = %+v", f)
	}
	rels, _ := e.svc.CheckFriends(ctx, e.app, "alice", []string{"bob"}, im.CheckBoth)
	if rels[0].Relation != im.RelationBothWay {
		t.Fatalf("after accepting: %+v", rels)
	}
	if f := roundTrip(t, bob, `{"op":"friend_accept","id":"3","peer":"alice"}`); f.Code != errs.SNSRequestNotFound {
		t.Fatalf("accepting again = %+v", f)
	}
	if f := roundTrip(t, bob, `{"op":"friend_refuse","id":"4","peer":"nobody"}`); f.Code != errs.SNSRequestNotFound {
		t.Fatalf("refusing a missing request = %+v", f)
	}
	if f := roundTrip(t, bob, `{"op":"friend_accept","id":"5","peer":" bad"}`); f.Code != errs.SNSBadParams {
		t.Fatalf("a malformed peer = %+v", f)
	}

	// Refused: the sender hears of it; no friendship.
	if _, err := e.svc.AddFriends(ctx, e.app, "carol", []im.FriendItem{{To: "bob", AddSource: "AddSource_Type_Web"}}, "", false); err != nil {
		t.Fatal(err)
	}
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendRequest || f.Request.From != "carol" {
		t.Fatalf("bob's push = %+v", f)
	}
	write(t, bob, `{"op":"friend_refuse","id":"6","peer":"carol"}`)
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendRefuse || f.Code != 0 {
		t.Fatalf("refuse reply = %+v", f)
	}
	if f := nextFrame(t, carol); f.Op != protocol.OpFriendRefused || f.Peer != "bob" {
		t.Fatalf("carol's notice = %+v", f)
	}
	if f := roundTrip(t, bob, `{"op":"friend_requests","id":"7"}`); f.Code != 0 || len(f.FriendRequests) != 0 {
		t.Fatalf("requests after refusing = %+v", f)
	}

	// A deleted friendship is told to both.
	if _, err := e.svc.DeleteFriends(ctx, e.app, "alice", []string{"bob"}, im.DeleteTypeBoth); err != nil {
		t.Fatal(err)
	}
	if f := nextFrame(t, alice); f.Op != protocol.OpFriendDeleted || f.Peer != "bob" {
		t.Fatalf("alice's notice = %+v", f)
	}
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendDeleted || f.Peer != "alice" {
		t.Fatalf("bob's notice = %+v", f)
	}
}

// TestFriendAcceptLimitOverWebSocket: accepting past the edition's friends per
// user is refused with 30010 and the request stays pending.
func TestFriendAcceptLimitOverWebSocket(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx := context.Background()
	var users []store.User
	var items []im.FriendItem
	for i := 0; i < 21; i++ {
		id := "f" + string(rune('a'+i))
		users = append(users, store.User{UserID: id})
		if i < 20 {
			items = append(items, im.FriendItem{To: id, AddSource: "AddSource_Type_T"})
		}
	}
	if err := e.svc.ImportAccounts(ctx, e.app, users); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.AddFriends(ctx, e.app, "bob", items, "", true); err != nil || res[19].Err != nil {
		t.Fatalf("20 friends: %v %v", res, err)
	}
	if res, _ := e.svc.AddFriends(ctx, e.app, "fu", []im.FriendItem{{To: "bob", AddSource: "AddSource_Type_T"}}, "", false); errs.CodeOf(res[0].Err) != errs.SNSPending {
		t.Fatalf("request = %+v", res)
	}
	bob := e.loginRaw("bob")
	if f := roundTrip(t, bob, `{"op":"friend_accept","id":"1","peer":"fu"}`); f.Code != errs.SNSOwnListFull {
		t.Fatalf("accepting the 21st = %+v", f)
	}
	if f := roundTrip(t, bob, `{"op":"friend_requests","id":"2"}`); len(f.FriendRequests) != 1 {
		t.Fatalf("the request is gone after a refused accept: %+v", f)
	}
}

// TestFriendDeleteAllNotice: friend_delete_all tells both sides of every friendship.
func TestFriendDeleteAllNotice(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	ctx := context.Background()
	if res, err := e.svc.AddFriends(ctx, e.app, "alice", []im.FriendItem{{To: "bob", AddSource: "AddSource_Type_T"}}, "", true); err != nil || res[0].Err != nil {
		t.Fatalf("friend_add: %+v %v", res, err)
	}
	bob := e.loginRaw("bob")
	if err := e.svc.DeleteAllFriends(ctx, e.app, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if f := nextFrame(t, bob); f.Op != protocol.OpFriendDeleted || f.Peer != "alice" {
		t.Fatalf("bob's notice = %+v", f)
	}
}
