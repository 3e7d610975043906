package main

import (
	"strings"
	"testing"
)

// Arguments that are not text (invalid UTF-8, which JSON would turn into U+FFFD
// silently) are refused before anything is sent.
func TestCLIRefusesArgumentsThatAreNotText(t *testing.T) {
	s := newCLITestServer(t)
	for _, args := range [][]string{
		{"account", "create", "--name", "Acme\xff", "--email", "a@example.com"},
		{"account", "show", "--account", "acc\xc3"},
		{"app", "list", "--account", "acc\xff"},
	} {
		r := s.cli(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "not valid UTF-8") {
			t.Errorf("chatd %q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := s.cli(t, "account", "create", "--name", "Zoë", "--email", "a@example.com"); r.code != 0 {
		t.Errorf("a name in UTF-8 was refused: %s", r.stderr)
	}
}
