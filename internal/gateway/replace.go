package gateway

import (
	"encoding/json"

	"github.com/gorilla/websocket"
)

// Multi-device policy (product spec section 3, docs/protocol.md "Rules and
// limits"): on an edition without concurrent logins on one platform
// (gate.AllowsSamePlatformDevices false: Standard), a login ends the user's
// older sessions on the same platform; different platforms always coexist. A
// platform is the login frame's platform as given (iOS and iPad are two
// platforms, as Windows, Mac and Linux are: docs/decisions.md).

// splitPlatform splits sessions into those on other platforms (keep) and those
// on platform (replaced).
func splitPlatform(sessions []*session, platform string) (keep, replaced []*session) {
	for _, o := range sessions {
		if o.platform == platform {
			replaced = append(replaced, o)
		} else {
			keep = append(keep, o)
		}
	}
	return keep, replaced
}

// endReplaced tells each replaced session why it ends (a kicked frame) and
// closes it once its queue is written.
func endReplaced(replaced []*session, platform string) {
	if len(replaced) == 0 {
		return
	}
	b, _ := json.Marshal(Frame{Op: OpKicked, Reason: "logged in on another " + platform + " device"})
	for _, old := range replaced {
		old.enqueue(b)
		old.closeAfterFlush(websocket.ClosePolicyViolation, "replaced")
	}
}
