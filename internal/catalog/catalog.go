// Package catalog is the one source of truth for what each edition allows: limits,
// feature flags and list prices. The gate and billing read it; nothing else hard-codes
// these numbers.
package catalog

import "fmt"

// Edition ids.
const (
	Trial    = "trial"
	Standard = "standard"
	Premium  = "premium"
)

// Unlimited marks a limit that does not apply.
const Unlimited = -1

// Feature names an edition-gated capability.
type Feature string

// Edition-gated features (product spec section 3).
const (
	PushToAll             Feature = "push_to_all"
	MultiDeviceSamePlat   Feature = "multi_device_same_platform"
	LocalSearch           Feature = "local_search"
	LiveRoomHistory       Feature = "live_room_history_for_new_members"
	Community             Feature = "community_groups"
	GroupReadReceipts     Feature = "group_read_receipts"
	TargetedGroupMessages Feature = "targeted_group_messages"
	LiveRoomOnlineMembers Feature = "live_room_online_members"
	BroadcastLiveRooms    Feature = "broadcast_to_live_rooms"
	UserStatus            Feature = "user_status"
	ConversationMarks     Feature = "conversation_marks"
	ConversationGroups    Feature = "conversation_groups"
	LiveRoomBan           Feature = "live_room_ban"
)

// Edition is one plan with its limits. Prices are integer US cents.
type Edition struct {
	ID                 string
	Name               string
	MonthlyPriceCents  int64 // 0 for the free trial
	FriendsPerUser     int
	GroupsPerUser      int
	MembersPerGroup    int
	GroupsPerApp       int // live rooms excluded; Unlimited when none
	LiveRooms          int // live rooms created, app-wide
	DailyNetGroups     int
	RetentionDays      int
	FreeMAU            int
	MAUCap             int   // hard cap on MAU (the trial); 0 when extra MAU is billed instead
	OverageMAUMicroUSD int64 // price of one MAU over FreeMAU, in millionths of a dollar; 0 when not sold
	Features           map[Feature]bool
}

// Has reports whether the edition includes feature f.
func (e Edition) Has(f Feature) bool { return e.Features[f] }

func allFeatures() map[Feature]bool {
	return map[Feature]bool{
		PushToAll: true, MultiDeviceSamePlat: true, LocalSearch: true, LiveRoomHistory: true,
		Community: true, GroupReadReceipts: true, TargetedGroupMessages: true,
		LiveRoomOnlineMembers: true, BroadcastLiveRooms: true, UserStatus: true,
		ConversationMarks: true, ConversationGroups: true, LiveRoomBan: true,
	}
}

func premiumFeatures() map[Feature]bool {
	f := allFeatures()
	delete(f, PushToAll) // only the free trial has push to all users
	return f
}

// editions is the edition table of product spec section 3.
var editions = map[string]Edition{
	Trial: {
		ID: Trial, Name: "Free Trial", MonthlyPriceCents: 0,
		FriendsPerUser: 20, GroupsPerUser: 50, MembersPerGroup: 20, GroupsPerApp: 100,
		LiveRooms: 50, DailyNetGroups: 100, RetentionDays: 7, FreeMAU: 100, MAUCap: 100,
		Features: allFeatures(),
	},
	Standard: {
		ID: Standard, Name: "Standard", MonthlyPriceCents: 39900,
		FriendsPerUser: 3000, GroupsPerUser: 500, MembersPerGroup: 200, GroupsPerApp: Unlimited,
		LiveRooms: 50, DailyNetGroups: 10000, RetentionDays: 7, FreeMAU: 10000,
		OverageMAUMicroUSD: 15000,
		Features:           map[Feature]bool{},
	},
	Premium: {
		ID: Premium, Name: "Premium", MonthlyPriceCents: 69900,
		FriendsPerUser: 3000, GroupsPerUser: 1000, MembersPerGroup: 2000, GroupsPerApp: Unlimited,
		LiveRooms: Unlimited, DailyNetGroups: 10000, RetentionDays: 30, FreeMAU: 10000,
		OverageMAUMicroUSD: 15000,
		Features:           premiumFeatures(),
	},
}

// Lookup returns the edition with the given id.
func Lookup(id string) (Edition, error) {
	e, ok := editions[id]
	if !ok {
		return Edition{}, fmt.Errorf("catalog: unknown edition %q", id)
	}
	return e, nil
}

// MustLookup is Lookup for ids known to be valid (stored by chatd itself).
func MustLookup(id string) Edition {
	e, err := Lookup(id)
	if err != nil {
		panic(err)
	}
	return e
}

// Editions lists all editions, cheapest first.
func Editions() []Edition {
	return []Edition{editions[Trial], editions[Standard], editions[Premium]}
}
