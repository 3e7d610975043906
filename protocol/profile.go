package protocol

import "encoding/json"

// OpProfile is a server push: a user's profile changed (Frame.Profile). A
// device gets it for its own user's changes and for those of users whose
// audience it is in (docs/protocol.md).
const OpProfile = "profile"

// ProfileNotice is the changed tags of User's profile (reference §3.4 tags and
// values, as portrait_get returns them: strings as strings, numbers as numbers).
type ProfileNotice struct {
	User  string       `json:"user"`
	Items []ProfileTag `json:"items"`
}

// ProfileTag is one changed tag.
type ProfileTag struct {
	Tag   string          `json:"tag"`
	Value json.RawMessage `json:"value"`
}
