package errs

// Refusals by an app's before-event callback (reference §6).
const (
	// C2CCallbackRefused (20006): the app's C2C.CallbackBeforeSendMsg refused
	// the one-to-one message (the reference's "blocked by the callback before
	// sending"). Nothing is stored or delivered.
	C2CCallbackRefused = 20006
	// GroupCallbackRefused (10016): the app's Group.CallbackBefore* callback
	// refused the group operation (send, create, apply, invite).
	GroupCallbackRefused = 10016
)
