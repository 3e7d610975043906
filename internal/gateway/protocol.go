package gateway

import (
	"encoding/json"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// The wire types live in the public protocol package, shared with the Go client.
type (
	Frame = protocol.Frame
	Entry = protocol.Entry
)

// Protocol ops, as used by the gateway.
const (
	OpLogin  = protocol.OpLogin
	OpSend   = protocol.OpSend
	OpSync   = protocol.OpSync
	OpRead   = protocol.OpRead
	OpRecall = protocol.OpRecall
	OpPing   = protocol.OpPing
	OpPong   = protocol.OpPong
	OpEntry  = protocol.OpEntry
	OpKicked = protocol.OpKicked
	OpError  = protocol.OpError
)

func wireEntry(e *store.Entry) Entry {
	w := Entry{
		Seq: e.Seq, Kind: e.Kind, Peer: e.Peer, From: e.From, To: e.To,
		MsgKey: e.MsgKey, MsgSeq: e.MsgSeq, MsgRandom: e.MsgRandom, MsgTime: e.MsgTime,
		ClientMsgID: e.ClientID, CloudCustomData: e.CloudCustomData, Recalled: e.Recalled, ReadTime: e.ReadTime,
	}
	if len(e.Body) > 0 && e.Kind == store.KindMsg && !e.Recalled {
		w.Body = json.RawMessage(e.Body)
	}
	return w
}
