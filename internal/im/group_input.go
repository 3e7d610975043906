package im

import (
	"crypto/rand"
	"strings"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Validation of the group commands' input (reference rest-api.md §3.7): every
// field from outside is checked here, and a bad one fails the call with 10004
// (10015 for a malformed GroupId) before anything changes.

// Bounds of group fields, in bytes (or items).
const (
	MaxGroupIDBytes        = 48
	MaxGroupNameBytes      = 100
	MaxIntroductionBytes   = 400
	MaxNotificationBytes   = 400
	MaxGroupFaceURLBytes   = 500
	MaxNameCardBytes       = 50
	MaxAppDataKeys         = 16   // AppDefinedData / AppMemberDefinedData keys of one group or member
	MaxAppDataKeyBytes     = 32   // one key
	MaxAppDataValueBytes   = 4096 // one value
	MaxGroupInfoIDs        = 50   // get_group_info GroupIdList
	MaxAddMembers          = 300  // add_group_member, import_group_member, create_group's MemberList
	MaxDeleteMembers       = 500  // delete_group_member
	MaxSpecifiedMembers    = 50   // get_specified_group_member_info
	MaxRoleQueryAccounts   = 500  // get_role_in_group
	MaxForbidAccounts      = 500  // forbid_send_msg
	MaxMemberPage          = 200  // get_group_member_info Limit
	MaxJoinedPage          = 5000 // get_joined_group_list Limit
	MaxAppGroupPage        = 10000
	DefaultAppGroupPage    = 10000
	DefaultMemberPage      = 200
	MaxApplicationWording  = 300
	MaxDeleteReasonBytes   = 300
	generatedGroupIDRandom = 10
)

// Join and invitation options.
const (
	ApplyFree           = "FreeAccess"
	ApplyNeedPermission = "NeedPermission"
	ApplyDisable        = "DisableApply"
	InviteDisable       = "DisableInvite"
)

// MsgFlag values.
var msgFlags = map[string]bool{"AcceptAndNotify": true, "AcceptNotNotify": true, "Discard": true}

// groupPrefix starts every generated GroupId; "@TGS#_" starts those of
// communities with topics.
const (
	groupPrefix      = "@TGS#"
	topicGroupPrefix = "@TGS#_"
)

// maxMembersOfType is the largest MaxMemberNum of a group type (§4; 0: no bound).
var maxMembersOfType = map[string]int{
	gate.GroupWork: 200, gate.GroupPublic: 2000, gate.GroupMeeting: 6000,
	gate.GroupCommunity: 100000, gate.GroupAVChatRoom: 0,
}

func groupBad(format string, args ...any) error {
	return errs.New(errs.GroupBadParams, format, args...)
}

// GroupType normalises a REST Type: the old names Private and ChatRoom are
// Work and Meeting; anything else unknown is 10004.
func GroupType(t string) (string, error) {
	switch t {
	case "Private":
		return gate.GroupWork, nil
	case "ChatRoom":
		return gate.GroupMeeting, nil
	case gate.GroupWork, gate.GroupPublic, gate.GroupMeeting, gate.GroupAVChatRoom, gate.GroupCommunity:
		return t, nil
	}
	return "", groupBad("Type %q is not a group type (Work, Public, Meeting, AVChatRoom, Community)", t)
}

// checkGroupID checks a GroupId naming an existing group: 1..48 bytes of
// printable ASCII (10015 otherwise).
func checkGroupID(id string) error {
	if id == "" {
		return errs.New(errs.GroupIDInvalid, "GroupId is empty")
	}
	if len(id) > MaxGroupIDBytes {
		return errs.New(errs.GroupIDInvalid, "GroupId %.50q… is longer than %d bytes", id, MaxGroupIDBytes)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] > 0x7e {
			return errs.New(errs.GroupIDInvalid, "GroupId %.50q has a character outside printable ASCII", id)
		}
	}
	return nil
}

// checkCustomGroupID checks a GroupId chosen at creation: checkGroupID, and
// not starting with "@TGS#" unless it is a Community's starting with "@TGS#_";
// a Community with topics must start with "@TGS#_".
func checkCustomGroupID(id, typ string, topics bool) error {
	if err := checkGroupID(id); err != nil {
		return err
	}
	if strings.Contains(id, TopicSep) { // a topic's id: the two name spaces must not meet
		return errs.New(errs.GroupIDInvalid, "a GroupId may not contain %q (topic ids do)", TopicSep)
	}
	if typ == gate.GroupCommunity && topics && !strings.HasPrefix(id, topicGroupPrefix) {
		return errs.New(errs.GroupIDInvalid, "the GroupId of a Community with topics must start with %q", topicGroupPrefix)
	}
	if strings.HasPrefix(id, groupPrefix) && !(typ == gate.GroupCommunity && strings.HasPrefix(id, topicGroupPrefix)) {
		return errs.New(errs.GroupIDInvalid, "a custom GroupId may not start with %q", groupPrefix)
	}
	return nil
}

// newGroupID generates a GroupId: "@TGS#" and 10 random letters and digits
// ("@TGS#_@TGS#..." for a Community with topics).
func newGroupID(topics bool) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, generatedGroupIDRandom)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	if topics {
		return topicGroupPrefix + groupPrefix + string(b)
	}
	return groupPrefix + string(b)
}

func checkGroupText(field, v string, max int) error {
	if err := input.Text(v); err != nil {
		return groupBad("%s: %v", field, err)
	}
	if len(v) > max {
		return groupBad("%s is longer than %d bytes", field, max)
	}
	return nil
}

// checkGroupUser checks a member account's id (10004 when malformed).
func checkGroupUser(field, id string) error {
	if err := ValidUserID(id); err != nil {
		return groupBad("%s: %s", field, errs.Message(err))
	}
	return nil
}

// KeyValue is one AppDefinedData / AppMemberDefinedData item.
type KeyValue struct {
	Key   string
	Value string
}

// checkAppData validates custom data items; an empty Value (a deletion) is
// allowed when deletions is set. It returns them as a map.
func checkAppData(field string, items []KeyValue, deletions bool) (map[string]string, error) {
	if len(items) > MaxAppDataKeys {
		return nil, groupBad("%s has %d items; at most %d", field, len(items), MaxAppDataKeys)
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		if it.Key == "" {
			return nil, groupBad("%s: an empty Key", field)
		}
		if err := checkGroupText(field+" Key", it.Key, MaxAppDataKeyBytes); err != nil {
			return nil, err
		}
		if err := checkGroupText(field+" Value", it.Value, MaxAppDataValueBytes); err != nil {
			return nil, err
		}
		if it.Value == "" && !deletions {
			return nil, groupBad("%s: key %q has an empty Value", field, it.Key)
		}
		out[it.Key] = it.Value
	}
	return out, nil
}

// checkJoinOption validates ApplyJoinOption ("" keeps the default).
func checkJoinOption(v string) error {
	switch v {
	case "", ApplyFree, ApplyNeedPermission, ApplyDisable:
		return nil
	}
	return groupBad("ApplyJoinOption %q must be FreeAccess, NeedPermission or DisableApply", v)
}

// checkInviteOption validates InviteJoinOption ("" keeps the default).
func checkInviteOption(v string) error {
	switch v {
	case "", ApplyFree, ApplyNeedPermission, InviteDisable:
		return nil
	}
	return groupBad("InviteJoinOption %q must be FreeAccess, NeedPermission or DisableInvite", v)
}

// checkMaxMembers validates a MaxMemberNum for type t (1..the type's bound).
func checkMaxMembers(t string, n int) error {
	max := maxMembersOfType[t]
	if n < 1 || (max > 0 && n > max) {
		if max == 0 {
			return groupBad("MaxMemberCount %d must be positive", n)
		}
		return groupBad("MaxMemberCount %d must be 1 to %d for a %s group", n, max, t)
	}
	return nil
}

// checkRole validates a member Role of a request ("" = Member).
func checkRole(t, role string, ownerAllowed bool) (string, error) {
	switch role {
	case "", store.RoleMember:
		return store.RoleMember, nil
	case store.RoleAdmin:
		if !hasAdmins(t) {
			return "", groupBad("a %s group has no admins", t)
		}
		return role, nil
	case store.RoleOwner:
		if ownerAllowed {
			return role, nil
		}
	}
	return "", groupBad("Role %q must be Admin or Member", role)
}

// checkMuteTime validates a MuteTime: 0 lifts, 4294967295 for ever, else seconds.
func checkMuteTime(sec int64) error {
	if sec < 0 || sec > store.MutedForever {
		return groupBad("MuteTime %d must be 0 to 4294967295 seconds", sec)
	}
	return nil
}

// mutedUntil turns a MuteTime into the stored MutedUntil at now (Unix s).
func mutedUntil(sec, now int64) int64 {
	switch {
	case sec == 0:
		return 0
	case sec == store.MutedForever:
		return store.MutedForever
	}
	if u := now + sec; u < store.MutedForever {
		return u
	}
	return store.MutedForever
}

// uniqueUsers checks ids (field names them in errors), refuses more than max
// (10005) and drops repeats, keeping the first.
func uniqueUsers(field string, ids []string, max int) ([]string, error) {
	if len(ids) > max {
		return nil, errs.New(errs.GroupTooManyAccounts, "%s has %d accounts; at most %d", field, len(ids), max)
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := checkGroupUser(field, id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
