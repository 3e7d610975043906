package im

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/input"
)

// scanAccepted are bodies the scan must accept by itself (the common forms).
var scanAccepted = []string{
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`,
	`[ {"MsgType" : "TIMTextElem", "MsgContent" : {"Text" : "a \"quoted\" \\ \/ \b\f\n\r\t \u00e9 text"}} ]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"é 中文 😀"}}]`,
	`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x"}},{"MsgType":"TIMFaceElem","MsgContent":{"Index":1}}]`,
	`[{"MsgType":"TIMLocationElem","MsgContent":{"Desc":"d","Latitude":22.5,"Longitude":-113}}]`,
	`[{"MsgType":"TIMSoundElem","MsgContent":{"Url":"u","UUID":"x","Size":1,"Second":-0,"Download_Flag":2}}]`,
	`[{"MsgType":"TIMFileElem","MsgContent":{"Url":"u","UUID":"x","FileSize":123456789012345678,"FileName":"f","Download_Flag":2}}]`,
	`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x","Extra":[1,-2.5e3,{"a":[true,false,null]},"s"],"More":{}}}]`,
}

// scanLeft are bodies the scan must leave to the decoding path: errors, and
// forms whose outcome only the decoder knows.
var scanLeft = []string{
	`[]`,
	`[{"MsgType":"TIMNopeElem","MsgContent":{}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":"text"}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":null}]`,
	`[{"MsgType":`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":5}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":null}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"text":"lower case matches Text"}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"},"Extra":1}]`,
	`[{"MsgContent":{"Text":"x"},"MsgType":"TIMTextElem"}]`,
	`[{"msgtype":"TIMTextElem","MsgContent":{"Text":"x"}}]`,
	`[{"MsgType":"TIMText\u0045lem","MsgContent":{"Text":"x"}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}] x`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}},]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x",}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"bad \x escape"}}]`,
	`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"tab	inside"}}]`,
	`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":1.5}}]`,
	`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":1e3}}]`,
	`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":99999999999999999999}}]`,
	`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":01}}]`,
	`[{"MsgType":"TIMLocationElem","MsgContent":{"Latitude":1e400}}]`,
	`[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"Width":1}]}}]`,
	`[{"MsgType":"TIMCustomElem","MsgContent":{"Extra":[1,]}}]`,
	`[{"MsgType":"TIMCustomElem","MsgContent":{"Extra":tru}}]`,
	`[{"MsgType":"TIMCustomElem","MsgContent":{"Extra":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}]`,
}

func TestScanBody(t *testing.T) {
	for _, b := range scanAccepted {
		if !scanBody([]byte(b)) {
			t.Errorf("scanBody(%s) = false, want true", b)
		}
		if err := decodeBody([]byte(b)); err != nil {
			t.Errorf("decodeBody(%s) = %v, but the scan accepts it", b, err)
		}
	}
	for _, b := range scanLeft {
		if scanBody([]byte(b)) {
			t.Errorf("scanBody(%s) = true, want false", b)
		}
	}
}

// FuzzValidateBodyScan: whatever the scan accepts, the decoding path accepts.
func FuzzValidateBodyScan(f *testing.F) {
	for _, b := range append(scanAccepted, scanLeft...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.TrimSpace(body)
		if len(body) == 0 || body[0] != '[' || input.JSON(body) != nil || !scanBody(body) {
			return
		}
		if err := decodeBody(body); err != nil {
			t.Fatalf("scanBody(%q) = true, decodeBody = %v", body, err)
		}
	})
}

func BenchmarkValidateBody(b *testing.B) {
	body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, this is a benchmark message of ordinary length"}}]`)
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBody(b *testing.B) {
	body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, this is a benchmark message of ordinary length"}}]`)
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeBody(body); err != nil {
			b.Fatal(err)
		}
	}
}
