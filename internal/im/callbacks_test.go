package im

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// fakeHooks is callback.Hooks over the fixture's real store: commands listed
// in on are on; decide answers before-events; Emit appends to the outbox.
type fakeHooks struct {
	st     store.Store
	mu     sync.Mutex
	on     map[string]bool
	decide func(command string, body any) callback.Decision
	asked  []string // the before-events asked, in order
	bodies []any
	emits  []string // the commands appended through Emit, in order
}

func (h *fakeHooks) On(_ context.Context, _ int64, command string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.on[command]
}

func (h *fakeHooks) Before(_ context.Context, _ int64, command string, body any) callback.Decision {
	h.mu.Lock()
	h.asked = append(h.asked, command)
	h.bodies = append(h.bodies, body)
	decide := h.decide
	h.mu.Unlock()
	if decide == nil {
		return callback.Decision{}
	}
	return decide(command, body)
}

func (h *fakeHooks) Emit(ctx context.Context, evs []store.CallbackEvent) error {
	h.mu.Lock()
	for _, e := range evs {
		h.emits = append(h.emits, e.Command)
	}
	h.mu.Unlock()
	return h.st.AppendCallbacks(ctx, evs)
}

func (h *fakeHooks) emitted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.emits)
}

func (h *fakeHooks) set(decide func(string, any) callback.Decision, commands ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.on = map[string]bool{}
	for _, c := range commands {
		h.on[c] = true
	}
	h.decide, h.asked, h.bodies = decide, nil, nil
}

func (h *fakeHooks) askedOf() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.asked)
}

// cbFixture is a group fixture (users alice, bob, o, adm, m, x) whose service
// uses fakeHooks with every command on and every before-event allowed.
func cbFixture(t *testing.T, open testdb.Opener) (*fixture, *fakeHooks, context.Context) {
	f := newFixtureOn(t, open(t), catalog.Trial)
	if err := f.svc.ImportAccounts(context.Background(), f.app, []store.User{{UserID: "o"}, {UserID: "adm"}, {UserID: "m"}, {UserID: "x"}}); err != nil {
		t.Fatal(err)
	}
	h := &fakeHooks{st: f.svc.store}
	h.set(nil, callback.Commands...)
	f.svc.UseCallbacks(h)
	ctx := callback.WithCaller(context.Background(), callback.Caller{IP: "203.0.113.7", Platform: callback.PlatformREST})
	return f, h, ctx
}

// outbox returns the events appended since the last call (it claims them).
var claims int

func (f *fixture) outbox(t *testing.T) []store.CallbackEvent {
	t.Helper()
	claims++
	evs, err := f.svc.store.ClaimCallbacks(context.Background(), f.app.SDKAppID, fmt.Sprint("n", claims), f.clock.Now().Add(time.Hour), 24*time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// only returns the single event of the outbox, of command, decoded.
func (f *fixture) only(t *testing.T, command string) map[string]any {
	t.Helper()
	evs := f.outbox(t)
	if len(evs) != 1 || evs[0].Command != command {
		t.Fatalf("outbox %s, want one %s", commandsOf(evs), command)
	}
	return decodeEvent(t, evs[0])
}

func decodeEvent(t *testing.T, ev store.CallbackEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["CallbackCommand"] != ev.Command {
		t.Fatalf("body's CallbackCommand %v, event's %s", m["CallbackCommand"], ev.Command)
	}
	return m
}

func commandsOf(evs []store.CallbackEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Command
	}
	return out
}

func (f *fixture) empty(t *testing.T, what string) {
	t.Helper()
	if evs := f.outbox(t); len(evs) != 0 {
		t.Fatalf("%s: outbox %s, want none", what, commandsOf(evs))
	}
}

func want(t *testing.T, m map[string]any, field string, v any) {
	t.Helper()
	got, _ := json.Marshal(m[field])
	exp := normJSON(v)
	if _, ok := m[field]; !ok || string(got) != exp {
		t.Fatalf("%s = %s, want %s (body %v)", field, got, exp, m)
	}
}

// normJSON is v's JSON with object keys sorted.
func normJSON(v any) string {
	b, _ := json.Marshal(v)
	var x any
	_ = json.Unmarshal(b, &x)
	b, _ = json.Marshal(x)
	return string(b)
}

var world = json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"rewritten"}}]`)

func TestCallbacksOffWriteNothing(t *testing.T) {
	f, _ := groupFixture(t)
	ctx := context.Background()
	res, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
	wantCode(t, "send", err, 0)
	wantCode(t, "read", f.svc.MarkRead(ctx, f.app, "bob", "alice", 0), 0)
	wantCode(t, "recall", f.svc.Recall(ctx, f.app, "alice", "bob", res.MsgKey, true), 0)
	g := f.group(t, GroupSpec{Owner: "o", Type: "Public", Name: "g", Members: []MemberSpec{{UserID: "m"}}})
	_, err = f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: g, From: "m", Body: hello})
	wantCode(t, "group send", err, 0)
	wantCode(t, "quit", f.svc.QuitGroup(ctx, f.app, "m", g), 0)
	_, err = f.svc.AddFriends(ctx, f.app, "alice", []FriendItem{{To: "bob", AddSource: "AddSource_Type_x"}}, AddTypeBoth, true)
	wantCode(t, "friend add", err, 0)
	wantCode(t, "profile", f.svc.SetProfile(ctx, f.app, "alice", []ProfileItem{{Tag: "Tag_Profile_IM_Nick", Value: json.RawMessage(`"A"`)}}), 0)
	f.svc.StateChanged(ctx, f.app.SDKAppID, "alice", StateLogin, ReasonRegister, nil)
	if n, err := f.svc.store.CallbackBacklog(ctx, f.app.SDKAppID); err != nil || n != 0 {
		t.Fatalf("backlog %d, %v; want 0", n, err)
	}
}

func testC2CBeforeSend(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	send := func(req SendRequest) (SendResult, error) {
		req.From, req.To, req.Body = "alice", "bob", hello
		return f.svc.Send(ctx, f.app, req)
	}
	// Code 1 (and any other non-custom code): 20006, nothing stored.
	for _, code := range []int{1, 2, 70001} {
		h.set(func(string, any) callback.Decision { return callback.Decision{Code: code, Info: "no"} }, callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
		_, err := send(SendRequest{})
		wantCode(t, fmt.Sprint("refused by ", code), err, errs.C2CCallbackRefused)
		f.empty(t, "refused send")
	}
	page, err := f.svc.History(ctx, f.app, "bob", "alice", 0, 0, 10, "")
	if err != nil || len(page.Messages) != 0 {
		t.Fatalf("history after refusals: %d messages, %v", len(page.Messages), err)
	}
	// A custom code passes with its ErrorInfo.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 120005, Info: "app says no"} }, callback.C2CBeforeSendMsg)
	_, err = send(SendRequest{})
	wantCode(t, "custom", err, 120005)
	if errs.Message(err) != "app says no" {
		t.Fatalf("custom refusal's message %q", errs.Message(err))
	}
	// The body the app is asked about.
	body := h.bodies[0].(*callback.C2CMsgBody)
	if body.From != "alice" || body.To != "bob" || string(body.MsgBody) != string(hello) || body.MsgRandom == 0 {
		t.Fatalf("before body %+v", body)
	}
	// A rewrite: the stored message, the receiver's delivery and the after-event carry it.
	cloud := "new-cloud"
	h.set(func(string, any) callback.Decision { return callback.Decision{MsgBody: world, CloudCustomData: &cloud} },
		callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	res, err := send(SendRequest{})
	wantCode(t, "rewrite", err, 0)
	page, _ = f.svc.History(ctx, f.app, "bob", "alice", 0, 0, 10, "")
	if len(page.Messages) != 1 || string(page.Messages[0].Body) != string(world) || page.Messages[0].CloudCustomData != cloud {
		t.Fatalf("stored after rewrite: %+v", page.Messages)
	}
	ev := f.only(t, callback.C2CAfterSendMsg)
	want(t, ev, "MsgBody", world)
	want(t, ev, "CloudCustomData", cloud)
	want(t, ev, "MsgKey", res.MsgKey)
	// An invalid rewrite keeps the original.
	h.set(func(string, any) callback.Decision {
		return callback.Decision{MsgBody: json.RawMessage(`{"not":"array"}`)}
	},
		callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	_, err = send(SendRequest{})
	wantCode(t, "invalid rewrite", err, 0)
	want(t, f.only(t, callback.C2CAfterSendMsg), "MsgBody", hello)
	// CloudCustomData that no store can keep (a NUL, invalid UTF-8) keeps the original.
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		h.set(func(string, any) callback.Decision { return callback.Decision{CloudCustomData: &bad} },
			callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
		_, err = send(SendRequest{CloudCustomData: "orig"})
		wantCode(t, "unstorable CloudCustomData", err, 0)
		want(t, f.only(t, callback.C2CAfterSendMsg), "CloudCustomData", "orig")
	}
	// The default (a timeout or error): allowed.
	h.set(func(string, any) callback.Decision { return callback.Decision{Err: errors.New("timeout")} }, callback.C2CBeforeSendMsg)
	_, err = send(SendRequest{})
	wantCode(t, "default allow", err, 0)
	// ForbidBeforeSendMsgCallback: not asked.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.C2CBeforeSendMsg)
	_, err = send(SendRequest{Forbid: Forbid{Before: true}})
	wantCode(t, "forbidden before", err, 0)
	if a := h.askedOf(); len(a) != 0 {
		t.Fatalf("asked %v despite ForbidBeforeSendMsgCallback", a)
	}
	// An import is not asked.
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, Import: true, Time: f.clock.Now().Unix()})
	wantCode(t, "import", err, 0)
	if a := h.askedOf(); len(a) != 0 {
		t.Fatalf("import asked %v", a)
	}
	// An online-only message is asked too, and refused alike.
	_, err = send(SendRequest{OnlineOnly: true})
	wantCode(t, "online-only refused", err, errs.C2CCallbackRefused)
}

func testC2CAfterSend(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	res, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, CloudCustomData: "cc", Random: 77})
	wantCode(t, "send", err, 0)
	evs := f.outbox(t)
	if len(evs) != 1 || evs[0].Command != callback.C2CAfterSendMsg {
		t.Fatalf("outbox %v", commandsOf(evs))
	}
	if evs[0].ClientIP != "203.0.113.7" || evs[0].Platform != callback.PlatformREST {
		t.Fatalf("caller %q %q", evs[0].ClientIP, evs[0].Platform)
	}
	m := decodeEvent(t, evs[0])
	want(t, m, "From_Account", "alice")
	want(t, m, "To_Account", "bob")
	want(t, m, "MsgSeq", res.MsgSeq)
	want(t, m, "MsgRandom", 77)
	want(t, m, "MsgTime", res.MsgTime)
	want(t, m, "MsgKey", res.MsgKey)
	want(t, m, "CloudCustomData", "cc")
	want(t, m, "SendMsgResult", 0)
	want(t, m, "ErrorInfo", "send msg succeed")
	want(t, m, "OnlineOnlyFlag", 0)
	want(t, m, "EventTime", f.clock.Now().UnixMilli())
	// A retry of the same message (a duplicate) appends nothing.
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, ClientID: "c1"})
	wantCode(t, "send c1", err, 0)
	f.only(t, callback.C2CAfterSendMsg)
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, ClientID: "c1"})
	wantCode(t, "retry c1", err, 0)
	f.empty(t, "duplicate")
	// A refused send (receiver not imported) appends nothing.
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "nobody", Body: hello})
	wantCode(t, "unknown receiver", err, errs.MsgPeerNotFound)
	f.empty(t, "refused send")
	// ForbidAfterSendMsgCallback.
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, Forbid: Forbid{After: true}})
	wantCode(t, "forbid after", err, 0)
	f.empty(t, "forbidden after-event")
	// An online-only message: appended with OnlineOnlyFlag 1.
	_, err = f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello, OnlineOnly: true})
	wantCode(t, "online", err, 0)
	want(t, f.only(t, callback.C2CAfterSendMsg), "OnlineOnlyFlag", 1)
	// SendAsync: asked before, event after.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	done := make(chan error, 1)
	f.svc.SendAsync(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}, bus.Origin{}, func(_ SendResult, err error) { done <- err })
	wantCode(t, "async refused", <-done, errs.C2CCallbackRefused)
	f.empty(t, "async refused")
	h.set(nil, callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	f.svc.SendAsync(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}, bus.Origin{}, func(_ SendResult, err error) { done <- err })
	wantCode(t, "async", <-done, 0)
	f.only(t, callback.C2CAfterSendMsg)
}

func testC2CBatchSendCallbacks(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	h.set(func(_ string, body any) callback.Decision {
		switch body.(*callback.C2CMsgBody).To {
		case "m":
			return callback.Decision{Code: 1}
		case "x":
			return callback.Decision{Code: 120100, Info: "x refused"}
		case "o":
			return callback.Decision{MsgBody: world}
		}
		return callback.Decision{}
	}, callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	_, failed, err := f.svc.BatchSend(ctx, f.app, SendRequest{From: "alice", Body: hello}, []string{"bob", "m", "x", "o"})
	wantCode(t, "batch", err, 0)
	if len(failed) != 2 || !errs.Is(failed["m"], errs.C2CCallbackRefused) || !errs.Is(failed["x"], 120100) {
		t.Fatalf("failed %v", failed)
	}
	evs := f.outbox(t)
	got := map[string]string{}
	for _, ev := range evs {
		m := decodeEvent(t, ev)
		b, _ := json.Marshal(m["MsgBody"])
		got[m["To_Account"].(string)] = string(b)
	}
	if len(evs) != 2 || got["bob"] != normJSON(hello) || got["o"] != normJSON(world) {
		t.Fatalf("after-events %v", got)
	}
	if page, _ := f.svc.History(ctx, f.app, "m", "alice", 0, 0, 10, ""); len(page.Messages) != 0 {
		t.Fatal("a refused receiver got the message")
	}
	if a := h.askedOf(); len(a) != 4 {
		t.Fatalf("asked %d times, want 4", len(a))
	}
}

func testC2CReadAndRecallEvents(t *testing.T, open testdb.Opener) {
	f, _, ctx := cbFixture(t, open)
	res, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
	wantCode(t, "send", err, 0)
	f.outbox(t)
	wantCode(t, "read", f.svc.MarkRead(ctx, f.app, "bob", "alice", 0), 0)
	m := f.only(t, callback.C2CAfterMsgReport)
	want(t, m, "Report_Account", "bob")
	want(t, m, "Peer_Account", "alice")
	want(t, m, "LastReadTime", f.clock.Now().Unix())
	want(t, m, "UnreadMsgNum", 0)
	wantCode(t, "recall", f.svc.Recall(ctx, f.app, "alice", "bob", res.MsgKey, false), 0)
	m = f.only(t, callback.C2CAfterMsgWithDraw)
	want(t, m, "From_Account", "alice")
	want(t, m, "To_Account", "bob")
	want(t, m, "MsgKey", res.MsgKey)
	// A recall of an unknown message appends nothing.
	err = f.svc.Recall(ctx, f.app, "alice", "bob", "1_2_3", true)
	wantCode(t, "unknown recall", err, errs.MsgNotFound)
	f.empty(t, "failed recall")
}

func testGroupSendCallbacks(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	g := f.group(t, GroupSpec{Owner: "o", Type: "Public", Name: "g", Members: []MemberSpec{{UserID: "m"}}})
	f.outbox(t)
	send := func(req GroupSendRequest) (GroupSendResult, error) {
		req.Group, req.From, req.Body = g, "m", hello
		return f.svc.SendGroupMsg(ctx, f.app, req)
	}
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.GroupBeforeSendMsg, callback.GroupAfterSendMsg)
	_, err := send(GroupSendRequest{})
	wantCode(t, "refused", err, errs.GroupCallbackRefused)
	f.empty(t, "refused group send")
	if es, _, _ := f.svc.GroupHistory(ctx, f.app, g, "", 0, 10); slices.ContainsFunc(es, func(e store.Entry) bool { return e.Kind == store.KindMsg }) {
		t.Fatal("a refused message was stored")
	}
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 125000, Info: "mine"} }, callback.GroupBeforeSendMsg)
	_, err = send(GroupSendRequest{})
	wantCode(t, "custom", err, 125000)
	_, err = send(GroupSendRequest{Forbid: Forbid{Before: true}})
	wantCode(t, "forbidden before", err, 0)
	h.set(func(string, any) callback.Decision { return callback.Decision{MsgBody: world} }, callback.GroupBeforeSendMsg, callback.GroupAfterSendMsg)
	res, err := send(GroupSendRequest{Random: 9})
	wantCode(t, "rewrite", err, 0)
	m := f.only(t, callback.GroupAfterSendMsg)
	want(t, m, "GroupId", g)
	want(t, m, "Type", "Public")
	want(t, m, "From_Account", "m")
	want(t, m, "Operator_Account", "m")
	want(t, m, "MsgSeq", res.Seq)
	want(t, m, "MsgTime", res.MsgTime)
	want(t, m, "Random", 9)
	want(t, m, "MsgBody", world)
	_, err = send(GroupSendRequest{Forbid: Forbid{After: true}})
	wantCode(t, "forbid after", err, 0)
	f.empty(t, "forbidden group after-event")
	// A refused send (not a member) appends nothing.
	_, err = f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: g, From: "x", Body: hello})
	wantCode(t, "not a member", err, errs.GroupNoPermission)
	f.empty(t, "refused group send")
	// Recall.
	h.set(nil, callback.Commands...)
	wantCode(t, "recall", f.svc.RecallGroupMsg(ctx, f.app, "m", g, res.Seq), 0)
	m = f.only(t, callback.GroupAfterRecallMsg)
	want(t, m, "Operator_Account", "m")
	want(t, m, "MsgSeqList", []map[string]int64{{"MsgSeq": res.Seq}})
	codes, err := f.svc.RecallGroupMsgs(ctx, f.app, g, "", []int64{res.Seq + 100})
	wantCode(t, "admin recall unknown", err, 0)
	if codes[0] != errs.GroupRecallNotFound {
		t.Fatalf("codes %v", codes)
	}
	f.empty(t, "failed recall")
	// A live room: appended through Emit.
	live := f.group(t, GroupSpec{Owner: "o", Type: "AVChatRoom", Name: "live"})
	_, err = f.svc.JoinGroup(ctx, f.app, "m", live, "")
	wantCode(t, "join live", err, 0)
	f.outbox(t)
	_, err = f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: live, From: "m", Body: hello})
	wantCode(t, "live send", err, 0)
	want(t, f.only(t, callback.GroupAfterSendMsg), "Type", "AVChatRoom")
}

func testGroupLifecycleCallbacks(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	// Before create: refused, custom, allowed.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.GroupBeforeCreateGroup, callback.GroupAfterCreateGroup)
	_, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", Name: "g"}, false)
	wantCode(t, "create refused", err, errs.GroupCallbackRefused)
	f.empty(t, "refused create")
	h.set(nil, callback.Commands...)
	g, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", Name: "g", ApplyJoinOption: ApplyFree, GroupID: "cbgroup",
		Members: []MemberSpec{{UserID: "m"}}, AppDefinedData: []KeyValue{{Key: "k", Value: "v"}}}, false)
	wantCode(t, "create", err, 0)
	m := f.only(t, callback.GroupAfterCreateGroup)
	want(t, m, "GroupId", g.GroupID)
	want(t, m, "Operator_Account", "administrator")
	want(t, m, "Owner_Account", "o")
	want(t, m, "Type", "Public")
	want(t, m, "Name", "g")
	want(t, m, "MemberList", []map[string]string{{"Member_Account": "o"}, {"Member_Account": "m"}})
	want(t, m, "UserDefinedDataList", []map[string]string{{"Key": "k", "Value": "v"}})
	// A failed create (the GroupId in use) appends nothing.
	_, err = f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Owner: "o", Type: "Public", Name: "g", GroupID: g.GroupID}, false)
	wantCode(t, "in use", err, errs.GroupIDInUse)
	f.empty(t, "failed create")

	// Apply: refused, then allowed.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.GroupBeforeApplyJoinGroup, callback.GroupAfterNewMemberJoin)
	_, err = f.svc.JoinGroup(ctx, f.app, "x", g.GroupID, "")
	wantCode(t, "apply refused", err, errs.GroupCallbackRefused)
	f.empty(t, "refused apply")
	h.set(nil, callback.Commands...)
	_, err = f.svc.JoinGroup(ctx, f.app, "x", g.GroupID, "")
	wantCode(t, "apply", err, 0)
	m = f.only(t, callback.GroupAfterNewMemberJoin)
	want(t, m, "JoinType", "Apply")
	want(t, m, "Operator_Account", "x")
	want(t, m, "NewMemberList", []map[string]string{{"Member_Account": "x"}})
	_, err = f.svc.JoinGroup(ctx, f.app, "x", g.GroupID, "")
	wantCode(t, "again", err, errs.GroupAlreadyMember)
	f.empty(t, "failed join")

	// Invite: the refused members are not added.
	h.set(func(string, any) callback.Decision { return callback.Decision{RefusedMembers: []string{"bob"}} }, callback.Commands...)
	out, err := f.svc.AddGroupMembers(ctx, f.app, AdminActor, g.GroupID, []string{"alice", "bob"}, false)
	wantCode(t, "invite", err, 0)
	if out[0].Result != AddAdded || out[1].Result != AddFailed {
		t.Fatalf("invite results %+v", out)
	}
	m = f.only(t, callback.GroupAfterNewMemberJoin)
	want(t, m, "JoinType", "Invited")
	want(t, m, "NewMemberList", []map[string]string{{"Member_Account": "alice"}})
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.Commands...)
	_, err = f.svc.AddGroupMembers(ctx, f.app, AdminActor, g.GroupID, []string{"bob"}, false)
	wantCode(t, "invite refused", err, errs.GroupCallbackRefused)
	f.empty(t, "refused invite")
	h.set(nil, callback.Commands...)

	// Exit: kicked, quit.
	wantCode(t, "kick", f.svc.DeleteGroupMembers(ctx, f.app, AdminActor, g.GroupID, []string{"alice"}, false, ""), 0)
	m = f.only(t, callback.GroupAfterMemberExit)
	want(t, m, "ExitType", "Kicked")
	want(t, m, "ExitMemberList", []map[string]string{{"Member_Account": "alice"}})
	wantCode(t, "quit", f.svc.QuitGroup(ctx, f.app, "x", g.GroupID), 0)
	m = f.only(t, callback.GroupAfterMemberExit)
	want(t, m, "ExitType", "Quit")
	want(t, m, "Operator_Account", "x")
	err = f.svc.DeleteGroupMembers(ctx, f.app, AdminActor, g.GroupID, []string{"alice"}, false, "")
	wantCode(t, "kick non-member", err, errs.GroupNoAccount)
	f.empty(t, "failed kick")

	// Info, owner, destroy.
	name := "g2"
	wantCode(t, "modify", f.svc.ModifyGroup(ctx, f.app, AdminActor, g.GroupID, GroupChange{Name: &name}), 0)
	m = f.only(t, callback.GroupAfterGroupInfoChanged)
	want(t, m, "Name", "g2")
	if _, ok := m["Introduction"]; ok {
		t.Fatal("an unchanged field is in the body")
	}
	on := "On"
	wantCode(t, "mute all", f.svc.ModifyGroup(ctx, f.app, AdminActor, g.GroupID, GroupChange{MuteAllMember: &on}), 0)
	f.empty(t, "a change the callback has no field for")
	wantCode(t, "owner", f.svc.ChangeGroupOwner(ctx, f.app, AdminActor, g.GroupID, "m"), 0)
	m = f.only(t, callback.GroupAfterChangeGroupOwner)
	want(t, m, "OldOwner_Account", "o")
	want(t, m, "NewOwner_Account", "m")
	err = f.svc.ChangeGroupOwner(ctx, f.app, AdminActor, g.GroupID, "bob")
	wantCode(t, "owner non-member", err, errs.GroupNoAccount)
	f.empty(t, "failed owner change")
	wantCode(t, "destroy", f.svc.DestroyGroup(ctx, f.app, AdminActor, g.GroupID), 0)
	m = f.only(t, callback.GroupAfterGroupDestroyed)
	want(t, m, "Owner_Account", "m")
	want(t, m, "Name", "g2")
	members := m["MemberList"].([]any)
	if len(members) != 2 {
		t.Fatalf("destroyed group's members %v", members)
	}
	err = f.svc.DestroyGroup(ctx, f.app, AdminActor, g.GroupID)
	wantCode(t, "destroy again", err, errs.GroupNotFound)
	f.empty(t, "failed destroy")

	// The last member of a Work group quits: it exits, and the group is destroyed.
	w := f.group(t, GroupSpec{Owner: "o", Type: "Work", Name: "w"})
	f.outbox(t)
	wantCode(t, "last quits", f.svc.QuitGroup(ctx, f.app, "o", w), 0)
	evs := f.outbox(t)
	if cs := commandsOf(evs); len(cs) != 2 || cs[0] != callback.GroupAfterMemberExit || cs[1] != callback.GroupAfterGroupDestroyed {
		t.Fatalf("last quit: %v", cs)
	}
	want(t, decodeEvent(t, evs[1]), "MemberList", []map[string]string{{"Member_Account": "o"}})
}

func testSNSCallbacks(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	// Per-item answers: a code of the app's range, another code, allowed.
	h.set(func(string, any) callback.Decision {
		return callback.Decision{Results: []callback.ItemResult{{To: "m", Code: 38005, Info: "m no"}, {To: "x", Code: 1}}}
	}, callback.Commands...)
	items := []FriendItem{{To: "bob", AddSource: "AddSource_Type_a"}, {To: "m", AddSource: "AddSource_Type_a"}, {To: "x", AddSource: "AddSource_Type_a"}}
	out, err := f.svc.AddFriends(ctx, f.app, "alice", items, AddTypeBoth, true)
	wantCode(t, "add", err, 0)
	if out[0].Err != nil || !errs.Is(out[1].Err, 38005) || !errs.Is(out[2].Err, errs.SNSDenyAny) {
		t.Fatalf("results %+v", out)
	}
	prev := h.bodies[0].(*callback.PrevFriendAddBody)
	if prev.From != "alice" || prev.Requester != "administrator" || len(prev.FriendItem) != 3 || prev.ForceAddFlags != 1 {
		t.Fatalf("prev body %+v", prev)
	}
	m := f.only(t, callback.SnsFriendAdd)
	want(t, m, "PairList", []map[string]string{{"From_Account": "alice", "To_Account": "bob", "Initiator_Account": "alice"},
		{"From_Account": "bob", "To_Account": "alice", "Initiator_Account": "alice"}})
	want(t, m, "ClientCmd", "friend_add")
	want(t, m, "Admin_Account", "administrator")
	// Code != 0 refuses every item.
	h.set(func(string, any) callback.Decision { return callback.Decision{Code: 1} }, callback.Commands...)
	out, _ = f.svc.AddFriends(ctx, f.app, "alice", items[1:], AddTypeBoth, true)
	if !errs.Is(out[0].Err, errs.SNSDenyAny) || !errs.Is(out[1].Err, errs.SNSDenyAny) {
		t.Fatalf("refused all: %+v", out)
	}
	f.empty(t, "refused adds")
	h.set(nil, callback.Commands...)

	// A friend request accepted: Sns.CallbackPrevFriendResponse, then FriendAdd.
	out, _ = f.svc.AddFriends(ctx, f.app, "m", []FriendItem{{To: "x", AddSource: "AddSource_Type_a"}}, AddTypeBoth, false)
	if !errs.Is(out[0].Err, errs.SNSPending) {
		t.Fatalf("request: %+v", out)
	}
	f.empty(t, "pending request")
	h.set(func(string, any) callback.Decision {
		return callback.Decision{Results: []callback.ItemResult{{To: "m", Code: 38100, Info: "not yet"}}}
	}, callback.Commands...)
	wantCode(t, "response refused", f.svc.AcceptFriendRequest(ctx, f.app, "x", "m"), 38100)
	f.empty(t, "refused response")
	h.set(nil, callback.Commands...)
	wantCode(t, "accept", f.svc.AcceptFriendRequest(ctx, f.app, "x", "m"), 0)
	want(t, f.only(t, callback.SnsFriendAdd), "ClientCmd", "friend_response")

	// Delete.
	out, err = f.svc.DeleteFriends(ctx, f.app, "alice", []string{"bob", "o"}, DeleteTypeBoth)
	wantCode(t, "delete", err, 0)
	want(t, f.only(t, callback.SnsFriendDelete), "PairList", []map[string]string{{"From_Account": "alice", "To_Account": "bob"}, {"From_Account": "bob", "To_Account": "alice"}})
	_, _ = f.svc.DeleteFriends(ctx, f.app, "alice", []string{"bob"}, DeleteTypeBoth)
	f.empty(t, "delete of no friend")

	// Blocklist.
	out, err = f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob", "nobody"})
	wantCode(t, "block", err, 0)
	want(t, f.only(t, callback.SnsBlackListAdd), "PairList", []map[string]string{{"From_Account": "alice", "To_Account": "bob"}})
	_, _ = f.svc.AddBlocks(ctx, f.app, "alice", []string{"bob"})
	f.empty(t, "block again")
	_, err = f.svc.DeleteBlocks(ctx, f.app, "alice", []string{"bob", "m"})
	wantCode(t, "unblock", err, 0)
	want(t, f.only(t, callback.SnsBlackListDelete), "PairList", []map[string]string{{"From_Account": "alice", "To_Account": "bob"}})
	_ = out
}

func testFriendAddAtLimitAppendsNothing(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	h.set(nil) // fill alice's list (the Trial edition: 20 friends) with callbacks off
	var users []store.User
	var items []FriendItem
	for i := 0; i < 20; i++ {
		u := fmt.Sprintf("f%02d", i)
		users = append(users, store.User{UserID: u})
		items = append(items, FriendItem{To: u, AddSource: "AddSource_Type_a"})
	}
	wantCode(t, "import", f.svc.ImportAccounts(ctx, f.app, users), 0)
	out, err := f.svc.AddFriends(ctx, f.app, "alice", items, AddTypeSingle, true)
	wantCode(t, "fill", err, 0)
	for _, r := range out {
		wantCode(t, "fill item", r.Err, 0)
	}
	h.set(nil, callback.Commands...)
	out, err = f.svc.AddFriends(ctx, f.app, "alice", []FriendItem{{To: "bob", AddSource: "AddSource_Type_a"}}, AddTypeSingle, true)
	wantCode(t, "at limit", err, 0)
	wantCode(t, "at limit item", out[0].Err, errs.SNSOwnListFull)
	f.empty(t, "friend add at the limit")
}

func testProfileAndStateCallbacks(t *testing.T, open testdb.Opener) {
	f, _, ctx := cbFixture(t, open)
	wantCode(t, "profile", f.svc.SetProfile(ctx, f.app, "alice", []ProfileItem{{Tag: "Tag_Profile_IM_Nick", Value: json.RawMessage(`"Al"`)}}), 0)
	m := f.only(t, callback.ProfilePortraitSet)
	want(t, m, "From_Account", "alice")
	want(t, m, "Operator_Account", "administrator")
	want(t, m, "ProfileItem", []map[string]string{{"Tag": "Tag_Profile_IM_Nick", "Value": "Al"}})
	err := f.svc.SetProfile(ctx, f.app, "nobody", []ProfileItem{{Tag: "Tag_Profile_IM_Nick", Value: json.RawMessage(`"N"`)}})
	wantCode(t, "unknown account", err, errs.ProfileNoAccount)
	f.empty(t, "failed profile")

	dctx := callback.WithCaller(context.Background(), callback.Caller{IP: "198.51.100.2", Platform: callback.PlatformIOS})
	f.svc.StateChanged(dctx, f.app.SDKAppID, "alice", StateLogin, ReasonRegister, []string{callback.PlatformIOS})
	evs := f.outbox(t)
	if len(evs) != 1 || evs[0].Platform != "IOS" || evs[0].ClientIP != "198.51.100.2" {
		t.Fatalf("state change events %+v", evs)
	}
	m = decodeEvent(t, evs[0])
	want(t, m, "Info", map[string]string{"Action": "Login", "To_Account": "alice", "Reason": "Register"})
	want(t, m, "KickedDevice", []map[string]string{{"Platform": "IOS"}})
}

func TestParseForbid(t *testing.T) {
	f, err := ParseForbid([]string{"ForbidAfterSendMsgCallback", "ForbidBeforeSendMsgCallback"})
	if err != nil || !f.Before || !f.After {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := ParseForbid([]string{"ForbidSomething"}); !errs.Is(err, errs.InvalidParameters) || !strings.Contains(errs.Message(err), "ForbidSomething") {
		t.Fatalf("unknown value: %v", err)
	}
}

// TestCallbacks runs the callback tests on each store (the embedded store,
// and PostgreSQL when CHATD_TEST_POSTGRES_URL is set).
func TestCallbacks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, tc := range []struct {
			name string
			fn   func(*testing.T, testdb.Opener)
		}{
			{"C2CBeforeSend", testC2CBeforeSend},
			{"C2CAfterSend", testC2CAfterSend},
			{"C2CBatchSendCallbacks", testC2CBatchSendCallbacks},
			{"GroupSendCallbacks", testGroupSendCallbacks},
			{"GroupLifecycleCallbacks", testGroupLifecycleCallbacks},
			{"SNSCallbacks", testSNSCallbacks},
			{"FriendAddAtLimitAppendsNothing", testFriendAddAtLimitAppendsNothing},
			{"C2CReadAndRecallEvents", testC2CReadAndRecallEvents},
			{"ProfileAndStateCallbacks", testProfileAndStateCallbacks},
			{"SlowAnswerKeepsMsgKey", testSlowAnswerKeepsMsgKey},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
		}
	})
}

// An answer that takes seconds does not change the message the app was asked
// about: the stored message, the sender's result and the after-event carry the
// MsgRandom, MsgTime (and, with a MsgSeq, MsgKey) of the before-event, for a
// single and a batch send; the EventTime of both events is the service's clock.
func testSlowAnswerKeepsMsgKey(t *testing.T, open testdb.Opener) {
	f, h, ctx := cbFixture(t, open)
	slow := func(string, any) callback.Decision {
		f.clock.Advance(3 * time.Second) // the app answers 3 s later
		return callback.Decision{}
	}
	for _, batch := range []bool{false, true} {
		h.set(slow, callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
		asked := f.clock.Now()
		req := SendRequest{From: "alice", To: "bob", Body: hello, MsgSeq: 4242}
		var res SendResult
		var err error
		if batch {
			res, _, err = f.svc.BatchSend(ctx, f.app, req, []string{"bob"})
		} else {
			res, err = f.svc.Send(ctx, f.app, req)
		}
		if err != nil {
			t.Fatal(err)
		}
		before := h.bodies[0].(*callback.C2CMsgBody)
		if before.MsgKey == "" || before.MsgKey != res.MsgKey || before.MsgTime != res.MsgTime || before.MsgRandom != res.MsgRandom || before.EventTime != asked.UnixMilli() {
			t.Fatalf("batch %v: asked about %+v, sent %+v", batch, before, res)
		}
		ev := f.only(t, callback.C2CAfterSendMsg)
		want(t, ev, "MsgKey", res.MsgKey)
		want(t, ev, "MsgTime", res.MsgTime)
	}
}
