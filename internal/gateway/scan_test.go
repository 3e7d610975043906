package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chatd/chatd/internal/input"
)

// Frames scanFrame must decode by itself (the forms devices send).
var scannedFrames = []string{
	`{}`,
	`{"op":"ping","id":"1"}`,
	`{"op":"send","id":"17","to":"bob","client_msg_id":"m17","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"héllo \"x\" <b>"}}]}`,
	` { "op" : "send" , "id" : "18" , "to" : "bob" , "body" : [ 1 , {"a": [true, false, null]} ] , "cloud_custom_data" : "é" } `,
	`{"op":"login","sdkappid":1400000001,"user":"alice","usersig":"eJx","platform":"iOS","id":"l"}`,
	`{"op":"sync","id":"s","after":-0,"limit":500}`,
	`{"op":"read","peer":"bob","time":1700000000,"duplicate":false,"complete":true,"code":0,"seq":123456789012345678}`,
	`{"op":"send","body":"text","body":{"x":1}}`,
}

// Frames it must leave to json.Unmarshal.
var unscannedFrames = []string{
	`{"Op":"ping"}`,
	`{"op":"ping","extra":1}`,
	`{"op":"p\u0069ng"}`,
	`{"op":null}`,
	`{"op":"send","body":null}`,
	`{"op":"send","seq":1.5}`,
	`{"op":"send","seq":1e3}`,
	`{"op":"send","seq":1234567890123456789}`,
	`{"op":"send","seq":"1"}`,
	`{"op":"send","duplicate":1}`,
	`{"op":"send","entry":{"seq":1}}`,
	`{"op":"send","entries":[]}`,
	`{"op":"send","body":[1,]}`,
	`{"op":"send"} {}`,
	`{"op":"send",}`,
	`[]`,
}

func TestScanFrame(t *testing.T) {
	for _, b := range scannedFrames {
		var got, want Frame
		if !scanFrame([]byte(b), &got) {
			t.Errorf("scanFrame(%s) = false, want true", b)
			continue
		}
		if err := json.Unmarshal([]byte(b), &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("scanFrame(%s) = %+v; json.Unmarshal = %+v, %v", b, got, want, err)
		}
	}
	for _, b := range unscannedFrames {
		var f Frame
		if scanFrame([]byte(b), &f) {
			t.Errorf("scanFrame(%s) = true, want false", b)
		}
	}
}

// FuzzScanFrame: what scanFrame decodes, json.Unmarshal decodes to the same Frame.
func FuzzScanFrame(f *testing.F) {
	for _, b := range append(scannedFrames, unscannedFrames...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Frame
		if input.JSON(b) != nil || !scanFrame(b, &got) {
			return
		}
		var want Frame
		if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("scanFrame(%q) = %+v; json.Unmarshal = %+v, %v", b, got, want, err)
		}
	})
}

func BenchmarkDecodeFrame(b *testing.B) {
	frame := []byte(`{"op":"send","id":"17","to":"user000123","client_msg_id":"m17","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, this is a benchmark message of ordinary length"}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, bad := decodeFrame(frame); bad != nil {
			b.Fatal(bad.Message)
		}
	}
}
