package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
)

// hookRequest is one request a receiver got.
type hookRequest struct {
	query url.Values
	body  map[string]any
}

// A server on a manual clock that nobody moves still asks before-events and
// delivers after-events (real-time dispatcher), signed with the real time; the
// operator API configures and logs them; the metrics are on /metrics; Close
// stops the dispatcher.
func TestServerCallbacksOnAManualClock(t *testing.T) {
	got := make(chan hookRequest, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		got <- hookRequest{r.URL.Query(), body}
		fmt.Fprint(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)
	}))
	defer recv.Close()

	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := sender.ParsePolicy("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	manual := clock.NewManual(time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)) // far from the real time
	s, err := New(Config{Store: st, Clock: manual, Manual: manual, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret",
		PurgeEvery: time.Hour, NodeID: "n1", CallbackPolicy: p})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	closed := false
	defer func() {
		hs.Close()
		if !closed {
			s.Close()
		}
	}()
	s.Start()
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Tenants.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
		t.Fatal(err)
	}
	op := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, hs.URL+"/operator/v1/apps/"+strconv.FormatInt(app.SDKAppID, 10)+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	// The policy: the allow-listed loopback address passes, another is refused.
	if code, m := op("PUT", "/callback", `{"url":"http://10.0.0.1/cb","commands":["all"]}`); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "allow-list") {
		t.Fatalf("a host off the allow-list: %d %v", code, m)
	}
	body := fmt.Sprintf(`{"url":%q,"token":"tok","commands":[%q,%q]}`, recv.URL+"/im", callback.C2CBeforeSendMsg, callback.C2CAfterSendMsg)
	if code, m := op("PUT", "/callback", body); code != 200 || m["token_set"] != true {
		t.Fatalf("PUT callback: %d %v", code, m)
	}

	b, _ := json.Marshal(map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 7,
		"MsgBody": []any{map[string]any{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "hi"}}}})
	var ans map[string]any
	if err := json.Unmarshal(adminCall(t, hs.URL, app, manual.Now(), "openim/sendmsg", b), &ans); err != nil || ans["ErrorCode"] != float64(0) {
		t.Fatalf("sendmsg: %v %v", ans, err)
	}
	seen := map[string]hookRequest{}
	for len(seen) < 2 {
		select {
		case r := <-got:
			seen[r.query.Get("CallbackCommand")] = r
		case <-time.After(10 * time.Second):
			_, lg := op("GET", "/callback/log", "")
			t.Fatalf("the receiver got %v of 2 callbacks with the manual clock standing still; log %v", seen, lg)
		}
	}
	for cmd, r := range seen {
		rt, err := strconv.ParseInt(r.query.Get("RequestTime"), 10, 64)
		if err != nil || r.query.Get("Sign") != sender.Sign("tok", rt) || r.query.Get("SdkAppid") != strconv.FormatInt(app.SDKAppID, 10) {
			t.Fatalf("%s: query %v", cmd, r.query)
		}
		if d := time.Since(time.Unix(rt, 0)); d < -time.Minute || d > time.Minute {
			t.Fatalf("%s: RequestTime %d is not the real time", cmd, rt)
		}
		if r.body["CallbackCommand"] != cmd || r.body["From_Account"] != "alice" {
			t.Fatalf("%s: body %v", cmd, r.body)
		}
	}
	if _, ok := seen[callback.C2CAfterSendMsg]; !ok {
		t.Fatalf("no after-send callback: %v", seen)
	}

	// The log (written by the dispatcher) and the metrics.
	waitFor(t, func() bool {
		_, m := op("GET", "/callback/log", "")
		es, _ := m["entries"].([]any)
		return len(es) == 2 && m["backlog"] == float64(0)
	}, "the log of both requests and an empty outbox")
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`chatd_callback_requests_total{kind="after",result="ok",sdkappid="%d"} 1`, app.SDKAppID),
		fmt.Sprintf(`chatd_callback_requests_total{kind="before",result="ok",sdkappid="%d"} 1`, app.SDKAppID),
		"chatd_callback_request_seconds_bucket",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Close stops the dispatcher (and returns).
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
		closed = true
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: the dispatcher kept running")
	}
}
