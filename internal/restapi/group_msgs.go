package restapi

import (
	"encoding/json"
	"strconv"

	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// registerGroupMsgs registers the group message commands of
// group_open_http_svc (reference §3.7).
func registerGroupMsgs(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	const svc = "group_open_http_svc/"
	add(svc+"send_group_msg", groupFamily, sendGroupMsg)
	add(svc+"send_group_system_notification", groupFamily, sendGroupSystemNotification)
	add(svc+"group_msg_get_simple", groupFamily, groupMsgGetSimple)
	add(svc+"group_msg_recall", groupFamily, groupMsgRecall)
	add(svc+"import_group_msg", groupFamily, importGroupMsg)
	add(svc+"delete_group_msg_by_sender", groupFamily, deleteGroupMsgBySender)
	add(svc+"set_unread_msg_num", groupFamily, setUnreadMsgNum)
	add(svc+"get_online_member_num", groupFamily, getOnlineMemberNum)
}

// group_open_http_svc/send_group_msg: {GroupId, Random, MsgBody, From_Account,
// OnlineOnlyFlag, To_Account[] (targeted), CloudCustomData, NeedReceipt
// (NeedReadReceipt), GroupAtInfo (accepted), TopicId (a community topic's
// log)} -> {MsgTime, MsgSeq}.
func sendGroupMsg(c *call) (any, error) {
	var req struct {
		GroupId               string
		Random                uint32
		MsgBody               json.RawMessage
		From_Account          string
		OnlineOnlyFlag        int
		To_Account            []string
		CloudCustomData       string
		NeedReadReceipt       flag
		GroupAtInfo           json.RawMessage
		TopicId               string
		ForbidCallbackControl []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	forbid, err := im.ParseForbid(req.ForbidCallbackControl)
	if err != nil {
		return nil, err
	}
	res, err := c.im().SendGroupMsg(c.ctx, c.app, im.GroupSendRequest{Group: req.GroupId, Topic: req.TopicId, From: req.From_Account, Admin: true,
		Random: req.Random, Body: req.MsgBody, CloudCustomData: req.CloudCustomData, Targets: req.To_Account,
		NeedReceipt: bool(req.NeedReadReceipt), OnlineOnly: req.OnlineOnlyFlag == 1, Forbid: forbid})
	if err != nil {
		return nil, err
	}
	return struct {
		MsgTime int64
		MsgSeq  int64
	}{res.MsgTime, res.Seq}, nil
}

// group_open_http_svc/send_group_system_notification: {GroupId,
// ToMembers_Account[], Content, TopicId} -> envelope.
func sendGroupSystemNotification(c *call) (any, error) {
	var req struct {
		GroupId           string
		ToMembers_Account []string
		Content           string
		TopicId           string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().GroupSystemNotification(c.ctx, c.app, req.GroupId, req.TopicId, req.ToMembers_Account, req.Content)
}

// tipsBody is a tip's object as a message body, an array as MsgBody always is
// (SDKs decode it as one): one TIMCustomElem whose Data is the tip's JSON and
// whose Desc is "group_tips".
func tipsBody(tip []byte) json.RawMessage {
	b, err := json.Marshal([]any{map[string]any{"MsgType": "TIMCustomElem",
		"MsgContent": map[string]string{"Data": string(tip), "Desc": "group_tips"}}})
	if err != nil {
		return nil // not reached: a map of strings
	}
	return b
}

// groupMsgItem is one message of group_msg_get_simple's RspMsgList.
type groupMsgItem struct {
	From_Account string
	IsPlaceMsg   int
	MsgBody      json.RawMessage `json:",omitempty"`
	IsSystemMsg  int
	MsgPriority  int
	MsgRandom    uint32
	MsgSeq       int64
	MsgTimeStamp int64
}

// group_open_http_svc/group_msg_get_simple: {GroupId, ReqMsgSeq (0 the
// newest), ReqMsgNumber (≤ 20), TopicId} -> {GroupId, IsFinished, RspMsgList} newest
// first; recalled, expired or deleted messages are IsPlaceMsg 1, tips
// IsSystemMsg 1. Continue with the smallest MsgSeq − 1.
func groupMsgGetSimple(c *call) (any, error) {
	var req struct {
		GroupId      string
		ReqMsgSeq    int64
		ReqMsgNumber int
		TopicId      string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	n := req.ReqMsgNumber
	if n < 0 || n > im.MaxGroupHistory {
		return nil, c.bad("ReqMsgNumber must be 1 to %d (0 or absent: %d), not %d", im.MaxGroupHistory, im.MaxGroupHistory, n)
	}
	if n == 0 {
		n = im.MaxGroupHistory
	}
	if req.ReqMsgSeq < 0 {
		return nil, c.bad("ReqMsgSeq must not be negative, not %d", req.ReqMsgSeq)
	}
	es, finished, err := c.im().GroupHistory(c.ctx, c.app, req.GroupId, req.TopicId, req.ReqMsgSeq, n)
	if err != nil {
		return nil, err
	}
	out := make([]groupMsgItem, 0, len(es))
	next := req.ReqMsgSeq // the seq expected next, newest first: gaps are place messages
	if next <= 0 && len(es) > 0 {
		next = es[0].Seq
	}
	for _, e := range es {
		for next > e.Seq && len(out) < n {
			out = append(out, groupMsgItem{IsPlaceMsg: 1, MsgSeq: next})
			next--
		}
		if len(out) >= n {
			break
		}
		it := groupMsgItem{From_Account: e.From, MsgRandom: e.MsgRandom, MsgSeq: e.Seq, MsgTimeStamp: e.MsgTime}
		switch {
		case e.Kind == store.KindRecall: // the log's record that the message MsgSeq was recalled
			it.IsSystemMsg, it.MsgBody = 1, tipsBody(append(strconv.AppendInt([]byte(`{"type":"recall","msg_seq":`), e.MsgSeq, 10), '}'))
		case e.Recalled:
			it.IsPlaceMsg = 1
		case e.Kind == store.KindGroupTips:
			it.IsSystemMsg, it.MsgBody = 1, tipsBody(e.Body)
		default:
			it.MsgBody = e.Body
		}
		out = append(out, it)
		next = e.Seq - 1
	}
	isFinished := 0
	if finished {
		isFinished = 1
	}
	return struct {
		GroupId    string
		IsFinished int
		RspMsgList []groupMsgItem
	}{req.GroupId, isFinished, out}, nil
}

// group_open_http_svc/group_msg_recall: {GroupId, MsgSeqList[{MsgSeq}], TopicId} ->
// RecallRetList[{MsgSeq, RetCode}] (and Results, the name the dobyte SDK
// reads; reference §10).
func groupMsgRecall(c *call) (any, error) {
	var req struct {
		GroupId    string
		MsgSeqList []struct{ MsgSeq int64 }
		TopicId    string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	seqs := make([]int64, len(req.MsgSeqList))
	for i, s := range req.MsgSeqList {
		seqs[i] = s.MsgSeq
	}
	codes, err := c.im().RecallGroupMsgs(c.ctx, c.app, req.GroupId, req.TopicId, seqs)
	if err != nil {
		return nil, err
	}
	type item struct {
		MsgSeq  int64
		RetCode int
	}
	out := make([]item, len(seqs))
	for i := range seqs {
		out[i] = item{seqs[i], codes[i]}
	}
	return struct {
		RecallRetList []item
		Results       []item
	}{out, out}, nil
}

// group_open_http_svc/import_group_msg: {GroupId, MsgList[{From_Account,
// SendTime, Random, MsgBody}], TopicId} -> ImportMsgResult[{MsgSeq, MsgTime, Result}].
func importGroupMsg(c *call) (any, error) {
	var req struct {
		GroupId string
		MsgList []struct {
			From_Account string
			SendTime     int64
			Random       uint32
			MsgBody      json.RawMessage
		}
		TopicId string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	msgs := make([]im.ImportedGroupMsg, len(req.MsgList))
	for i, m := range req.MsgList {
		msgs[i] = im.ImportedGroupMsg{From: m.From_Account, SendTime: m.SendTime, Random: m.Random, Body: m.MsgBody}
	}
	res, codes, err := c.im().ImportGroupMsgs(c.ctx, c.app, req.GroupId, req.TopicId, msgs)
	if err != nil {
		return nil, err
	}
	type item struct {
		MsgSeq  int64
		MsgTime int64
		Result  int
	}
	out := make([]item, len(res))
	for i, r := range res {
		out[i] = item{r.Seq, r.MsgTime, codes[i]}
	}
	return struct{ ImportMsgResult []item }{out}, nil
}

// group_open_http_svc/delete_group_msg_by_sender: {GroupId, Sender_Account, TopicId} -> envelope.
func deleteGroupMsgBySender(c *call) (any, error) {
	var req struct {
		GroupId        string
		Sender_Account string
		TopicId        string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().DeleteGroupMsgsBySender(c.ctx, c.app, req.GroupId, req.TopicId, req.Sender_Account)
}

// group_open_http_svc/set_unread_msg_num: {GroupId, Member_Account,
// UnreadMsgNum} -> envelope.
func setUnreadMsgNum(c *call) (any, error) {
	var req struct {
		GroupId        string
		Member_Account string
		UnreadMsgNum   int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().SetGroupUnread(c.ctx, c.app, req.GroupId, req.Member_Account, req.UnreadMsgNum)
}

// group_open_http_svc/get_online_member_num: {GroupId} -> {OnlineMemberNum}.
func getOnlineMemberNum(c *call) (any, error) {
	var req struct{ GroupId string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	n, err := c.im().OnlineMemberNum(c.ctx, c.app, req.GroupId)
	if err != nil {
		return nil, err
	}
	return struct{ OnlineMemberNum int }{n}, nil
}
