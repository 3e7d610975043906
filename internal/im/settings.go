package im

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// App settings: per-app switches an operator sets (chatd app settings set). Each
// known key has its allowed values and default; the store keeps strings.
const (
	// SettingFriendOnlyC2C: "on" lets users send one-to-one messages only to
	// friends (refusals 20009, 20010, 20011); "off" (default) lets anyone.
	SettingFriendOnlyC2C = "friend_only_c2c"
)

// settingDefs maps each known setting to its allowed values; the first is the default.
var settingDefs = map[string][]string{
	SettingFriendOnlyC2C: {"off", "on"},
}

// SettingKeys lists the known settings, sorted.
func SettingKeys() []string {
	ks := make([]string, 0, len(settingDefs))
	for k := range settingDefs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// SetAppSettings validates and stores settings of app; an unknown key or a value
// outside its set is refused (70402) and nothing changes.
func (s *Service) SetAppSettings(ctx context.Context, app store.App, kv map[string]string) error {
	if len(kv) == 0 {
		return errs.New(errs.InvalidParameters, "no setting given; known settings: %s", strings.Join(SettingKeys(), ", "))
	}
	for k, v := range kv {
		allowed, ok := settingDefs[k]
		if !ok {
			return errs.New(errs.InvalidParameters, "unknown setting %.64q; known settings: %s", k, strings.Join(SettingKeys(), ", "))
		}
		if !slices.Contains(allowed, v) {
			return errs.New(errs.InvalidParameters, "setting %s must be one of %s", k, strings.Join(allowed, ", "))
		}
	}
	err := s.store.SetAppSettings(ctx, app.SDKAppID, kv)
	s.settings.changed(app.SDKAppID, nil, time.Now())
	s.invalidate(bus.Invalidation{Kind: bus.InvApp, App: app.SDKAppID})
	if errors.Is(err, errs.ErrNotFound) { // deleted meanwhile
		return errs.Kind(errs.ErrNotFound, fmt.Sprintf("app %d does not exist", app.SDKAppID))
	}
	return storageErrOrNil(err)
}

// AppSettings returns every known setting of app, defaults included. The send
// path reads them through a cache of settingsTTL: a change made on this node
// applies at once, one made on another node at once by its invalidation
// (bus.InvApp), within settingsTTL if that is lost.
func (s *Service) AppSettings(ctx context.Context, app store.App) (map[string]string, error) {
	kv, ok, gen := s.settings.get(app.SDKAppID, time.Now())
	if ok {
		return kv, nil
	}
	kv, err := s.loadSettings(ctx, app)
	if err == nil {
		s.settings.store(app.SDKAppID, kv, time.Now(), gen)
	}
	return kv, err
}

func (s *Service) loadSettings(ctx context.Context, app store.App) (map[string]string, error) {
	stored, err := s.store.GetAppSettings(ctx, app.SDKAppID)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make(map[string]string, len(settingDefs))
	for k, allowed := range settingDefs {
		out[k] = allowed[0]
		if v, ok := stored[k]; ok && slices.Contains(allowed, v) {
			out[k] = v
		}
	}
	return out, nil
}

// settingsTTL is how long a node keeps an app's settings without reading them again.
const settingsTTL = time.Second

// maxCachedApps bounds the settings cache (apps); a full cache starts over.
const maxCachedApps = 100000
