package im

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// MuteForeverSeconds is the mute time that never ends (reference §3.8:
// 4294967295, 0xFFFFFFFF); 0 unmutes.
const MuteForeverSeconds = 4294967295

// muteCacheTTL bounds how long a node trusts what it read of a user's mute: a
// mute set through this node applies at once; one set through another node
// at once by its invalidation (bus.InvMute), within this time if that is lost.
const muteCacheTTL = 5 * time.Second

// SetNoSpeaking sets the user's global mute (openconfigsvr/setnospeaking): c2c
// and group are seconds from now (0 unmutes, MuteForeverSeconds never ends);
// nil keeps that part as it is. Refusals: 70402 a malformed user, neither part
// given, a time over MuteForeverSeconds; 70107 a user that is not imported.
func (s *Service) SetNoSpeaking(ctx context.Context, app store.App, user string, c2c, group *uint64) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := s.checkMuteUser(ctx, app, user); err != nil {
		return err
	}
	if c2c == nil && group == nil {
		return errs.New(errs.InvalidParameters, "give C2CmsgNospeakingTime or GroupmsgNospeakingTime")
	}
	for _, v := range []*uint64{c2c, group} {
		if v != nil && *v > MuteForeverSeconds {
			return errs.New(errs.InvalidParameters, "a mute time is 0 to %d seconds, not %d", uint64(MuteForeverSeconds), *v)
		}
	}
	m, err := s.store.GetMute(ctx, app.SDKAppID, user)
	if err != nil {
		return storageErr(err)
	}
	now := s.clock.Now()
	until := func(secs uint64) int64 {
		switch secs {
		case 0:
			return 0
		case MuteForeverSeconds:
			return store.MuteForever
		}
		return now.Add(time.Duration(secs) * time.Second).UnixMilli()
	}
	if c2c != nil {
		m.C2CUntil = until(*c2c)
	}
	if group != nil {
		m.GroupUntil = until(*group)
	}
	if err := s.store.SetMute(ctx, app.SDKAppID, user, m); err != nil {
		return accountGone(err, errs.AccountNotFound, user)
	}
	s.mutes.changed(cacheKey{app.SDKAppID, user}, &m.C2CUntil, now)
	s.invalidate(userInvalidation(bus.InvMute, app.SDKAppID, user))
	return nil
}

// GetNoSpeaking returns the seconds left of the user's one-to-one and group
// mutes (openconfigsvr/getnospeaking): 0 when not muted or expired,
// MuteForeverSeconds when it never ends, else the seconds left rounded up.
// Refusals as SetNoSpeaking's.
func (s *Service) GetNoSpeaking(ctx context.Context, app store.App, user string) (c2c, group uint64, err error) {
	if err := s.gate.Active(app); err != nil {
		return 0, 0, err
	}
	if err := s.checkMuteUser(ctx, app, user); err != nil {
		return 0, 0, err
	}
	m, err := s.store.GetMute(ctx, app.SDKAppID, user)
	if err != nil {
		return 0, 0, storageErr(err)
	}
	now := s.clock.Now().UnixMilli()
	left := func(until int64) uint64 {
		switch {
		case until == store.MuteForever:
			return MuteForeverSeconds
		case until <= now:
			return 0
		}
		return uint64((until - now + 999) / 1000)
	}
	return left(m.C2CUntil), left(m.GroupUntil), nil
}

func (s *Service) checkMuteUser(ctx context.Context, app store.App, user string) error {
	if err := ValidUserID(user); err != nil {
		return err
	}
	found, err := s.imported(ctx, app.SDKAppID, user)
	if err != nil {
		return err
	}
	if !found[user] {
		return errs.New(errs.AccountNotFound, "account %q does not exist", user)
	}
	return nil
}

// checkMuted refuses a one-to-one message of a sender whose global mute has
// not ended by the service's clock (20012).
func (s *Service) checkMuted(ctx context.Context, app store.App, from string) error {
	now := s.clock.Now()
	k := cacheKey{app.SDKAppID, from}
	until, ok, gen := s.mutes.get(k, now)
	if !ok {
		m, err := s.store.GetMute(ctx, app.SDKAppID, from)
		if err != nil {
			return storageErr(err)
		}
		until = m.C2CUntil
		s.mutes.store(k, until, now, gen)
	}
	if until == 0 || until <= now.UnixMilli() {
		return nil
	}
	if until == store.MuteForever {
		return errs.New(errs.SenderMuted, "%s is muted for one-to-one messages until unmuted", from)
	}
	return errs.New(errs.SenderMuted, "%s is muted for one-to-one messages until %s", from, time.UnixMilli(until).UTC().Format(time.RFC3339))
}

// maxMuteCache bounds the mute cache; a full cache starts over.
const maxMuteCache = 1 << 16
