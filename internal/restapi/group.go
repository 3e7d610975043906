package restapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// groupFamily: the group service (reference §3.7) answers a body that is not
// JSON with 10011 and a field of the wrong type or a bad value with 10004.
var groupFamily = &family{name: "group", jsonCode: errs.GroupJSONParse, badCode: errs.GroupBadParams,
	typeCode: func(string) int { return errs.GroupBadParams }}

// registerGroups registers the group management commands (group.go,
// group_members.go).
func registerGroups(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	const svc = "group_open_http_svc/"
	add(svc+"get_appid_group_list", groupFamily, getAppIDGroupList)
	add(svc+"create_group", groupFamily, createGroup)
	add(svc+"import_group", groupFamily, importGroup)
	add(svc+"get_group_info", groupFamily, getGroupInfo)
	add(svc+"modify_group_base_info", groupFamily, modifyGroupBaseInfo)
	add(svc+"destroy_group", groupFamily, destroyGroup)
	add(svc+"change_group_owner", groupFamily, changeGroupOwner)
	add(svc+"add_group_member", groupFamily, addGroupMember)
	add(svc+"delete_group_member", groupFamily, deleteGroupMember)
	add(svc+"modify_group_member_info", groupFamily, modifyGroupMemberInfo)
	add(svc+"get_group_member_info", groupFamily, getGroupMemberInfo)
	add(svc+"get_specified_group_member_info", groupFamily, getSpecifiedGroupMemberInfo)
	add(svc+"get_joined_group_list", groupFamily, getJoinedGroupList)
	add(svc+"get_role_in_group", groupFamily, getRoleInGroup)
	add(svc+"forbid_send_msg", groupFamily, forbidSendMsg)
	add(svc+"get_group_muted_account", groupFamily, getGroupMutedAccount)
	add(svc+"get_group_shutted_uin", groupFamily, getGroupShuttedUin)
	add(svc+"import_group_member", groupFamily, importGroupMember)
}

// flag is a 0/1 field the reference sends as a number (some SDKs send a bool).
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "1", "true":
		*f = true
	case "0", "false", "null":
		*f = false
	default:
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: reflect.TypeOf(false)}
	}
	return nil
}

// groupSpecReq is the body of create_group and import_group.
type groupSpecReq struct {
	Owner_Account    string
	Type             string
	GroupId          string
	Name             string
	Introduction     string
	Notification     string
	FaceUrl          string
	MaxMemberCount   int
	ApplyJoinOption  string
	InviteJoinOption string
	AppDefinedData   []im.KeyValue
	MemberList       []struct {
		Member_Account       string
		Role                 string
		AppMemberDefinedData []im.KeyValue
		JoinTime             int64
	}
	SupportTopic flag
	CreateTime   int64
}

func (r groupSpecReq) spec() im.GroupSpec {
	s := im.GroupSpec{Owner: r.Owner_Account, Type: r.Type, GroupID: r.GroupId, Name: r.Name, Introduction: r.Introduction,
		Notification: r.Notification, FaceURL: r.FaceUrl, MaxMemberCount: r.MaxMemberCount, ApplyJoinOption: r.ApplyJoinOption,
		InviteJoinOption: r.InviteJoinOption, AppDefinedData: r.AppDefinedData, SupportTopic: bool(r.SupportTopic), CreateTime: r.CreateTime}
	for _, m := range r.MemberList {
		s.Members = append(s.Members, im.MemberSpec{UserID: m.Member_Account, Role: m.Role, AppMemberDefinedData: m.AppMemberDefinedData, JoinTime: m.JoinTime})
	}
	return s
}

func createOrImport(c *call, imported bool) (any, error) {
	var req groupSpecReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !imported && req.CreateTime != 0 {
		return nil, c.bad("CreateTime is for import_group")
	}
	g, err := c.im().CreateGroup(c.ctx, c.app, im.AdminActor, req.spec(), imported)
	if err != nil {
		return nil, err
	}
	return struct {
		GroupId string
		Type    string
	}{g.GroupID, g.Type}, nil
}

// group_open_http_svc/create_group -> GroupId.
func createGroup(c *call) (any, error) { return createOrImport(c, false) }

// group_open_http_svc/import_group (create_group's fields and CreateTime) -> GroupId.
func importGroup(c *call) (any, error) { return createOrImport(c, true) }

// group_open_http_svc/get_appid_group_list: {Limit, Next, GroupType} ->
// TotalCount, GroupIdList[{GroupId}], Next (0 at the end).
func getAppIDGroupList(c *call) (any, error) {
	var req struct {
		Limit     int
		Next      int64
		GroupType string
		Type      string // the dobyte SDK's name for GroupType
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupType == "" {
		req.GroupType = req.Type
	}
	ids, total, next, err := c.im().AppGroups(c.ctx, c.app, req.GroupType, req.Next, req.Limit)
	if err != nil {
		return nil, err
	}
	type item struct{ GroupId string }
	list := make([]item, len(ids))
	for i, id := range ids {
		list[i] = item{id}
	}
	return struct {
		TotalCount  int
		GroupIdList []item
		Next        int64
	}{total, list, next}, nil
}

// groupFilter is get_group_info's ResponseFilter (and get_joined_group_list's).
type groupFilter struct {
	GroupBaseInfoFilter              *[]string
	MemberInfoFilter                 *[]string
	AppDefinedDataFilter_Group       *[]string
	AppDefinedDataFilter_GroupMember *[]string
	SelfInfoFilter                   *[]string
}

// wants reports whether field is selected by list (nil: every field).
func wants(list *[]string, field string) bool {
	if list == nil {
		return true
	}
	for _, f := range *list {
		if f == field {
			return true
		}
	}
	return false
}

// appData renders custom data as [{Key, Value}], only the keys of filter
// (nil: all), sorted by key.
func appData(m map[string]string, filter *[]string) []im.KeyValue {
	out := []im.KeyValue{}
	for _, k := range sortedKeys(m) {
		if filter == nil || wants(filter, k) {
			out = append(out, im.KeyValue{Key: k, Value: m[k]})
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "On"
	}
	return "Off"
}

// baseInfo renders the group's base fields selected by filter.
func baseInfo(g store.Group, nextSeq, lastMsg int64, f groupFilter, out map[string]any) {
	fields := map[string]any{
		"Type": g.Type, "Name": g.Name, "Introduction": g.Introduction, "Notification": g.Notification,
		"FaceUrl": g.FaceURL, "Owner_Account": g.Owner, "CreateTime": g.CreatedAt.Unix(), "InfoSeq": g.InfoSeq,
		"LastInfoTime": unixOrZero(g.LastInfoTime.Unix(), g.LastInfoTime.IsZero()), "LastMsgTime": lastMsg,
		"NextMsgSeq": nextSeq, "MemberNum": g.MemberNum, "MaxMemberNum": g.MaxMemberNum,
		"ApplyJoinOption": g.ApplyJoinOption, "InviteJoinOption": g.InviteJoinOption,
		"MuteAllMember": onOff(g.MuteAllMember), "ShutUpAllMember": onOff(g.MuteAllMember), "SupportTopic": boolInt(g.SupportTopic),
	}
	for k, v := range fields {
		if wants(f.GroupBaseInfoFilter, k) {
			out[k] = v
		}
	}
	if f.GroupBaseInfoFilter == nil || f.AppDefinedDataFilter_Group != nil {
		out["AppDefinedData"] = appData(g.AppDefinedData, f.AppDefinedDataFilter_Group)
	}
}

func unixOrZero(v int64, zero bool) int64 {
	if zero {
		return 0
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// memberInfo renders a member's fields selected by fields (nil: all) and its
// custom data by keys.
func memberInfo(m store.GroupMember, fields, keys *[]string) map[string]any {
	all := map[string]any{
		"Role": m.Role, "JoinTime": unixOrZero(m.JoinTime.Unix(), m.JoinTime.IsZero()), "MsgSeq": m.ReadSeq,
		"MsgFlag": m.MsgFlag, "LastSendMsgTime": m.LastSendTime, "ShutUpUntil": m.MutedUntil, "NameCard": m.NameCard,
	}
	out := map[string]any{"Member_Account": m.UserID}
	for k, v := range all {
		if wants(fields, k) {
			out[k] = v
		}
	}
	if fields == nil || keys != nil {
		out["AppMemberDefinedData"] = appData(m.AppMemberDefinedData, keys)
	}
	return out
}

// group_open_http_svc/get_group_info: {GroupIdList (≤ 50), ResponseFilter} ->
// GroupInfo[{GroupId, ErrorCode, ErrorInfo, the selected fields, MemberList}].
// An unknown group has its own ErrorCode 10010 inside a successful reply.
func getGroupInfo(c *call) (any, error) {
	var req struct {
		GroupIdList    []string
		ResponseFilter *groupFilter
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var f groupFilter
	if req.ResponseFilter != nil {
		f = *req.ResponseFilter
	}
	withMembers := req.ResponseFilter == nil || f.MemberInfoFilter != nil || f.AppDefinedDataFilter_GroupMember != nil
	infos, err := c.im().GroupInfos(c.ctx, c.app, im.AdminActor, req.GroupIdList, withMembers)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(infos))
	for i, gi := range infos {
		m := map[string]any{"GroupId": gi.GroupID, "ErrorCode": 0, "ErrorInfo": ""}
		if gi.Err != nil {
			m["ErrorCode"], m["ErrorInfo"] = errs.CodeOf(gi.Err), errInfo(gi.Err)
			out[i] = m
			continue
		}
		baseInfo(gi.Group, gi.NextMsgSeq, gi.LastMsgTime, f, m)
		if withMembers {
			list := make([]map[string]any, len(gi.Members))
			for j, gm := range gi.Members {
				list[j] = memberInfo(gm, f.MemberInfoFilter, f.AppDefinedDataFilter_GroupMember)
			}
			m["MemberList"] = list
		}
		out[i] = m
	}
	return struct{ GroupInfo []map[string]any }{out}, nil
}

// group_open_http_svc/modify_group_base_info: {GroupId, Name, Introduction,
// Notification, FaceUrl, MaxMemberNum, ApplyJoinOption, InviteJoinOption,
// MuteAllMember "On"/"Off", AppDefinedData[{Key, Value}] (an empty Value
// deletes the key)} -> envelope.
func modifyGroupBaseInfo(c *call) (any, error) {
	var req struct {
		GroupId          string
		Name             *string
		Introduction     *string
		Notification     *string
		FaceUrl          *string
		MaxMemberNum     *int
		ApplyJoinOption  *string
		InviteJoinOption *string
		MuteAllMember    *string
		ShutUpAllMember  *string // the dobyte SDK's name for MuteAllMember
		AppDefinedData   []im.KeyValue
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.MuteAllMember == nil {
		req.MuteAllMember = req.ShutUpAllMember
	}
	return nil, c.im().ModifyGroup(c.ctx, c.app, im.AdminActor, req.GroupId, im.GroupChange{Name: req.Name,
		Introduction: req.Introduction, Notification: req.Notification, FaceURL: req.FaceUrl, MaxMemberNum: req.MaxMemberNum,
		ApplyJoinOption: req.ApplyJoinOption, InviteJoinOption: req.InviteJoinOption, MuteAllMember: req.MuteAllMember,
		AppDefinedData: req.AppDefinedData})
}

// group_open_http_svc/destroy_group: {GroupId} -> envelope.
func destroyGroup(c *call) (any, error) {
	var req struct{ GroupId string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().DestroyGroup(c.ctx, c.app, im.AdminActor, req.GroupId)
}

// group_open_http_svc/change_group_owner: {GroupId, NewOwner_Account} -> envelope.
func changeGroupOwner(c *call) (any, error) {
	var req struct {
		GroupId          string
		NewOwner_Account string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().ChangeGroupOwner(c.ctx, c.app, im.AdminActor, req.GroupId, req.NewOwner_Account)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
