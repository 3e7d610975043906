package restapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/restapi"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usersig"
)

// benchREST is the REST stack on the embedded store with one Premium app whose
// "hub" holds n friends (written directly); call posts a command as the admin.
func benchREST(b *testing.B, n int) (call func(cmd string, req, out any)) {
	b.Helper()
	dir := b.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "rest.db"), filepath.Join(dir, "messages"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	c := clock.NewManual(t0)
	tenants := &tenant.Service{Store: st, Clock: c}
	acc, err := tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		b.Fatal(err)
	}
	app, err := tenants.CreateApp(ctx, acc.ID, "app", "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.WriteDB().ExecContext(ctx, `UPDATE apps SET edition = 'premium' WHERE sdkappid = ?`, app.SDKAppID); err != nil {
		b.Fatal(err)
	}
	bs := bus.NewLocal()
	w := im.NewWriter(st, bs, 256, nil)
	svc := im.New(st, c, &gate.Gate{MAU: st, Clock: c}, w, bs)
	srv := httptest.NewServer(restapi.New(restapi.Config{Tenants: tenants, IM: svc, Clock: c}))
	b.Cleanup(func() { srv.Close(); w.Close() })

	users := []store.User{{UserID: "hub"}, {UserID: "newcomer"}}
	rows := make([]store.Friend, 0, 2*n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("p%05d", i)
		users = append(users, store.User{UserID: id})
		rows = append(rows, store.Friend{Owner: "hub", Peer: id, AddSource: "AddSource_Type_B", AddTime: t0},
			store.Friend{Owner: id, Peer: "hub", AddSource: "AddSource_Type_B", AddTime: t0})
	}
	if err := st.ImportUsers(ctx, app.SDKAppID, users); err != nil {
		b.Fatal(err)
	}
	if _, err := st.AddFriends(ctx, app.SDKAppID, rows, 0); err != nil {
		b.Fatal(err)
	}
	sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, app.AdminUser, 86400, c.Now())
	if err != nil {
		b.Fatal(err)
	}
	client := srv.Client()
	return func(cmd string, req, out any) {
		body, _ := json.Marshal(req)
		url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json", srv.URL, cmd, app.SDKAppID, app.AdminUser, sig)
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSNSFriendAdd: friend_add (both ways, one item) through the REST API
// by a user with 2,999 friends, the 3,000th counted against the limit; the
// friendship is deleted again outside the timer.
func BenchmarkSNSFriendAdd(b *testing.B) {
	call := benchREST(b, 2999)
	add := M{"From_Account": "hub", "ForceAddFlags": 1, "AddFriendItem": []M{{"To_Account": "newcomer", "AddSource": "AddSource_Type_B"}}}
	del := M{"From_Account": "hub", "To_Account": []string{"newcomer"}, "DeleteType": "Delete_Type_Both"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out snsBatchOut
		call("sns/friend_add", add, &out)
		if len(out.ResultItem) != 1 || out.ResultItem[0].ResultCode != 0 {
			b.Fatalf("friend_add = %+v", out)
		}
		b.StopTimer()
		call("sns/friend_delete", del, &out)
		b.StartTimer()
	}
}

// BenchmarkSNSFriendGet: friend_get of a user with 3,000 friends through the REST
// API: one page (100 friends), and the whole list (30 pages).
func BenchmarkSNSFriendGet(b *testing.B) {
	call := benchREST(b, 3000)
	b.Run("page", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var out struct{ UserDataItem []json.RawMessage }
			call("sns/friend_get", M{"From_Account": "hub", "StartIndex": 1500}, &out)
			if len(out.UserDataItem) != 100 {
				b.Fatalf("%d friends in a page", len(out.UserDataItem))
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, next := 0, 0
			for {
				var out struct {
					UserDataItem   []json.RawMessage
					CompleteFlag   int
					NextStartIndex int
				}
				call("sns/friend_get", M{"From_Account": "hub", "StartIndex": next}, &out)
				n += len(out.UserDataItem)
				if out.CompleteFlag == 1 {
					break
				}
				next = out.NextStartIndex
			}
			if n != 3000 {
				b.Fatalf("%d friends", n)
			}
		}
	})
}
