package gateway

import (
	"encoding/json"
	"strconv"

	"github.com/chatd/chatd/internal/jsonscan"
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

	OpLogHead = protocol.OpLogHead

	OpSetStatus   = protocol.OpSetStatus
	OpSubscribe   = protocol.OpSubscribe
	OpUnsubscribe = protocol.OpUnsubscribe
)

// encodeEntry is the one JSON encoding of e shared by every frame that carries
// it: the bytes json.Marshal gives for wireEntry(e), written without
// reflection (TestAssembledFramesMatchMarshal).
func encodeEntry(e *store.Entry) []byte {
	b := make([]byte, 0, 200+len(e.Kind)+len(e.Peer)+len(e.From)+len(e.To)+len(e.MsgKey)+len(e.ClientID)+len(e.Body)+len(e.CloudCustomData))
	b = strconv.AppendInt(append(b, `{"seq":`...), e.Seq, 10)
	b = appendString(append(b, `,"kind":`...), e.Kind)
	b = appendString(append(b, `,"peer":`...), e.Peer)
	b = appendString(append(b, `,"from":`...), e.From)
	b = appendString(append(b, `,"to":`...), e.To)
	if e.MsgKey != "" {
		b = appendString(append(b, `,"msg_key":`...), e.MsgKey)
	}
	if e.MsgSeq != 0 {
		b = strconv.AppendInt(append(b, `,"msg_seq":`...), e.MsgSeq, 10)
	}
	if e.MsgRandom != 0 {
		b = strconv.AppendUint(append(b, `,"msg_random":`...), uint64(e.MsgRandom), 10)
	}
	if e.MsgTime != 0 {
		b = strconv.AppendInt(append(b, `,"msg_time":`...), e.MsgTime, 10)
	}
	if e.ClientID != "" {
		b = appendString(append(b, `,"client_msg_id":`...), e.ClientID)
	}
	if len(e.Body) > 0 && e.Kind == store.KindMsg && !e.Recalled {
		b = appendRaw(append(b, `,"body":`...), e.Body)
	}
	if e.CloudCustomData != "" {
		b = appendString(append(b, `,"cloud_custom_data":`...), e.CloudCustomData)
	}
	if e.Recalled {
		b = append(b, `,"recalled":true`...)
	}
	if e.ReadTime != 0 {
		b = strconv.AppendInt(append(b, `,"read_time":`...), e.ReadTime, 10)
	}
	return append(b, '}')
}

// appendString appends s as json.Marshal encodes it: as it is when it has only
// printable ASCII that needs no escape (HTML's <, > and & included), otherwise
// through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			m, _ := json.Marshal(s) // a string: cannot fail
			return append(b, m...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendRaw appends the JSON value v as json.Marshal encodes a RawMessage
// (compacted, HTML characters and U+2028/U+2029 escaped): as it is when it has
// no space outside its strings and none of those characters, otherwise through
// json.Marshal.
func appendRaw(b []byte, v []byte) []byte {
	inString := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			i++ // the escaped character
		case c == '<' || c == '>' || c == '&' || c == 0xe2, // 0xe2 starts U+2028 and U+2029
			!inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			m, err := json.Marshal(json.RawMessage(v))
			if err != nil {
				return append(b, "null"...) // not reached: bodies are checked
			}
			return append(b, m...)
		}
	}
	return append(b, v...)
}

const entryPrefix = `{"op":"entry","code":0,"entry":`

// entryFrame is the push of an encoded entry: the bytes json.Marshal gives for
// Frame{Op: OpEntry, Entry: e}, without encoding e again.
func entryFrame(entry []byte) []byte { return pushFrame(entryPrefix, entry) }

// pushFrame is a push frame: prefix (`{"op":…,"code":0,"entry":`), the
// encoded entry and the closing brace.
func pushFrame(prefix string, entry []byte) []byte {
	b := make([]byte, 0, len(prefix)+len(entry)+1)
	b = append(b, prefix...)
	b = append(b, entry...)
	return append(b, '}')
}

// sendAck is the reply to the send request id that wrote e, the sender's copy,
// carrying e (encoded as entry) so the device needs no push of its own message:
// the bytes json.Marshal gives for Frame{Op: OpSend, ID: id, ClientMsgID,
// MsgKey, MsgTime, Seq, Entry} (fields in Frame's order).
func sendAck(id string, e *store.Entry, entry []byte) []byte {
	b := make([]byte, 0, 96+len(id)+len(e.ClientID)+len(e.MsgKey)+len(entry))
	b = append(b, `{"op":"send"`...)
	if id != "" {
		b = appendString(append(b, `,"id":`...), id)
	}
	b = append(b, `,"code":0`...)
	if e.ClientID != "" {
		b = appendString(append(b, `,"client_msg_id":`...), e.ClientID)
	}
	if e.MsgKey != "" {
		b = appendString(append(b, `,"msg_key":`...), e.MsgKey)
	}
	if e.MsgTime != 0 {
		b = strconv.AppendInt(append(b, `,"msg_time":`...), e.MsgTime, 10)
	}
	if e.Seq != 0 {
		b = strconv.AppendInt(append(b, `,"seq":`...), e.Seq, 10)
	}
	b = append(b, `,"entry":`...)
	b = append(b, entry...)
	return append(b, '}')
}

// scanFrame decodes the common form of a device's frame (valid UTF-8 per
// input.JSON) into f in one strict scan: known keys spelled exactly, strings
// without escapes, integers of at most 18 digits, true and false, and a body of
// any JSON value but null. It reports false for anything else, which
// json.Unmarshal then decodes (or refuses); what it accepts, json.Unmarshal
// decodes to the same Frame (FuzzScanFrame).
func scanFrame(data []byte, f *Frame) bool {
	s := &jsonscan.Scanner{B: data}
	if !s.Next('{') {
		return false
	}
	if s.Next('}') {
		return s.End()
	}
	for {
		k, ok := s.PlainString(true)
		if !ok || !s.Next(':') {
			return false
		}
		var str *string
		var num *int64
		var flag *bool
		switch string(k) {
		case "op":
			str = &f.Op
		case "id":
			str = &f.ID
		case "message":
			str = &f.Message
		case "user":
			str = &f.User
		case "usersig":
			str = &f.UserSig
		case "platform":
			str = &f.Platform
		case "conn_id":
			str = &f.ConnID
		case "to":
			str = &f.To
		case "peer":
			str = &f.Peer
		case "client_msg_id":
			str = &f.ClientMsgID
		case "cloud_custom_data":
			str = &f.CloudCustomData
		case "msg_key":
			str = &f.MsgKey
		case "reason":
			str = &f.Reason
		case "sdkappid":
			num = &f.SDKAppID
		case "msg_time":
			num = &f.MsgTime
		case "time":
			num = &f.Time
		case "seq":
			num = &f.Seq
		case "after":
			num = &f.After
		case "code", "limit":
			n, ok := s.Int()
			if !ok {
				return false
			}
			if string(k) == "code" {
				f.Code = int(n)
			} else {
				f.Limit = int(n)
			}
		case "duplicate":
			flag = &f.Duplicate
		case "complete":
			flag = &f.Complete
		case "body":
			if s.Peek() == 'n' {
				return false // null: left to the decoder
			}
			start := s.I
			if !s.Value(0) {
				return false
			}
			f.Body = append(json.RawMessage(nil), data[start:s.I]...)
		default:
			return false
		}
		switch {
		case str != nil:
			v, ok := s.PlainString(false)
			if !ok {
				return false
			}
			*str = string(v)
		case num != nil:
			n, ok := s.Int()
			if !ok {
				return false
			}
			*num = n
		case flag != nil:
			switch {
			case s.Literal("true"):
				*flag = true
			case s.Literal("false"):
				*flag = false
			default:
				return false
			}
		}
		if s.Next(',') {
			continue
		}
		return s.Next('}') && s.End()
	}
}
