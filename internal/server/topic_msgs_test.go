package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/testdb"
)

// Community topic messages, REST (TopicId) and WebSocket (the `group` field
// holding a TopicId): a topic is a log of its own with its own seqs; its
// audience, membership and mutes are the community's; bad input gets the
// reference code and changes nothing.
func TestTopicMessages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Premium, "alice", "bob", "carol")
		ctx := tctx(t)
		call := func(cmd, body string) (map[string]any, int) {
			t.Helper()
			var out map[string]any
			code := e.rest(t, cmd, body, &out)
			return out, code
		}
		ok := func(cmd, body string) map[string]any {
			t.Helper()
			out, code := call(cmd, body)
			if code != 0 {
				t.Fatalf("%s %s: %d", cmd, body, code)
			}
			return out
		}
		ok("group_open_http_svc/create_group", `{"Owner_Account":"alice","Type":"Community","GroupId":"@TGS#_C1","Name":"c1","SupportTopic":1,"MemberList":[{"Member_Account":"bob"}]}`)
		ok("group_open_http_svc/create_group", `{"Owner_Account":"alice","Type":"Community","GroupId":"@TGS#_C2","Name":"c2","SupportTopic":1}`)
		ok("group_open_http_svc/create_group", `{"Owner_Account":"alice","Type":"Community","GroupId":"C3","Name":"c3"}`)
		ok("group_open_http_svc/create_group", `{"Owner_Account":"alice","Type":"Work","GroupId":"W1","Name":"w1"}`)
		const t1, t2 = "@TGS#_C1@TOPIC#_t1", "@TGS#_C2@TOPIC#_t2"
		ok("million_group_open_http_svc/create_topic", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","TopicName":"news"}`)
		ok("million_group_open_http_svc/create_topic", `{"GroupId":"@TGS#_C2","TopicId":"`+t2+`","TopicName":"other"}`)
		bob := e.dial(t, "bob", "Web")
		bi := inbox(bob)

		r := ok("group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","From_Account":"alice","Random":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"t"}}]}`)
		if r["MsgSeq"] != float64(1) {
			t.Fatalf("the topic's first seq: %v", r)
		}
		if got := bi.next(t, "topic message"); got.Group != t1 || got.Seq != 1 || got.From != "alice" {
			t.Fatalf("bob's entry %+v", got)
		}
		// The device names the topic in `group`; its seqs are the topic's.
		ack, err := bob.GroupSend(ctx, t1, "c1", textBody("from bob"), client.GroupSendOptions{})
		if err != nil || ack.Seq != 2 {
			t.Fatalf("group_send to the topic: %+v %v", ack, err)
		}
		// A topic that mutes all members refuses a plain member, not the owner.
		ok("million_group_open_http_svc/modify_topic", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","MuteAllMember":"On"}`)
		if _, err := bob.GroupSend(ctx, t1, "c-muted", textBody("muted"), client.GroupSendOptions{}); code(err) != errs.GroupMuted {
			t.Fatalf("a member's send to a topic muting all: %v", err)
		}
		ok("million_group_open_http_svc/modify_topic", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","MuteAllMember":"Off"}`)
		es, _, err := bob.GroupSync(ctx, t1, 0, 100)
		if err != nil || len(es) != 2 || es[0].Group != t1 {
			t.Fatalf("group_sync of the topic: %+v %v", es, err)
		}
		history := func(extra string) []any {
			t.Helper()
			out := ok("group_open_http_svc/group_msg_get_simple", `{"GroupId":"@TGS#_C1","ReqMsgNumber":20`+extra+`}`)
			l, _ := out["RspMsgList"].([]any)
			return l
		}
		if l := history(`,"TopicId":"` + t1 + `"`); len(l) != 2 {
			t.Fatalf("topic history: %v", l)
		}
		for _, m := range history("") {
			if m.(map[string]any)["IsSystemMsg"] != float64(1) {
				t.Fatalf("a topic message in the community's own log: %v", m)
			}
		}
		ok("group_open_http_svc/import_group_msg", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","MsgList":[{"From_Account":"bob","SendTime":1700000000,"Random":9,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"old"}}]}]}`)
		ok("group_open_http_svc/send_group_system_notification", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","Content":"hello"}`)
		if got := bi.next(t, "bob's own"); got.Seq != 2 {
			t.Fatalf("bob's own message: %+v", got)
		}
		if got := bi.next(t, "system notification"); got.Group != t1 || got.Kind != "tips" {
			t.Fatalf("notification entry %+v", got)
		}
		rec := ok("group_open_http_svc/group_msg_recall", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","MsgSeqList":[{"MsgSeq":1}]}`)
		if l, _ := rec["RecallRetList"].([]any); len(l) != 1 || l[0].(map[string]any)["RetCode"] != float64(0) {
			t.Fatalf("recall: %v", rec)
		}
		ok("group_open_http_svc/delete_group_msg_by_sender", `{"GroupId":"@TGS#_C1","TopicId":"`+t1+`","Sender_Account":"bob"}`)
		// Mutes and membership are the community's.
		ok("group_open_http_svc/forbid_send_msg", `{"GroupId":"@TGS#_C1","Members_Account":["bob"],"MuteTime":60}`)
		if _, err := bob.GroupSend(ctx, t1, "c2", textBody("muted"), client.GroupSendOptions{}); code(err) != errs.GroupMuted {
			t.Fatalf("a muted member's topic message: %v", err)
		}
		carol := e.dial(t, "carol", "Web")
		if _, err := carol.GroupSend(ctx, t1, "c3", textBody("outsider"), client.GroupSendOptions{}); code(err) != errs.GroupNoPermission {
			t.Fatalf("a non-member's topic message: %v", err)
		}
		if _, err := bob.GroupSend(ctx, "@TGS#_C1@TOPIC#_nope", "c4", textBody("x"), client.GroupSendOptions{}); code(err) != errs.GroupNotFound {
			t.Fatalf("an unknown topic over the WebSocket: %v", err)
		}

		if err := bob.GroupRead(ctx, t1, 1); code(err) != errs.GroupBadParams {
			t.Fatalf("group_read of a topic: %v", err)
		}
		before := history(`,"TopicId":"` + t1 + `"`)
		msg := `"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]`
		for _, tc := range []struct {
			cmd, body string
			code      int
		}{
			{"group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope","From_Account":"alice",` + msg + `}`, errs.GroupNotFound},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C1","TopicId":"` + t2 + `","From_Account":"alice",` + msg + `}`, errs.GroupIDInvalid},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C2","TopicId":"@TGS#_C2@TOPIC#_t1","From_Account":"alice",` + msg + `}`, errs.GroupNotFound},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"C3","TopicId":"C3@TOPIC#_t","From_Account":"alice",` + msg + `}`, errs.GroupBadParams},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"W1","TopicId":"W1@TOPIC#_t","From_Account":"alice",` + msg + `}`, errs.GroupBadParams},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C1","TopicId":1,"From_Account":"alice",` + msg + `}`, errs.GroupBadParams},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_t\u0001","From_Account":"alice",` + msg + `}`, errs.GroupIDInvalid},
			{"group_open_http_svc/send_group_msg", `{"GroupId":"none","TopicId":"none@TOPIC#_t","From_Account":"alice",` + msg + `}`, errs.GroupNotFound},
			{"group_open_http_svc/group_msg_get_simple", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope"}`, errs.GroupNotFound},
			{"group_open_http_svc/group_msg_get_simple", `{"GroupId":"W1","TopicId":"W1@TOPIC#_t"}`, errs.GroupBadParams},
			{"group_open_http_svc/group_msg_recall", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope","MsgSeqList":[{"MsgSeq":2}]}`, errs.GroupNotFound},
			{"group_open_http_svc/group_msg_recall", `{"GroupId":"@TGS#_C1","TopicId":["x"],"MsgSeqList":[{"MsgSeq":2}]}`, errs.GroupBadParams},
			{"group_open_http_svc/import_group_msg", `{"GroupId":"C3","TopicId":"C3@TOPIC#_t","MsgList":[]}`, errs.GroupBadParams},
			{"group_open_http_svc/delete_group_msg_by_sender", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope","Sender_Account":"alice"}`, errs.GroupNotFound},
			{"group_open_http_svc/send_group_system_notification", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope","Content":"x"}`, errs.GroupNotFound},
			{"group_open_http_svc/forbid_send_msg", `{"GroupId":"@TGS#_C1","TopicId":"` + t1 + `","Members_Account":["bob"],"MuteTime":0}`, errs.GroupBadParams},
			{"group_open_http_svc/forbid_send_msg", `{"GroupId":"@TGS#_C1","TopicId":"@TGS#_C1@TOPIC#_nope","Members_Account":["bob"],"MuteTime":0}`, errs.GroupNotFound},
			{"group_open_http_svc/get_group_muted_account", `{"GroupId":"@TGS#_C1","TopicId":"` + t1 + `"}`, errs.GroupBadParams},
		} {
			if _, c := call(tc.cmd, tc.body); c != tc.code {
				t.Errorf("%s %s: %d, want %d", tc.cmd, tc.body, c, tc.code)
			}
		}
		after := history(`,"TopicId":"` + t1 + `"`)
		if b, a := fmt.Sprint(before), fmt.Sprint(after); b != a {
			t.Fatalf("bad input changed the topic:\n%s\n%s", b, a)
		}
		if l, _ := ok("group_open_http_svc/get_group_muted_account", `{"GroupId":"@TGS#_C1"}`)["MutedAccountList"].([]any); len(l) != 1 {
			t.Fatalf("mutes changed: %v", l)
		}
		// Another app does not see the topic.
		other := e.newApp(catalog.Premium, "alice")
		raw := adminCall(t, e.hs.URL, other, e.c.Now(), "group_open_http_svc/group_msg_get_simple", []byte(`{"GroupId":"@TGS#_C1","TopicId":"`+t1+`"}`))
		var env struct{ ErrorCode int }
		if err := json.Unmarshal(raw, &env); err != nil || env.ErrorCode != errs.GroupNotFound {
			t.Fatalf("another app's topic: %s", raw)
		}
	})
}
