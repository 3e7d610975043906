package bus

// Invalidation kinds: what another node changed, so that a node drops (or
// updates) its cached copy. The store stays the truth; a node that misses an
// invalidation is told InvAll after it reconnects and drops everything.
const (
	// InvUser: the account Key was deleted (or imported again): its existence
	// is read again. Its sessions end by a KindKick delivery, not by this.
	InvUser = "user"
	// InvApp: the app's status, edition, add-ons or settings changed (Key
	// empty): its cached copy is read again, and its sessions end at once on
	// every node when it no longer serves (suspended, deleted, repossessed).
	InvApp = "app"
	// InvMute: the one-to-one mute (setnospeaking) of user Key changed.
	InvMute = "mute"
	// InvBlocklist: the blocklist of user Key changed.
	InvBlocklist = "blocklist"
	// InvFriends: the friend list of user Key changed (friend-only checks).
	InvFriends = "friends"
	// InvProfile: the profile of user Key changed.
	InvProfile = "profile"
	// InvGroup: group Key was created, changed type or settings, or was
	// destroyed.
	InvGroup = "group"
	// InvGroupMembers: the membership of group Key changed: Added joined and
	// Removed left, or, with Reload, a change this node cannot describe (the
	// member list is read again). Removed users lose the group's deliveries.
	InvGroupMembers = "group_members"
	// InvAll: anything cached may be stale (only the bus sends it, to its own
	// node, after it reconnected to the other nodes).
	InvAll = "all"
)

// MaxInvalidationUsers bounds Added and Removed of one invalidation: a change
// of more users is sent as Reload.
const MaxInvalidationUsers = 1000

// Invalidation is one change another node may have cached.
type Invalidation struct {
	Kind    string   `json:"k"`
	App     int64    `json:"a,omitempty"`
	Key     string   `json:"key,omitempty"`
	Added   []string `json:"add,omitempty"`
	Removed []string `json:"rm,omitempty"`
	Reload  bool     `json:"reload,omitempty"`
}

// GroupMembersChanged is the invalidation of a membership change: Added and
// Removed when they are known and few, else Reload.
func GroupMembersChanged(app int64, group string, added, removed []string, reload bool) Invalidation {
	if reload || len(added)+len(removed) > MaxInvalidationUsers {
		return Invalidation{Kind: InvGroupMembers, App: app, Key: group, Reload: true}
	}
	return Invalidation{Kind: InvGroupMembers, App: app, Key: group, Added: added, Removed: removed}
}
