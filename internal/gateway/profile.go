package gateway

import (
	"encoding/json"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/protocol"
)

// deliverProfile queues a profile push (protocol.OpProfile) for every device of
// the delivery's user: the same bytes for each, and for every user the change
// was published to (one encoding per change).
func deliverProfile(d *bus.Delivery, sessions []*session) {
	if d.Profile == nil {
		return
	}
	frame := d.Profile.Frame.Get(func() []byte {
		n := &protocol.ProfileNotice{User: d.Profile.User, Items: make([]protocol.ProfileTag, len(d.Profile.Tags))}
		for i, t := range d.Profile.Tags {
			n.Items[i] = protocol.ProfileTag{Tag: t.Tag, Value: t.Value}
		}
		b, _ := json.Marshal(Frame{Op: protocol.OpProfile, Profile: n}) // the values are checked JSON
		return b
	})
	if frame == nil {
		return
	}
	for _, s := range sessions {
		s.enqueue(frame)
	}
}
