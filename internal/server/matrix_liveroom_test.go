package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
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
					// The banned user's device may not join again.
					cl := a.dial("v1", "Web")
					defer cl.Close()
					if _, err := cl.GroupJoin(context.Background(), "live", ""); func() int { c, _ := clientErr(err); return c }() != errs.GroupNoPermission {
						a.t.Fatalf("a banned user's group_join: %v", err)
					}
				}
				return code, info
			}},
		{name: "send_broadcast_msg", edge: "REST", want: onlyStandardLacksGroup, users: []string{"v1"},
			says: names("broadcast messages to all live rooms"),
			run: func(a *edApp) (int, string) {
				a.liveRoom("live", "v1")
				cl := a.dial("v1", "Web")
				defer cl.Close()
				got := entries(cl)
				code, info, _ := a.rest(gsvc+"send_broadcast_msg", `{"Random":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"to all"}}]}`)
				if code == 0 {
					if e := nextEntry(a, got); e.Group != "live" || !strings.Contains(string(e.Body), "to all") {
						a.t.Fatalf("entry %+v", e)
					}
				}
				return code, info
			}},
		{name: "send_group_msg to a sixth broadcasting live room", edge: "REST",
			want:  outcome{catalog.Trial: errs.GroupBroadcastLimit, catalog.Standard: errs.GroupBroadcastLimit, catalog.Premium: errs.GroupBroadcastLimit},
			users: []string{"v0", "v1", "v2", "v3", "v4", "v5"},
			run: func(a *edApp) (int, string) {
				n := gate.MaxBroadcastingLiveRooms + 1
				for i := range n {
					a.liveRoom(fmt.Sprint("live", i), fmt.Sprint("v", i))
					cl := a.dial(fmt.Sprint("v", i), "Web")
					defer cl.Close()
				}
				send := func(i int) (int, string) {
					code, info, _ := a.rest(gsvc+"send_group_msg", fmt.Sprintf(`{"GroupId":"live%d","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"on air"}}]}`, i))
					return code, info
				}
				for i := range n - 1 {
					if c, info := send(i); c != 0 {
						a.t.Fatalf("room %d: %d %s", i, c, info)
					}
				}
				code, info := send(n - 1)
				// Idle rooms stop broadcasting (the injected clock).
				a.w.c.Advance(gate.BroadcastIdle)
				if c, info := send(n - 1); c != 0 {
					a.t.Fatalf("after BroadcastIdle: %d %s", c, info)
				}
				return code, info
			}},
		{name: "group_join of a live room: history for new members", edge: "WebSocket",
			want: outcome{catalog.Trial: ok, catalog.Standard: ok, catalog.Premium: ok}, users: []string{"v1"},
			run: func(a *edApp) (int, string) {
				a.liveRoom("live")
				for i := range 3 {
					a.restOK(gsvc+"send_group_msg", fmt.Sprintf(`{"GroupId":"live","Random":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"m%d"}}]}`, i+1, i+1))
				}
				cl := a.dial("v1", "Web")
				defer cl.Close()
				got := entries(cl)
				if _, err := cl.GroupJoin(context.Background(), "live", ""); err != nil {
					a.t.Fatalf("group_join: %v", err)
				}
				// A message after the join marks the end of what the join brought.
				a.restOK(gsvc+"send_group_msg", `{"GroupId":"live","Random":9,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"after"}}]}`)
				history := 0
				for e := nextEntry(a, got); !strings.Contains(string(e.Body), "after"); e = nextEntry(a, got) {
					if e.Kind != "tips" { // the join's own tip (a live group_entry of kind tips)
						history++
					}
				}
				want := 0
				if a.ed.Has(catalog.LiveRoomHistory) {
					want = 3
				}
				if history != want {
					a.t.Fatalf("%d messages of history on %s, want %d", history, a.ed.Name, want)
				}
				return ok, ""
			}},
	}
}

// entries collects the client's group entries.
func entries(cl *client.Client) chan client.Entry {
	got := make(chan client.Entry, 64)
	cl.OnGroupEntry(func(e client.Entry) {
		select {
		case got <- e:
		default:
		}
	})
	return got
}

// nextEntry waits for the client's next group entry (failing after 10 s).
func nextEntry(a *edApp, got chan client.Entry) client.Entry {
	a.t.Helper()
	select {
	case e := <-got:
		return e
	case <-time.After(10 * time.Second):
		a.t.Fatal("no group entry")
	}
	return client.Entry{}
}
