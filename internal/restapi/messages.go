package restapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
)

// Reference codes of the 90xxx range that only the REST edge produces (the domain
// never sees these fields).
const (
	codeMsgRandom        = 90005 // MsgRandom invalid
	codeSyncOtherMachine = 90031 // SyncOtherMachine invalid
	codeMsgLifeTime      = 90044 // MsgLifeTime invalid
)

// msgFlagRecalled is the MsgFlagBits value of a recalled message in
// admin_getroammsg (the reference's "8 = recalled", also what its web SDK checks).
const msgFlagRecalled = 8

// sendFields are the fields sendmsg and batchsendmsg share that shape delivery.
//
// The fields are repeated in each request rather than embedded, so that a type error
// names the JSON field alone ("MsgRandom", not "sendFields.MsgRandom").
type sendFields struct {
	SyncOtherMachine int
	MsgLifeTime      *int64 // absent: stored for the retention window
	MsgSeq           uint32 // 0: chosen by chatd at random
	SendMsgControl   []string
}

// apply checks the fields and sets their effect on sr: SyncOtherMachine 1 (or
// absent) keeps the sender's copy, 2 does not; MsgLifeTime 0 delivers to online
// devices only, a positive value bounds offline storage (over 604800 s: 7 days);
// MsgSeq is the message's (the MsgKey's first part); SendMsgControl "NoUnread"
// keeps it out of unread counts.
func (f sendFields) apply(sr *im.SendRequest) error {
	// A MsgSeq chatd chooses is random rather than the sender's log position, so
	// that two REST messages of a conversation share a MsgKey only by a 2^-31
	// chance (the store keeps an explicit MsgKey once per conversation).
	sr.MsgSeq = int64(f.MsgSeq)
	if sr.MsgSeq == 0 {
		sr.MsgSeq = im.RandomMsgSeq()
	}
	for _, ctl := range f.SendMsgControl {
		switch ctl {
		case "NoUnread":
			sr.NoUnread = true
		case "NoLastMsg", "WithMuteNotifications":
			// chatd keeps no conversation list and no mute settings: nothing to skip.
		default:
			return errs.New(errs.InvalidParameters, "SendMsgControl %.32q is not NoUnread, NoLastMsg or WithMuteNotifications", ctl)
		}
	}
	switch f.SyncOtherMachine {
	case 0, 1:
	case 2:
		sr.NoSenderCopy = true
	default:
		return errs.New(codeSyncOtherMachine, "SyncOtherMachine must be 1 or 2, not %d", f.SyncOtherMachine)
	}
	if f.MsgLifeTime == nil {
		return nil
	}
	switch lt := *f.MsgLifeTime; {
	case lt < 0:
		return errs.New(codeMsgLifeTime, "MsgLifeTime must not be negative")
	case lt == 0:
		sr.OnlineOnly = true
	default:
		sr.Lifetime = time.Duration(min(lt, int64(im.MaxMsgLifetime/time.Second))) * time.Second
	}
	return nil
}

// retryKey is the idempotency key of a REST send: a retried request (same kind,
// receiver, MsgRandom and content) maps to the same key and so to the original
// message. The content's hash keeps two different messages apart even when their
// 32-bit MsgRandom values collide, which for a busy pair of users over a retention
// window is not rare. At most 60 bytes, within the domain's client id limit.
// The prefixes ("s:…", "b", "i:…" after the "r") are reserved for it: see
// im.DeviceClientID.
func retryKey(prefix string, random uint32, content ...[]byte) string {
	h := sha256.New()
	for _, c := range content {
		h.Write(c)
		h.Write([]byte{0})
	}
	return "r" + prefix + ":" + strconv.FormatUint(uint64(random), 10) + ":" + hex.EncodeToString(h.Sum(nil)[:6])
}

// openim/sendmsg -> MsgTime, MsgKey, MsgId (= MsgKey).
//
// A non-zero MsgRandom makes the send idempotent: a retry of the same request (sender,
// receiver, MsgRandom and content, see retryKey) returns the original MsgKey and
// stores nothing.
func sendMsg(c *call) (any, error) {
	var req struct {
		SyncOtherMachine      int
		From_Account          string
		To_Account            string
		MsgLifeTime           *int64
		MsgSeq                uint32
		MsgRandom             uint32
		MsgBody               json.RawMessage
		CloudCustomData       string
		SendMsgControl        []string
		ForbidCallbackControl []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	forbid, err := im.ParseForbid(req.ForbidCallbackControl)
	if err != nil {
		return nil, err
	}
	if req.To_Account == "" {
		return nil, errs.New(errs.MsgToAccount, "To_Account is required")
	}
	sr := im.SendRequest{
		From: req.From_Account, To: req.To_Account, Random: req.MsgRandom,
		Body: req.MsgBody, CloudCustomData: req.CloudCustomData, Forbid: forbid,
	}
	if err := (sendFields{req.SyncOtherMachine, req.MsgLifeTime, req.MsgSeq, req.SendMsgControl}).apply(&sr); err != nil {
		return nil, err
	}
	if req.MsgRandom != 0 {
		sr.ClientID = retryKey("s:"+req.To_Account, req.MsgRandom, req.MsgBody, []byte(req.CloudCustomData))
	}
	res, err := c.im().Send(c.ctx, c.app, sr)
	if err != nil {
		return nil, err
	}
	return struct {
		MsgTime int64
		MsgKey  string
		MsgId   string
	}{res.MsgTime, res.MsgKey, res.MsgKey}, nil
}

// openim/batchsendmsg: To_Account [...] -> MsgKey, MsgId, ErrorList [{To_Account, ErrorCode}].
func batchSendMsg(c *call) (any, error) {
	var req struct {
		SyncOtherMachine      int
		From_Account          string
		To_Account            []string
		MsgLifeTime           *int64
		MsgSeq                uint32
		MsgRandom             uint32
		MsgBody               json.RawMessage
		CloudCustomData       string
		SendMsgControl        []string
		ForbidCallbackControl []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	forbid, err := im.ParseForbid(req.ForbidCallbackControl)
	if err != nil {
		return nil, err
	}
	sr := im.SendRequest{
		From: req.From_Account, Random: req.MsgRandom,
		Body: req.MsgBody, CloudCustomData: req.CloudCustomData, Forbid: forbid,
	}
	if err := (sendFields{req.SyncOtherMachine, req.MsgLifeTime, req.MsgSeq, req.SendMsgControl}).apply(&sr); err != nil {
		return nil, err
	}
	if req.MsgRandom != 0 {
		// The domain appends ":<receiver>" per receiver.
		sr.ClientID = retryKey("b", req.MsgRandom, req.MsgBody, []byte(req.CloudCustomData))
	}
	res, failed, err := c.im().BatchSend(c.ctx, c.app, sr, req.To_Account)
	if err != nil {
		return nil, err
	}
	type failure struct {
		To_Account string
		ErrorCode  int
	}
	errorList := []failure{}
	seen := map[string]bool{}
	for _, to := range req.To_Account {
		if e, ok := failed[to]; ok && !seen[to] {
			seen[to] = true
			if errs.CodeOf(e) == errs.Internal { // the list carries codes only: log the cause
				c.h.log.Error("restapi: batchsendmsg receiver failed", "app", c.app.SDKAppID, "to", to, "err", e)
			}
			errorList = append(errorList, failure{to, errs.CodeOf(e)})
		}
	}
	return struct {
		MsgKey    string
		MsgId     string
		ErrorList []failure
	}{res.MsgKey, res.MsgKey, errorList}, nil
}

// openim/importmsg: {SyncFromOldSystem, From_Account, To_Account, MsgSeq, MsgRandom,
// MsgTimeStamp, MsgBody, CloudCustomData} -> envelope. The message keeps its
// MsgTimeStamp and is stored for both users; SyncFromOldSystem 1 (a real-time
// import) counts it as unread, 2 (a historical import) does not. The first
// import of a (MsgSeq, MsgRandom, MsgTimeStamp) in a conversation is kept: a later
// one, in either direction, answers success and stores nothing.
func importMsg(c *call) (any, error) {
	var req struct {
		SyncFromOldSystem int
		From_Account      string
		To_Account        string
		MsgSeq            uint32
		MsgRandom         uint32
		MsgTimeStamp      int64
		MsgBody           json.RawMessage
		CloudCustomData   string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.To_Account == "" {
		return nil, errs.New(errs.MsgToAccount, "To_Account is required")
	}
	if req.SyncFromOldSystem < 0 || req.SyncFromOldSystem > 2 {
		return nil, c.bad("SyncFromOldSystem must be 1 (real-time import) or 2 (history), not %d", req.SyncFromOldSystem)
	}
	sr := im.SendRequest{
		From: req.From_Account, To: req.To_Account, Random: req.MsgRandom, MsgSeq: int64(req.MsgSeq),
		Body: req.MsgBody, CloudCustomData: req.CloudCustomData,
		Import: true, ImportUnread: req.SyncFromOldSystem == 1, Time: req.MsgTimeStamp,
	}
	if req.MsgRandom != 0 {
		sr.ClientID = retryKey("i:"+req.To_Account, req.MsgRandom, req.MsgBody, []byte(req.CloudCustomData),
			[]byte(strconv.FormatInt(req.MsgTimeStamp, 10)))
	}
	_, err := c.im().Send(c.ctx, c.app, sr)
	return nil, err
}

// roamMsg is one message of admin_getroammsg.
type roamMsg struct {
	From_Account    string
	To_Account      string
	MsgSeq          int64
	MsgRandom       uint32
	MsgTimeStamp    int64
	MsgFlagBits     int
	IsPeerRead      int
	MsgKey          string
	MsgBody         json.RawMessage
	CloudCustomData string
}

// openim/admin_getroammsg: {Operator_Account|From_Account, Peer_Account|To_Account,
// MaxCnt, MinTime, MaxTime, LastMsgKey} -> Complete, MsgCnt, LastMsgTime,
// LastMsgKey, MsgList (newest first, from the operator's copy of the conversation).
func adminGetRoamMsg(c *call) (any, error) {
	var req struct {
		Operator_Account string
		Peer_Account     string
		From_Account     string // dobyte's spelling of Operator_Account
		To_Account       string // dobyte's spelling of Peer_Account
		MaxCnt           int
		MinTime          int64
		MaxTime          int64
		LastMsgKey       string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	owner := pickID(req.Operator_Account, req.From_Account)
	peer := pickID(req.Peer_Account, req.To_Account)
	if owner == "" || peer == "" {
		return nil, c.bad("Operator_Account and Peer_Account (or From_Account and To_Account) are required")
	}
	page, err := c.im().History(c.ctx, c.app, owner, peer, req.MinTime, req.MaxTime, req.MaxCnt, req.LastMsgKey)
	if err != nil {
		return nil, err
	}
	list := make([]roamMsg, 0, len(page.Messages))
	for _, e := range page.Messages {
		m := roamMsg{
			From_Account: e.From, To_Account: e.To, MsgSeq: e.MsgSeq, MsgRandom: e.MsgRandom,
			MsgTimeStamp: e.MsgTime, MsgKey: e.MsgKey, MsgBody: json.RawMessage(e.Body),
			CloudCustomData: e.CloudCustomData,
		}
		if e.Recalled {
			// Flagged, and without its content: as on the WebSocket protocol, a
			// recalled message's body is no longer handed out.
			m.MsgFlagBits = msgFlagRecalled
			m.MsgBody = nil
		}
		if len(m.MsgBody) == 0 || !json.Valid(m.MsgBody) {
			m.MsgBody = json.RawMessage("[]")
		}
		if e.From == owner && page.PeerRead >= e.MsgTime {
			m.IsPeerRead = 1
		}
		list = append(list, m)
	}
	out := struct {
		Complete    int
		MsgCnt      int
		LastMsgTime int64
		LastMsgKey  string
		MsgList     []roamMsg
	}{MsgCnt: len(list), LastMsgKey: page.LastMsgKey, MsgList: list}
	if page.Complete {
		out.Complete = 1
	}
	if len(list) > 0 {
		out.LastMsgTime = list[len(list)-1].MsgTimeStamp
	}
	return out, nil
}

// openim/admin_msgwithdraw: {From_Account, To_Account, MsgKey} -> envelope. The admin
// may recall at any time.
func adminMsgWithdraw(c *call) (any, error) {
	var req struct {
		From_Account string
		To_Account   string
		MsgKey       string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.From_Account == "" || req.To_Account == "" || req.MsgKey == "" {
		return nil, c.bad("From_Account, To_Account and MsgKey are required")
	}
	return nil, c.im().Recall(c.ctx, c.app, req.From_Account, req.To_Account, req.MsgKey, true)
}

// openim/admin_set_msg_read: {Report_Account, Peer_Account, MsgReadTime} -> envelope.
func adminSetMsgRead(c *call) (any, error) {
	var req struct {
		Report_Account string
		Peer_Account   string
		MsgReadTime    int64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Report_Account == "" || req.Peer_Account == "" {
		return nil, c.bad("Report_Account and Peer_Account are required")
	}
	return nil, c.im().MarkRead(c.ctx, c.app, req.Report_Account, req.Peer_Account, req.MsgReadTime)
}

// openim/get_c2c_unread_msg_num: {To_Account, Peer_Account [...]} ->
// AllC2CUnreadMsgNum (all conversations), C2CUnreadMsgNumList (the listed peers, or
// every conversation with unread messages when none is listed), ErrorList.
func getC2CUnreadMsgNum(c *call) (any, error) {
	var req struct {
		To_Account   string
		Peer_Account []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.To_Account == "" {
		return nil, errs.New(errs.MsgToAccount, "To_Account is required")
	}
	res, err := c.im().Unread(c.ctx, c.app, req.To_Account, req.Peer_Account)
	if err != nil {
		return nil, err
	}
	type failure struct {
		Peer_Account string
		ErrorCode    int
	}
	type count struct {
		Peer_Account    string
		C2CUnreadMsgNum int
	}
	errorList := []failure{}
	list := []count{}
	if len(req.Peer_Account) > 0 { // in the order asked
		for _, p := range req.Peer_Account {
			if err := res.Failed[p]; err != nil {
				errorList = append(errorList, failure{p, errs.CodeOf(err)})
			} else {
				list = append(list, count{p, res.ByPeer[p]})
			}
		}
	} else {
		for p, n := range res.ByPeer {
			list = append(list, count{p, n})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Peer_Account < list[j].Peer_Account })
	}
	total := res.Total
	return struct {
		AllC2CUnreadMsgNum  int
		C2CUnreadMsgNumList []count
		ErrorList           []failure
	}{total, list, errorList}, nil
}
