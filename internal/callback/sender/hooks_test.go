package sender

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const testApp = 1400000001

// seen is what a test receiver got.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	raw  []string // raw query strings
	body [][]byte
}

func (s *seen) add(r *http.Request, b []byte) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.raw = append(s.raw, r.URL.RawQuery)
	s.body = append(s.body, b)
	s.mu.Unlock()
}

func (s *seen) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// receiver serves answer (status, body) to every request and records it.
func receiver(t *testing.T, status int, answer string) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.add(r, b)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

// newHooks returns Hooks for testApp posting to url with token, every command on.
func newHooks(t *testing.T, st *memStore, url, token string, reg prometheus.Registerer) *Hooks {
	t.Helper()
	p, err := ParsePolicy("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if url != "" {
		c := NewConfigs(st, p, clock.Real{})
		if _, err := c.Set(context.Background(), store.App{SDKAppID: testApp, Status: store.StatusActive}, url, token, []string{AllCommands}); err != nil {
			t.Fatal(err)
		}
	}
	return New(st, p, clock.Real{}, HooksOptions{Registerer: reg})
}

func c2cBody() *callback.C2CMsgBody {
	return &callback.C2CMsgBody{From: "alice", To: "bob", MsgSeq: 7, MsgRandom: 99, MsgTime: 1700000000, MsgKey: "k1",
		MsgBody: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)}
}

func TestBeforeDecisions(t *testing.T) {
	cases := []struct {
		name   string
		status int
		answer string
		check  func(t *testing.T, d callback.Decision)
	}{
		{"allow", 200, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err != nil || d.MsgBody != nil || d.CloudCustomData != nil {
				t.Fatalf("%+v", d)
			}
		}},
		{"reject", 200, `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"no"}`, func(t *testing.T, d callback.Decision) {
			if d.Allowed() || d.Code != 1 || d.Info != "no" || d.Err != nil || d.CustomCode() {
				t.Fatalf("%+v", d)
			}
		}},
		{"custom code", 200, `{"ActionStatus":"FAIL","ErrorCode":120005,"ErrorInfo":"banned word"}`, func(t *testing.T, d callback.Decision) {
			if d.Allowed() || d.Code != 120005 || !d.CustomCode() || d.Info != "banned word" {
				t.Fatalf("%+v", d)
			}
		}},
		{"rewrite", 200, `{"ActionStatus":"OK","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"**"}}],"CloudCustomData":"x"}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || string(d.MsgBody) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"**"}}]` || d.CloudCustomData == nil || *d.CloudCustomData != "x" {
				t.Fatalf("%+v", d)
			}
		}},
		{"rewrite not an array", 200, `{"ErrorCode":0,"MsgBody":{"a":1}}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.MsgBody != nil || d.Err != nil {
				t.Fatalf("%+v", d)
			}
		}},
		{"refused members", 200, `{"ActionStatus":"OK","ErrorCode":0,"RefusedMembers_Account":["u1","u2"]}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || strings.Join(d.RefusedMembers, ",") != "u1,u2" {
				t.Fatalf("%+v", d)
			}
		}},
		{"result items", 200, `{"ActionStatus":"OK","ErrorCode":0,"ResultItem":[{"To_Account":"u1","ResultCode":0,"ResultInfo":""},{"To_Account":"u2","ResultCode":30516,"ResultInfo":"refused"}]}`, func(t *testing.T, d callback.Decision) {
			if len(d.Results) != 2 || d.Results[1] != (callback.ItemResult{To: "u2", Code: 30516, Info: "refused"}) {
				t.Fatalf("%+v", d)
			}
		}},
		{"non-200", 500, `{"ErrorCode":1}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err == nil || !strings.Contains(d.Err.Error(), "500") {
				t.Fatalf("%+v", d)
			}
		}},
		{"redirect", 302, ``, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err == nil || !strings.Contains(d.Err.Error(), "302") {
				t.Fatalf("%+v", d)
			}
		}},
		{"garbage", 200, `<html>oops`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err == nil || !strings.Contains(d.Err.Error(), "not JSON") {
				t.Fatalf("%+v", d)
			}
		}},
		{"no ErrorCode", 200, `{"ActionStatus":"FAIL"}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err == nil {
				t.Fatalf("%+v", d)
			}
		}},
		{"too long", 200, `{"ErrorCode":1,"ErrorInfo":"` + strings.Repeat("x", MaxAnswerBytes) + `"}`, func(t *testing.T, d callback.Decision) {
			if !d.Allowed() || d.Err == nil || !strings.Contains(d.Err.Error(), "longer") {
				t.Fatalf("%+v", d)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := receiver(t, tc.status, tc.answer)
			reg := prometheus.NewRegistry()
			h := newHooks(t, newMemStore(), srv.URL+"/cb", "", reg)
			d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody())
			tc.check(t, d)
			if s.n() != 1 {
				t.Fatalf("%d requests", s.n())
			}
			want := "ok"
			switch {
			case d.Err != nil:
				want = "failed"
			case !d.Allowed():
				want = "rejected"
			}
			if got := counter(t, h.m.requests.WithLabelValues("1400000001", "before", want)); got != 1 {
				t.Fatalf("requests{result=%s} = %v", want, got)
			}
			le := <-h.logs
			if le.Result != want || le.App != testApp || le.Command != callback.C2CBeforeSendMsg || le.Status != tc.status {
				t.Fatalf("log entry %+v", le)
			}
		})
	}
}

func TestBeforeRequest(t *testing.T) {
	srv, s := receiver(t, 200, `{"ActionStatus":"OK","ErrorCode":0}`)
	h := newHooks(t, newMemStore(), srv.URL+"/cb?key=v%20x&x=1", "secret-token", nil)
	ctx := callback.WithCaller(context.Background(), callback.Caller{IP: "203.0.113.9", Platform: callback.PlatformAndroid})
	if d := h.Before(ctx, testApp, callback.GroupBeforeSendMsg, &callback.GroupMsgBody{GroupId: "g1", From: "alice", MsgBody: json.RawMessage(`[]`)}); d.Err != nil {
		t.Fatal(d.Err)
	}
	r := s.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/cb" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	q := r.URL.Query()
	rt := q.Get("RequestTime")
	wantPrefix := "key=v%20x&x=1&SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=203.0.113.9&OptPlatform=Android&Sign="
	if !strings.HasPrefix(s.raw[0], wantPrefix) || !strings.HasSuffix(s.raw[0], "&RequestTime="+rt) {
		t.Fatalf("query %q", s.raw[0])
	}
	var n int64
	for _, c := range rt {
		n = n*10 + int64(c-'0')
	}
	if q.Get("Sign") != Sign("secret-token", n) || rt == "" {
		t.Fatalf("Sign %q RequestTime %q", q.Get("Sign"), rt)
	}
	var body map[string]any
	if err := json.Unmarshal(s.body[0], &body); err != nil {
		t.Fatal(err)
	}
	if body["CallbackCommand"] != callback.GroupBeforeSendMsg || body["GroupId"] != "g1" || body["EventTime"].(float64) < 1.6e12 {
		t.Fatalf("body %s", s.body[0])
	}

	// No token: no Sign, no RequestTime; unknown caller: OptPlatform Unknown.
	srv2, s2 := receiver(t, 200, `{"ErrorCode":0}`)
	h2 := newHooks(t, newMemStore(), srv2.URL, "", nil)
	h2.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody())
	if want := "SdkAppid=1400000001&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&ClientIP=&OptPlatform=Unknown"; s2.raw[0] != want {
		t.Fatalf("query %q, want %q", s2.raw[0], want)
	}
}

func TestBeforeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	h := newHooks(t, newMemStore(), srv.URL, "", nil)
	d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody())
	if !d.Allowed() || !errors.Is(d.Err, ErrTimeout) {
		t.Fatalf("%+v", d)
	}
	if got := counter(t, h.m.requests.WithLabelValues("1400000001", "before", "timeout")); got != 1 {
		t.Fatalf("timeouts counted %v", got)
	}
}

func TestBeforeOffAndCache(t *testing.T) {
	srv, s := receiver(t, 200, `{"ErrorCode":1}`)
	st := newMemStore()
	h := newHooks(t, st, "", "", nil)
	ctx := context.Background()
	if h.On(ctx, testApp, callback.C2CBeforeSendMsg) {
		t.Fatal("on without a config")
	}
	if d := h.Before(ctx, testApp, callback.C2CBeforeSendMsg, c2cBody()); !d.Allowed() || d.Err != nil || s.n() != 0 {
		t.Fatalf("%+v, %d requests", d, s.n())
	}
	p, _ := ParsePolicy("127.0.0.1")
	c := NewConfigs(st, p, clock.Real{})
	c.OnSet = h.Invalidate
	app := store.App{SDKAppID: testApp, Status: store.StatusActive}
	if _, err := c.Set(ctx, app, srv.URL, "", []string{callback.GroupBeforeSendMsg}); err != nil {
		t.Fatal(err)
	}
	if !h.On(ctx, testApp, callback.GroupBeforeSendMsg) || h.On(ctx, testApp, callback.C2CBeforeSendMsg) {
		t.Fatal("Invalidate did not take the new config")
	}
	if d := h.Before(ctx, testApp, callback.C2CBeforeSendMsg, c2cBody()); !d.Allowed() || s.n() != 0 {
		t.Fatalf("a command that is off was sent: %+v", d)
	}
	// Cached: no store reads and no allocations.
	st.mu.Lock()
	reads := st.reads
	st.mu.Unlock()
	allocs := testing.AllocsPerRun(100, func() { h.On(ctx, testApp, callback.GroupBeforeSendMsg) })
	st.mu.Lock()
	after := st.reads
	st.mu.Unlock()
	if allocs != 0 || after != reads {
		t.Fatalf("cached On: %v allocations, %d store reads", allocs, after-reads)
	}
	// Bounded cache.
	h2 := New(st, p, clock.Real{}, HooksOptions{CacheSize: 3})
	for a := int64(1); a <= 10; a++ {
		h2.On(ctx, a, callback.StateChange)
	}
	if len(h2.cache) > 3 {
		t.Fatalf("cache holds %d apps", len(h2.cache))
	}
}

func TestCacheRefresh(t *testing.T) {
	st := newMemStore()
	p, _ := ParsePolicy("")
	clk := clock.NewManual(clock.Real{}.Now())
	h := New(st, p, clk, HooksOptions{})
	ctx := context.Background()
	if h.On(ctx, testApp, callback.StateChange) {
		t.Fatal("on")
	}
	st.SetCallbackConfig(ctx, testApp, store.CallbackConfig{URL: "https://hooks.example.com/", Commands: []string{callback.StateChange}})
	clk.Advance(ConfigTTL / 2)
	if h.On(ctx, testApp, callback.StateChange) {
		t.Fatal("refreshed before ConfigTTL")
	}
	clk.Advance(ConfigTTL / 2)
	if !h.On(ctx, testApp, callback.StateChange) {
		t.Fatal("not refreshed after ConfigTTL")
	}
}

func TestEmit(t *testing.T) {
	st := newMemStore()
	h := newHooks(t, st, "", "", nil)
	ev := callback.Event(context.Background(), testApp, callback.StateChange, &callback.StateChangeBody{}, clock.Real{}.Now())
	if err := h.Emit(context.Background(), []store.CallbackEvent{ev, ev}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CallbackBacklog(context.Background(), testApp); n != 2 {
		t.Fatalf("backlog %d", n)
	}
	select {
	case <-h.wake:
	default:
		t.Fatal("Emit did not wake the dispatcher")
	}
}

// counter reads a counter's value.
func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A full log queue drops the entry and counts it; the decision stands.
func TestBeforeLogQueueFull(t *testing.T) {
	srv, _ := receiver(t, 200, `{"ErrorCode":1}`)
	h := newHooks(t, newMemStore(), srv.URL, "", nil)
	for i := 0; i < LogQueue; i++ {
		h.logs <- store.CallbackLogEntry{}
	}
	if d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody()); d.Code != 1 {
		t.Fatalf("%+v", d)
	}
	if got := counter(t, h.m.dropped.WithLabelValues("log_full")); got != 1 {
		t.Fatalf("dropped %v", got)
	}
}

type failingStore struct{ *memStore }

func (failingStore) CallbackConfig(context.Context, int64) (store.CallbackConfig, error) {
	return store.CallbackConfig{}, errors.New("db down")
}
func (failingStore) AppendCallbacks(context.Context, []store.CallbackEvent) error {
	return errors.New("db down")
}

// A store that fails: Before allows without a request, Emit reports it.
func TestHooksStoreFailure(t *testing.T) {
	p, _ := ParsePolicy("")
	h := New(failingStore{newMemStore()}, p, clock.Real{}, HooksOptions{})
	if h.On(context.Background(), testApp, callback.C2CBeforeSendMsg) {
		t.Fatal("on")
	}
	if d := h.Before(context.Background(), testApp, callback.C2CBeforeSendMsg, c2cBody()); !d.Allowed() {
		t.Fatalf("%+v", d)
	}
	if err := h.Emit(context.Background(), []store.CallbackEvent{{App: testApp}}); err == nil {
		t.Fatal("Emit hid the store's error")
	}
}
