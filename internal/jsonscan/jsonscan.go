// Package jsonscan reads JSON strictly (RFC 8259, as encoding/json accepts it)
// without decoding it, for fast paths that accept the common form of an input
// and leave everything else to encoding/json. A method that returns false has
// found something it does not read: the caller falls back, it does not refuse.
package jsonscan

// MaxDepth bounds the nesting Value follows (encoding/json's is 10,000).
const MaxDepth = 32

// Scanner reads B from I.
type Scanner struct {
	B []byte
	I int
}

// Space skips JSON white space.
func (s *Scanner) Space() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Next skips space and then c, if c is next.
func (s *Scanner) Next(c byte) bool {
	s.Space()
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Peek skips space and returns the next byte (0 at the end).
func (s *Scanner) Peek() byte {
	s.Space()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// End skips space and reports whether the input ends there.
func (s *Scanner) End() bool {
	s.Space()
	return s.I == len(s.B)
}

// PlainString reads a string without escapes or control characters and returns
// its contents (a slice of B). With ascii, bytes from 0x80 are refused too.
func (s *Scanner) PlainString(ascii bool) ([]byte, bool) {
	if !s.Next('"') {
		return nil, false
	}
	start := s.I
	for ; s.I < len(s.B); s.I++ {
		switch c := s.B[s.I]; {
		case c == '"':
			v := s.B[start:s.I]
			s.I++
			return v, true
		case c < 0x20 || c == '\\' || (ascii && c >= 0x80):
			return nil, false
		}
	}
	return nil, false
}

// String reads a string after space, escapes included.
func (s *Scanner) String() bool {
	if s.Peek() != '"' {
		return false
	}
	for s.I++; s.I < len(s.B); s.I++ {
		switch c := s.B[s.I]; {
		case c == '"':
			s.I++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.I++
			if s.I >= len(s.B) {
				return false
			}
			switch s.B[s.I] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.I+4 >= len(s.B) {
					return false
				}
				for _, h := range s.B[s.I+1 : s.I+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.I += 4
			default:
				return false
			}
		}
	}
	return false
}

// Number reads a number after space and returns its text; nothing is read when
// there is none. frac and exp say whether it has a fraction and an exponent.
func (s *Scanner) Number() (text []byte, frac, exp bool) {
	s.Space()
	start := s.I
	digits := func() int {
		n := 0
		for s.I < len(s.B) && '0' <= s.B[s.I] && s.B[s.I] <= '9' {
			s.I++
			n++
		}
		return n
	}
	fail := func() ([]byte, bool, bool) { s.I = start; return nil, false, false }
	if s.I < len(s.B) && s.B[s.I] == '-' {
		s.I++
	}
	first := s.I
	if n := digits(); n == 0 || (n > 1 && s.B[first] == '0') {
		return fail()
	}
	if s.I < len(s.B) && s.B[s.I] == '.' {
		s.I++
		if digits() == 0 {
			return fail()
		}
		frac = true
	}
	if s.I < len(s.B) && (s.B[s.I] == 'e' || s.B[s.I] == 'E') {
		s.I++
		if s.I < len(s.B) && (s.B[s.I] == '+' || s.B[s.I] == '-') {
			s.I++
		}
		if digits() == 0 {
			return fail()
		}
		exp = true
	}
	return s.B[start:s.I], frac, exp
}

// Int reads an integer of at most 18 digits (it fits an int64 whatever its
// digits) after space.
func (s *Scanner) Int() (int64, bool) {
	start := s.I
	text, frac, exp := s.Number()
	if text == nil || frac || exp {
		s.I = start
		return 0, false
	}
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) > 18 {
		s.I = start
		return 0, false
	}
	var n int64
	for _, c := range text {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// Literal reads lit (true, false or null) after space.
func (s *Scanner) Literal(lit string) bool {
	s.Space()
	if end := s.I + len(lit); end <= len(s.B) && string(s.B[s.I:end]) == lit {
		s.I = end
		return true
	}
	return false
}

// Value reads any JSON value after space, nested at most MaxDepth deep below
// depth.
func (s *Scanner) Value(depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch c := s.Peek(); {
	case c == '"':
		return s.String()
	case c == '{':
		s.I++
		if s.Next('}') {
			return true
		}
		for {
			if !s.String() || !s.Next(':') || !s.Value(depth+1) {
				return false
			}
			if s.Next(',') {
				continue
			}
			return s.Next('}')
		}
	case c == '[':
		s.I++
		if s.Next(']') {
			return true
		}
		for {
			if !s.Value(depth + 1) {
				return false
			}
			if s.Next(',') {
				continue
			}
			return s.Next(']')
		}
	case c == '-' || '0' <= c && c <= '9':
		text, _, _ := s.Number()
		return text != nil
	default:
		return s.Literal("true") || s.Literal("false") || s.Literal("null")
	}
}
