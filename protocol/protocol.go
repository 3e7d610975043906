// Package protocol defines the frames of chatd's WebSocket client protocol
// (docs/protocol.md). The server's gateway and the Go client share these types.
package protocol

import "encoding/json"

// Frame is every message of the client protocol, in both directions (docs/protocol.md).
// A request carries Op and ID; its reply repeats both and adds Code (0 = success).
type Frame struct {
	Op      string `json:"op"`
	ID      string `json:"id,omitempty"`
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`

	// login
	SDKAppID int64  `json:"sdkappid,omitempty"`
	User     string `json:"user,omitempty"`
	UserSig  string `json:"usersig,omitempty"`
	Platform string `json:"platform,omitempty"`
	ConnID   string `json:"conn_id,omitempty"`

	// send, read, recall
	To              string          `json:"to,omitempty"`
	Peer            string          `json:"peer,omitempty"`
	ClientMsgID     string          `json:"client_msg_id,omitempty"`
	Body            json.RawMessage `json:"body,omitempty"`
	CloudCustomData string          `json:"cloud_custom_data,omitempty"`
	MsgKey          string          `json:"msg_key,omitempty"`
	MsgTime         int64           `json:"msg_time,omitempty"`
	Time            int64           `json:"time,omitempty"`
	Duplicate       bool            `json:"duplicate,omitempty"`

	// sync; Seq is also the user's newest position in login replies and send acks
	Seq      int64   `json:"seq,omitempty"`
	After    int64   `json:"after,omitempty"`
	Limit    int     `json:"limit,omitempty"`
	Entries  []Entry `json:"entries,omitempty"`
	Complete bool    `json:"complete,omitempty"`
	Entry    *Entry  `json:"entry,omitempty"` // a pushed entry; in a send reply, the sender's copy
	Reason   string  `json:"reason,omitempty"`

	Profile *ProfileNotice `json:"profile,omitempty"` // a profile push (profile.go)
	// login reply: the app's edition and its features (catalog names)
	Edition  string   `json:"edition,omitempty"`
	Features []string `json:"features,omitempty"`

	// user status (status.go)
	Users        []string      `json:"users,omitempty"`
	Status       string        `json:"status,omitempty"`
	CustomStatus string        `json:"custom_status,omitempty"`
	Statuses     []UserStatus  `json:"statuses,omitempty"`
	Failed       []UserFailure `json:"failed,omitempty"`
	// friend requests (docs/protocol.md "Friends"): the friend_requests reply and
	// the friend_request push
	FriendRequests []FriendRequest `json:"friend_requests,omitempty"`
	Request        *FriendRequest  `json:"request,omitempty"`
	ConvFields                     // conversation ops (conversations.go)
	GroupFields                    // group ops (groups.go)

	GroupReceiptFields // group read receipts (group_receipts.go)
}

// FriendRequest is a pending friend request of From to To (Time: Unix seconds).
type FriendRequest struct {
	From       string `json:"from"`
	To         string `json:"to"`
	AddType    string `json:"add_type"`
	AddSource  string `json:"add_source,omitempty"`
	AddWording string `json:"add_wording,omitempty"`
	Time       int64  `json:"time"`
}

// Entry is one item of a user's sync log on the wire.
type Entry struct {
	Seq             int64           `json:"seq"`
	Kind            string          `json:"kind"`
	Peer            string          `json:"peer"`
	From            string          `json:"from"`
	To              string          `json:"to"`
	MsgKey          string          `json:"msg_key,omitempty"`
	MsgSeq          int64           `json:"msg_seq,omitempty"`
	MsgRandom       uint32          `json:"msg_random,omitempty"`
	MsgTime         int64           `json:"msg_time,omitempty"`
	ClientMsgID     string          `json:"client_msg_id,omitempty"`
	Body            json.RawMessage `json:"body,omitempty"`
	CloudCustomData string          `json:"cloud_custom_data,omitempty"`
	Recalled        bool            `json:"recalled,omitempty"`
	ReadTime        int64           `json:"read_time,omitempty"`
	// Group log entries (group_entry, group_sync, group_send): the group, and
	// a targeted message's receivers and read-receipt request.
	Group       string   `json:"group,omitempty"`
	Targets     []string `json:"targets,omitempty"`
	NeedReceipt bool     `json:"need_receipt,omitempty"`
}

// Protocol ops.
const (
	OpLogin  = "login"
	OpSend   = "send"
	OpSync   = "sync"
	OpRead   = "read"
	OpRecall = "recall"
	OpPing   = "ping"
	OpPong   = "pong"
	OpEntry  = "entry"  // server push: a new entry of the user's log
	OpKicked = "kicked" // server push: the session ends
	OpError  = "error"  // server push: a frame could not be understood
	// OpLogHead is a server push: the user's log reaches seq (Frame.Seq); a
	// device that has delivered less syncs (sent after the node's link to the
	// other nodes came back, when pushes may have been lost).
	OpLogHead = "log_head"

	// Friends (docs/protocol.md "Friends").
	OpFriendRequests = "friend_requests" // list the pending requests sent to the user
	OpFriendAccept   = "friend_accept"   // accept the request of peer
	OpFriendRefuse   = "friend_refuse"   // refuse the request of peer
	OpFriendRequest  = "friend_request"  // server push: a request arrived (request)
	OpFriendAdded    = "friend_added"    // server push: a friendship with peer was made
	OpFriendDeleted  = "friend_deleted"  // server push: the friendship with peer ended
	OpFriendRefused  = "friend_refused"  // server push: peer refused the user's request
)

// ClientOps lists the ops a device sends, the login first.
var ClientOps = []string{OpLogin, OpSend, OpSync, OpRead, OpRecall, OpPing, OpSetStatus, OpSubscribe, OpUnsubscribe, OpFriendRequests, OpFriendAccept, OpFriendRefuse}
