package catalog

import "testing"

// The edition matrix of product spec section 3, one row per edition.
func TestEditionLimits(t *testing.T) {
	tests := []struct {
		id                                                  string
		price                                               int64
		friends, groupsPerUser, members, groupsPerApp, live int
		daily, retention, freeMAU, mauCap                   int
		overage                                             int64
	}{
		{Trial, 0, 20, 50, 20, 100, 50, 100, 7, 100, 100, 0},
		{Standard, 39900, 3000, 500, 200, Unlimited, 50, 10000, 7, 10000, 0, 15000},
		{Premium, 69900, 3000, 1000, 2000, Unlimited, Unlimited, 10000, 30, 10000, 0, 15000},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e := MustLookup(tt.id)
			got := []int64{e.MonthlyPriceCents, int64(e.FriendsPerUser), int64(e.GroupsPerUser), int64(e.MembersPerGroup),
				int64(e.GroupsPerApp), int64(e.LiveRooms), int64(e.DailyNetGroups), int64(e.RetentionDays),
				int64(e.FreeMAU), int64(e.MAUCap), e.OverageMAUMicroUSD}
			want := []int64{tt.price, int64(tt.friends), int64(tt.groupsPerUser), int64(tt.members), int64(tt.groupsPerApp),
				int64(tt.live), int64(tt.daily), int64(tt.retention), int64(tt.freeMAU), int64(tt.mauCap), tt.overage}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("field %d: got %d, want %d", i, got[i], want[i])
				}
			}
		})
	}
}

func TestEditionFeatures(t *testing.T) {
	all := []Feature{PushToAll, MultiDeviceSamePlat, LocalSearch, LiveRoomHistory, Community, GroupReadReceipts,
		TargetedGroupMessages, LiveRoomOnlineMembers, BroadcastLiveRooms, UserStatus, ConversationMarks,
		ConversationGroups, LiveRoomBan}
	for _, f := range all {
		if !MustLookup(Trial).Has(f) {
			t.Errorf("trial lacks %s", f)
		}
		if MustLookup(Standard).Has(f) {
			t.Errorf("standard has %s", f)
		}
		if want := f != PushToAll; MustLookup(Premium).Has(f) != want {
			t.Errorf("premium %s = %v, want %v", f, !want, want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, err := Lookup("gold"); err == nil {
		t.Fatal("unknown edition accepted")
	}
}
