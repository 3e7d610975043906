package restapi_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// eachStore runs fn on a REST stack over each store kind.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st, ok := open(t).(sqlStore)
		if !ok {
			t.Fatal("the store has no SQL database")
		}
		fn(t, newEnvOn(t, st))
	})
}

// unread is owner's AllC2CUnreadMsgNum in app a.
func (e *env) unread(owner string) int {
	e.t.Helper()
	var out struct{ AllC2CUnreadMsgNum int }
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": owner}).
		wantOK("AllC2CUnreadMsgNum", "C2CUnreadMsgNumList", "ErrorList").into(&out)
	return out.AllC2CUnreadMsgNum
}

// history is the number of messages in owner's history with peer in app a.
func (e *env) history(owner, peer string) int {
	e.t.Helper()
	return e.roam(e.a, M{"Operator_Account": owner, "Peer_Account": peer, "MaxCnt": 100}).MsgCnt
}

// onlineEntries are the entries without a Seq the bus handed out, by user.
func (e *env) onlineEntries() map[string][]store.Entry {
	out := map[string][]store.Entry{}
	for _, d := range e.bus.all() {
		if d.Kind == bus.KindEntry && d.Entry.Seq == 0 {
			out[d.User] = append(out[d.User], *d.Entry)
		}
	}
	return out
}

// MsgLifeTime 0 delivers to online devices only and stores nothing; a positive
// value bounds offline storage (at most 7 days); absent keeps the message for the
// retention window.
func TestSendMsgLifeTime(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob", "carol")
		var out struct{ MsgKey string }
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": 0, "MsgBody": hello}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob", "carol"}, "MsgLifeTime": 0,
			"SyncOtherMachine": 2, "MsgBody": hello}).wantOK("MsgKey", "MsgId", "ErrorList")
		for _, u := range []string{"alice", "bob", "carol"} {
			if n := e.lastSeq(e.a, u); n != 0 {
				t.Fatalf("online-only messages moved %s's log to %d", u, n)
			}
		}
		if h, u := e.history("bob", "alice"), e.unread("bob"); h != 0 || u != 0 {
			t.Fatalf("online-only messages stored: history %d, unread %d", h, u)
		}
		online := e.onlineEntries()
		if len(online["bob"]) != 2 || len(online["carol"]) != 1 || len(online["alice"]) != 1 {
			t.Fatalf("online deliveries: %+v", online)
		}
		if b := online["bob"][0]; b.MsgKey != out.MsgKey || b.From != "alice" || b.Peer != "alice" || string(b.Body) == "" {
			t.Fatalf("bob's online entry: %+v (MsgKey %s)", b, out.MsgKey)
		}

		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": 60, "MsgBody": hello}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
		if h, u := e.history("bob", "alice"), e.unread("bob"); h != 2 || u != 2 {
			t.Fatalf("before the lifetime ends: history %d, unread %d; want 2, 2", h, u)
		}
		e.clock.Advance(60 * time.Second)
		if h, u := e.history("bob", "alice"), e.unread("bob"); h != 1 || u != 1 {
			t.Fatalf("after the lifetime: history %d, unread %d; want 1, 1", h, u)
		}
		e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": out.MsgKey}).wantErr(90004)
		n, err := e.svc.PurgeExpired(context.Background(), []store.App{e.a})
		if err != nil || n != 2 {
			t.Fatalf("purge deleted %d entries (%v), want both copies of the expired message", n, err)
		}

		// Over 7 days: kept 7 days.
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": math.MaxInt64, "MsgBody": hello}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		got, err := e.st.FindMessage(context.Background(), e.a.SDKAppID, "bob", "alice", out.MsgKey)
		if want := e.clock.Now().Add(7 * 24 * time.Hour); err != nil || !got.ExpiresAt.Equal(want) {
			t.Fatalf("ExpiresAt = %v (%v), want %v", got.ExpiresAt, err, want)
		}

		seq := e.lastSeq(e.a, "bob")
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": -1, "MsgBody": hello}).wantErr(90044)
		e.call("openim/batchsendmsg", M{"To_Account": []string{"bob"}, "MsgLifeTime": 1.5, "MsgBody": hello}).wantErr(90044)
		if e.lastSeq(e.a, "bob") != seq {
			t.Fatal("a refused send stored a message")
		}
	})
}

// SendMsgControl NoUnread keeps a message out of unread counts; MsgSeq is the
// message's; unknown controls are refused.
func TestSendMsgControlAndMsgSeq(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var out struct {
		MsgTime int64
		MsgKey  string
	}
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgSeq": 4242, "MsgRandom": 7,
		"SendMsgControl": []string{"NoUnread", "NoLastMsg"}, "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
	if want := "4242_7_" + strconv.FormatInt(out.MsgTime, 10); out.MsgKey != want {
		t.Fatalf("MsgKey %s, want %s", out.MsgKey, want)
	}
	if h, u := e.history("bob", "alice"), e.unread("bob"); h != 1 || u != 0 {
		t.Fatalf("NoUnread message: history %d, unread %d; want 1, 0", h, u)
	}
	e.call("openim/batchsendmsg", M{"To_Account": []string{"bob"}, "SendMsgControl": []string{"NoPush"}, "MsgBody": hello}).
		wantErr(70402, "SendMsgControl")
}

// importmsg is idempotent on the conversation and (MsgSeq, MsgRandom,
// MsgTimeStamp): the first import is kept, in either direction.
func TestImportMsgKeptOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob")
		ts := t0.Add(-time.Hour).Unix()
		imp := func(from, to, text string) {
			e.call("openim/importmsg", M{"SyncFromOldSystem": 1, "From_Account": from, "To_Account": to, "MsgSeq": 77,
				"MsgRandom": 88, "MsgTimeStamp": ts, "MsgBody": []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": text}}}}).wantOK()
		}
		imp("alice", "bob", "first")
		imp("alice", "bob", "second")
		imp("bob", "alice", "swapped")
		for _, owner := range []string{"alice", "bob"} {
			p := e.roam(e.a, M{"Operator_Account": owner, "Peer_Account": other(owner), "MaxCnt": 10})
			if p.MsgCnt != 1 || string(p.MsgList[0].MsgBody) != `[{"MsgContent":{"Text":"first"},"MsgType":"TIMTextElem"}]` {
				t.Fatalf("%s's history: %+v", owner, p)
			}
		}
		if u := e.unread("bob"); u != 1 {
			t.Fatalf("bob's unread = %d, want 1", u)
		}
		key := "77_88_" + strconv.FormatInt(ts, 10)
		e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": key}).wantOK()
		for _, owner := range []string{"alice", "bob"} {
			p := e.roam(e.a, M{"Operator_Account": owner, "Peer_Account": other(owner), "MaxCnt": 10})
			if p.MsgCnt != 1 || p.MsgList[0].MsgFlagBits != 8 {
				t.Fatalf("%s's history after the recall: %+v", owner, p)
			}
		}
		// A receiver listed twice in a batch gets the message once.
		e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob", "bob"}, "MsgBody": hello}).
			wantOK("MsgKey", "MsgId", "ErrorList")
		if h := e.history("bob", "alice"); h != 2 {
			t.Fatalf("bob's history after a batch listing him twice: %d messages, want 2", h)
		}
	})
}

func other(u string) string {
	if u == "alice" {
		return "bob"
	}
	return "alice"
}

// Every error of a service's commands is the reference's code, driven through the
// real handler; nothing is stored by a refused request.
func TestReferenceErrorCodes(t *testing.T) {
	type tc struct {
		name string
		path string
		req  any
		code int
	}
	past := t0.Add(-time.Hour).Unix()
	msg := func(extra M) M {
		m := M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	imp := func(extra M) M {
		m := msg(M{"MsgRandom": 1, "MsgTimeStamp": past, "SyncFromOldSystem": 2})
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	services := map[string][]tc{
		"im_open_login_svc": {
			{"import without UserID", "im_open_login_svc/account_import", M{"Nick": "x"}, 70402},
			{"import UserID number", "im_open_login_svc/account_import", M{"UserID": 1}, 60015},
			{"import body not JSON", "im_open_login_svc/account_import", "{", 60003},
			{"multi import of 101", "im_open_login_svc/multiaccount_import", M{"Accounts": make([]string, 101)}, 70206},
			{"delete of none", "im_open_login_svc/account_delete", M{"DeleteItem": []M{}}, 70206},
			{"check of none", "im_open_login_svc/account_check", M{}, 70206},
			{"kick unknown", "im_open_login_svc/kick", M{"UserID": "ghost"}, 70107},
			{"kick without UserID", "im_open_login_svc/kick", M{}, 70402},
			{"online status of none", "openim/query_online_status", M{"To_Account": []string{}}, 70402},
			{"online status of 501", "openim/query_online_status", M{"To_Account": make([]string, 501)}, 70206},
		},
		"openim": {
			{"send body not JSON", "openim/sendmsg", "[", 90001},
			{"send without To_Account", "openim/sendmsg", M{"MsgBody": hello}, 90003},
			{"send to unknown", "openim/sendmsg", msg(M{"To_Account": "ghost"}), 90012},
			{"send from unknown", "openim/sendmsg", msg(M{"From_Account": "ghost"}), 20003},
			{"send MsgRandom negative", "openim/sendmsg", msg(M{"MsgRandom": -1}), 90005},
			{"send MsgRandom over 32 bits", "openim/sendmsg", msg(M{"MsgRandom": uint64(1) << 32}), 90005},
			{"send MsgSeq over 32 bits", "openim/sendmsg", msg(M{"MsgSeq": uint64(1) << 32}), 90001},
			{"send MsgBody object", "openim/sendmsg", msg(M{"MsgBody": M{}}), 90007},
			{"send MsgBody bad element", "openim/sendmsg", msg(M{"MsgBody": []M{{"MsgType": "TIMNope", "MsgContent": M{}}}}), 90002},
			{"send SyncOtherMachine 3", "openim/sendmsg", msg(M{"SyncOtherMachine": 3}), 90031},
			{"send MsgLifeTime negative", "openim/sendmsg", msg(M{"MsgLifeTime": -5}), 90044},
			{"send MsgLifeTime string", "openim/sendmsg", msg(M{"MsgLifeTime": "1"}), 90044},
			{"send SendMsgControl unknown", "openim/sendmsg", msg(M{"SendMsgControl": []string{"X"}}), 70402},
			{"batch of 501", "openim/batchsendmsg", M{"To_Account": make([]string, 501), "MsgBody": hello}, 90011},
			{"batch To_Account string", "openim/batchsendmsg", M{"To_Account": "bob", "MsgBody": hello}, 90003},
			{"import without MsgTimeStamp", "openim/importmsg", msg(M{"MsgRandom": 1}), 90006},
			{"import MsgTimeStamp max int64", "openim/importmsg", imp(M{"MsgTimeStamp": int64(math.MaxInt64)}), 90006},
			{"import MsgTimeStamp in an hour", "openim/importmsg", imp(M{"MsgTimeStamp": t0.Add(time.Hour).Unix()}), 90006},
			{"import MsgTimeStamp negative", "openim/importmsg", imp(M{"MsgTimeStamp": -1}), 90006},
			{"import MsgTimeStamp over 64 bits", "openim/importmsg", imp(M{"MsgTimeStamp": 1e20}), 90006},
			{"import MsgSeq negative", "openim/importmsg", imp(M{"MsgSeq": -1}), 90001},
			{"import SyncFromOldSystem 3", "openim/importmsg", imp(M{"SyncFromOldSystem": 3}), 70402},
			{"roam MaxCnt negative", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": -1}, 70402},
			{"roam MinTime negative", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "MinTime": -1}, 70402},
			{"roam MaxTime negative", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxTime": -1}, 70402},
			{"roam MinTime after MaxTime", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "MinTime": 5, "MaxTime": 4}, 70402},
			{"roam LastMsgKey malformed", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "LastMsgKey": "1_2"}, 70402},
			{"roam LastMsgKey random over 32 bits", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "LastMsgKey": "1_4294967296_5"}, 70402},
			{"roam LastMsgKey unknown", "openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "LastMsgKey": "1_2_3"}, 70402},
			{"withdraw MsgKey malformed", "openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": "x_y_z"}, 70402},
			{"withdraw MsgKey time over 63 bits", "openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": "1_2_99999999999999999999"}, 70402},
			{"withdraw MsgKey unknown", "openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": "1_2_3"}, 90004},
			{"set read negative", "openim/admin_set_msg_read", M{"Report_Account": "alice", "Peer_Account": "bob", "MsgReadTime": -1}, 70402},
			{"set read unknown", "openim/admin_set_msg_read", M{"Report_Account": "alice", "Peer_Account": "ghost"}, 70107},
			{"unread without To_Account", "openim/get_c2c_unread_msg_num", M{}, 90003},
			{"unread unknown", "openim/get_c2c_unread_msg_num", M{"To_Account": "ghost"}, 70107},
			{"unread of 101 peers", "openim/get_c2c_unread_msg_num", M{"To_Account": "alice", "Peer_Account": make([]string, 101)}, 70402},
		},
		"profile": {
			{"set tag not found", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "faceURL", "Value": "x"}}}, 40009},
			{"set custom key too long", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_Custom_123456789", "Value": "x"}}}, 40009},
			{"set number for a string tag", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": 5}}}, 40610},
			{"set string for a number tag", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Level", "Value": "5"}}}, 40610},
			{"set number over uint32", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Level", "Value": json.RawMessage("9223372036854775808")}}}, 40610},
			{"set birthday over uint32", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_BirthDay", "Value": int64(99999999999999)}}}, 40610},
			{"set negative number", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Role", "Value": -1}}}, 40610},
			{"set object value", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Location", "Value": M{}}}}, 40610},
			{"set value outside the set", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Gender", "Value": "Robot"}}}, 40605},
			{"set value over 500 bytes", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": strings.Repeat("x", 501)}}}, 40601},
			{"set unknown account", "profile/portrait_set", M{"From_Account": "ghost", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "x"}}}, 40003},
			{"set without items", "profile/portrait_set", M{"From_Account": "alice"}, 40001},
			{"set body not JSON", "profile/portrait_set", "{", 60003},
			{"get without tags", "profile/portrait_get", M{"To_Account": []string{"alice"}}, 40001},
			{"get of 101", "profile/portrait_get", M{"To_Account": make([]string, 101), "TagList": []string{"Tag_Profile_IM_Nick"}}, 40001},
		},
	}
	for service, cases := range services {
		t.Run(service, func(t *testing.T) {
			e := newEnv(t)
			e.importUsers(e.a, "alice", "bob")
			for _, c := range cases {
				before := e.lastSeq(e.a, "alice") + e.lastSeq(e.a, "bob")
				r := e.call(c.path, c.req)
				if r.code() != c.code {
					t.Errorf("%s: %s answered %d (%s), want %d", c.name, c.path, r.code(), r.info(), c.code)
					continue
				}
				r.wantErr(c.code)
				if after := e.lastSeq(e.a, "alice") + e.lastSeq(e.a, "bob"); after != before {
					t.Errorf("%s: a refused request wrote to the logs", c.name)
				}
			}
		})
	}
}

// Two REST messages of opposite directions with one MsgRandom in one second get
// different MsgKeys even where the senders' log positions meet, so a recall by
// key names one of them.
func TestSendMsgKeysApart(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol")
	send := func(from, to, text string) string {
		var out struct{ MsgKey string }
		e.call("openim/sendmsg", M{"From_Account": from, "To_Account": to, "MsgRandom": 7,
			"MsgBody": []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": text}}}}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		return out.MsgKey
	}
	send("alice", "carol", "first") // alice's log runs one ahead of bob's
	ab, ba := send("alice", "bob", "to bob"), send("bob", "alice", "to alice")
	if ab == ba {
		t.Fatalf("two messages of one conversation share the MsgKey %s", ab)
	}
	e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": ab}).wantOK()
	p := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 10})
	recalled := 0
	for _, m := range p.MsgList {
		if m.MsgFlagBits == 8 {
			recalled++
		}
	}
	if p.MsgCnt != 2 || recalled != 1 {
		t.Fatalf("after recalling one of two messages: %+v", p)
	}
}
