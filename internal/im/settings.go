package im

import (
	"context"
	"slices"
	"strings"

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
	return storageErrOrNil(s.store.SetAppSettings(ctx, app.SDKAppID, kv))
}

// AppSettings returns every known setting of app, defaults included.
func (s *Service) AppSettings(ctx context.Context, app store.App) (map[string]string, error) {
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
