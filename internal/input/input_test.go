package input

import (
	"errors"
	"github.com/chatd/chatd/internal/errs"
	"net/url"
	"testing"
)

func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		doc string
		ok  bool
	}{
		{`{"a":"b"}`, true},
		{`{"a":"tab\tand \u00e9 \u4e2d \ud83d\ude00"}`, true},
		{`{"a":"escaped \\u0000 is text"}`, true},
		{`{"a":"\"\u0041"}`, true},
		{`{"a":"x\u0000"}`, false},
		{`{"a\u0000":1}`, false},
		{`{"a":"\U0000"}`, true}, // not an escape JSON knows; the decoder refuses it
		{"{\"a\":\"\x00\"}", false},
		{"{\"a\":\"\xff\"}", false},
		{"{\"a\":\"\xc3\"}", false},
		{`{"a":"\ud83d"}`, false},
		{`{"a":"\ud83dx"}`, false},
		{`{"a":"\ud83d\u0041"}`, false},
		{`{"a":"\ude00"}`, false},
		{`{"a":"\ud83d\ude00\u0000"}`, false},
		{`{"a":"\u00`, true}, // truncated: the decoder reports it
	} {
		err := JSON([]byte(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("JSON(%q) = %v, want ok=%v", tc.doc, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("JSON(%q) = %v, does not wrap errs.ErrInvalid", tc.doc, err)
		}
	}
}

func TestText(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "a\tb\n": true, "é": true, "a\x00": false, "\xff": false} {
		if err := Text(s); (err == nil) != ok {
			t.Errorf("Text(%q) = %v", s, err)
		}
	}
}

func TestIdentifier(t *testing.T) {
	for s, ok := range map[string]bool{
		"alice": true, "a b": true, "Zoë": true,
		"": false, " ": false, " a": false, "a ": false, "a\t": false, "a\x01b": false,
		"a\x7fb": false, "a\u0085b": false, "a\x00": false, "\xff": false, "0123456789": false,
	} {
		if err := Identifier(s, 8); (err == nil) != ok {
			t.Errorf("Identifier(%q) = %v", s, err)
		}
	}
}

func TestValues(t *testing.T) {
	if err := Values(url.Values{"a": {"b", "c d"}}); err != nil {
		t.Fatal(err)
	}
	if err := Values(url.Values{"a": {"b", "c\x00"}}); err == nil {
		t.Fatal("NUL in a value passed")
	}
	if err := Values(url.Values{"\xff": {"b"}}); err == nil {
		t.Fatal("invalid UTF-8 in a name passed")
	}
}

func TestDisplayName(t *testing.T) {
	for _, ok := range []string{"Acme", "Café Ünïcode", "チャット", "👨\u200d👩\u200d👧 family", "a-b_c.d (e)"} {
		if err := DisplayName(ok, 512); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"evil\u202egpj.exe", "Ac\u200bme", "Ac\u200dme", "\ufeffAcme", "a\u2066b", "soft\u00adhyphen",
		"line\u2028sep", "para\u2029sep", "tab\tname", " lead", "", "\xff"} {
		if err := DisplayName(bad, 512); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}
