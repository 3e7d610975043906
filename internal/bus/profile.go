package bus

import (
	"encoding/json"
	"sync"
)

// KindProfile tells a user's devices that a profile changed (Delivery.Profile):
// the user's own, or that of a user in whose audience they are.
const KindProfile = "profile"

// ProfileChange is the changed tags of User's profile, values as stored (JSON).
// One change is published to the user and each of its friends as deliveries
// sharing this pointer; Frame keeps the edge's one encoding of it.
type ProfileChange struct {
	User  string
	Tags  []ProfileTag
	Frame Encoded
}

// ProfileTag is one changed tag.
type ProfileTag struct {
	Tag   string
	Value json.RawMessage
}

// Encoded keeps one encoding of a value that many deliveries share, so that the
// edge encodes it once however many users receive it. Not to be copied.
type Encoded struct {
	once sync.Once
	b    []byte
}

// Get returns the encoding, made by enc on the first call.
func (e *Encoded) Get(enc func() []byte) []byte {
	e.once.Do(func() { e.b = enc() })
	return e.b
}
