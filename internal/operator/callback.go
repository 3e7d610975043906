package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/views"
)

// CallbackConfigs validates and stores an app's callback settings
// (package callback/sender's Configs does).
type CallbackConfigs interface {
	// Set replaces the app's settings: url "" turns callbacks off; commands are
	// CallbackCommand names or "all" (every one). A bad URL, a host the server's policy refuses or an
	// unknown command is an error of kind errs.ErrInvalid (or an *errs.Error of
	// code errs.InvalidParameters) and changes nothing; a suspended app is refused.
	Set(ctx context.Context, app store.App, url, token string, commands []string) (store.CallbackConfig, error)
	// Update applies a partial change with Set: what it leaves nil is kept
	// (every command for an app never configured, when it names none).
	Update(ctx context.Context, app store.App, ch callback.ConfigChange) (store.CallbackConfig, error)
	// Get returns the app's settings; the zero value when none were set.
	Get(ctx context.Context, app store.App) (store.CallbackConfig, error)
}

// CallbackLog reads the log of an app's callback requests and the size of its
// outbox (store.Callbacks does).
type CallbackLog interface {
	CallbackLog(ctx context.Context, app int64, limit int) ([]store.CallbackLogEntry, error)
	CallbackBacklog(ctx context.Context, app int64) (int64, error)
}

// Callback is the JSON form of an app's callback settings. The token is never
// returned: TokenSet says whether one is set.
//
//	GET /operator/v1/apps/{sdkappid}/callback -> Callback
//	PUT /operator/v1/apps/{sdkappid}/callback {"url","token","commands"} -> Callback, after the change
//
// In a PUT, url "" turns callbacks off and a url left out keeps the current
// one; a token left out keeps the current one ("" removes it: requests are
// then unsigned); commands left out keep the current ones (every command, on
// an app never configured before), ["all"] means every command chatd sends
// (callback.Commands) and is stored as their list.
// A bad URL, a host the server refuses, or an unknown command: 400 and nothing
// changes. A suspended app: 409.
type Callback = views.Callback

// CallbackLogEntry is the JSON form of one logged callback request.
type CallbackLogEntry struct {
	Command string `json:"command"`
	At      string `json:"at"`     // RFC 3339 UTC, with milliseconds
	Millis  int64  `json:"millis"` // how long the request took
	Status  int    `json:"status"` // HTTP status, 0 when there was no answer
	Result  string `json:"result"` // ok, rejected, failed or timeout
	Error   string `json:"error"`
	Attempt int    `json:"attempt"`
}

// CallbackLogList is the answer of
//
//	GET /operator/v1/apps/{sdkappid}/callback/log?limit=N -> {"entries":[...],"backlog":N}
//
// entries newest first, at most limit (default DefaultCallbackLogLimit, at most
// store.MaxCallbackLog); backlog counts the app's after-events not yet delivered.
type CallbackLogList struct {
	Entries []CallbackLogEntry `json:"entries"`
	Backlog int64              `json:"backlog"`
}

// DefaultCallbackLogLimit is the number of log entries returned without ?limit.
const DefaultCallbackLogLimit = 50

type putCallbackRequest struct {
	URL      *string   `json:"url"`
	Token    *string   `json:"token"`
	Commands *[]string `json:"commands"`
}

func (h *handler) registerCallbacks() {
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/callback", h.getCallback)
	h.mux.HandleFunc("PUT "+Prefix+"/apps/{sdkappid}/callback", h.putCallback)
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/callback/log", h.callbackLog)
}

// callbackApp resolves the app of a callback route; on failure it has answered.
func (h *handler) callbackApp(w http.ResponseWriter, r *http.Request) (store.App, bool) {
	if h.cfg.Callbacks == nil || h.cfg.CallbackLog == nil {
		writeError(w, http.StatusServiceUnavailable, "app callbacks are not served by this server")
		return store.App{}, false
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return store.App{}, false
	}
	app, err := h.cfg.Tenants.GetApp(r.Context(), id) // a deleted app is not found
	if err != nil {
		h.fail(w, r, err)
		return store.App{}, false
	}
	return app, true
}

func (h *handler) getCallback(w http.ResponseWriter, r *http.Request) {
	app, ok := h.callbackApp(w, r)
	if !ok {
		return
	}
	c, err := h.cfg.Callbacks.Get(r.Context(), app)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, views.CallbackOf(app.SDKAppID, c))
}

func (h *handler) putCallback(w http.ResponseWriter, r *http.Request) {
	app, ok := h.callbackApp(w, r)
	if !ok {
		return
	}
	var req putCallbackRequest
	if !decode(w, r, &req) {
		return
	}
	if app.Status == store.StatusSuspended {
		writeError(w, http.StatusConflict, commerce.SuspendedMessage(app, "its callbacks cannot be configured"))
		return
	}
	c, err := h.cfg.Callbacks.Update(r.Context(), app, callback.ConfigChange{URL: req.URL, Token: req.Token, Commands: req.Commands})
	if err != nil {
		var e *errs.Error
		switch {
		case errors.As(err, &e) && e.Code == errs.InvalidParameters:
			writeError(w, http.StatusBadRequest, e.Msg)
		case errors.Is(err, errs.ErrConflict) && app.Status == store.StatusSuspended:
			writeError(w, http.StatusConflict, commerce.SuspendedMessage(app, "its callbacks cannot be configured"))
		default:
			h.fail(w, r, err)
		}
		return
	}
	// The URL may carry credentials in its query: logged without it.
	h.log.Info("operator: app callback changed", "sdkappid", app.SDKAppID, "on", c.URL != "", "commands", len(c.Commands), "token_set", c.Token != "")
	writeJSON(w, http.StatusOK, views.CallbackOf(app.SDKAppID, c))
}

func (h *handler) callbackLog(w http.ResponseWriter, r *http.Request) {
	app, ok := h.callbackApp(w, r)
	if !ok {
		return
	}
	limit := DefaultCallbackLogLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxCallbackLog {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be 1 to %d, not %.40q", store.MaxCallbackLog, s))
			return
		}
		limit = n
	}
	entries, err := h.cfg.CallbackLog.CallbackLog(r.Context(), app.SDKAppID, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	backlog, err := h.cfg.CallbackLog.CallbackBacklog(r.Context(), app.SDKAppID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := CallbackLogList{Entries: make([]CallbackLogEntry, 0, len(entries)), Backlog: backlog}
	for _, e := range entries {
		out.Entries = append(out.Entries, CallbackLogEntry{Command: e.Command, At: e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			Millis: e.Millis, Status: e.Status, Result: e.Result, Error: e.Error, Attempt: e.Attempt})
	}
	writeJSON(w, http.StatusOK, out)
}
