package im

import (
	"reflect"
	"strings"
)

// The common MsgBody (elements with MsgType first, plain keys, fields of the
// right JSON types) is accepted by one strict scan without decoding: the
// decoding path of ValidateBody reads the body about four times (a syntax pass
// and a decode for the elements, then the same for each MsgContent). The scan
// accepts only what that path accepts; anything else it leaves to that path,
// which gives the error (or accepts the unusual form). FuzzValidateBodyScan
// checks the two against each other.

// fieldKind is the JSON type a MsgContent field must have.
type fieldKind uint8

const (
	kindString fieldKind = iota + 1
	kindInt              // an integer that fits int64
	kindFloat
	kindOther // arrays of objects (ImageInfoArray): left to the decoding path
)

// scanFields are the MsgContent fields of each element type, by exact name,
// derived from elementTypes.
var scanFields = func() map[string]map[string]fieldKind {
	all := make(map[string]map[string]fieldKind, len(elementTypes))
	for name, content := range elementTypes {
		t := reflect.TypeOf(content()).Elem()
		fields := make(map[string]fieldKind, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			switch f.Type.Kind() {
			case reflect.String:
				fields[f.Name] = kindString
			case reflect.Int64:
				fields[f.Name] = kindInt
			case reflect.Float64:
				fields[f.Name] = kindFloat
			default:
				fields[f.Name] = kindOther
			}
		}
		all[name] = fields
	}
	return all
}()

// scanBody reports whether body (valid UTF-8 per input.JSON, no leading or
// trailing space) is a MsgBody that ValidateBody's decoding path accepts. False
// means only "not sure".
func scanBody(body []byte) bool {
	s := scanner{b: body}
	if !s.next('[') {
		return false
	}
	for {
		if !s.element() {
			return false
		}
		s.ws()
		if s.next(',') {
			continue
		}
		if !s.next(']') {
			return false
		}
		s.ws()
		return s.i == len(s.b)
	}
}

// scanner reads JSON strictly (RFC 8259 as encoding/json does).
type scanner struct {
	b []byte
	i int
}

// maxScanDepth bounds the nesting the scan follows (encoding/json's is 10,000).
const maxScanDepth = 32

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips space and then c, if c is next.
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// element reads {"MsgType":"<known>","MsgContent":{...}} in that order.
func (s *scanner) element() bool {
	if !s.next('{') {
		return false
	}
	if k, ok := s.plainString(); !ok || string(k) != "MsgType" || !s.next(':') {
		return false
	}
	typ, ok := s.plainString()
	fields := scanFields[string(typ)]
	if !ok || fields == nil || !s.next(',') {
		return false
	}
	if k, ok := s.plainString(); !ok || string(k) != "MsgContent" || !s.next(':') {
		return false
	}
	return s.content(fields) && s.next('}')
}

// content reads a MsgContent object whose known fields have their kinds.
func (s *scanner) content(fields map[string]fieldKind) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		k, ok := s.plainString()
		if !ok || !s.next(':') {
			return false
		}
		s.ws()
		kind, known := fields[string(k)]
		switch {
		case known && kind == kindString:
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
				return false
			}
		case known && (kind == kindInt || kind == kindFloat):
			start := s.i
			frac, exp := s.num()
			if n := s.i - start; n == 0 || exp || (kind == kindInt && (frac || n > 18)) || n > 30 {
				return false
			}
		case known:
			return false
		default:
			for f := range fields {
				if strings.EqualFold(f, string(k)) {
					return false // the decoder matches keys without case
				}
			}
			if !s.value(0) {
				return false
			}
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// plainString reads a string without escapes or non-ASCII bytes.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// str reads a string at s.i (a '"').
func (s *scanner) str() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 >= len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

// num reads a number at s.i; nothing is read when there is none.
func (s *scanner) num() (frac, exp bool) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	fail := func() (bool, bool) { s.i = start; return false, false }
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	first := s.i
	if n := digits(); n == 0 || (n > 1 && s.b[first] == '0') {
		return fail()
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return fail()
		}
		frac = true
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return fail()
		}
		exp = true
	}
	return frac, exp
}

// value reads any JSON value after space.
func (s *scanner) value(depth int) bool {
	s.ws()
	if s.i >= len(s.b) || depth > maxScanDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		s.i++
		if s.next('}') {
			return true
		}
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() || !s.next(':') || !s.value(depth+1) {
				return false
			}
			if s.next(',') {
				continue
			}
			return s.next('}')
		}
	case c == '[':
		s.i++
		if s.next(']') {
			return true
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			if s.next(',') {
				continue
			}
			return s.next(']')
		}
	case c == '-' || '0' <= c && c <= '9':
		start := s.i
		s.num()
		return s.i > start
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if end := s.i + len(lit); end <= len(s.b) && string(s.b[s.i:end]) == lit {
				s.i += len(lit)
				return true
			}
		}
		return false
	}
}
