// Package errs is chatd's one error vocabulary: the coded Error type and the
// kinds of failure (ErrInvalid, ErrNotFound, ErrExists, ErrLimit, ErrConflict)
// that every layer wraps and every edge tests with errors.Is. No other package
// defines its own not-found, limit or invalid sentinel; a domain error with a
// meaning of its own (commerce.ErrRefused, tenant.ErrSuspended, ...) wraps the
// kind an edge maps it by. Codes are the reference service's numeric error codes
// (see docs/rest-api.md), so the REST edge and the WebSocket protocol report the
// same number for the same failure.
package errs

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is a failure with a stable numeric code and a human-readable message.
// Msg is what clients see; cause, set by Hidden, is only for the server's log.
type Error struct {
	Code  int
	Msg   string
	cause error
}

// Error includes the hidden cause, so logging err records it; clients get Msg only.
func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d: %s: %v", e.Code, e.Msg, e.cause)
	}
	return fmt.Sprintf("%d: %s", e.Code, e.Msg)
}

// Unwrap returns the hidden cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Hidden turns a failure whose text must not reach clients (a storage error, for
// instance) into Internal with the generic message "internal error". The cause
// stays in Error() and Unwrap for the log. An *Error is returned as it is.
func Hidden(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Msg: "internal error", cause: err}
}

// Message is the client-visible text of err: Msg of an *Error, else "internal
// error" (an error without a code may carry storage text).
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "internal error"
}

// New returns an *Error with the given code and message. Messages often quote
// what a caller sent; they are cut to MaxMessageBytes, so that an oversized
// field is never echoed back whole.
func New(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: Clip(fmt.Sprintf(format, args...))}
}

// MaxMessageBytes bounds the text of an error answered to a client.
const MaxMessageBytes = 512

// Clip cuts s to at most MaxMessageBytes bytes on a UTF-8 boundary, marking the
// cut with "…".
func Clip(s string) string {
	if len(s) <= MaxMessageBytes {
		return s
	}
	cut := MaxMessageBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// CodeOf returns the code of err, or Internal when err carries none.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Reference error codes used by chatd. Names say what chatd means by them.
const (
	// REST envelope / common.
	HTTPParse        = 60002
	JSONParse        = 60003
	BadAccountOrSig  = 60004
	SDKAppIDInvalid  = 60006
	UnknownCommand   = 60009
	AdminRequired    = 60010
	SDKAppIDMissing  = 60012
	AccountFieldType = 60015
	PlanInactive     = 60020 // app suspended, plan expired or app not active
	SessionsPerUser  = 60018
	SessionsPerApp   = 60011

	// UserSig and accounts.
	SigExpired        = 70001
	SigEmpty          = 70002
	SigInvalid        = 70003
	SigMismatch       = 70009
	SigIdentifier     = 70013
	SigSDKAppID       = 70014
	SigKicked         = 70052 // UserSig made before the user's last kick: regenerate
	AppNotFound       = 70020
	AccountNotFound   = 70107
	BatchCount        = 70206
	TrialMAUCap       = 70398
	InvalidParameters = 70402
	Internal          = 70500

	// One-to-one messages.
	C2CSenderOrPeer   = 20003
	MsgRecallTooLate  = 20016
	MsgJSON           = 90001
	MsgBodyInvalid    = 90002
	MsgToAccount      = 90003
	MsgTimeStamp      = 90006 // MsgTimeStamp missing or out of range
	MsgBodyNotArray   = 90007
	MsgBatchTooLarge  = 90011
	MsgPeerNotFound   = 90012
	MsgNotFound       = 90004 // chatd: no message with that MsgKey in this conversation
	MsgTooLong        = 93000
	MsgAccountMissing = 90048

	// Profile.
	ProfileBadParams    = 40001
	ProfileNoAccount    = 40003
	ProfileTagNotFound  = 40009 // a tag that is neither standard nor a valid custom one
	ProfileValueTooBig  = 40601
	ProfileBadValue     = 40605 // a standard tag's value outside its allowed set
	ProfileTypeMismatch = 40610 // a value of the wrong JSON type for its tag
)
