// Package callback holds the vocabulary of third-party callbacks (webhooks,
// reference §6, product.md §6): the CallbackCommand names, the JSON bodies
// with the reference's field names, the caller a request came from, and what
// the domain asks of an app's callbacks (Hooks) and gets back (Decision).
// It does no I/O: package callback/sender posts the requests and drains the
// outbox.
package callback

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// CallbackCommand names (reference §6), the events chatd sends.
const (
	StateChange = "State.StateChange"

	ProfilePortraitSet = "Profile.CallbackPortraitSet"

	SnsPrevFriendAdd      = "Sns.CallbackPrevFriendAdd"
	SnsPrevFriendResponse = "Sns.CallbackPrevFriendResponse"
	SnsFriendAdd          = "Sns.CallbackFriendAdd"
	SnsFriendDelete       = "Sns.CallbackFriendDelete"
	SnsBlackListAdd       = "Sns.CallbackBlackListAdd"
	SnsBlackListDelete    = "Sns.CallbackBlackListDelete"

	C2CBeforeSendMsg    = "C2C.CallbackBeforeSendMsg"
	C2CAfterSendMsg     = "C2C.CallbackAfterSendMsg"
	C2CAfterMsgReport   = "C2C.CallbackAfterMsgReport"
	C2CAfterMsgWithDraw = "C2C.CallbackAfterMsgWithDraw"

	GroupBeforeCreateGroup     = "Group.CallbackBeforeCreateGroup"
	GroupAfterCreateGroup      = "Group.CallbackAfterCreateGroup"
	GroupBeforeApplyJoinGroup  = "Group.CallbackBeforeApplyJoinGroup"
	GroupBeforeInviteJoinGroup = "Group.CallbackBeforeInviteJoinGroup"
	GroupAfterNewMemberJoin    = "Group.CallbackAfterNewMemberJoin"
	GroupAfterMemberExit       = "Group.CallbackAfterMemberExit"
	GroupBeforeSendMsg         = "Group.CallbackBeforeSendMsg"
	GroupAfterSendMsg          = "Group.CallbackAfterSendMsg"
	GroupAfterGroupDestroyed   = "Group.CallbackAfterGroupDestroyed"
	GroupAfterGroupInfoChanged = "Group.CallbackAfterGroupInfoChanged"
	GroupAfterChangeGroupOwner = "Group.CallbackAfterChangeGroupOwner"
	GroupAfterRecallMsg        = "Group.CallbackAfterRecallMsg"
)

// Before lists the before-events: the app's answer decides whether the
// action happens. Every other command is an after-event (outbox, at least once).
var Before = []string{
	C2CBeforeSendMsg, GroupBeforeSendMsg, GroupBeforeCreateGroup, GroupBeforeApplyJoinGroup,
	GroupBeforeInviteJoinGroup, SnsPrevFriendAdd, SnsPrevFriendResponse,
}

// Commands lists every command chatd sends, in the reference's order.
var Commands = []string{
	StateChange, ProfilePortraitSet,
	SnsPrevFriendAdd, SnsPrevFriendResponse, SnsFriendAdd, SnsFriendDelete, SnsBlackListAdd, SnsBlackListDelete,
	C2CBeforeSendMsg, C2CAfterSendMsg, C2CAfterMsgReport, C2CAfterMsgWithDraw,
	GroupBeforeCreateGroup, GroupAfterCreateGroup, GroupBeforeApplyJoinGroup, GroupBeforeInviteJoinGroup,
	GroupAfterNewMemberJoin, GroupAfterMemberExit, GroupBeforeSendMsg, GroupAfterSendMsg,
	GroupAfterGroupDestroyed, GroupAfterGroupInfoChanged, GroupAfterChangeGroupOwner, GroupAfterRecallMsg,
}

// AllCommands, given as a command in a configuration, turns every command of
// Commands on.
const AllCommands = "all"

// ConfigChange is a partial change of an app's callback settings (the
// operator and console APIs' PUT): a nil field keeps the current value.
type ConfigChange struct {
	URL      *string
	Token    *string
	Commands *[]string // names of Commands, or AllCommands
}

// IsBefore reports whether command is a before-event.
func IsBefore(command string) bool {
	for _, c := range Before {
		if c == command {
			return true
		}
	}
	return false
}

// Timeout bounds a before-event request (the reference's 2 s, not adjustable):
// past it the default answer (allow) applies.
const Timeout = 2 * time.Second

// OptPlatform values (reference §6). State.StateChange spells iOS "IOS".
const (
	PlatformREST    = "RESTAPI"
	PlatformWeb     = "Web"
	PlatformAndroid = "Android"
	PlatformIOS     = "iOS"
	PlatformWindows = "Windows"
	PlatformMac     = "Mac"
	PlatformIPad    = "iPad"
	PlatformUnknown = "Unknown"
)

// Caller is where the request that caused an event came from: the ClientIP
// and OptPlatform query parameters of its callbacks.
type Caller struct {
	IP       string // the client's address, without port ("" when unknown)
	Platform string // an OptPlatform value ("" is sent as Unknown)
}

type callerKey struct{}

// WithCaller returns ctx carrying the caller of the request it serves; the
// edges (REST, WebSocket) set it, the domain reads it when it makes events.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerOf returns the caller ctx carries (Platform Unknown when none).
func CallerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	if c.Platform == "" {
		c.Platform = PlatformUnknown
	}
	return c
}

// Decision is an app's answer to a before-event (reference §6 Response).
type Decision struct {
	// Code is the answer's ErrorCode: 0 allows; 1 rejects (the sender gets the
	// command's default refusal: 20006 for C2C, 10016 for groups, 30516-like
	// per-item refusals for friends); a code in 120001..130000 rejects with
	// that code and Info. Any other non-zero code rejects like 1.
	Code int
	Info string // ErrorInfo of the answer
	// MsgBody and CloudCustomData rewrite the message when set
	// (C2C/Group.CallbackBeforeSendMsg); nil leaves it as sent.
	MsgBody         json.RawMessage
	CloudCustomData *string
	// RefusedMembers are invitees refused by Group.CallbackBeforeInviteJoinGroup.
	RefusedMembers []string
	// Results are per-item answers of the Sns.CallbackPrev* events: an item
	// with ResultCode != 0 is refused with that code and ResultInfo.
	Results []ItemResult
	// Err says why the default (allow) applied: a timeout, a transport error,
	// a non-200 or unreadable answer; nil when the app answered. For logs and
	// metrics only.
	Err error
}

// ItemResult is one per-item answer of an Sns.CallbackPrev* event.
type ItemResult struct {
	To   string `json:"To_Account"`
	Code int    `json:"ResultCode"`
	Info string `json:"ResultInfo"`
}

// Allowed reports whether the decision lets the action happen.
func (d Decision) Allowed() bool { return d.Code == 0 }

// CustomCode reports whether Code is one the app may pass to its client
// (120001..130000).
func (d Decision) CustomCode() bool { return d.Code >= 120001 && d.Code <= 130000 }

// Hooks is what the domain asks of an app's callbacks. Package
// callback/sender implements it; Off is the implementation with none.
type Hooks interface {
	// On reports whether the app has command on (a URL is set and the command
	// is enabled). It reads a cache: no I/O per call beyond a refresh.
	On(ctx context.Context, app int64, command string) bool
	// Before sends a before-event (body: one of the Before* types) and returns
	// the app's decision, within Timeout. On a timeout, a transport error, a
	// non-200 or unreadable answer it returns the default (allow) with Err set,
	// and counts the failure. An app without the command on: allow, no request.
	Before(ctx context.Context, app int64, command string, body any) Decision
	// Emit appends after-events that have no stored change of their own
	// (logins, live-room messages) to the outbox, in a transaction of its own.
	Emit(ctx context.Context, evs []store.CallbackEvent) error
}

// Off is Hooks with no callback on: On is false, Before allows, Emit drops.
type Off struct{}

func (Off) On(context.Context, int64, string) bool              { return false }
func (Off) Before(context.Context, int64, string, any) Decision { return Decision{} }
func (Off) Emit(context.Context, []store.CallbackEvent) error   { return nil }

// Head is the part every body starts with; Event fills it in.
type Head struct {
	CallbackCommand string `json:"CallbackCommand"`
	EventTime       int64  `json:"EventTime"` // milliseconds
}

func (h *Head) head() *Head { return h }

// Body is any of the body types of this package.
type Body interface{ head() *Head }

// Stamp sets body's EventTime to t (the domain's clock), which Event keeps.
func Stamp(body Body, t time.Time) { body.head().EventTime = t.UnixMilli() }

// Event makes the after-event of command with body for app at now (the
// domain's clock): body's Head is filled in (an EventTime already set by
// Stamp is kept) and body encoded once; the caller comes from ctx. NextAt is zero (due at once): delivery schedules retries by
// its own real-time clock, so a server on a manual clock still delivers.
func Event(ctx context.Context, app int64, command string, body Body, now time.Time) store.CallbackEvent {
	h := body.head()
	h.CallbackCommand = command
	if h.EventTime == 0 {
		h.EventTime = now.UnixMilli()
	}
	b, err := json.Marshal(body)
	if err != nil { // the body types hold strings, numbers and raw JSON that was validated
		panic("callback: encoding " + command + ": " + err.Error())
	}
	c := CallerOf(ctx)
	return store.CallbackEvent{App: app, Command: command, Body: b, ClientIP: c.IP, Platform: c.Platform, CreatedAt: now}
}
