package restapi_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/store"
)

// restHooks turns every callback on, refuses every before-event, records
// the callers it is asked with and appends after-events to the store.
type restHooks struct {
	st      store.Store
	mu      sync.Mutex
	callers []callback.Caller
	asked   []string
}

func (h *restHooks) On(context.Context, int64, string) bool { return true }

func (h *restHooks) Before(ctx context.Context, _ int64, command string, _ any) callback.Decision {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, command)
	h.callers = append(h.callers, callback.CallerOf(ctx))
	return callback.Decision{Code: 1}
}

func (h *restHooks) Emit(ctx context.Context, evs []store.CallbackEvent) error {
	return h.st.AppendCallbacks(ctx, evs)
}

func (h *restHooks) take() ([]string, []callback.Caller) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, c := h.asked, h.callers
	h.asked, h.callers = nil, nil
	return a, c
}

func TestForbidCallbackControl(t *testing.T) {
	e := newEnv(t)
	h := &restHooks{st: e.st}
	e.svc.UseCallbacks(h)
	e.importUsers(e.a, "alice", "bob")
	outbox := func() []store.CallbackEvent {
		t.Helper()
		evs, err := e.st.ClaimCallbacks(context.Background(), e.a.SDKAppID, "t"+time.Now().String(), e.clock.Now(), time.Hour, 100)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	msg := M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}

	// The app's before-event refuses: 20006, and the caller is the REST API at the test client's address.
	e.call("openim/sendmsg", msg).wantErr(20006)
	asked, callers := h.take()
	if len(asked) != 1 || asked[0] != callback.C2CBeforeSendMsg || callers[0].Platform != "RESTAPI" || callers[0].IP != "127.0.0.1" {
		t.Fatalf("asked %v as %+v", asked, callers)
	}
	if evs := outbox(); len(evs) != 0 {
		t.Fatalf("a refused send appended %d events", len(evs))
	}
	// ForbidBeforeSendMsgCallback: not asked, sent, the after-event appended.
	msg["ForbidCallbackControl"] = []string{"ForbidBeforeSendMsgCallback"}
	e.call("openim/sendmsg", msg).wantOK("MsgTime", "MsgKey", "MsgId")
	if asked, _ := h.take(); len(asked) != 0 {
		t.Fatalf("asked %v", asked)
	}
	evs := outbox()
	if len(evs) != 1 || evs[0].Command != callback.C2CAfterSendMsg || evs[0].Platform != "RESTAPI" || evs[0].ClientIP != "127.0.0.1" {
		t.Fatalf("outbox %+v", evs)
	}
	var body struct{ From_Account, To_Account, MsgKey string }
	if err := json.Unmarshal(evs[0].Body, &body); err != nil || body.From_Account != "alice" || body.To_Account != "bob" || body.MsgKey == "" {
		t.Fatalf("body %s: %v", evs[0].Body, err)
	}
	// Both: nothing asked, nothing appended.
	msg["ForbidCallbackControl"] = []string{"ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"}
	e.call("openim/sendmsg", msg).wantOK("MsgTime", "MsgKey", "MsgId")
	if evs := outbox(); len(evs) != 0 {
		t.Fatalf("forbidden after-event appended: %v", evs)
	}
	// batchsendmsg: refused per receiver, or forbidden.
	batch := M{"From_Account": "alice", "To_Account": []string{"bob"}, "MsgBody": hello}
	var out struct{ ErrorList []struct{ ErrorCode int } }
	e.call("openim/batchsendmsg", batch).wantOK("MsgKey", "MsgId", "ErrorList").into(&out)
	if len(out.ErrorList) != 1 || out.ErrorList[0].ErrorCode != 20006 {
		t.Fatalf("batch ErrorList %+v", out.ErrorList)
	}
	batch["ForbidCallbackControl"] = []string{"ForbidBeforeSendMsgCallback"}
	out.ErrorList = nil
	e.call("openim/batchsendmsg", batch).wantOK("MsgKey", "MsgId", "ErrorList").into(&out)
	if len(out.ErrorList) != 0 {
		t.Fatalf("batch ErrorList %+v", out.ErrorList)
	}
	// An unknown value is refused and sends nothing.
	h.take()
	outbox()
	msg["ForbidCallbackControl"] = []string{"ForbidEverything"}
	e.call("openim/sendmsg", msg).wantErr(70402, "ForbidEverything")
	if asked, _ := h.take(); len(asked) != 0 || len(outbox()) != 0 {
		t.Fatal("a refused request reached the callbacks")
	}

	// send_group_msg: 10016 when refused; forbidden, sent.
	e.importUsers(e.a, "o")
	var g struct{ GroupId string }
	h.take()
	e.call("group_open_http_svc/create_group", M{"Owner_Account": "o", "Type": "Public", "Name": "g"}).wantErr(10016)
	e.svc.UseCallbacks(callback.Off{})
	e.call("group_open_http_svc/create_group", M{"Owner_Account": "o", "Type": "Public", "Name": "g"}).wantOK("GroupId", "Type").into(&g)
	e.svc.UseCallbacks(h)
	gm := M{"GroupId": g.GroupId, "From_Account": "o", "MsgBody": hello}
	e.call("group_open_http_svc/send_group_msg", gm).wantErr(10016)
	gm["ForbidCallbackControl"] = []string{"ForbidBeforeSendMsgCallback"}
	e.call("group_open_http_svc/send_group_msg", gm).wantOK("MsgTime", "MsgSeq")
	gm["ForbidCallbackControl"] = []string{"nope"}
	e.call("group_open_http_svc/send_group_msg", gm).wantErr(70402)
}
