package restapi_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

const gsvc = "group_open_http_svc/"

func (e *env) createGroup(req M) string {
	e.t.Helper()
	var out struct{ GroupId string }
	e.call(gsvc+"create_group", req).wantOK("GroupId", "Type").into(&out)
	return out.GroupId
}

func (e *env) groupInfo(ids ...string) []map[string]any {
	e.t.Helper()
	var out struct{ GroupInfo []map[string]any }
	e.call(gsvc+"get_group_info", M{"GroupIdList": ids}).wantOK("GroupInfo").into(&out)
	return out.GroupInfo
}

func num(v any) int64 {
	switch v := v.(type) {
	case float64:
		return int64(v)
	}
	return -1
}

func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func memberList(ids ...string) []M {
	out := make([]M, len(ids))
	for i, id := range ids {
		out[i] = M{"Member_Account": id}
	}
	return out
}

func TestGroupCreateAndInfo(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "owner", "m1", "m2")
	id := e.createGroup(M{"Owner_Account": "owner", "Type": "Public", "Name": "team", "MaxMemberCount": 100,
		"AppDefinedData": []M{{"Key": "k", "Value": "v"}}, "MemberList": []M{{"Member_Account": "m1", "Role": "Admin"}, {"Member_Account": "m2"}}})
	if !strings.HasPrefix(id, "@TGS#") {
		t.Fatalf("generated GroupId %q", id)
	}
	// A custom id in use: 10021.
	e.createGroup(M{"Type": "Private", "Name": "x", "GroupId": "mine"})
	e.call(gsvc+"create_group", M{"Type": "Work", "Name": "y", "GroupId": "mine"}).wantErr(errs.GroupIDInUse)
	// Reserved prefix: 10015; a Community id may start with "@TGS#_" (Free Trial has communities).
	e.call(gsvc+"create_group", M{"Type": "Work", "Name": "y", "GroupId": "@TGS#abc"}).wantErr(errs.GroupIDInvalid)
	c := e.createGroup(M{"Type": "Community", "Name": "c", "GroupId": "@TGS#_mine", "SupportTopic": 1})
	if c != "@TGS#_mine" {
		t.Fatalf("community id %q", c)
	}
	gen := e.createGroup(M{"Type": "Community", "Name": "c2", "SupportTopic": 1})
	if !strings.HasPrefix(gen, "@TGS#_") {
		t.Fatalf("generated community id %q", gen)
	}
	e.call(gsvc+"create_group", M{"Type": "Community", "Name": "c3", "GroupId": "plain", "SupportTopic": 1}).wantErr(errs.GroupIDInvalid)

	infos := e.groupInfo(id, "nope", "mine")
	if len(infos) != 3 {
		t.Fatalf("infos %v", infos)
	}
	g := infos[0]
	if g["GroupId"] != id || num(g["ErrorCode"]) != 0 || num(g["MaxMemberNum"]) != 100 || num(g["MemberNum"]) != 3 ||
		num(g["InfoSeq"]) != 1 || num(g["NextMsgSeq"]) != 1 || g["Owner_Account"] != "owner" || g["Type"] != "Public" ||
		g["ApplyJoinOption"] != "NeedPermission" || g["MuteAllMember"] != "Off" {
		t.Fatalf("group info %v", g)
	}
	if ml, _ := g["MemberList"].([]any); len(ml) != 3 {
		t.Fatalf("MemberList %v", g["MemberList"])
	}
	if num(infos[1]["ErrorCode"]) != errs.GroupNotFound || infos[2]["Type"] != "Work" {
		t.Fatalf("per-group error / old type name: %v %v", infos[1], infos[2])
	}
	// Another app does not see the group.
	var other struct{ GroupInfo []map[string]any }
	e.callApp(e.b, gsvc+"get_group_info", M{"GroupIdList": []string{id}}).wantOK("GroupInfo").into(&other)
	if num(other.GroupInfo[0]["ErrorCode"]) != errs.GroupNotFound {
		t.Fatalf("another app's group: %v", other.GroupInfo)
	}
	// Filters.
	var f struct{ GroupInfo []map[string]any }
	e.call(gsvc+"get_group_info", M{"GroupIdList": []string{id}, "ResponseFilter": M{"GroupBaseInfoFilter": []string{"Name", "MemberNum"}}}).wantOK("GroupInfo").into(&f)
	if keys := len(f.GroupInfo[0]); keys != 5 || f.GroupInfo[0]["Name"] != "team" {
		t.Fatalf("filtered %v", f.GroupInfo[0])
	}
	// More than 50 ids; bad input.
	e.call(gsvc+"get_group_info", M{"GroupIdList": users("g", 51)}).wantErr(errs.GroupTooManyAccounts)
	e.call(gsvc+"get_group_info", M{"GroupIdList": "x"}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"get_group_info", `{"GroupIdList":`).wantErr(errs.GroupJSONParse)

	// Bad create input, nothing created.
	before := e.appGroups()
	for _, bad := range []struct {
		req  M
		code int
	}{
		{M{"Type": "Nope", "Name": "x"}, errs.GroupBadParams},
		{M{"Type": "Work"}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": strings.Repeat("n", 101)}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "Owner_Account": "ghost"}, errs.GroupNoAccount},
		{M{"Type": "Work", "Name": "x", "MemberList": memberList("m1", "ghost")}, errs.GroupNoAccount},
		{M{"Type": "Work", "Name": "x", "MemberList": []M{{"Member_Account": "m1", "Role": "Admin"}}}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "MaxMemberCount": 201}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "MaxMemberCount": "10"}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "ApplyJoinOption": "Sometimes"}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "GroupId": strings.Repeat("g", 49)}, errs.GroupIDInvalid},
		{M{"Type": "Work", "Name": "x", "SupportTopic": 1}, errs.GroupBadParams},
		{M{"Type": "AVChatRoom", "Name": "x", "MemberList": memberList("m1")}, errs.GroupBadParams},
		{M{"Type": "Work", "Name": "x", "MemberList": memberList(users("u", 501)...)}, errs.GroupTooManyAccounts},
		{M{"Type": "Work", "Name": "x", "CreateTime": 5}, errs.GroupBadParams},
	} {
		e.call(gsvc+"create_group", bad.req).wantErr(bad.code)
	}
	if after := e.appGroups(); !reflect.DeepEqual(after, before) {
		t.Fatalf("bad creates changed the groups: %v -> %v", before, after)
	}
}

func (e *env) appGroups() []string {
	e.t.Helper()
	var out struct {
		TotalCount  int
		GroupIdList []struct{ GroupId string }
		Next        int64
	}
	e.call(gsvc+"get_appid_group_list", M{}).wantOK("TotalCount", "GroupIdList", "Next").into(&out)
	ids := []string{}
	for _, g := range out.GroupIdList {
		ids = append(ids, g.GroupId)
	}
	return ids
}

func TestGroupAppList(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": fmt.Sprintf("w%d", i)})
	}
	e.createGroup(M{"Type": "Meeting", "Name": "m", "GroupId": "m0"})
	var got []string
	next := int64(0)
	for pages := 0; pages < 10; pages++ {
		var out struct {
			TotalCount  int
			GroupIdList []struct{ GroupId string }
			Next        int64
		}
		e.call(gsvc+"get_appid_group_list", M{"Limit": 2, "Next": next, "GroupType": "Work"}).wantOK("TotalCount", "GroupIdList", "Next").into(&out)
		if out.TotalCount != 5 {
			t.Fatalf("TotalCount %d", out.TotalCount)
		}
		for _, g := range out.GroupIdList {
			got = append(got, g.GroupId)
		}
		if out.Next == 0 {
			break
		}
		next = out.Next
	}
	if !reflect.DeepEqual(got, []string{"w0", "w1", "w2", "w3", "w4"}) {
		t.Fatalf("paged %v", got)
	}
	e.call(gsvc+"get_appid_group_list", M{"Limit": 10001}).wantErr(errs.GroupBadParams)
}

func TestGroupModifyDestroyOwner(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "m")
	id := e.createGroup(M{"Type": "Public", "Name": "g", "Owner_Account": "o", "MemberList": memberList("m"),
		"AppDefinedData": []M{{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}}})
	e.call(gsvc+"modify_group_base_info", M{"GroupId": id, "Name": "new", "MuteAllMember": "On",
		"AppDefinedData": []M{{"Key": "a", "Value": ""}, {"Key": "c", "Value": "3"}}}).wantOK()
	g := e.groupInfo(id)[0]
	if g["Name"] != "new" || g["MuteAllMember"] != "On" || num(g["InfoSeq"]) != 2 {
		t.Fatalf("after modify %v", g)
	}
	if ad := fmt.Sprint(g["AppDefinedData"]); ad != "[map[Key:b Value:2] map[Key:c Value:3]]" {
		t.Fatalf("AppDefinedData %s", ad)
	}
	e.call(gsvc+"modify_group_base_info", M{"GroupId": id, "MuteAllMember": "Maybe"}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"modify_group_base_info", M{"GroupId": id, "MaxMemberNum": 1}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"modify_group_base_info", M{"GroupId": "nope", "Name": "x"}).wantErr(errs.GroupNotFound)
	e.callApp(e.b, gsvc+"modify_group_base_info", M{"GroupId": id, "Name": "x"}).wantErr(errs.GroupNotFound)
	if g := e.groupInfo(id)[0]; num(g["InfoSeq"]) != 2 {
		t.Fatalf("a refused change changed the group %v", g)
	}
	e.call(gsvc+"change_group_owner", M{"GroupId": id, "NewOwner_Account": "ghost"}).wantErr(errs.GroupNoAccount)
	e.call(gsvc+"change_group_owner", M{"GroupId": id, "NewOwner_Account": "m"}).wantOK()
	if g := e.groupInfo(id)[0]; g["Owner_Account"] != "m" {
		t.Fatalf("owner %v", g["Owner_Account"])
	}
	e.call(gsvc+"destroy_group", M{"GroupId": id}).wantOK()
	e.call(gsvc+"destroy_group", M{"GroupId": id}).wantErr(errs.GroupNotFound)
	if g := e.groupInfo(id)[0]; num(g["ErrorCode"]) != errs.GroupNotFound {
		t.Fatalf("disbanded %v", g)
	}
}

type memberResultOut struct {
	MemberList []struct {
		Member_Account string
		Result         int
	}
}

func (o memberResultOut) results() map[string]int {
	m := map[string]int{}
	for _, r := range o.MemberList {
		m[r.Member_Account] = r.Result
	}
	return m
}

func TestGroupAddMembers(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "a", "b", "c")
	e.createGroup(M{"Type": "Work", "Name": "g", "GroupId": "w", "Owner_Account": "o", "MemberList": memberList("a")})
	e.bus.reset()
	var out memberResultOut
	e.call(gsvc+"add_group_member", M{"GroupId": "w", "MemberList": memberList("a", "b", "ghost")}).wantOK("MemberList").into(&out)
	if r := out.results(); r["a"] != 2 || r["b"] != 1 || r["ghost"] != 0 {
		t.Fatalf("results %v", r)
	}
	if n := e.bus.noticesOf("group_tips"); n == 0 {
		t.Fatal("no join tip")
	}
	e.bus.reset()
	e.call(gsvc+"add_group_member", M{"GroupId": "w", "Silence": 1, "MemberList": memberList("c")}).wantOK("MemberList")
	if n := e.bus.noticesOf("group_tips"); n != 0 {
		t.Fatalf("Silence sent %d tips", n)
	}
	// Result 3: a Public group whose invitations need the invitee's consent.
	e.createGroup(M{"Type": "Public", "Name": "p", "GroupId": "p", "InviteJoinOption": "NeedPermission"})
	e.call(gsvc+"add_group_member", M{"GroupId": "p", "MemberList": memberList("b")}).wantOK("MemberList").into(&out)
	if r := out.results(); r["b"] != 3 {
		t.Fatalf("invite results %v", r)
	}
	// Limits of a call.
	e.call(gsvc+"add_group_member", M{"GroupId": "w", "MemberList": memberList(users("u", 301)...)}).wantErr(errs.GroupTooManyAccounts)
	e.call(gsvc+"add_group_member", M{"GroupId": "w", "MemberList": []M{}}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"add_group_member", M{"GroupId": "nope", "MemberList": memberList("b")}).wantErr(errs.GroupNotFound)
	e.call(gsvc+"add_group_member", M{"GroupId": "w", "MemberList": []M{{"Member_Account": 5}}}).wantErr(errs.GroupBadParams)
	// The group's own MaxMemberNum: 10014.
	e.createGroup(M{"Type": "Work", "Name": "s", "GroupId": "small", "MaxMemberCount": 1, "Owner_Account": "o"})
	e.call(gsvc+"add_group_member", M{"GroupId": "small", "MemberList": memberList("a")}).wantErr(errs.GroupFull)
	// Live rooms: users join them; no one adds.
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "live"})
	e.call(gsvc+"add_group_member", M{"GroupId": "live", "MemberList": memberList("a")}).wantErr(errs.GroupNoPermission)
}

func TestGroupMemberPages(t *testing.T) {
	e := newEnv(t)
	us := users("u", 12)
	e.importUsers(e.a, us...)
	e.createGroup(M{"Type": "Meeting", "Name": "g", "GroupId": "g", "Owner_Account": us[0], "MemberList": memberList(us[1:]...)})
	e.call(gsvc+"get_group_member_info", M{"GroupId": "g", "Limit": 201}).wantErr(errs.GroupBadParams)
	seen := map[string]bool{}
	for off := 0; off < 12; off += 5 {
		var out struct {
			MemberNum  int
			MemberList []map[string]any
			Next       string
		}
		e.call(gsvc+"get_group_member_info", M{"GroupId": "g", "Limit": 5, "Offset": off}).wantOK("MemberNum", "MemberList", "Next").into(&out)
		if out.MemberNum != 12 {
			t.Fatalf("MemberNum %d on the page at %d", out.MemberNum, off)
		}
		for _, m := range out.MemberList {
			seen[m["Member_Account"].(string)] = true
		}
	}
	if len(seen) != 12 {
		t.Fatalf("pages gave %d members", len(seen))
	}
	var owners struct {
		MemberNum  int
		MemberList []map[string]any
	}
	e.call(gsvc+"get_group_member_info", M{"GroupId": "g", "MemberRoleFilter": []string{"Owner"}}).into(&owners)
	if owners.MemberNum != 1 || owners.MemberList[0]["Member_Account"] != us[0] {
		t.Fatalf("owner filter %+v", owners)
	}
	// A Community pages by Next, which advances and ends.
	e.createGroup(M{"Type": "Community", "Name": "c", "GroupId": "c", "Owner_Account": us[0], "MemberList": memberList(us[1:]...)})
	seen = map[string]bool{}
	next := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("Next does not end")
		}
		var out struct {
			MemberNum  int
			MemberList []map[string]any
			Next       string
		}
		e.call(gsvc+"get_group_member_info", M{"GroupId": "c", "Limit": 5, "Next": next}).wantOK("MemberNum", "MemberList", "Next").into(&out)
		if out.MemberNum != 12 {
			t.Fatalf("community MemberNum %d", out.MemberNum)
		}
		for _, m := range out.MemberList {
			seen[m["Member_Account"].(string)] = true
		}
		if out.Next == "" {
			break
		}
		if out.Next == next {
			t.Fatal("Next does not advance")
		}
		next = out.Next
	}
	if len(seen) != 12 {
		t.Fatalf("community pages gave %d members", len(seen))
	}
	// Specified members: at most 50.
	var sp struct{ MemberList []map[string]any }
	e.call(gsvc+"get_specified_group_member_info", M{"GroupId": "g", "Member_List_Account": []string{us[2], "ghost"}}).wantOK("MemberList").into(&sp)
	if len(sp.MemberList) != 1 || sp.MemberList[0]["Member_Account"] != us[2] {
		t.Fatalf("specified %v", sp.MemberList)
	}
	e.call(gsvc+"get_specified_group_member_info", M{"GroupId": "g", "Member_List_Account": users("x", 51)}).wantErr(errs.GroupTooManyAccounts)
	// Roles.
	var roles struct {
		UserIdList []struct{ Member_Account, Role string }
	}
	e.call(gsvc+"get_role_in_group", M{"GroupId": "g", "User_Account": []string{us[0], us[1], "ghost"}}).wantOK("UserIdList").into(&roles)
	if fmt.Sprint(roles.UserIdList) != fmt.Sprintf("[{%s Owner} {%s Member} {ghost NotMember}]", us[0], us[1]) {
		t.Fatalf("roles %v", roles.UserIdList)
	}
}

func TestGroupMuteAndMemberInfo(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "a", "b")
	e.createGroup(M{"Type": "Public", "Name": "g", "GroupId": "g", "Owner_Account": "o", "MemberList": memberList("a", "b")})
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"a"}, "MuteTime": 4294967295}).wantOK()
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"b"}, "MuteTime": 60}).wantOK()
	var muted struct {
		GroupId          string
		MutedAccountList []struct {
			Member_Account string
			MutedUntil     int64
		}
	}
	e.call(gsvc+"get_group_muted_account", M{"GroupId": "g"}).wantOK("GroupId", "MutedAccountList").into(&muted)
	if len(muted.MutedAccountList) != 2 || muted.MutedAccountList[0].MutedUntil != 4294967295 || muted.MutedAccountList[1].MutedUntil != t0.Unix()+60 {
		t.Fatalf("muted %+v", muted)
	}
	var old struct {
		ShuttedUinList []struct {
			Member_Account string
			ShuttedUntil   int64
		}
	}
	e.call(gsvc+"get_group_shutted_uin", M{"GroupId": "g"}).wantOK("ShuttedUinList").into(&old)
	if len(old.ShuttedUinList) != 2 || old.ShuttedUinList[0].ShuttedUntil != 4294967295 {
		t.Fatalf("shutted %+v", old)
	}
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"a", "b"}, "MuteTime": 0}).wantOK()
	e.call(gsvc+"get_group_muted_account", M{"GroupId": "g"}).into(&muted)
	if len(muted.MutedAccountList) != 0 {
		t.Fatalf("MuteTime 0 did not lift: %+v", muted)
	}
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"ghost"}, "MuteTime": 5}).wantErr(errs.GroupNoAccount)
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"a"}, "MuteTime": -1}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"a"}, "MuteTime": 4294967296}).wantErr(errs.GroupBadParams)

	// modify_group_member_info.
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "g", "Member_Account": "a", "Role": "Admin", "NameCard": "card",
		"MsgFlag": "Discard", "MuteTime": 4294967295, "AppMemberDefinedData": []M{{"Key": "k", "Value": "v"}}}).wantOK()
	var sp struct{ MemberList []map[string]any }
	e.call(gsvc+"get_specified_group_member_info", M{"GroupId": "g", "Member_List_Account": []string{"a"}}).into(&sp)
	a := sp.MemberList[0]
	if a["Role"] != "Admin" || a["NameCard"] != "card" || a["MsgFlag"] != "Discard" || num(a["ShutUpUntil"]) != 4294967295 {
		t.Fatalf("member a %v", a)
	}
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "g", "Member_Account": "o", "Role": "Member"}).wantErr(errs.GroupNoPermission)
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "g", "Member_Account": "ghost", "NameCard": "x"}).wantErr(errs.GroupNoAccount)
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "g", "Member_Account": "a", "NameCard": strings.Repeat("c", 51)}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "g", "Member_Account": "a", "MsgFlag": "Sometimes"}).wantErr(errs.GroupBadParams)
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "w", "Owner_Account": "o", "MemberList": memberList("a")})
	e.call(gsvc+"modify_group_member_info", M{"GroupId": "w", "Member_Account": "a", "Role": "Admin"}).wantErr(errs.GroupBadParams)

	// delete_group_member.
	e.call(gsvc+"delete_group_member", M{"GroupId": "g", "MemberToDel_Account": []string{"o"}}).wantErr(errs.GroupNoPermission)
	e.call(gsvc+"delete_group_member", M{"GroupId": "g", "MemberToDel_Account": []string{"b", "ghost"}}).wantErr(errs.GroupNoAccount)
	e.call(gsvc+"delete_group_member", M{"GroupId": "g", "Reason": "bye", "MemberToDel_Account": []string{"b"}}).wantOK()
	if g := e.groupInfo("g")[0]; num(g["MemberNum"]) != 2 {
		t.Fatalf("MemberNum after delete %v", g["MemberNum"])
	}
}

func TestGroupJoinedList(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "u", "v")
	e.createGroup(M{"Type": "Public", "Name": "p", "GroupId": "p", "Owner_Account": "u"})
	e.createGroup(M{"Type": "Meeting", "Name": "m", "GroupId": "m", "Owner_Account": "u"})
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "w", "Owner_Account": "u"}) // no message yet: inactive
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "l", "Owner_Account": "u"})
	list := func(req M) (int, []string) {
		t.Helper()
		req["Member_Account"] = "u"
		var out struct {
			TotalCount  int
			GroupIdList []map[string]any
		}
		e.call(gsvc+"get_joined_group_list", req).wantOK("TotalCount", "GroupIdList").into(&out)
		ids := []string{}
		for _, g := range out.GroupIdList {
			ids = append(ids, g["GroupId"].(string))
		}
		return out.TotalCount, ids
	}
	if n, ids := list(M{}); n != 2 || !reflect.DeepEqual(ids, []string{"p", "m"}) {
		t.Fatalf("default %d %v", n, ids)
	}
	if n, ids := list(M{"WithHugeGroups": 1, "WithNoActiveGroups": 1}); n != 4 || len(ids) != 4 {
		t.Fatalf("all %d %v", n, ids)
	}
	if n, ids := list(M{"WithHugeGroups": 1, "WithNoActiveGroups": 1, "Limit": 1, "Offset": 1}); n != 4 || !reflect.DeepEqual(ids, []string{"m"}) {
		t.Fatalf("page %d %v", n, ids)
	}
	if n, _ := list(M{"GroupType": "Public"}); n != 1 {
		t.Fatalf("type filter %d", n)
	}
	var out struct{ GroupIdList []map[string]any }
	e.call(gsvc+"get_joined_group_list", M{"Member_Account": "u", "ResponseFilter": M{"GroupBaseInfoFilter": []string{"Type"}, "SelfInfoFilter": []string{"Role"}}}).into(&out)
	if out.GroupIdList[0]["Type"] != "Public" || fmt.Sprint(out.GroupIdList[0]["SelfInfo"]) != "map[Role:Owner]" {
		t.Fatalf("filtered %v", out.GroupIdList[0])
	}
	e.call(gsvc+"get_joined_group_list", M{"Member_Account": "u", "Limit": 5001}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"get_joined_group_list", M{"Member_Account": "ghost"}).wantErr(errs.GroupNoAccount)
}

func TestGroupImport(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "a", "b")
	var out struct{ GroupId string }
	e.call(gsvc+"import_group", M{"Type": "Public", "Name": "old", "GroupId": "old", "Owner_Account": "o", "CreateTime": t0.Unix() - 3600}).wantOK("GroupId", "Type").into(&out)
	if g := e.groupInfo("old")[0]; num(g["CreateTime"]) != t0.Unix()-3600 {
		t.Fatalf("CreateTime %v", g["CreateTime"])
	}
	var res memberResultOut
	e.call(gsvc+"import_group_member", M{"GroupId": "old", "MemberList": []M{
		{"Member_Account": "a", "Role": "Admin", "JoinTime": t0.Unix() - 60, "UnreadMsgNum": 2},
		{"Member_Account": "o"}, {"Member_Account": "ghost"}}}).wantOK("MemberList").into(&res)
	if r := res.results(); r["a"] != 1 || r["o"] != 2 || r["ghost"] != 0 {
		t.Fatalf("import results %v", r)
	}
	var sp struct{ MemberList []map[string]any }
	e.call(gsvc+"get_specified_group_member_info", M{"GroupId": "old", "Member_List_Account": []string{"a"}}).into(&sp)
	if num(sp.MemberList[0]["JoinTime"]) != t0.Unix()-60 || sp.MemberList[0]["Role"] != "Admin" {
		t.Fatalf("imported member %v", sp.MemberList[0])
	}
	e.call(gsvc+"import_group_member", M{"GroupId": "old", "MemberList": []M{{"Member_Account": "b", "JoinTime": t0.Unix() + 60}}}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"import_group", M{"Type": "Public", "Name": "new", "CreateTime": t0.Unix() + 60}).wantErr(errs.GroupBadParams)
}

func TestGroupEditionLimitsTrial(t *testing.T) {
	e := newEnv(t) // Free Trial: 20 members per group, 100 groups at once
	us := users("u", 21)
	e.importUsers(e.a, us...)
	e.call(gsvc+"create_group", M{"Type": "Public", "Name": "big", "Owner_Account": us[0], "MemberList": memberList(us[1:]...)}).wantErr(errs.GroupMemberLimit)
	e.createGroup(M{"Type": "Public", "Name": "g", "GroupId": "g", "Owner_Account": us[0], "MemberList": memberList(us[1:19]...)})
	var out memberResultOut
	e.call(gsvc+"add_group_member", M{"GroupId": "g", "MemberList": memberList(us[19], us[20])}).wantOK("MemberList").into(&out)
	if r := out.results(); r[us[19]] != 1 || r[us[20]] != 0 {
		t.Fatalf("at the limit %v", r)
	}
	e.call(gsvc+"add_group_member", M{"GroupId": "g", "MemberList": memberList(us[20])}).wantErr(errs.GroupMemberLimit)
	// Communities are not bound by it.
	e.createGroup(M{"Type": "Community", "Name": "c", "Owner_Account": us[0], "MemberList": memberList(us[1:]...)})
}

func (d *deliveries) reset() {
	d.mu.Lock()
	d.ds = nil
	d.mu.Unlock()
}

// noticesOf counts the notices with op delivered.
func (d *deliveries) noticesOf(op string) int {
	n := 0
	for _, x := range d.all() {
		switch {
		case x.Notice != nil && x.Notice.Op == op:
			n++
		case op == "group_tips" && x.Kind == bus.KindGroup && x.Entry != nil && x.Entry.Kind == store.KindGroupTips:
			n++ // a tip stored in the group log
		}
	}
	return n
}

// TestGroupBadInputEveryCommand: on every group command, a field of the wrong
// JSON type, an unknown group, another app's group and a malformed body get
// the reference's code, and nothing changes.
func TestGroupBadInputEveryCommand(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "m")
	e.importUsers(e.b, "o", "m")
	e.createGroup(M{"Type": "Public", "Name": "g", "GroupId": "g", "Owner_Account": "o", "MemberList": memberList("m")})
	snapshot := func() string {
		var info, members struct{ GroupInfo, MemberList any }
		e.call(gsvc+"get_group_info", M{"GroupIdList": []string{"g"}}).into(&info)
		e.call(gsvc+"get_group_member_info", M{"GroupId": "g"}).into(&members)
		return fmt.Sprint(info.GroupInfo, members.MemberList, e.appGroups())
	}
	before := snapshot()
	// A valid body of each command that names group "g" (GroupId).
	valid := map[string]M{
		"modify_group_base_info":          {"Name": "x"},
		"destroy_group":                   {},
		"change_group_owner":              {"NewOwner_Account": "m"},
		"add_group_member":                {"MemberList": memberList("o")},
		"delete_group_member":             {"MemberToDel_Account": []string{"m"}},
		"modify_group_member_info":        {"Member_Account": "m", "NameCard": "c"},
		"get_group_member_info":           {},
		"get_specified_group_member_info": {"Member_List_Account": []string{"m"}},
		"get_role_in_group":               {"User_Account": []string{"m"}},
		"forbid_send_msg":                 {"Members_Account": []string{"m"}, "MuteTime": 60},
		"get_group_muted_account":         {},
		"get_group_shutted_uin":           {},
		"import_group_member":             {"MemberList": memberList("o")},
	}
	for cmd, req := range valid {
		with := func(id any) M {
			m := M{"GroupId": id}
			for k, v := range req {
				m[k] = v
			}
			return m
		}
		e.call(gsvc+cmd, with(5)).wantErr(errs.GroupBadParams, "GroupId")
		e.call(gsvc+cmd, with("nope")).wantErr(errs.GroupNotFound)
		e.callApp(e.b, gsvc+cmd, with("g")).wantErr(errs.GroupNotFound)
		e.call(gsvc+cmd, with(strings.Repeat("g", 49))).wantErr(errs.GroupIDInvalid)
		e.call(gsvc+cmd, `{"GroupId":"g",`).wantErr(errs.GroupJSONParse)
		e.call(gsvc+cmd, `["g"]`).wantErr(errs.GroupJSONParse)
	}
	for _, bad := range []struct {
		cmd string
		req M
	}{
		{"create_group", M{"Type": "Work", "Name": 5}},
		{"import_group", M{"Type": "Work", "Name": "x", "CreateTime": "yesterday"}},
		{"get_appid_group_list", M{"Limit": "10"}},
		{"get_group_info", M{"GroupIdList": []any{5}}},
		{"get_joined_group_list", M{"Member_Account": 5}},
		{"modify_group_base_info", M{"GroupId": "g", "MaxMemberNum": "10"}},
		{"modify_group_base_info", M{"GroupId": "g", "Introduction": strings.Repeat("i", 401)}},
		{"modify_group_base_info", M{"GroupId": "g", "AppDefinedData": []M{{"Key": strings.Repeat("k", 33), "Value": "v"}}}},
		{"add_group_member", M{"GroupId": "g", "Silence": "yes", "MemberList": memberList("o")}},
		{"delete_group_member", M{"GroupId": "g", "MemberToDel_Account": "m"}},
		{"delete_group_member", M{"GroupId": "g", "Reason": strings.Repeat("r", 301), "MemberToDel_Account": []string{"m"}}},
		{"modify_group_member_info", M{"GroupId": "g", "Member_Account": "m", "MuteTime": "60"}},
		{"modify_group_member_info", M{"GroupId": "g", "Member_Account": "m", "Role": "Owner"}},
		{"get_group_member_info", M{"GroupId": "g", "Limit": -1}},
		{"get_group_member_info", M{"GroupId": "g", "MemberRoleFilter": []string{"King"}}},
		{"forbid_send_msg", M{"GroupId": "g", "Members_Account": []string{"m"}}},
		{"import_group_member", M{"GroupId": "g", "MemberList": []M{{"Member_Account": "m", "Role": "Owner"}}}},
		{"change_group_owner", M{"GroupId": "g", "NewOwner_Account": ""}},
	} {
		if r := e.call(gsvc+bad.cmd, bad.req); r.code() != errs.GroupBadParams {
			t.Fatalf("%s %v: %s", bad.cmd, bad.req, r.raw)
		}
	}
	e.call(gsvc+"delete_group_member", M{"GroupId": "g", "MemberToDel_Account": users("u", 501)}).wantErr(errs.GroupTooManyAccounts)
	e.call(gsvc+"forbid_send_msg", M{"GroupId": "g", "Members_Account": users("u", 501), "MuteTime": 5}).wantErr(errs.GroupTooManyAccounts)
	e.call(gsvc+"import_group_member", M{"GroupId": "g", "MemberList": memberList(users("u", 301)...)}).wantErr(errs.GroupTooManyAccounts)
	if after := snapshot(); after != before {
		t.Fatalf("refused calls changed the group:\n%s\n%s", before, after)
	}
}
