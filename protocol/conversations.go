package protocol

// Conversation ops (docs/protocol.md, "Conversations"). A conversation is
// named by conv_type (1 one-to-one, the default; 2 group) and peer (the other
// UserID, or the GroupId).
const (
	OpConvList        = "conv_list"         // one page of the conversation list
	OpConvDelete      = "conv_delete"       // delete a conversation (clear: also its history)
	OpConvPin         = "conv_pin"          // pin or unpin (pinned)
	OpConvMark        = "conv_mark"         // set_mark, clear_mark, custom_mark (Free Trial and Premium)
	OpConvGroups      = "conv_groups"       // marked and grouped conversations and the groups (Free Trial and Premium)
	OpConvGroupCreate = "conv_group_create" // group_name, add (Free Trial and Premium)
	OpConvGroupRename = "conv_group_rename" // group_name, new_group_name
	OpConvGroupUpdate = "conv_group_update" // group_name, add, remove
	OpConvGroupDelete = "conv_group_delete" // group_name
	OpConvChanged     = "conv_changed"      // server push: the user's conversation list changed
)

// ConvOps lists the conversation ops a device sends.
var ConvOps = []string{OpConvList, OpConvDelete, OpConvPin, OpConvMark, OpConvGroups,
	OpConvGroupCreate, OpConvGroupRename, OpConvGroupUpdate, OpConvGroupDelete}

func init() { ClientOps = append(ClientOps, ConvOps...) }

// ConvFields are the conversation fields of a Frame (embedded in it).
type ConvFields struct {
	ConvType     int         `json:"conv_type,omitempty"`
	Pinned       bool        `json:"pinned,omitempty"`
	Clear        bool        `json:"clear,omitempty"`
	Cursor       *ConvCursor `json:"cursor,omitempty"` // conv_list: where to start; in the reply, the next page's
	Flags        int64       `json:"flags,omitempty"`  // conv_list: AssistFlags (bit 0 pinned first, 1 empty, 2 pinned paged)
	Convs        []Conv      `json:"convs,omitempty"`
	Conv         *Conv       `json:"conv,omitempty"`
	SetMark      []int       `json:"set_mark,omitempty"`
	ClearMark    []int       `json:"clear_mark,omitempty"`
	CustomMark   *string     `json:"custom_mark,omitempty"`
	GroupName    string      `json:"group_name,omitempty"`
	NewGroupName string      `json:"new_group_name,omitempty"`
	Add          []ConvRef   `json:"add,omitempty"`
	Remove       []ConvRef   `json:"remove,omitempty"`
	Groups       []ConvGroup `json:"groups,omitempty"`
	// Codes is one result code per add, then per remove (conv_group_update).
	Codes []int `json:"codes,omitempty"`
}

// ConvCursor is a conv_list position (the reference's four cursors).
type ConvCursor struct {
	Time     int64 `json:"time"`
	Index    int64 `json:"index"`
	TopTime  int64 `json:"top_time"`
	TopIndex int64 `json:"top_index"`
}

// ConvRef names a conversation.
type ConvRef struct {
	Type int    `json:"type"`
	Peer string `json:"peer"`
}

// Conv is a conversation of a list page or a conv_changed push.
type Conv struct {
	Type       int     `json:"type"`
	Peer       string  `json:"peer"`
	MsgTime    int64   `json:"msg_time,omitempty"`
	MsgKey     string  `json:"msg_key,omitempty"`
	From       string  `json:"from,omitempty"`
	Seq        int64   `json:"seq,omitempty"`
	Unread     int     `json:"unread,omitempty"`
	Pinned     bool    `json:"pinned,omitempty"`
	Marks      string  `json:"marks,omitempty"` // standard mark bits as a binary string, bit 0 last
	CustomMark string  `json:"custom_mark,omitempty"`
	Groups     []int64 `json:"groups,omitempty"`
	Deleted    bool    `json:"deleted,omitempty"` // conv_changed: the conversation left the list
}

// ConvGroup is a conversation group.
type ConvGroup struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}
