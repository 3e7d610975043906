package operator

import (
	"context"
	"errors"
	"net/http"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// AppSettingsService validates and stores per-app settings (im.Service does).
type AppSettingsService interface {
	// SetAppSettings refuses an unknown key or value with an *errs.Error of code
	// errs.InvalidParameters and changes nothing.
	SetAppSettings(ctx context.Context, app store.App, kv map[string]string) error
	// AppSettings returns every known setting, defaults included.
	AppSettings(ctx context.Context, app store.App) (map[string]string, error)
}

// Settings is the JSON form of an app's settings.
//
//	GET /operator/v1/apps/{sdkappid}/settings             -> {"sdkappid":N,"settings":{key:value}}
//	PUT /operator/v1/apps/{sdkappid}/settings {"settings":{key:value}} -> the same, after the change
//
// Known keys (docs/operations in README): friend_only_c2c "off" (default) or "on".
// An unknown key or value: 400 and nothing changes.
type Settings struct {
	SDKAppID int64             `json:"sdkappid"`
	Settings map[string]string `json:"settings"`
}

func (h *handler) registerSettings() {
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/settings", h.getSettings)
	h.mux.HandleFunc("PUT "+Prefix+"/apps/{sdkappid}/settings", h.putSettings)
}

// settingsApp resolves the app of a settings route; on failure it has answered.
func (h *handler) settingsApp(w http.ResponseWriter, r *http.Request) (store.App, bool) {
	if h.cfg.Settings == nil {
		writeError(w, http.StatusServiceUnavailable, "app settings are not served by this server")
		return store.App{}, false
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return store.App{}, false
	}
	app, err := h.cfg.Tenants.GetApp(r.Context(), id)
	if err == nil && app.Status == store.StatusDeleted {
		err = errs.ErrNotFound
	}
	if err != nil {
		h.fail(w, r, err)
		return store.App{}, false
	}
	return app, true
}

func (h *handler) getSettings(w http.ResponseWriter, r *http.Request) {
	app, ok := h.settingsApp(w, r)
	if !ok {
		return
	}
	kv, err := h.cfg.Settings.AppSettings(r.Context(), app)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Settings{SDKAppID: app.SDKAppID, Settings: kv})
}

func (h *handler) putSettings(w http.ResponseWriter, r *http.Request) {
	app, ok := h.settingsApp(w, r)
	if !ok {
		return
	}
	var req struct {
		Settings map[string]string `json:"settings"`
	}
	if !decode(w, r, &req) {
		return
	}
	if err := h.cfg.Settings.SetAppSettings(r.Context(), app, req.Settings); err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Code == errs.InvalidParameters {
			writeError(w, http.StatusBadRequest, e.Msg)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: app settings changed", "sdkappid", app.SDKAppID, "settings", req.Settings)
	h.getSettings(w, r)
}
