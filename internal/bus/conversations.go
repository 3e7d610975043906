package bus

import "github.com/chatd/chatd/internal/store"

// KindConv is a change of a user's conversation list made by a request
// (delete, pin, marks, conversation groups), for all the user's devices.
const KindConv = "conv"

// ConvChange is what changed: one conversation (its new state, or Deleted), or
// the user's conversation groups (Groups set: the whole list after the change).
type ConvChange struct {
	Conv          *store.ConvState  // the conversation's state after the change; nil for a groups-only change
	Deleted       bool              // Conv was deleted from the list
	Groups        []store.ConvGroup // set when the user's conversation groups changed: all of them
	GroupsChanged bool
}
