package restapi

import (
	"testing"

	"github.com/chatd/chatd/internal/im"
)

// The keys of REST sends stay in the namespace devices may not use
// (im.DeviceClientID), so a device can never match one.
func TestRetryKeysAreReservedForREST(t *testing.T) {
	for _, key := range []string{
		retryKey("s:bob", 7, []byte("body")),
		retryKey("b", 7, []byte("body")),
		retryKey("i:bob", 7, []byte("body"), []byte("x")),
	} {
		if im.DeviceClientID(key) == nil {
			t.Errorf("REST key %q is accepted as a device's client_msg_id", key)
		}
	}
}
