package restapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
)

const avsvc = "group_open_avchatroom_http_svc/"

func (e *env) joinLive(group string, users ...string) {
	e.t.Helper()
	for _, u := range users {
		if _, err := e.svc.JoinGroup(context.Background(), e.a, u, group, ""); err != nil {
			e.t.Fatalf("%s joins %s: %v", u, group, err)
		}
		e.clock.Advance(1e9)
	}
}

func TestLiveRoomMembersREST(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "v1", "v2", "v3")
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "live", "Owner_Account": "o"})
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "work", "Owner_Account": "o"})
	e.joinLive("live", "v1", "v2", "v3")
	e.bus.online("v1", bus.Device{Platform: "Web", ConnID: "c1"})
	e.bus.online("v3", bus.Device{Platform: "iOS", ConnID: "c3"})
	e.bus.online("v2", bus.Device{Platform: "iOS", Status: bus.StatusPushOnline}) // not connected
	var out struct {
		MemberList []struct {
			Member_Account string
			JoinTime       int64
			NickName       string
			Avatar         string
		}
		NextTimestamp int64
	}
	e.call(avsvc+"get_members", M{"GroupId": "live", "Timestamp": 0}).wantOK("MemberList", "NextTimestamp").into(&out)
	if len(out.MemberList) != 2 || out.MemberList[0].Member_Account != "v3" || out.MemberList[1].Member_Account != "v1" || out.NextTimestamp != 0 || out.MemberList[0].JoinTime == 0 {
		t.Fatalf("get_members = %+v", out)
	}
	e.call(avsvc+"get_members", M{"GroupId": "work", "Timestamp": 0}).wantErr(errs.GroupNoPermission)
	e.call(avsvc+"get_members", M{"GroupId": "nope", "Timestamp": 0}).wantErr(errs.GroupNotFound)
	e.call(avsvc+"get_members", M{"GroupId": "live", "Timestamp": "x"}).wantErr(errs.GroupBadParams)
	e.call(avsvc+"get_members", M{"GroupId": "live", "Timestamp": -1}).wantErr(errs.GroupBadParams)
	e.call(avsvc+"get_members", M{"GroupId": "live", "Mark": -1}).wantErr(errs.GroupBadParams)
	e.setEdition(e.a, "standard")
	e.call(avsvc+"get_members", M{"GroupId": "live", "Timestamp": 0}).wantErr(errs.GroupFeatureNotInEdition, "online members")
}

func TestLiveRoomBansREST(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "v1", "v2", "v3")
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "live", "Owner_Account": "o"})
	e.createGroup(M{"Type": "Meeting", "Name": "m", "GroupId": "meet", "Owner_Account": "o"})
	e.joinLive("live", "v1", "v2")
	members := func() string {
		ids, _ := e.st.GroupMemberIDs(context.Background(), e.a.SDKAppID, "live")
		return strings.Join(ids, ",")
	}
	bans := func(req M) (list []string, next int) {
		var out struct {
			BannedAccountList []struct {
				Member_Account string
				BannedUntil    int64
			}
			NextOffset int
		}
		e.call(gsvc+"get_group_ban_member", req).wantOK("BannedAccountList", "NextOffset").into(&out)
		for _, b := range out.BannedAccountList {
			if b.BannedUntil != t0.Unix()+2+3600 {
				t.Fatalf("BannedUntil %d", b.BannedUntil)
			}
			list = append(list, b.Member_Account)
		}
		return list, out.NextOffset
	}
	// Bad input changes nothing.
	for _, c := range []struct {
		req  any
		code int
	}{
		{`{"GroupId":`, errs.GroupJSONParse},
		{M{"GroupId": "live", "Members_Account": []string{"v1"}, "Duration": "1h"}, errs.GroupBadParams},
		{M{"GroupId": "live", "Members_Account": []string{"v1"}, "Duration": 0}, errs.GroupBadParams},
		{M{"GroupId": "live", "Members_Account": []string{"v1"}, "Duration": -5}, errs.GroupBadParams},
		{M{"GroupId": "live", "Members_Account": []string{"v1"}, "Duration": 4294967296}, errs.GroupBadParams},
		{M{"GroupId": "live", "Members_Account": []string{}, "Duration": 60}, errs.GroupBadParams},
		{M{"GroupId": "live", "Members_Account": users("x", 21), "Duration": 60}, errs.GroupTooManyAccounts},
		{M{"GroupId": "live", "Members_Account": []string{"v1", "ghost"}, "Duration": 60}, errs.GroupNoAccount},
		{M{"GroupId": "live", "Members_Account": []string{"v1", "o"}, "Duration": 60}, errs.GroupNoPermission},
		{M{"GroupId": "live", "Members_Account": []string{"v1"}, "Duration": 60, "Description": strings.Repeat("d", 1001)}, errs.GroupBadParams},
		{M{"GroupId": "meet", "Members_Account": []string{"v1"}, "Duration": 60}, errs.GroupNoPermission},
		{M{"GroupId": "nope", "Members_Account": []string{"v1"}, "Duration": 60}, errs.GroupNotFound},
		{M{"GroupId": "@bad id", "Members_Account": []string{"v1"}, "Duration": 60}, errs.GroupIDInvalid},
	} {
		e.call(gsvc+"ban_group_member", c.req).wantErr(c.code)
	}
	if members() != "o,v1,v2" {
		t.Fatalf("members after refused bans: %s", members())
	}
	if l, _ := bans(M{"GroupId": "live"}); len(l) != 0 {
		t.Fatalf("refused bans stored: %v", l)
	}
	e.call(gsvc+"ban_group_member", M{"GroupId": "live", "Members_Account": []string{"v1", "v3"}, "Duration": 3600, "Description": "spam"}).wantOK()
	if members() != "o,v2" {
		t.Fatalf("members after the ban: %s", members())
	}
	if _, err := e.svc.JoinGroup(context.Background(), e.a, "v1", "live", ""); errs.CodeOf(err) != errs.GroupNoPermission {
		t.Fatalf("a banned user joins: %v", err)
	}
	if l, next := bans(M{"GroupId": "live", "Limit": 1, "Offset": 0}); strings.Join(l, ",") != "v1" || next != 1 {
		t.Fatalf("page 1: %v %d", l, next)
	}
	if l, next := bans(M{"GroupId": "live", "Limit": 1, "Offset": 1}); strings.Join(l, ",") != "v3" || next != 0 {
		t.Fatalf("page 2: %v %d", l, next)
	}
	e.call(gsvc+"get_group_ban_member", M{"GroupId": "live", "Limit": 101}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"get_group_ban_member", M{"GroupId": "live", "Offset": -1}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"unban_group_member", M{"GroupId": "live", "Members_Account": users("x", 21)}).wantErr(errs.GroupTooManyAccounts)
	e.call(gsvc+"unban_group_member", M{"GroupId": "live", "Members_Account": []string{"v1"}}).wantOK()
	e.joinLive("live", "v1")
	if l, _ := bans(M{"GroupId": "live"}); strings.Join(l, ",") != "v3" {
		t.Fatalf("bans after unban: %v", l)
	}
	e.setEdition(e.a, "standard")
	e.call(gsvc+"ban_group_member", M{"GroupId": "live", "Members_Account": []string{"v2"}, "Duration": 60}).wantErr(errs.GroupFeatureNotInEdition, "banning")
	e.call(gsvc+"unban_group_member", M{"GroupId": "live", "Members_Account": []string{"v2"}}).wantErr(errs.GroupFeatureNotInEdition)
	e.call(gsvc+"get_group_ban_member", M{"GroupId": "live"}).wantErr(errs.GroupFeatureNotInEdition)
}

func TestSendBroadcastREST(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "o", "v1", "v2")
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "l1", "Owner_Account": "o"})
	e.createGroup(M{"Type": "AVChatRoom", "Name": "l", "GroupId": "l2", "Owner_Account": "o"})
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "work", "Owner_Account": "o"})
	e.joinLive("l1", "v1")
	e.joinLive("l2", "v2")
	body := []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": "to every room"}}}
	groupsReached := func() map[string]bool {
		out := map[string]bool{}
		for _, d := range e.bus.all() {
			if d.Kind == bus.KindGroup && d.Group != nil && d.Group.LiveRoom {
				out[d.Entry.Group] = true
			}
		}
		return out
	}
	// Bad input changes nothing (no delivery).
	e.bus.reset()
	for _, c := range []struct {
		req  any
		code int
	}{
		{`[1,2]`, errs.GroupJSONParse},
		{M{"MsgBody": body, "Random": "r"}, errs.GroupBadParams},
		{M{"MsgBody": body, "Random": -1}, errs.GroupBadParams},
		{M{"MsgBody": []M{{"MsgType": "TIMFileElem", "MsgContent": M{"Url": "u"}}}}, errs.GroupBadParams},
		{M{"MsgBody": body, "From_Account": "ghost"}, errs.GroupNoAccount},
		{M{"MsgBody": body, "From_Account": 7}, errs.GroupBadParams},
	} {
		e.call(gsvc+"send_broadcast_msg", c.req).wantErr(c.code)
	}
	if len(groupsReached()) != 0 {
		t.Fatal("a refused broadcast was delivered")
	}
	var out struct{ MsgSeq int64 }
	e.call(gsvc+"send_broadcast_msg", M{"From_Account": "o", "Random": 99, "MsgBody": body, "CloudCustomData": "cc"}).wantOK("MsgSeq").into(&out)
	if out.MsgSeq != 1 {
		t.Fatalf("MsgSeq %d", out.MsgSeq)
	}
	if r := groupsReached(); len(r) != 2 || !r["l1"] || !r["l2"] {
		t.Fatalf("reached %v", r)
	}
	e.setEdition(e.a, "standard")
	e.call(gsvc+"send_broadcast_msg", M{"MsgBody": body}).wantErr(errs.GroupFeatureNotInEdition, "broadcast")
}
