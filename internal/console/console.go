// Package console serves the console JSON API under /console/v1: customers
// sign up and sign in with an email and password (the operator with the
// operator token), then see and manage their own account and apps. It
// translates HTTP to the domain calls of packages auth (sign-in, sessions),
// tenant (accounts and apps, with the acting account: tenant.Actor) and gate
// (MAU against the edition's quota), the same code the CLI and the operator
// API use. docs/console.md describes the routes.
//
// Security: the session id travels only in the cookie CookieName (HttpOnly,
// SameSite=Lax, Secure when the request came over TLS, Path /console/); the
// store keeps its hash. Every request with a method other than GET and HEAD
// made in a session must carry the session's CSRF token (from sign-in or GET
// /me) in the header CSRFHeader, or it is refused with 403 and changes
// nothing. The requests that open a session (sign-up, sign-in) must be
// application/json, which a cross-site form cannot send.
//
// Errors are JSON {"error":"message"}: 400 bad input, 401 not signed in or
// wrong credentials, 403 missing or wrong CSRF token, 404 unknown or another
// account's app or account, 405 wrong method, 409 a taken email, a limit or a
// suspended account, 413 a body over MaxBodyBytes, 415 a sign-in that is not
// JSON, 429 too many failed sign-ins (with Retry-After), 500 anything else
// (details logged, never returned).
package console

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/forwarded"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/jsonapi"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// Prefix is the path prefix of every console API route.
const Prefix = "/console/v1"

// CookieName is the session cookie.
const CookieName = "chatd_console"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// MaxBodyBytes bounds request bodies; larger ones get 413.
const MaxBodyBytes = 16 << 10

// Config is what the console API needs.
type Config struct {
	Auth    *auth.Service   // required
	Tenants *tenant.Service // required
	Gate    *gate.Gate      // required
	// Accounts lists every account for the operator (the store); required.
	Accounts tenant.AccountLister
	// Commerce serves orders, refunds and the billing center; nil: those
	// routes answer 503.
	Commerce *commerce.Service
	// Callbacks keeps apps' callback settings; nil: those routes answer 503.
	Callbacks CallbackConfigs
	Clock     clock.Clock  // nil: the real clock
	Logger    *slog.Logger // nil: no logs
	// Daily gives apps' daily figures (a *usage.Recorder); nil: the usage
	// route has no "daily".
	Daily DailyUsage
}

// DailyUsage reads an app's figures of the last n UTC days, oldest first, one
// item per day (usage.Recorder.LastDays).
type DailyUsage interface {
	LastDays(ctx context.Context, app int64, n int) ([]store.DailyUsage, error)
}

type handler struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the console API handler; mount it at Prefix+"/". It panics when
// a required dependency is missing (a wiring error).
func New(cfg Config) http.Handler {
	if cfg.Auth == nil || cfg.Tenants == nil || cfg.Gate == nil || cfg.Accounts == nil {
		panic("console.New: auth, tenants, gate and accounts are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	h := &handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("POST "+Prefix+"/signup", h.signUp)
	h.mux.HandleFunc("POST "+Prefix+"/signin", h.signIn)
	h.mux.HandleFunc("POST "+Prefix+"/signin/operator", h.signInOperator)
	h.mux.HandleFunc("POST "+Prefix+"/signout", h.session(h.signOut))
	h.mux.HandleFunc("GET "+Prefix+"/me", h.session(h.me))
	h.mux.HandleFunc("GET "+Prefix+"/accounts", h.session(h.listAccounts))
	h.mux.HandleFunc("GET "+Prefix+"/accounts/{id}", h.session(h.getAccount))
	h.mux.HandleFunc("GET "+Prefix+"/apps", h.session(h.listApps))
	h.mux.HandleFunc("POST "+Prefix+"/apps", h.session(h.createApp))
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}", h.session(h.getApp))
	h.mux.HandleFunc("DELETE "+Prefix+"/apps/{sdkappid}", h.session(h.deleteApp))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/secret", h.session(h.secret))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/usersig", h.session(h.userSig))
	h.registerCommerce()
	return h
}

// ServeHTTP checks the URL, then routes; unknown routes and wrong methods
// answer in JSON like every other error.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if jsonapi.Unrouted(w, r, h.mux, "console") {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// session wraps a handler that needs a signed-in session: 401 without one,
// and 403 for a state-changing request without the session's CSRF token.
func (h *handler) session(fn func(http.ResponseWriter, *http.Request, auth.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "not signed in: sign in with POST "+Prefix+"/signin")
			return
		}
		sess, err := h.cfg.Auth.Session(r.Context(), c.Value)
		if err != nil {
			if errors.Is(err, auth.ErrNoSession) {
				writeError(w, http.StatusUnauthorized, "not signed in (the session ended or expired): sign in with POST "+Prefix+"/signin")
				return
			}
			h.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !auth.CheckCSRF(sess, r.Header.Get(CSRFHeader)) {
			writeError(w, http.StatusForbidden, "missing or wrong CSRF token: send the csrf_token of GET "+Prefix+"/me in the "+CSRFHeader+" header")
			return
		}
		fn(w, r, sess)
	}
}

// setCookie hands the session's id to the browser.
func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.ID, Path: "/console/", MaxAge: auth.CookieMaxAge(sess),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: forwarded.HTTPS(r)})
}

// clearCookie tells the browser to drop the session cookie.
func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: forwarded.HTTPS(r)})
}

// clientIP is the address the request came from (the connection's; headers
// such as X-Forwarded-For are not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// isJSON reports whether the request says its body is JSON.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// fail maps domain errors to HTTP statuses; see the package comment.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var tm *auth.TooManyAttempts
	switch {
	case errors.As(err, &tm):
		w.Header().Set("Retry-After", strconv.FormatInt(int64((tm.RetryAfter+time.Second-1)/time.Second), 10))
		writeError(w, http.StatusTooManyRequests, tm.Error())
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrNoSession):
		writeError(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, commerce.ErrOperatorOnly):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, commerce.ErrInsufficientBalance):
		writeError(w, http.StatusPaymentRequired, err.Error())
	case errors.Is(err, errs.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, errs.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errs.ErrExists), errors.Is(err, errs.ErrLimit), errors.Is(err, errs.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	case errs.CodeOf(err) != errs.Internal:
		// A coded refusal of the chat domain (a suspended app's 60020, ...):
		// its message is for the client.
		writeError(w, http.StatusConflict, errs.Message(err))
	default:
		h.log.Error("console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the server log)")
	}
}

// Error is the JSON form of every error answer.
type Error = jsonapi.Error

// decode reads a request body (jsonapi.Decode, at most MaxBodyBytes); an
// empty one is allowed when emptyOK.
func decode(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	return jsonapi.Decode(w, r, v, MaxBodyBytes, emptyOK)
}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonapi.Write(w, status, v) }

func writeError(w http.ResponseWriter, status int, msg string) { jsonapi.WriteError(w, status, msg) }
