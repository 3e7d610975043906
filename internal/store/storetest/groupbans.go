package storetest

import (
	"reflect"
	"testing"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupBanTests are the behaviours of store.GroupBans.
var groupBanTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"GroupBans", testGroupBans},
	{"GroupBansGoWithGroupAndUser", testGroupBansGo},
}

func banIDs(bs []store.GroupBan) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.UserID)
	}
	return out
}

func testGroupBans(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b", "c", "d")
	mustCreate(t, s, newGroup("live", store.GroupAVChatRoom, "o"), noQuota, "a", "b")
	q := noQuota
	q.At = t0
	until := t0.Unix() + 100
	r, err := s.BanGroupMembers(ctx, app1, "live", []store.GroupBan{{UserID: "a", Until: until, Description: "spam"},
		{UserID: "c", Until: until + 50}}, q)
	if err != nil || !reflect.DeepEqual(r.Removed, []string{"a"}) || r.Disbanded {
		t.Fatalf("ban = %+v, %v; want a removed", r, err)
	}
	if ids, _ := s.GroupMemberIDs(ctx, app1, "live"); !reflect.DeepEqual(ids, []string{"b", "o"}) {
		t.Fatalf("members after the ban = %v", ids)
	}
	if g, _ := s.GetGroup(ctx, app1, "live"); g.MemberNum != 2 {
		t.Fatalf("MemberNum after the ban = %d", g.MemberNum)
	}
	got, err := s.GroupBansOf(ctx, app1, "live", []string{"a", "b", "c"}, t0.Unix())
	want := map[string]store.GroupBan{"a": {UserID: "a", Until: until, Description: "spam"}, "c": {UserID: "c", Until: until + 50}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GroupBansOf = %+v, %v; want %+v", got, err, want)
	}
	// A ban ends at Until.
	if got, _ := s.GroupBansOf(ctx, app1, "live", []string{"a", "c"}, until); len(got) != 1 || got["c"].Until != until+50 {
		t.Fatalf("bans at a's end = %+v", got)
	}
	// Pages by UserID.
	if _, err := s.BanGroupMembers(ctx, app1, "live", []store.GroupBan{{UserID: "d", Until: until}, {UserID: "b", Until: until}}, q); err != nil {
		t.Fatal(err)
	}
	p1, more, err := s.ListGroupBans(ctx, app1, "live", t0.Unix(), 0, 3)
	if err != nil || !more || !reflect.DeepEqual(banIDs(p1), []string{"a", "b", "c"}) {
		t.Fatalf("page 1 = %v %v %v", banIDs(p1), more, err)
	}
	p2, more, err := s.ListGroupBans(ctx, app1, "live", t0.Unix(), 3, 3)
	if err != nil || more || !reflect.DeepEqual(banIDs(p2), []string{"d"}) {
		t.Fatalf("page 2 = %v %v %v", banIDs(p2), more, err)
	}
	if p, _, _ := s.ListGroupBans(ctx, app1, "live", until, 0, 10); !reflect.DeepEqual(banIDs(p), []string{"c"}) {
		t.Fatalf("bans once most ended = %v", banIDs(p))
	}
	// A new ban replaces the old one.
	if _, err := s.BanGroupMembers(ctx, app1, "live", []store.GroupBan{{UserID: "a", Until: until + 500, Description: "again"}}, q); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GroupBansOf(ctx, app1, "live", []string{"a"}, t0.Unix()); got["a"].Until != until+500 || got["a"].Description != "again" {
		t.Fatalf("replaced ban = %+v", got)
	}
	must(t, s.UnbanGroupMembers(ctx, app1, "live", []string{"a", "b", "nobody"}))
	if p, _, _ := s.ListGroupBans(ctx, app1, "live", t0.Unix(), 0, 10); !reflect.DeepEqual(banIDs(p), []string{"c", "d"}) {
		t.Fatalf("bans after unban = %v", banIDs(p))
	}
	if _, err := s.BanGroupMembers(ctx, app1, "nogroup", []store.GroupBan{{UserID: "a", Until: until}}, q); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("ban in a missing group: %v", err)
	}
	// Other apps and groups see nothing.
	if got, _ := s.GroupBansOf(ctx, app2, "live", []string{"c"}, t0.Unix()); len(got) != 0 {
		t.Fatalf("another app sees bans: %v", got)
	}
}

func testGroupBansGo(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("live", store.GroupAVChatRoom, "o"), noQuota)
	q := noQuota
	q.At = t0
	until := t0.Unix() + 100
	if _, err := s.BanGroupMembers(ctx, app1, "live", []store.GroupBan{{UserID: "a", Until: until}, {UserID: "b", Until: until}}, q); err != nil {
		t.Fatal(err)
	}
	// A deleted user's ban goes (a re-imported user of that name is not banned).
	must(t, s.DeleteUsers(ctx, app1, []string{"b"}))
	if got, _ := s.GroupBansOf(ctx, app1, "live", []string{"a", "b"}, t0.Unix()); len(got) != 1 {
		t.Fatalf("bans after b's deletion = %v", got)
	}
	// A disbanded group's bans go: a new group of the same ID bans no one.
	if _, err := s.DeleteGroup(ctx, app1, "live", noQuota); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newGroup("live", store.GroupAVChatRoom, "o"), noQuota)
	if got, _ := s.GroupBansOf(ctx, app1, "live", []string{"a"}, t0.Unix()); len(got) != 0 {
		t.Fatalf("bans survive the disband: %v", got)
	}
}
