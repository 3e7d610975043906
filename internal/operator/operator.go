// Package operator serves the operator API under /operator/v1: customer accounts,
// apps and their monthly active users (product spec section 2), and the commercial
// layer around them: the catalog, balances, vouchers, orders, refunds, bills,
// notifications and the scheduler's clock (sections 3–5). Every request needs the
// operator token as a bearer token. The chatd binary is its CLI client.
//
// Routes (all paths include the /operator/v1 prefix; amounts are decimal strings
// of US dollars such as "399.00"; times are RFC 3339 UTC, "" when unset):
//
//	POST   /operator/v1/accounts                  {name,email,phone} -> 201 account
//	GET    /operator/v1/accounts/{id}             -> account (with its balance)
//	POST   /operator/v1/accounts/{id}/topup       {cash,credit} -> account
//	POST   /operator/v1/accounts/{id}/suspend     {reason} -> account (permanent: a violation)
//	POST   /operator/v1/apps                      {account,name,region} -> 201 app
//	GET    /operator/v1/apps?account=ID           -> {"apps":[app...]}
//	GET    /operator/v1/apps/{sdkappid}           -> app
//	DELETE /operator/v1/apps/{sdkappid}?confirm=N -> {"deleted":N}
//	GET    /operator/v1/apps/{sdkappid}/mau?month=YYYY-MM -> {"sdkappid":N,"month":"…","mau":N}
//	POST   /operator/v1/apps/{sdkappid}/profile-fields {name,type,max_bytes} -> 201 field
//	GET    /operator/v1/apps/{sdkappid}/profile-fields -> {"fields":[field...]}
//	POST   /operator/v1/apps/{sdkappid}/plan      {edition,months,auto_renew,voucher,accept_agreement,discount,non_refundable,request_id} -> 201 order
//	POST   /operator/v1/apps/{sdkappid}/upgrade   {edition,voucher,request_id} -> 201 order
//	PUT    /operator/v1/apps/{sdkappid}/auto-renew {on} -> app
//	POST   /operator/v1/apps/{sdkappid}/refund    {reason,request_id} -> refund
//	POST   /operator/v1/apps/{sdkappid}/addons    {addon,quantity,months,voucher,request_id} -> 201 order
//	POST   /operator/v1/apps/{sdkappid}/addons/{addon}/refund {reason,request_id} -> refund
//	POST   /operator/v1/apps/{sdkappid}/extend-trial (no body, or {}) -> app
//	POST   /operator/v1/renewals                  {sdkappids,months,voucher,request_id} -> 201 {"orders":[order...]}
//	GET    /operator/v1/apps/{sdkappid}/settings  -> {"sdkappid":N,"settings":{key:value}}
//	PUT    /operator/v1/apps/{sdkappid}/settings  {settings:{key:value}} -> the same (settings.go)
//	GET    /operator/v1/apps/{sdkappid}/callback  -> {"sdkappid","url","token_set","commands","updated_at"} (callback.go)
//	PUT    /operator/v1/apps/{sdkappid}/callback  {url,token,commands} (each left out: kept) -> the same (the token is never returned)
//	GET    /operator/v1/apps/{sdkappid}/callback/log?limit=N -> {"entries":[...],"backlog":N} (N <= 200)
//	GET    /operator/v1/catalog                   -> {"editions":[...],"addons":[...]}
//	PUT    /operator/v1/addons/{addon}/promotion  {free_until} -> catalog ("" ends the promotion)
//	POST   /operator/v1/vouchers                  {account,amount,expires,scope} -> 201 voucher
//	GET    /operator/v1/vouchers?account=ID       -> {"vouchers":[voucher...]}
//	GET    /operator/v1/orders?account=ID         -> {"orders":[order...]}
//	POST   /operator/v1/orders/{id}/non-refundable {reason} -> order ("" allows refunds again)
//	GET    /operator/v1/bills?account=ID          -> {"bills":[bill...]}
//	GET    /operator/v1/notifications?account=ID  -> {"notifications":[notification...]}
//	GET    /operator/v1/clock                     -> {"now","fake"}
//	POST   /operator/v1/clock                     {set} or {advance} -> {"now","fake","from","jobs"}
//
// A request_id is the client's idempotency key: repeating a request with the same
// key returns the first order instead of charging again.
//
// Errors are JSON {"error":"message"}:
//
//	400 invalid input, malformed JSON, unknown fields, wrong types, missing fields,
//	    a string (in the body, path or query) that is not valid UTF-8, holds a NUL or
//	    an unpaired surrogate escape (internal/input),
//	    and a missing or mismatched deletion confirmation (tenant.ErrConfirmation):
//	    the request itself is wrong and repeating it can never succeed, whatever
//	    the state of the app, so it is a client error rather than a conflict;
//	    also commerce's malformed requests and moving the clock back
//	    (lifecycle.ErrBackwards): every error of kind errs.ErrInvalid
//	401 missing or wrong operator token
//	402 the balance cannot pay the order (commerce.ErrInsufficientBalance)
//	404 unknown account, app, order, voucher, add-on or route (errs.ErrNotFound)
//	405 wrong method for a route (with an Allow header)
//	409 a limit is reached (errs.ErrLimit: tenant.MaxAppsPerAccount apps), the account is
//	    suspended (tenant.ErrSuspended: no new apps), the app is suspended (no
//	    callback changes: the message says what resumes it), a rule refuses
//	    the request (commerce.ErrRefused: a downgrade, a non-refundable order, a
//	    suspended account, a request id reused with other parameters, a balance
//	    cap, ...), or moving the real clock (lifecycle.ErrRealClock): errs.ErrLimit
//	    and errs.ErrConflict
//	413 request body over 64 KiB
//	503 the commercial routes on a server built without them
//	500 anything else (the details are logged, not returned)
package operator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/jsonapi"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/views"
)

// Prefix is the path prefix of every operator route.
const Prefix = "/operator/v1"

// MaxBodyBytes bounds request bodies; larger ones get 413.
const MaxBodyBytes = 64 << 10

// Config is what the operator API needs.
type Config struct {
	Tenants *tenant.Service // required
	Gate    *gate.Gate      // required
	Clock   clock.Clock     // may be nil: the real clock
	Token   string          // the operator token; when empty every request is refused
	Logger  *slog.Logger    // may be nil: no logs
	// Commerce serves balances, vouchers, orders, refunds and bills; Scheduler the
	// clock routes. Without them those routes answer 503.
	Commerce  *commerce.Service
	Scheduler *lifecycle.Scheduler
	// IM serves the apps' custom profile fields (profilefields.go); without it
	// those routes answer 503.
	IM *im.Service
	// Pushes serves the progress of im_push tasks (push.go); without it that route answers 503.
	Pushes PushTasks
	// Settings serves per-app settings (settings.go); without it those routes answer 503.
	Settings AppSettingsService
	// Callbacks and CallbackLog serve the apps' callback settings and request
	// log (callback.go); without both those routes answer 503.
	Callbacks   CallbackConfigs
	CallbackLog CallbackLog
}

// Account is the JSON form of a customer account.
type Account struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
	Phone     string  `json:"phone"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
	Balance   Balance `json:"balance"`
	// OverdueSince is when the account became overdue ("" when it is not).
	OverdueSince  string `json:"overdue_since"`
	SuspendReason string `json:"suspend_reason"` // "arrears" or "violation"; "" when active
	SuspendedAt   string `json:"suspended_at"`
}

// App is the JSON form of an app (its overview).
type App struct {
	SDKAppID  int64  `json:"sdkappid"`
	Account   string `json:"account"`
	SecretKey string `json:"secret_key"`
	Name      string `json:"name"`
	Region    string `json:"region"`
	Edition   string `json:"edition"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
	AdminUser string `json:"admin_user"`
	// PlanAnchor is the start of the paid plan's first period ("" on the Free Trial).
	PlanAnchor    string `json:"plan_anchor"`
	AutoRenew     bool   `json:"auto_renew"`
	TrialExtended bool   `json:"trial_extended"`
	SuspendReason string `json:"suspend_reason"` // "expired", "refund", "arrears" or "violation"; "" when active
	SuspendedAt   string `json:"suspended_at"`
}

// AppList is the JSON form of an account's apps.
type AppList struct {
	Apps []App `json:"apps"`
}

// Deleted is the answer to a deletion.
type Deleted struct {
	Deleted int64 `json:"deleted"`
}

// MAU is the number of monthly active users of an app in a month.
type MAU struct {
	SDKAppID int64  `json:"sdkappid"`
	Month    string `json:"month"`
	MAU      int    `json:"mau"`
}

// Error is the JSON form of every error answer.
type Error = jsonapi.Error

type createAccountRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type createAppRequest struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	Region  string `json:"region"`
}

type handler struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the operator API handler. Mount it at "/operator/v1/". It panics
// when a required dependency is missing (a wiring error).
func New(cfg Config) http.Handler {
	if cfg.Tenants == nil || cfg.Gate == nil {
		panic("operator.New: tenants and gate are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	h := &handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("POST "+Prefix+"/accounts", h.createAccount)
	h.mux.HandleFunc("GET "+Prefix+"/accounts/{id}", h.getAccount)
	h.mux.HandleFunc("POST "+Prefix+"/apps", h.createApp)
	h.mux.HandleFunc("GET "+Prefix+"/apps", h.listApps)
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}", h.getApp)
	h.mux.HandleFunc("DELETE "+Prefix+"/apps/{sdkappid}", h.deleteApp)
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/mau", h.mau)
	h.registerCommerce()
	h.registerProfileFields()
	h.registerPush()
	h.registerSettings()
	h.registerCallbacks()
	return h
}

// ServeHTTP authenticates, then routes. Unknown routes and wrong methods answer in
// JSON like every other error; authentication comes first so that an unauthenticated
// caller learns nothing about which routes exist.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !Authorized(r, h.cfg.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chatd operator"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong operator token: send Authorization: Bearer <token> (the token is in the server's DIR/operator.token)")
		return
	}
	if jsonapi.Unrouted(w, r, h.mux, "operator") {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Authorized reports whether r bears the operator token. The comparison is in
// constant time, and both sides are hashed first so that not even the token's length
// leaks through timing. An empty token authorizes nothing.
func Authorized(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	a := sha256.Sum256([]byte(strings.TrimSpace(got)))
	b := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (h *handler) createAccount(w http.ResponseWriter, r *http.Request) {
	var req createAccountRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Name == "" || req.Email == "" {
		writeError(w, http.StatusBadRequest, "name and email are required")
		return
	}
	a, err := h.cfg.Tenants.CreateAccount(r.Context(), req.Name, req.Email, req.Phone)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: account created", "account", a.ID)
	writeJSON(w, http.StatusCreated, accountJSON(a))
}

func (h *handler) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := h.cfg.Tenants.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, accountJSON(a))
}

func (h *handler) createApp(w http.ResponseWriter, r *http.Request) {
	var req createAppRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Account == "" || req.Name == "" {
		writeError(w, http.StatusBadRequest, "account and name are required")
		return
	}
	app, err := h.cfg.Tenants.CreateApp(r.Context(), req.Account, req.Name, req.Region)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: app created", "account", app.AccountID, "sdkappid", app.SDKAppID, "region", app.Region)
	writeJSON(w, http.StatusCreated, appJSON(app))
}

func (h *handler) listApps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account := q.Get("account")
	if account == "" {
		writeError(w, http.StatusBadRequest, "query parameter account is required: GET "+Prefix+"/apps?account=ID")
		return
	}
	apps, err := h.cfg.Tenants.ListApps(r.Context(), account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := AppList{Apps: make([]App, 0, len(apps))}
	for _, a := range apps {
		out.Apps = append(out.Apps, appJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getApp(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.GetApp(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appJSON(app))
}

func (h *handler) deleteApp(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	c := r.URL.Query().Get("confirm")
	if c == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("deletion removes all data of app %d and cannot be undone: repeat the SDKAppID as ?confirm=%d", id, id))
		return
	}
	confirm, err := strconv.ParseInt(c, 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("confirm must be the SDKAppID %d, not %q", id, c))
		return
	}
	if err := h.cfg.Tenants.DeleteApp(r.Context(), id, confirm); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: app deleted", "sdkappid", id)
	writeJSON(w, http.StatusOK, Deleted{Deleted: id})
}

func (h *handler) mau(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		month = period.Month(h.cfg.Clock.Now())
	} else if !validMonth(month) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("month must be YYYY-MM, not %q", month))
		return
	}
	if _, err := h.cfg.Tenants.GetApp(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	n, err := h.cfg.Gate.MonthlyActiveUsers(r.Context(), id, month)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MAU{SDKAppID: id, Month: month, MAU: n})
}

func validMonth(m string) bool {
	t, err := time.Parse("2006-01", m)
	return err == nil && t.Format("2006-01") == m
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

// fail maps domain errors to HTTP statuses; see the package comment.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errs.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, commerce.ErrInsufficientBalance):
		writeError(w, http.StatusPaymentRequired, err.Error())
	case errors.Is(err, errs.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errs.ErrLimit), errors.Is(err, errs.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	case errs.CodeOf(err) != errs.Internal:
		// A coded refusal of the chat domain: its message is for the client.
		writeError(w, http.StatusConflict, errs.Message(err))
	default:
		h.log.Error("operator: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the server log)")
	}
}

func accountJSON(a store.Account) Account {
	return Account{
		ID: a.ID, Name: a.Name, Email: a.Email, Phone: a.Phone, Status: a.Status, CreatedAt: views.Time(a.CreatedAt),
		Balance: balanceJSON(a), OverdueSince: views.Time(a.OverdueSince),
		SuspendReason: a.SuspendReason, SuspendedAt: views.Time(a.SuspendedAt),
	}
}

func appJSON(a store.App) App {
	return App{
		SDKAppID: a.SDKAppID, Account: a.AccountID, SecretKey: a.SecretKey, Name: a.Name,
		Region: a.Region, Edition: a.Edition, Status: a.Status,
		CreatedAt: views.Time(a.CreatedAt), ExpiresAt: views.Time(a.ExpiresAt), AdminUser: a.AdminUser,
		PlanAnchor: views.Time(a.PlanAnchor), AutoRenew: a.AutoRenew, TrialExtended: a.TrialExtended,
		SuspendReason: a.SuspendReason, SuspendedAt: views.Time(a.SuspendedAt),
	}
}

// decode reads a request body (jsonapi.Decode, at most MaxBodyBytes).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return jsonapi.Decode(w, r, v, MaxBodyBytes, false)
}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonapi.Write(w, status, v) }

func writeError(w http.ResponseWriter, status int, msg string) { jsonapi.WriteError(w, status, msg) }
