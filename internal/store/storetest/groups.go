package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupTests are the behaviours of store.Groups.
var groupTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"GroupCreateGet", testGroupCreateGet},
	{"GroupLimits", testGroupLimits},
	{"GroupMembers", testGroupMembers},
	{"GroupOwnerLeaves", testGroupOwnerLeaves},
	{"GroupUpdate", testGroupUpdate},
	{"GroupRequests", testGroupRequests},
	{"GroupDeleteUsersLeave", testGroupDeleteUsersLeave},
	{"GroupDeleteAppRemoves", testGroupDeleteAppRemoves},
	{"GroupLimitsConcurrent", testGroupLimitsConcurrent},
}

var noQuota = store.GroupQuota{Day: "2025-03-01"}

func newGroup(id, typ, owner string) store.Group {
	return store.Group{App: app1, GroupID: id, Type: typ, Name: "n-" + id, Owner: owner, MaxMemberNum: 200,
		ApplyJoinOption: "FreeAccess", InviteJoinOption: "FreeAccess", CreatedAt: t0}
}

func mem(id string) store.GroupMember { return store.GroupMember{UserID: id, JoinTime: t0} }

func mustCreate(t *testing.T, s store.Store, g store.Group, q store.GroupQuota, members ...string) store.Group {
	t.Helper()
	ms := make([]store.GroupMember, len(members))
	for i, m := range members {
		ms[i] = mem(m)
	}
	got, err := s.CreateGroup(ctx, g, ms, q)
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", g.GroupID, err)
	}
	return got
}

func limitOf(err error) string {
	var l *store.GroupLimitError
	if errors.As(err, &l) && errors.Is(err, errs.ErrLimit) {
		return l.Limit
	}
	return ""
}

func testGroupCreateGet(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	g := newGroup("g1", store.GroupPublic, "o")
	g.AppDefinedData = map[string]string{"k": "v"}
	g.Introduction, g.Notification, g.FaceURL, g.MuteAllMember, g.SupportTopic = "intro", "note", "http://f", true, true
	ms := []store.GroupMember{{UserID: "a", Role: store.RoleAdmin, JoinTime: t0, AppMemberDefinedData: map[string]string{"m": "1"}, MutedUntil: store.MutedForever}, mem("b"), mem("o")}
	got, err := s.CreateGroup(ctx, g, ms, noQuota)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberNum != 3 || got.InfoSeq != 1 || got.Serial != 1 || got.Owner != "o" || got.AppDefinedData["k"] != "v" ||
		!got.MuteAllMember || !got.SupportTopic || got.Introduction != "intro" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("created %+v", got)
	}
	again, err := s.GetGroup(ctx, app1, "g1")
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("GetGroup = %+v, %v; want %+v", again, err, got)
	}
	if _, err := s.CreateGroup(ctx, newGroup("g1", store.GroupWork, "o"), nil, noQuota); !isErr(err, errs.ErrExists) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := s.CreateGroup(ctx, newGroup("g2", store.GroupWork, "o"), []store.GroupMember{mem("nobody")}, noQuota); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("unknown member: %v", err)
	}
	if _, err := s.GetGroup(ctx, app1, "g2"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("failed create left a group: %v", err)
	}
	if _, err := s.GetGroup(ctx, app2, "g1"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("another app's group: %v", err)
	}
	ids, err := s.GroupMemberIDs(ctx, app1, "g1")
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b", "o"}) {
		t.Fatalf("GroupMemberIDs = %v, %v", ids, err)
	}
	if _, err := s.GroupMemberIDs(ctx, app1, "none"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("GroupMemberIDs of no group: %v", err)
	}
	a, err := s.GetGroupMember(ctx, app1, "g1", "a")
	if err != nil || a.Role != store.RoleAdmin || a.MutedUntil != store.MutedForever || a.AppMemberDefinedData["m"] != "1" || a.MsgFlag != "AcceptAndNotify" || !a.JoinTime.Equal(t0) {
		t.Fatalf("member a = %+v, %v", a, err)
	}
	if o, _ := s.GetGroupMember(ctx, app1, "g1", "o"); o.Role != store.RoleOwner {
		t.Fatalf("owner row %+v", o)
	}
	if _, err := s.GetGroupMember(ctx, app1, "g1", "x"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("non-member: %v", err)
	}
	mustCreate(t, s, newGroup("g3", store.GroupAVChatRoom, ""), noQuota)
	list, total, err := s.ListGroups(ctx, app1, "", 0, 10)
	if err != nil || total != 2 || len(list) != 2 || list[0].GroupID != "g1" || list[1].GroupID != "g3" {
		t.Fatalf("ListGroups = %v %d %v", list, total, err)
	}
	list, total, _ = s.ListGroups(ctx, app1, "", list[0].Serial, 10)
	if total != 2 || len(list) != 1 || list[0].GroupID != "g3" {
		t.Fatalf("ListGroups after = %v %d", list, total)
	}
	list, total, _ = s.ListGroups(ctx, app1, store.GroupAVChatRoom, 0, 10)
	if total != 1 || len(list) != 1 {
		t.Fatalf("ListGroups by type = %v %d", list, total)
	}
	gs, err := s.GetGroups(ctx, app1, []string{"g1", "g3", "none"})
	if err != nil || len(gs) != 2 {
		t.Fatalf("GetGroups = %v, %v", gs, err)
	}
	ug, err := s.UserGroups(ctx, app1, "a")
	if err != nil || len(ug) != 1 || ug[0].GroupID != "g1" || ug[0].Role != store.RoleAdmin {
		t.Fatalf("UserGroups = %+v, %v", ug, err)
	}
}

func testGroupLimits(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b", "c")
	q := store.GroupQuota{GroupsPerApp: 2, LiveRooms: 1, DailyNet: 4, Day: "2025-03-01"}
	mustCreate(t, s, newGroup("w1", store.GroupWork, "o"), q)
	mustCreate(t, s, newGroup("l1", store.GroupAVChatRoom, "o"), q) // not a group of GroupsPerApp
	mustCreate(t, s, newGroup("w2", store.GroupWork, "o"), q)
	if _, err := s.CreateGroup(ctx, newGroup("w3", store.GroupWork, "o"), nil, q); limitOf(err) != store.LimitGroups {
		t.Fatalf("third group: %v", err)
	}
	if _, err := s.CreateGroup(ctx, newGroup("l2", store.GroupAVChatRoom, "o"), nil, q); limitOf(err) != store.LimitLiveRooms {
		t.Fatalf("second live room: %v", err)
	}
	// Disbanding frees the groups-at-once and the day's count.
	if ms, err := s.DeleteGroup(ctx, app1, "w2", q); err != nil || !reflect.DeepEqual(ms, []string{"o"}) {
		t.Fatalf("DeleteGroup = %v, %v", ms, err)
	}
	if _, err := s.DeleteGroup(ctx, app1, "w2", q); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("second DeleteGroup: %v", err)
	}
	mustCreate(t, s, newGroup("w3", store.GroupWork, "o"), q)
	mustCreate(t, s, newGroup("m1", store.GroupMeeting, "o"), store.GroupQuota{DailyNet: 4, Day: q.Day}) // the 4th of the day
	if _, err := s.CreateGroup(ctx, newGroup("m2", store.GroupMeeting, "o"), nil, store.GroupQuota{DailyNet: 4, Day: q.Day}); limitOf(err) != store.LimitDaily {
		t.Fatalf("5th of the day: %v", err)
	}
	// A group created on another day does not free today's count.
	mustCreate(t, s, newGroup("y1", store.GroupMeeting, "o"), store.GroupQuota{Day: "2025-02-28"})
	if _, err := s.DeleteGroup(ctx, app1, "y1", q); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(ctx, newGroup("m2", store.GroupMeeting, "o"), nil, store.GroupQuota{DailyNet: 4, Day: q.Day}); limitOf(err) != store.LimitDaily {
		t.Fatalf("after disbanding yesterday's group: %v", err)
	}
	mustCreate(t, s, newGroup("m2", store.GroupMeeting, "o"), store.GroupQuota{DailyNet: 4, Day: "2025-03-02"})

	// Members: the edition's bound (not for live rooms nor communities), the group's own.
	mq := store.GroupQuota{MembersPerGroup: 2, Day: q.Day}
	if _, err := s.CreateGroup(ctx, newGroup("p1", store.GroupPublic, "o"), []store.GroupMember{mem("a"), mem("b")}, mq); limitOf(err) != store.LimitMembers {
		t.Fatalf("3 members over 2: %v", err)
	}
	mustCreate(t, s, newGroup("c1", store.GroupCommunity, "o"), mq, "a", "b")
	p := newGroup("p1", store.GroupPublic, "o")
	p.MaxMemberNum = 3
	mustCreate(t, s, p, store.GroupQuota{Day: q.Day}, "a")
	res, err := s.AddGroupMembers(ctx, app1, "p1", []store.GroupMember{mem("a"), mem("b"), mem("c"), mem("zz")}, store.GroupQuota{MembersPerGroup: 5, Day: q.Day})
	if err != nil || res[0] != errs.ErrExists || res[1] != nil || limitOf(res[2]) != store.LimitFull || res[3] != errs.ErrNotFound {
		t.Fatalf("AddGroupMembers = %v, %v", res, err)
	}
	// Groups per user: live rooms do not count.
	uq := store.GroupQuota{GroupsPerUser: 2, Day: q.Day}
	mustCreate(t, s, newGroup("u1", store.GroupWork, "c"), uq)
	mustCreate(t, s, newGroup("u2", store.GroupAVChatRoom, "c"), store.GroupQuota{Day: q.Day})
	mustCreate(t, s, newGroup("u3", store.GroupWork, "c"), uq)
	_, err = s.CreateGroup(ctx, newGroup("u4", store.GroupWork, "c"), nil, uq)
	var l *store.GroupLimitError
	if !errors.As(err, &l) || l.Limit != store.LimitJoined || l.User != "c" {
		t.Fatalf("third group of c: %v", err)
	}
	res, err = s.AddGroupMembers(ctx, app1, "w1", []store.GroupMember{mem("c")}, uq)
	if err != nil || limitOf(res[0]) != store.LimitJoined {
		t.Fatalf("c joins a third: %v, %v", res, err)
	}
	res, err = s.AddGroupMembers(ctx, app1, "l1", []store.GroupMember{mem("c")}, uq)
	if err != nil || res[0] != nil {
		t.Fatalf("c joins a live room: %v, %v", res, err)
	}
	if _, err := s.AddGroupMembers(ctx, app1, "none", []store.GroupMember{mem("c")}, uq); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("add to no group: %v", err)
	}
}

func testGroupMembers(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b", "c", "d")
	mustCreate(t, s, newGroup("g", store.GroupPublic, "o"), noQuota)
	for i, u := range []string{"d", "c", "b", "a"} {
		m := mem(u)
		m.JoinTime = t0.Add(timeSec(i + 1))
		if u == "b" {
			m.Role = store.RoleAdmin
		}
		if res, err := s.AddGroupMembers(ctx, app1, "g", []store.GroupMember{m}, noQuota); err != nil || res[0] != nil {
			t.Fatalf("add %s: %v %v", u, res, err)
		}
	}
	g, _ := s.GetGroup(ctx, app1, "g")
	if g.MemberNum != 5 {
		t.Fatalf("MemberNum = %d", g.MemberNum)
	}
	page := func(p store.MemberPage) ([]string, int) {
		t.Helper()
		ms, total, err := s.ListGroupMembers(ctx, app1, "g", p)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, m := range ms {
			ids = append(ids, m.UserID)
		}
		return ids, total
	}
	if ids, total := page(store.MemberPage{Limit: 2}); total != 5 || !reflect.DeepEqual(ids, []string{"o", "d"}) {
		t.Fatalf("page 1 = %v %d", ids, total)
	}
	if ids, total := page(store.MemberPage{Limit: 2, Offset: 4}); total != 5 || !reflect.DeepEqual(ids, []string{"a"}) {
		t.Fatalf("page 3 = %v %d", ids, total)
	}
	if ids, total := page(store.MemberPage{Limit: 2, ByUserID: true}); total != 5 || !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("by id = %v %d", ids, total)
	}
	if ids, _ := page(store.MemberPage{Limit: 10, After: "c"}); !reflect.DeepEqual(ids, []string{"d", "o"}) {
		t.Fatalf("after c = %v", ids)
	}
	if ids, total := page(store.MemberPage{Limit: 10, Roles: []string{store.RoleAdmin}}); total != 1 || !reflect.DeepEqual(ids, []string{"b"}) {
		t.Fatalf("admins = %v %d", ids, total)
	}
	if _, total := page(store.MemberPage{Limit: 10, Roles: []string{store.RoleAdmin, store.RoleOwner}}); total != 2 {
		t.Fatalf("owner and admins: %d", total)
	}
	if _, _, err := s.ListGroupMembers(ctx, app1, "none", store.MemberPage{Limit: 1}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("members of no group: %v", err)
	}
	role, card, until := store.RoleAdmin, "card", store.MutedForever
	m, err := s.UpdateGroupMember(ctx, app1, "g", "c", store.GroupMemberUpdate{Role: &role, NameCard: &card, MutedUntil: &until, AppMemberDefinedData: map[string]string{"x": "1"}})
	if err != nil || m.Role != role || m.NameCard != card || m.MutedUntil != store.MutedForever || m.AppMemberDefinedData["x"] != "1" {
		t.Fatalf("UpdateGroupMember = %+v, %v", m, err)
	}
	zero := int64(0)
	m, _ = s.UpdateGroupMember(ctx, app1, "g", "c", store.GroupMemberUpdate{MutedUntil: &zero, AppMemberDefinedData: map[string]string{"x": ""}})
	if m.MutedUntil != 0 || len(m.AppMemberDefinedData) != 0 || m.NameCard != card {
		t.Fatalf("second update = %+v", m)
	}
	if _, err := s.UpdateGroupMember(ctx, app1, "g", "zz", store.GroupMemberUpdate{NameCard: &card}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("update non-member: %v", err)
	}
	must(t, s.SetGroupReadSeq(ctx, app1, "g", "a", 7))
	must(t, s.SetGroupReadSeq(ctx, app1, "g", "a", 3))
	if m, _ := s.GetGroupMember(ctx, app1, "g", "a"); m.ReadSeq != 7 {
		t.Fatalf("ReadSeq = %d", m.ReadSeq)
	}
	if err := s.SetGroupReadSeq(ctx, app1, "g", "zz", 3); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("read seq of non-member: %v", err)
	}
	got, err := s.GroupMembers(ctx, app1, "g", []string{"a", "zz"})
	if err != nil || len(got) != 1 || got["a"].UserID != "a" {
		t.Fatalf("GroupMembers = %v, %v", got, err)
	}
	r, err := s.RemoveGroupMembers(ctx, app1, "g", []string{"a", "zz", "a"}, noQuota)
	if err != nil || !reflect.DeepEqual(r.Removed, []string{"a"}) || r.NewOwner != "" || r.Disbanded {
		t.Fatalf("remove = %+v, %v", r, err)
	}
	if g, _ := s.GetGroup(ctx, app1, "g"); g.MemberNum != 4 {
		t.Fatalf("MemberNum after removal = %d", g.MemberNum)
	}
}

func testGroupOwnerLeaves(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("g", store.GroupWork, "o"), noQuota, "a")
	m := mem("b")
	m.Role, m.JoinTime = store.RoleAdmin, t0.Add(timeSec(5))
	s.AddGroupMembers(ctx, app1, "g", []store.GroupMember{m}, noQuota)
	q := store.GroupQuota{Day: noQuota.Day, At: t0.Add(timeSec(9))}
	r, err := s.RemoveGroupMembers(ctx, app1, "g", []string{"o"}, q)
	if err != nil || r.NewOwner != "b" || r.Disbanded {
		t.Fatalf("owner leaves = %+v, %v", r, err)
	}
	g, _ := s.GetGroup(ctx, app1, "g")
	if g.Owner != "b" || g.InfoSeq != 2 || g.MemberNum != 2 || !g.LastInfoTime.Equal(q.At) {
		t.Fatalf("group after = %+v", g)
	}
	if r, _ := s.RemoveGroupMembers(ctx, app1, "g", []string{"b"}, q); r.NewOwner != "a" {
		t.Fatalf("second owner leaves: %+v", r)
	}
	if r, _ := s.RemoveGroupMembers(ctx, app1, "g", []string{"a"}, q); !r.Disbanded {
		t.Fatalf("last owner leaves: %+v", r)
	}
	if _, err := s.GetGroup(ctx, app1, "g"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("disbanded group: %v", err)
	}
	// ChangeGroupOwner.
	mustCreate(t, s, newGroup("h", store.GroupPublic, "o"), noQuota, "a")
	if err := s.ChangeGroupOwner(ctx, app1, "h", "b", t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("owner not a member: %v", err)
	}
	must(t, s.ChangeGroupOwner(ctx, app1, "h", "a", t0))
	if o, _ := s.GetGroupMember(ctx, app1, "h", "o"); o.Role != store.RoleMember {
		t.Fatalf("old owner %+v", o)
	}
	if g, _ := s.GetGroup(ctx, app1, "h"); g.Owner != "a" || g.InfoSeq != 2 {
		t.Fatalf("after change %+v", g)
	}
}

func testGroupUpdate(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	g := newGroup("g", store.GroupPublic, "o")
	g.AppDefinedData = map[string]string{"a": "1", "b": "2"}
	mustCreate(t, s, g, noQuota)
	name, max, on := "new", 50, true
	got, err := s.UpdateGroup(ctx, app1, "g", store.GroupUpdate{Name: &name, MaxMemberNum: &max, MuteAllMember: &on,
		AppDefinedData: map[string]string{"a": "", "c": "3"}, At: t0.Add(timeSec(3))})
	if err != nil || got.Name != "new" || got.MaxMemberNum != 50 || !got.MuteAllMember || got.InfoSeq != 2 ||
		!reflect.DeepEqual(got.AppDefinedData, map[string]string{"b": "2", "c": "3"}) || !got.LastInfoTime.Equal(t0.Add(timeSec(3))) || got.Introduction != "" {
		t.Fatalf("UpdateGroup = %+v, %v", got, err)
	}
	if _, err := s.UpdateGroup(ctx, app1, "none", store.GroupUpdate{Name: &name}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("update no group: %v", err)
	}
}

func testGroupRequests(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a")
	mustCreate(t, s, newGroup("g", store.GroupPublic, "o"), noQuota)
	must(t, s.PutGroupRequest(ctx, app1, store.GroupRequest{GroupID: "g", UserID: "a", Kind: store.GroupApply, Wording: "hi", At: t0}))
	if err := s.PutGroupRequest(ctx, app1, store.GroupRequest{GroupID: "g", UserID: "nobody", Kind: store.GroupApply, At: t0}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("request of no user: %v", err)
	}
	if err := s.PutGroupRequest(ctx, app1, store.GroupRequest{GroupID: "none", UserID: "a", Kind: store.GroupApply, At: t0}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("request to no group: %v", err)
	}
	rs, err := s.GroupRequests(ctx, app1, "g")
	if err != nil || len(rs) != 1 || rs[0].Wording != "hi" || rs[0].Kind != store.GroupApply {
		t.Fatalf("GroupRequests = %+v, %v", rs, err)
	}
	r, err := s.TakeGroupRequest(ctx, app1, "g", "a", store.GroupApply)
	if err != nil || r.UserID != "a" || !r.At.Equal(t0) {
		t.Fatalf("TakeGroupRequest = %+v, %v", r, err)
	}
	if _, err := s.TakeGroupRequest(ctx, app1, "g", "a", store.GroupApply); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("second take: %v", err)
	}
	// Adding the user removes its pending requests.
	must(t, s.PutGroupRequest(ctx, app1, store.GroupRequest{GroupID: "g", UserID: "a", Kind: store.GroupInvite, Operator: "o", At: t0}))
	s.AddGroupMembers(ctx, app1, "g", []store.GroupMember{mem("a")}, noQuota)
	if rs, _ := s.GroupRequests(ctx, app1, "g"); len(rs) != 0 {
		t.Fatalf("requests after join: %+v", rs)
	}
}

func testGroupDeleteUsersLeave(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("g", store.GroupWork, "o"), noQuota, "a", "b")
	mustCreate(t, s, newGroup("solo", store.GroupWork, "o"), noQuota)
	must(t, s.DeleteUsers(ctx, app1, []string{"o", "b"}))
	g, err := s.GetGroup(ctx, app1, "g")
	if err != nil || g.Owner != "a" || g.MemberNum != 1 {
		t.Fatalf("group after its owner's deletion = %+v, %v", g, err)
	}
	if _, err := s.GetGroup(ctx, app1, "solo"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("a group left empty by its deleted owner stays: %v", err)
	}
	if ug, _ := s.UserGroups(ctx, app1, "o"); len(ug) != 0 {
		t.Fatalf("deleted user's groups: %v", ug)
	}
	// A re-imported user belongs to nothing.
	snsUsers(t, s, app1, "b")
	if ids, _ := s.GroupMemberIDs(ctx, app1, "g"); !reflect.DeepEqual(ids, []string{"a"}) {
		t.Fatalf("members = %v", ids)
	}
}

func testGroupDeleteAppRemoves(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "one", 0)
	snsUsers(t, s, a.SDKAppID, "o")
	g := newGroup("g", store.GroupWork, "o")
	g.App = a.SDKAppID
	mustCreate(t, s, g, noQuota)
	must(t, s.DeleteApp(ctx, a.SDKAppID, t0))
	if _, err := s.GetGroup(ctx, a.SDKAppID, "g"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("group survives app deletion: %v", err)
	}
	if _, err := s.CreateGroup(ctx, g, nil, noQuota); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("create in a deleted app: %v", err)
	}
}

// testGroupLimitsConcurrent: many writers at a limit, exactly the limit succeeds
// (groups at once, live rooms, the day's net increase with disbands mixed in,
// members per group, groups per user).
func testGroupLimitsConcurrent(t *testing.T, s store.Store) {
	const n, limit = 24, 7
	users := []string{"o"}
	for i := 0; i < n; i++ {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	snsUsers(t, s, app1, users...)
	run := func(what string, fn func(i int) error) int {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				err := fn(i)
				if err != nil && limitOf(err) == "" {
					t.Errorf("%s %d: %v", what, i, err)
				}
				mu.Lock()
				if err == nil {
					ok++
				}
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		return ok
	}
	q := store.GroupQuota{GroupsPerApp: limit, LiveRooms: limit, Day: noQuota.Day}
	if ok := run("create", func(i int) error {
		_, err := s.CreateGroup(ctx, newGroup(fmt.Sprintf("w%02d", i), store.GroupWork, ""), nil, q)
		return err
	}); ok != limit {
		t.Fatalf("%d groups created at a limit of %d", ok, limit)
	}
	if ok := run("create live", func(i int) error {
		_, err := s.CreateGroup(ctx, newGroup(fmt.Sprintf("l%02d", i), store.GroupAVChatRoom, ""), nil, q)
		return err
	}); ok != limit {
		t.Fatalf("%d live rooms created at a limit of %d", ok, limit)
	}
	// Members of one group.
	mustCreate(t, s, newGroup("big", store.GroupPublic, ""), noQuota)
	mq := store.GroupQuota{MembersPerGroup: limit, Day: noQuota.Day}
	if ok := run("join", func(i int) error {
		res, err := s.AddGroupMembers(ctx, app1, "big", []store.GroupMember{mem(users[i+1])}, mq)
		if err != nil {
			return err
		}
		return res[0]
	}); ok != limit {
		t.Fatalf("%d members at a limit of %d", ok, limit)
	}
	if g, _ := s.GetGroup(ctx, app1, "big"); g.MemberNum != limit {
		t.Fatalf("MemberNum = %d", g.MemberNum)
	}
	// Groups of one user.
	for i := 0; i < n; i++ {
		mustCreate(t, s, newGroup(fmt.Sprintf("j%02d", i), store.GroupMeeting, ""), noQuota)
	}
	uq := store.GroupQuota{GroupsPerUser: limit, Day: noQuota.Day}
	if ok := run("joined", func(i int) error {
		res, err := s.AddGroupMembers(ctx, app1, fmt.Sprintf("j%02d", i), []store.GroupMember{mem("o")}, uq)
		if err != nil {
			return err
		}
		return res[0]
	}); ok != limit {
		t.Fatalf("%d groups of one user at a limit of %d", ok, limit)
	}
	// The day's net increase, with disbands of the day's groups freeing it.
	day := store.GroupQuota{DailyNet: limit, Day: "2025-03-09"}
	for i := 0; i < limit; i++ {
		mustCreate(t, s, newGroup(fmt.Sprintf("d%02d", i), store.GroupMeeting, ""), day)
	}
	var created, disbanded int
	var mu sync.Mutex
	run("daily", func(i int) error {
		if i%2 == 0 {
			_, err := s.DeleteGroup(ctx, app1, fmt.Sprintf("d%02d", i/2%limit), day)
			if isErr(err, errs.ErrNotFound) { // disbanded by another
				return nil
			}
			if err == nil {
				mu.Lock()
				disbanded++
				mu.Unlock()
			}
			return err
		}
		_, err := s.CreateGroup(ctx, newGroup(fmt.Sprintf("e%02d", i), store.GroupMeeting, ""), nil, day)
		if err == nil {
			mu.Lock()
			created++
			mu.Unlock()
		}
		return err
	})
	if created > disbanded {
		t.Fatalf("net increase over the limit: %d created after %d disbanded", created, disbanded)
	}
	// What is left of the day: exactly limit - (limit - disbanded + created).
	left := disbanded - created
	okMore := 0
	for i := 0; i < left+2; i++ {
		if _, err := s.CreateGroup(ctx, newGroup(fmt.Sprintf("f%02d", i), store.GroupMeeting, ""), nil, day); err == nil {
			okMore++
		}
	}
	if okMore != left {
		t.Fatalf("%d more groups of the day, want %d", okMore, left)
	}
}

func timeSec(n int) time.Duration { return time.Duration(n) * time.Second }
