package im

import (
	"reflect"
	"strings"

	"github.com/chatd/chatd/internal/jsonscan"
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
	s := &jsonscan.Scanner{B: body}
	if !s.Next('[') {
		return false
	}
	for {
		if !scanElement(s) {
			return false
		}
		if s.Next(',') {
			continue
		}
		return s.Next(']') && s.End()
	}
}

// scanElement reads {"MsgType":"<known>","MsgContent":{...}} in that order.
func scanElement(s *jsonscan.Scanner) bool {
	if !s.Next('{') {
		return false
	}
	if k, ok := s.PlainString(true); !ok || string(k) != "MsgType" || !s.Next(':') {
		return false
	}
	typ, ok := s.PlainString(true)
	fields := scanFields[string(typ)]
	if !ok || fields == nil || !s.Next(',') {
		return false
	}
	if k, ok := s.PlainString(true); !ok || string(k) != "MsgContent" || !s.Next(':') {
		return false
	}
	return scanContent(s, fields) && s.Next('}')
}

// scanContent reads a MsgContent object whose known fields have their kinds.
func scanContent(s *jsonscan.Scanner, fields map[string]fieldKind) bool {
	if !s.Next('{') {
		return false
	}
	if s.Next('}') {
		return true
	}
	for {
		k, ok := s.PlainString(true)
		if !ok || !s.Next(':') {
			return false
		}
		kind, known := fields[string(k)]
		switch {
		case known && kind == kindString:
			if !s.String() {
				return false
			}
		case known && kind == kindInt:
			if _, ok := s.Int(); !ok {
				return false
			}
		case known && kind == kindFloat:
			if text, _, exp := s.Number(); text == nil || exp || len(text) > 30 {
				return false // an exponent may overflow float64
			}
		case known:
			return false
		default:
			for f := range fields {
				if strings.EqualFold(f, string(k)) {
					return false // the decoder matches keys without case
				}
			}
			if !s.Value(0) {
				return false
			}
		}
		if s.Next(',') {
			continue
		}
		return s.Next('}')
	}
}
