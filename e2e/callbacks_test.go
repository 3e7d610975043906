package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	dcb "github.com/dobyte/tencent-im/callback"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"

	"github.com/chatd/chatd/client"
)

// receiver is an app backend's callback endpoint. Every request is checked
// against the reference's wire format (query string, signature), then parsed
// by the public SDK's callback module (github.com/dobyte/tencent-im), a
// receiver we did not write, unless decide answers it first.
type receiver struct {
	t     *testing.T
	app   int64
	token string
	addr  string

	mu      sync.Mutex
	srv     *http.Server
	reqs    []cbReq
	bad     []string
	parsed  map[dcb.Event]any // what the SDK parsed, by its event
	changed chan struct{}     // closed and renewed on every request
	decide  func(cmd string, body map[string]any) any
}

type cbReq struct {
	cmd   string
	query map[string]string
	body  map[string]any
}

func newReceiver(t *testing.T, app int64, token string) *receiver {
	r := &receiver{t: t, app: app, token: token, parsed: map[dcb.Event]any{}, changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/im/callback" }

func (r *receiver) serve(ln net.Listener) {
	sdk := dcb.NewCallback(int(r.app))
	for ev := dcb.EventStateChange; ev <= dcb.EventAfterGroupInfoChanged; ev++ {
		ev := ev
		sdk.Register(ev, func(ack dcb.Ack, data any) {
			r.mu.Lock()
			r.parsed[ev] = data
			close(r.changed) // a request is recorded before the SDK parses it
			r.changed = make(chan struct{})
			r.mu.Unlock()
			_ = ack.AckSuccess(0)
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/im/callback", func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		q := map[string]string{}
		for k, v := range req.URL.Query() {
			q[k] = v[0]
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			r.fail("body is not JSON: %q", raw)
		}
		r.check(req, q, body)
		r.mu.Lock()
		r.reqs = append(r.reqs, cbReq{cmd: q["CallbackCommand"], query: q, body: body})
		close(r.changed)
		r.changed = make(chan struct{})
		decide := r.decide
		r.mu.Unlock()
		if decide != nil {
			if resp := decide(q["CallbackCommand"], body); resp != nil {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(resp)
				return
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
		sdk.Listen(w, req)
	})
	r.mu.Lock()
	r.srv = &http.Server{Handler: mux}
	srv := r.srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// check verifies the reference's query string and signature (rest-api.md §6).
func (r *receiver) check(req *http.Request, q map[string]string, body map[string]any) {
	if req.Method != http.MethodPost {
		r.fail("method %s", req.Method)
	}
	if q["SdkAppid"] != strconv.FormatInt(r.app, 10) || q["contenttype"] != "json" || q["OptPlatform"] == "" {
		r.fail("query %v", q)
	}
	if body["CallbackCommand"] != q["CallbackCommand"] {
		r.fail("body command %v, query command %q", body["CallbackCommand"], q["CallbackCommand"])
	}
	sum := sha256.Sum256([]byte(r.token + q["RequestTime"]))
	if q["Sign"] != hex.EncodeToString(sum[:]) {
		r.fail("Sign %q does not verify for RequestTime %q", q["Sign"], q["RequestTime"])
	}
	if rt, err := strconv.ParseInt(q["RequestTime"], 10, 64); err != nil || time.Since(time.Unix(rt, 0)).Abs() > 60*time.Second {
		r.fail("RequestTime %q is not within 60 s of now", q["RequestTime"])
	}
}

func (r *receiver) fail(format string, args ...any) {
	r.mu.Lock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// stop closes the endpoint: connections are refused until start.
func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// start opens the endpoint again on its address.
func (r *receiver) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

// waitParsed waits until the public SDK has parsed each of evs (a request is
// recorded before the SDK parses it, so waitFor alone may see it first).
func (r *receiver) waitParsed(within time.Duration, evs []dcb.Event) {
	r.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		missing := ""
		for _, ev := range evs {
			if r.parsed[ev] == nil {
				missing = fmt.Sprint(ev)
				break
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if missing == "" {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.t.Fatalf("callbacks: the SDK did not parse event %s within %s", missing, within)
		}
	}
}

// waitFor waits until ok holds for the requests received so far.
func (r *receiver) waitFor(what string, within time.Duration, ok func(reqs []cbReq) bool) []cbReq {
	r.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		reqs := append([]cbReq(nil), r.reqs...)
		ch := r.changed
		r.mu.Unlock()
		if ok(reqs) {
			return reqs
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.t.Fatalf("callbacks: %s: not within %s (%d requests so far)", what, within, len(reqs))
		}
	}
}

func (r *receiver) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func has(reqs []cbReq, cmd string, match func(b map[string]any) bool) bool {
	for _, q := range reqs {
		if q.cmd == cmd && (match == nil || match(q.body)) {
			return true
		}
	}
	return false
}

// cbText is the first text element of a callback body's MsgBody.
func cbText(b map[string]any) string {
	els, _ := b["MsgBody"].([]any)
	if len(els) == 0 {
		return ""
	}
	el, _ := els[0].(map[string]any)
	c, _ := el["MsgContent"].(map[string]any)
	s, _ := c["Text"].(string)
	return s
}

func (n *node) setCallback(a app, r *receiver, events string) {
	n.t.Helper()
	v := n.cli("app", "callback", "set", "--sdkappid", strconv.FormatInt(a.id, 10), "--url", r.url(), "--callback-token", r.token, "--events", events)
	if v["url"] != r.url() || v["token_set"] != true {
		n.t.Fatalf("callback set: %v", v)
	}
}

// Every event the public SDK's callback module knows (but AfterGroupFull,
// which chatd does not send) reaches it and parses, with the reference's
// field names and a signature that verifies.
func TestCallbacksParsedByPublicSDK(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t), "--callback-allow-hosts", "127.0.0.1")
	a := n.createApp()
	r := newReceiver(t, a.id, "xxxxyyyy")
	n.setCallback(a, r, "all")
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": u})
	}
	ctx := context.Background()
	alice := n.mustLogin(a, "alice", "iOS", 0)
	bob := n.mustLogin(a, "bob", "Android", 0)
	carol := n.mustLogin(a, "carol", "Web", 0)

	// One-to-one: before and after send, a read report, a recall.
	ack, err := alice.SendText(ctx, "bob", "m-1", "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	nextMsg(t, bob)
	if err := bob.MarkRead(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Recall(ctx, "bob", ack.MsgKey); err != nil {
		t.Fatal(err)
	}

	// Friends: a direct add (force), a request and its acceptance, a delete, the blocklist.
	n.restOK(a, "sns/friend_add", map[string]any{"From_Account": "alice", "ForceAddFlags": 1,
		"AddFriendItem": []map[string]any{{"To_Account": "bob", "AddSource": "AddSource_Type_Web"}}})
	v := n.rest(a, "sns/friend_add", map[string]any{"From_Account": "alice",
		"AddFriendItem": []map[string]any{{"To_Account": "carol", "AddSource": "AddSource_Type_Web", "AddWording": "hi"}}})
	if v["ErrorCode"] != float64(0) {
		t.Fatalf("friend_add (request): %v", v)
	}
	if err := carol.AcceptFriend(ctx, "alice"); err != nil {
		t.Fatalf("accept: %v", err)
	}
	n.restOK(a, "sns/friend_delete", map[string]any{"From_Account": "alice", "To_Account": []string{"bob"}, "DeleteType": "Delete_Type_Both"})
	n.restOK(a, "sns/black_list_add", map[string]any{"From_Account": "alice", "To_Account": []string{"dave"}})
	n.restOK(a, "sns/black_list_delete", map[string]any{"From_Account": "alice", "To_Account": []string{"dave"}})

	// Groups: create, apply to join, invite, send, change, kick, recall, destroy.
	g := n.restOK(a, "group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Public", "Name": "Team",
		"ApplyJoinOption": "FreeAccess", "MemberList": []map[string]any{{"Member_Account": "bob"}}})
	gid := g["GroupId"].(string)
	if _, err := carol.GroupJoin(ctx, gid, "let me in"); err != nil {
		t.Fatalf("join: %v", err)
	}
	n.restOK(a, "group_open_http_svc/add_group_member", map[string]any{"GroupId": gid, "MemberList": []map[string]any{{"Member_Account": "dave"}}})
	sent := n.restOK(a, "group_open_http_svc/send_group_msg", map[string]any{"GroupId": gid, "From_Account": "alice", "Random": 7, "MsgBody": textBody("hello team")})
	n.restOK(a, "group_open_http_svc/modify_group_base_info", map[string]any{"GroupId": gid, "Notification": "read the rules"})
	n.restOK(a, "group_open_http_svc/delete_group_member", map[string]any{"GroupId": gid, "MemberToDel_Account": []string{"dave"}})
	n.restOK(a, "group_open_http_svc/group_msg_recall", map[string]any{"GroupId": gid, "MsgSeqList": []map[string]any{{"MsgSeq": sent["MsgSeq"]}}})
	n.restOK(a, "group_open_http_svc/change_group_owner", map[string]any{"GroupId": gid, "NewOwner_Account": "bob"})
	n.restOK(a, "group_open_http_svc/destroy_group", map[string]any{"GroupId": gid})
	n.restOK(a, "profile/portrait_set", map[string]any{"From_Account": "bob", "ProfileItem": []map[string]any{{"Tag": "Tag_Profile_IM_Nick", "Value": "Bobby"}}})
	alice.Close()

	want := map[dcb.Event]string{
		dcb.EventStateChange: "State.StateChange", dcb.EventBeforeFriendAdd: "Sns.CallbackPrevFriendAdd",
		dcb.EventBeforeFriendResponse: "Sns.CallbackPrevFriendResponse", dcb.EventAfterFriendAdd: "Sns.CallbackFriendAdd",
		dcb.EventAfterFriendDelete: "Sns.CallbackFriendDelete", dcb.EventAfterBlacklistAdd: "Sns.CallbackBlackListAdd",
		dcb.EventAfterBlacklistDelete: "Sns.CallbackBlackListDelete", dcb.EventBeforePrivateMessageSend: "C2C.CallbackBeforeSendMsg",
		dcb.EventAfterPrivateMessageSend: "C2C.CallbackAfterSendMsg", dcb.EventAfterPrivateMessageReport: "C2C.CallbackAfterMsgReport",
		dcb.EventAfterPrivateMessageRevoke: "C2C.CallbackAfterMsgWithDraw", dcb.EventBeforeGroupCreate: "Group.CallbackBeforeCreateGroup",
		dcb.EventAfterGroupCreate: "Group.CallbackAfterCreateGroup", dcb.EventBeforeApplyJoinGroup: "Group.CallbackBeforeApplyJoinGroup",
		dcb.EventBeforeInviteJoinGroup: "Group.CallbackBeforeInviteJoinGroup", dcb.EventAfterNewMemberJoinGroup: "Group.CallbackAfterNewMemberJoin",
		dcb.EventAfterMemberExitGroup: "Group.CallbackAfterMemberExit", dcb.EventBeforeGroupMessageSend: "Group.CallbackBeforeSendMsg",
		dcb.EventAfterGroupMessageSend: "Group.CallbackAfterSendMsg", dcb.EventAfterGroupDestroyed: "Group.CallbackAfterGroupDestroyed",
		dcb.EventAfterGroupInfoChanged: "Group.CallbackAfterGroupInfoChanged",
	}
	others := []string{"Group.CallbackAfterChangeGroupOwner", "Group.CallbackAfterRecallMsg", "Profile.CallbackPortraitSet"}
	r.waitFor("every event", 20*time.Second, func(reqs []cbReq) bool {
		for _, cmd := range want {
			if !has(reqs, cmd, nil) {
				return false
			}
		}
		for _, cmd := range others {
			if !has(reqs, cmd, nil) {
				return false
			}
		}
		return has(reqs, "State.StateChange", func(b map[string]any) bool {
			info, _ := b["Info"].(map[string]any)
			return info["Action"] == "Logout" && info["To_Account"] == "alice"
		})
	})
	if p := r.problems(); len(p) > 0 {
		t.Fatalf("wire format problems: %v", p)
	}
	evs := make([]dcb.Event, 0, len(want))
	for ev := range want {
		evs = append(evs, ev)
	}
	r.waitParsed(10*time.Second, evs)

	r.mu.Lock()
	defer r.mu.Unlock()
	for ev, cmd := range want {
		if r.parsed[ev] == nil {
			t.Errorf("the SDK did not parse %s", cmd)
		}
	}
	// Spot checks of what the SDK parsed: the reference's names reach its fields.
	if m, _ := r.parsed[dcb.EventAfterPrivateMessageSend].(*dcb.AfterPrivateMessageSend); m == nil || m.FromUserId != "alice" || m.ToUserId != "bob" || m.MsgKey != ack.MsgKey || len(m.MsgBody) != 1 {
		t.Errorf("after send: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterPrivateMessageRevoke].(*dcb.AfterPrivateMessageRevoke); m == nil || m.MsgKey != ack.MsgKey {
		t.Errorf("recall: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterPrivateMessageReport].(*dcb.AfterPrivateMessageReport); m == nil || m.ReportUserId != "bob" || m.PeerUserId != "alice" {
		t.Errorf("read report: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterGroupCreate].(*dcb.AfterGroupCreate); m == nil || m.GroupId != gid || m.OwnerUserId != "alice" || m.Type != "Public" {
		t.Errorf("group create: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventBeforeApplyJoinGroup].(*dcb.BeforeApplyJoinGroup); m == nil || m.GroupId != gid || m.RequestorUserId != "carol" {
		t.Errorf("apply join: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterMemberExitGroup].(*dcb.AfterMemberExitGroup); m == nil || m.ExitType != "Kicked" || len(m.MemberList) != 1 || m.MemberList[0].UserId != "dave" {
		t.Errorf("member exit: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterGroupInfoChanged].(*dcb.AfterGroupInfoChanged); m == nil || m.Notification != "read the rules" {
		t.Errorf("info changed: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterFriendAdd].(*dcb.AfterFriendAdd); m == nil || len(m.PairList) == 0 {
		t.Errorf("friend add: %+v", m)
	}
	if m, _ := r.parsed[dcb.EventAfterGroupMessageSend].(*dcb.AfterGroupMessageSend); m == nil || m.GroupId != gid || m.MsgSeq == 0 || m.FromUserId != "alice" {
		t.Errorf("group send: %+v", m)
	}
}

// A before-send callback rejects one message (20006, the receiver gets
// nothing), rewrites another (the receiver and the after-send callback get the
// new body), and one that does not answer lets the message through after the
// 2 s timeout.
func TestCallbackBeforeSendDecides(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t), "--callback-allow-hosts", "127.0.0.1")
	a := n.createApp()
	r := newReceiver(t, a.id, "secret-token")
	release := make(chan struct{})
	var slowAnswered sync.WaitGroup
	slowAnswered.Add(1)
	r.decide = func(cmd string, b map[string]any) any {
		if cmd != "C2C.CallbackBeforeSendMsg" {
			return nil
		}
		switch cbText(b) {
		case "reject me":
			return map[string]any{"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": "not allowed"}
		case "custom":
			return map[string]any{"ActionStatus": "OK", "ErrorCode": 120042, "ErrorInfo": "custom refusal"}
		case "rewrite me":
			return map[string]any{"ActionStatus": "OK", "ErrorCode": 0, "MsgBody": textBody("rewritten"), "CloudCustomData": "cleaned"}
		case "slow":
			defer slowAnswered.Done()
			select { // a receiver that takes 5 s; released early once the test has seen the message delivered
			case <-release:
			case <-time.After(5 * time.Second):
			}
			return map[string]any{"ActionStatus": "OK", "ErrorCode": 1}
		}
		return nil
	}
	n.setCallback(a, r, "C2C.CallbackBeforeSendMsg,C2C.CallbackAfterSendMsg")
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "alice"})
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "bob"})
	ctx := context.Background()
	alice := n.mustLogin(a, "alice", "iOS", 0)
	bob := n.mustLogin(a, "bob", "Android", 0)

	_, err := alice.SendText(ctx, "bob", "r-1", "reject me")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != 20006 {
		t.Fatalf("rejected send: %v, want 20006", err)
	}
	_, err = alice.SendText(ctx, "bob", "c-1", "custom")
	if !errors.As(err, &ce) || ce.Code != 120042 || ce.Message != "custom refusal" {
		t.Fatalf("custom refusal: %v, want 120042", err)
	}
	// REST: the same refusal, in the reference envelope.
	v := n.rest(a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": textBody("reject me")})
	if v["ErrorCode"] != float64(20006) {
		t.Fatalf("REST rejected send: %v", v)
	}
	// ForbidBeforeSendMsgCallback skips the decision.
	n.restOK(a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 2, "MsgBody": textBody("reject me"),
		"ForbidCallbackControl": []string{"ForbidBeforeSendMsgCallback"}})
	if e := nextMsg(t, bob); text(e) != "reject me" || e.From != "alice" {
		t.Fatalf("bob got %q, want the message sent with ForbidBeforeSendMsgCallback (nothing refused reaches him)", text(e))
	}

	if _, err := alice.SendText(ctx, "bob", "w-1", "rewrite me"); err != nil {
		t.Fatal(err)
	}
	e := nextMsg(t, bob)
	if text(e) != "rewritten" || e.CloudCustomData != "cleaned" {
		t.Fatalf("bob got %q / %q, want the rewritten message", text(e), e.CloudCustomData)
	}
	r.waitFor("the after-send callback of the rewritten message", 10*time.Second, func(reqs []cbReq) bool {
		return has(reqs, "C2C.CallbackAfterSendMsg", func(b map[string]any) bool { return cbText(b) == "rewritten" })
	})

	ack, err := alice.SendText(ctx, "bob", "s-1", "slow")
	if err != nil {
		t.Fatalf("send with a receiver that does not answer: %v (the default is to allow)", err)
	}
	e = nextMsg(t, bob)
	if text(e) != "slow" || e.MsgKey != ack.MsgKey {
		t.Fatalf("bob got %q, want the message the slow callback never answered", text(e))
	}
	close(release) // the receiver answered only now: the message went through on the timeout
	slowAnswered.Wait()

	reqs := r.waitFor("after-send callbacks", 10*time.Second, func(reqs []cbReq) bool {
		return has(reqs, "C2C.CallbackAfterSendMsg", func(b map[string]any) bool { return cbText(b) == "slow" })
	})
	for _, q := range reqs {
		if q.cmd == "C2C.CallbackAfterSendMsg" && (cbText(q.body) == "custom" || (cbText(q.body) == "reject me" && q.query["OptPlatform"] != "RESTAPI")) {
			t.Fatalf("a refused message has an after-send callback: %v", q.body)
		}
	}
	if p := r.problems(); len(p) > 0 {
		t.Fatalf("wire format problems: %v", p)
	}
	log := n.cli("app", "callback", "log", "--sdkappid", strconv.FormatInt(a.id, 10))
	entries, _ := log["entries"].([]any)
	timeout := false
	for _, it := range entries {
		if m, _ := it.(map[string]any); m["result"] == "timeout" && m["command"] == "C2C.CallbackBeforeSendMsg" {
			timeout = true
		}
	}
	if !timeout {
		t.Fatalf("callback log has no timeout of the before-send callback: %v", log)
	}
}

// After-events are never lost: the receiver is down for a minute while
// messages are sent and chatd is killed with SIGKILL mid-load; once it is back,
// every acknowledged message's after-send callback arrives (at least once).
func TestCallbackOutboxSurvivesDownReceiverAndCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for over a minute")
	}
	data, addr := t.TempDir(), freeAddr(t)
	n := startNode(t, data, addr, "--callback-allow-hosts", "127.0.0.1")
	a := n.createApp()
	r := newReceiver(t, a.id, "tok")
	n.setCallback(a, r, "C2C.CallbackAfterSendMsg")
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "alice"})
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "bob"})
	r.stop()
	down := time.Now()

	var mu sync.Mutex
	acked := map[string]bool{} // MsgKeys chatd acknowledged
	send := func(n *node, from, to int) {
		for i := from; i < to; i++ {
			v, err := tryRest(n, a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgRandom": i, "MsgBody": textBody(fmt.Sprintf("m%d", i))})
			if err != nil {
				return // the node is gone
			}
			if v["ErrorCode"] == float64(0) {
				mu.Lock()
				acked[v["MsgKey"].(string)] = true
				mu.Unlock()
			}
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); send(n, 0, 100000) }()
	waitAcked := func(k int) {
		for {
			mu.Lock()
			c := len(acked)
			mu.Unlock()
			if c >= k {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAcked(300)
	n.crash() // mid-load: the sender goroutine is cut off
	<-done

	n2 := startNode(t, data, addr, "--callback-allow-hosts", "127.0.0.1")
	send(n2, 200000, 200200)
	mu.Lock()
	total := len(acked)
	mu.Unlock()
	if wait := time.Minute - time.Since(down); wait > 0 {
		time.Sleep(wait) // the receiver stays down for a minute
	}
	r.start()
	reqs := r.waitFor("every acknowledged message's after-send callback", 3*time.Minute, func(reqs []cbReq) bool {
		got := map[string]bool{}
		for _, q := range reqs {
			if k, _ := q.body["MsgKey"].(string); q.cmd == "C2C.CallbackAfterSendMsg" && acked[k] {
				got[k] = true
			}
		}
		return len(got) == total
	})
	if p := r.problems(); len(p) > 0 {
		t.Fatalf("wire format problems: %v", p)
	}
	t.Logf("%d acknowledged messages, %d callbacks received (duplicates allowed: at least once)", total, len(reqs))
}

// tryRest is rest that reports a transport failure instead of failing the test.
func tryRest(n *node, a app, path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	sig := adminSig(n.t, a)
	url := n.url(fmt.Sprintf("/v4/%s?sdkappid=%d&identifier=administrator&usersig=%s&random=%d&contenttype=json", path, a.id, sig, time.Now().UnixNano()%1e9))
	resp, err := n.http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func adminSig(t *testing.T, a app) string {
	sig, err := tencentyun.GenUserSig(int(a.id), a.key, "administrator", sigValidity)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
