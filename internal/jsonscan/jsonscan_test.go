package jsonscan

import (
	"encoding/json"
	"testing"
)

func TestNumbersAndInts(t *testing.T) {
	for _, c := range []struct {
		in        string
		num       string // the number read, "" for none
		frac, exp bool
		int       bool
	}{
		{"0", "0", false, false, true},
		{"-0", "-0", false, false, true},
		{" 12,", "12", false, false, true},
		{"123456789012345678", "123456789012345678", false, false, true},
		{"-123456789012345678", "-123456789012345678", false, false, true},
		{"1234567890123456789", "1234567890123456789", false, false, false},
		{"1.5", "1.5", true, false, false},
		{"1e3", "1e3", false, true, false},
		{"-2.5E-3", "-2.5E-3", true, true, false},
		{"01", "", false, false, false},
		{"1.", "", false, false, false},
		{"-", "", false, false, false},
		{".5", "", false, false, false},
		{"1e", "", false, false, false},
		{"+1", "", false, false, false},
	} {
		s := &Scanner{B: []byte(c.in)}
		text, frac, exp := s.Number()
		if string(text) != c.num || frac != c.frac || exp != c.exp {
			t.Errorf("Number(%q) = %q %v %v, want %q %v %v", c.in, text, frac, exp, c.num, c.frac, c.exp)
		}
		s = &Scanner{B: []byte(c.in)}
		n, ok := s.Int()
		if ok != c.int {
			t.Errorf("Int(%q) ok = %v, want %v", c.in, ok, c.int)
			continue
		}
		if want := int64(0); ok {
			if err := json.Unmarshal([]byte(c.num), &want); err != nil || n != want {
				t.Errorf("Int(%q) = %d, want %d", c.in, n, want)
			}
		} else if s.I != 0 {
			t.Errorf("Int(%q) moved to %d without reading", c.in, s.I)
		}
	}
}

func TestValueAndString(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{`"a\"\\\/\b\f\n\r\t\u00e9"`, true},
		{`"a\x"`, false},
		{`"a\u00g0"`, false},
		{"\"tab\there\"", false},
		{`"open`, false},
		{`{"a":[1,-2.5,true,false,null,{},[]],"b":{"c":"d"}}`, true},
		{`{"a":1,}`, false},
		{`[1 2]`, false},
		{`{"a" 1}`, false},
		{`{1:2}`, false},
		{`nul`, false},
		{`truex`, true}, // Value reads "true"; the caller checks what follows
	} {
		s := &Scanner{B: []byte(c.in)}
		if got := s.Value(0); got != c.ok {
			t.Errorf("Value(%s) = %v, want %v", c.in, got, c.ok)
		}
	}
	deep := make([]byte, 0, 2*(MaxDepth+2))
	for range MaxDepth + 2 {
		deep = append(deep, '[')
	}
	for range MaxDepth + 2 {
		deep = append(deep, ']')
	}
	if (&Scanner{B: deep}).Value(0) {
		t.Errorf("Value read %d levels; the bound is %d", MaxDepth+2, MaxDepth)
	}
	s := &Scanner{B: []byte(`"plain é" "esc\n"`)}
	if v, ok := s.PlainString(false); !ok || string(v) != "plain é" {
		t.Errorf("PlainString = %q %v", v, ok)
	}
	if _, ok := s.PlainString(false); ok {
		t.Error("PlainString read a string with an escape")
	}
	if _, ok := (&Scanner{B: []byte(`"é"`)}).PlainString(true); ok {
		t.Error("PlainString(ascii) read a non-ASCII string")
	}
}
