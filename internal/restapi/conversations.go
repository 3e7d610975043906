package restapi

import (
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// Recent contacts and conversation groups (reference §3.6; docs/rest-api.md).
// Field names match case-insensitively, so delete's `ToGroupid`, the groups'
// `ToGroupId` and the public Go SDK's lowercase `type` are all read.

var recentFamily = &family{name: "recentcontact", jsonCode: errs.JSONParse, badCode: errs.ConvBadParams,
	typeCode: func(string) int { return errs.ConvBadParams }}

// registerConversations adds the recentcontact commands (one call in registry).
func registerConversations(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	add("recentcontact/get_list", recentFamily, recentGetList)
	add("recentcontact/delete", recentFamily, recentDelete)
	add("recentcontact/mark_contact", recentFamily, markContact)
	add("recentcontact/create_contact_group", recentFamily, createContactGroup)
	add("recentcontact/update_contact_group", recentFamily, updateContactGroup)
	add("recentcontact/del_contact_group", recentFamily, delContactGroup)
	add("recentcontact/get_contact_group", recentFamily, getContactGroup)
	add("recentcontact/search_contact_group", recentFamily, searchContactGroup)
}

// contactItem is a conversation as the reference names it: Type 1 with
// To_Account, Type 2 with ToGroupId (or, as one public SDK sends it, To_Account).
type contactItem struct {
	Type       int
	To_Account string `json:",omitempty"`
	ToGroupId  string `json:",omitempty"`
}

func (ci contactItem) conv() store.ConvID {
	if ci.Type == store.ConvGroupChat && ci.ToGroupId != "" {
		return store.ConvID{Type: ci.Type, Peer: ci.ToGroupId}
	}
	return store.ConvID{Type: ci.Type, Peer: ci.To_Account}
}

func contactOf(c store.ConvID) contactItem {
	if c.Type == store.ConvGroupChat {
		return contactItem{Type: c.Type, ToGroupId: c.Peer}
	}
	return contactItem{Type: c.Type, To_Account: c.Peer}
}

// recentcontact/get_list: {From_Account, TimeStamp, StartIndex, TopTimeStamp,
// TopStartIndex, AssistFlags} -> SessionItem [{Type, To_Account | GroupId,
// MsgTime, TopFlag, UnreadMsgCount, StandardMark, CustomMark, ContactGroupId}],
// CompleteFlag and the four cursors of the next page.
func recentGetList(c *call) (any, error) {
	var req struct {
		From_Account                                       string
		TimeStamp, StartIndex, TopTimeStamp, TopStartIndex int64
		AssistFlags                                        int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	page, err := c.im().ListConversations(c.ctx, c.app, im.ConvListRequest{
		Owner:       req.From_Account,
		Normal:      im.ConvCursor{Time: req.TimeStamp, Index: req.StartIndex},
		Top:         im.ConvCursor{Time: req.TopTimeStamp, Index: req.TopStartIndex},
		AssistFlags: req.AssistFlags,
	})
	if err != nil {
		return nil, err
	}
	type sessionItem struct {
		Type           int
		To_Account     string `json:",omitempty"`
		GroupId        string `json:",omitempty"`
		MsgTime        int64
		TopFlag        int
		UnreadMsgCount int
		StandardMark   string  `json:",omitempty"`
		CustomMark     string  `json:",omitempty"`
		ContactGroupId []int64 `json:",omitempty"`
	}
	items := make([]sessionItem, 0, len(page.Items))
	for _, it := range page.Items {
		si := sessionItem{Type: it.Type, MsgTime: it.MsgTime, UnreadMsgCount: it.Unread,
			StandardMark: im.StandardMarkString(it.Marks), CustomMark: it.Custom, ContactGroupId: it.Groups}
		if it.Type == store.ConvGroupChat {
			si.GroupId = it.Peer
		} else {
			si.To_Account = it.Peer
		}
		if it.Pinned {
			si.TopFlag = 1
		}
		items = append(items, si)
	}
	complete := 0
	if page.Complete {
		complete = 1
	}
	return struct {
		SessionItem                                        []sessionItem
		CompleteFlag                                       int
		TimeStamp, StartIndex, TopTimeStamp, TopStartIndex int64
	}{items, complete, page.Normal.Time, page.Normal.Index, page.Top.Time, page.Top.Index}, nil
}

// recentcontact/delete: {From_Account, Type, To_Account | ToGroupid, ClearRamble} -> envelope.
func recentDelete(c *call) (any, error) {
	var req struct {
		From_Account string
		Type         int
		To_Account   string
		ToGroupid    string
		ClearRamble  int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.ClearRamble != 0 && req.ClearRamble != 1 {
		return nil, c.bad("ClearRamble must be 0 or 1, not %d", req.ClearRamble)
	}
	conv := contactItem{Type: req.Type, To_Account: req.To_Account, ToGroupId: req.ToGroupid}.conv()
	return nil, c.im().DeleteConversation(c.ctx, c.app, req.From_Account, conv, req.ClearRamble == 1)
}

type resultItem struct {
	ContactItem contactItem
	ResultCode  int
	ResultInfo  string
}

func resultOf(ci contactItem, err error) resultItem {
	r := resultItem{ContactItem: ci}
	if err != nil {
		r.ResultCode, r.ResultInfo = errs.CodeOf(err), errInfo(err)
	}
	return r
}

// recentcontact/mark_contact: {From_Account, MarkItem [{OptType, ContactItem,
// SetMark [bit], ClearMark [bit], CustomMark}]} -> ResultItem [{ContactItem,
// ResultCode, ResultInfo}], one per item.
func markContact(c *call) (any, error) {
	var req struct {
		From_Account string
		MarkItem     []struct {
			OptType     int
			ContactItem contactItem
			SetMark     []int
			ClearMark   []int
			CustomMark  string
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ops := make([]im.MarkOp, len(req.MarkItem))
	for i, m := range req.MarkItem {
		ops[i] = im.MarkOp{OptType: m.OptType, Conv: m.ContactItem.conv(), Set: m.SetMark, Clear: m.ClearMark, CustomMark: m.CustomMark}
	}
	_, results, err := c.im().MarkConversations(c.ctx, c.app, req.From_Account, ops)
	if err != nil {
		return nil, err
	}
	out := make([]resultItem, len(ops))
	for i := range ops {
		out[i] = resultOf(req.MarkItem[i].ContactItem, results[i])
	}
	return struct{ ResultItem []resultItem }{out}, nil
}

type groupItem struct {
	GroupName string
	GroupId   int64
}

func groupItems(gs []store.ConvGroup) []groupItem {
	out := make([]groupItem, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupItem{g.Name, g.ID})
	}
	return out
}

// recentcontact/create_contact_group: {From_Account, GroupContactItem
// [{GroupName, ContactItem [...]}]} (one group per call) -> GroupResultItem
// [{GroupItem {GroupName, GroupId}, ResultItem [...]}].
func createContactGroup(c *call) (any, error) {
	var req struct {
		From_Account     string
		GroupContactItem []struct {
			GroupName   string
			ContactItem []contactItem
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if len(req.GroupContactItem) != 1 {
		return nil, c.bad("GroupContactItem must hold exactly one group, not %d", len(req.GroupContactItem))
	}
	gi := req.GroupContactItem[0]
	convs := make([]store.ConvID, len(gi.ContactItem))
	for i, ci := range gi.ContactItem {
		convs[i] = ci.conv()
	}
	g, err := c.im().CreateConvGroup(c.ctx, c.app, req.From_Account, gi.GroupName, convs)
	if err != nil {
		return nil, err
	}
	results := make([]resultItem, len(gi.ContactItem))
	for i, ci := range gi.ContactItem {
		results[i] = resultOf(ci, nil)
	}
	type groupResult struct {
		GroupItem  groupItem
		ResultItem []resultItem
	}
	return struct{ GroupResultItem []groupResult }{[]groupResult{{groupItem{g.Name, g.ID}, results}}}, nil
}

// recentcontact/update_contact_group: {From_Account, UpdateType 1, UpdateGroup
// {UpdateGroupType (1 rename, 2 conversations), OldGroupName, NewGroupName,
// ContactUpdateItem [{ContactOptType (1 add, 2 remove), ContactItem}]}} ->
// UpdateType, UpdateGroupResult {UpdateGroupType, GroupName, GroupId,
// OldGroupName, ContactResultItem [{ContactOptType, ContactItem, ResultCode, ResultInfo}]}.
func updateContactGroup(c *call) (any, error) {
	var req struct {
		From_Account string
		UpdateType   int
		UpdateGroup  struct {
			UpdateGroupType   int
			OldGroupName      string
			NewGroupName      string
			ContactUpdateItem []struct {
				ContactOptType int
				ContactItem    contactItem
			}
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.UpdateType != 1 {
		return nil, c.bad("UpdateType must be 1, not %d", req.UpdateType)
	}
	u := req.UpdateGroup
	type contactResult struct {
		ContactOptType int
		ContactItem    contactItem
		ResultCode     int
		ResultInfo     string
	}
	type updateResult struct {
		UpdateGroupType   int
		GroupName         string
		GroupId           int64
		OldGroupName      string
		ContactResultItem []contactResult
	}
	res := updateResult{UpdateGroupType: u.UpdateGroupType, OldGroupName: u.OldGroupName, ContactResultItem: []contactResult{}}
	switch u.UpdateGroupType {
	case 1:
		g, err := c.im().RenameConvGroup(c.ctx, c.app, req.From_Account, u.OldGroupName, u.NewGroupName)
		if err != nil {
			return nil, err
		}
		res.GroupName, res.GroupId = g.Name, g.ID
	case 2:
		var add, remove []store.ConvID
		var addItems, removeItems []contactItem
		for _, it := range u.ContactUpdateItem {
			switch it.ContactOptType {
			case 1:
				add, addItems = append(add, it.ContactItem.conv()), append(addItems, it.ContactItem)
			case 2:
				remove, removeItems = append(remove, it.ContactItem.conv()), append(removeItems, it.ContactItem)
			default:
				return nil, c.bad("ContactOptType must be 1 (add) or 2 (remove), not %d", it.ContactOptType)
			}
		}
		g, results, err := c.im().UpdateConvGroup(c.ctx, c.app, req.From_Account, u.OldGroupName, add, remove)
		if err != nil {
			return nil, err
		}
		res.GroupName, res.GroupId = g.Name, g.ID
		for i, r := range results {
			opt, ci := 1, contactItem{}
			if i < len(addItems) {
				ci = addItems[i]
			} else {
				opt, ci = 2, removeItems[i-len(addItems)]
			}
			cr := contactResult{ContactOptType: opt, ContactItem: ci}
			if r != nil {
				cr.ResultCode, cr.ResultInfo = errs.CodeOf(r), errInfo(r)
			}
			res.ContactResultItem = append(res.ContactResultItem, cr)
		}
	default:
		return nil, c.bad("UpdateGroupType must be 1 (rename) or 2 (conversations), not %d", u.UpdateGroupType)
	}
	return struct {
		UpdateType        int
		UpdateGroupResult updateResult
	}{1, res}, nil
}

// recentcontact/del_contact_group: {From_Account, GroupName [...]} -> GroupItem
// [{GroupName, GroupId}] of the groups deleted.
func delContactGroup(c *call) (any, error) {
	var req struct {
		From_Account string
		GroupName    []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	gone, err := c.im().DeleteConvGroups(c.ctx, c.app, req.From_Account, req.GroupName)
	if err != nil {
		return nil, err
	}
	return struct{ GroupItem []groupItem }{groupItems(gone)}, nil
}

// markedItem is a conversation of get/search_contact_group.
type markedItem struct {
	Type           int
	To_Account     string  `json:",omitempty"`
	ToGroupId      string  `json:",omitempty"`
	StandardMark   string  `json:",omitempty"`
	CustomMark     string  `json:",omitempty"`
	ContactGroupId []int64 `json:",omitempty"`
	Timestamp      int64
}

func markedItems(states []store.ConvState) []markedItem {
	out := make([]markedItem, 0, len(states))
	for _, st := range states {
		ci := contactOf(st.ConvID)
		out = append(out, markedItem{Type: ci.Type, To_Account: ci.To_Account, ToGroupId: ci.ToGroupId,
			StandardMark: im.StandardMarkString(st.Marks), CustomMark: st.CustomMark, ContactGroupId: st.Groups,
			Timestamp: st.UpdatedAt.Unix()})
	}
	return out
}

// recentcontact/get_contact_group: {From_Account, StartIndex} -> ContactItem
// [{Type, To_Account | ToGroupId, StandardMark, CustomMark, ContactGroupId,
// Timestamp}], GroupItem, CompleteFlag, NextStartIndex.
func getContactGroup(c *call) (any, error) {
	var req struct {
		From_Account string
		StartIndex   int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := c.im().ConvGroups(c.ctx, c.app, req.From_Account, req.StartIndex)
	if err != nil {
		return nil, err
	}
	complete := 0
	if m.Complete {
		complete = 1
	}
	return struct {
		ContactItem    []markedItem
		GroupItem      []groupItem
		CompleteFlag   int
		NextStartIndex int
	}{markedItems(m.Convs), groupItems(m.Groups), complete, m.Next}, nil
}

// recentcontact/search_contact_group: {From_Account, ContactItem [...]} ->
// ContactResultItem [...] (the listed conversations that have marks or
// groups), GroupItem.
func searchContactGroup(c *call) (any, error) {
	var req struct {
		From_Account string
		ContactItem  []contactItem
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	convs := make([]store.ConvID, len(req.ContactItem))
	for i, ci := range req.ContactItem {
		convs[i] = ci.conv()
	}
	m, err := c.im().SearchConvGroups(c.ctx, c.app, req.From_Account, convs)
	if err != nil {
		return nil, err
	}
	return struct {
		ContactResultItem []markedItem
		GroupItem         []groupItem
	}{markedItems(m.Convs), groupItems(m.Groups)}, nil
}
