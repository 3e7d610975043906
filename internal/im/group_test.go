package im

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupFixture is a Free Trial app with users o (owner), adm, m, x.
func groupFixture(t *testing.T) (*fixture, context.Context) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	if err := f.svc.ImportAccounts(ctx, f.app, []store.User{{UserID: "o"}, {UserID: "adm"}, {UserID: "m"}, {UserID: "x"}}); err != nil {
		t.Fatal(err)
	}
	return f, ctx
}

func (f *fixture) group(t *testing.T, spec GroupSpec) string {
	t.Helper()
	g, err := f.svc.CreateGroup(context.Background(), f.app, AdminActor, spec, false)
	if err != nil {
		t.Fatalf("CreateGroup %+v: %v", spec, err)
	}
	return g.GroupID
}

func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !errs.Is(err, code) {
		t.Fatalf("%s: %v, want %d", what, err, code)
	}
}

func (f *fixture) members(t *testing.T, id string) []string {
	t.Helper()
	ids, err := f.svc.store.GroupMemberIDs(context.Background(), f.app.SDKAppID, id)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// drainTips returns the group_tips notices delivered so far, by type.
func (f *fixture) drainTips() map[string][]string {
	out := map[string][]string{}
	for {
		select {
		case d := <-f.bus.got:
			switch {
			case d.Notice != nil && d.Notice.Op == NoticeGroupTips:
				tip := d.Notice.Fields.(GroupTip)
				out[tip.Type] = append(out[tip.Type], d.User)
			case d.Kind == bus.KindGroup && d.Entry != nil && d.Entry.Kind == store.KindGroupTips:
				var tip GroupTip // a tip stored in the group log reaches its recipients
				if err := json.Unmarshal(d.Entry.Body, &tip); err != nil {
					panic(err)
				}
				d.Recipients(func(u string) { out[tip.Type] = append(out[tip.Type], u) })
			}
		default:
			return out
		}
	}
}

func TestGroupJoinAndApply(t *testing.T) {
	f, ctx := groupFixture(t)
	meet := f.group(t, GroupSpec{Type: "Meeting", Name: "m", Owner: "o"})
	f.drainTips()
	joined, err := f.svc.JoinGroup(ctx, f.app, "m", meet, "")
	if err != nil || !joined {
		t.Fatalf("join a Meeting group: %v %v", joined, err)
	}
	if tips := f.drainTips(); !slices.Equal(tips[TipJoin], []string{"m", "o"}) {
		t.Fatalf("join tips to %v", tips)
	}
	_, err = f.svc.JoinGroup(ctx, f.app, "m", meet, "")
	wantCode(t, "join again", err, errs.GroupAlreadyMember)
	work := f.group(t, GroupSpec{Type: "Work", Name: "w", Owner: "o"})
	_, err = f.svc.JoinGroup(ctx, f.app, "m", work, "")
	wantCode(t, "join a Work group", err, errs.GroupNoPermission)
	_, err = f.svc.JoinGroup(ctx, f.app, "m", "nope", "")
	wantCode(t, "join no group", err, errs.GroupNotFound)

	// Public: an application the owner and admins decide.
	pub := f.group(t, GroupSpec{Type: "Public", Name: "p", Owner: "o", Members: []MemberSpec{{UserID: "adm", Role: "Admin"}, {UserID: "x"}}})
	joined, err = f.svc.JoinGroup(ctx, f.app, "m", pub, "let me in")
	if err != nil || joined {
		t.Fatalf("apply: %v %v", joined, err)
	}
	if ms := f.members(t, pub); slices.Contains(ms, "m") {
		t.Fatal("an application joined at once")
	}
	wantCode(t, "a member decides", f.svc.DecideApplication(ctx, f.app, Actor{User: "x"}, pub, "m", true), errs.GroupNoPermission)
	rs, err := f.svc.GroupApplications(ctx, f.app, Actor{User: "adm"}, pub)
	if err != nil || len(rs) != 1 || rs[0].Wording != "let me in" {
		t.Fatalf("applications %+v %v", rs, err)
	}
	wantCode(t, "the admin approves", f.svc.DecideApplication(ctx, f.app, Actor{User: "adm"}, pub, "m", true), 0)
	if ms := f.members(t, pub); !slices.Contains(ms, "m") {
		t.Fatal("approved applicant is not a member")
	}
	wantCode(t, "decide again", f.svc.DecideApplication(ctx, f.app, Actor{User: "o"}, pub, "m", true), errs.GroupRequestHandled)
	// A Public group open to all.
	open := f.group(t, GroupSpec{Type: "Public", Name: "open", Owner: "o", ApplyJoinOption: ApplyFree})
	if joined, err := f.svc.JoinGroup(ctx, f.app, "m", open, ""); err != nil || !joined {
		t.Fatalf("join an open Public group: %v %v", joined, err)
	}
	closed := f.group(t, GroupSpec{Type: "Public", Name: "closed", Owner: "o", ApplyJoinOption: ApplyDisable})
	_, err = f.svc.JoinGroup(ctx, f.app, "m", closed, "")
	wantCode(t, "apply to DisableApply", err, errs.GroupNoPermission)
	// A live room: free join, live rooms do not count against the user's groups.
	live := f.group(t, GroupSpec{Type: "AVChatRoom", Name: "l", Owner: "o"})
	if joined, err := f.svc.JoinGroup(ctx, f.app, "x", live, ""); err != nil || !joined {
		t.Fatalf("join a live room: %v %v", joined, err)
	}
}

func TestGroupInvitation(t *testing.T) {
	f, ctx := groupFixture(t)
	pub := f.group(t, GroupSpec{Type: "Public", Name: "p", Owner: "o", InviteJoinOption: ApplyNeedPermission})
	rs, err := f.svc.AddGroupMembers(ctx, f.app, Actor{User: "o"}, pub, []string{"m", "x"}, false)
	if err != nil || rs[0].Result != AddPending || rs[1].Result != AddPending {
		t.Fatalf("invite: %+v %v", rs, err)
	}
	wantCode(t, "accept", f.svc.DecideInvitation(ctx, f.app, "m", pub, true), 0)
	wantCode(t, "decline", f.svc.DecideInvitation(ctx, f.app, "x", pub, false), 0)
	wantCode(t, "accept again", f.svc.DecideInvitation(ctx, f.app, "x", pub, true), errs.GroupRequestHandled)
	if ms := f.members(t, pub); !slices.Equal(ms, []string{"m", "o"}) {
		t.Fatalf("members %v", ms)
	}
	// A non-member invites nobody.
	_, err = f.svc.AddGroupMembers(ctx, f.app, Actor{User: "x"}, pub, []string{"adm"}, false)
	wantCode(t, "a non-member invites", err, errs.GroupNoPermission)
}

func TestGroupQuitAndKick(t *testing.T) {
	f, ctx := groupFixture(t)
	pub := f.group(t, GroupSpec{Type: "Public", Name: "p", Owner: "o", Members: []MemberSpec{{UserID: "adm", Role: "Admin"}, {UserID: "m"}, {UserID: "x"}}})
	wantCode(t, "the owner quits a Public group", f.svc.QuitGroup(ctx, f.app, "o", pub), errs.GroupOwnerCannotQuit)
	wantCode(t, "a member kicks", f.svc.KickMembers(ctx, f.app, "m", pub, []string{"x"}, ""), errs.GroupNoPermission)
	f.svc.ModifyGroupMember(ctx, f.app, AdminActor, pub, "x", MemberChange{Role: ptr("Admin")})
	wantCode(t, "an admin kicks an admin", f.svc.KickMembers(ctx, f.app, "adm", pub, []string{"x"}, ""), errs.GroupNoPermission)
	wantCode(t, "an admin kicks the owner", f.svc.KickMembers(ctx, f.app, "adm", pub, []string{"o"}, ""), errs.GroupNoPermission)
	f.drainTips()
	wantCode(t, "an admin kicks a member", f.svc.KickMembers(ctx, f.app, "adm", pub, []string{"m"}, "spam"), 0)
	if tips := f.drainTips(); !slices.Contains(tips[TipKick], "m") || !slices.Contains(tips[TipKick], "o") {
		t.Fatalf("kick tips to %v", tips)
	}
	wantCode(t, "a member quits", f.svc.QuitGroup(ctx, f.app, "x", pub), 0)
	wantCode(t, "a non-member quits", f.svc.QuitGroup(ctx, f.app, "x", pub), errs.GroupNoPermission)
	wantCode(t, "a user sets a role", f.svc.ModifyGroupMember(ctx, f.app, Actor{User: "adm"}, pub, "adm", MemberChange{Role: ptr("Member")}), errs.GroupNoPermission)
	wantCode(t, "a member edits a Public group", f.svc.ModifyGroup(ctx, f.app, Actor{User: "x"}, pub, GroupChange{Name: ptr("n")}), errs.GroupNoPermission)
	wantCode(t, "the admin edits a Public group", f.svc.ModifyGroup(ctx, f.app, Actor{User: "adm"}, pub, GroupChange{Name: ptr("n")}), 0)

	meet := f.group(t, GroupSpec{Type: "Meeting", Name: "m", Owner: "o", Members: []MemberSpec{{UserID: "m"}}})
	wantCode(t, "the owner kicks in a Meeting group", f.svc.KickMembers(ctx, f.app, "o", meet, []string{"m"}, ""), errs.GroupNoPermission)

	// Work: any member edits; only the owner kicks; the owner may quit and the
	// ownership passes on; the last one out disbands it.
	work := f.group(t, GroupSpec{Type: "Work", Name: "w", Owner: "o", Members: []MemberSpec{{UserID: "m"}, {UserID: "x"}}})
	wantCode(t, "a member edits a Work group", f.svc.ModifyGroup(ctx, f.app, Actor{User: "m"}, work, GroupChange{Notification: ptr("hi")}), 0)
	wantCode(t, "a member kicks in a Work group", f.svc.KickMembers(ctx, f.app, "m", work, []string{"x"}, ""), errs.GroupNoPermission)
	wantCode(t, "the owner kicks in a Work group", f.svc.KickMembers(ctx, f.app, "o", work, []string{"x"}, ""), 0)
	wantCode(t, "the owner disbands a Work group", f.svc.DestroyGroup(ctx, f.app, Actor{User: "o"}, work), errs.GroupNoPermission)
	wantCode(t, "the owner quits a Work group", f.svc.QuitGroup(ctx, f.app, "o", work), 0)
	g, err := f.svc.store.GetGroup(ctx, f.app.SDKAppID, work)
	if err != nil || g.Owner != "m" {
		t.Fatalf("after the owner quit: %+v %v", g, err)
	}
	wantCode(t, "the last member quits", f.svc.QuitGroup(ctx, f.app, "m", work), 0)
	if _, err := f.svc.store.GetGroup(ctx, f.app.SDKAppID, work); err == nil {
		t.Fatal("a Work group left empty by its owner was not disbanded")
	}

	// Live rooms: only the owner edits; no one is added.
	live := f.group(t, GroupSpec{Type: "AVChatRoom", Name: "l", Owner: "o"})
	f.svc.JoinGroup(ctx, f.app, "m", live, "")
	wantCode(t, "a member edits a live room", f.svc.ModifyGroup(ctx, f.app, Actor{User: "m"}, live, GroupChange{Name: ptr("n")}), errs.GroupNoPermission)
	wantCode(t, "the owner edits a live room", f.svc.ModifyGroup(ctx, f.app, Actor{User: "o"}, live, GroupChange{Name: ptr("n")}), 0)
}

func TestGroupCommunityOnStandard(t *testing.T) {
	f := newFixture(t, catalog.Standard)
	_, err := f.svc.CreateGroup(context.Background(), f.app, AdminActor, GroupSpec{Type: "Community", Name: "c"}, false)
	wantCode(t, "a Community on Standard", err, errs.GroupFeatureNotInEdition)
}

func ptr[T any](v T) *T { return &v }
