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

// encodeEntry is the one JSON encoding of e shared by every frame that carries it.
func encodeEntry(e *store.Entry) []byte {
	b, _ := json.Marshal(wireEntry(e)) // strings, numbers and a checked body: cannot fail
	return b
}

const entryPrefix = `{"op":"entry","code":0,"entry":`

// entryFrame is the push of an encoded entry: the bytes json.Marshal gives for
// Frame{Op: OpEntry, Entry: e}, without encoding e again.
func entryFrame(entry []byte) []byte {
	b := make([]byte, 0, len(entryPrefix)+len(entry)+1)
	b = append(b, entryPrefix...)
	b = append(b, entry...)
	return append(b, '}')
}

// sendAck is the reply to the send request id that wrote e, the sender's copy,
// carrying e (encoded as entry) so the device needs no push of its own message.
func sendAck(id string, e *store.Entry, entry []byte) []byte {
	head, _ := json.Marshal(Frame{Op: OpSend, ID: id, MsgKey: e.MsgKey, MsgTime: e.MsgTime, Seq: e.Seq, ClientMsgID: e.ClientID})
	// head ends with the frame's closing brace: the entry goes before it.
	b := make([]byte, 0, len(head)+len(`,"entry":`)+len(entry))
	b = append(b, head[:len(head)-1]...)
	b = append(b, `,"entry":`...)
	b = append(b, entry...)
	return append(b, '}')
}
