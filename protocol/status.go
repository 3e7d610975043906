package protocol

// User status ops (docs/protocol.md, "User status"): Free Trial and Premium only.
const (
	OpSetStatus   = "set_status"         // set the user's custom status (custom_status; "" clears it)
	OpSubscribe   = "subscribe_status"   // subscribe to the status of users
	OpUnsubscribe = "unsubscribe_status" // unsubscribe from users (none listed: from all)
	OpStatus      = "status"             // server push: a subscribed user's (or the user's own) status changed
)

// User states, the reference's query_online_status vocabulary.
const (
	StatusOnline     = "Online"     // at least one device connected
	StatusPushOnline = "PushOnline" // disconnected: a mobile device lost its connection without logging out
	StatusOffline    = "Offline"    // logged out, or never logged in
)

// UserStatus is one user's state in a subscribe reply.
type UserStatus struct {
	User         string `json:"user"`
	Status       string `json:"status"`
	CustomStatus string `json:"custom_status,omitempty"`
}

// UserFailure is a user a request could not act on, with the reference code.
type UserFailure struct {
	User    string `json:"user"`
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
}
