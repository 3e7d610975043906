// Package web serves the customers' console as server-rendered HTML pages:
// sign-in, sign-up and sign-out; the apps overview, creation and deletion;
// an app's detail (secret key on demand, UserSig, limits and features,
// callback settings); the plan purchase with its price preview; and the
// billing center with the notifications inbox.
//
// The pages call the same domain code as the console JSON API
// (tenant.Service's and commerce.Service's ...As calls, which take the
// signed-in actor and check ownership themselves): another account's app is
// the domain's ErrNotFound and the page answers 404. Pages work without
// JavaScript: every change is a plain form POST carrying the session's CSRF
// token as a hidden field (sign-in and sign-up forms carry a token bound to a
// cookie of their own). The vendored htmx (static/) only makes the price
// preview live.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/forwarded"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// Prefix is where the pages are served; "/" redirects to it.
const Prefix = "/console"

// CookieName is the session cookie, the same as the console API's
// (console.CookieName): a session opened on the pages works on the API.
const CookieName = "chatd_console"

// preCookie holds the token that the sign-in and sign-up forms repeat, so that
// no other site can sign a browser in to an account of its choosing.
const preCookie = "chatd_console_pre"

// MaxFormBytes bounds a form body.
const MaxFormBytes = 16 << 10

// HTMX is the vendored htmx file under static/ (version noted in docs/decisions.md).
const HTMX = "htmx-2.0.11.min.js"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CallbackConfigs validates and stores an app's callback settings (the same
// interface as the console API's).
type CallbackConfigs interface {
	Set(ctx context.Context, app store.App, url, token string, commands []string) (store.CallbackConfig, error)
	Get(ctx context.Context, app store.App) (store.CallbackConfig, error)
}

// Config is what the pages need.
type Config struct {
	Auth     *auth.Service     // required
	Tenants  *tenant.Service   // required
	Gate     *gate.Gate        // required
	Commerce *commerce.Service // required
	// Callbacks keeps apps' callback settings; nil: the form is not offered.
	Callbacks CallbackConfigs
	// Daily gives apps' daily figures (a *usage.Recorder); nil: the detail
	// page has no usage section.
	Daily DailyUsage
	// Accounts checks and imports the "try it" page's users (an *im.Service);
	// nil: the page is not offered.
	Accounts TestAccounts
	// OperatorTokenFile is where the operator token is; the sign-in page's
	// hint names only the file, not the server's directories.
	OperatorTokenFile string
	Clock             clock.Clock  // nil: the real clock
	Logger            *slog.Logger // nil: no logs

	// Scheduler is the lifecycle scheduler whose clock the operator's clock
	// page shows and, on a manual clock, moves; nil: the page shows Clock
	// and refuses moves.
	Scheduler *lifecycle.Scheduler
}

type handler struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New returns the pages' handler; mount it at "/" (it answers GET / and
// everything under Prefix+"/" except the API). It panics when a required
// dependency is missing (a wiring error).
func New(cfg Config) http.Handler {
	if cfg.Auth == nil || cfg.Tenants == nil || cfg.Gate == nil || cfg.Commerce == nil {
		panic("web.New: auth, tenants, gate and commerce are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	cfg.OperatorTokenFile = filepath.Base(cfg.OperatorTokenFile)
	if cfg.OperatorTokenFile == "." {
		cfg.OperatorTokenFile = "operator.token"
	}
	h := &handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), pages: parsePages()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", h.staticFiles(http.FileServerFS(static))))
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	h.mux.HandleFunc("GET "+Prefix+"/{$}", h.home)
	h.mux.HandleFunc("GET "+Prefix+"/signin", h.signInPage)
	h.mux.HandleFunc("POST "+Prefix+"/signin", h.signIn)
	h.mux.HandleFunc("POST "+Prefix+"/signin/operator", h.signInOperator)
	h.mux.HandleFunc("GET "+Prefix+"/signup", h.signUpPage)
	h.mux.HandleFunc("POST "+Prefix+"/signup", h.signUp)
	h.mux.HandleFunc("POST "+Prefix+"/signout", h.session(h.signOut))
	h.mux.HandleFunc("GET "+Prefix+"/apps", h.session(h.apps))
	h.mux.HandleFunc("POST "+Prefix+"/apps", h.session(h.createApp))
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}", h.session(h.app))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/delete", h.session(h.deleteApp))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/secret", h.session(h.secret))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/usersig", h.session(h.userSig))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/callback", h.session(h.setCallback))
	if cfg.Accounts != nil {
		h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/try", h.session(h.tryPage))
		h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/try/session", h.session(h.trySession))
	}
	for _, m := range []string{modeBuy, modeUpgrade, modeRenew} {
		h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/"+m, h.session(h.planPage(m)))
		h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/"+m+"/preview", h.session(h.planPreview(m)))
		h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/"+m, h.session(h.planOrder(m)))
	}
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/refund", h.session(h.refund))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/auto-renew", h.session(h.autoRenew))
	h.mux.HandleFunc("GET "+Prefix+"/billing", h.session(h.billing))
	h.renewalRoutes()
	h.operatorRoutes() // accounts, top-ups, vouchers, suspensions, catalog, clock (operator.go)
	return h
}

// ServeHTTP checks the URL's text, then routes; unknown pages answer a 404 page.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	if err := errors.Join(input.Text(r.URL.Path), input.Values(r.URL.Query())); err != nil {
		h.errorPage(w, r, nil, http.StatusBadRequest, "bad request URL: "+err.Error())
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.errorPage(w, r, nil, http.StatusNotFound, "no such page: "+r.URL.Path)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func setHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store") // pages carry secret keys and CSRF tokens
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
}

// staticFiles serves files only (a directory is a 404 page, not a listing)
// and lets them be cached: their names carry their version.
func (h *handler) staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || strings.HasSuffix(p, "/") {
			h.errorPage(w, r, nil, http.StatusNotFound, "no such page: "+Prefix+"/static/"+p)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// view is what every page's template gets.
type view struct {
	Title    string
	Signed   bool
	Operator bool
	Account  string // the account's name
	CSRF     string
	Error    string
	Notice   string
	HTMX     string
	Data     any
}

// render writes page name with status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, sess *auth.Session, status int, name, title string, data any, errMsg string) {
	v := view{Title: title, Error: errMsg, Data: data, HTMX: Prefix + "/static/" + HTMX}
	if sess != nil {
		v.Signed, v.Operator, v.CSRF = true, sess.Actor.Operator, sess.CSRF
		if !sess.Actor.Operator {
			if acc, err := h.cfg.Tenants.AccountAs(r.Context(), sess.Actor, sess.Actor.Account); err == nil {
				v.Account = acc.Name
			}
		} else {
			v.Account = "operator"
		}
	}
	t, ok := h.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		h.log.Error("web: rendering", "page", name, "err", err)
		http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// errorPage answers status with a page that says msg.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, sess *auth.Session, status int, msg string) {
	h.render(w, r, sess, status, "error", http.StatusText(status), nil, msg)
}

// fail answers a domain error with its status and words; an internal error's
// words stay in the log.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, sess *auth.Session, err error) {
	status, msg := h.status(r, err)
	h.errorPage(w, r, sess, status, msg)
}

// status maps a domain error as the console API does.
func (h *handler) status(r *http.Request, err error) (int, string) {
	var tm *auth.TooManyAttempts
	var e *errs.Error
	switch {
	case errors.As(err, &tm):
		return http.StatusTooManyRequests, tm.Error()
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrNoSession):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, commerce.ErrOperatorOnly):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, commerce.ErrInsufficientBalance):
		return http.StatusPaymentRequired, err.Error()
	case errors.Is(err, errs.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.As(err, &e) && e.Code == errs.InvalidParameters:
		return http.StatusBadRequest, e.Msg
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, errs.ErrExists), errors.Is(err, errs.ErrLimit), errors.Is(err, errs.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, context.Canceled):
		// The browser went away; nobody reads the answer.
		return http.StatusServiceUnavailable, "request cancelled"
	case errors.As(err, &e) && e.Code != errs.Internal:
		// A coded refusal of the chat domain (a suspended app's 60020, ...):
		// its message is for the client.
		return http.StatusConflict, e.Msg
	default:
		h.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, "internal error (see the server log)"
	}
}

// current returns the request's session, if any.
func (h *handler) current(r *http.Request) (auth.Session, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return auth.Session{}, false, nil
	}
	sess, err := h.cfg.Auth.Session(r.Context(), c.Value)
	if errors.Is(err, auth.ErrNoSession) {
		return auth.Session{}, false, nil
	}
	return sess, err == nil, err
}

// session wraps a page that needs a signed-in session: a GET without one goes
// to the sign-in page, a POST answers 401; a POST must carry the session's
// CSRF token in the form field csrf (403 and nothing changes otherwise).
func (h *handler) session(fn func(http.ResponseWriter, *http.Request, auth.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok, err := h.current(r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, nil, http.StatusUnauthorized, "not signed in (the session ended or expired): sign in again")
			return
		}
		if r.Method == http.MethodPost {
			if !h.parseForm(w, r, &sess) {
				return
			}
			if !auth.CheckCSRF(sess, r.PostForm.Get("csrf")) {
				h.errorPage(w, r, &sess, http.StatusForbidden, "missing or wrong CSRF token: reload the page and send the form again")
				return
			}
		}
		fn(w, r, sess)
	}
}

// parseForm reads a form body of at most MaxFormBytes of valid UTF-8.
func (h *handler) parseForm(w http.ResponseWriter, r *http.Request, sess *auth.Session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.errorPage(w, r, sess, http.StatusRequestEntityTooLarge, fmt.Sprintf("the form is larger than %d bytes", MaxFormBytes))
			return false
		}
		h.errorPage(w, r, sess, http.StatusBadRequest, "bad form: "+err.Error())
		return false
	}
	if err := input.Form(r.PostForm); err != nil {
		h.errorPage(w, r, sess, http.StatusBadRequest, "bad form: "+err.Error())
		return false
	}
	return true
}

func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	_, ok, err := h.current(r)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if ok {
		http.Redirect(w, r, Prefix+"/apps", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}

// preToken returns the sign-in forms' token, setting its cookie when missing.
func (h *handler) preToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == 32 {
		if _, err := hex.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: tok, Path: Prefix + "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: forwarded.HTTPS(r)})
	return tok
}

// checkPre reports whether a sign-in form repeats its cookie's token.
func checkPre(r *http.Request) bool {
	c, err := r.Cookie(preCookie)
	got := r.PostForm.Get("csrf")
	return err == nil && len(c.Value) == 32 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) == 1
}

type signInData struct {
	Pre       string
	Email     string
	Name      string
	TokenFile string
}

func (h *handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, nil, http.StatusOK, "signin", "Sign in", signInData{Pre: h.preToken(w, r), TokenFile: h.cfg.OperatorTokenFile}, "")
}

func (h *handler) signUpPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, nil, http.StatusOK, "signup", "Sign up", signInData{Pre: h.preToken(w, r)}, "")
}

// preForm reads a sign-in or sign-up form and checks its token; on failure
// it has answered with page again.
func (h *handler) preForm(w http.ResponseWriter, r *http.Request, page, title string) bool {
	if !h.parseForm(w, r, nil) {
		return false
	}
	if !checkPre(r) {
		h.render(w, r, nil, http.StatusForbidden, page, title, signInData{Pre: h.preToken(w, r), TokenFile: h.cfg.OperatorTokenFile},
			"the form expired or came from another site: send it again")
		return false
	}
	return true
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !h.preForm(w, r, "signin", "Sign in") {
		return
	}
	email := r.PostForm.Get("email")
	sess, err := h.cfg.Auth.SignIn(r.Context(), email, r.PostForm.Get("password"), clientIP(r))
	if err != nil {
		status, msg := h.status(r, err)
		h.render(w, r, nil, status, "signin", "Sign in", signInData{Pre: h.preToken(w, r), Email: email, TokenFile: h.cfg.OperatorTokenFile}, msg)
		return
	}
	h.signedIn(w, r, sess)
}

func (h *handler) signInOperator(w http.ResponseWriter, r *http.Request) {
	if !h.preForm(w, r, "signin", "Sign in") {
		return
	}
	sess, err := h.cfg.Auth.SignInOperator(r.Context(), strings.TrimSpace(r.PostForm.Get("token")), clientIP(r))
	if err != nil {
		status, msg := h.status(r, err)
		h.render(w, r, nil, status, "signin", "Sign in", signInData{Pre: h.preToken(w, r), TokenFile: h.cfg.OperatorTokenFile}, msg)
		return
	}
	h.log.Info("web: operator signed in", "client", clientIP(r))
	h.signedIn(w, r, sess)
}

func (h *handler) signUp(w http.ResponseWriter, r *http.Request) {
	if !h.preForm(w, r, "signup", "Sign up") {
		return
	}
	name, email := r.PostForm.Get("name"), r.PostForm.Get("email")
	acc, sess, err := h.cfg.Auth.SignUp(r.Context(), name, email, r.PostForm.Get("password"), clientIP(r))
	if err != nil {
		status, msg := h.status(r, err)
		h.render(w, r, nil, status, "signup", "Sign up", signInData{Pre: h.preToken(w, r), Email: email, Name: name}, msg)
		return
	}
	h.log.Info("web: account signed up", "account", acc.ID)
	h.signedIn(w, r, sess)
}

// signedIn ends the browser's previous session, sets the new one's cookie
// and goes to the apps.
func (h *handler) signedIn(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.cfg.Auth.SignOut(r.Context(), c.Value); err != nil {
			h.log.Error("web: ending the previous session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.ID, Path: Prefix + "/", MaxAge: auth.CookieMaxAge(sess),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: forwarded.HTTPS(r)})
	http.Redirect(w, r, Prefix+"/apps", http.StatusSeeOther)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if err := h.cfg.Auth.SignOut(r.Context(), sess.ID); err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix + "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: forwarded.HTTPS(r)})
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}

// clientIP is the connection's address (forwarding headers are not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sdkappid reads the path's SDKAppID; a malformed one is 404 like a missing app.
func (h *handler) sdkappid(w http.ResponseWriter, r *http.Request, sess *auth.Session) (int64, bool) {
	s := r.PathValue("sdkappid")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, sess, http.StatusNotFound, fmt.Sprintf("app %q does not exist", s))
		return 0, false
	}
	return id, true
}
