package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// The live-room features of the edition matrix (product.md §3): the online
// member list, banning and broadcast messages, on every edition, through the
// REST API with members online on real WebSocket clients.

var onlyStandardLacksGroup = outcome{catalog.Trial: ok, catalog.Standard: errs.GroupFeatureNotInEdition, catalog.Premium: ok}

// liveRoom creates the live room id directly with members (the owner is
// "owner", imported here).
func (a *edApp) liveRoom(id string, members ...string) {
	a.t.Helper()
	ctx := context.Background()
	if err := a.w.s.cfg.Store.ImportUsers(ctx, a.app.SDKAppID, []store.User{{UserID: "owner"}}); err != nil {
		a.t.Fatal(err)
	}
	g := store.Group{App: a.app.SDKAppID, GroupID: id, Type: store.GroupAVChatRoom, Name: id, Owner: "owner", CreatedAt: a.w.c.Now()}
	ms := make([]store.GroupMember, len(members))
	for i, m := range members {
		ms[i] = store.GroupMember{UserID: m, Role: store.RoleMember, JoinTime: a.w.c.Now()}
	}
	if _, err := a.w.s.cfg.Store.CreateGroup(ctx, g, ms, oldQuota); err != nil {
		a.t.Fatal(err)
	}
}

func (a *edApp) memberIDs(group string) string {
	a.t.Helper()
	ids, err := a.w.s.cfg.Store.GroupMemberIDs(context.Background(), a.app.SDKAppID, group)
	if err != nil {
		a.t.Fatal(err)
	}
	return strings.Join(ids, ",")
}

func liveRoomRows() []matrixRow {
	names := func(feature string) func(ed catalog.Edition) []string {
		return func(ed catalog.Edition) []string { return []string{feature, ed.Name, "Free Trial and Premium"} }
	}
	return []matrixRow{
		{name: "get_members", edge: "REST", want: onlyStandardLacksGroup, users: []string{"v1", "v2"},
			says: names("online members of a live room"),
			run: func(a *edApp) (int, string) {
				a.liveRoom("live", "v1", "v2")
				cl := a.dial("v2", "Web")
				defer cl.Close()
				code, info, out := a.rest("group_open_avchatroom_http_svc/get_members", `{"GroupId":"live","Timestamp":0}`)
				if code == 0 {
					list := out["MemberList"].([]any)
					if len(list) != 1 || list[0].(map[string]any)["Member_Account"] != "v2" {
						a.t.Fatalf("MemberList %v; want the online v2", list)
					}
				}
				return code, info
			}},
		{name: "ban_group_member", edge: "REST", want: onlyStandardLacksGroup, users: []string{"v1", "v2"},
			says: names("banning members of a live room"),
			run: func(a *edApp) (int, string) {
				a.liveRoom("live", "v1", "v2")
				code, info, _ := a.rest(gsvc+"ban_group_member", `{"GroupId":"live","Members_Account":["v1"],"Duration":3600}`)
				want := "owner,v1,v2"
				if code == 0 {
					want = "owner,v2"
				}
				if got := a.memberIDs("live"); got != want {
					a.t.Fatalf("members %s after code %d; want %s", got, code, want)
				}
				if code == 0 {
					out := a.restOK(gsvc+"get_group_ban_member", `{"GroupId":"live"}`)
					if l := out["BannedAccountList"].([]any); len(l) != 1 || fmt.Sprint(l[0].(map[string]any)["Member_Account"]) != "v1" {
						a.t.Fatalf("BannedAccountList %v", l)
					}
				}
				return code, info
			}},
	}
}
