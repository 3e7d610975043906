// Package im is the messaging domain: accounts (end users), profiles and one-to-one
// messages with per-user sync logs. Transports (REST, WebSocket) call it; it asks the
// gate for edition rules and writes through the single Writer.
package im

import (
	"context"
	"strings"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/usage"
	"github.com/chatd/chatd/internal/usersig"
)

// Service is the messaging domain service.
type Service struct {
	store  store.Store
	clock  clock.Clock
	gate   *gate.Gate
	writer *Writer
	bus    bus.Bus // deliveries and presence

	users     userCache
	live      liveRooms                            // live-room state of this process (liveroom.go)
	mutes     *ttlCache[cacheKey, int64]           // ends of one-to-one mutes (mute.go)
	pushes    pushRunner                           // im_push tasks of this process
	settings  *ttlCache[int64, map[string]string]  // per-app settings (settings.go)
	blockList *ttlCache[cacheKey, map[string]bool] // blocklists for the send path (sns_cache.go)

	groupMembers memberCache    // member lists of the group send path (group_membercache.go)
	liveSeqs     liveSeqs       // seqs of live-room messages (group_send.go)
	groupTypes   groupTypes     // group types of the conversation list (conversations_groups.go)
	receipts     rcptPusher     // read-receipt pushes (group_receipts_push.go)
	liveTipsMax  int            // LiveTipsMaxMembers when 0 (tests lower it)
	hooks        callback.Hooks // app callbacks (callbacks.go); callback.Off by default

	usage *usage.Recorder // daily usage (logins, sent messages); nil counts nothing
}

// New returns the messaging service over st. Writes of the message log go
// through w; deliveries are published to b, which also reports who is online
// and carries the invalidations of cached state between nodes.
// Every dependency is required: New panics on a nil one (a wiring error).
func New(st store.Store, clk clock.Clock, g *gate.Gate, w *Writer, b bus.Bus) *Service {
	if st == nil || clk == nil || g == nil || w == nil || b == nil {
		panic("im.New: store, clock, gate, writer and bus are required")
	}
	s := &Service{store: st, clock: clk, gate: g, writer: w, bus: b,
		mutes:     newTTLCache[cacheKey, int64](muteCacheTTL, maxMuteCache),
		settings:  newTTLCache[int64, map[string]string](settingsTTL, maxCachedApps),
		blockList: newTTLCache[cacheKey, map[string]bool](blockCacheTTL, maxCachedBlocklists),
		hooks:     callback.Off{},
	}
	b.OnInvalidate(s.onInvalidate) // other nodes' changes drop cached copies (invalidation.go)
	return s
}

// AppActive reports why the app refuses service now (the gate's 60020), or nil.
func (s *Service) AppActive(app store.App) error { return s.gate.Active(app) }

// AllowsSamePlatformDevices reports whether the app's edition lets a user stay
// logged in on several devices of one platform.
func (s *Service) AllowsSamePlatformDevices(app store.App) bool {
	return s.gate.AllowsSamePlatformDevices(app)
}

// MaxUserIDLen is the longest UserID accepted, in bytes.
const MaxUserIDLen = 32

// ValidUserID checks the UserID rule: 1..32 bytes of printable ASCII (the
// reference's rule, 0x20 to 0x7e), with no space at either end, so that a blank id
// or one that differs from another only by padding is refused (docs/decisions.md).
func ValidUserID(id string) error {
	if strings.TrimSpace(id) == "" {
		return errs.New(errs.InvalidParameters, "UserID is empty or blank")
	}
	if len(id) > MaxUserIDLen {
		return errs.New(errs.InvalidParameters, "UserID %.40q… is longer than %d bytes", id, MaxUserIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return errs.New(errs.InvalidParameters, "UserID %.40q has a character outside printable ASCII", id)
		}
	}
	if id[0] == ' ' || id[len(id)-1] == ' ' {
		return errs.New(errs.InvalidParameters, "UserID %q starts or ends with a space", id)
	}
	return nil
}

// loadUsers returns the users that exist, with their profiles.
func (s *Service) loadUsers(ctx context.Context, app int64, ids ...string) (map[string]store.User, error) {
	users, err := s.store.GetUsers(ctx, app, ids)
	if err != nil {
		return nil, storageErr(err)
	}
	return users, nil
}

// storageErr hides a store's failure text from clients; the edge logs the cause.
func storageErr(err error) error { return errs.Hidden(err) }

// Kick ends every session of the user on every node.
func (s *Service) Kick(ctx context.Context, app store.App, user string) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(user); err != nil {
		return err
	}
	users, err := s.imported(ctx, app.SDKAppID, user)
	if err != nil {
		return err
	}
	if !users[user] {
		return errs.New(errs.AccountNotFound, "account %q does not exist", user)
	}
	// Recorded before the sessions end, so that none of them can log in again
	// with a UserSig made before the kick, on any node.
	if err := s.store.SetKickTime(ctx, app.SDKAppID, user, s.clock.Now()); err != nil {
		return storageErr(err)
	}
	s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, User: user, Kind: bus.KindKick, Reason: KickedByBackend}})
	return nil
}

// Login admits a device of user with userSig. Refusals: the UserSig's (70001,
// 70002, 70003, 70009, 70013, 70014), 70052 when the sig was made (TLS.time)
// before the second of the user's last kick, 70107 when the user is not
// imported, and the gate's (60020, 70398). A successful login counts the user
// for the month's MAU.
func (s *Service) Login(ctx context.Context, app store.App, user, userSig string) error {
	_, err := s.LoginSig(ctx, app, user, userSig)
	return err
}

// LoginSig is Login that also returns when userSig was made (TLS.time, Unix
// seconds), which LoginCheck.Ends compares with later kicks.
func (s *Service) LoginSig(ctx context.Context, app store.App, user, userSig string) (int64, error) {
	if err := ValidUserID(user); err != nil {
		return 0, err
	}
	claims, err := usersig.VerifyClaims(app.SDKAppID, app.SecretKey, user, userSig, s.clock.Now())
	if err != nil {
		return 0, err
	}
	users, err := s.loadUsers(ctx, app.SDKAppID, user)
	if err != nil {
		return 0, err
	}
	if _, ok := users[user]; !ok {
		return 0, errs.New(errs.AccountNotFound, "account %q is not imported into app %d", user, app.SDKAppID)
	}
	kicked, err := s.store.KickTime(ctx, app.SDKAppID, user)
	if err != nil {
		return 0, storageErr(err)
	}
	if sigKicked(claims.Time, kicked) {
		return 0, errs.New(errs.SigKicked, "usersig: made before the account was kicked at %d; generate a new one", kicked.Unix())
	}
	if err := s.gate.AdmitLogin(ctx, app, user); err != nil {
		return 0, storageErr(err)
	}
	s.usage.Login(app.SDKAppID, user, s.clock.Now())
	return claims.Time, nil
}

// SetUsage makes the service count logins and sent messages in r (daily
// usage); before it, nothing is counted.
func (s *Service) SetUsage(r *usage.Recorder) { s.usage = r }

// MaxOnlineQuery bounds the users of one online-status query.
const MaxOnlineQuery = 500

// OnlineState is the online status of one user, or Err when the user cannot be
// queried (malformed id, not imported).
type OnlineState struct {
	User    string
	Status  string // "Online", "PushOnline" (only disconnected mobile devices) or "Offline"
	Devices []bus.Device
	Err     error
}

// OnlineStatus reports the online state of users, one result per user in order.
func (s *Service) OnlineStatus(ctx context.Context, app store.App, users []string) ([]OnlineState, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errs.New(errs.InvalidParameters, "To_Account must list at least one account")
	}
	if len(users) > MaxOnlineQuery {
		return nil, errs.New(errs.BatchCount, "To_Account lists %d accounts; at most %d per call", len(users), MaxOnlineQuery)
	}
	exists, err := s.existing(ctx, app, users)
	if err != nil {
		return nil, err
	}
	out := make([]OnlineState, 0, len(users))
	for _, u := range users {
		st := OnlineState{User: u, Status: "Offline", Err: exists[u]}
		if st.Err == nil {
			st.Devices = s.bus.Devices(app.SDKAppID, u)
		}
		for _, d := range st.Devices {
			if d.Status != bus.StatusPushOnline {
				st.Status = "Online"
				break
			}
			st.Status = bus.StatusPushOnline
		}
		out = append(out, st)
	}
	return out, nil
}

// existing checks ids and returns, per id, nil when it is an imported user of the
// app, or why not (malformed: 70402; not imported: 70107).
func (s *Service) existing(ctx context.Context, app store.App, ids []string) (map[string]error, error) {
	out := make(map[string]error, len(ids))
	var valid []string
	for _, id := range ids {
		if err := ValidUserID(id); err != nil {
			out[id] = err
			continue
		}
		valid = append(valid, id)
	}
	if len(valid) == 0 {
		return out, nil
	}
	users, err := s.imported(ctx, app.SDKAppID, valid...)
	if err != nil {
		return nil, err
	}
	for _, id := range valid {
		if users[id] {
			out[id] = nil
		} else {
			out[id] = errs.New(errs.AccountNotFound, "account %q does not exist", id)
		}
	}
	return out, nil
}

// Capabilities returns the app's edition and feature flags, as the gate reads
// them from the catalog, for the login reply.
func (s *Service) Capabilities(app store.App) gate.Capabilities { return s.gate.Capabilities(app) }
