package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/forwarded"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/usersig"
)

// TestConsoleWired: the console API is served by the server over TLS with a
// Secure session cookie, and acts through the same domain as the operator API.
func TestConsoleWired(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewTLSServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	cl := hs.Client()
	cl.Jar, _ = cookiejar.New(nil)

	call := func(method, path, csrf, body string) (int, map[string]any, *http.Response) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out, res
	}
	code, me, res := call("POST", "/console/v1/signup", "", `{"name":"Ann","email":"ann@example.com","password":"password1"}`)
	if code != 201 {
		t.Fatalf("sign-up: %d %v", code, me)
	}
	ck := res.Cookies()
	if len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
	csrf := me["csrf_token"].(string)
	acc := me["account"].(map[string]any)["id"].(string)
	if code, out, _ := call("POST", "/console/v1/apps", "", `{"name":"Chat"}`); code != 403 {
		t.Fatalf("create without CSRF: %d %v", code, out)
	}
	code, app, _ := call("POST", "/console/v1/apps", csrf, `{"name":"Chat","region":"seoul"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, app)
	}
	id := int64(app["sdkappid"].(float64))

	// The operator API sees the app the console created, with its key.
	req, _ := http.NewRequest("GET", fmt.Sprint(hs.URL, "/operator/v1/apps/", id), nil)
	req.Header.Set("Authorization", "Bearer secret")
	ores, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var op map[string]any
	_ = json.NewDecoder(ores.Body).Decode(&op)
	ores.Body.Close()
	if ores.StatusCode != 200 || op["account"] != acc || op["region"] != "seoul" {
		t.Fatalf("operator view: %d %v", ores.StatusCode, op)
	}
	code, sig, _ := call("POST", fmt.Sprint("/console/v1/apps/", id, "/usersig"), csrf, `{"user":"administrator","expire":600}`)
	if code != 200 {
		t.Fatalf("usersig: %d %v", code, sig)
	}
	if err := usersig.Verify(id, op["secret_key"].(string), "administrator", sig["usersig"].(string), c.Now()); err != nil {
		t.Fatalf("console UserSig does not verify with the app's key: %v", err)
	}
	if code, out, _ := call("POST", "/console/v1/signout", csrf, ``); code != 200 {
		t.Fatalf("sign-out: %d %v", code, out)
	}
	if code, _, _ := call("GET", "/console/v1/me", "", ``); code != 401 {
		t.Fatalf("me after sign-out: %d", code)
	}
}

// TestBehindTrustedProxy: behind a proxy named in TrustedProxies, the
// console's sign-in limits count the client of X-Forwarded-For and the cookie
// is Secure when the proxy says the client spoke HTTPS; a client that is not
// the proxy cannot choose its address with the header.
func TestBehindTrustedProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Store: st, Clock: clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)), Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour}
		if trusted {
			if cfg.TrustedProxies, err = forwarded.Parse("127.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		hs := httptest.NewServer(s.Handler)
		t.Cleanup(func() { hs.Close(); s.Close() })
		post := func(path, client, body string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", client)
			req.Header.Set("X-Forwarded-Proto", "https")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		res := post("/console/v1/signup", "198.51.100.1", `{"name":"Ann","email":"ann@example.com","password":"password1"}`)
		if ck := res.Cookies(); res.StatusCode != 201 || len(ck) != 1 || ck[0].Secure != trusted {
			t.Fatalf("trusted=%v: sign-up %d, cookies %+v", trusted, res.StatusCode, ck)
		}
		for range 5 {
			post("/console/v1/signin", "203.0.113.1", `{"email":"ann@example.com","password":"wrong-pass"}`)
		}
		// From another client: served when the proxy is trusted; when it is not,
		// everyone is the proxy's one address, and limited together.
		want := map[bool]int{true: 200, false: 429}[trusted]
		if res := post("/console/v1/signin", "198.51.100.1", `{"email":"ann@example.com","password":"password1"}`); res.StatusCode != want {
			t.Fatalf("trusted=%v: Ann from her own address: %d, want %d", trusted, res.StatusCode, want)
		}
		if res := post("/console/v1/signin", "203.0.113.1", `{"email":"ann@example.com","password":"password1"}`); res.StatusCode != 429 {
			t.Fatalf("trusted=%v: from the guessing address: %d, want 429", trusted, res.StatusCode)
		}
	}
}

// TestConsoleSessionOnFakeClock: on a --fake-clock server, console sessions
// live by real time: the cookie lasts the whole session however far the
// business clock is from now, and moving that clock ends no session.
func TestConsoleSessionOnFakeClock(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := clock.NewManual(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: m, Manual: m, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(func() { hs.Close(); s.Close() })
	res, err := http.Post(hs.URL+"/console/v1/signup", "application/json", strings.NewReader(`{"name":"Ann","email":"ann@example.com","password":"password1"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ck := res.Cookies()
	if res.StatusCode != 201 || len(ck) != 1 || ck[0].MaxAge != 12*3600 || !ck[0].Expires.IsZero() {
		t.Fatalf("sign-up %d, cookies %+v", res.StatusCode, ck)
	}
	if _, err := s.Lifecycle.Set(context.Background(), time.Date(2031, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/console/v1/me", nil)
	req.AddCookie(ck[0])
	me, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	me.Body.Close()
	if me.StatusCode != 200 {
		t.Fatalf("after a month of the fake clock: %d", me.StatusCode)
	}
}
