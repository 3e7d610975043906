package callback

import "encoding/json"

// The bodies below carry the reference's field names (reference §6 and the
// per-command pages it cites); each starts with Head. Fields a receiver may
// rely on are always present (no omitempty) unless the reference leaves them
// out when empty.

// Member is one element of a member list.
type Member struct {
	Account string `json:"Member_Account"`
}

// Members turns UserIDs into a member list (never null).
func Members(ids []string) []Member {
	out := make([]Member, len(ids))
	for i, id := range ids {
		out[i] = Member{id}
	}
	return out
}

// StateChangeBody is State.StateChange.
type StateChangeBody struct {
	Head
	Info struct {
		Action  string `json:"Action"` // "Login", "Logout", "Disconnect"
		Account string `json:"To_Account"`
		Reason  string `json:"Reason"`
	} `json:"Info"`
	KickedDevice []KickedDevice `json:"KickedDevice,omitempty"`
}

// KickedDevice is a device a login ended.
type KickedDevice struct {
	Platform string `json:"Platform"`
}

// ProfileItem is one changed profile field.
type ProfileItem struct {
	Tag   string `json:"Tag"`
	Value any    `json:"Value"`
}

// PortraitSetBody is Profile.CallbackPortraitSet.
type PortraitSetBody struct {
	Head
	Operator    string        `json:"Operator_Account"`
	From        string        `json:"From_Account"`
	ProfileItem []ProfileItem `json:"ProfileItem"`
}

// FriendItem is one item of Sns.CallbackPrevFriendAdd.
type FriendItem struct {
	To         string `json:"To_Account"`
	Remark     string `json:"Remark"`
	GroupName  string `json:"GroupName"`
	AddSource  string `json:"AddSource"`
	AddWording string `json:"AddWording"`
}

// PrevFriendAddBody is Sns.CallbackPrevFriendAdd.
type PrevFriendAddBody struct {
	Head
	Requester     string       `json:"Requester_Account"`
	From          string       `json:"From_Account"`
	AddType       string       `json:"AddType"`
	ForceAddFlags int          `json:"ForceAddFlags"`
	FriendItem    []FriendItem `json:"FriendItem"`
}

// ResponseItem is one item of Sns.CallbackPrevFriendResponse.
type ResponseItem struct {
	To             string `json:"To_Account"`
	Remark         string `json:"Remark"`
	TagName        string `json:"TagName"`
	ResponseAction string `json:"ResponseAction"`
}

// PrevFriendResponseBody is Sns.CallbackPrevFriendResponse.
type PrevFriendResponseBody struct {
	Head
	Requester          string         `json:"Requester_Account"`
	From               string         `json:"From_Account"`
	ResponseFriendItem []ResponseItem `json:"ResponseFriendItem"`
}

// Pair is one relation of a PairList.
type Pair struct {
	From      string `json:"From_Account"`
	To        string `json:"To_Account"`
	Initiator string `json:"Initiator_Account,omitempty"` // Sns.CallbackFriendAdd only
}

// FriendAddBody is Sns.CallbackFriendAdd.
type FriendAddBody struct {
	Head
	PairList  []Pair `json:"PairList"`
	ClientCmd string `json:"ClientCmd"` // "friend_add", "friend_response" (or the client's names)
	Admin     string `json:"Admin_Account"`
	ForceFlag int    `json:"ForceFlag"`
}

// PairsBody is Sns.CallbackFriendDelete, Sns.CallbackBlackListAdd and
// Sns.CallbackBlackListDelete.
type PairsBody struct {
	Head
	PairList []Pair `json:"PairList"`
}

// C2CMsgBody is C2C.CallbackBeforeSendMsg and, with the result fields,
// C2C.CallbackAfterSendMsg.
type C2CMsgBody struct {
	Head
	From            string          `json:"From_Account"`
	To              string          `json:"To_Account"`
	MsgSeq          int64           `json:"MsgSeq"`
	MsgRandom       uint32          `json:"MsgRandom"`
	MsgTime         int64           `json:"MsgTime"` // seconds
	MsgKey          string          `json:"MsgKey"`
	MsgId           string          `json:"MsgId,omitempty"`
	OnlineOnlyFlag  int             `json:"OnlineOnlyFlag"`
	MsgBody         json.RawMessage `json:"MsgBody"`
	CloudCustomData string          `json:"CloudCustomData"`
	// After-send only (pointers: absent from the before-event).
	SendMsgResult *int    `json:"SendMsgResult,omitempty"` // 0: delivered
	ErrorInfo     *string `json:"ErrorInfo,omitempty"`     // "send msg succeed"
	UnreadMsgNum  *int    `json:"UnreadMsgNum,omitempty"`  // the receiver's unread one-to-one messages
}

// MsgReportBody is C2C.CallbackAfterMsgReport (a read report).
type MsgReportBody struct {
	Head
	Report       string `json:"Report_Account"`
	Peer         string `json:"Peer_Account"`
	LastReadTime int64  `json:"LastReadTime"` // seconds
	UnreadMsgNum int    `json:"UnreadMsgNum"`
}

// MsgWithDrawBody is C2C.CallbackAfterMsgWithDraw (a recall).
type MsgWithDrawBody struct {
	Head
	From         string `json:"From_Account"`
	To           string `json:"To_Account"`
	MsgKey       string `json:"MsgKey"`
	UnreadMsgNum int    `json:"UnreadMsgNum"`
}

// KeyValue is one UserDefinedDataList item.
type KeyValue struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// CreateGroupBody is Group.CallbackBeforeCreateGroup and (with GroupId)
// Group.CallbackAfterCreateGroup.
type CreateGroupBody struct {
	Head
	GroupId             string     `json:"GroupId,omitempty"` // after-event only
	Operator            string     `json:"Operator_Account"`
	Owner               string     `json:"Owner_Account"`
	Type                string     `json:"Type"`
	Name                string     `json:"Name"`
	CreateGroupNum      int        `json:"CreateGroupNum"`
	MemberList          []Member   `json:"MemberList"`
	UserDefinedDataList []KeyValue `json:"UserDefinedDataList,omitempty"`
}

// ApplyJoinBody is Group.CallbackBeforeApplyJoinGroup.
type ApplyJoinBody struct {
	Head
	GroupId   string `json:"GroupId"`
	Type      string `json:"Type"`
	Requestor string `json:"Requestor_Account"`
}

// InviteJoinBody is Group.CallbackBeforeInviteJoinGroup.
type InviteJoinBody struct {
	Head
	GroupId            string   `json:"GroupId"`
	Type               string   `json:"Type"`
	Operator           string   `json:"Operator_Account"`
	DestinationMembers []Member `json:"DestinationMembers"`
}

// NewMemberBody is Group.CallbackAfterNewMemberJoin.
type NewMemberBody struct {
	Head
	GroupId       string   `json:"GroupId"`
	Type          string   `json:"Type"`
	JoinType      string   `json:"JoinType"` // "Apply", "Invited"
	Operator      string   `json:"Operator_Account"`
	NewMemberList []Member `json:"NewMemberList"`
}

// MemberExitBody is Group.CallbackAfterMemberExit.
type MemberExitBody struct {
	Head
	GroupId        string   `json:"GroupId"`
	Type           string   `json:"Type"`
	ExitType       string   `json:"ExitType"` // "Kicked", "Quit"
	Operator       string   `json:"Operator_Account"`
	ExitMemberList []Member `json:"ExitMemberList"`
}

// GroupMsgBody is Group.CallbackBeforeSendMsg and (with MsgSeq and MsgTime)
// Group.CallbackAfterSendMsg.
type GroupMsgBody struct {
	Head
	GroupId         string          `json:"GroupId"`
	Type            string          `json:"Type"`
	From            string          `json:"From_Account"`
	Operator        string          `json:"Operator_Account"`
	Random          uint32          `json:"Random"`
	MsgSeq          int64           `json:"MsgSeq,omitempty"`  // after-event
	MsgTime         int64           `json:"MsgTime,omitempty"` // after-event, seconds
	OnlineOnlyFlag  int             `json:"OnlineOnlyFlag"`
	MsgBody         json.RawMessage `json:"MsgBody"`
	CloudCustomData string          `json:"CloudCustomData,omitempty"`
	TopicId         string          `json:"TopicId,omitempty"`
}

// GroupDestroyedBody is Group.CallbackAfterGroupDestroyed.
type GroupDestroyedBody struct {
	Head
	GroupId    string   `json:"GroupId"`
	Type       string   `json:"Type"`
	Owner      string   `json:"Owner_Account"`
	Name       string   `json:"Name"`
	MemberList []Member `json:"MemberList"`
}

// GroupInfoChangedBody is Group.CallbackAfterGroupInfoChanged: the fields
// that changed are set.
type GroupInfoChangedBody struct {
	Head
	GroupId      string  `json:"GroupId"`
	Type         string  `json:"Type"`
	Operator     string  `json:"Operator_Account"`
	Name         *string `json:"Name,omitempty"`
	Introduction *string `json:"Introduction,omitempty"`
	Notification *string `json:"Notification,omitempty"`
	FaceUrl      *string `json:"FaceUrl,omitempty"`
}

// ChangeOwnerBody is Group.CallbackAfterChangeGroupOwner.
type ChangeOwnerBody struct {
	Head
	GroupId  string `json:"GroupId"`
	Type     string `json:"Type"`
	Operator string `json:"Operator_Account"`
	OldOwner string `json:"OldOwner_Account"`
	NewOwner string `json:"NewOwner_Account"`
}

// MsgSeqItem is one recalled message.
type MsgSeqItem struct {
	MsgSeq int64 `json:"MsgSeq"`
}

// RecallBody is Group.CallbackAfterRecallMsg.
type RecallBody struct {
	Head
	GroupId    string       `json:"GroupId"`
	Type       string       `json:"Type"`
	Operator   string       `json:"Operator_Account"`
	MsgSeqList []MsgSeqItem `json:"MsgSeqList"`
	TopicId    string       `json:"TopicId,omitempty"`
}
