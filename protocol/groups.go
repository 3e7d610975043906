package protocol

// Group ops (docs/protocol.md "Groups").
const (
	OpGroupSend = "group_send" // send a message to a group: group, body, client_msg_id, cloud_custom_data, targets, need_receipt
	OpGroupSync = "group_sync" // a group's entries with seq > after, oldest first: group, after, limit
	OpGroupRead = "group_read" // the member read the group up to seq
	OpGroupJoin = "group_join" // join (or apply to join) a group: group, message
	OpGroupQuit = "group_quit" // leave a group
	OpGroupList = "group_list" // the user's groups with their heads and unread counts (group_states)

	OpGroupRecall  = "group_recall"  // recall the message seq of group (its sender, the owner or an admin)
	OpGroupApprove = "group_approve" // the owner or an admin approves user's application to group
	OpGroupRefuse  = "group_refuse"  // the owner or an admin refuses user's application to group
	OpGroupAccept  = "group_accept"  // the device's user accepts its invitation to group
	OpGroupDecline = "group_decline" // the device's user declines its invitation to group
	OpGroupEntry   = "group_entry"   // server push: a new entry of a group's log
)

// GroupOps are the client ops of groups.
var GroupOps = []string{OpGroupSend, OpGroupSync, OpGroupRead, OpGroupJoin, OpGroupQuit, OpGroupList,
	OpGroupRecall, OpGroupApprove, OpGroupRefuse, OpGroupAccept, OpGroupDecline}

func init() { ClientOps = append(ClientOps, GroupOps...) }

// GroupFields are the group fields of a Frame (embedded in it). The list of
// group_list is group_states: "groups" is the conversation groups' name.
type GroupFields struct {
	Group       string       `json:"group,omitempty"`        // GroupId or TopicId
	Targets     []string     `json:"targets,omitempty"`      // group_send: a targeted message's receivers (≤ 50)
	NeedReceipt bool         `json:"need_receipt,omitempty"` // group_send: ask for read receipts
	GroupStates []GroupState `json:"group_states,omitempty"` // group_list reply
}

// GroupState is one of the user's groups in a group_list reply.
type GroupState struct {
	Group       string `json:"group"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	LastSeq     int64  `json:"last_seq"`
	ReadSeq     int64  `json:"read_seq"`
	Unread      int    `json:"unread"`
	LastMsgTime int64  `json:"last_msg_time"`
}
