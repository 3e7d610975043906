package protocol

// Read receipts of group messages (docs/protocol.md "Group read receipts").
const (
	// OpGroupReceipt: the device's user read the group messages seqs (each
	// sent with need_receipt): group, seqs (≤ MaxReceiptSeqs). Reply: code.
	OpGroupReceipt = "group_receipt"
	// OpGroupReceiptUpdate is the server push to a message's sender when its
	// read count changed: group, receipts (the newest counts, one item per
	// message; changes within one push window are coalesced).
	OpGroupReceiptUpdate = "group_receipt_update"
)

// MaxReceiptSeqs bounds the seqs of one group_receipt (and the MsgSeqList of
// the REST receipt commands).
const MaxReceiptSeqs = 100

func init() {
	GroupOps = append(GroupOps, OpGroupReceipt)
	ClientOps = append(ClientOps, OpGroupReceipt)
}

// GroupReceiptFields are the read-receipt fields of a Frame (embedded in it).
type GroupReceiptFields struct {
	Seqs     []int64        `json:"seqs,omitempty"`     // group_receipt: the messages read
	Receipts []GroupReceipt `json:"receipts,omitempty"` // group_receipt_update push
}

// GroupReceipt is the read state of one group message sent with need_receipt:
// read members read it, unread did not (the sender and members who joined
// after it do not count; a targeted message counts its targets only).
type GroupReceipt struct {
	Seq    int64 `json:"seq"`
	Read   int   `json:"read"`
	Unread int   `json:"unread"`
}
