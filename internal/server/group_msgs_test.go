package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/testdb"
)

// groupInbox collects a device's group entries.
type groupInbox struct {
	mu sync.Mutex
	ch chan client.Entry
}

func inbox(cl *client.Client) *groupInbox {
	b := &groupInbox{ch: make(chan client.Entry, 256)}
	cl.OnGroupEntry(func(e client.Entry) { b.ch <- e })
	return b
}

func (b *groupInbox) next(t *testing.T, what string) client.Entry {
	t.Helper()
	select {
	case e := <-b.ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no group entry", what)
	}
	return client.Entry{}
}

func textBody(s string) json.RawMessage {
	b, _ := json.Marshal([]map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": s}}})
	return b
}

func restCode(r map[string]any) int {
	c, _ := r["ErrorCode"].(float64)
	return int(c)
}

// Group messages end to end: WebSocket and REST sends share one gapless seq,
// reach every member's device once (the sender's in its reply), targeted
// messages only their targets, and sync, history, recall, unread and mutes
// follow the log.
func TestGroupMessagesEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := tctx(t)
		r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Public", "GroupId": "G1", "Name": "g",
			"MemberList": []map[string]any{{"Member_Account": "bob"}, {"Member_Account": "carol"}}})
		if restCode(r) != 0 {
			t.Fatalf("create_group: %v", r)
		}
		alice, bob, carol := w.dial("alice", "Web"), w.dial("bob", "Web"), w.dial("carol", "Web")
		ai, bi, ci := inbox(alice), inbox(bob), inbox(carol)

		ack, err := alice.GroupSend(ctx, "G1", "c1", textBody("hello"), client.GroupSendOptions{})
		if err != nil || ack.Seq == 0 || ack.Entry == nil || ack.Entry.Seq != ack.Seq {
			t.Fatalf("group_send: %+v %v", ack, err)
		}
		first := ack.Seq
		if e := ai.next(t, "alice's own"); e.Seq != first {
			t.Fatalf("alice's own entry %+v", e)
		}
		for _, in := range []*groupInbox{bi, ci} {
			if e := in.next(t, "member"); e.Seq != first || e.Group != "G1" || e.From != "alice" || e.Kind != "msg" {
				t.Fatalf("pushed %+v", e)
			}
		}
		if dup, err := alice.GroupSend(ctx, "G1", "c1", textBody("hello"), client.GroupSendOptions{}); err != nil || !dup.Duplicate || dup.Seq != first {
			t.Fatalf("repeat: %+v %v", dup, err)
		}
		// REST as bob, then a targeted message to carol.
		r = w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "G1", "From_Account": "bob", "Random": 7, "MsgBody": textBody("from rest")})
		if restCode(r) != 0 || int64(r["MsgSeq"].(float64)) != first+1 {
			t.Fatalf("send_group_msg: %v", r)
		}
		r2 := w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "G1", "From_Account": "bob", "Random": 7, "MsgBody": textBody("again")})
		if r2["MsgSeq"] != r["MsgSeq"] {
			t.Fatalf("the same Random: %v", r2)
		}
		r = w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "G1", "From_Account": "bob", "Random": 8, "MsgBody": textBody("psst"), "To_Account": []string{"carol"}})
		if restCode(r) != 0 || int64(r["MsgSeq"].(float64)) != first+2 {
			t.Fatalf("targeted: %v", r)
		}
		for _, in := range []*groupInbox{ai, bi, ci} {
			if e := in.next(t, "rest"); e.Seq != first+1 {
				t.Fatalf("rest push %+v", e)
			}
		}
		if e := ci.next(t, "targeted"); e.Seq != first+2 || len(e.Targets) != 1 {
			t.Fatalf("targeted push %+v", e)
		}
		if e := bi.next(t, "targeted, sender"); e.Seq != first+2 {
			t.Fatalf("targeted push to its sender %+v", e)
		}
		es, complete, err := alice.GroupSync(ctx, "G1", first-1, 100)
		if err != nil || !complete || len(es) != 2 || es[0].Seq != first || es[1].Seq != first+1 {
			t.Fatalf("alice's sync: %+v %v %v", es, complete, err)
		}
		es, _, _ = carol.GroupSync(ctx, "G1", first-1, 100)
		if len(es) != 3 {
			t.Fatalf("carol's sync: %+v", es)
		}
		// Unread: carol read nothing since she joined.
		gs, err := carol.GroupList(ctx)
		if err != nil || len(gs) != 1 || gs[0].Group != "G1" || gs[0].LastSeq != first+2 || gs[0].Unread != 3 {
			t.Fatalf("carol's group_list: %+v %v", gs, err)
		}
		if err := carol.GroupRead(ctx, "G1", first+1); err != nil {
			t.Fatal(err)
		}
		if gs, _ := carol.GroupList(ctx); gs[0].Unread != 1 || gs[0].ReadSeq != first+1 {
			t.Fatalf("after group_read: %+v", gs)
		}
		if err := carol.GroupRead(ctx, "G1", -5); code(err) != errs.GroupBadParams {
			t.Fatalf("group_read of a negative seq: %v", err)
		}
		if _, _, err := carol.GroupSync(ctx, "G1", -1, 10); code(err) != errs.GroupBadParams {
			t.Fatalf("group_sync after a negative seq: %v", err)
		}
		if r := w.rest("group_open_http_svc/create_group", map[string]any{"Type": "Community", "Name": "c", "GroupId": "@TGS#_C@TOPIC#_t1"}); restCode(r) != errs.GroupIDInvalid {
			t.Fatalf("a GroupId in the topics' name space: %v", r)
		}
		// History, recall, place messages.
		r = w.rest("group_open_http_svc/group_msg_recall", map[string]any{"GroupId": "G1", "MsgSeqList": []map[string]any{{"MsgSeq": first}, {"MsgSeq": 999}}})
		if list := r["RecallRetList"].([]any); restCode(r) != 0 || int(list[0].(map[string]any)["RetCode"].(float64)) != 0 ||
			int(list[1].(map[string]any)["RetCode"].(float64)) != errs.GroupRecallNotFound {
			t.Fatalf("recall: %v", r)
		}
		if e := bi.next(t, "recall"); e.Kind != "recall" || e.MsgSeq != first {
			t.Fatalf("recall push %+v", e)
		}
		r = w.rest("group_open_http_svc/group_msg_get_simple", map[string]any{"GroupId": "G1", "ReqMsgSeq": first + 2, "ReqMsgNumber": 3})
		list := r["RspMsgList"].([]any)
		if restCode(r) != 0 || len(list) != 3 {
			t.Fatalf("group_msg_get_simple: %v", r)
		}
		if m := list[2].(map[string]any); int64(m["MsgSeq"].(float64)) != first || m["IsPlaceMsg"].(float64) != 1 {
			t.Fatalf("recalled message in history: %v", m)
		}
		// The recall itself is the newest entry: a system message, not a second place message.
		r = w.rest("group_open_http_svc/group_msg_get_simple", map[string]any{"GroupId": "G1", "ReqMsgNumber": 1})
		if m := r["RspMsgList"].([]any)[0].(map[string]any); m["IsSystemMsg"].(float64) != 1 || m["IsPlaceMsg"].(float64) != 0 ||
			!strings.Contains(fmt.Sprint(m["MsgBody"]), fmt.Sprintf(`{"type":"recall","msg_seq":%d}`, first)) {
			t.Fatalf("the recall in history: %v", m)
		}
		for _, n := range []int{-1, 21} {
			r = w.rest("group_open_http_svc/group_msg_get_simple", map[string]any{"GroupId": "G1", "ReqMsgNumber": n})
			if restCode(r) != errs.GroupBadParams {
				t.Fatalf("ReqMsgNumber %d: %v", n, r)
			}
		}
		// Mutes.
		if r := w.rest("group_open_http_svc/forbid_send_msg", map[string]any{"GroupId": "G1", "Members_Account": []string{"bob"}, "MuteTime": 60}); restCode(r) != 0 {
			t.Fatalf("forbid_send_msg: %v", r)
		}
		if _, err := bob.GroupSend(ctx, "G1", "b1", textBody("x"), client.GroupSendOptions{}); code(err) != errs.GroupMuted {
			t.Fatalf("muted send: %v", err)
		}
		// Not a member, unknown group.
		w.newApp(catalog.Trial) // (another app: its users are not in G1)
		if _, err := alice.GroupSend(ctx, "nope", "x1", textBody("x"), client.GroupSendOptions{}); code(err) != errs.GroupNotFound {
			t.Fatalf("unknown group: %v", err)
		}
	})
}

// Standard has neither targeted messages nor read receipts (10059); a live
// room takes only its four element types and numbers messages in memory.
func TestGroupMessageRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Standard, gateway.Limits{})
		ctx := tctx(t)
		if r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Work", "GroupId": "W", "Name": "w",
			"MemberList": []map[string]any{{"Member_Account": "bob"}}}); restCode(r) != 0 {
			t.Fatalf("create_group: %v", r)
		}
		r := w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "W", "From_Account": "alice", "MsgBody": textBody("x"), "To_Account": []string{"bob"}})
		if restCode(r) != errs.GroupFeatureNotInEdition {
			t.Fatalf("targeted on Standard: %v", r)
		}
		r = w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "W", "From_Account": "carol", "MsgBody": textBody("x")})
		if restCode(r) != errs.GroupNoPermission {
			t.Fatalf("non-member: %v", r)
		}
		if r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "AVChatRoom", "GroupId": "LIVE", "Name": "live"}); restCode(r) != 0 {
			t.Fatalf("create live room: %v", r)
		}
		bob := w.dial("bob", "Web")
		if pending, err := bob.GroupJoin(ctx, "LIVE", ""); err != nil || pending {
			t.Fatalf("join live room: %v %v", pending, err)
		}
		bi := inbox(bob)
		video := json.RawMessage(`[{"MsgType":"TIMVideoFileElem","MsgContent":{"VideoUrl":"https://x.example/v.mp4","VideoSize":1,"VideoSecond":1,"VideoFormat":"mp4","ThumbUrl":"https://x.example/t.jpg","ThumbSize":1,"ThumbWidth":1,"ThumbHeight":1,"ThumbFormat":"JPG"}}]`)
		r = w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "LIVE", "From_Account": "alice", "MsgBody": video})
		if restCode(r) != errs.GroupBadParams {
			t.Fatalf("video in a live room: %v", r)
		}
		for i := 1; i <= 2; i++ {
			r = w.rest("group_open_http_svc/send_group_msg", map[string]any{"GroupId": "LIVE", "From_Account": "alice", "MsgBody": textBody("live")})
			if restCode(r) != 0 || int(r["MsgSeq"].(float64)) != i {
				t.Fatalf("live send %d: %v", i, r)
			}
			if e := bi.next(t, "live"); e.Seq != int64(i) {
				t.Fatalf("live push %+v", e)
			}
		}
		if r := w.rest("group_open_http_svc/group_msg_get_simple", map[string]any{"GroupId": "LIVE"}); restCode(r) != errs.GroupBadParams {
			t.Fatalf("history of a live room: %v", r)
		}
	})
}
