package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Bounds of Hooks.
const (
	// MaxAnswerBytes bounds the answer read from a receiver; a longer one is unreadable.
	MaxAnswerBytes = 64 << 10
	// ConfigTTL is how long a cached app configuration is used before it is
	// read again (changes made on another node show within it).
	ConfigTTL = time.Second
	// DefaultCacheSize is the default bound of the configuration cache (apps).
	DefaultCacheSize = 10000
	// LogQueue bounds the before-event log entries waiting for the Dispatcher
	// to write them; entries past it are dropped and counted.
	LogQueue = 4096
)

// ErrTimeout is the Decision.Err (wrapped) and log cause of a request that
// got no answer within its timeout.
var ErrTimeout = errors.New("callback: no answer within the timeout")

// HooksOptions tune New; the zero value is the default.
type HooksOptions struct {
	// Registerer registers the callback metrics (nil: not registered). One
	// Hooks per Registerer: a second registration panics.
	Registerer prometheus.Registerer
	// CacheSize bounds the configuration cache (apps; 0: DefaultCacheSize).
	CacheSize int
	// Client posts the requests (nil: the Policy's Client).
	Client *http.Client
}

// Hooks implements callback.Hooks over a store: it caches apps' callback
// configurations, posts before-events and turns the answers into decisions,
// and appends after-events to the outbox (a Dispatcher delivers them).
type Hooks struct {
	st     store.Callbacks
	clk    clock.Clock
	client *http.Client
	m      *metrics
	max    int

	mu    sync.RWMutex
	cache map[int64]*entry

	logs chan store.CallbackLogEntry
	wake chan struct{} // Emit wakes the Dispatcher
}

var _ callback.Hooks = (*Hooks)(nil)

// entry is an app's cached configuration.
type entry struct {
	fetched    atomic.Int64 // clock nanoseconds of the read; 0: stale (Invalidate)
	refreshing atomic.Bool
	v          atomic.Pointer[conf]
}

// conf is an app's configuration, prepared for requests.
type conf struct {
	url  *url.URL // nil: off
	tok  string
	cmds uint64 // bit i: callback.Commands[i] is on
}

var commandIndex = func() map[string]int {
	m := make(map[string]int, len(callback.Commands))
	for i, c := range callback.Commands {
		m[c] = i
	}
	return m
}()

func (c *conf) on(command string) bool {
	if c == nil || c.url == nil {
		return false
	}
	i, ok := commandIndex[command]
	return ok && c.cmds&(1<<uint(i)) != 0
}

// New returns Hooks over st. p's Client posts the requests (unless
// o.Client); clk is real time (it signs requests: receivers refuse a
// RequestTime 60 s off, and it ages the cache).
func New(st store.Callbacks, p Policy, clk clock.Clock, o HooksOptions) *Hooks {
	h := &Hooks{
		st: st, clk: clk, client: o.Client, m: newMetrics(o.Registerer), max: o.CacheSize,
		cache: make(map[int64]*entry),
		logs:  make(chan store.CallbackLogEntry, LogQueue),
		wake:  make(chan struct{}, 1),
	}
	if h.client == nil {
		h.client = p.Client()
	}
	if h.max <= 0 {
		h.max = DefaultCacheSize
	}
	return h
}

// Invalidate makes the next use of app's configuration read it again (after
// a change made on this node; Configs.OnSet).
func (h *Hooks) Invalidate(app int64) {
	h.mu.RLock()
	e := h.cache[app]
	h.mu.RUnlock()
	if e != nil {
		e.fetched.Store(0)
	}
}

// config returns app's configuration: the cached one when younger than
// ConfigTTL (no I/O, no allocation), else read from the store. While one
// caller reads, others use the stale value; an entry never read yet is read
// by every caller. A failed read keeps the stale value (none: off) and
// returns the error.
func (h *Hooks) config(ctx context.Context, app int64) (*conf, error) {
	now := h.clk.Now().UnixNano()
	h.mu.RLock()
	e := h.cache[app]
	h.mu.RUnlock()
	if e != nil {
		f := e.fetched.Load()
		if f != 0 && now-f < int64(ConfigTTL) && now >= f {
			return e.v.Load(), nil
		}
		// Another caller refreshing: use the stale value, if there is one
		// (an entry not read yet has none, and "off" would lose events).
		if v := e.v.Load(); v != nil {
			if !e.refreshing.CompareAndSwap(false, true) {
				return v, nil
			}
			defer e.refreshing.Store(false)
		}
	}
	cfg, err := h.st.CallbackConfig(ctx, app)
	if err != nil {
		if e != nil {
			return e.v.Load(), err
		}
		return nil, err
	}
	c := prepare(cfg)
	if e == nil {
		h.mu.Lock()
		if e = h.cache[app]; e == nil {
			if len(h.cache) >= h.max {
				for k := range h.cache { // evict one at random
					delete(h.cache, k)
					break
				}
			}
			e = &entry{}
			h.cache[app] = e
		}
		h.mu.Unlock()
	}
	e.v.Store(c)
	e.fetched.Store(now)
	return c, nil
}

// prepare turns a stored configuration into a conf (url nil when off or
// unparseable).
func prepare(cfg store.CallbackConfig) *conf {
	c := &conf{tok: cfg.Token}
	if cfg.URL != "" {
		if u, err := url.Parse(cfg.URL); err == nil {
			c.url = u
		}
	}
	for _, cmd := range cfg.Commands {
		if i, ok := commandIndex[cmd]; ok {
			c.cmds |= 1 << uint(i)
		}
	}
	return c
}

// On reports whether app has command on (see callback.Hooks). A failed
// store read counts as off.
func (h *Hooks) On(ctx context.Context, app int64, command string) bool {
	c, _ := h.config(ctx, app)
	return c.on(command)
}

// requestURL is the configured URL with the reference's query string
// appended after any query it already has: SdkAppid, CallbackCommand,
// contenttype=json, ClientIP, OptPlatform, then Sign and RequestTime when a
// token is set (RequestTime in Unix seconds of now).
func (c *conf) requestURL(app int64, command, ip, platform string, now time.Time) string {
	var b strings.Builder
	u := *c.url
	q := u.RawQuery
	u.RawQuery = ""
	b.WriteString(u.String())
	b.WriteByte('?')
	if q != "" {
		b.WriteString(q)
		b.WriteByte('&')
	}
	if platform == "" {
		platform = callback.PlatformUnknown
	}
	b.WriteString("SdkAppid=" + strconv.FormatInt(app, 10))
	b.WriteString("&CallbackCommand=" + url.QueryEscape(command))
	b.WriteString("&contenttype=json")
	b.WriteString("&ClientIP=" + url.QueryEscape(ip))
	b.WriteString("&OptPlatform=" + url.QueryEscape(platform))
	if c.tok != "" {
		t := now.Unix()
		b.WriteString("&Sign=" + Sign(c.tok, t))
		b.WriteString("&RequestTime=" + strconv.FormatInt(t, 10))
	}
	return b.String()
}

// post sends body to target within timeout and returns the HTTP status
// (0 without an answer) and the answer (at most MaxAnswerBytes).
func (h *Hooks) post(ctx context.Context, target string, body []byte, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			return 0, nil, fmt.Errorf("%w (%s)", ErrTimeout, timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL: it holds the Sign and the URL's own query
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return resp.StatusCode, nil, fmt.Errorf("%w (%s) reading the answer", ErrTimeout, timeout)
		}
		return resp.StatusCode, nil, fmt.Errorf("reading the answer: %v", err)
	}
	if len(ans) > MaxAnswerBytes {
		return resp.StatusCode, nil, fmt.Errorf("answer longer than %d bytes", MaxAnswerBytes)
	}
	return resp.StatusCode, ans, nil
}

// answer is a receiver's reply to a before-event (reference §6 Response).
type answer struct {
	ActionStatus    string                `json:"ActionStatus"`
	ErrorCode       *int                  `json:"ErrorCode"`
	ErrorInfo       string                `json:"ErrorInfo"`
	MsgBody         json.RawMessage       `json:"MsgBody"`
	CloudCustomData *string               `json:"CloudCustomData"`
	Refused         []string              `json:"RefusedMembers_Account"`
	ResultItem      []callback.ItemResult `json:"ResultItem"`
}

// Before sends a before-event (see callback.Hooks): body is one of the
// callback body types (its Head is filled in here), posted within
// callback.Timeout of the call. The default (allow) applies with Err set on
// a timeout (Err wraps ErrTimeout), a transport error, a non-200 answer, or
// an answer that is not JSON with an ErrorCode. A MsgBody that is not a JSON
// array is ignored. Every request is counted and logged (the log is written
// by the Dispatcher).
func (h *Hooks) Before(ctx context.Context, app int64, command string, body any) callback.Decision {
	c, _ := h.config(ctx, app)
	if !c.on(command) {
		return callback.Decision{}
	}
	start := h.clk.Now()
	var raw []byte
	caller := callback.CallerOf(ctx)
	if b, ok := body.(callback.Body); ok {
		ev := callback.Event(ctx, app, command, b, start)
		raw = ev.Body
	} else {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return callback.Decision{Err: fmt.Errorf("callback: encoding %s: %v", command, err)}
		}
	}
	target := c.requestURL(app, command, caller.IP, caller.Platform, start)
	status, ans, err := h.post(ctx, target, raw, callback.Timeout)
	d := decide(status, ans, err)
	took := h.clk.Now().Sub(start)
	result := "ok"
	switch {
	case errors.Is(d.Err, ErrTimeout):
		result = "timeout"
	case d.Err != nil:
		result = "failed"
	case !d.Allowed():
		result = "rejected"
	}
	h.m.request(app, "before", result, took)
	le := store.CallbackLogEntry{App: app, Command: command, At: start, Millis: took.Milliseconds(), Status: status, Result: result, Attempt: 1}
	if d.Err != nil {
		le.Error = d.Err.Error()
	} else if !d.Allowed() {
		le.Error = fmt.Sprintf("ErrorCode %d: %s", d.Code, d.Info)
	}
	select {
	case h.logs <- le:
	default:
		h.m.dropped.WithLabelValues("log_full").Inc()
	}
	return d
}

// decide turns an answer into a decision.
func decide(status int, ans []byte, err error) callback.Decision {
	if err != nil {
		return callback.Decision{Err: err}
	}
	if status != http.StatusOK {
		return callback.Decision{Err: fmt.Errorf("callback: HTTP status %d", status)}
	}
	var a answer
	if err := json.Unmarshal(ans, &a); err != nil {
		return callback.Decision{Err: fmt.Errorf("callback: the answer is not JSON: %v", err)}
	}
	if a.ErrorCode == nil {
		return callback.Decision{Err: errors.New("callback: the answer has no ErrorCode")}
	}
	d := callback.Decision{Code: *a.ErrorCode, Info: a.ErrorInfo, CloudCustomData: a.CloudCustomData,
		RefusedMembers: a.Refused, Results: a.ResultItem}
	if m := bytes.TrimSpace(a.MsgBody); len(m) > 0 && m[0] == '[' {
		d.MsgBody = m
	}
	return d
}

// Emit appends after-events to the outbox in one transaction and wakes the
// Dispatcher. Errors are the store's.
func (h *Hooks) Emit(ctx context.Context, evs []store.CallbackEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if err := h.st.AppendCallbacks(ctx, evs); err != nil {
		return err
	}
	h.Notify()
	return nil
}

// Notify wakes the Dispatcher at once (after events were appended on this node).
func (h *Hooks) Notify() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}
