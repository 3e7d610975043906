package restapi

import (
	"slices"
	"strings"
)

// Commands lists every "service/command" path the REST API serves, legacy names
// included, sorted; tests walk it so that a new command is covered by them.
func Commands() []string {
	m := registry()
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// registry maps "service/command" to its handler. Adding a command is adding an
// entry here; a legacy name is one more key for the same *command.
func registry() map[string]*command {
	m := map[string]*command{}
	add := func(path string, fam *family, run func(*call) (any, error), legacy ...string) {
		c := &command{path: path, fam: fam, run: run}
		for _, p := range append([]string{path}, legacy...) {
			if _, dup := m[p]; dup {
				panic("restapi: command registered twice: " + p)
			}
			m[p] = c
		}
	}

	// Accounts (docs/rest-api.md, reference §3.1).
	add("im_open_login_svc/account_import", accountFamily, accountImport)
	add("im_open_login_svc/multiaccount_import", accountFamily, multiAccountImport)
	add("im_open_login_svc/account_delete", accountFamily, accountDelete)
	add("im_open_login_svc/account_check", accountFamily, accountCheck)
	add("im_open_login_svc/kick", accountFamily, kick)
	add("openim/query_online_status", accountFamily, queryOnlineStatus, "openim/querystate")

	// One-to-one messages (§3.2).
	add("openim/sendmsg", messageFamily, sendMsg)
	add("openim/batchsendmsg", messageFamily, batchSendMsg)
	add("openim/importmsg", messageFamily, importMsg)
	add("openim/admin_getroammsg", messageFamily, adminGetRoamMsg)
	add("openim/admin_msgwithdraw", messageFamily, adminMsgWithdraw)
	add("openim/admin_set_msg_read", messageFamily, adminSetMsgRead)
	add("openim/get_c2c_unread_msg_num", messageFamily, getC2CUnreadMsgNum)

	// Push to all users (§3.3; push.go).
	registerPush(add)

	// Profiles (§3.4).
	add("profile/portrait_set", profileFamily, portraitSet)
	add("profile/portrait_get", profileFamily, portraitGet)

	// Global mute (§3.8).
	add("openconfigsvr/setnospeaking", configFamily, setNoSpeaking)
	add("openconfigsvr/getnospeaking", configFamily, getNoSpeaking)
	add("openconfigsvr/getappinfo", configFamily, getAppInfo) // appinfo.go
	// Relationship chain (§3.5; sns.go).
	addSNS(add)
	// Recent contacts and conversation groups (§3.6, conversations.go).
	registerConversations(add)
	// Groups (§3.7; group.go, group_members.go).
	registerGroups(add)
	// Topics, group attributes and counters (§3.7; group_topics.go, group_attrs.go).
	registerGroupExtras(add)
	registerGroupMsgs(add) // group messages (group_msgs.go)
	registerLiveRooms(add) // live rooms (§3.7; liveroom.go)
	// Read receipts of group messages (§3.7; group_receipts.go).
	registerGroupReceipts(add)
	return m
}

// referenceCommands lists every endpoint of the reference's REST API (reference
// notes §3, including legacy names), so that a command chatd does not serve yet is
// told apart from a mistyped path. A service listed with "*" has commands not
// enumerated in the notes. docs/rest-api.md has one row per entry (checked by a test).
var referenceCommands = []string{
	// §3.1 accounts
	"im_open_login_svc/account_import", "im_open_login_svc/multiaccount_import",
	"im_open_login_svc/account_delete", "im_open_login_svc/account_check",
	"im_open_login_svc/kick", "openim/query_online_status", "openim/querystate",
	// §3.2 one-to-one messages
	"openim/sendmsg", "openim/batchsendmsg", "openim/importmsg", "openim/admin_getroammsg",
	"openim/admin_msgwithdraw", "openim/admin_set_msg_read", "openim/get_c2c_unread_msg_num",
	"openim/modify_c2c_msg", "openim/delete_c2c_msg_ramble", "openim/c2c_msg_read_receipt",
	"openim_msg_ext_http_svc/get_key_values", "openim_msg_ext_http_svc/set_key_values",
	// §3.3 push to all users
	"all_member_push/im_push", "all_member_push/im_set_attr_name", "all_member_push/im_get_attr_name",
	"all_member_push/im_get_attr", "all_member_push/im_set_attr", "all_member_push/im_remove_attr",
	"all_member_push/im_get_tag", "all_member_push/im_add_tag", "all_member_push/im_remove_tag",
	"all_member_push/im_remove_all_tags",
	// §3.4 profile
	"profile/portrait_set", "profile/portrait_get",
	// §3.5 relationship chain
	"sns/friend_add", "sns/friend_import", "sns/friend_update", "sns/friend_delete",
	"sns/friend_delete_all", "sns/friend_check", "sns/friend_get", "sns/friend_get_list",
	"sns/black_list_add", "sns/black_list_delete", "sns/black_list_get", "sns/black_list_check",
	"sns/group_add", "sns/group_delete", "sns/group_get",
	"follow/follow_add", "follow/follow_delete", "follow/follow_get", "follow/follow_check",
	"follow/follow_get_info",
	// §3.6 recent contacts
	"recentcontact/get_list", "recentcontact/delete", "recentcontact/create_contact_group",
	"recentcontact/update_contact_group", "recentcontact/del_contact_group",
	"recentcontact/get_contact_group", "recentcontact/search_contact_group", "recentcontact/mark_contact",
	// §3.7 groups
	"group_open_http_svc/get_appid_group_list", "group_open_http_svc/create_group",
	"group_open_http_svc/get_group_info", "group_open_http_svc/get_group_member_info",
	"group_open_http_svc/get_specified_group_member_info", "group_open_http_svc/modify_group_base_info",
	"group_open_http_svc/add_group_member", "group_open_http_svc/delete_group_member",
	"group_open_http_svc/modify_group_member_info", "group_open_http_svc/destroy_group",
	"group_open_http_svc/get_joined_group_list", "group_open_http_svc/get_role_in_group",
	"group_open_http_svc/forbid_send_msg", "group_open_http_svc/get_group_muted_account",
	"group_open_http_svc/get_group_shutted_uin", "group_open_http_svc/send_group_msg",
	"group_open_http_svc/send_group_system_notification", "group_open_http_svc/change_group_owner",
	"group_open_http_svc/group_msg_recall", "group_open_http_svc/import_group",
	"group_open_http_svc/import_group_msg", "group_open_http_svc/import_group_member",
	"group_open_http_svc/set_unread_msg_num", "group_open_http_svc/delete_group_msg_by_sender",
	"group_open_http_svc/group_msg_get_simple", "group_open_http_svc/get_online_member_num",
	"group_open_avchatroom_http_svc/get_members", "group_open_avchatroom_http_svc/modify_user_info",
	"group_open_avchatroom_http_svc/modify_admin", "group_open_avchatroom_http_svc/get_admin_list",
	"group_open_avchatroom_http_svc/check_members",
	"group_open_http_svc/ban_group_member", "group_open_http_svc/unban_group_member",
	"group_open_http_svc/get_group_ban_member", "group_open_http_svc/send_broadcast_msg",
	"group_open_http_svc/get_group_counter", "group_open_http_svc/update_group_counter",
	"group_open_http_svc/delete_group_counter",
	"group_open_attr_http_svc/get_group_attr", "group_open_attr_http_svc/modify_group_attr",
	"group_open_attr_http_svc/clear_group_attr", "group_open_attr_http_svc/set_group_attr",
	"group_open_http_svc/group_msg_receipt", "group_open_http_svc/get_group_msg_receipt",
	"group_open_http_svc/get_group_msg_receipt_detail", "openim/modify_group_msg",
	"openim_msg_ext_http_svc/group_get_key_values", "openim_msg_ext_http_svc/group_set_key_values",
	"group_open_http_svc/clear_group_msg",
	"million_group_open_http_svc/create_topic", "million_group_open_http_svc/get_topic",
	"million_group_open_http_svc/modify_topic", "million_group_open_http_svc/destroy_topic",
	"group_open_http_svc/import_topic",
	// §3.8 global mute, operations, misc
	"openconfigsvr/setnospeaking", "openconfigsvr/getnospeaking", "openconfigsvr/getappinfo",
	"open_msg_svc/get_history", "ConfigSvc/GetIPList",
	"im_cos_msg/forbid_illegal_object", "im_cos_msg/allow_banned_object", "im_cos_msg/get_cos_sig",
	"im_msg_audit_mgr/*", "im_msg_audit/content_moderation", "official_account_open_http_svc/*",
	"openim_robot_http_svc/create_robot", "openim_robot_http_svc/delete_robot",
	"openim_robot_http_svc/get_all_robots",
}

var referenceSet = func() map[string]bool {
	m := make(map[string]bool, len(referenceCommands))
	for _, p := range referenceCommands {
		m[p] = true
	}
	return m
}()

// isReferenceCommand reports whether path is an endpoint of the reference API.
func isReferenceCommand(path string) bool {
	if referenceSet[path] {
		return true
	}
	svc, _, _ := strings.Cut(path, "/")
	return referenceSet[svc+"/*"]
}
