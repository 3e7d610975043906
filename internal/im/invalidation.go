package im

import (
	"slices"

	"github.com/chatd/chatd/internal/bus"
)

// Caches across nodes. Every node caches some state of the store for the send
// path (userCache, mutes, blocklists, app settings, group types, member
// lists). A change made here updates this node's caches, and then, once it
// committed, is announced on the bus (bus.Invalidate) so that the other
// nodes drop their copies (onInvalidate); the TTLs of the caches bound the
// staleness left when an invalidation is lost. A bus that may have missed
// some tells InvAll, which drops every cache. Remote member-list changes
// always forget the group (the next reader loads it): changes of one user
// made on two nodes may arrive in either order, and a forget is right in
// both.

// onInvalidate applies another node's invalidation to this node's caches.
// It takes only the caches' own locks: it never blocks on the store.
func (s *Service) onInvalidate(inv bus.Invalidation) {
	now := s.clock.Now()
	switch inv.Kind {
	case bus.InvUser:
		k := cacheKey{inv.App, inv.Key}
		s.users.forget(k)
		s.mutes.changed(k, nil, now)
		s.blockList.changed(k, nil, now)
	case bus.InvMute:
		s.mutes.changed(cacheKey{inv.App, inv.Key}, nil, now)
	case bus.InvBlocklist:
		s.blockList.changed(cacheKey{inv.App, inv.Key}, nil, now)
	case bus.InvApp:
		s.settings.changed(inv.App, nil, now)
	case bus.InvGroup:
		k := groupKey{inv.App, inv.Key}
		s.groupTypes.forget(k, now)
		s.groupMembers.forget(k)
	case bus.InvGroupMembers:
		s.groupMembers.forget(groupKey{inv.App, inv.Key})
	case bus.InvAll:
		s.users.clear()
		s.mutes.clear()
		s.blockList.clear()
		s.settings.clear()
		s.groupTypes.clear()
		s.groupMembers.clear()
	}
	// InvFriends, InvProfile: nothing here caches friend lists or profiles.
}

// invalidate announces committed changes to the other nodes.
func (s *Service) invalidate(invs ...bus.Invalidation) {
	if len(invs) > 0 {
		s.bus.Invalidate(invs...)
	}
}

// endMembers applies a committed membership change to the member-list cache
// (memberCache.end) and announces it: added joined, removed left; a change
// in doubt on this node is announced as a reload.
func (s *Service) endMembers(ch *memberChange, added, removed []string) {
	s.endMembersTold(ch, added, removed, added)
}

// endMembersTold is endMembers where the cache is given more members than
// the change added (those found present), and told are the ones it added.
func (s *Service) endMembersTold(ch *memberChange, members, removed, told []string) {
	exact := s.groupMembers.end(ch, members, removed)
	if exact && len(told)+len(removed) == 0 {
		return
	}
	s.invalidate(bus.GroupMembersChanged(ch.k.app, ch.k.group, told, removed, !exact))
}

// abortMembers closes a membership change whose outcome is unknown or that
// failed (memberCache.abort): the group is read again here and elsewhere.
func (s *Service) abortMembers(ch *memberChange) {
	s.groupMembers.abort(ch)
	s.invalidate(bus.GroupMembersChanged(ch.k.app, ch.k.group, nil, nil, true))
}

// membersAdded announces members added outside memberCache.begin/end (a new
// group's first members, imported members): the group is forgotten here.
func (s *Service) membersAdded(app int64, groupID string, added []string) {
	s.groupMembers.forget(groupKey{app, groupID})
	if len(added) == 0 {
		return
	}
	added = slices.Compact(slices.Sorted(slices.Values(added)))
	s.invalidate(bus.GroupMembersChanged(app, groupID, added, nil, false))
}

// groupChanged announces that the group was created, changed or destroyed.
func (s *Service) groupChanged(app int64, groupID string) {
	s.groupTypes.forget(groupKey{app, groupID}, s.clock.Now())
	s.invalidate(bus.Invalidation{Kind: bus.InvGroup, App: app, Key: groupID})
}

// userInvalidation is the invalidation of a change of kind (bus.InvUser,
// InvMute, InvBlocklist, ...) of user.
func userInvalidation(kind string, app int64, user string) bus.Invalidation {
	return bus.Invalidation{Kind: kind, App: app, Key: user}
}
