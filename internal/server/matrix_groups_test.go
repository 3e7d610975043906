package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// The group limits and features of the edition matrix (product.md §3): each
// row fills the app up to one below the limit directly in the store (the
// limit under test is the REST edge's), makes the last allowed call through
// the REST API and then one more, and checks that a refusal changed nothing.

const gsvc = "group_open_http_svc/"

// oldQuota is the UTC day of groups made by a row's setup, so that they do not
// count against today's net increase.
var oldQuota = store.GroupQuota{Day: "2000-01-01"}

func (a *edApp) importN(prefix string, n int) []string {
	a.t.Helper()
	ids := make([]string, n)
	us := make([]store.User, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
		us[i] = store.User{UserID: ids[i]}
	}
	if err := a.w.s.cfg.Store.ImportUsers(context.Background(), a.app.SDKAppID, us); err != nil {
		a.t.Fatal(err)
	}
	return ids
}

// storeGroups creates n groups of type typ directly, with member (if set).
func (a *edApp) storeGroups(prefix, typ string, n int, member string) {
	a.t.Helper()
	for i := 0; i < n; i++ {
		g := store.Group{App: a.app.SDKAppID, GroupID: fmt.Sprintf("%s%04d", prefix, i), Type: typ, Name: "g", CreatedAt: a.w.c.Now()}
		var ms []store.GroupMember
		if member != "" {
			ms = []store.GroupMember{{UserID: member, Role: store.RoleMember, JoinTime: a.w.c.Now()}}
		}
		if _, err := a.w.s.cfg.Store.CreateGroup(context.Background(), g, ms, oldQuota); err != nil {
			a.t.Fatal(err)
		}
	}
}

// groupCount is get_appid_group_list's TotalCount.
func (a *edApp) groupCount() int {
	a.t.Helper()
	return int(a.restOK(gsvc+"get_appid_group_list", `{"Limit":1}`)["TotalCount"].(float64))
}

// createThenRefused creates one group that must succeed, then one more, and
// returns the second's outcome, checking that a refusal created nothing.
func (a *edApp) createThenRefused(body string) (int, string) {
	a.t.Helper()
	a.restOK(gsvc+"create_group", body)
	before := a.groupCount()
	code, info, _ := a.rest(gsvc+"create_group", body)
	if code != 0 && a.groupCount() != before {
		a.t.Fatal("a refused create_group created a group")
	}
	return code, info
}

func groupRows() []matrixRow {
	all := func(code int) outcome {
		return outcome{catalog.Trial: code, catalog.Standard: code, catalog.Premium: code}
	}
	return []matrixRow{
		{name: "add_group_member past MembersPerGroup", edge: "REST", want: all(errs.GroupMemberLimit),
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				limit := a.ed.MembersPerGroup
				us := a.importN("m", limit+1)
				g := store.Group{App: a.app.SDKAppID, GroupID: "big", Type: store.GroupPublic, Name: "big", Owner: us[0],
					MaxMemberNum: 2000, CreatedAt: a.w.c.Now()}
				ms := make([]store.GroupMember, 0, limit)
				for _, u := range us[1 : limit-1] {
					ms = append(ms, store.GroupMember{UserID: u, Role: store.RoleMember, JoinTime: a.w.c.Now()})
				}
				if _, err := a.w.s.cfg.Store.CreateGroup(context.Background(), g, ms, oldQuota); err != nil {
					a.t.Fatal(err)
				}
				out := a.restOK(gsvc+"add_group_member", fmt.Sprintf(`{"GroupId":"big","MemberList":[{"Member_Account":%q}]}`, us[limit-1]))
				if r := out["MemberList"].([]any)[0].(map[string]any)["Result"].(float64); r != 1 {
					a.t.Fatalf("member %d of %d: Result %v", limit, limit, r)
				}
				code, info, _ := a.rest(gsvc+"add_group_member", fmt.Sprintf(`{"GroupId":"big","MemberList":[{"Member_Account":%q}]}`, us[limit]))
				info2 := a.restOK(gsvc+"get_group_info", `{"GroupIdList":["big"]}`)
				if n := info2["GroupInfo"].([]any)[0].(map[string]any)["MemberNum"].(float64); int(n) != limit {
					a.t.Fatalf("MemberNum %v after the refusal, want %d", n, limit)
				}
				return code, info
			}},
		{name: "create_group past GroupsPerUser", edge: "REST", want: all(errs.GroupJoinedLimit),
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				a.importN("hub", 1)
				a.storeGroups("j", store.GroupMeeting, a.ed.GroupsPerUser-1, "hub0000")
				a.storeGroups("live", store.GroupAVChatRoom, 1, "hub0000") // live rooms do not count
				return a.createThenRefused(`{"Type":"Meeting","Name":"n","Owner_Account":"hub0000"}`)
			}},
		{name: "create_group past GroupsPerApp", edge: "REST",
			want: outcome{catalog.Trial: errs.GroupAppLimit, catalog.Standard: ok, catalog.Premium: ok},
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				n := a.ed.GroupsPerApp
				if n == catalog.Unlimited {
					n = catalog.MustLookup(catalog.Trial).GroupsPerApp // the Free Trial's limit passes
				}
				a.storeGroups("w", store.GroupWork, n-1, "")
				a.storeGroups("live", store.GroupAVChatRoom, 1, "") // not counted
				return a.createThenRefused(`{"Type":"Work","Name":"n"}`)
			}},
		{name: "create_group past LiveRooms", edge: "REST",
			want: outcome{catalog.Trial: errs.GroupLiveRoomLimit, catalog.Standard: errs.GroupLiveRoomLimit, catalog.Premium: ok},
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				n := a.ed.LiveRooms
				if n == catalog.Unlimited {
					n = catalog.MustLookup(catalog.Trial).LiveRooms
				}
				a.storeGroups("l", store.GroupAVChatRoom, n-1, "")
				return a.createThenRefused(`{"Type":"AVChatRoom","Name":"n"}`)
			}},
		{name: "create_group past the daily net increase", edge: "REST", want: all(errs.GroupDailyLimit),
			says: func(ed catalog.Edition) []string { return []string{ed.Name} },
			run: func(a *edApp) (int, string) {
				a.setDailyNet(a.ed.DailyNetGroups - 1)
				a.restOK(gsvc+"create_group", `{"Type":"Meeting","Name":"n","GroupId":"d1"}`)
				code, info, _ := a.rest(gsvc+"create_group", `{"Type":"Meeting","Name":"n","GroupId":"d2"}`)
				if code != 0 && a.groupCount() != 1 {
					a.t.Fatal("a refused create_group created a group")
				}
				// Disbanding a group of the day frees a place.
				a.restOK(gsvc+"destroy_group", `{"GroupId":"d1"}`)
				a.restOK(gsvc+"create_group", `{"Type":"Meeting","Name":"n","GroupId":"d3"}`)
				return code, info
			}},
		{name: "create_group Community", edge: "REST",
			want: outcome{catalog.Trial: ok, catalog.Standard: errs.GroupFeatureNotInEdition, catalog.Premium: ok},
			says: func(ed catalog.Edition) []string { return []string{"community", ed.Name, "Free Trial and Premium"} },
			run: func(a *edApp) (int, string) {
				code, info, _ := a.rest(gsvc+"create_group", `{"Type":"Community","Name":"c"}`)
				if n := a.groupCount(); (code == 0) != (n == 1) {
					a.t.Fatalf("%d groups after code %d", n, code)
				}
				return code, info
			}},
	}
}

// setDailyNet sets the app's net increase of groups of today (UTC) to n,
// directly in its counter row (creating thousands of groups would take long).
func (a *edApp) setDailyNet(n int) {
	a.t.Helper()
	db, ok := a.w.s.cfg.Store.(interface {
		WriteDB() *sql.DB
		Dialect() sqlstore.Dialect
	})
	if !ok {
		a.t.Fatalf("store %T has no SQL database", a.w.s.cfg.Store)
	}
	q := `INSERT INTO im_group_daily (app, day, net) VALUES (?, ?, ?)`
	if db.Dialect().Dollar {
		q = strings.NewReplacer("(?, ?, ?)", "($1, $2, $3)").Replace(q)
	}
	if _, err := db.WriteDB().Exec(q, a.app.SDKAppID, a.w.c.Now().UTC().Format("2006-01-02"), n); err != nil {
		a.t.Fatal(err)
	}
}
