package server

import (
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
