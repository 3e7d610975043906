package restapi_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
)

// TestGetAppInfo: the last 30 UTC days, oldest first, every value a string;
// the messages sent and logins made through the service are counted; another
// app's are not; RequestField narrows; unknown fields are refused.
func TestGetAppInfo(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.importUsers(e.b, "alice")
	for range 2 {
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantOK("MsgKey", "MsgTime", "MsgId")
	}
	gid := e.createGroup(M{"Owner_Account": "bob", "Type": "Public", "Name": "g", "MemberList": []M{{"Member_Account": "alice"}}})
	e.call(gsvc+"send_group_msg", M{"GroupId": gid, "From_Account": "bob", "Random": 1, "MsgBody": hello}).wantOK("MsgSeq", "MsgTime")
	if err := e.svc.Login(context.Background(), e.a, "alice", e.sig(e.a, "alice")); err != nil {
		t.Fatal(err)
	}
	e.callApp(e.b, "openim/sendmsg", M{"From_Account": "alice", "To_Account": "alice", "MsgBody": hello}).wantOK("MsgKey", "MsgTime", "MsgId")
	if err := e.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var out struct{ Result []map[string]any }
	e.call("openconfigsvr/getappinfo", M{}).wantOK("Result").into(&out)
	if len(out.Result) != 30 {
		t.Fatalf("%d days, want 30", len(out.Result))
	}
	for i, d := range out.Result {
		for k, v := range d {
			if _, ok := v.(string); !ok {
				t.Fatalf("day %d: %s = %v is not a string", i, k, v)
			}
		}
	}
	today := e.clock.Now().UTC()
	if out.Result[0]["Date"] != today.AddDate(0, 0, -29).Format("20060102") {
		t.Fatalf("first day %v", out.Result[0])
	}
	id := fmt.Sprint(e.a.SDKAppID)
	want := map[string]any{"AppId": id, "AppName": e.a.Name, "ActiveUserNum": "2", "LoginTimes": "1", "UpMsgNum": "3",
		"C2CUpMsgNum": "2", "GroupUpMsgNum": "1", "Date": today.Format("20060102")}
	if got := out.Result[29]; !reflect.DeepEqual(got, want) {
		t.Fatalf("today = %v\nwant %v", got, want)
	}
	if got := out.Result[28]; got["ActiveUserNum"] != "0" || got["UpMsgNum"] != "0" {
		t.Fatalf("yesterday = %v", got)
	}

	out.Result = nil // decode afresh, not into the maps above
	e.call("openconfigsvr/getappinfo", M{"RequestField": []string{"C2CUpMsgNum", "MaxOnlineNum"}}).wantOK("Result").into(&out)
	if got := out.Result[29]; !reflect.DeepEqual(got, map[string]any{"C2CUpMsgNum": "2", "Date": today.Format("20060102")}) {
		t.Fatalf("narrowed = %v", got)
	}
	e.call("openconfigsvr/getappinfo", M{"RequestField": []string{"Nope"}}).wantErr(errs.InvalidParameters, "Nope")
	e.call("openconfigsvr/getappinfo", M{"RequestField": "C2CUpMsgNum"}).wantErr(errs.InvalidParameters)
	e.call("openconfigsvr/getappinfo", `{"RequestField":[`).wantErr(errs.JSONParse)
	many := make([]string, 40)
	for i := range many {
		many[i] = "Date"
	}
	e.call("openconfigsvr/getappinfo", M{"RequestField": many}).wantErr(errs.InvalidParameters, "RequestField")
}

// TestGetAppInfoCounts: what counts as a sent message. Batch sends count once
// per receiver, online-only and live-room messages count, imports do not.
func TestGetAppInfoCounts(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol")
	e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob", "carol", "nobody"}, "MsgRandom": 1,
		"MsgBody": hello}).wantOK("MsgKey", "MsgId", "ErrorList")
	e.call("openim/sendmsg", M{"From_Account": "bob", "To_Account": "alice", "MsgLifeTime": 0, "MsgBody": hello}).wantOK("MsgKey", "MsgTime", "MsgId")
	e.call("openim/importmsg", M{"SyncFromOldSystem": 2, "From_Account": "carol", "To_Account": "bob", "MsgRandom": 5,
		"MsgTimeStamp": t0.Add(-time.Hour).Unix(), "MsgBody": hello}).wantOK()
	live := e.createGroup(M{"Owner_Account": "alice", "Type": "AVChatRoom", "Name": "live"})
	e.call(gsvc+"send_group_msg", M{"GroupId": live, "From_Account": "alice", "Random": 9, "MsgBody": hello}).wantOK("MsgSeq", "MsgTime")
	if err := e.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out struct{ Result []map[string]string }
	e.call("openconfigsvr/getappinfo", M{"RequestField": []string{"ActiveUserNum", "C2CUpMsgNum", "GroupUpMsgNum", "UpMsgNum"}}).wantOK("Result").into(&out)
	want := map[string]string{"ActiveUserNum": "2", "C2CUpMsgNum": "3", "GroupUpMsgNum": "1", "UpMsgNum": "4",
		"Date": e.clock.Now().UTC().Format("20060102")}
	if got := out.Result[29]; !reflect.DeepEqual(got, want) {
		t.Fatalf("today = %v, want %v", got, want)
	}
}
