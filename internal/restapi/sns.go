package restapi

import (
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
)

// snsFamily: the relationship chain (reference §3.5) answers bad JSON with 60003
// and a field of the wrong type (AddFriendItem sent as an object, a number for a
// string) or a bad value with 30001.
var snsFamily = &family{name: "sns", jsonCode: errs.JSONParse, badCode: errs.SNSBadParams,
	typeCode: func(string) int { return errs.SNSBadParams }}

// snsResult is one ResultItem of a relationship-chain batch.
type snsResult struct {
	To_Account string
	ResultCode int
	ResultInfo string
}

// snsResults turns item results into ResultItem and Fail_Account (the accounts
// whose item failed).
func snsResults(rs []im.ItemResult) ([]snsResult, []string) {
	out := make([]snsResult, 0, len(rs))
	fail := []string{}
	for _, r := range rs {
		it := snsResult{To_Account: r.User}
		if r.Err != nil {
			it.ResultCode, it.ResultInfo = errs.CodeOf(r.Err), errInfo(r.Err)
			fail = append(fail, r.User)
		}
		out = append(out, it)
	}
	return out, fail
}

type snsBatchReply struct {
	ResultItem   []snsResult
	Fail_Account []string
}

func snsBatch(rs []im.ItemResult, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	items, fail := snsResults(rs)
	return snsBatchReply{items, fail}, nil
}

// sns/friend_add: {From_Account, AddFriendItem: [{To_Account, Remark, GroupName,
// AddSource, AddWording}], AddType, ForceAddFlags} -> ResultItem, Fail_Account.
func friendAdd(c *call) (any, error) {
	var req struct {
		From_Account  string
		AddFriendItem []struct {
			To_Account string
			Remark     string
			GroupName  string
			AddSource  string
			AddWording string
		}
		AddType       string
		ForceAddFlags int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.ForceAddFlags != 0 && req.ForceAddFlags != 1 {
		return nil, c.bad("ForceAddFlags must be 0 or 1")
	}
	items := make([]im.FriendItem, len(req.AddFriendItem))
	for i, it := range req.AddFriendItem {
		items[i] = im.FriendItem{To: it.To_Account, Remark: it.Remark, AddSource: it.AddSource, AddWording: it.AddWording}
		if it.GroupName != "" {
			items[i].Groups = []string{it.GroupName}
		}
	}
	return snsBatch(c.im().AddFriends(c.ctx, c.app, req.From_Account, items, req.AddType, req.ForceAddFlags == 1))
}

// sns/friend_import: {From_Account, AddFriendItem: [{To_Account, Remark,
// RemarkTime, GroupName: [...], AddSource, AddWording, AddTime, CustomItem:
// [{Tag, Value}]}]} -> ResultItem, Fail_Account.
func friendImport(c *call) (any, error) {
	var req struct {
		From_Account  string
		AddFriendItem []struct {
			To_Account string
			Remark     string
			RemarkTime int64
			GroupName  []string
			AddSource  string
			AddWording string
			AddTime    int64
			CustomItem []tagValue
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	items := make([]im.FriendItem, len(req.AddFriendItem))
	for i, it := range req.AddFriendItem {
		items[i] = im.FriendItem{To: it.To_Account, Remark: it.Remark, Groups: it.GroupName, AddSource: it.AddSource,
			AddWording: it.AddWording, AddTime: it.AddTime}
		for _, ci := range it.CustomItem {
			items[i].Custom = append(items[i].Custom, im.ProfileItem{Tag: ci.Tag, Value: ci.Value})
		}
	}
	return snsBatch(c.im().ImportFriends(c.ctx, c.app, req.From_Account, items))
}

// sns/friend_update: {From_Account, UpdateItem: [{To_Account, SnsItem: [{Tag,
// Value}]}]} -> ResultItem, Fail_Account.
func friendUpdate(c *call) (any, error) {
	var req struct {
		From_Account string
		UpdateItem   []struct {
			To_Account string
			SnsItem    []tagValue
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ups := make([]im.FriendUpdate, len(req.UpdateItem))
	for i, u := range req.UpdateItem {
		ups[i].To = u.To_Account
		for _, it := range u.SnsItem {
			ups[i].Items = append(ups[i].Items, im.ProfileItem{Tag: it.Tag, Value: it.Value})
		}
	}
	return snsBatch(c.im().UpdateFriends(c.ctx, c.app, req.From_Account, ups))
}

type snsAccounts struct {
	From_Account string
	To_Account   []string
}

// sns/friend_delete: {From_Account, To_Account: [...], DeleteType} -> ResultItem.
func friendDelete(c *call) (any, error) {
	var req struct {
		snsAccounts
		DeleteType string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return snsBatch(c.im().DeleteFriends(c.ctx, c.app, req.From_Account, req.To_Account, req.DeleteType))
}

// sns/friend_delete_all: {From_Account, DeleteType} -> envelope.
func friendDeleteAll(c *call) (any, error) {
	var req struct {
		From_Account string
		DeleteType   string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().DeleteAllFriends(c.ctx, c.app, req.From_Account, req.DeleteType)
}

type checkItem struct {
	To_Account string
	Relation   string
	ResultCode int
	ResultInfo string
}

func checkItems(rs []im.Relation) ([]checkItem, []string) {
	out := make([]checkItem, 0, len(rs))
	fail := []string{}
	for _, r := range rs {
		it := checkItem{To_Account: r.User, Relation: r.Relation}
		if r.Err != nil {
			it.ResultCode, it.ResultInfo = errs.CodeOf(r.Err), errInfo(r.Err)
			fail = append(fail, r.User)
		}
		out = append(out, it)
	}
	return out, fail
}

// sns/friend_check: {From_Account, To_Account, CheckType} -> InfoItem
// [{To_Account, Relation, ResultCode, ResultInfo}], Fail_Account.
func friendCheck(c *call) (any, error) {
	var req struct {
		snsAccounts
		CheckType string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().CheckFriends(c.ctx, c.app, req.From_Account, req.To_Account, req.CheckType)
	if err != nil {
		return nil, err
	}
	items, fail := checkItems(rs)
	return struct {
		InfoItem     []checkItem
		Fail_Account []string
	}{items, fail}, nil
}

func tagValues(items []im.ProfileItem) []tagValue {
	out := make([]tagValue, len(items))
	for i, it := range items {
		out[i] = tagValue{Tag: it.Tag, Value: it.Value}
	}
	return out
}

// sns/friend_get: {From_Account, StartIndex, StandardSequence, CustomSequence} ->
// UserDataItem [{To_Account, ValueItem}], StandardSequence, CustomSequence,
// FriendNum, CompleteFlag, NextStartIndex. chatd keeps no data sequences: both
// are 0 and every page carries the full data.
func friendGet(c *call) (any, error) {
	var req struct {
		From_Account     string
		StartIndex       int
		StandardSequence int64
		CustomSequence   int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := c.im().GetFriends(c.ctx, c.app, req.From_Account, req.StartIndex)
	if err != nil {
		return nil, err
	}
	type userData struct {
		To_Account string
		ValueItem  []tagValue
	}
	items := make([]userData, len(p.Friends))
	for i, f := range p.Friends {
		items[i] = userData{f.Peer, tagValues(im.FriendValues(f))}
	}
	complete := 0
	if p.Complete {
		complete = 1
	}
	return struct {
		UserDataItem     []userData
		StandardSequence int64
		CustomSequence   int64
		FriendNum        int
		CompleteFlag     int
		NextStartIndex   int
	}{items, 0, 0, p.Total, complete, p.Next}, nil
}

// sns/friend_get_list: {From_Account, To_Account, TagList} -> InfoItem
// [{To_Account, SnsProfileItem, ResultCode, ResultInfo}], Fail_Account.
func friendGetList(c *call) (any, error) {
	var req struct {
		snsAccounts
		TagList []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ds, err := c.im().GetFriendList(c.ctx, c.app, req.From_Account, req.To_Account, req.TagList)
	if err != nil {
		return nil, err
	}
	type info struct {
		To_Account     string
		SnsProfileItem []tagValue
		ResultCode     int
		ResultInfo     string
	}
	out := make([]info, 0, len(ds))
	fail := []string{}
	for _, d := range ds {
		it := info{To_Account: d.User, SnsProfileItem: tagValues(d.Items)}
		if d.Err != nil {
			it.ResultCode, it.ResultInfo = errs.CodeOf(d.Err), errInfo(d.Err)
			fail = append(fail, d.User)
		}
		out = append(out, it)
	}
	return struct {
		InfoItem     []info
		Fail_Account []string
	}{out, fail}, nil
}

// sns/black_list_add: {From_Account, To_Account} -> ResultItem, Fail_Account.
func blackListAdd(c *call) (any, error) {
	var req snsAccounts
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return snsBatch(c.im().AddBlocks(c.ctx, c.app, req.From_Account, req.To_Account))
}

// sns/black_list_delete: {From_Account, To_Account} -> ResultItem, Fail_Account.
func blackListDelete(c *call) (any, error) {
	var req snsAccounts
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return snsBatch(c.im().DeleteBlocks(c.ctx, c.app, req.From_Account, req.To_Account))
}

// sns/black_list_get: {From_Account, StartIndex, MaxLimited, LastSequence} ->
// BlackListItem [{To_Account, AddBlackTimeStamp}], StartIndex (next page, 0 at the
// end), CurruentSequence and CurrentSequence (both spellings; chatd keeps no
// sequence: 0).
func blackListGet(c *call) (any, error) {
	var req struct {
		From_Account string
		StartIndex   int
		MaxLimited   int
		LastSequence int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := c.im().GetBlocks(c.ctx, c.app, req.From_Account, req.StartIndex, req.MaxLimited)
	if err != nil {
		return nil, err
	}
	type item struct {
		To_Account        string
		AddBlackTimeStamp int64
	}
	items := make([]item, len(p.Blocks))
	for i, b := range p.Blocks {
		items[i] = item{b.Peer, b.At.Unix()}
	}
	return struct {
		BlackListItem    []item
		StartIndex       int
		CurruentSequence int64
		CurrentSequence  int64
	}{items, p.Next, 0, 0}, nil
}

// sns/black_list_check: {From_Account, To_Account, CheckType} ->
// BlackListCheckItem [{To_Account, Relation, ResultCode, ResultInfo}], Fail_Account.
func blackListCheck(c *call) (any, error) {
	var req struct {
		snsAccounts
		CheckType string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().CheckBlocks(c.ctx, c.app, req.From_Account, req.To_Account, req.CheckType)
	if err != nil {
		return nil, err
	}
	items, fail := checkItems(rs)
	return struct {
		BlackListCheckItem []checkItem
		Fail_Account       []string
	}{items, fail}, nil
}

// sns/group_add: {From_Account, GroupName: [...], To_Account: [...]} ->
// ResultItem, Fail_Account, CurrentSequence.
func groupAdd(c *call) (any, error) {
	var req struct {
		snsAccounts
		GroupName []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().AddFriendLists(c.ctx, c.app, req.From_Account, req.GroupName, req.To_Account)
	if err != nil {
		return nil, err
	}
	items, fail := snsResults(rs)
	return struct {
		ResultItem      []snsResult
		Fail_Account    []string
		CurrentSequence int64
	}{items, fail, 0}, nil
}

// sns/group_delete: {From_Account, GroupName: [...]} -> CurrentSequence.
func groupDelete(c *call) (any, error) {
	var req struct {
		From_Account string
		GroupName    []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := c.im().DeleteFriendLists(c.ctx, c.app, req.From_Account, req.GroupName); err != nil {
		return nil, err
	}
	return struct{ CurrentSequence int64 }{0}, nil
}

// sns/group_get: {From_Account, NeedFriend, GroupName, LastSequence} ->
// ResultItem [{GroupName, FriendNumber, To_Account (with Need_Friend_Type_Yes)}],
// CurrentSequence.
func groupGet(c *call) (any, error) {
	var req struct {
		From_Account string
		NeedFriend   string
		GroupName    []string
		LastSequence int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	need := false
	switch req.NeedFriend {
	case "", "Need_Friend_Type_No":
	case "Need_Friend_Type_Yes":
		need = true
	default:
		return nil, c.bad("NeedFriend must be Need_Friend_Type_Yes or Need_Friend_Type_No")
	}
	lists, err := c.im().GetFriendLists(c.ctx, c.app, req.From_Account, req.GroupName)
	if err != nil {
		return nil, err
	}
	type item struct {
		GroupName    string
		FriendNumber int
		To_Account   []string `json:",omitempty"`
	}
	out := make([]item, len(lists))
	for i, l := range lists {
		out[i] = item{GroupName: l.Name, FriendNumber: len(l.Members)}
		if need {
			out[i].To_Account = l.Members
		}
	}
	return struct {
		ResultItem      []item
		CurrentSequence int64
	}{out, 0}, nil
}

// addSNS registers the relationship chain's commands.
func addSNS(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	add("sns/friend_add", snsFamily, friendAdd)
	add("sns/friend_import", snsFamily, friendImport)
	add("sns/friend_update", snsFamily, friendUpdate)
	add("sns/friend_delete", snsFamily, friendDelete)
	add("sns/friend_delete_all", snsFamily, friendDeleteAll)
	add("sns/friend_check", snsFamily, friendCheck)
	add("sns/friend_get", snsFamily, friendGet)
	add("sns/friend_get_list", snsFamily, friendGetList)
	add("sns/black_list_add", snsFamily, blackListAdd)
	add("sns/black_list_delete", snsFamily, blackListDelete)
	add("sns/black_list_get", snsFamily, blackListGet)
	add("sns/black_list_check", snsFamily, blackListCheck)
	add("sns/group_add", snsFamily, groupAdd)
	add("sns/group_delete", snsFamily, groupDelete)
	add("sns/group_get", snsFamily, groupGet)
}
