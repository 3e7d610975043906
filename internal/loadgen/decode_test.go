package loadgen

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/chatd/chatd/protocol"
)

// The cut frames decode to what the whole frames decode to, for frames as the
// server encodes them (json.Marshal of protocol.Frame), and fall back to the
// whole frame when the cut is not JSON.
func TestDecodeSkipsEntriesAndBodiesOnly(t *testing.T) {
	entry := &protocol.Entry{
		Seq: 7, Kind: "msg", Peer: "bb", From: "aa", To: "bb", MsgKey: "1_2_3", MsgSeq: 1, MsgRandom: 2, MsgTime: 3,
		ClientMsgID: "m42", Body: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x,\"body\":y"}}]`),
		CloudCustomData: `,"entry":{`, ReadTime: 9,
	}
	frames := []struct {
		sender bool
		frame  protocol.Frame
		cut    bool
	}{
		{true, protocol.Frame{Op: "send", ID: "5", MsgKey: "1_2_3", MsgTime: 3, Seq: 7, ClientMsgID: "m42", Duplicate: true, Entry: entry}, true},
		{true, protocol.Frame{Op: "send", ID: "6", Code: 20003, Message: `bad ,"entry":{ here`}, false},
		{false, protocol.Frame{Op: "entry", Entry: entry}, true},
		{false, protocol.Frame{Op: "sync", ID: "s1", Entries: []protocol.Entry{*entry}, Complete: true}, false},
	}
	for _, tt := range frames {
		b, err := json.Marshal(tt.frame)
		if err != nil {
			t.Fatal(err)
		}
		c := &conn{sender: tt.sender}
		var want, got inFrame
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		var scratch []byte
		if !c.decode(b, &scratch, &got) {
			t.Fatalf("decode(%s) failed", b)
		}
		if tt.sender {
			want.Entry = nil // a sender does not read its copy
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decode(%s) = %+v, want %+v", b, got, want)
		}
		if cut := c.unread(nil, b) != nil; cut != tt.cut {
			t.Errorf("unread(%s) cut %v, want %v", b, cut, tt.cut)
		}
	}
	// A frame whose cut is not JSON is decoded whole.
	c := &conn{sender: false}
	b := []byte(`{"op":"entry","code":0,"entry":{"seq":3,"kind":"msg","from":"x","to":"y","client_msg_id":"m1"},"extra":[{"a":1,"body":2}]}`)
	if short := c.unread(nil, b); short == nil || json.Valid(short) {
		t.Fatalf("unread(%s) = %s, want a cut that is not JSON", b, short)
	}
	var got inFrame
	var scratch []byte
	if !c.decode(b, &scratch, &got) || got.Entry == nil || got.Entry.ClientMsgID != "m1" || got.Entry.Seq != 3 {
		t.Errorf("decode(%s) = %+v", b, got)
	}
}

// Frames scanFrame must read by itself, as the server writes them.
var scannedFrames = []string{
	`{"op":"send","id":"5","code":0,"client_msg_id":"m5","msg_key":"1_2_3","msg_time":3,"seq":7}`,
	`{"op":"send","id":"6","code":0,"duplicate":true,"seq":8}`,
	`{"op":"send","id":"7","code":20003,"message":"not allowed"}`,
	`{"op":"entry","code":0,"entry":{"seq":7,"kind":"msg","peer":"aa","from":"aa","to":"bb","msg_key":"1_2_3","msg_seq":1,"msg_random":2,"msg_time":3,"client_msg_id":"m42"}}`,
	`{"op":"entry","code":0,"entry":{"seq":7,"kind":"msg","from":"é","body":[{"a":[1,2.5,true,null]}],"cloud_custom_data":"x","recalled":true,"read_time":9}}`,
	`{"op":"entry","entry":{"seq":1},"entry":{"kind":"msg"}}`,
	`{"op":"pong","complete":false}`,
}

// Frames it must leave to json.Unmarshal.
var unscannedFrames = []string{
	`{"op":"sync","id":"s","code":0,"entries":[{"seq":1}],"complete":true}`,
	`{"op":"send","id":"7","code":70500,"message":"a \"quoted\" text"}`,
	`{"OP":"send"}`,
	`{"op":"entry","entry":{"SEQ":1}}`,
	`{"op":"entry","entry":null}`,
	`{"op":"send","seq":1.5}`,
	`{"op":"send"} x`,
	`[1]`,
}

func TestScanFrame(t *testing.T) {
	for _, b := range scannedFrames {
		var got, want inFrame
		if !scanFrame([]byte(b), &got) {
			t.Errorf("scanFrame(%s) = false, want true", b)
			continue
		}
		if err := json.Unmarshal([]byte(b), &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("scanFrame(%s) = %+v; json.Unmarshal = %+v, %v", b, got, want, err)
		}
	}
	for _, b := range unscannedFrames {
		var f inFrame
		if scanFrame([]byte(b), &f) {
			t.Errorf("scanFrame(%s) = true, want false", b)
		}
	}
}

// FuzzScanFrame: what scanFrame reads, json.Unmarshal decodes to the same inFrame.
func FuzzScanFrame(f *testing.F) {
	for _, b := range append(scannedFrames, unscannedFrames...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got inFrame
		if !utf8.Valid(b) || !scanFrame(b, &got) {
			return
		}
		var want inFrame
		if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("scanFrame(%q) = %+v; json.Unmarshal = %+v, %v", b, got, want, err)
		}
	})
}
