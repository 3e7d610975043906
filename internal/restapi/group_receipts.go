package restapi

import "github.com/chatd/chatd/internal/im"

// registerGroupReceipts registers the read-receipt commands of
// group_open_http_svc (reference §3.7; im/group_receipts.go).
func registerGroupReceipts(add func(path string, fam *family, run func(*call) (any, error), legacy ...string)) {
	const svc = "group_open_http_svc/"
	add(svc+"group_msg_receipt", groupFamily, groupMsgReceipt)
	add(svc+"get_group_msg_receipt", groupFamily, getGroupMsgReceipt)
	add(svc+"get_group_msg_receipt_detail", groupFamily, getGroupMsgReceiptDetail)
}

// msgSeqList is the MsgSeqList of the receipt commands.
type msgSeqList []struct{ MsgSeq int64 }

func (l msgSeqList) seqs() []int64 {
	out := make([]int64, len(l))
	for i, s := range l {
		out[i] = s.MsgSeq
	}
	return out
}

// group_open_http_svc/group_msg_receipt: {GroupId, From_Account (or
// Member_Account), MsgSeqList[{MsgSeq}] (≤ 100)} -> envelope: the member read
// those messages (each sent with NeedReadReceipt: else 10062, nothing marked).
func groupMsgReceipt(c *call) (any, error) {
	var req struct {
		GroupId        string
		From_Account   string
		Member_Account string
		MsgSeqList     msgSeqList
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	reader := req.From_Account
	if reader == "" {
		reader = req.Member_Account
	}
	return nil, c.im().MarkGroupReceipts(c.ctx, c.app, reader, req.GroupId, req.MsgSeqList.seqs())
}

// group_open_http_svc/get_group_msg_receipt: {GroupId, MsgSeqList[{MsgSeq}]
// (≤ 100)} -> {GroupMsgReceiptList[{Code, MsgSeq, ReadNum, UnreadNum}]}, Code
// 10062 for a message sent without NeedReadReceipt.
func getGroupMsgReceipt(c *call) (any, error) {
	var req struct {
		GroupId    string
		MsgSeqList msgSeqList
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	rs, err := c.im().GroupReceipts(c.ctx, c.app, req.GroupId, req.MsgSeqList.seqs())
	if err != nil {
		return nil, err
	}
	type item struct {
		Code      int
		MsgSeq    int64
		ReadNum   int
		UnreadNum int
	}
	out := make([]item, len(rs))
	for i, r := range rs {
		out[i] = item{r.Code, r.Seq, r.ReadNum, r.UnreadNum}
	}
	return struct{ GroupMsgReceiptList []item }{out}, nil
}

// group_open_http_svc/get_group_msg_receipt_detail: {GroupId, MsgSeq, Filter
// (0 read, 1 unread), Cursor ("" first), Count (1..200)} -> {ReadList or
// UnreadList [{Member_Account}], Cursor, IsFinished (1 the last page)}.
func getGroupMsgReceiptDetail(c *call) (any, error) {
	var req struct {
		GroupId string
		MsgSeq  int64
		Filter  int
		Cursor  string
		Count   int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := c.im().GroupReceiptDetail(c.ctx, c.app, req.GroupId, req.MsgSeq, req.Filter, req.Cursor, req.Count)
	if err != nil {
		return nil, err
	}
	type member struct{ Member_Account string }
	list := make([]member, len(d.Users))
	for i, u := range d.Users {
		list[i] = member{u}
	}
	finished := 0
	if d.Finished {
		finished = 1
	}
	if req.Filter == im.ReceiptFilterRead {
		return struct {
			ReadList   []member
			Cursor     string
			IsFinished int
		}{list, d.Cursor, finished}, nil
	}
	return struct {
		UnreadList []member
		Cursor     string
		IsFinished int
	}{list, d.Cursor, finished}, nil
}
