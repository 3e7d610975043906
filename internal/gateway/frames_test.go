package gateway

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/chatd/chatd/internal/store"
)

var frameEntries = []store.Entry{
	{Seq: 7, Kind: store.KindMsg, From: "alice", To: "bob", Peer: "bob", MsgKey: "7_9_100", MsgSeq: 7, MsgRandom: 9, MsgTime: 100,
		ClientID: `c "<7>" & é`, Body: []byte(`[ {"MsgType":"TIMTextElem", "MsgContent":{"Text":"<b>hi</b> \u00e9"}} ]`), CloudCustomData: "x\ty"},
	{Seq: 8, Kind: store.KindRecall, From: "bob", To: "alice", Peer: "bob", MsgKey: "7_9_100"},
	{Seq: 9, Kind: store.KindMsg, From: "bob", To: "alice", Peer: "bob", Recalled: true, Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"gone"}}]`)},
	{Seq: 10, Kind: store.KindRead, From: "alice", Peer: "bob", ReadTime: 123},
	// Plain text that needs no escape (written as it is), and the cases that do.
	{Seq: 11, Kind: store.KindMsg, From: "alice", To: "bob", Peer: "alice", MsgKey: "11_4294967295_100", MsgSeq: 11, MsgRandom: 4294967295, MsgTime: 100,
		ClientID: "m42", Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a \"quoted\" \\ text, {not} [json]"}}]`), CloudCustomData: "{\"k\":1}"},
	{Seq: 12, Kind: store.KindMsg, From: "a", To: "b", Peer: "b", ClientID: "line\u2028sep\x7f",
		Body: []byte("[{\"MsgType\":\"TIMTextElem\",\"MsgContent\":{\"Text\":\"x\u2029y\"}}]"), CloudCustomData: "\x01\n"},
	{Seq: 13, Kind: store.KindMsg, From: "a", To: "b", Peer: "b",
		Body: []byte("[{\"MsgType\" :\"TIMTextElem\",\n\t\"MsgContent\":{\"Text\":\"a\\\\\"} }]\r\n")},
	{Seq: -1, Kind: store.KindMsg, MsgSeq: -5, MsgTime: -7, ReadTime: -9, Body: []byte(`{"a":"<&>"}`)},
}

// wireEntry is e as the protocol's Entry: what encodeEntry must encode.
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

// The frames assembled from one encoding of an entry are the bytes json.Marshal
// gives for the same Frame, so devices cannot tell the difference.
func TestAssembledFramesMatchMarshal(t *testing.T) {
	for i := range frameEntries {
		e := &frameEntries[i]
		w := wireEntry(e)
		enc := encodeEntry(e)
		want, _ := json.Marshal(Frame{Op: OpEntry, Entry: &w})
		if got := entryFrame(enc); !bytes.Equal(got, want) {
			t.Errorf("entry frame\n got %s\nwant %s", got, want)
		}
		want, _ = json.Marshal(Frame{Op: OpSend, ID: `id "7"`, MsgKey: e.MsgKey, MsgTime: e.MsgTime, Seq: e.Seq, ClientMsgID: e.ClientID, Entry: &w})
		if got := sendAck(`id "7"`, e, enc); !bytes.Equal(got, want) {
			t.Errorf("send ack\n got %s\nwant %s", got, want)
		}
	}
	for _, n := range []int{0, 1, len(frameEntries)} {
		for _, complete := range []bool{false, true} {
			var wires []Entry
			for i := range frameEntries[:n] {
				wires = append(wires, wireEntry(&frameEntries[i]))
			}
			want, _ := json.Marshal(Frame{Op: OpSync, ID: "s", Entries: wires, Complete: complete})
			if got := syncReply("s", frameEntries[:n], complete); !bytes.Equal(got, want) {
				t.Errorf("sync reply of %d entries, complete %v\n got %s\nwant %s", n, complete, got, want)
			}
		}
	}
}

// appendFrame writes the RFC 6455 header for each payload length class.
func TestAppendFrame(t *testing.T) {
	for _, c := range []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		p := bytes.Repeat([]byte{'x'}, c.n)
		got := appendFrame([]byte("prev"), 1, p)
		want := append(append([]byte("prev"), c.head...), p...)
		if !bytes.Equal(got, want) {
			t.Errorf("payload of %d bytes: header %v, want %v", c.n, got[4:4+len(c.head)], c.head)
		}
	}
}
