package restapi_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/im"
)

type snsItem struct {
	To_Account string
	ResultCode int
	ResultInfo string
}

type snsBatchOut struct {
	ResultItem   []snsItem
	Fail_Account []string
}

// codes maps each To_Account of a batch answer to its ResultCode.
func (o snsBatchOut) codes() map[string]int {
	m := map[string]int{}
	for _, it := range o.ResultItem {
		m[it.To_Account] = it.ResultCode
	}
	return m
}

// addFriends is friend_add of from with one item per peer (ForceAddFlags force).
func (e *env) addFriends(from string, force int, peers ...string) snsBatchOut {
	e.t.Helper()
	items := make([]M, len(peers))
	for i, p := range peers {
		items[i] = M{"To_Account": p, "AddSource": "AddSource_Type_Test"}
	}
	var out snsBatchOut
	e.call("sns/friend_add", M{"From_Account": from, "AddFriendItem": items, "ForceAddFlags": force}).
		wantOK("ResultItem", "Fail_Account").into(&out)
	return out
}

// relations is friend_check (CheckResult_Type_Both) of from, per peer.
func (e *env) relations(from string, peers ...string) map[string]string {
	e.t.Helper()
	var out struct {
		InfoItem []struct {
			To_Account string
			Relation   string
			ResultCode int
		}
	}
	e.call("sns/friend_check", M{"From_Account": from, "To_Account": peers, "CheckType": "CheckResult_Type_Both"}).
		wantOK("InfoItem", "Fail_Account").into(&out)
	m := map[string]string{}
	for _, it := range out.InfoItem {
		m[it.To_Account] = strings.TrimPrefix(it.Relation, "CheckResult_Type_")
	}
	return m
}

func (e *env) friendNum(user string) int {
	e.t.Helper()
	var out struct{ FriendNum int }
	e.call("sns/friend_get", M{"From_Account": user, "StartIndex": 0}).
		wantOK("UserDataItem", "StandardSequence", "CustomSequence", "FriendNum", "CompleteFlag", "NextStartIndex").into(&out)
	return out.FriendNum
}

func wantCodes(t *testing.T, what string, got snsBatchOut, want map[string]int) {
	t.Helper()
	if !reflect.DeepEqual(got.codes(), want) {
		t.Fatalf("%s: result codes %v, want %v (%+v)", what, got.codes(), want, got)
	}
}

// The reference: AddFriendItem sent as an object instead of an array fails the
// whole call (30001) and changes nothing; the same item inside [...] succeeds.
func TestSNSFriendAddItemObject(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob")
		item := M{"To_Account": "bob", "AddSource": "AddSource_Type_Web", "Remark": "B"}
		e.call("sns/friend_add", M{"From_Account": "alice", "AddFriendItem": item, "ForceAddFlags": 1}).wantErr(30001, "AddFriendItem")
		if r := e.relations("alice", "bob"); r["bob"] != "NoRelation" {
			t.Fatalf("a refused call made a relation: %v", r)
		}
		var out snsBatchOut
		e.call("sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item}, "ForceAddFlags": 1}).
			wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "friend_add", out, map[string]int{"bob": 0})
		if len(out.Fail_Account) != 0 {
			t.Fatalf("Fail_Account = %v", out.Fail_Account)
		}
		if r := e.relations("alice", "bob"); r["bob"] != "BothWay" {
			t.Fatalf("after friend_add: %v", r)
		}
		// Adding again: Err_SNS_FriendAdd_Friend_Exist.
		out = e.addFriends("alice", 1, "bob")
		if it := out.ResultItem[0]; it.ResultCode != 30001 || it.ResultInfo != "Err_SNS_FriendAdd_Friend_Exist" {
			t.Fatalf("adding a friend again = %+v", it)
		}
		// One user listed twice in one call: the second item finds the friendship
		// the first made.
		e.importUsers(e.a, "carol")
		out = e.addFriends("alice", 1, "carol", "carol")
		if a, b := out.ResultItem[0], out.ResultItem[1]; a.ResultCode != 0 || b.ResultCode != 30001 || b.ResultInfo != "Err_SNS_FriendAdd_Friend_Exist" {
			t.Fatalf("carol listed twice = %+v, %+v", a, b)
		}
	})
}

func TestSNSAllowType(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "deny", "any", "confirm")
	e.call("profile/portrait_set", M{"From_Account": "deny", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_AllowType", "Value": "AllowType_Type_DenyAny"}}}).wantOK()
	e.call("profile/portrait_set", M{"From_Account": "any", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_AllowType", "Value": "AllowType_Type_AllowAny"}}}).wantOK()
	out := e.addFriends("alice", 0, "deny", "any", "confirm", "ghost", "alice")
	wantCodes(t, "friend_add", out, map[string]int{"deny": 30516, "any": 0, "confirm": 30539, "ghost": 30003, "alice": 30001})
	if !reflect.DeepEqual(out.Fail_Account, []string{"deny", "confirm", "ghost", "alice"}) {
		t.Fatalf("Fail_Account = %v", out.Fail_Account)
	}
	if r := e.relations("alice", "deny", "any", "confirm"); !reflect.DeepEqual(r, map[string]string{"deny": "NoRelation", "any": "BothWay", "confirm": "NoRelation"}) {
		t.Fatalf("relations = %v", r)
	}
	// The need-confirm target has a pending request and was told.
	ctx := context.Background()
	reqs, err := e.svc.FriendRequests(ctx, e.a, "confirm", true)
	if err != nil || len(reqs) != 1 || reqs[0].From != "alice" || reqs[0].AddSource != "AddSource_Type_Test" {
		t.Fatalf("pending requests of confirm = %+v, %v", reqs, err)
	}
	var told bool
	for _, d := range e.bus.all() {
		if d.Kind == bus.KindNotice && d.User == "confirm" && d.Notice.Op == im.NoticeFriendRequest {
			told = true
		}
	}
	if !told {
		t.Fatal("the target of a pending request was not told")
	}
	if err := e.svc.AcceptFriendRequest(ctx, e.a, "confirm", "alice"); err != nil {
		t.Fatal(err)
	}
	if r := e.relations("alice", "confirm"); r["confirm"] != "BothWay" {
		t.Fatalf("after accepting: %v", r)
	}
	if err := e.svc.AcceptFriendRequest(ctx, e.a, "confirm", "alice"); err == nil || !strings.HasPrefix(err.Error(), "30614") {
		t.Fatalf("accepting twice = %v, want 30614", err)
	}
	// ForceAddFlags skips DenyAny; Add_Type_Single adds one way.
	wantCodes(t, "forced", e.addFriends("alice", 1, "deny"), map[string]int{"deny": 0})
	e.importUsers(e.a, "carol")
	var single snsBatchOut
	e.call("sns/friend_add", M{"From_Account": "carol", "AddType": "Add_Type_Single", "ForceAddFlags": 1,
		"AddFriendItem": []M{{"To_Account": "alice", "AddSource": "AddSource_Type_X"}}}).wantOK("ResultItem", "Fail_Account").into(&single)
	wantCodes(t, "single", single, map[string]int{"alice": 0})
	if r := e.relations("carol", "alice"); r["alice"] != "AWithB" {
		t.Fatalf("single add: %v", r)
	}
	if r := e.relations("alice", "carol"); r["carol"] != "BWithA" {
		t.Fatalf("single add seen from alice: %v", r)
	}
}

// The reference: a block between friends ends the friendship both ways; it is
// one-way for messages (20007 for the blocked user only); friend requests across
// it get 30515/30525; blocking again answers per item.
func TestSNSBlock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob")
		e.addFriends("alice", 1, "bob")
		var out snsBatchOut
		e.call("sns/black_list_add", M{"From_Account": "alice", "To_Account": []string{"bob"}}).wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "black_list_add", out, map[string]int{"bob": 0})
		if r := e.relations("alice", "bob"); r["bob"] != "NoRelation" {
			t.Fatalf("alice vs bob after the block: %v", r)
		}
		if r := e.relations("bob", "alice"); r["alice"] != "NoRelation" {
			t.Fatalf("bob vs alice after the block: %v", r)
		}
		seq := e.lastSeq(e.a, "alice")
		e.call("openim/sendmsg", M{"From_Account": "bob", "To_Account": "alice", "MsgRandom": 1, "MsgBody": hello}).wantErr(20007)
		if got := e.lastSeq(e.a, "alice"); got != seq {
			t.Fatalf("a refused message reached alice's log (%d -> %d)", seq, got)
		}
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 2, "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
		var batch struct {
			ErrorList []struct {
				To_Account string
				ErrorCode  int
			}
		}
		e.call("openim/batchsendmsg", M{"From_Account": "bob", "To_Account": []string{"alice"}, "MsgRandom": 3, "MsgBody": hello}).into(&batch)
		if len(batch.ErrorList) != 1 || batch.ErrorList[0].ErrorCode != 20007 {
			t.Fatalf("batchsendmsg to a blocker = %+v", batch)
		}
		wantCodes(t, "bob asks alice", e.addFriends("bob", 1, "alice"), map[string]int{"alice": 30525})
		wantCodes(t, "alice asks bob", e.addFriends("alice", 1, "bob"), map[string]int{"bob": 30515})
		// Blocking again: the call is OK, the item says why not.
		e.call("sns/black_list_add", M{"From_Account": "alice", "To_Account": []string{"bob", "ghost"}}).wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "black_list_add again", out, map[string]int{"bob": 30001, "ghost": 30003})

		var chk struct {
			BlackListCheckItem []struct{ To_Account, Relation string }
		}
		e.call("sns/black_list_check", M{"From_Account": "bob", "To_Account": []string{"alice"}, "CheckType": "BlackCheckResult_Type_Both"}).
			wantOK("BlackListCheckItem", "Fail_Account").into(&chk)
		if chk.BlackListCheckItem[0].Relation != "BlackCheckResult_Type_BWithA" {
			t.Fatalf("black_list_check = %+v", chk)
		}
		e.call("sns/black_list_check", M{"From_Account": "bob", "To_Account": []string{"alice"}, "CheckType": "BlackCheckResult_Type_Single"}).
			wantOK("BlackListCheckItem", "Fail_Account").into(&chk)
		if chk.BlackListCheckItem[0].Relation != "BlackCheckResult_Type_NO" {
			t.Fatalf("black_list_check single = %+v", chk)
		}
		var page struct {
			BlackListItem []struct {
				To_Account        string
				AddBlackTimeStamp int64
			}
			StartIndex      int
			CurrentSequence int
		}
		e.call("sns/black_list_get", M{"From_Account": "alice", "StartIndex": 0, "MaxLimited": 10, "LastSequence": 0}).
			wantOK("BlackListItem", "StartIndex", "CurruentSequence", "CurrentSequence").into(&page)
		if len(page.BlackListItem) != 1 || page.BlackListItem[0].To_Account != "bob" || page.BlackListItem[0].AddBlackTimeStamp != t0.Unix() || page.StartIndex != 0 {
			t.Fatalf("black_list_get = %+v", page)
		}
		e.call("sns/black_list_delete", M{"From_Account": "alice", "To_Account": []string{"bob", "carol"}}).wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "black_list_delete", out, map[string]int{"bob": 0, "carol": 30001})
		e.call("openim/sendmsg", M{"From_Account": "bob", "To_Account": "alice", "MsgRandom": 4, "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
	})
}

func TestSNSFriendFields(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob", "carol", "dave")
		var out snsBatchOut
		e.call("sns/friend_import", M{"From_Account": "alice", "AddFriendItem": []M{
			{"To_Account": "bob", "Remark": "Bobby", "GroupName": []string{"work", "gym"}, "AddSource": "AddSource_Type_Android",
				"AddWording": "hey", "AddTime": 1700000000, "CustomItem": []M{{"Tag": "Tag_SNS_Custom_Lvl", "Value": 3}, {"Tag": "Tag_SNS_Custom_Nick", "Value": "b"}}},
			{"To_Account": "carol", "AddSource": "AddSource_Type_Web"},
		}}).wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "friend_import", out, map[string]int{"bob": 0, "carol": 0})
		if r := e.relations("alice", "bob", "carol", "dave"); !reflect.DeepEqual(r, map[string]string{"bob": "AWithB", "carol": "AWithB", "dave": "NoRelation"}) {
			t.Fatalf("relations after import = %v", r)
		}
		var single struct {
			InfoItem []struct{ To_Account, Relation string }
		}
		e.call("sns/friend_check", M{"From_Account": "bob", "To_Account": []string{"alice"}, "CheckType": "CheckResult_Type_Single"}).
			wantOK("InfoItem", "Fail_Account").into(&single)
		if single.InfoItem[0].Relation != "CheckResult_Type_NoRelation" {
			t.Fatalf("single check ignores the other side: %+v", single)
		}
		type tv struct {
			Tag   string
			Value any
		}
		var got struct {
			UserDataItem []struct {
				To_Account string
				ValueItem  []tv
			}
			FriendNum, CompleteFlag, NextStartIndex int
		}
		e.call("sns/friend_get", M{"From_Account": "alice", "StartIndex": 0}).
			wantOK("UserDataItem", "StandardSequence", "CustomSequence", "FriendNum", "CompleteFlag", "NextStartIndex").into(&got)
		if got.FriendNum != 2 || got.CompleteFlag != 1 || got.UserDataItem[0].To_Account != "bob" {
			t.Fatalf("friend_get = %+v", got)
		}
		want := []tv{{"Tag_SNS_IM_Group", []any{"work", "gym"}}, {"Tag_SNS_IM_Remark", "Bobby"}, {"Tag_SNS_IM_AddSource", "AddSource_Type_Android"},
			{"Tag_SNS_IM_AddWording", "hey"}, {"Tag_SNS_IM_AddTime", float64(1700000000)}, {"Tag_SNS_Custom_Lvl", float64(3)}, {"Tag_SNS_Custom_Nick", "b"}}
		if !reflect.DeepEqual(got.UserDataItem[0].ValueItem, want) {
			t.Fatalf("bob's values = %+v, want %+v", got.UserDataItem[0].ValueItem, want)
		}
		e.call("sns/friend_update", M{"From_Account": "alice", "UpdateItem": []M{
			{"To_Account": "bob", "SnsItem": []M{{"Tag": "Tag_SNS_IM_Remark", "Value": "B2"}, {"Tag": "Tag_SNS_IM_Group", "Value": []string{"gym"}}}},
			{"To_Account": "dave", "SnsItem": []M{{"Tag": "Tag_SNS_IM_Remark", "Value": "D"}}},
		}}).wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "friend_update", out, map[string]int{"bob": 0, "dave": 31704})
		var list struct {
			InfoItem []struct {
				To_Account     string
				SnsProfileItem []tv
				ResultCode     int
			}
		}
		e.call("profile/portrait_set", M{"From_Account": "bob", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "Bob!"}}}).wantOK()
		e.call("sns/friend_get_list", M{"From_Account": "alice", "To_Account": []string{"bob", "dave"}, "TagList": []string{"Tag_SNS_IM_Remark", "Tag_SNS_IM_Group", "Tag_Profile_IM_Nick"}}).
			wantOK("InfoItem", "Fail_Account").into(&list)
		wantList := []tv{{"Tag_SNS_IM_Remark", "B2"}, {"Tag_SNS_IM_Group", []any{"gym"}}, {"Tag_Profile_IM_Nick", "Bob!"}}
		if !reflect.DeepEqual(list.InfoItem[0].SnsProfileItem, wantList) || list.InfoItem[1].ResultCode != 31704 {
			t.Fatalf("friend_get_list = %+v", list)
		}
		// Lists: group_get counts the friends of each list.
		var groups struct {
			ResultItem []struct {
				GroupName    string
				FriendNumber int
				To_Account   []string
			}
		}
		e.call("sns/group_add", M{"From_Account": "alice", "GroupName": []string{"family"}, "To_Account": []string{"carol", "dave"}}).
			wantOK("ResultItem", "Fail_Account", "CurrentSequence").into(&out)
		wantCodes(t, "group_add", out, map[string]int{"carol": 0, "dave": 31704})
		e.call("sns/group_get", M{"From_Account": "alice", "NeedFriend": "Need_Friend_Type_Yes"}).wantOK("ResultItem", "CurrentSequence").into(&groups)
		gotGroups := fmt.Sprint(groups.ResultItem)
		if gotGroups != "[{work 0 []} {gym 1 [bob]} {family 1 [carol]}]" {
			t.Fatalf("group_get = %s", gotGroups)
		}
		e.call("sns/group_delete", M{"From_Account": "alice", "GroupName": []string{"gym"}}).wantOK("CurrentSequence")
		e.call("sns/group_delete", M{"From_Account": "alice", "GroupName": []string{"nope"}}).wantErr(30001)
		names := make([]string, 31)
		for i := range names {
			names[i] = fmt.Sprintf("l%d", i)
		}
		e.call("sns/group_add", M{"From_Account": "alice", "GroupName": names}).wantErr(30011) // 2 + 31 > 32
		e.call("sns/group_get", M{"From_Account": "alice"}).wantOK("ResultItem", "CurrentSequence").into(&groups)
		if len(groups.ResultItem) != 2 {
			t.Fatalf("lists after a refused group_add = %+v", groups)
		}
		// Deleting.
		e.addFriends("dave", 1, "alice")
		e.call("sns/friend_delete", M{"From_Account": "alice", "To_Account": []string{"bob", "zed"}, "DeleteType": "Delete_Type_Single"}).
			wantOK("ResultItem", "Fail_Account").into(&out)
		wantCodes(t, "friend_delete", out, map[string]int{"bob": 0, "zed": 31704})
		e.call("sns/friend_delete_all", M{"From_Account": "alice", "DeleteType": "Delete_Type_Both"}).wantOK()
		if r := e.relations("alice", "carol", "dave"); !reflect.DeepEqual(r, map[string]string{"carol": "NoRelation", "dave": "NoRelation"}) {
			t.Fatalf("after delete all = %v", r)
		}
	})
}

// Bad input gets the reference code and changes nothing.
func TestSNSBadInput(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.importUsers(e.c, "stranger")
	e.addFriends("alice", 1, "bob")
	item := func(kv ...any) M {
		m := M{"To_Account": "bob", "AddSource": "AddSource_Type_Web"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	many := make([]M, 101)
	for i := range many {
		many[i] = item("To_Account", fmt.Sprintf("u%d", i))
	}
	manyIDs := make([]string, 1001)
	for i := range manyIDs {
		manyIDs[i] = fmt.Sprintf("u%d", i)
	}
	cases := []struct {
		path string
		body any
		code int
	}{
		{"sns/friend_add", `{"From_Account":"alice","AddFriendItem":[`, 60003},
		{"sns/friend_add", M{"From_Account": 7, "AddFriendItem": []M{item()}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("Remark", 5)}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("Remark", strings.Repeat("r", 97))}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("AddSource", "Web")}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("AddSource", "AddSource_Type_TooLongKw")}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("AddWording", strings.Repeat("w", 257))}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("GroupName", strings.Repeat("g", 31))}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item("Remark", "a\x00b")}}, 60003},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": many}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{}}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item()}, "AddType": "Add_Type_Three"}, 30001},
		{"sns/friend_add", M{"From_Account": "alice", "AddFriendItem": []M{item()}, "ForceAddFlags": 2}, 30001},
		{"sns/friend_add", M{"From_Account": "ghost", "AddFriendItem": []M{item()}}, 30003},
		{"sns/friend_add", M{"From_Account": "stranger", "AddFriendItem": []M{item()}}, 30003},
		{"sns/friend_import", M{"From_Account": "alice", "AddFriendItem": []M{item("CustomItem", []M{{"Tag": "Tag_SNS_Custom_TooLongKey", "Value": "x"}})}}, 30001},
		{"sns/friend_import", M{"From_Account": "alice", "AddFriendItem": []M{item("CustomItem", []M{{"Tag": "Tag_SNS_Custom_K", "Value": strings.Repeat("v", 501)}})}}, 30001},
		{"sns/friend_import", M{"From_Account": "alice", "AddFriendItem": []M{item("AddTime", -1)}}, 30001},
		{"sns/friend_update", M{"From_Account": "alice", "UpdateItem": []M{{"To_Account": "bob", "SnsItem": []M{{"Tag": "Tag_SNS_IM_Unknown", "Value": "x"}}}}}, 30001},
		{"sns/friend_update", M{"From_Account": "alice", "UpdateItem": []M{{"To_Account": "bob", "SnsItem": []M{{"Tag": "Tag_SNS_IM_Remark", "Value": 5}}}}}, 30001},
		{"sns/friend_update", M{"From_Account": "alice", "UpdateItem": []M{{"To_Account": "bob", "SnsItem": []M{{"Tag": "Tag_SNS_IM_Group", "Value": "notarray"}}}}}, 30001},
		{"sns/friend_update", M{"From_Account": "alice", "UpdateItem": M{"To_Account": "bob"}}, 30001},
		{"sns/friend_delete", M{"From_Account": "alice", "To_Account": "bob"}, 30001},
		{"sns/friend_delete", M{"From_Account": "alice", "To_Account": manyIDs}, 30001},
		{"sns/friend_delete", M{"From_Account": "alice", "To_Account": []string{"bob"}, "DeleteType": "Delete_Type_None"}, 30001},
		{"sns/friend_delete_all", M{"From_Account": "alice", "DeleteType": "x"}, 30001},
		{"sns/friend_check", M{"From_Account": "alice", "To_Account": []string{"bob"}}, 30001},
		{"sns/friend_check", M{"From_Account": "alice", "To_Account": []string{""}, "CheckType": "CheckResult_Type_Both"}, 30001},
		{"sns/friend_get", M{"From_Account": "alice", "StartIndex": -1}, 30001},
		{"sns/friend_get", M{"From_Account": "alice", "StartIndex": "0"}, 30001},
		{"sns/friend_get_list", M{"From_Account": "alice", "To_Account": []string{"bob"}, "TagList": []string{"Tag_Nope"}}, 30001},
		{"sns/black_list_add", M{"From_Account": "alice", "To_Account": []int{1}}, 30001},
		{"sns/black_list_add", M{"From_Account": "alice", "To_Account": manyIDs}, 30001},
		{"sns/black_list_get", M{"From_Account": "alice", "StartIndex": 0, "MaxLimited": 0}, 30001},
		{"sns/black_list_check", M{"From_Account": "alice", "To_Account": []string{"bob"}, "CheckType": "CheckResult_Type_Both"}, 30001},
		{"sns/group_add", M{"From_Account": "alice", "GroupName": []string{""}}, 30001},
		{"sns/group_add", M{"From_Account": "alice", "GroupName": "solo"}, 30001},
		{"sns/group_get", M{"From_Account": "alice", "NeedFriend": "yes"}, 30001},
	}
	for _, c := range cases {
		e.call(c.path, c.body).wantErr(c.code)
		if r := e.relations("alice", "bob"); r["bob"] != "BothWay" {
			t.Fatalf("%s %v changed alice and bob: %v", c.path, c.body, r)
		}
	}
	if n := e.friendNum("alice"); n != 1 {
		t.Fatalf("alice has %d friends after refused calls", n)
	}
	// A user of another app is a missing user per item.
	wantCodes(t, "other app", e.addFriends("alice", 1, "stranger"), map[string]int{"stranger": 30003})
	var blk snsBatchOut
	e.call("sns/black_list_add", M{"From_Account": "alice", "To_Account": []string{"stranger"}}).wantOK("ResultItem", "Fail_Account").into(&blk)
	wantCodes(t, "block other app", blk, map[string]int{"stranger": 30003})
}

// friend_only_c2c: messages only between friends (20009, 20010, 20011).
func TestSNSFriendOnlyMessaging(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol", "dave")
	send := func(from, to string) reply {
		return e.call("openim/sendmsg", M{"From_Account": from, "To_Account": to, "MsgRandom": 1, "MsgBody": hello})
	}
	send("alice", "bob").wantOK("MsgTime", "MsgKey", "MsgId")
	ctx := context.Background()
	if err := e.svc.SetAppSettings(ctx, e.a, map[string]string{"friend_only_c2c": "maybe"}); err == nil {
		t.Fatal("a bad setting value was accepted")
	}
	if err := e.svc.SetAppSettings(ctx, e.a, map[string]string{"no_such_key": "on"}); err == nil {
		t.Fatal("an unknown setting was accepted")
	}
	if err := e.svc.SetAppSettings(ctx, e.a, map[string]string{im.SettingFriendOnlyC2C: "on"}); err != nil {
		t.Fatal(err)
	}
	e.addFriends("alice", 1, "bob")
	e.call("sns/friend_add", M{"From_Account": "carol", "AddType": "Add_Type_Single", "ForceAddFlags": 1,
		"AddFriendItem": []M{{"To_Account": "dave", "AddSource": "AddSource_Type_X"}}}).wantOK("ResultItem", "Fail_Account")
	send("alice", "bob").wantOK("MsgTime", "MsgKey", "MsgId")
	send("alice", "carol").wantErr(20009)
	send("dave", "carol").wantErr(20011) // carol has dave; dave lacks carol
	send("carol", "dave").wantErr(20010) // carol is not in dave's list
	// Another app is not affected.
	e.importUsers(e.b, "x", "y")
	e.callApp(e.b, "openim/sendmsg", M{"From_Account": "x", "To_Account": "y", "MsgRandom": 1, "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
}

// The edition's friends per user: the 21st friend of a Free Trial user is
// refused (30010 own list, 30014 the peer's) and nothing changes.
func TestSNSFriendLimitTrial(t *testing.T) {
	e := newEnv(t)
	ids := []string{"hub", "late"}
	for i := 0; i < 20; i++ {
		ids = append(ids, fmt.Sprintf("f%02d", i))
	}
	e.importUsers(e.a, ids...)
	out := e.addFriends("hub", 1, ids[2:]...)
	for _, it := range out.ResultItem {
		if it.ResultCode != 0 {
			t.Fatalf("friend %s refused: %+v", it.To_Account, it)
		}
	}
	out = e.addFriends("hub", 1, "late")
	if it := out.ResultItem[0]; it.ResultCode != 30010 || !strings.Contains(it.ResultInfo, "Free Trial") {
		t.Fatalf("21st friend = %+v, want 30010 naming the edition", it)
	}
	out = e.addFriends("late", 1, "hub")
	wantCodes(t, "peer full", out, map[string]int{"hub": 30014})
	if n := e.friendNum("hub"); n != 20 {
		t.Fatalf("hub has %d friends", n)
	}
	if r := e.relations("late", "hub"); r["hub"] != "NoRelation" {
		t.Fatalf("late vs hub = %v", r)
	}
}

// friend_delete_all deletes one way unless told Delete_Type_Both (the reference's default).
func TestSNSFriendDeleteAllDefault(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.addFriends("alice", 1, "bob")
	e.call("sns/friend_delete_all", M{"From_Account": "alice"}).wantOK()
	if r := e.relations("alice", "bob"); r["bob"] != "BWithA" {
		t.Fatalf("after the default delete all: %v", r)
	}
	if n := e.friendNum("bob"); n != 1 {
		t.Fatalf("bob lost alice: %d friends", n)
	}
}
