package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/views"
)

// AppSummary is an app in a list.
type AppSummary struct {
	SDKAppID  int64  `json:"sdkappid"`
	Account   string `json:"account"`
	Name      string `json:"name"`
	Region    string `json:"region"`
	Edition   string `json:"edition"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
}

// AppOverview is an app's overview: its summary, why it is suspended, and
// this month's MAU against the edition's quota. The secret key is not in it
// (POST .../secret reveals it).
type AppOverview struct {
	AppSummary
	SuspendReason string `json:"suspend_reason"` // "" when active
	MAU           MAU    `json:"mau"`
}

// MAU is an app's monthly active users of the current month (UTC): Used
// against the edition's Free MAU; Cap is the hard cap (the Free Trial's), 0
// when extra users are billed instead.
type MAU struct {
	Month string `json:"month"`
	Used  int    `json:"used"`
	Free  int    `json:"free"`
	Cap   int    `json:"cap"`
}

type createAppRequest struct {
	Name    string `json:"name"`
	Region  string `json:"region"`
	Account string `json:"account"` // the operator names it; a customer may leave it out
}

type deleteAppRequest struct {
	Confirm json.RawMessage `json:"confirm"`
}

type userSigRequest struct {
	User   string `json:"user"`
	Expire int64  `json:"expire"`
}

// Secret is the answer of POST .../secret.
type Secret struct {
	SDKAppID  int64  `json:"sdkappid"`
	SecretKey string `json:"secret_key"`
}

// UserSig is the answer of POST .../usersig.
type UserSig struct {
	SDKAppID int64  `json:"sdkappid"`
	User     string `json:"user"`
	UserSig  string `json:"usersig"`
	Expire   int64  `json:"expire"` // seconds from IssuedAt
	IssuedAt string `json:"issued_at"`
}

func summary(a store.App) AppSummary {
	return AppSummary{SDKAppID: a.SDKAppID, Account: a.AccountID, Name: a.Name, Region: a.Region,
		Edition: a.Edition, Status: a.Status, CreatedAt: views.Time(a.CreatedAt), ExpiresAt: views.Time(a.ExpiresAt)}
}

func (h *handler) listApps(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	apps, err := h.cfg.Tenants.ListAppsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Apps []AppSummary `json:"apps"`
	}{Apps: make([]AppSummary, 0, len(apps))}
	for _, a := range apps {
		out.Apps = append(out.Apps, summary(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) createApp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req createAppRequest
	if !decode(w, r, &req, false) {
		return
	}
	app, err := h.cfg.Tenants.CreateAppAs(r.Context(), sess.Actor, req.Account, req.Name, req.Region)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: app created", "account", app.AccountID, "sdkappid", app.SDKAppID, "operator", sess.Actor.Operator)
	h.writeOverview(w, r, http.StatusCreated, app)
}

func (h *handler) getApp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeOverview(w, r, http.StatusOK, app)
}

func (h *handler) writeOverview(w http.ResponseWriter, r *http.Request, status int, app store.App) {
	u, err := h.cfg.Gate.MonthlyUsage(r.Context(), app)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, AppOverview{AppSummary: summary(app), SuspendReason: app.SuspendReason,
		MAU: MAU{Month: u.Month, Used: u.Used, Free: u.Free, Cap: u.Cap}})
}

func (h *handler) deleteApp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req deleteAppRequest
	if !decode(w, r, &req, true) {
		return
	}
	confirm, ok := confirmation(req.Confirm)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("deletion removes all data of app %d and cannot be undone: type the SDKAppID to confirm, {\"confirm\":\"%d\"}", id, id))
		return
	}
	if err := h.cfg.Tenants.DeleteAppAs(r.Context(), sess.Actor, id, confirm); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: app deleted", "sdkappid", id, "account", sess.Actor.Account, "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, struct {
		Deleted int64 `json:"deleted"`
	}{id})
}

// confirmation reads the typed SDKAppID of a deletion: a JSON number or a
// string of digits.
func confirmation(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
	} else {
		s = string(raw)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func (h *handler) secret(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req struct{}
	if !decode(w, r, &req, true) {
		return
	}
	key, err := h.cfg.Tenants.SecretKeyAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: secret key revealed", "sdkappid", id, "account", sess.Actor.Account, "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, Secret{SDKAppID: id, SecretKey: key})
}

func (h *handler) userSig(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req userSigRequest
	if !decode(w, r, &req, false) {
		return
	}
	sig, at, err := h.cfg.Tenants.UserSigAs(r.Context(), sess.Actor, id, req.User, req.Expire)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	exp := req.Expire
	if exp == 0 {
		exp = tenant.DefaultUserSigExpire
	}
	writeJSON(w, http.StatusOK, UserSig{SDKAppID: id, User: req.User, UserSig: sig, Expire: exp, IssuedAt: views.Time(at)})
}

func sdkappidParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	s := r.PathValue("sdkappid")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("SDKAppID must be a positive integer, not %q", s))
		return 0, false
	}
	return id, true
}
