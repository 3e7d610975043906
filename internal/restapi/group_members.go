package restapi

import (
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

type memberResult struct {
	Member_Account string
	Result         int
}

func memberResults(rs []im.MemberResult) []memberResult {
	out := make([]memberResult, len(rs))
	for i, r := range rs {
		out[i] = memberResult{r.UserID, r.Result}
	}
	return out
}

// group_open_http_svc/add_group_member: {GroupId, Silence, MemberList
// [{Member_Account}] (≤ 300)} -> MemberList[{Member_Account, Result}] (0 failed,
// 1 added, 2 already a member, 3 invited, waiting for consent).
func addGroupMember(c *call) (any, error) {
	var req struct {
		GroupId    string
		Silence    flag
		MemberList []struct{ Member_Account string }
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	users := make([]string, len(req.MemberList))
	for i, m := range req.MemberList {
		users[i] = m.Member_Account
	}
	rs, err := c.im().AddGroupMembers(c.ctx, c.app, im.AdminActor, req.GroupId, users, bool(req.Silence))
	if err != nil {
		return nil, err
	}
	return struct{ MemberList []memberResult }{memberResults(rs)}, nil
}

// group_open_http_svc/delete_group_member: {GroupId, Silence, Reason,
// MemberToDel_Account[]} -> envelope.
func deleteGroupMember(c *call) (any, error) {
	var req struct {
		GroupId             string
		Silence             flag
		Reason              string
		MemberToDel_Account []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().DeleteGroupMembers(c.ctx, c.app, im.AdminActor, req.GroupId, req.MemberToDel_Account, bool(req.Silence), req.Reason)
}

// group_open_http_svc/modify_group_member_info: {GroupId, Member_Account,
// Role, MsgFlag, NameCard, MuteTime, AppMemberDefinedData[{Key, Value}]} -> envelope.
func modifyGroupMemberInfo(c *call) (any, error) {
	var req struct {
		GroupId              string
		Member_Account       string
		Role                 *string
		MsgFlag              *string
		NameCard             *string
		MuteTime             *int64
		ShutUpUntil          *int64 // the dobyte SDK: the end of the mute, a Unix second
		AppMemberDefinedData []im.KeyValue
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().ModifyGroupMember(c.ctx, c.app, im.AdminActor, req.GroupId, req.Member_Account, im.MemberChange{
		Role: req.Role, NameCard: req.NameCard, MsgFlag: req.MsgFlag, MuteTime: req.MuteTime, MuteUntil: req.ShutUpUntil,
		AppMemberDefinedData: req.AppMemberDefinedData})
}

// group_open_http_svc/get_group_member_info: {GroupId, MemberInfoFilter,
// MemberRoleFilter, AppDefinedDataFilter_GroupMember, Limit (≤ 200), Offset,
// Next (a Community's cursor)} -> MemberNum (every page), MemberList, Next.
func getGroupMemberInfo(c *call) (any, error) {
	var req struct {
		GroupId                          string
		MemberInfoFilter                 *[]string
		MemberRoleFilter                 []string
		AppDefinedDataFilter_GroupMember *[]string
		Limit                            int
		Offset                           int
		Next                             string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ms, total, next, err := c.im().GroupMembersPage(c.ctx, c.app, im.AdminActor, req.GroupId,
		im.MemberQuery{Roles: req.MemberRoleFilter, Limit: req.Limit, Offset: req.Offset, Next: req.Next})
	if err != nil {
		return nil, err
	}
	list := make([]map[string]any, len(ms))
	for i, m := range ms {
		list[i] = memberInfo(m, req.MemberInfoFilter, req.AppDefinedDataFilter_GroupMember)
	}
	return struct {
		MemberNum  int
		MemberList []map[string]any
		Next       string
	}{total, list, next}, nil
}

// group_open_http_svc/get_specified_group_member_info: {GroupId,
// Member_List_Account[] (≤ 50), MemberInfoFilter, AppDefinedDataFilter_GroupMember}
// -> MemberList (members only).
func getSpecifiedGroupMemberInfo(c *call) (any, error) {
	var req struct {
		GroupId                          string
		Member_List_Account              []string
		MemberInfoFilter                 *[]string
		AppDefinedDataFilter_GroupMember *[]string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ms, err := c.im().SpecifiedMembers(c.ctx, c.app, im.AdminActor, req.GroupId, req.Member_List_Account)
	if err != nil {
		return nil, err
	}
	list := make([]map[string]any, len(ms))
	for i, m := range ms {
		list[i] = memberInfo(m, req.MemberInfoFilter, req.AppDefinedDataFilter_GroupMember)
	}
	return struct{ MemberList []map[string]any }{list}, nil
}

// group_open_http_svc/get_joined_group_list: {Member_Account, Limit (≤ 5000),
// Offset, GroupType, WithHugeGroups, WithNoActiveGroups, ResponseFilter
// {GroupBaseInfoFilter, SelfInfoFilter}} -> TotalCount (before Limit/Offset),
// GroupIdList[{GroupId, selected fields, SelfInfo}].
func getJoinedGroupList(c *call) (any, error) {
	var req struct {
		Member_Account     string
		Limit              int
		Offset             int
		GroupType          string
		Type               string // the dobyte SDK's name for GroupType
		WithHugeGroups     flag
		WithNoActiveGroups flag
		ResponseFilter     *groupFilter
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupType == "" {
		req.GroupType = req.Type
	}
	gs, total, err := c.im().JoinedGroups(c.ctx, c.app, req.Member_Account, im.JoinedQuery{Type: req.GroupType,
		Limit: req.Limit, Offset: req.Offset, WithHuge: bool(req.WithHugeGroups), WithNoActive: bool(req.WithNoActiveGroups)})
	if err != nil {
		return nil, err
	}
	list := make([]map[string]any, len(gs))
	for i, jg := range gs {
		m := map[string]any{"GroupId": jg.Group.GroupID}
		if f := req.ResponseFilter; f != nil {
			if f.GroupBaseInfoFilter != nil {
				baseInfo(jg.Group, jg.NextMsgSeq, jg.LastMsgTime, groupFilter{GroupBaseInfoFilter: f.GroupBaseInfoFilter,
					AppDefinedDataFilter_Group: f.AppDefinedDataFilter_Group}, m)
			}
			if f.SelfInfoFilter != nil {
				self := memberInfo(jg.Member, f.SelfInfoFilter, &[]string{})
				delete(self, "Member_Account")
				delete(self, "AppMemberDefinedData")
				if wants(f.SelfInfoFilter, "UnreadMsgNum") {
					self["UnreadMsgNum"] = 0
				}
				m["SelfInfo"] = self
			}
		}
		list[i] = m
	}
	return struct {
		TotalCount  int
		GroupIdList []map[string]any
	}{total, list}, nil
}

// group_open_http_svc/get_role_in_group: {GroupId, User_Account[]} ->
// UserIdList[{Member_Account, Role}] ("NotMember" for non-members).
func getRoleInGroup(c *call) (any, error) {
	var req struct {
		GroupId      string
		User_Account []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().RolesInGroup(c.ctx, c.app, req.GroupId, req.User_Account)
	if err != nil {
		return nil, err
	}
	type item struct {
		Member_Account string
		Role           string
	}
	out := make([]item, len(rs))
	for i, r := range rs {
		out[i] = item{r.UserID, r.Role}
	}
	return struct{ UserIdList []item }{out}, nil
}

// group_open_http_svc/forbid_send_msg: {GroupId, Members_Account[], MuteTime
// (seconds; 0 lifts; 4294967295 for ever), TopicId (refused: 10004)} -> envelope.
func forbidSendMsg(c *call) (any, error) {
	var req struct {
		GroupId         string
		Members_Account []string
		MuteTime        *int64
		ShutUpTime      *int64 // the dobyte SDK's name for MuteTime
		TopicId         string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := c.im().RefuseTopicMutes(c.ctx, c.app, req.GroupId, req.TopicId); err != nil {
		return nil, err
	}
	if req.MuteTime == nil {
		req.MuteTime = req.ShutUpTime
	}
	if req.MuteTime == nil {
		return nil, c.bad("MuteTime is required")
	}
	return nil, c.im().ForbidSend(c.ctx, c.app, im.AdminActor, req.GroupId, req.Members_Account, *req.MuteTime)
}

func mutedList(c *call) (string, []store.GroupMember, error) {
	var req struct{ GroupId, TopicId string }
	if err := c.decode(&req); err != nil {
		return "", nil, err
	}
	if err := c.im().RefuseTopicMutes(c.ctx, c.app, req.GroupId, req.TopicId); err != nil {
		return "", nil, err
	}
	ms, err := c.im().MutedMembers(c.ctx, c.app, req.GroupId)
	return req.GroupId, ms, err
}

// group_open_http_svc/get_group_muted_account: {GroupId, TopicId (refused:
// 10004)} -> GroupId,
// MutedAccountList[{Member_Account, MutedUntil}].
func getGroupMutedAccount(c *call) (any, error) {
	id, ms, err := mutedList(c)
	if err != nil {
		return nil, err
	}
	type item struct {
		Member_Account string
		MutedUntil     int64
	}
	out := make([]item, len(ms))
	for i, m := range ms {
		out[i] = item{m.UserID, m.MutedUntil}
	}
	return struct {
		GroupId          string
		MutedAccountList []item
	}{id, out}, nil
}

// group_open_http_svc/get_group_shutted_uin (the old name): {GroupId} ->
// ShuttedUinList[{Member_Account, ShuttedUntil}].
func getGroupShuttedUin(c *call) (any, error) {
	_, ms, err := mutedList(c)
	if err != nil {
		return nil, err
	}
	type item struct {
		Member_Account string
		ShuttedUntil   int64
	}
	out := make([]item, len(ms))
	for i, m := range ms {
		out[i] = item{m.UserID, m.MutedUntil}
	}
	return struct{ ShuttedUinList []item }{out}, nil
}

// group_open_http_svc/import_group_member: {GroupId, MemberList[{Member_Account,
// Role, JoinTime, UnreadMsgNum}] (≤ 300)} -> MemberList[{Member_Account, Result}]
// (0 failed, 1 imported, 2 already a member).
func importGroupMember(c *call) (any, error) {
	var req struct {
		GroupId    string
		MemberList []struct {
			Member_Account string
			Role           string
			JoinTime       int64
			UnreadMsgNum   int64
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ms := make([]im.MemberSpec, len(req.MemberList))
	for i, m := range req.MemberList {
		ms[i] = im.MemberSpec{UserID: m.Member_Account, Role: m.Role, JoinTime: m.JoinTime, UnreadMsgNum: m.UnreadMsgNum}
	}
	rs, err := c.im().ImportGroupMembers(c.ctx, c.app, req.GroupId, ms)
	if err != nil {
		return nil, err
	}
	return struct{ MemberList []memberResult }{memberResults(rs)}, nil
}
