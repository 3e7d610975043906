package im

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// App callbacks (reference §6): before-events ask the app whether an action
// happens; after-events are appended to the store's outbox with the change
// that causes them (Op.Callback for writes of the Writer, store.WithCallbacks
// for relational writes, store.WithCallbacksFor where only the store knows
// which items it applies), or through Hooks.Emit when nothing is stored.
// Everything is skipped, with no encoding, when Hooks.On is false.

// UseCallbacks sets the app callbacks the service asks and emits to (the
// default is callback.Off: none). Call it once, before serving.
func (s *Service) UseCallbacks(h callback.Hooks) {
	if h == nil {
		h = callback.Off{}
	}
	s.hooks = h
}

// on reports whether app has command on.
func (s *Service) on(ctx context.Context, app int64, command string) bool {
	return s.hooks.On(ctx, app, command)
}

// event makes the after-event of command for app at the service's clock.
func (s *Service) event(ctx context.Context, app int64, command string, body callback.Body) store.CallbackEvent {
	return callback.Event(ctx, app, command, body, s.clock.Now())
}

// withEvent returns ctx carrying the after-event of command made by body()
// when app has command on; else ctx (body is not called).
func (s *Service) withEvent(ctx context.Context, app int64, command string, body func() callback.Body) context.Context {
	if !s.on(ctx, app, command) {
		return ctx
	}
	return store.WithCallbacks(ctx, s.event(ctx, app, command, body()))
}

// before asks the app's before-event command about body, stamped with the
// service's clock (as after-events are), and returns its decision.
func (s *Service) before(ctx context.Context, app int64, command string, body callback.Body) callback.Decision {
	callback.Stamp(body, s.clock.Now())
	return s.hooks.Before(ctx, app, command, body)
}

// emit appends an after-event that has no stored change of its own; a
// failure is logged (the action already happened).
func (s *Service) emit(ctx context.Context, app int64, command string, body func() callback.Body) {
	if !s.on(ctx, app, command) {
		return
	}
	if err := s.hooks.Emit(ctx, []store.CallbackEvent{s.event(ctx, app, command, body())}); err != nil {
		slog.Error("callback: appending an after-event", "app", app, "command", command, "err", err)
	}
}

// refusal is the error of a before-event's refusing decision: the app's own
// code (120001..130000) with its ErrorInfo, else def with msg; nil when the
// decision allows.
func refusal(d callback.Decision, def int, msg string) error {
	if d.Allowed() {
		return nil
	}
	if d.CustomCode() {
		info := d.Info
		if info == "" || input.Text(info) != nil {
			info = msg
		}
		return errs.New(d.Code, "%s", info)
	}
	return errs.New(def, "%s", msg)
}

// rewrite applies a before-send decision's MsgBody and CloudCustomData to a
// message: an invalid replacement is ignored (logged) and the original kept.
func rewrite(app int64, command string, d callback.Decision, body *json.RawMessage, cloud *string) {
	if d.MsgBody != nil {
		if err := ValidateBody(d.MsgBody); err != nil {
			slog.Warn("callback: the app's MsgBody is invalid; the message is kept as sent", "app", app, "command", command, "err", errs.Message(err))
		} else {
			*body = append(json.RawMessage(nil), d.MsgBody...)
		}
	}
	if d.CloudCustomData != nil {
		c := *d.CloudCustomData
		if len(c) > MaxMsgBodyBytes || input.Text(c) != nil {
			slog.Warn("callback: the app's CloudCustomData is invalid; the message is kept as sent", "app", app, "command", command)
		} else {
			*cloud = c
		}
	}
}

// Forbid lists the callbacks a REST request turns off (ForbidCallbackControl).
type Forbid struct {
	Before bool // ForbidBeforeSendMsgCallback
	After  bool // ForbidAfterSendMsgCallback
}

// ParseForbid reads a ForbidCallbackControl list: "ForbidBeforeSendMsgCallback"
// and "ForbidAfterSendMsgCallback"; anything else is refused (InvalidParameters).
func ParseForbid(vals []string) (Forbid, error) {
	var f Forbid
	if len(vals) > 2*len(forbidNames) {
		return f, errs.New(errs.InvalidParameters, "ForbidCallbackControl lists %d values; at most %d", len(vals), 2*len(forbidNames))
	}
	for _, v := range vals {
		switch v {
		case forbidNames[0]:
			f.Before = true
		case forbidNames[1]:
			f.After = true
		default:
			return Forbid{}, errs.New(errs.InvalidParameters, "ForbidCallbackControl: %.64q is not one of %q", v, forbidNames)
		}
	}
	return f, nil
}

var forbidNames = []string{"ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"}

// onlineFlag is the OnlineOnlyFlag of a message.
func onlineFlag(online bool) int {
	if online {
		return 1
	}
	return 0
}

// beforeC2C asks the app's C2C.CallbackBeforeSendMsg about the message req
// sends to to (when on and not forbidden) and applies its answer: a refusal
// is 20006 or the app's code; a rewrite replaces req's Body and
// CloudCustomData. msgSeq is the MsgSeq when known before the write (0 else).
func (s *Service) beforeC2C(ctx context.Context, app store.App, req *SendRequest, to string, msgSeq int64) error {
	if req.Forbid.Before || !s.on(ctx, app.SDKAppID, callback.C2CBeforeSendMsg) {
		return nil
	}
	if req.Random == 0 {
		req.Random = randomUint32() // chosen now: the app sees the MsgRandom (and MsgKey) stored
	}
	if req.at == 0 {
		req.at = s.clock.Now().Unix()
	}
	t := req.at
	body := &callback.C2CMsgBody{From: req.From, To: to, MsgSeq: msgSeq, MsgRandom: req.Random, MsgTime: t,
		OnlineOnlyFlag: onlineFlag(req.OnlineOnly), MsgBody: req.Body, CloudCustomData: req.CloudCustomData}
	if msgSeq != 0 {
		body.MsgKey = store.FormatMsgKey(msgSeq, req.Random, t)
		body.MsgId = body.MsgKey // sendmsg answers MsgId = MsgKey too
	}
	d := s.before(ctx, app.SDKAppID, callback.C2CBeforeSendMsg, body)
	if err := refusal(d, errs.C2CCallbackRefused, "the message was refused by the app's callback before sending"); err != nil {
		return err
	}
	rewrite(app.SDKAppID, callback.C2CBeforeSendMsg, d, &req.Body, &req.CloudCustomData)
	return nil
}

// afterC2CBody is the C2C.CallbackAfterSendMsg body of a sent message e.
// UnreadMsgNum is left out: the receiver's count is not known inside the
// write that makes the event (docs/rest-api.md §6).
func afterC2CBody(e store.Entry, online bool) *callback.C2CMsgBody {
	zero, ok := 0, "send msg succeed"
	to := e.To
	if to == "" {
		to = e.Peer
	}
	return &callback.C2CMsgBody{From: e.From, To: to, MsgSeq: e.MsgSeq, MsgRandom: e.MsgRandom, MsgTime: e.MsgTime,
		MsgKey: e.MsgKey, MsgId: e.MsgKey, OnlineOnlyFlag: onlineFlag(online), MsgBody: e.Body, CloudCustomData: e.CloudCustomData,
		SendMsgResult: &zero, ErrorInfo: &ok}
}

// afterC2C sets op's Callback to the C2C.CallbackAfterSendMsg of the stored
// message, when on and not forbidden.
func (s *Service) afterC2C(ctx context.Context, app int64, forbid bool, op *store.Op) {
	if forbid || !s.on(ctx, app, callback.C2CAfterSendMsg) {
		return
	}
	op.Callback = func(first store.Entry) (store.CallbackEvent, bool) {
		return s.event(ctx, app, callback.C2CAfterSendMsg, afterC2CBody(first, false)), true
	}
}

// State.StateChange actions and reasons.
const (
	StateLogin      = "Login"
	StateLogout     = "Logout"
	StateDisconnect = "Disconnect"

	ReasonRegister   = "Register"   // a login
	ReasonUnregister = "Unregister" // a logout: the device or the server ended the session
	ReasonLinkClose  = "LinkClose"  // the connection broke
	ReasonTimeOut    = "TimeOut"    // the device went silent past the idle timeout
)

// StateChanged appends the app's State.StateChange of user (action, reason;
// kicked lists the OptPlatform of the devices a login ended) through
// Hooks.Emit: nothing is stored with it. The caller (device IP and platform)
// comes from ctx; iOS is spelt "IOS" for this command (reference §6 quirk).
func (s *Service) StateChanged(ctx context.Context, app int64, user, action, reason string, kicked []string) {
	if !s.on(ctx, app, callback.StateChange) {
		return
	}
	b := &callback.StateChangeBody{}
	b.Info.Action, b.Info.Account, b.Info.Reason = action, user, reason
	for _, p := range kicked {
		b.KickedDevice = append(b.KickedDevice, callback.KickedDevice{Platform: statePlatform(p)})
	}
	ev := s.event(ctx, app, callback.StateChange, b)
	ev.Platform = statePlatform(ev.Platform)
	if err := s.hooks.Emit(ctx, []store.CallbackEvent{ev}); err != nil {
		slog.Error("callback: appending a state change", "app", app, "err", err)
	}
}

// statePlatform is p as State.StateChange spells it.
func statePlatform(p string) string {
	if p == callback.PlatformIOS {
		return "IOS"
	}
	return p
}
