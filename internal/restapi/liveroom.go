package restapi

import (
	"encoding/json"

	"github.com/chatd/chatd/internal/im"
)

// registerLiveRooms registers the live-room commands (reference rest-api.md
// §3.7: the online member list, banning, broadcast messages; im/liveroom_*.go).
func registerLiveRooms(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	add("group_open_avchatroom_http_svc/get_members", groupFamily, getLiveMembers)
	add("group_open_http_svc/ban_group_member", groupFamily, banGroupMember)
	add("group_open_http_svc/unban_group_member", groupFamily, unbanGroupMember)
	add("group_open_http_svc/get_group_ban_member", groupFamily, getGroupBanMember)
	add("group_open_http_svc/send_broadcast_msg", groupFamily, sendBroadcastMsg)
}

// group_open_avchatroom_http_svc/get_members: {GroupId, Timestamp (0 first),
// Mark} -> MemberList[{Member_Account, JoinTime, NickName, Avatar}],
// NextTimestamp (0 on the last page). At most the 1,000 newest online members,
// 500 per answer; NextTimestamp is a cursor to send back as Timestamp.
func getLiveMembers(c *call) (any, error) {
	var req struct {
		GroupId   string
		Timestamp int64
		Mark      int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ms, next, err := c.im().LiveRoomMembers(c.ctx, c.app, req.GroupId, req.Timestamp, req.Mark)
	if err != nil {
		return nil, err
	}
	type item struct {
		Member_Account string
		JoinTime       int64
		NickName       string
		Avatar         string
	}
	out := make([]item, len(ms))
	for i, m := range ms {
		out[i] = item{m.UserID, m.JoinTime, m.Nick, m.FaceURL}
	}
	return struct {
		MemberList    []item
		NextTimestamp int64
	}{out, next}, nil
}

// group_open_http_svc/ban_group_member: {GroupId, Members_Account[] (≤ 20),
// Duration (seconds), Description (≤ 1,000 bytes)}.
func banGroupMember(c *call) (any, error) {
	var req struct {
		GroupId         string
		Members_Account []string
		Duration        int64
		Description     string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().BanMembers(c.ctx, c.app, req.GroupId, req.Members_Account, req.Duration, req.Description)
}

// group_open_http_svc/unban_group_member: {GroupId, Members_Account[] (≤ 20)}.
func unbanGroupMember(c *call) (any, error) {
	var req struct {
		GroupId         string
		Members_Account []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().UnbanMembers(c.ctx, c.app, req.GroupId, req.Members_Account)
}

// group_open_http_svc/get_group_ban_member: {GroupId, Limit (≤ 100), Offset}
// -> BannedAccountList[{Member_Account, BannedUntil}], NextOffset (0 at the end).
func getGroupBanMember(c *call) (any, error) {
	var req struct {
		GroupId string
		Limit   int
		Offset  int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	bs, next, err := c.im().BannedMembers(c.ctx, c.app, req.GroupId, req.Limit, req.Offset)
	if err != nil {
		return nil, err
	}
	type item struct {
		Member_Account string
		BannedUntil    int64
	}
	out := make([]item, len(bs))
	for i, b := range bs {
		out[i] = item{b.UserID, b.Until}
	}
	return struct {
		BannedAccountList []item
		NextOffset        int
	}{out, next}, nil
}

// group_open_http_svc/send_broadcast_msg: {From_Account (optional), Random,
// MsgBody, CloudCustomData} -> MsgSeq. To every live room of the app, online
// members only.
func sendBroadcastMsg(c *call) (any, error) {
	var req struct {
		From_Account    string
		Random          uint32
		MsgBody         json.RawMessage
		CloudCustomData string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	seq, err := c.im().SendBroadcast(c.ctx, c.app, im.BroadcastRequest{From: req.From_Account, Random: req.Random,
		Body: req.MsgBody, CloudCustomData: req.CloudCustomData})
	if err != nil {
		return nil, err
	}
	return struct{ MsgSeq int64 }{seq}, nil
}
