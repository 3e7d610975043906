package im

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Message limits.
const (
	MaxMsgBodyBytes   = 12 * 1024 // the reference's documented message size limit
	MaxBatchSendUsers = 500
	MaxClientIDLen    = 64
	UserRecallWindow  = 2 * time.Minute // a sender may recall for this long; the admin always
	MaxHistoryPage    = 100
	MaxSyncPage       = 500
	// MaxImportAhead is how far past the server's clock an imported message's
	// time may be (clock skew between systems); later is refused.
	MaxImportAhead = 5 * time.Minute
	// MaxMsgLifetime bounds a message's offline life (the reference's MsgLifeTime
	// limit, 604800 s); a longer one is cut to it.
	MaxMsgLifetime = 7 * 24 * time.Hour
)

// elementTypes are the message element types of the reference protocol, each
// with the types of its MsgContent fields (the reference SDK models): a field of
// another JSON type is refused (90002), since clients decode these fields with
// fixed types. Fields not listed are kept as they are.
var elementTypes = map[string]func() any{
	"TIMTextElem": func() any { return new(struct{ Text string }) },
	"TIMLocationElem": func() any {
		return new(struct {
			Desc                string
			Latitude, Longitude float64
		})
	},
	"TIMFaceElem": func() any {
		return new(struct {
			Index int64
			Data  string
		})
	},
	"TIMCustomElem": func() any { return new(struct{ Data, Desc, Ext, Sound string }) },
	"TIMSoundElem": func() any {
		return new(struct {
			Url, UUID                   string
			Size, Second, Download_Flag int64
		})
	},
	"TIMImageElem": func() any {
		return new(struct {
			UUID           string
			ImageFormat    int64
			ImageInfoArray []struct {
				Type, Size, Width, Height int64
				URL                       string
			}
		})
	},
	"TIMFileElem": func() any {
		return new(struct {
			Url, UUID, FileName     string
			FileSize, Download_Flag int64
		})
	},
	"TIMVideoFileElem": func() any {
		return new(struct {
			VideoUrl, VideoUUID, VideoFormat, ThumbUrl, ThumbUUID, ThumbFormat string
			VideoSize, VideoSecond, VideoDownloadFlag                          int64
			ThumbSize, ThumbWidth, ThumbHeight, ThumbDownloadFlag              int64
		})
	},
}

// ValidateBody checks a MsgBody: a non-empty JSON array of {MsgType, MsgContent}.
func ValidateBody(body json.RawMessage) error {
	if len(body) > MaxMsgBodyBytes {
		return errs.New(errs.MsgTooLong, "message body is %d bytes; the limit is %d", len(body), MaxMsgBodyBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return errs.New(errs.MsgBodyNotArray, "MsgBody must be a JSON array of message elements")
	}
	if err := input.JSON(trimmed); err != nil {
		return errs.New(errs.MsgBodyInvalid, "MsgBody: %v", err)
	}
	if scanBody(trimmed) {
		return nil
	}
	return decodeBody(trimmed)
}

// decodeBody checks the elements of a MsgBody (a JSON array, valid UTF-8) by
// decoding them: the rules of ValidateBody, and its errors.
func decodeBody(trimmed []byte) error {
	var elems []struct {
		MsgType    string          `json:"MsgType"`
		MsgContent json.RawMessage `json:"MsgContent"`
	}
	if err := json.Unmarshal(trimmed, &elems); err != nil {
		return errs.New(errs.MsgBodyInvalid, "MsgBody is malformed: %v", err)
	}
	if len(elems) == 0 {
		return errs.New(errs.MsgBodyInvalid, "MsgBody has no elements")
	}
	for i, e := range elems {
		content, ok := elementTypes[e.MsgType]
		if !ok {
			return errs.New(errs.MsgBodyInvalid, "MsgBody[%d].MsgType %q is not a known element type", i, e.MsgType)
		}
		if c := bytes.TrimSpace(e.MsgContent); len(c) == 0 || c[0] != '{' {
			return errs.New(errs.MsgBodyInvalid, "MsgBody[%d].MsgContent must be an object", i)
		}
		var typ *json.UnmarshalTypeError
		if err := json.Unmarshal(e.MsgContent, content()); errors.As(err, &typ) {
			return errs.New(errs.MsgBodyInvalid, "MsgBody[%d].MsgContent.%s of %s must be %s, not %s", i, typ.Field, e.MsgType, input.JSONKind(typ.Type), typ.Value)
		} else if err != nil {
			return errs.New(errs.MsgBodyInvalid, "MsgBody[%d].MsgContent is malformed", i)
		}
	}
	return nil
}

// SendRequest is a one-to-one message to send.
type SendRequest struct {
	From, To        string
	ClientID        string // idempotency key; a retry with the same key does not duplicate
	Random          uint32
	MsgSeq          int64 // the message's MsgSeq; 0 = chosen by the server
	Body            json.RawMessage
	CloudCustomData string
	NoSenderCopy    bool // do not store the message in the sender's log (SyncOtherMachine=2)
	// OnlineOnly (MsgLifeTime 0) hands the message to the devices connected now
	// and stores nothing: it has no Seq and is never synced, listed or counted.
	OnlineOnly bool
	// Lifetime > 0 (MsgLifeTime) ends the message's offline life that long after
	// it is sent (at most MaxMsgLifetime): sync, history and unread skip it then,
	// and the purge deletes it. 0: it lives for the retention window.
	Lifetime     time.Duration
	NoUnread     bool   // the receiver's copy does not count as unread (SendMsgControl NoUnread)
	Import       bool   // importmsg: a message from another system, with its own Time
	ImportUnread bool   // an imported message counts as unread (real-time import)
	Time         int64  // Unix seconds; 0 = now (only imports may set it)
	Forbid       Forbid // callbacks this send skips (REST ForbidCallbackControl)
	// at is the message's time (Unix seconds) fixed when the app's
	// before-send callback was asked, so that the MsgKey it saw is the one
	// stored however long it took to answer; 0: the time of the write.
	at int64
}

// msgTime is the time (Unix seconds) a message sent now carries.
func (s *Service) msgTime(req SendRequest) int64 {
	if req.Import && req.Time != 0 {
		return req.Time
	}
	if req.at != 0 {
		return req.at
	}
	return s.clock.Now().Unix()
}

// SendResult is what a send produced.
type SendResult struct {
	MsgKey    string
	MsgSeq    int64
	MsgTime   int64
	MsgRandom uint32
	Seq       int64 // the sender copy's position in the sender's log (0 without a copy)
	Duplicate bool
}

// Send stores a one-to-one message durably and delivers it to every device of both
// users. The sender is req.From, or the app's admin identity when it is empty; the
// admin identity may send without being an imported user.
func (s *Service) Send(ctx context.Context, app store.App, req SendRequest) (SendResult, error) {
	if err := s.gate.Active(app); err != nil {
		return SendResult{}, err
	}
	if err := s.checkSend(ctx, app, &req); err != nil {
		return SendResult{}, err
	}
	if req.Random == 0 {
		req.Random = randomUint32()
	}
	if req.OnlineOnly && req.MsgSeq == 0 {
		req.MsgSeq = RandomMsgSeq()
	}
	if !req.Import {
		if err := s.beforeC2C(ctx, app, &req, req.To, req.MsgSeq); err != nil {
			return SendResult{}, err
		}
	}
	if req.OnlineOnly {
		return s.sendOnline(ctx, app, req, req.MsgSeq, req.To), nil
	}
	return s.write(ctx, app, req)
}

// sendOnline hands the message to the connected devices of the receivers (and of
// the sender, unless NoSenderCopy) through the bus, storing nothing. The entries
// carry Seq 0: a device shows them but does not count them in its log position.
//
// Its C2C.CallbackAfterSendMsg events are appended through Hooks.Emit (nothing
// else is stored), after the hand-off.
func (s *Service) sendOnline(ctx context.Context, app store.App, req SendRequest, msgSeq int64, to ...string) SendResult {
	t := s.msgTime(req)
	base := store.Entry{
		App: app.SDKAppID, Kind: store.KindMsg, From: req.From, MsgSeq: msgSeq, MsgRandom: req.Random,
		MsgTime: t, MsgKey: store.FormatMsgKey(msgSeq, req.Random, t), ClientID: req.ClientID,
		Body: req.Body, CloudCustomData: req.CloudCustomData, CreatedAt: s.clock.Now(),
	}
	var ds []bus.Delivery
	add := func(e store.Entry) {
		ds = append(ds, bus.Delivery{App: app.SDKAppID, User: e.Owner, Kind: bus.KindEntry, Entry: &e})
	}
	senderCopy := !req.NoSenderCopy
	for _, u := range to {
		e := base
		e.To, e.Owner, e.Peer = u, u, req.From
		add(e)
		if senderCopy && u != req.From {
			e.Owner, e.Peer = req.From, u
			add(e)
		}
	}
	s.bus.Publish(ds)
	for range to {
		s.usage.C2C(app.SDKAppID, req.From, base.CreatedAt)
	}
	if !req.Forbid.After && s.on(ctx, app.SDKAppID, callback.C2CAfterSendMsg) {
		evs := make([]store.CallbackEvent, 0, len(to))
		for _, u := range to {
			e := base
			e.To = u
			evs = append(evs, s.event(ctx, app.SDKAppID, callback.C2CAfterSendMsg, afterC2CBody(e, true)))
		}
		if err := s.hooks.Emit(ctx, evs); err != nil {
			slog.Error("callback: appending after-events of an online-only message", "app", app.SDKAppID, "err", err)
		}
	}
	return SendResult{MsgKey: base.MsgKey, MsgSeq: msgSeq, MsgTime: t, MsgRandom: req.Random}
}

// expiresAt is the end of req's offline life, or zero.
func expiresAt(req SendRequest, now time.Time) time.Time {
	if req.Lifetime <= 0 {
		return time.Time{}
	}
	return now.Add(min(req.Lifetime, MaxMsgLifetime))
}

func (s *Service) checkSend(ctx context.Context, app store.App, req *SendRequest) error {
	if req.From == "" {
		req.From = app.AdminUser
	}
	if err := ValidUserID(req.From); err != nil {
		return errs.New(errs.C2CSenderOrPeer, "From_Account: %s", errs.Message(err))
	}
	if err := ValidUserID(req.To); err != nil {
		return errs.New(errs.MsgToAccount, "To_Account: %s", errs.Message(err))
	}
	if err := checkContent(*req); err != nil {
		return err
	}
	if req.Import {
		if err := checkImportTime(req.Time, s.clock.Now()); err != nil {
			return err
		}
	}
	users, err := s.imported(ctx, app.SDKAppID, req.From, req.To)
	if err != nil {
		return err
	}
	if !users[req.From] && req.From != app.AdminUser {
		return errs.New(errs.C2CSenderOrPeer, "sender %q is not an imported account", req.From)
	}
	if !users[req.To] {
		return errs.New(errs.MsgPeerNotFound, "receiver %q is not an imported account", req.To)
	}
	if req.Import {
		return nil
	}
	if err := s.checkMuted(ctx, app, req.From); err != nil {
		return err
	}
	return s.relationRule(ctx, app, req.From, req.To) // blocklist, friend-only (sns_send.go)
}

// checkImportTime bounds an imported message's time (Unix seconds): after 1970
// and at most MaxImportAhead past now.
func checkImportTime(t int64, now time.Time) error {
	if latest := now.Add(MaxImportAhead).Unix(); t <= 0 || t > latest {
		return errs.New(errs.MsgTimeStamp, "MsgTimeStamp %d must be Unix seconds from 1 to %d (the server's time plus %s)", t, latest, MaxImportAhead)
	}
	return nil
}

// maxMsgKeyLen bounds a MsgKey taken from a request (three decimal numbers).
const maxMsgKeyLen = 64

// checkMsgKey checks that key (of the request field named field) is a MsgKey,
// "<MsgSeq>_<MsgRandom>_<MsgTime>" with each part in its range.
func checkMsgKey(field, key string) error {
	parts := strings.Split(key, "_")
	bad := len(key) > maxMsgKeyLen || len(parts) != 3
	if !bad {
		_, e1 := strconv.ParseUint(parts[0], 10, 63)
		_, e2 := strconv.ParseUint(parts[1], 10, 32)
		_, e3 := strconv.ParseUint(parts[2], 10, 63)
		bad = e1 != nil || e2 != nil || e3 != nil
	}
	if bad {
		return errs.New(errs.InvalidParameters, "%s %.64q is not a MsgKey (<MsgSeq>_<MsgRandom>_<MsgTime>)", field, key)
	}
	return nil
}

// restKeyPrefixes start the idempotency keys the REST edge makes for sendmsg,
// batchsendmsg and importmsg (they share the sender's ClientID space).
var restKeyPrefixes = []string{"rs:", "rb:", "ri:", pushClientPrefix}

// DeviceClientID checks a client_msg_id sent by a device: it may not start with
// a prefix of the REST edge's keys, so a device can never match (and so replay
// or block) a message the app backend sent in the same user's name (70402).
func DeviceClientID(id string) error {
	for _, p := range restKeyPrefixes {
		if strings.HasPrefix(id, p) {
			return errs.New(errs.InvalidParameters, "client_msg_id may not start with %q: reserved for messages sent through the REST API", p)
		}
	}
	return nil
}

// checkContent checks what a message carries, whoever it goes to.
func checkContent(req SendRequest) error {
	if req.ClientID != "" {
		if err := input.Identifier(req.ClientID, MaxClientIDLen); err != nil {
			return errs.New(errs.InvalidParameters, "client message id: %v", err)
		}
	}
	if len(req.CloudCustomData) > MaxMsgBodyBytes {
		return errs.New(errs.MsgTooLong, "CloudCustomData is longer than %d bytes", MaxMsgBodyBytes)
	}
	if err := input.Text(req.CloudCustomData); err != nil {
		return errs.New(errs.InvalidParameters, "CloudCustomData: %v", err)
	}
	return ValidateBody(req.Body)
}

func (s *Service) write(ctx context.Context, app store.App, req SendRequest) (SendResult, error) {
	op := s.sendOp(app, req)
	if !req.Import {
		s.afterC2C(ctx, app.SDKAppID, req.Forbid.After, &op)
	}
	res, err := s.writer.Do(ctx, op)
	out, err := sendResult(req, res, err)
	if err == nil && !out.Duplicate && !req.Import {
		s.usage.C2C(app.SDKAppID, req.From, op.At)
	}
	return out, err
}

// SendAsync is Send without waiting for the message to be durable, for a device
// that keeps several sends in flight. done is called once with what Send would
// return: at once on the caller's goroutine when the request is refused before
// it is written, else on the writer's goroutine after the commit (it must not
// block). Sends are written in the order SendAsync is called.
//
// origin names the sending device's request: when the message has a sender copy
// (the result's Seq > 0), that copy's delivery carries origin, and the gateway
// answers the device with it (bus.Delivery.Origin) before done runs.
// Online-only requests are refused (errs.InvalidParameters): they have no log
// entry to answer with. When the app has C2C.CallbackBeforeSendMsg on, the
// caller's goroutine waits for its answer (at most callback.Timeout) before
// the message is submitted, so the order of sends is kept.
func (s *Service) SendAsync(ctx context.Context, app store.App, req SendRequest, origin bus.Origin, done func(SendResult, error)) {
	if err := s.gate.Active(app); err != nil {
		done(SendResult{}, err)
		return
	}
	if req.OnlineOnly {
		done(SendResult{}, errs.New(errs.InvalidParameters, "an online-only message cannot be sent asynchronously"))
		return
	}
	if err := s.checkSend(ctx, app, &req); err != nil {
		done(SendResult{}, err)
		return
	}
	if req.Random == 0 {
		req.Random = randomUint32()
	}
	if err := s.beforeC2C(ctx, app, &req, req.To, req.MsgSeq); err != nil {
		done(SendResult{}, err)
		return
	}
	op := s.sendOp(app, req)
	s.afterC2C(ctx, app.SDKAppID, req.Forbid.After, &op)
	s.writer.Submit(op, origin, func(res store.OpResult, err error) {
		out, err := sendResult(req, res, err)
		if err == nil && !out.Duplicate {
			s.usage.C2C(app.SDKAppID, req.From, op.At)
		}
		done(out, err)
	})
}

// sendOp is the write operation of a checked one-to-one send.
func (s *Service) sendOp(app store.App, req SendRequest) store.Op {
	if req.Random == 0 {
		req.Random = randomUint32()
	}
	t := s.msgTime(req)
	now := s.clock.Now()
	return store.Op{
		Kind: store.OpSend, App: app.SDKAppID, From: req.From, To: req.To,
		MsgSeq: req.MsgSeq, ClientID: req.ClientID, MsgRandom: req.Random, MsgTime: t, Body: req.Body,
		CloudCustomData: req.CloudCustomData, OnlyReceiver: req.NoSenderCopy,
		Unread: !req.NoUnread && (!req.Import || req.ImportUnread), At: now, ExpiresAt: expiresAt(req, now),
	}
}

// sendResult is the caller's view of a send's write result.
func sendResult(req SendRequest, res store.OpResult, err error) (SendResult, error) {
	if err != nil {
		return SendResult{}, err
	}
	if res.Err != nil { // the op's own outcome, e.g. 70020 for an app deleted meanwhile
		return SendResult{}, storageErr(res.Err)
	}
	if len(res.Entries) == 0 {
		return SendResult{}, errs.New(errs.Internal, "message was not stored")
	}
	e := res.Entries[0]
	out := SendResult{MsgKey: e.MsgKey, MsgSeq: e.MsgSeq, MsgTime: e.MsgTime, MsgRandom: e.MsgRandom, Duplicate: res.Duplicate}
	if e.Owner == req.From {
		out.Seq = e.Seq
	}
	return out, nil
}

// BatchSend sends one message to many users. A receiver that fails (not imported,
// invalid) does not stop the others; failures are returned per receiver.
func (s *Service) BatchSend(ctx context.Context, app store.App, req SendRequest, to []string) (SendResult, map[string]error, error) {
	if err := s.gate.Active(app); err != nil {
		return SendResult{}, nil, err
	}
	if len(to) == 0 || len(to) > MaxBatchSendUsers {
		return SendResult{}, nil, errs.New(errs.MsgBatchTooLarge, "To_Account must list 1 to %d accounts, got %d", MaxBatchSendUsers, len(to))
	}
	if req.Random == 0 {
		req.Random = randomUint32()
	}
	if req.From == "" {
		req.From = app.AdminUser
	}
	users, err := s.imported(ctx, app.SDKAppID, append([]string{req.From}, to...)...)
	if err != nil {
		return SendResult{}, nil, err
	}
	if !users[req.From] && req.From != app.AdminUser {
		return SendResult{}, nil, errs.New(errs.C2CSenderOrPeer, "sender %q is not an imported account", req.From)
	}
	if err := s.checkMuted(ctx, app, req.From); err != nil {
		return SendResult{}, nil, err
	}
	if err := checkContent(req); err != nil {
		return SendResult{}, nil, err
	}
	failed := map[string]error{}
	ops := make([]store.Op, 0, len(to))
	now := s.clock.Now()
	// Every receiver's copy carries the same MsgKey, so that the key returned to the
	// caller recalls the message wherever it went.
	msgSeq := req.MsgSeq
	if msgSeq == 0 {
		msgSeq = RandomMsgSeq()
	}
	var online, ok []string
	seen := make(map[string]bool, len(to))
	for _, u := range to {
		if seen[u] { // a receiver listed twice gets the message once
			continue
		}
		seen[u] = true
		if err := ValidUserID(u); err != nil {
			failed[u] = errs.New(errs.MsgToAccount, "To_Account: %s", errs.Message(err))
			continue
		}
		if !users[u] {
			failed[u] = errs.New(errs.MsgPeerNotFound, "receiver %q is not an imported account", u)
			continue
		}
		if err := s.relationRule(ctx, app, req.From, u); err != nil {
			failed[u] = err
			continue
		}
		ok = append(ok, u)
	}
	// Each receiver's message as the app's C2C.CallbackBeforeSendMsg leaves it.
	reqs, refused := s.beforeBatch(ctx, app, req, ok, msgSeq)
	for u, err := range refused {
		failed[u] = err
	}
	for i, u := range ok {
		if refused[u] != nil {
			continue
		}
		r := reqs[i]
		if req.OnlineOnly {
			online = append(online, u)
			continue
		}
		clientID := req.ClientID
		if clientID != "" {
			clientID += ":" + u
		}
		op := store.Op{
			Kind: store.OpSend, App: app.SDKAppID, From: req.From, To: u, MsgSeq: msgSeq, ClientID: clientID,
			MsgRandom: r.Random, MsgTime: s.msgTime(r), Body: r.Body, CloudCustomData: r.CloudCustomData,
			OnlyReceiver: req.NoSenderCopy, Unread: !req.NoUnread, At: now, ExpiresAt: expiresAt(req, now),
		}
		s.afterC2C(ctx, app.SDKAppID, req.Forbid.After, &op)
		ops = append(ops, op)
	}
	if req.OnlineOnly {
		if len(online) == 0 {
			return SendResult{}, failed, nil
		}
		var res SendResult
		for i, u := range ok { // a rewrite may differ per receiver
			if refused[u] == nil {
				res = s.sendOnline(ctx, app, reqs[i], msgSeq, u)
			}
		}
		return res, failed, nil
	}
	// One submission of all receivers: the writer commits them together.
	results, errsOf := s.writer.DoAll(ctx, ops)
	var first SendResult
	for i, res := range results {
		if errsOf[i] != nil {
			failed[ops[i].To] = errsOf[i]
			continue
		}
		if !res.Duplicate {
			s.usage.C2C(app.SDKAppID, req.From, now)
		}
		if first.MsgKey == "" && len(res.Entries) > 0 {
			e := res.Entries[0]
			first = SendResult{MsgKey: e.MsgKey, MsgSeq: e.MsgSeq, MsgTime: e.MsgTime, MsgRandom: e.MsgRandom}
		}
	}
	return first, failed, nil
}

// maxBeforeInFlight bounds the before-send callbacks a batch send has in flight.
const maxBeforeInFlight = 16

// beforeBatch asks the app's C2C.CallbackBeforeSendMsg about req sent to each
// of to (several at once, at most maxBeforeInFlight): reqs[i] is the message
// to[i] gets (rewritten or not); refused holds the receivers refused, with why.
func (s *Service) beforeBatch(ctx context.Context, app store.App, req SendRequest, to []string, msgSeq int64) (reqs []SendRequest, refused map[string]error) {
	if len(to) > 0 && !req.Forbid.Before && s.on(ctx, app.SDKAppID, callback.C2CBeforeSendMsg) {
		// One MsgRandom and one time for every copy, as without callbacks (one MsgKey).
		if req.Random == 0 {
			req.Random = randomUint32()
		}
		req.at = s.clock.Now().Unix()
	}
	reqs = make([]SendRequest, len(to))
	for i := range reqs {
		reqs[i] = req
	}
	if req.at == 0 {
		return reqs, nil
	}
	errsOf := make([]error, len(to))
	sem := make(chan struct{}, maxBeforeInFlight)
	var wg sync.WaitGroup
	for i, u := range to {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errsOf[i] = s.beforeC2C(ctx, app, &reqs[i], u, msgSeq)
		}()
	}
	wg.Wait()
	refused = map[string]error{}
	for i, err := range errsOf {
		if err != nil {
			refused[to[i]] = err
		}
	}
	return reqs, refused
}

// Recall withdraws a message of the conversation From→To. A user may recall only
// within UserRecallWindow; the admin (byAdmin) at any time.
func (s *Service) Recall(ctx context.Context, app store.App, from, to, msgKey string, byAdmin bool) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(from); err != nil {
		return err
	}
	if err := ValidUserID(to); err != nil {
		return err
	}
	if err := checkMsgKey("MsgKey", msgKey); err != nil {
		return err
	}
	msg, err := s.findMessage(ctx, app, from, to, msgKey)
	if err != nil {
		return err
	}
	if msg.From != from {
		return errs.New(errs.InvalidParameters, "message %s was not sent by %q", msgKey, from)
	}
	if !byAdmin && s.clock.Now().Sub(time.Unix(msg.MsgTime, 0)) > UserRecallWindow {
		return errs.New(errs.MsgRecallTooLate, "a message can be recalled for %s after it was sent", UserRecallWindow)
	}
	op := store.Op{Kind: store.OpRecall, App: app.SDKAppID, From: from, To: to, MsgKey: msgKey, At: s.clock.Now()}
	if s.on(ctx, app.SDKAppID, callback.C2CAfterMsgWithDraw) {
		// UnreadMsgNum is 0: the receiver's count is not known inside the write.
		op.Callback = func(store.Entry) (store.CallbackEvent, bool) {
			return s.event(ctx, app.SDKAppID, callback.C2CAfterMsgWithDraw, &callback.MsgWithDrawBody{From: from, To: to, MsgKey: msgKey}), true
		}
	}
	res, err := s.writer.Do(ctx, op)
	if err != nil {
		return err
	}
	if errors.Is(res.Err, errs.ErrNotFound) {
		return errs.New(errs.MsgNotFound, "no message %s between %q and %q", msgKey, from, to)
	}
	return storageErrOrNil(res.Err)
}

// findMessage looks the message up in the sender's log, then in the receiver's (the
// sender may have sent it without keeping a copy).
func (s *Service) findMessage(ctx context.Context, app store.App, from, to, msgKey string) (store.Entry, error) {
	for _, owner := range [2][2]string{{from, to}, {to, from}} {
		e, err := s.store.FindMessage(ctx, app.SDKAppID, owner[0], owner[1], msgKey)
		if err == nil {
			if e.CreatedAt.Before(s.gate.RetentionStart(app)) || expired(e, s.clock.Now()) {
				break
			}
			return e, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return store.Entry{}, storageErr(err)
		}
	}
	return store.Entry{}, errs.New(errs.MsgNotFound, "no message %s between %q and %q", msgKey, from, to)
}

// MarkRead records that reader has read the conversation with peer up to readTime
// (Unix seconds; 0 = now). The peer's devices get a read receipt.
func (s *Service) MarkRead(ctx context.Context, app store.App, reader, peer string, readTime int64) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(reader); err != nil {
		return err
	}
	if err := ValidUserID(peer); err != nil {
		return err
	}
	now := s.clock.Now().Unix()
	if readTime < 0 {
		return errs.New(errs.InvalidParameters, "MsgReadTime must be Unix seconds, not %d", readTime)
	}
	if readTime == 0 || readTime > now {
		readTime = now
	}
	users, err := s.imported(ctx, app.SDKAppID, reader, peer)
	if err != nil {
		return err
	}
	for _, u := range []string{reader, peer} {
		if !users[u] {
			return errs.New(errs.AccountNotFound, "account %q does not exist", u)
		}
	}
	op := store.Op{Kind: store.OpRead, App: app.SDKAppID, From: reader, To: peer, ReadTime: readTime, At: s.clock.Now()}
	if s.on(ctx, app.SDKAppID, callback.C2CAfterMsgReport) {
		// UnreadMsgNum is 0: the reader's remaining count is not known inside the write.
		op.Callback = func(store.Entry) (store.CallbackEvent, bool) {
			return s.event(ctx, app.SDKAppID, callback.C2CAfterMsgReport, &callback.MsgReportBody{Report: reader, Peer: peer, LastReadTime: readTime}), true
		}
	}
	res, err := s.writer.Do(ctx, op)
	if err != nil {
		return err
	}
	return storageErrOrNil(res.Err)
}

// HistoryPage is one page of a conversation's history, newest first.
type HistoryPage struct {
	Messages   []store.Entry
	Complete   bool
	LastMsgKey string // pass back to continue with older messages
	PeerRead   int64  // the peer has read the conversation up to this time
}

// History returns owner's history with peer within [minTime, maxTime], newest first,
// continuing after lastMsgKey when given.
func (s *Service) History(ctx context.Context, app store.App, owner, peer string, minTime, maxTime int64, maxCnt int, lastMsgKey string) (HistoryPage, error) {
	if err := s.gate.Active(app); err != nil {
		return HistoryPage{}, err
	}
	if err := ValidUserID(owner); err != nil {
		return HistoryPage{}, err
	}
	if err := ValidUserID(peer); err != nil {
		return HistoryPage{}, err
	}
	if maxTime == 0 {
		maxTime = s.clock.Now().Unix()
	}
	if minTime < 0 || maxTime < 0 || maxCnt < 0 {
		return HistoryPage{}, errs.New(errs.InvalidParameters, "MinTime, MaxTime and MaxCnt must not be negative")
	}
	if maxTime < minTime {
		return HistoryPage{}, errs.New(errs.InvalidParameters, "MinTime must not be after MaxTime")
	}
	if maxCnt == 0 || maxCnt > MaxHistoryPage {
		maxCnt = MaxHistoryPage
	}
	var before store.Cursor
	if lastMsgKey != "" {
		if err := checkMsgKey("LastMsgKey", lastMsgKey); err != nil {
			return HistoryPage{}, err
		}
		e, err := s.store.FindMessage(ctx, app.SDKAppID, owner, peer, lastMsgKey)
		if err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return HistoryPage{}, errs.New(errs.InvalidParameters, "LastMsgKey %q is not a message of this conversation", lastMsgKey)
			}
			return HistoryPage{}, storageErr(err)
		}
		before = store.Cursor{MsgTime: e.MsgTime, Seq: e.Seq}
	}
	msgs, err := s.store.History(ctx, app.SDKAppID, owner, peer, minTime, maxTime, before, maxCnt+1, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return HistoryPage{}, storageErr(err)
	}
	page := HistoryPage{Complete: len(msgs) <= maxCnt}
	if !page.Complete {
		msgs = msgs[:maxCnt]
	}
	page.Messages = msgs
	if len(msgs) > 0 {
		page.LastMsgKey = msgs[len(msgs)-1].MsgKey
	}
	page.PeerRead, err = s.store.PeerReadTime(ctx, app.SDKAppID, owner, peer)
	return page, storageErrOrNil(err)
}

// UnreadCounts is a user's unread one-to-one messages.
type UnreadCounts struct {
	Total  int              // over every conversation
	ByPeer map[string]int   // the asked peers, or every conversation with unread messages
	Failed map[string]error // asked peers that are malformed or not imported
}

// Unread returns owner's unread counts: for the given peers, or for every
// conversation with unread messages when peers is empty.
func (s *Service) Unread(ctx context.Context, app store.App, owner string, peers []string) (UnreadCounts, error) {
	if err := s.gate.Active(app); err != nil {
		return UnreadCounts{}, err
	}
	if len(peers) > MaxBatchAccounts {
		return UnreadCounts{}, errs.New(errs.InvalidParameters, "Peer_Account lists %d accounts; at most %d per call", len(peers), MaxBatchAccounts)
	}
	exists, err := s.existing(ctx, app, append([]string{owner}, peers...))
	if err != nil {
		return UnreadCounts{}, err
	}
	if err := exists[owner]; err != nil {
		return UnreadCounts{}, err
	}
	all, err := s.store.Unread(ctx, app.SDKAppID, owner, nil, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return UnreadCounts{}, storageErr(err)
	}
	res := UnreadCounts{ByPeer: all, Failed: map[string]error{}}
	for _, n := range all {
		res.Total += n
	}
	if len(peers) > 0 {
		res.ByPeer = make(map[string]int, len(peers))
		for _, p := range peers {
			if err := exists[p]; err != nil {
				res.Failed[p] = err
				continue
			}
			res.ByPeer[p] = all[p]
		}
	}
	return res, nil
}

// Sync returns owner's log entries after seq, oldest first, and whether that is all.
func (s *Service) Sync(ctx context.Context, app store.App, owner string, after int64, limit int) ([]store.Entry, bool, error) {
	if limit <= 0 || limit > MaxSyncPage {
		limit = MaxSyncPage
	}
	entries, err := s.store.Sync(ctx, app.SDKAppID, owner, after, limit+1, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return nil, false, storageErr(err)
	}
	complete := len(entries) <= limit
	if !complete {
		entries = entries[:limit]
	}
	return entries, complete, nil
}

// LastSeq returns the newest position of owner's log.
func (s *Service) LastSeq(ctx context.Context, app store.App, owner string) (int64, error) {
	seq, err := s.store.LastSeq(ctx, app.SDKAppID, owner)
	return seq, storageErrOrNil(err)
}

// RandomMsgSeq is a MsgSeq chosen by the server for a message whose MsgSeq is not
// a log position (REST sends, batch sends, online-only messages): 1 to 2^31.
func RandomMsgSeq() int64 { return int64(randomUint32()>>1) + 1 }

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	v := binary.BigEndian.Uint32(b[:])
	if v == 0 {
		v = 1
	}
	return v
}
