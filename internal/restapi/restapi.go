// Package restapi is chatd's REST edge: POST /v4/<service>/<command>, wire-compatible
// with the reference service's server REST API (docs/rest-api.md), so that app
// backends and their existing server SDKs work unchanged.
//
// The package is transport only: it authenticates the admin (UserSig), translates
// JSON to calls of the domain services (internal/im, internal/gate) and their results
// and *errs.Error failures back to the reference envelope. Business rules live in the
// domain.
package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usersig"
)

// DefaultMaxBodyBytes bounds a request body when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Config is what the REST edge needs.
type Config struct {
	Tenants    *tenant.Service       // required
	IM         *im.Service           // required
	Clock      clock.Clock           // may be nil: the real clock
	Registerer prometheus.Registerer // may be nil: no metrics
	Logger     *slog.Logger          // may be nil: no logs
	// MaxBodyBytes bounds a request body (default 1 MiB); a larger body is refused
	// with 93000 ("JSON packet too long") and nothing is read further.
	MaxBodyBytes int64
	// Daily gives apps' daily figures for openconfigsvr/getappinfo (a
	// *usage.Recorder); nil: that command answers 60009 (not supported).
	Daily DailyUsage
}

// Handler serves the REST API.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	commands map[string]*command // "service/command" -> handler
	requests *prometheus.CounterVec
}

// New returns the REST API handler; mount it at "/v4/". It panics when a
// required dependency is missing (a wiring error).
func New(cfg Config) http.Handler {
	if cfg.Tenants == nil || cfg.IM == nil {
		panic("restapi.New: tenants and im are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, commands: registry()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chatd_rest_requests_total",
		Help: "REST API requests by command (service/command, or \"unknown\") and reference error code (0 = success).",
	}, []string{"command", "code"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(h.requests); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					h.requests = existing
				}
			} else {
				h.log.Error("restapi: registering metrics failed", "err", err)
			}
		}
	}
	return h
}

// family groups commands that share the reference's error codes for bad input.
type family struct {
	name     string
	jsonCode int                    // body is not a JSON object
	typeCode func(field string) int // a field has the wrong JSON type
	badCode  int                    // a required field is missing or invalid
}

// The families of the reference. The openim message commands answer malformed JSON
// with 90001 and name the field-specific codes of the 90xxx range; the other
// services answer 60003 (the REST-wide "request JSON parse error").
var (
	accountFamily = &family{name: "account", jsonCode: errs.JSONParse, badCode: errs.InvalidParameters,
		typeCode: func(field string) int {
			switch lastSegment(field) {
			case "UserID", "Identifier", "Accounts", "To_Account":
				return errs.AccountFieldType // 60015: account fields must be strings
			}
			return errs.InvalidParameters
		}}
	messageFamily = &family{name: "message", jsonCode: errs.MsgJSON, badCode: errs.InvalidParameters,
		typeCode: func(field string) int {
			switch firstSegment(field) {
			case "To_Account":
				return errs.MsgToAccount // 90003
			case "MsgRandom":
				return codeMsgRandom
			case "MsgTimeStamp":
				return errs.MsgTimeStamp
			case "MsgBody":
				return errs.MsgBodyNotArray // 90007
			case "SyncOtherMachine":
				return codeSyncOtherMachine
			case "MsgLifeTime":
				return codeMsgLifeTime
			}
			return errs.MsgJSON
		}}
	profileFamily = &family{name: "profile", jsonCode: errs.JSONParse, badCode: errs.ProfileBadParams,
		typeCode: func(string) int { return errs.ProfileBadParams }}
)

func firstSegment(field string) string {
	if i := strings.IndexByte(field, '.'); i >= 0 {
		return field[:i]
	}
	return field
}

func lastSegment(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

// command is one entry of the registry.
type command struct {
	path string // canonical "service/command" (legacy names point to the same entry)
	fam  *family
	run  func(c *call) (any, error)
}

// call is one authenticated request being served.
type call struct {
	ctx  context.Context
	h    *Handler
	app  store.App
	body []byte
	fam  *family
}

func (c *call) im() *im.Service { return c.h.cfg.IM }

// decode parses the body (empty means {}) into v, a pointer to a struct. Malformed
// JSON and fields of the wrong type become the family's reference errors, naming the
// field.
func (c *call) decode(v any) error {
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' && !bytes.Equal(body, []byte("null")) {
		if !json.Valid(body) {
			return errs.New(c.fam.jsonCode, "request body is not valid JSON")
		}
		return errs.New(c.fam.jsonCode, "request body must be a JSON object")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errs.New(c.fam.jsonCode, "request body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return errs.New(c.fam.typeCode(typ.Field), "field %s must be %s, not %s", typ.Field, input.JSONKind(typ.Type), typ.Value)
	default:
		return errs.New(c.fam.jsonCode, "request body cannot be read: %v", err)
	}
}

// errInfo is the text of an error for a per-item ResultInfo (never storage text).
func errInfo(err error) string { return errs.Message(err) }

// bad returns the family's parameter error.
func (c *call) bad(format string, args ...any) error {
	return errs.New(c.fam.badCode, format, args...)
}

// ServeHTTP authenticates the request, dispatches it and writes the envelope.
// Every answer is HTTP 200; the result is in the body, as in the reference.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	label := "unknown"
	payload, err := h.serve(r, &label)
	h.write(w, label, payload, err)
}

func (h *Handler) serve(r *http.Request, label *string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, errs.New(errs.HTTPParse, "HTTP method %s is not allowed; the REST API takes POST", r.Method)
	}
	path, ok := commandPath(r.URL.Path)
	if !ok {
		return nil, errs.New(errs.UnknownCommand, "unknown request path %q; the REST API serves /v4/<service>/<command>", r.URL.Path)
	}
	cmd := h.commands[path]
	switch {
	case cmd != nil:
		*label = cmd.path
	case referenceSet[path]:
		*label = path
	case isReferenceCommand(path): // a wildcard service: keep the label set bounded
		svc, _, _ := strings.Cut(path, "/")
		*label = svc + "/*"
	}

	// Every query value is a string from outside: valid UTF-8 without NUL.
	if err := input.Values(r.URL.Query()); err != nil {
		return nil, errs.New(errs.HTTPParse, "%v", err)
	}
	app, err := h.authenticate(r)
	if err != nil {
		return nil, err
	}
	if cmd == nil {
		if isReferenceCommand(path) {
			return nil, errs.New(errs.UnknownCommand, "command not supported by this server: v4/%s", path)
		}
		return nil, errs.New(errs.UnknownCommand, "unknown service or command: v4/%s", path)
	}

	body, err := h.readBody(r)
	if err != nil {
		return nil, err
	}
	// Before decoding: encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if err := input.JSON(body); err != nil {
		return nil, errs.New(cmd.fam.jsonCode, "request body: %v", err)
	}
	// The app's callbacks of this request name the REST API and the backend's address.
	ctx := callback.WithCaller(r.Context(), callback.Caller{IP: remoteIP(r.RemoteAddr), Platform: callback.PlatformREST})
	return cmd.run(&call{ctx: ctx, h: h, app: app, body: body, fam: cmd.fam})
}

// commandPath returns "service/command" of /v4/service/command.
func commandPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/v4/")
	if !ok {
		return "", false
	}
	svc, cmd, ok := strings.Cut(rest, "/")
	if !ok || svc == "" || cmd == "" || strings.Contains(cmd, "/") {
		return "", false
	}
	return rest, true
}

// authenticate checks the query's sdkappid, identifier and usersig: the app must
// exist, the sig must be valid for it and the identifier, the identifier must be the
// app's admin, and the app must be active. The sig is verified before the admin check
// and the status check, so a caller without a valid sig learns nothing more.
func (h *Handler) authenticate(r *http.Request) (store.App, error) {
	q := r.URL.Query() // decodes percent-encoded values (a '*' may arrive as %2A or raw)
	raw := q.Get("sdkappid")
	if raw == "" {
		return store.App{}, errs.New(errs.SDKAppIDMissing, "sdkappid is missing from the URL")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return store.App{}, errs.New(errs.SDKAppIDInvalid, "sdkappid %q is not a valid SDKAppID", raw)
	}
	app, err := h.cfg.Tenants.GetApp(r.Context(), id)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return store.App{}, errs.New(errs.AppNotFound, "SDKAppID %d does not exist", id)
		}
		return store.App{}, errs.Hidden(err)
	}
	identifier := q.Get("identifier")
	if err := usersig.Verify(app.SDKAppID, app.SecretKey, identifier, q.Get("usersig"), h.cfg.Clock.Now()); err != nil {
		return store.App{}, err
	}
	admin := app.AdminUser
	if admin == "" {
		admin = tenant.DefaultAdmin
	}
	if identifier != admin {
		return store.App{}, errs.New(errs.AdminRequired, "identifier %q is not an App admin; REST calls need the admin identity", identifier)
	}
	if err := h.cfg.IM.AppActive(app); err != nil {
		return store.App{}, err
	}
	return app, nil
}

// readBody reads at most MaxBodyBytes of the body.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	max := h.cfg.MaxBodyBytes
	tooLong := func() error {
		return errs.New(errs.MsgTooLong, "request body is larger than %d bytes", max)
	}
	if r.ContentLength > max {
		return nil, tooLong()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, errs.New(errs.HTTPParse, "reading the request body failed: %v", err)
	}
	if int64(len(body)) > max {
		return nil, tooLong()
	}
	return body, nil
}

// write sends the envelope followed by the command's fields.
func (h *Handler) write(w http.ResponseWriter, label string, payload any, err error) {
	code, info := 0, ""
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			code, info = e.Code, e.Msg
		} else {
			code, info = errs.Internal, "internal error"
		}
		if code == errs.Internal {
			h.log.Error("restapi: internal error", "command", label, "err", err)
		}
		payload = nil
	}
	status := "OK"
	if code != 0 {
		status = "FAIL"
	}
	env, _ := json.Marshal(struct {
		ActionStatus string
		ErrorCode    int
		ErrorInfo    string
		ErrorDisplay string
	}{status, code, info, ""})
	out := env
	if payload != nil {
		fields, merr := json.Marshal(payload)
		if merr != nil {
			h.log.Error("restapi: encoding the response failed", "command", label, "err", merr)
			h.write(w, label, nil, errs.New(errs.Internal, "encoding the response failed"))
			return
		}
		if len(fields) > 2 && fields[0] == '{' { // splice {"a":1} after the envelope's fields
			out = make([]byte, 0, len(env)+len(fields))
			out = append(out, env[:len(env)-1]...)
			out = append(out, ',')
			out = append(out, fields[1:]...)
		}
	}
	h.requests.WithLabelValues(label, strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// remoteIP is the address of a request's peer without its port.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
