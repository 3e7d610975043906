package im

import (
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// The permission rules of groups (reference rest-api.md §4, the table of group
// types), in one place. The app's admin (the REST API) may do everything; a
// user acting from a device follows the table.

// Actor is who asks: the app's admin (Admin) or the user User.
type Actor struct {
	Admin bool
	User  string
}

// AdminActor is the REST API's actor.
var AdminActor = Actor{Admin: true}

// Group actions checked by groupAllow.
const (
	actEditInfo    = "edit the group's profile"
	actInvite      = "add members"
	actKick        = "remove members"
	actSetRole     = "change roles"
	actMute        = "mute members"
	actDisband     = "disband the group"
	actChangeOwner = "transfer the ownership"
	actSetMember   = "change another member's card"
	actApprove     = "decide applications"
)

func noPermission(format string, args ...any) error {
	return errs.New(errs.GroupNoPermission, format, args...)
}

func isManager(role string) bool { return role == store.RoleOwner || role == store.RoleAdmin }

// groupAllow refuses (10007) actor doing act in g, me being the actor's
// membership (nil when not a member) and target the member acted on (nil when
// none).
func groupAllow(g store.Group, a Actor, me *store.GroupMember, act string, target *store.GroupMember) error {
	if act == actInvite && g.Type == gate.GroupAVChatRoom { // not even the admin: users join live rooms themselves
		return noPermission("members of a live room cannot be added; users join it themselves")
	}
	if a.Admin {
		return nil
	}
	if me == nil {
		return noPermission("%q is not a member of group %q", a.User, g.GroupID)
	}
	role := me.Role
	switch act {
	case actEditInfo:
		switch g.Type {
		case gate.GroupWork:
			return nil // any member
		case gate.GroupAVChatRoom:
			if role == store.RoleOwner {
				return nil
			}
		default:
			if isManager(role) {
				return nil
			}
		}
		return noPermission("a %s may not %s of a %s group", role, act, g.Type)
	case actInvite:
		return nil // every member of the other types may invite
	case actKick:
		switch g.Type {
		case gate.GroupMeeting, gate.GroupAVChatRoom:
			return noPermission("a %s group does not remove members (mute them instead)", g.Type)
		case gate.GroupWork:
			if role != store.RoleOwner {
				return noPermission("only the owner removes members of a Work group")
			}
		default:
			if !isManager(role) {
				return noPermission("only the owner and admins remove members")
			}
		}
		if target != nil && (target.Role == store.RoleOwner || (target.Role == store.RoleAdmin && role != store.RoleOwner)) {
			return noPermission("a %s may not remove the %s %q", role, target.Role, target.UserID)
		}
		return nil
	case actMute:
		if !isManager(role) {
			return noPermission("only the owner and admins mute members")
		}
		if target != nil && (target.Role == store.RoleOwner || (target.Role == store.RoleAdmin && role != store.RoleOwner)) {
			return noPermission("a %s may not mute the %s %q", role, target.Role, target.UserID)
		}
		return nil
	case actSetRole, actDisband, actChangeOwner:
		if role == store.RoleOwner && !(act == actDisband && g.Type == gate.GroupWork) {
			return nil
		}
		if act == actDisband && g.Type == gate.GroupWork {
			return noPermission("a Work group is disbanded by the app's admin only")
		}
		return noPermission("only the owner may %s", act)
	case actSetMember:
		if target != nil && target.UserID == a.User {
			return nil
		}
		if isManager(role) && target != nil && target.Role != store.RoleOwner && (role == store.RoleOwner || target.Role == store.RoleMember) {
			return nil
		}
		return noPermission("a %s may not change this member", role)
	case actApprove:
		if isManager(role) {
			return nil
		}
		return noPermission("only the owner and admins decide applications")
	}
	return noPermission("%s is not allowed", act)
}

// ownerMayQuit reports whether the owner of a group of type t may quit (§4:
// Work only; ownership then passes on, or the group is disbanded when empty).
func ownerMayQuit(t string) bool { return t == gate.GroupWork }

// hasAdmins reports whether groups of type t have admins (not Work; live rooms
// have them through modify_admin only).
func hasAdmins(t string) bool { return t != gate.GroupWork && t != gate.GroupAVChatRoom }

// freeJoin reports whether users join groups of type t by themselves, without
// approval: Meeting, Community, AVChatRoom; a Public group whose
// ApplyJoinOption is FreeAccess too.
func freeJoin(g store.Group) bool {
	switch g.Type {
	case gate.GroupMeeting, gate.GroupCommunity, gate.GroupAVChatRoom:
		return g.ApplyJoinOption != ApplyDisable
	case gate.GroupPublic:
		return g.ApplyJoinOption == ApplyFree
	}
	return false
}

// inviteNeedsConsent reports whether an invitation to g waits for the
// invitee's consent (add_group_member Result 3): the group's
// InviteJoinOption is NeedPermission, in groups other than Work (whose
// invitations need no consent, §4).
func inviteNeedsConsent(g store.Group) bool {
	return g.Type != gate.GroupWork && g.InviteJoinOption == ApplyNeedPermission
}
