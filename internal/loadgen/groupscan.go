package loadgen

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The group load tags each message with cloud_custom_data "lg:<n>" (n: the
// message's number in the schedule), so that a member finds the message's
// due time in the pushed entry itself (group entries carry no client_msg_id;
// docs/protocol.md ("Groups"), group_entry).

var (
	groupEntryPrefix = []byte(`{"op":"group_entry"`)
	groupSendPrefix  = []byte(`{"op":"group_send",`)
	seqKey           = []byte(`"seq":`)
	kindMsg          = []byte(`"kind":"msg"`)
	loadTagKey       = []byte(`"cloud_custom_data":"lg:`)
)

// loadTag is the cloud_custom_data of message n.
func loadTag(buf []byte, n int) []byte { return strconv.AppendInt(append(buf, "lg:"...), int64(n), 10) }

// gEntry is what a member reads of a group entry.
type gEntry struct {
	Seq int64
	Msg bool // kind "msg"
	N   int  // the load's message number; -1: not a message of the load
}

// scanGroupEntry reads a group_entry push with byte searches instead of a
// JSON decode (one per delivery): the entry's seq, whether it is a message,
// and the load's tag. In valid JSON an unescaped quote never occurs inside a
// string, so `"seq":` and the tag key are keys; the only objects nested in an
// entry are its body, whose keys the load chose (message elements) or the
// server's tips ({"type","operator","users"}), and none of them is "seq" nor
// "cloud_custom_data". ok is false for any other frame, or when a search
// fails: the caller then decodes the frame in full (decodeGroupEntry).
func scanGroupEntry(b []byte) (e gEntry, ok bool) {
	if !bytes.HasPrefix(b, groupEntryPrefix) {
		return e, false
	}
	i := bytes.Index(b, seqKey)
	if i < 0 {
		return e, false
	}
	seq, ok := leadingInt(b[i+len(seqKey):])
	if !ok || seq <= 0 {
		return e, false
	}
	e.Seq, e.N = seq, -1
	e.Msg = bytes.Contains(b, kindMsg)
	if !e.Msg {
		return e, true
	}
	if j := bytes.Index(b, loadTagKey); j >= 0 {
		rest := b[j+len(loadTagKey):]
		if n, ok := leadingInt(rest); ok && n >= 0 && n < 1<<40 {
			digits := len(strconv.AppendInt(nil, n, 10))
			if digits < len(rest) && rest[digits] == '"' && (digits == 1 || rest[0] != '0') {
				e.N = int(n)
			}
		}
	}
	return e, true
}

// leadingInt parses the decimal integer at the start of b.
func leadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > 0 && (i == len(b) || b[i] < '0' || b[i] > '9')
}

// groupFrame is a server frame of the group load, decoded in full (replies,
// sync pages, and pushes the scan did not read).
type groupFrame struct {
	Op      string           `json:"op"`
	ID      string           `json:"id"`
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Seq     int64            `json:"seq"`
	Entry   *groupEntryJSON  `json:"entry"`
	Entries []groupEntryJSON `json:"entries"`
	Reason  string           `json:"reason"`
}

type groupEntryJSON struct {
	Seq             int64  `json:"seq"`
	Kind            string `json:"kind"`
	CloudCustomData string `json:"cloud_custom_data"`
}

// lite is what the load reads of a decoded entry.
func (j groupEntryJSON) lite() gEntry {
	e := gEntry{Seq: j.Seq, Msg: j.Kind == "msg", N: -1}
	if tag, ok := bytes.CutPrefix([]byte(j.CloudCustomData), []byte("lg:")); ok && e.Msg {
		if n, err := strconv.Atoi(string(tag)); err == nil && n >= 0 && string(strconv.AppendInt(nil, int64(n), 10)) == string(tag) {
			e.N = n
		}
	}
	return e
}

func decodeGroupFrame(b []byte) (groupFrame, bool) {
	var f groupFrame
	return f, json.Unmarshal(b, &f) == nil
}
