package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// The edition matrix (product.md section 3, issue 9): every gated feature and
// limit of the social layer, plus the Free Trial MAU cap, on all three
// editions, through the real REST API (UserSig, httptest) and real WebSocket
// clients (package client), on both stores. Each row is one command on one
// edge; each edition's expected outcome is allowed (ok), the exact refusal
// code, or replaced (the older same-platform session ends with a kicked
// frame). A row checks its state: a refusal changes nothing.

// ok is the outcome of an allowed call.
const ok = 0

// replaced is the outcome of a second same-platform login that ends the older
// session (a kicked frame, not an error code).
const replaced = -2

// outcome is the expected result per edition id.
type outcome map[string]int

// edApp is one app on one edition of the matrix's node, fresh for each row.
type edApp struct {
	t   *testing.T
	w   *world
	ed  catalog.Edition
	app store.App
}

// rest calls cmd as the app's admin; it returns ErrorCode, ErrorInfo and the
// decoded answer.
func (a *edApp) rest(cmd, body string) (int, string, map[string]any) {
	a.t.Helper()
	var out map[string]any
	if err := json.Unmarshal(adminCall(a.t, a.w.hs.URL, a.app, a.w.c.Now(), cmd, []byte(body)), &out); err != nil {
		a.t.Fatalf("%s: %v", cmd, err)
	}
	info, _ := out["ErrorInfo"].(string)
	return errorCode(out), info, out
}

// restOK is rest for a call that must succeed.
func (a *edApp) restOK(cmd, body string) map[string]any {
	a.t.Helper()
	code, info, out := a.rest(cmd, body)
	if code != 0 {
		a.t.Fatalf("%s on %s: %d %s", cmd, a.ed.Name, code, info)
	}
	return out
}

func (a *edApp) login(user, platform string) (*client.Client, error) {
	return dialUser(a.t, a.w.hs.URL, a.app, a.w.c.Now(), user, platform, 0)
}

func (a *edApp) dial(user, platform string) *client.Client {
	a.t.Helper()
	cl, err := a.login(user, platform)
	if err != nil {
		a.t.Fatalf("login %s on %s: %v", user, platform, err)
	}
	return cl
}

// matrixRow is one gated command on one edge.
type matrixRow struct {
	name, edge string
	want       outcome
	// says lists what a refusal's message must name (the feature, the app's
	// edition, the editions that have it).
	says func(ed catalog.Edition) []string
	// users are imported into the app before run.
	users []string
	// run performs the call, checks the state it leaves, and returns the
	// outcome and the refusal message.
	run func(a *edApp) (int, string)
}

// The message of a refused user-status or conversation feature.
func namesFeature(feature string) func(ed catalog.Edition) []string {
	return func(ed catalog.Edition) []string { return []string{feature, ed.Name, "Free Trial and Premium"} }
}

func namesPush(ed catalog.Edition) []string {
	return []string{"push to all users", ed.Name, "Free Trial"}
}

var (
	onlyStandardLacks = outcome{catalog.Trial: ok, catalog.Standard: errs.FeatureNotInEdition, catalog.Premium: ok}
	onlyTrialPushes   = outcome{catalog.Trial: ok, catalog.Standard: errs.PushNotEnabled, catalog.Premium: errs.PushNotEnabled}
)

// TestEditionMatrix runs every row on every edition (a fresh app bought
// through commerce) of one node per store.
func TestEditionMatrix(t *testing.T) {
	rows := append(append(append(snsRows(), statusRows()...), convRows()...), pushRows()...)
	rows = append(rows, mauRow())
	rows = append(rows, groupRows()...)    // matrix_groups_test.go
	rows = append(rows, liveRoomRows()...) // matrix_liveroom_test.go
	rows = append(rows, groupMsgRows()...) // matrix_groupmsg_test.go
	// The group ops of devices (matrix_group_ws_test.go).
	rows = append(rows, groupWSRows()...)
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Trial, gateway.Limits{})
		for _, r := range rows {
			t.Run(r.edge+"/"+r.name, func(t *testing.T) {
				for _, ed := range catalog.Editions() {
					t.Run(ed.ID, func(t *testing.T) {
						want, found := r.want[ed.ID]
						if !found {
							t.Fatalf("no expected outcome for %s", ed.ID)
						}
						w.t = t // the rows run one at a time
						a := &edApp{t: t, w: w, ed: ed, app: w.newApp(ed.ID, r.users...)}
						got, msg := r.run(a)
						if got != want {
							t.Fatalf("%s %s on %s: outcome %d (%s), want %d", r.edge, r.name, ed.Name, got, msg, want)
						}
						if want > 0 && r.says != nil {
							for _, s := range r.says(ed) {
								if !strings.Contains(msg, s) {
									t.Fatalf("%s on %s: message %q does not name %q", r.name, ed.Name, msg, s)
								}
							}
						}
					})
				}
			})
		}
	})
}

// friendsSetup gives hub n friends (written directly: the limit under test is
// the edge's) among p0000.. and imports asker and extra.
func friendsSetup(a *edApp, n int) {
	a.t.Helper()
	ctx := context.Background()
	st := a.w.s.cfg.Store
	users := []store.User{{UserID: "hub"}, {UserID: "asker"}, {UserID: "extra"}}
	for i := 0; i < a.ed.FriendsPerUser; i++ {
		users = append(users, store.User{UserID: fmt.Sprintf("p%04d", i)})
	}
	if err := st.ImportUsers(ctx, a.app.SDKAppID, users); err != nil {
		a.t.Fatal(err)
	}
	rows := make([]store.Friend, 0, n)
	for i := 0; i < n; i++ {
		rows = append(rows, store.Friend{Owner: "hub", Peer: fmt.Sprintf("p%04d", i), AddSource: "AddSource_Type_T", AddTime: a.w.c.Now()})
	}
	if _, err := st.AddFriends(ctx, a.app.SDKAppID, rows, 0); err != nil {
		a.t.Fatal(err)
	}
}

func (a *edApp) friendAdd(from, to string, force int) int {
	a.t.Helper()
	out := a.restOK("sns/friend_add", fmt.Sprintf(`{"From_Account":%q,"ForceAddFlags":%d,"AddFriendItem":[{"To_Account":%q,"AddSource":"AddSource_Type_T"}]}`, from, force, to))
	return int(out["ResultItem"].([]any)[0].(map[string]any)["ResultCode"].(float64))
}

func (a *edApp) friendNum(user string) int {
	a.t.Helper()
	return int(a.restOK("sns/friend_get", fmt.Sprintf(`{"From_Account":%q}`, user))["FriendNum"].(float64))
}

// Friends per user (catalog FriendsPerUser: 20 / 3,000 / 3,000): the last
// friend within the limit is added, one more is refused on every edge.
func snsRows() []matrixRow {
	full := outcome{catalog.Trial: errs.SNSOwnListFull, catalog.Standard: errs.SNSOwnListFull, catalog.Premium: errs.SNSOwnListFull}
	peerFull := outcome{catalog.Trial: errs.SNSPeerListFull, catalog.Standard: errs.SNSPeerListFull, catalog.Premium: errs.SNSPeerListFull}
	return []matrixRow{
		{name: "friend_add past FriendsPerUser (own list)", edge: "REST", want: full, run: func(a *edApp) (int, string) {
			limit := a.ed.FriendsPerUser
			friendsSetup(a, limit-1)
			if code := a.friendAdd("hub", fmt.Sprintf("p%04d", limit-1), 1); code != 0 {
				a.t.Fatalf("friend %d of %d: %d", limit, limit, code)
			}
			code := a.friendAdd("hub", "extra", 1)
			if code != 0 && (a.friendNum("hub") != limit || a.friendNum("extra") != 0) {
				a.t.Fatal("a refused friend_add changed the lists")
			}
			return code, ""
		}},
		{name: "friend_add to a full peer", edge: "REST", want: peerFull, run: func(a *edApp) (int, string) {
			friendsSetup(a, a.ed.FriendsPerUser)
			code := a.friendAdd("extra", "hub", 1)
			if code != 0 && (a.friendNum("hub") != a.ed.FriendsPerUser || a.friendNum("extra") != 0) {
				a.t.Fatal("a refused friend_add changed the lists")
			}
			return code, ""
		}},
		{name: "friend_accept past FriendsPerUser", edge: "WebSocket", want: full,
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				friendsSetup(a, a.ed.FriendsPerUser)
				if code := a.friendAdd("asker", "hub", 0); code != errs.SNSPending {
					a.t.Fatalf("request: %d, want %d", code, errs.SNSPending)
				}
				hub := a.dial("hub", "Web")
				code, msg := clientErr(hub.AcceptFriend(ctx5(), "asker"))
				if code != 0 {
					reqs, err := hub.FriendRequests(ctx5())
					if err != nil || len(reqs) != 1 {
						a.t.Fatalf("the refused request is gone: %v %v", reqs, err)
					}
					if a.friendNum("hub") != a.ed.FriendsPerUser || a.friendNum("asker") != 0 {
						a.t.Fatal("a refused accept changed the lists")
					}
				}
				return code, msg
			}},
	}
}

// User status, login capabilities and the same-platform multi-device policy.
func statusRows() []matrixRow {
	users := []string{"alice", "bob"}
	says := namesFeature("user status")
	return []matrixRow{
		{name: "login capabilities", edge: "WebSocket", want: outcome{catalog.Trial: ok, catalog.Standard: ok, catalog.Premium: ok}, users: users,
			run: func(a *edApp) (int, string) {
				caps := a.dial("alice", "Web").Capabilities()
				if caps.Edition != a.ed.ID {
					a.t.Fatalf("login edition %q, want %q", caps.Edition, a.ed.ID)
				}
				for _, f := range []catalog.Feature{catalog.UserStatus, catalog.LocalSearch, catalog.MultiDeviceSamePlat, catalog.ConversationMarks, catalog.ConversationGroups, catalog.PushToAll} {
					if caps.Has(string(f)) != a.ed.Has(f) {
						a.t.Fatalf("login features %v: %s = %v, catalog says %v", caps.Features, f, caps.Has(string(f)), a.ed.Has(f))
					}
				}
				return ok, ""
			}},
		{name: "set_status", edge: "WebSocket", want: onlyStandardLacks, says: says, users: users, run: func(a *edApp) (int, string) {
			code, msg := clientErr(a.dial("alice", "Web").SetCustomStatus(ctx5(), "busy"))
			cs, err := a.w.s.IM.CustomStatuses(context.Background(), a.app, []string{"alice"})
			if err != nil || (code == 0) != (cs["alice"] == "busy") {
				a.t.Fatalf("custom status after code %d: %q %v", code, cs["alice"], err)
			}
			return code, msg
		}},
		{name: "subscribe_status", edge: "WebSocket", want: onlyStandardLacks, says: says, users: users, run: func(a *edApp) (int, string) {
			_, _, err := a.dial("alice", "Web").SubscribeStatus(ctx5(), "bob")
			code, msg := clientErr(err)
			if n := len(a.w.s.Gateway.Subscriptions(a.app.SDKAppID, "alice")); (code == 0) != (n == 1) {
				a.t.Fatalf("%d subscriptions after code %d", n, code)
			}
			return code, msg
		}},
		{name: "unsubscribe_status", edge: "WebSocket", want: onlyStandardLacks, says: says, users: users, run: func(a *edApp) (int, string) {
			return clientErr(a.dial("alice", "Web").UnsubscribeStatus(ctx5(), "bob"))
		}},
		{name: "query_online_status IsReturnCustomStatus", edge: "REST", want: onlyStandardLacks, says: says, users: users, run: func(a *edApp) (int, string) {
			alice := a.dial("alice", "Web")
			custom := ""
			if alice.SetCustomStatus(ctx5(), "busy") == nil {
				custom = "busy"
			}
			code, info, out := a.rest("openim/query_online_status", `{"To_Account":["alice"],"IsReturnCustomStatus":1}`)
			if code == 0 {
				r := out["QueryResult"].([]any)[0].(map[string]any)
				if r["Status"] != "Online" || r["CustomStatus"] != custom {
					a.t.Fatalf("query_online_status = %v, want Online with CustomStatus %q", r, custom)
				}
			}
			return code, info
		}},
		{name: "second login on the same platform", edge: "WebSocket", want: outcome{catalog.Trial: ok, catalog.Standard: replaced, catalog.Premium: ok}, users: users,
			run: func(a *edApp) (int, string) {
				web1 := a.dial("alice", "Web")
				ios := a.dial("alice", "iOS")
				web2 := a.dial("alice", "Web")
				webs := 0
				for _, d := range a.w.s.Gateway.Devices(a.app.SDKAppID, "alice") {
					if d.Platform == "Web" {
						webs++
					}
				}
				got := ok
				switch webs {
				case 1:
					got = replaced
					ended(a.t, web1, "the replaced Web device")
					if !strings.Contains(web1.Kicked(), "another Web device") {
						a.t.Fatalf("kicked reason %q", web1.Kicked())
					}
				case 2:
					alive(a.t, web1, "the first Web device")
				default:
					a.t.Fatalf("%d Web sessions", webs)
				}
				alive(a.t, ios, "the iOS device")
				alive(a.t, web2, "the second Web device")
				out := a.restOK("openim/query_online_status", `{"To_Account":["alice"],"IsNeedDetail":1}`)
				detail := out["QueryResult"].([]any)[0].(map[string]any)["Detail"].([]any)
				if len(detail) != webs+1 || !containsDetail(detail, "iPhone", "Online") || !containsDetail(detail, "Web", "Online") {
					a.t.Fatalf("Detail = %v, want %d Web and one iPhone Online", detail, webs)
				}
				return got, ""
			}},
	}
}

// Conversation marks and groups over REST and WebSocket. Rows that act on a
// group find "work" (holding bob) written directly, so that a refusal is the
// gate's and not a missing group's.
func convRows() []matrixRow {
	users := []string{"alice", "bob"}
	bob := store.ConvID{Type: 1, Peer: "bob"}
	withGroup := func(a *edApp) {
		a.t.Helper()
		if _, err := a.w.s.cfg.Store.CreateConvGroup(context.Background(), a.app.SDKAppID, "alice", "work", []store.ConvID{bob}, 20, 1000, a.w.c.Now()); err != nil {
			a.t.Fatal(err)
		}
	}
	// state is alice's marks and group names.
	state := func(a *edApp) string {
		a.t.Helper()
		cs, gs, err := a.w.s.cfg.Store.ConvStates(context.Background(), a.app.SDKAppID, "alice")
		if err != nil {
			a.t.Fatal(err)
		}
		var s []string
		for _, c := range cs {
			if c.Marks != 0 || c.CustomMark != "" || len(c.Groups) != 0 {
				s = append(s, fmt.Sprintf("%s:%d:%s:%v", c.Peer, c.Marks, c.CustomMark, c.Groups))
			}
		}
		for _, g := range gs {
			s = append(s, "group "+g.Name)
		}
		return strings.Join(s, ",")
	}
	// rest is a REST row: want the state after success, the same state after a refusal.
	rest := func(name, feature, cmd, body string, group bool, after string) matrixRow {
		return matrixRow{name: name, edge: "REST", want: onlyStandardLacks, says: namesFeature(feature), users: users, run: func(a *edApp) (int, string) {
			if group {
				withGroup(a)
			}
			before := state(a)
			code, info, _ := a.rest(cmd, body)
			if s := state(a); (code == 0 && s != after) || (code != 0 && s != before) {
				a.t.Fatalf("state after code %d: %q (before %q)", code, s, before)
			}
			return code, info
		}}
	}
	ref := client.ConvRef{Type: 1, Peer: "bob"}
	// ws is a WebSocket row over alice's Web device; her Android device gets
	// the change when it is made.
	ws := func(name, feature string, group bool, after string, call func(cl *client.Client) error) matrixRow {
		return matrixRow{name: name, edge: "WebSocket", want: onlyStandardLacks, says: namesFeature(feature), users: users, run: func(a *edApp) (int, string) {
			if group {
				withGroup(a)
			}
			a1, a2 := a.dial("alice", "Web"), a.dial("alice", "Android")
			before := state(a)
			code, msg := clientErr(call(a1))
			if s := state(a); (code == 0 && s != after) || (code != 0 && s != before) {
				a.t.Fatalf("state after code %d: %q (before %q)", code, s, before)
			}
			if code == 0 && after != before {
				nextChange(a.t, a2)
			}
			return code, msg
		}}
	}
	vip := "vip"
	const inWork = "bob:0::[1],group work" // bob in group work
	return []matrixRow{
		rest("mark_contact", "conversation marks", "recentcontact/mark_contact",
			`{"From_Account":"alice","MarkItem":[{"OptType":1,"ContactItem":{"Type":1,"To_Account":"bob"},"SetMark":[0]}]}`, false, "bob:1::[]"),
		rest("create_contact_group", "conversation groups", "recentcontact/create_contact_group",
			`{"From_Account":"alice","GroupContactItem":[{"GroupName":"work","ContactItem":[{"Type":1,"To_Account":"bob"}]}]}`, false, inWork),
		rest("update_contact_group", "conversation groups", "recentcontact/update_contact_group",
			`{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":1,"OldGroupName":"work","NewGroupName":"job"}}`, true, "bob:0::[1],group job"),
		rest("get_contact_group", "conversation groups", "recentcontact/get_contact_group",
			`{"From_Account":"alice","StartIndex":0}`, true, inWork),
		rest("search_contact_group", "conversation groups", "recentcontact/search_contact_group",
			`{"From_Account":"alice","ContactItem":[{"Type":1,"To_Account":"bob"}]}`, true, inWork),
		rest("del_contact_group", "conversation groups", "recentcontact/del_contact_group",
			`{"From_Account":"alice","GroupName":["work"]}`, true, ""),
		ws("conv_mark", "conversation marks", false, "bob:33:vip:[]", func(cl *client.Client) error {
			_, err := cl.MarkConversation(ctx5(), ref, []int{0, 5}, nil, &vip)
			return err
		}),
		ws("conv_group_create", "conversation groups", false, inWork, func(cl *client.Client) error {
			_, err := cl.CreateConvGroup(ctx5(), "work", []client.ConvRef{ref})
			return err
		}),
		ws("conv_group_rename", "conversation groups", true, "bob:0::[1],group job", func(cl *client.Client) error {
			_, err := cl.RenameConvGroup(ctx5(), "work", "job")
			return err
		}),
		ws("conv_group_update", "conversation groups", true, "group work", func(cl *client.Client) error {
			codes, err := cl.UpdateConvGroup(ctx5(), "work", nil, []client.ConvRef{ref})
			if err == nil && (len(codes) != 1 || codes[0] != 0) {
				return fmt.Errorf("update codes %v", codes)
			}
			return err
		}),
		ws("conv_groups", "conversation groups", true, inWork, func(cl *client.Client) error {
			_, groups, _, _, err := cl.ConvGroups(ctx5(), 0)
			if err == nil && (len(groups) != 1 || groups[0].Name != "work") {
				return fmt.Errorf("groups %+v", groups)
			}
			return err
		}),
		ws("conv_group_delete", "conversation groups", true, "", func(cl *client.Client) error {
			return cl.DeleteConvGroup(ctx5(), "work")
		}),
	}
}

// Push to all users (Free Trial only): every all_member_push command. alice
// has attribute sex=f (slot 0) and tag t, written directly; a refusal leaves
// them as they were and pushes nothing.
func pushRows() []matrixRow {
	type call struct{ cmd, body, after string }
	calls := []call{
		{"im_set_attr_name", `{"AttrNames":{"1":"age"}}`, "map[0:sex 1:age] map[alice:map[0:f]] map[alice:[t]]"},
		{"im_get_attr_name", `{}`, ""},
		{"im_set_attr", `{"UserAttrs":[{"To_Account":"alice","Attrs":{"sex":"m"}}]}`, "map[0:sex] map[alice:map[0:m]] map[alice:[t]]"},
		{"im_get_attr", `{"To_Account":["alice"]}`, ""},
		{"im_remove_attr", `{"UserAttrs":[{"To_Account":"alice","Attrs":["sex"]}]}`, "map[0:sex] map[] map[alice:[t]]"},
		{"im_add_tag", `{"UserTags":[{"To_Account":"alice","Tags":["u"]}]}`, "map[0:sex] map[alice:map[0:f]] map[alice:[t u]]"},
		{"im_get_tag", `{"To_Account":["alice"]}`, ""},
		{"im_remove_tag", `{"UserTags":[{"To_Account":"alice","Tags":["t"]}]}`, "map[0:sex] map[alice:map[0:f]] map[]"},
		{"im_remove_all_tags", `{"To_Account":["alice"]}`, "map[0:sex] map[alice:map[0:f]] map[]"},
		{"im_push", `{"MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}],"MsgLifeTime":60,"Condition":{"TagsAnd":["t"]}}`, ""},
	}
	var rows []matrixRow
	for _, c := range calls {
		rows = append(rows, matrixRow{name: c.cmd, edge: "REST", want: onlyTrialPushes, says: namesPush, users: []string{"alice"}, run: func(a *edApp) (int, string) {
			ctx, st, id := context.Background(), a.w.s.cfg.Store, a.app.SDKAppID
			if err := st.SetPushAttrNames(ctx, id, map[int]string{0: "sex"}); err != nil {
				a.t.Fatal(err)
			}
			if err := st.SetUserPushAttrs(ctx, id, "alice", map[int]string{0: "f"}); err != nil {
				a.t.Fatal(err)
			}
			if err := st.AddUserPushTags(ctx, id, "alice", []string{"t"}, 10); err != nil {
				a.t.Fatal(err)
			}
			state := func() string {
				names, err1 := st.PushAttrNames(ctx, id)
				attrs, err2 := st.UserPushAttrs(ctx, id, []string{"alice"})
				tags, err3 := st.UserPushTags(ctx, id, []string{"alice"})
				if err := errors.Join(err1, err2, err3); err != nil {
					a.t.Fatal(err)
				}
				return fmt.Sprint(names, " ", attrs, " ", tags)
			}
			dev := a.dial("alice", "Web")
			before := state()
			code, info, _ := a.rest("all_member_push/"+c.cmd, c.body)
			after := c.after
			if after == "" || code != 0 {
				after = before
			}
			if s := state(); s != after {
				a.t.Fatalf("state after code %d: %q, want %q", code, s, after)
			}
			if c.cmd == "im_push" {
				if code == 0 {
					if e := next(a.t, dev); e.From != a.app.AdminUser || !bytes.Contains(e.Body, []byte("hi")) {
						a.t.Fatalf("pushed entry %+v", e)
					}
				} else {
					a.w.s.IM.WaitPushes()
					if es, _, err := dev.Sync(ctx, 0, 10); err != nil || len(es) != 0 {
						a.t.Fatalf("a refused push reached the log: %v %v", es, err)
					}
				}
			}
			return code, info
		}})
	}
	return rows
}

// The Free Trial MAU cap (catalog MAUCap of the trial): its users log in, one
// more is refused at login with 70398 on Free Trial; the paid editions admit
// it (extra MAU is billed, not capped).
func mauRow() matrixRow {
	return matrixRow{name: "login past the Free Trial MAU cap", edge: "WebSocket",
		want: outcome{catalog.Trial: errs.TrialMAUCap, catalog.Standard: ok, catalog.Premium: ok},
		run: func(a *edApp) (int, string) {
			n := catalog.MustLookup(catalog.Trial).MAUCap
			var users []store.User
			for i := 0; i <= n; i++ {
				users = append(users, store.User{UserID: fmt.Sprintf("u%03d", i)})
			}
			if err := a.w.s.cfg.Store.ImportUsers(context.Background(), a.app.SDKAppID, users); err != nil {
				a.t.Fatal(err)
			}
			for _, u := range users[:n] {
				a.dial(u.UserID, "Web").Close()
			}
			cl, err := a.login(users[n].UserID, "Web")
			code, msg := clientErr(err)
			if code == 0 {
				cl.Close()
			}
			if _, err := a.login(users[0].UserID, "Web"); err != nil {
				a.t.Fatalf("a counted user refused: %v", err)
			}
			return code, msg
		}}
}
