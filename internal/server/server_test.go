package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

func newServer(t *testing.T) (*Server, *clock.Manual, *httptest.Server) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newServerOn(t, st)
}

// newServerOn is newServer over an open store.
func newServerOn(t *testing.T, st store.Store) (*Server, *clock.Manual, *httptest.Server) {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, c, hs
}

// New starts no goroutine and the server is not ready until Start.
func TestNewStartsNothing(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	s, err := New(Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("New started %d goroutines", after-before)
	}
	hs := httptest.NewServer(s.Handler)
	defer hs.Close()
	if code, _ := get(t, hs.URL+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before Start: %d", code)
	}
	s.Start()
	s.Start() // once
	if code, _ := get(t, hs.URL+"/readyz", ""); code != 200 {
		t.Errorf("readyz after Start: %d", code)
	}
	s.Close()
	if code, _ := get(t, hs.URL+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after Close: %d", code)
	}
}

// A server never started closes.
func TestCloseWithoutStart(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationalEndpoints(t *testing.T) {
	_, _, hs := newServer(t)
	for _, tt := range []struct {
		path, token string
		code        int
		contains    string
	}{
		{"/healthz", "", 200, "ok"},
		{"/readyz", "", 200, "ready"},
		{"/metrics", "", 200, "chatd_write_batch_size"},
		{"/metrics", "", 200, "chatd_live_room_frames_dropped_total"},
		{"/debug/pprof/", "", 401, ""},
		{"/debug/pprof/", "wrong", 401, ""},
		{"/debug/pprof/", "secret", 200, "goroutine"},
	} {
		code, body := get(t, hs.URL+tt.path, tt.token)
		if code != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("GET %s (token %q) = %d %.60q, want %d containing %q", tt.path, tt.token, code, body, tt.code, tt.contains)
		}
	}
}

// The periodic purge covers every app of every account, by its edition's window.
func TestRetentionPurgeCoversEveryApp(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	var apps []store.App
	for _, name := range []string{"one", "two"} {
		acc, err := s.Tenants.CreateAccount(ctx, name, name+"@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		app, err := s.Tenants.CreateApp(ctx, acc.ID, name, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
			t.Fatal(err)
		}
		body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)
		if _, err := s.IM.Send(ctx, app, im.SendRequest{From: "alice", To: "bob", Body: body}); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	if n, err := s.purge(ctx); err != nil || n != 0 {
		t.Fatalf("purge inside the window: %d, %v", n, err)
	}
	c.Advance(7*24*time.Hour + time.Second) // Free Trial keeps 7 days
	if n, err := s.purge(ctx); err != nil || n != 4 {
		t.Fatalf("purge after 7 days: %d entries, %v; want 4 (two copies in each app)", n, err)
	}
	for _, app := range apps {
		if es, _ := s.cfg.Store.Sync(ctx, app.SDKAppID, "bob", 0, 0, time.Time{}, time.Time{}); len(es) != 0 {
			t.Fatalf("app %d still stores %d entries", app.SDKAppID, len(es))
		}
	}
}

// The lifecycle scheduler is wired in, on the fake clock, with its metrics.
func TestLifecycleWiredWithMetrics(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Manual: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	if _, err := s.Tenants.CreateAccount(context.Background(), "Acme", "ops@acme.example", ""); err != nil {
		t.Fatal(err)
	}
	if !s.Lifecycle.Fake() {
		t.Fatal("the scheduler is not on the fake clock")
	}
	rep, err := s.Lifecycle.Advance(context.Background(), 10*24*time.Hour) // past 1 December: November's bill
	if err != nil || rep.Jobs != 1 {
		t.Fatalf("advance: %+v, %v", rep, err)
	}
	if _, body := get(t, hs.URL+"/metrics", ""); !strings.Contains(body, `chatd_lifecycle_jobs_total{kind="bill"} 1`) {
		t.Errorf("metrics lack the bill job:\n%s", body)
	}
}

// failingStore fails every account read with an error naming the database.
type failingStore struct{ store.Store }

func (failingStore) GetAccount(context.Context, string) (store.Account, error) {
	return store.Account{}, errors.New("failed to connect to `user=chatd database=secretdb`: dial tcp 10.0.0.7:5432")
}

// /readyz is public: it says the store is unavailable without the store's error.
func TestReadyzHidesStoreErrors(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	s, err := New(Config{Store: failingStore{st}, Clock: clock.Real{}, Logger: slog.New(slog.NewTextHandler(&logs, nil)), OperatorToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewServer(s.Handler)
	defer func() { hs.Close(); s.Close() }()
	code, body := get(t, hs.URL+"/readyz", "")
	if code != http.StatusServiceUnavailable || strings.Contains(body, "secretdb") || strings.Contains(body, "10.0.0.7") {
		t.Errorf("readyz: %d %q", code, body)
	}
	if !strings.Contains(logs.String(), "secretdb") {
		t.Errorf("the error is not logged:\n%s", logs.String())
	}
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
