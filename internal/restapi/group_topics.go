package restapi

import (
	"encoding/json"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// registerGroupExtras registers the community topic commands (this file) and
// the group attribute and counter commands (group_attrs.go), reference §3.7.
func registerGroupExtras(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	const topics = "million_group_open_http_svc/"
	add(topics+"create_topic", groupFamily, createTopic)
	add(topics+"get_topic", groupFamily, getTopic)
	add(topics+"modify_topic", groupFamily, modifyTopic)
	add(topics+"destroy_topic", groupFamily, destroyTopic)
	add("group_open_http_svc/import_topic", groupFamily, importTopic)
	const attrs = "group_open_attr_http_svc/"
	add(attrs+"get_group_attr", groupFamily, getGroupAttr)
	add(attrs+"modify_group_attr", groupFamily, modifyGroupAttr)
	add(attrs+"set_group_attr", groupFamily, setGroupAttr)
	add(attrs+"clear_group_attr", groupFamily, clearGroupAttr)
	const svc = "group_open_http_svc/"
	add(svc+"get_group_counter", groupFamily, getGroupCounter)
	add(svc+"update_group_counter", groupFamily, updateGroupCounter)
	add(svc+"delete_group_counter", groupFamily, deleteGroupCounter)
}

// topicReq is the body of create_topic and import_topic.
type topicReq struct {
	Type         string // import_topic: "" or "Community"
	GroupId      string
	TopicId      string
	TopicName    string
	From_Account string
	CustomString string
	FaceUrl      string
	Notification string
	Introduction string
	CreateTime   int64
}

func createOrImportTopic(c *call, imported bool) (any, error) {
	var req topicReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Type != "" && (!imported || req.Type != gate.GroupCommunity) {
		return nil, c.bad("Type %q: topics belong to a Community", req.Type)
	}
	t, err := c.im().CreateTopic(c.ctx, c.app, im.TopicSpec{GroupID: req.GroupId, TopicID: req.TopicId, Name: req.TopicName,
		Creator: req.From_Account, CustomString: req.CustomString, FaceURL: req.FaceUrl, Notification: req.Notification,
		Introduction: req.Introduction, CreateTime: req.CreateTime}, imported)
	if err != nil {
		return nil, err
	}
	return struct{ TopicId string }{t.TopicID}, nil
}

// million_group_open_http_svc/create_topic: {GroupId, TopicId, TopicName,
// From_Account, CustomString, FaceUrl, Notification, Introduction} -> TopicId.
func createTopic(c *call) (any, error) { return createOrImportTopic(c, false) }

// group_open_http_svc/import_topic: create_topic's fields and CreateTime -> TopicId.
func importTopic(c *call) (any, error) { return createOrImportTopic(c, true) }

// topicInfo renders a topic as get_topic's TopicInfo.
func topicInfo(t store.Topic) map[string]any {
	return map[string]any{"TopicId": t.TopicID, "TopicName": t.Name, "From_Account": t.Creator,
		"CustomString": t.CustomString, "FaceUrl": t.FaceURL, "Notification": t.Notification,
		"Introduction": t.Introduction, "MuteAllMember": onOff(t.MuteAllMember), "CreateTime": t.CreatedAt.Unix()}
}

// million_group_open_http_svc/get_topic: {GroupId, From_Account, TopicIdList
// (empty: all), ResponseFilter (accepted, not applied)} ->
// TopicAndSelfInfo[{TopicInfo, SelfInfo, ErrorCode, ErrorInfo}]. SelfInfo is
// From_Account's membership of the community ({} when not a member).
func getTopic(c *call) (any, error) {
	var req struct {
		GroupId        string
		From_Account   string
		TopicIdList    []string
		ResponseFilter json.RawMessage
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().GetTopics(c.ctx, c.app, req.GroupId, req.From_Account, req.TopicIdList)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		self := map[string]any{}
		if r.Self != nil {
			self = map[string]any{"Member_Account": r.Self.UserID, "Role": r.Self.Role, "JoinTime": r.Self.JoinTime.Unix(),
				"MsgFlag": msgFlagOrDefault(r.Self.MsgFlag), "ShutUpUntil": r.Self.MutedUntil}
		}
		m := map[string]any{"ErrorCode": 0, "ErrorInfo": "", "SelfInfo": self}
		if r.Err != nil {
			m["ErrorCode"], m["ErrorInfo"] = errs.CodeOf(r.Err), errInfo(r.Err)
			m["TopicInfo"] = map[string]any{"TopicId": r.TopicID}
		} else {
			m["TopicInfo"] = topicInfo(r.Topic)
		}
		out[i] = m
	}
	return struct{ TopicAndSelfInfo []map[string]any }{out}, nil
}

func msgFlagOrDefault(f string) string {
	if f == "" {
		return "AcceptAndNotify"
	}
	return f
}

// million_group_open_http_svc/modify_topic: {GroupId, TopicId, TopicName,
// CustomString, FaceUrl, Notification, Introduction, MuteAllMember
// ("On"/"Off")}; absent fields stay -> envelope.
func modifyTopic(c *call) (any, error) {
	var req struct {
		GroupId, TopicId                                                            string
		TopicName, CustomString, FaceUrl, Notification, Introduction, MuteAllMember *string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	_, err := c.im().ModifyTopic(c.ctx, c.app, req.GroupId, req.TopicId, im.TopicChange{Name: req.TopicName,
		CustomString: req.CustomString, FaceURL: req.FaceUrl, Notification: req.Notification, Introduction: req.Introduction,
		MuteAllMember: req.MuteAllMember})
	return nil, err
}

// million_group_open_http_svc/destroy_topic: {GroupId, TopicIdList} ->
// DestroyResultItem[{TopicId, ErrorCode, ErrorInfo}].
func destroyTopic(c *call) (any, error) {
	var req struct {
		GroupId     string
		TopicIdList []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ds, err := c.im().DestroyTopics(c.ctx, c.app, req.GroupId, req.TopicIdList)
	if err != nil {
		return nil, err
	}
	type item struct {
		TopicId   string
		ErrorCode int
		ErrorInfo string
	}
	out := make([]item, len(ds))
	for i, d := range ds {
		out[i] = item{TopicId: d.TopicID}
		if d.Err != nil {
			out[i].ErrorCode, out[i].ErrorInfo = errs.CodeOf(d.Err), errInfo(d.Err)
		}
	}
	return struct{ DestroyResultItem []item }{out}, nil
}
