package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

// TestSNSEditionMatrix runs the relationship chain's gated limit, friends per
// user (Free Trial 20, Standard and Premium 3,000), on every edition through the
// real REST API and WebSocket, on both stores: the last friend within the limit
// is added; one more is refused with 30010 (own list) or 30014 (the peer's),
// over REST and when accepting a pending request over WebSocket, and nothing
// changes.
func TestSNSEditionMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, ed := range catalog.Editions() {
			t.Run(ed.ID, func(t *testing.T) { snsEditionCase(t, open(t), ed) })
		}
	})
}

func snsEditionCase(t *testing.T, st store.Store, ed catalog.Edition) {
	s, c, hs := newServerOn(t, st)
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Tenants.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	if ed.ID != catalog.Trial {
		if _, err := s.Commerce.TopUp(ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: 100000}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commerce.Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: ed.ID, Months: 1, AgreementAccepted: true}); err != nil {
			t.Fatal(err)
		}
		if app, err = s.Tenants.GetApp(ctx, app.SDKAppID); err != nil || app.Edition != ed.ID {
			t.Fatalf("app after buying %s: %+v, %v", ed.ID, app, err)
		}
	}
	limit := ed.FriendsPerUser
	users := []store.User{{UserID: "hub"}, {UserID: "asker"}, {UserID: "extra"}}
	for i := 0; i < limit; i++ {
		users = append(users, store.User{UserID: fmt.Sprintf("p%04d", i)})
	}
	if err := st.ImportUsers(ctx, app.SDKAppID, users); err != nil {
		t.Fatal(err)
	}
	// All but one friend, written directly: the limit under test is the edge's.
	rows := make([]store.Friend, 0, limit-1)
	for i := 0; i < limit-1; i++ {
		rows = append(rows, store.Friend{Owner: "hub", Peer: fmt.Sprintf("p%04d", i), AddSource: "AddSource_Type_T", AddTime: c.Now()})
	}
	if _, err := st.AddFriends(ctx, app.SDKAppID, rows, 0); err != nil {
		t.Fatal(err)
	}

	rest := func(cmd string, body any) map[string]any {
		t.Helper()
		admin, _ := usersig.Gen(app.SDKAppID, app.SecretKey, app.AdminUser, 86400, c.Now())
		q := url.Values{"sdkappid": {fmt.Sprint(app.SDKAppID)}, "identifier": {app.AdminUser}, "usersig": {admin}, "random": {"1"}, "contenttype": {"json"}}
		b, _ := json.Marshal(body)
		resp, err := http.Post(hs.URL+"/v4/"+cmd+"?"+q.Encode(), "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["ErrorCode"] != float64(0) {
			t.Fatalf("%s: %v", cmd, m)
		}
		return m
	}
	add := func(from, to string, force int) int {
		t.Helper()
		m := rest("sns/friend_add", map[string]any{"From_Account": from, "ForceAddFlags": force,
			"AddFriendItem": []map[string]any{{"To_Account": to, "AddSource": "AddSource_Type_T"}}})
		return int(m["ResultItem"].([]any)[0].(map[string]any)["ResultCode"].(float64))
	}
	friendNum := func(user string) int {
		t.Helper()
		return int(rest("sns/friend_get", map[string]any{"From_Account": user})["FriendNum"].(float64))
	}

	last := fmt.Sprintf("p%04d", limit-1)
	if code := add("hub", last, 1); code != 0 {
		t.Fatalf("%s: the %dth friend = %d, want 0", ed.Name, limit, code)
	}
	if code := add("hub", "extra", 1); code != errs.SNSOwnListFull {
		t.Fatalf("%s: friend %d = %d, want 30010", ed.Name, limit+1, code)
	}
	if code := add("extra", "hub", 1); code != errs.SNSPeerListFull {
		t.Fatalf("%s: adding a full peer = %d, want 30014", ed.Name, code)
	}
	// A pending request accepted over WebSocket by the full user: 30010.
	if code := add("asker", "hub", 0); code != errs.SNSPending {
		t.Fatalf("%s: request = %d, want 30539", ed.Name, code)
	}
	sig, _ := usersig.Gen(app.SDKAppID, app.SecretKey, "hub", 86400, c.Now())
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	roundTrip := func(frame string) map[string]any {
		t.Helper()
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m map[string]any
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := roundTrip(fmt.Sprintf(`{"op":"login","id":"1","sdkappid":%d,"user":"hub","usersig":%q,"platform":"Web"}`, app.SDKAppID, sig)); m["code"] != float64(0) {
		t.Fatalf("login: %v", m)
	}
	if m := roundTrip(`{"op":"friend_accept","id":"2","peer":"asker"}`); m["code"] != float64(errs.SNSOwnListFull) || !strings.Contains(m["message"].(string), ed.Name) {
		t.Fatalf("%s: accepting past the limit = %v, want 30010 naming the edition", ed.Name, m)
	}
	if m := roundTrip(`{"op":"friend_requests","id":"3"}`); len(m["friend_requests"].([]any)) != 1 {
		t.Fatalf("%s: the request is gone: %v", ed.Name, m)
	}
	if n := friendNum("hub"); n != limit {
		t.Fatalf("%s: hub has %d friends, want %d", ed.Name, n, limit)
	}
	for _, u := range []string{"extra", "asker"} {
		if n := friendNum(u); n != 0 {
			t.Fatalf("%s: %s has %d friends after refusals", ed.Name, u, n)
		}
	}
}
