package gate

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func TestGroupQuotaPerEdition(t *testing.T) {
	g := &Gate{}
	u := catalog.Unlimited
	for _, tc := range []struct {
		edition string
		want    GroupQuota
	}{
		{catalog.Trial, GroupQuota{MembersPerGroup: 20, GroupsPerUser: 50, GroupsPerApp: 100, LiveRooms: 50, DailyNet: 100}},
		{catalog.Standard, GroupQuota{MembersPerGroup: 200, GroupsPerUser: 500, GroupsPerApp: u, LiveRooms: 50, DailyNet: 10000}},
		{catalog.Premium, GroupQuota{MembersPerGroup: 2000, GroupsPerUser: 1000, GroupsPerApp: u, LiveRooms: u, DailyNet: 10000}},
	} {
		if got := g.GroupQuota(store.App{Edition: tc.edition}); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.edition, got, tc.want)
		}
	}
}

func TestGroupFeaturesPerEdition(t *testing.T) {
	g := &Gate{}
	for f := range groupFeatureNames {
		for _, ed := range []string{catalog.Trial, catalog.Standard, catalog.Premium} {
			err := g.GroupFeature(store.App{Edition: ed, Status: store.StatusActive}, f)
			if want := ed != catalog.Standard; (err == nil) != want {
				t.Fatalf("%s on %s: %v", f, ed, err)
			}
			if err != nil {
				if errs.CodeOf(err) != errs.GroupFeatureNotInEdition || !strings.Contains(errs.Message(err), "Free Trial and Premium") ||
					!strings.Contains(errs.Message(err), groupFeatureNames[f]) {
					t.Fatalf("%s: %v", f, err)
				}
			}
		}
	}
	if err := g.GroupFeature(store.App{Edition: catalog.Premium, Status: store.StatusSuspended}, catalog.Community); err == nil {
		t.Fatal("a suspended app may use a group feature")
	}
}

func TestGroupLimitCodes(t *testing.T) {
	g := &Gate{}
	app := store.App{Edition: catalog.Trial}
	for limit, code := range map[string]int{LimitMembers: 10038, LimitJoined: 10037, LimitLiveRooms: 10036,
		LimitGroups: errs.GroupAppLimit, LimitDaily: errs.GroupDailyLimit} {
		if c := errs.CodeOf(g.GroupLimitErr(app, limit)); c != code {
			t.Errorf("%s: code %d, want %d", limit, c, code)
		}
	}
	if MemberBound(GroupAVChatRoom) || MemberBound(GroupCommunity) || !MemberBound(GroupWork) {
		t.Fatal("members-per-group applies to the wrong types")
	}
}
