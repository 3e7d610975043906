package commerce

import (
	"errors"
	"github.com/chatd/chatd/internal/errs"
	"strings"
	"testing"
)

// A request id is printable text of at most 128 bytes; the empty id means none.
func TestCheckRequestID(t *testing.T) {
	for id, ok := range map[string]bool{
		"": true, "k1": true, "order 7": true, strings.Repeat("x", 128): true,
		strings.Repeat("x", 129): false, "k\x00": false, "k\xff": false, " k": false, "k\n": false, "k\x01": false,
	} {
		err := checkRequestID(id)
		if (err == nil) != ok || err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("checkRequestID(%q) = %v", id, err)
		}
	}
}
