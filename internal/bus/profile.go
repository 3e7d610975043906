package bus

import "encoding/json"

// KindProfile tells a user's devices that a profile changed (Delivery.Profile):
// the user's own, or that of a user in whose audience they are.
const KindProfile = "profile"

// ProfileChange is the changed tags of User's profile, values as stored (JSON).
type ProfileChange struct {
	User string
	Tags []ProfileTag
}

// ProfileTag is one changed tag.
type ProfileTag struct {
	Tag   string
	Value json.RawMessage
}
