// Package input holds the one rule for strings that enter chatd from outside (REST
// bodies and query parameters, WebSocket frames, operator API bodies, paths and
// query parameters): every string is valid UTF-8 and contains no NUL, so that it is
// stored unchanged on both stores (PostgreSQL refuses NUL in text) and never breaks
// another caller's work. Edges check before anything happens and turn a failure
// into their own error code; domain code may call the same functions as a second
// line of defence.
//
// Two kinds of strings:
//   - free text (message payloads, custom data, nicknames): any valid UTF-8 but NUL;
//     tabs, newlines and other control characters are content and kept.
//   - identifiers (user ids, names, request ids, platforms, client message ids):
//     also no control character at all (C0, DEL, C1) and no white space at either
//     end, bounded in bytes, so that they print, compare and log unambiguously.
package input

import (
	"fmt"
	"github.com/chatd/chatd/internal/errs"
	"net/url"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every error of this package wraps errs.ErrInvalid.

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errs.ErrInvalid}, args...)...)
}

// Text checks free text: valid UTF-8 with no NUL.
func Text(s string) error {
	if !utf8.ValidString(s) {
		return invalid("not valid UTF-8")
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return invalid("NUL character at byte %d", i)
	}
	return nil
}

// Identifier checks an identifier-like string: 1 to max bytes of valid UTF-8 with
// no control character and no white space at either end. Callers with an optional
// field check it only when it is not empty.
func Identifier(s string, max int) error {
	if err := Text(s); err != nil {
		return err
	}
	switch {
	case s == "":
		return invalid("empty")
	case len(s) > max:
		return invalid("longer than %d bytes", max)
	case strings.TrimSpace(s) != s:
		return invalid("white space at the start or end")
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return invalid("control character U+%04X at byte %d", r, i)
		}
	}
	return nil
}

// DisplayName checks a name that people read in lists beside others' (the
// console's account and app names): an Identifier of at most max bytes that
// also holds no invisible formatting character (Unicode's Cf category: bidi
// controls such as U+202E, zero-width spaces, the BOM, soft hyphens) and no
// line or paragraph separator, so that a name cannot reorder the text around
// it or pass for another. The zero-width joiner U+200D is kept after a
// non-ASCII character, where emoji sequences use it.
func DisplayName(s string, max int) error {
	if err := Identifier(s, max); err != nil {
		return err
	}
	prev := rune(0)
	for i, r := range s {
		switch {
		case r == '\u200d' && prev >= utf8.RuneSelf:
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
			return invalid("invisible formatting character U+%04X at byte %d", r, i)
		}
		prev = r
	}
	return nil
}

// Values checks every key and value of a URL query as free text.
func Values(v url.Values) error { return values(v, "query parameter") }

// Form checks every field name and value of a posted form as free text.
func Form(v url.Values) error { return values(v, "form field") }

func values(v url.Values, what string) error {
	for k, vals := range v {
		if err := Text(k); err != nil {
			return fmt.Errorf("%s name: %w", what, err)
		}
		for _, s := range vals {
			if err := Text(s); err != nil {
				return fmt.Errorf("%s %s: %w", what, printable(k), err)
			}
		}
	}
	return nil
}

// JSON checks a raw JSON document before it is decoded: every byte sequence is
// valid UTF-8, there is no NUL byte, and no string has a \u0000 escape or an
// unpaired surrogate escape (\ud800 to \udfff alone). It must run before
// encoding/json, which silently turns invalid UTF-8 and unpaired surrogates into
// U+FFFD. Syntax errors are left to the decoder.
func JSON(b []byte) error {
	if !utf8.Valid(b) {
		return invalid("not valid UTF-8 at byte %d", firstInvalid(b))
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0:
			return invalid("NUL byte at byte %d", i)
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // a one-character escape such as \" or \\
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				i++ // malformed: the decoder reports it
				continue
			}
			switch {
			case r == 0:
				return invalid("\\u0000 escape (NUL) at byte %d", i)
			case r >= 0xdc00 && r <= 0xdfff:
				return invalid("unpaired surrogate escape at byte %d", i)
			case r >= 0xd800 && r <= 0xdbff:
				lo, ok := -1, i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u'
				if ok {
					lo, ok = hex4(b, i+8)
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return invalid("unpaired surrogate escape at byte %d", i)
				}
				i += 6 // the low half
			}
			i += 5
		}
	}
	return nil
}

// hex4 parses four hex digits at b[i:].
func hex4(b []byte, i int) (int, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	n := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// printable quotes s for an error message, safe whatever it holds.
func printable(s string) string { return fmt.Sprintf("%q", s) }

// JSONKind names the JSON type a Go type is decoded from, for error messages that
// must not show Go type names: "a string", "an integer in the range of int64", ....
func JSONKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer in the range of %s", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}
