package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// pushWorld is a node with one Free Trial app and a few users, for the push
// tests.
type pushWorld struct {
	*world
	st store.Store
}

func newPushWorld(t testing.TB, st store.Store, users ...string) *pushWorld {
	t.Helper()
	w := newNode(t, st, gateway.Limits{})
	w.app = w.newApp(catalog.Trial, users...)
	return &pushWorld{world: w, st: st}
}

// rest calls the REST API as the app's admin and returns the decoded answer.
func (w *pushWorld) rest(cmd string, req any) map[string]any {
	w.t.Helper()
	body, _ := json.Marshal(req)
	var out map[string]any
	if err := json.Unmarshal(adminCall(w.t, w.hs.URL, w.app, w.c.Now(), "all_member_push/"+cmd, body), &out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// operator GETs an operator API path into v and returns the HTTP status.
func (w *pushWorld) operator(path string, v any) int {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.hs.URL+"/operator/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			w.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func errorCode(m map[string]any) int { n, _ := m["ErrorCode"].(float64); return int(n) }

// login connects a Web device of user, resuming after seq after.
func (w *pushWorld) login(user string, after int64) *client.Client {
	w.t.Helper()
	cl, err := dialUser(w.t, w.hs.URL, w.app, w.c.Now(), user, "Web", after)
	if err != nil {
		w.t.Fatalf("login %s: %v", user, err)
	}
	return cl
}

// next waits for the device's next entry.
func next(t testing.TB, cl *client.Client) client.Entry {
	t.Helper()
	select {
	case e := <-cl.Entries():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no entry within 10 s")
	case <-cl.Done():
		t.Fatalf("session ended: %v", cl.Err())
	}
	return client.Entry{}
}

// A Free Trial im_push by tag reaches only the tagged users: a tagged device
// online gets it at once over WebSocket, a tagged user offline gets it by sync
// after login, an untagged user online never has it.
func TestPushByTagReachesOnlyTaggedUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newPushWorld(t, open(t), "alice", "bob", "carol")
		if c := errorCode(w.rest("im_add_tag", map[string]any{"UserTags": []map[string]any{
			{"To_Account": "alice", "Tags": []string{"news"}}, {"To_Account": "bob", "Tags": []string{"news"}},
		}})); c != 0 {
			t.Fatalf("im_add_tag: %d", c)
		}
		alice := w.login("alice", 0)
		carol := w.login("carol", 0)
		out := w.rest("im_push", map[string]any{"MsgRandom": 5, "MsgLifeTime": 86400,
			"MsgBody":   []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "sale"}}},
			"Condition": map[string]any{"TagsOr": []string{"news"}}})
		if errorCode(out) != 0 || out["TaskId"] == "" {
			t.Fatalf("im_push: %v", out)
		}
		e := next(t, alice)
		if e.Kind != "msg" || e.From != w.app.AdminUser || e.Seq != 1 || !strings.Contains(string(e.Body), "sale") {
			t.Fatalf("alice's entry %+v", e)
		}
		w.s.IM.WaitPushes()
		task, err := w.s.IM.PushTask(context.Background(), w.app, out["TaskId"].(string))
		if err != nil || task.State != store.PushDone || task.Targets != 2 || task.Delivered != 2 {
			t.Fatalf("task %+v, %v", task, err)
		}
		// carol is not tagged: nothing in her log (a sync reads the store).
		if es, _, err := carol.Sync(context.Background(), 0, 10); err != nil || len(es) != 0 {
			t.Fatalf("carol's log: %v %v", es, err)
		}
		// The task's progress on the operator API; an unknown task is 404.
		var op struct {
			State              string
			Targets, Delivered int64
		}
		if st := w.operator("/apps/"+fmt.Sprint(w.app.SDKAppID)+"/pushes/"+out["TaskId"].(string), &op); st != http.StatusOK ||
			op.State != "done" || op.Targets != 2 || op.Delivered != 2 {
			t.Fatalf("operator: HTTP %d %+v", st, op)
		}
		if st := w.operator("/apps/"+fmt.Sprint(w.app.SDKAppID)+"/pushes/nope", nil); st != http.StatusNotFound {
			t.Fatalf("operator, unknown task: HTTP %d", st)
		}
		bob := w.login("bob", 0) // offline until now: the stored copy comes by sync
		if b := next(t, bob); b.Kind != "msg" || b.MsgKey != e.MsgKey || b.From != w.app.AdminUser || !strings.Contains(string(b.Body), "sale") {
			t.Fatalf("bob's entry %+v (alice's MsgKey %s)", b, e.MsgKey)
		}
	})
}

// A task left running by a stopped process resumes at start after its stored
// cursor: targets before it are not written again, a target written before the
// stop (progress not yet recorded) gets its copy once, and the rest get theirs.
func TestPushResumesAfterRestart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		w := newPushWorld(t, st, "u1", "u2", "u3", "u4", "u5")
		ctx := context.Background()
		now := w.c.Now()
		task := store.PushTask{
			ID: "resumeme0123456789abcdef", App: w.app.SDKAppID, From: w.app.AdminUser, MsgRandom: 3, MsgSeq: 42,
			MsgTime: now.Unix(), Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"again"}}]`),
			Lifetime: time.Hour, CreatedAt: now,
		}
		if err := st.CreatePushTask(ctx, task, store.PushRate{MinInterval: time.Second, PerDay: 100}); err != nil {
			t.Fatal(err)
		}
		task.State, task.Cursor, task.Targets, task.Delivered, task.UpdatedAt = store.PushRunning, "u2", 2, 2, now
		if err := st.UpdatePushProgress(ctx, task); err != nil {
			t.Fatal(err)
		}
		// u3's copy was written before the stop; its progress was not recorded.
		if _, err := st.Apply(ctx, []store.Op{{Kind: store.OpSend, App: w.app.SDKAppID, From: w.app.AdminUser, To: "u3",
			MsgSeq: 42, ClientID: "rp:" + task.ID + ":u3", MsgRandom: 3, MsgTime: now.Unix(), Body: task.Body,
			OnlyReceiver: true, Unread: true, At: now, ExpiresAt: now.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		w.s.Start()
		w.s.IM.WaitPushes()
		got, err := w.s.IM.PushTask(ctx, w.app, task.ID)
		if err != nil || got.State != store.PushDone || got.Targets != 5 || got.Delivered != 5 || got.DoneAt.IsZero() {
			t.Fatalf("resumed task %+v, %v", got, err)
		}
		for u, want := range map[string]int64{"u1": 0, "u2": 0, "u3": 1, "u4": 1, "u5": 1} {
			if n, err := st.LastSeq(ctx, w.app.SDKAppID, u); err != nil || n != want {
				t.Errorf("%s has %d entries (%v), want %d", u, n, err, want)
			}
		}
	})
}
