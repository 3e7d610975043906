package errs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// Hidden keeps a cause out of the client's text and in the log's.
func TestHidden(t *testing.T) {
	cause := errors.New("SQLSTATE 22021")
	e := Hidden(cause)
	if e.Code != Internal || e.Msg != "internal error" || Message(e) != "internal error" {
		t.Fatalf("Hidden: %+v", e)
	}
	if !errors.Is(e, cause) || !strings.Contains(e.Error(), "SQLSTATE") {
		t.Fatalf("the cause is lost for the log: %v", e)
	}
	coded := New(InvalidParameters, "bad")
	if Hidden(coded) != coded || Message(coded) != "bad" {
		t.Fatal("a coded error must pass through")
	}
	if Message(cause) != "internal error" {
		t.Fatal("an error without a code must not show its text")
	}
}

// A domain error made by Kind keeps its text and is of its kind, also wrapped.
func TestKind(t *testing.T) {
	suspended := Kind(ErrConflict, "account suspended")
	err := fmt.Errorf("%w: account a1 cannot create apps", suspended)
	if !errors.Is(err, ErrConflict) || !errors.Is(err, suspended) || errors.Is(err, ErrLimit) {
		t.Fatalf("kind lost: %v", err)
	}
	if err.Error() != "account suspended: account a1 cannot create apps" {
		t.Fatalf("text: %q", err.Error())
	}
	if CodeOf(err) != Internal || Message(err) != "internal error" {
		t.Fatal("a kind carries no code and no client text")
	}
}

// TestMessagesAreClipped: an error quoting an oversized input is cut to
// MaxMessageBytes on a rune boundary.
func TestMessagesAreClipped(t *testing.T) {
	long := strings.Repeat("é", 2000)
	for _, msg := range []string{New(70402, "AddSource %q is bad", long).Msg, Kind(ErrInvalid, long).Error()} {
		if len(msg) > MaxMessageBytes || !utf8.ValidString(msg) || !strings.HasSuffix(msg, "…") {
			t.Fatalf("message of %d bytes (valid UTF-8 %v): %.40q…", len(msg), utf8.ValidString(msg), msg)
		}
	}
	if got := New(70402, "short %q", "x").Msg; got != `short "x"` {
		t.Fatalf("a short message changed: %q", got)
	}
}
