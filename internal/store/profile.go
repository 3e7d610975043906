package store

import (
	"context"
	"math"
	"time"
)

// ProfileField is a custom profile field declared for an app: the tag
// Tag_Profile_Custom_<Name> may be set only once it is declared (reference §3.4).
type ProfileField struct {
	Name      string // the key after "Tag_Profile_Custom_": 1 to 8 bytes of [A-Za-z0-9_]
	Type      string // "string" or "integer"
	MaxBytes  int    // the longest string value, 1 to 500 bytes (0 for integers)
	CreatedAt time.Time
}

// MuteForever is the end of a mute that never ends (the reference's 4294967295 seconds).
const MuteForever int64 = math.MaxInt64

// Mute is a user's global mute (reference §3.8): the ends, in Unix milliseconds,
// of the time during which the user may not send one-to-one (C2CUntil) or group
// (GroupUntil) messages; 0 = not muted, MuteForever = until unmuted.
type Mute struct {
	C2CUntil   int64
	GroupUntil int64
}

// Profiles stores the declared custom profile fields of apps and users' global mutes.
type Profiles interface {
	// AddProfileField declares a custom profile field. errs.ErrExists when the name
	// is declared already, errs.ErrLimit when the app has max fields (check and
	// insert are atomic).
	AddProfileField(ctx context.Context, app int64, f ProfileField, max int) error
	// ProfileFields lists the app's declared fields by name.
	ProfileFields(ctx context.Context, app int64) ([]ProfileField, error)
	// SetMute records the user's mute; a Mute with both ends 0 removes it. The
	// user's deletion removes it too.
	SetMute(ctx context.Context, app int64, user string, m Mute) error
	// GetMute returns the user's mute as recorded (the zero Mute when none).
	GetMute(ctx context.Context, app int64, user string) (Mute, error)
}
