package restapi

import (
	"encoding/json"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
)

// pushFamily: the all_member_push commands (reference §3.3). Malformed JSON is
// 90001; a MsgRandom of the wrong type 90005, MsgLifeTime 90026, MsgBody 90007;
// any other field of the wrong type 90001.
var pushFamily = &family{name: "push", jsonCode: errs.MsgJSON, badCode: errs.InvalidParameters,
	typeCode: func(field string) int {
		switch firstSegment(field) {
		case "MsgRandom":
			return errs.PushMsgRandom
		case "MsgLifeTime":
			return errs.PushLifeTime
		case "MsgBody":
			return errs.MsgBodyNotArray
		}
		return errs.MsgJSON
	}}

// pushError is one entry of a push command's ErrorList.
type pushError struct {
	To_Account string
	ErrorCode  int
	ErrorInfo  string
}

// errorList is the answer of a batch command: the users that failed, if any.
func errorList(failed []im.PushItemError) any {
	if len(failed) == 0 {
		return nil
	}
	out := make([]pushError, len(failed))
	for i, f := range failed {
		out[i] = pushError{f.User, errs.CodeOf(f.Err), errInfo(f.Err)}
	}
	return struct{ ErrorList []pushError }{out}
}

// all_member_push/im_push: {From_Account, Condition{TagsAnd, TagsOr, AttrsAnd,
// AttrsOr}, MsgRandom, MsgBody, MsgLifeTime, OfflinePushInfo} -> {TaskId}.
// MsgLifeTime absent or 0: online devices only (the reference's default).
func imPush(c *call) (any, error) {
	var req struct {
		From_Account string
		Condition    *struct {
			TagsAnd, TagsOr   []string
			AttrsAnd, AttrsOr map[string]json.RawMessage
		}
		MsgRandom       *uint32
		MsgBody         json.RawMessage
		MsgLifeTime     *int64
		OfflinePushInfo json.RawMessage // accepted; chatd has no vendor push channels
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.MsgRandom == nil {
		return nil, errs.New(errs.PushMsgRandom, "MsgRandom is required (an integer)")
	}
	pr := im.PushRequest{From: req.From_Account, Random: *req.MsgRandom, Body: req.MsgBody}
	if req.MsgLifeTime != nil {
		lt := *req.MsgLifeTime
		if lt < 0 || lt > int64(im.MaxPushLifetime/time.Second) {
			return nil, errs.New(errs.PushLifeTime, "MsgLifeTime must be 0 to %d seconds", int64(im.MaxPushLifetime/time.Second))
		}
		pr.Lifetime = time.Duration(lt) * time.Second
	}
	if cd := req.Condition; cd != nil {
		var err error
		pr.TagsAnd, pr.TagsOr = cd.TagsAnd, cd.TagsOr
		if pr.AttrsAnd, err = attrValues(cd.AttrsAnd); err != nil {
			return nil, err
		}
		if pr.AttrsOr, err = attrValues(cd.AttrsOr); err != nil {
			return nil, err
		}
	}
	id, err := c.im().Push(c.ctx, c.app, pr)
	if err != nil {
		return nil, err
	}
	return struct{ TaskId string }{id}, nil
}

// attrValues takes attribute values, which must be JSON strings (90033).
func attrValues(in map[string]json.RawMessage) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for k, raw := range in {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, errs.New(errs.PushBadAttr, "the value of attribute %.60q must be a string", k)
		}
		out[k] = v
	}
	return out, nil
}

// all_member_push/im_set_attr_name: {AttrNames: {"0": name, ...}} -> envelope.
func imSetAttrName(c *call) (any, error) {
	var req struct{ AttrNames map[string]string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().SetPushAttrNames(c.ctx, c.app, req.AttrNames)
}

// all_member_push/im_get_attr_name: {} -> {AttrNames: {"0": name, ...}}.
func imGetAttrName(c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	names, err := c.im().PushAttrNames(c.ctx, c.app)
	if err != nil {
		return nil, err
	}
	return struct{ AttrNames map[string]string }{names}, nil
}

// userAttrsItem is {To_Account, Attrs} of im_set_attr (Attrs an object) and
// im_remove_attr (Attrs an array of names).
type userAttrsItem[T any] struct {
	To_Account string
	Attrs      T
}

// all_member_push/im_set_attr: {UserAttrs: [{To_Account, Attrs: {name: value}}]}
// (the Go SDK sends the list as "Attrs") -> envelope, ErrorList of failed users.
func imSetAttr(c *call) (any, error) {
	var req struct {
		UserAttrs []userAttrsItem[map[string]json.RawMessage]
		Attrs     []userAttrsItem[map[string]json.RawMessage]
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list := req.UserAttrs
	if list == nil {
		list = req.Attrs
	}
	items := make([]im.UserPushAttrs, len(list))
	for i, it := range list {
		attrs, err := attrValues(it.Attrs)
		if err != nil {
			return nil, err
		}
		items[i] = im.UserPushAttrs{User: it.To_Account, Attrs: attrs}
	}
	failed, err := c.im().SetUserPushAttrs(c.ctx, c.app, items)
	if err != nil {
		return nil, err
	}
	return errorList(failed), nil
}

// all_member_push/im_remove_attr: {UserAttrs: [{To_Account, Attrs: [name]}]} (or
// "Attrs" as the list) -> envelope, ErrorList of failed users.
func imRemoveAttr(c *call) (any, error) {
	var req struct {
		UserAttrs []userAttrsItem[[]string]
		Attrs     []userAttrsItem[[]string]
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list := req.UserAttrs
	if list == nil {
		list = req.Attrs
	}
	users := make([]string, len(list))
	names := make([][]string, len(list))
	for i, it := range list {
		users[i], names[i] = it.To_Account, it.Attrs
	}
	failed, err := c.im().RemoveUserPushAttrs(c.ctx, c.app, users, names)
	if err != nil {
		return nil, err
	}
	return errorList(failed), nil
}

// all_member_push/im_get_attr: {To_Account: [...]} -> {UserAttrs: [{To_Account,
// Attrs}]}, the same list also as "Attrs" (what the Go SDK reads).
func imGetAttr(c *call) (any, error) {
	var req struct{ To_Account []string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	got, err := c.im().GetUserPushAttrs(c.ctx, c.app, req.To_Account)
	if err != nil {
		return nil, err
	}
	list := make([]userAttrsItem[map[string]string], len(got))
	for i, g := range got {
		list[i] = userAttrsItem[map[string]string]{g.User, g.Attrs}
	}
	return struct {
		UserAttrs []userAttrsItem[map[string]string]
		Attrs     []userAttrsItem[map[string]string]
	}{list, list}, nil
}

// userTagsItem is {To_Account, Tags}.
type userTagsItem struct {
	To_Account string
	Tags       []string
}

// tagsRequest reads {UserTags: [{To_Account, Tags}]} (the Go SDK: "Tags").
func tagsRequest(c *call) ([]im.UserPushTags, error) {
	var req struct {
		UserTags []userTagsItem
		Tags     []userTagsItem
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list := req.UserTags
	if list == nil {
		list = req.Tags
	}
	items := make([]im.UserPushTags, len(list))
	for i, it := range list {
		items[i] = im.UserPushTags{User: it.To_Account, Tags: it.Tags}
	}
	return items, nil
}

// all_member_push/im_add_tag: {UserTags: [{To_Account, Tags}]} -> envelope, ErrorList.
func imAddTag(c *call) (any, error) {
	items, err := tagsRequest(c)
	if err != nil {
		return nil, err
	}
	failed, err := c.im().AddUserPushTags(c.ctx, c.app, items)
	if err != nil {
		return nil, err
	}
	return errorList(failed), nil
}

// all_member_push/im_remove_tag: {UserTags: [{To_Account, Tags}]} -> envelope, ErrorList.
func imRemoveTag(c *call) (any, error) {
	items, err := tagsRequest(c)
	if err != nil {
		return nil, err
	}
	failed, err := c.im().RemoveUserPushTags(c.ctx, c.app, items)
	if err != nil {
		return nil, err
	}
	return errorList(failed), nil
}

// all_member_push/im_remove_all_tags: {To_Account: [...]} -> envelope, ErrorList.
func imRemoveAllTags(c *call) (any, error) {
	var req struct{ To_Account []string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	failed, err := c.im().RemoveAllUserPushTags(c.ctx, c.app, req.To_Account)
	if err != nil {
		return nil, err
	}
	return errorList(failed), nil
}

// all_member_push/im_get_tag: {To_Account: [...]} -> {UserTags: [{To_Account,
// Tags}]}, the same list also as "Tags" (what the Go SDK reads).
func imGetTag(c *call) (any, error) {
	var req struct{ To_Account []string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	got, err := c.im().GetUserPushTags(c.ctx, c.app, req.To_Account)
	if err != nil {
		return nil, err
	}
	list := make([]userTagsItem, len(got))
	for i, g := range got {
		list[i] = userTagsItem{g.User, g.Tags}
	}
	return struct {
		UserTags []userTagsItem
		Tags     []userTagsItem
	}{list, list}, nil
}

// registerPush adds the all_member_push commands to the registry.
func registerPush(add func(string, *family, func(*call) (any, error), ...string)) {
	add("all_member_push/im_push", pushFamily, imPush)
	add("all_member_push/im_set_attr_name", pushFamily, imSetAttrName)
	add("all_member_push/im_get_attr_name", pushFamily, imGetAttrName)
	add("all_member_push/im_get_attr", pushFamily, imGetAttr)
	add("all_member_push/im_set_attr", pushFamily, imSetAttr)
	add("all_member_push/im_remove_attr", pushFamily, imRemoveAttr)
	add("all_member_push/im_get_tag", pushFamily, imGetTag)
	add("all_member_push/im_add_tag", pushFamily, imAddTag)
	add("all_member_push/im_remove_tag", pushFamily, imRemoveTag)
	add("all_member_push/im_remove_all_tags", pushFamily, imRemoveAllTags)
}
