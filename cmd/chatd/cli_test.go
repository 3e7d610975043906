package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usersig"
)

// cliTestServer is an operator API over a real SQLite store, with its data directory
// holding the operator token as `chatd serve` writes it.
type cliTestServer struct {
	url, token, data string
	client           *http.Client
	store            store.Store
	clock            *clock.Manual
}

func newCLITestServer(t *testing.T) *cliTestServer {
	t.Helper()
	return startCLITestServer(t, false)
}

// startCLITestServer serves the operator API, with the commercial layer and a
// scheduler on the manual clock (as with --fake-clock) when withCommerce is set.
func startCLITestServer(t *testing.T, withCommerce bool) *cliTestServer {
	t.Helper()
	data := t.TempDir()
	token, _, _, err := operator.LoadOrCreateToken(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(data, "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	g := &gate.Gate{MAU: st, Clock: c}
	b := bus.NewLocal()
	w := im.NewWriter(st, b, 64, nil)
	t.Cleanup(w.Close)
	cfg := operator.Config{
		Tenants: &tenant.Service{Store: st, Clock: c}, Gate: g, Clock: c, Token: token,
		IM: im.New(st, c, g, w, b),
	}
	if withCommerce {
		cfg.Commerce = &commerce.Service{Store: st, Clock: c}
		cfg.Scheduler = lifecycle.New(lifecycle.Config{Store: st, Manual: c})
	}
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", operator.New(cfg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &cliTestServer{url: srv.URL, token: token, data: data, client: srv.Client(), store: st, clock: c}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with the given environment (nothing else of the process's).
func (s *cliTestServer) run(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{
		stdout: &out, stderr: &errb,
		getenv: func(k string) string { return env[k] },
		client: s.client,
		now:    func() time.Time { return time.Unix(1_800_000_000, 0) },
	}
	code := c.run(args)
	return cliResult{code, out.String(), errb.String()}
}

// cli runs a command against the server with --server and --data given as flags.
func (s *cliTestServer) cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	return s.run(t, nil, append([]string{"--server", s.url, "--data", s.data}, args...)...)
}

// jsonOK runs a --json command that must succeed and print exactly one JSON object on
// one newline-terminated line.
func (s *cliTestServer) jsonOK(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r := s.cli(t, append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("chatd %s: exit %d, stderr %s", strings.Join(args, " "), r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("chatd %s: output is not one newline-terminated line: %q", strings.Join(args, " "), r.stdout)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("chatd %s: output is not a JSON object: %v: %q", strings.Join(args, " "), err, r.stdout)
	}
	return m
}

func jsonKeys(m map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(m)), ",") }

func jsonInt(v any) string { return strconv.FormatInt(int64(v.(float64)), 10) }

func TestCLIAccountsAndApps(t *testing.T) {
	s := newCLITestServer(t)

	acc := s.jsonOK(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example", "--phone", "+65 1234")
	if jsonKeys(acc) != "balance,created_at,email,id,name,overdue_since,phone,status,suspend_reason,suspended_at" || acc["name"] != "Acme" || acc["status"] != "active" {
		t.Fatalf("account create: %v", acc)
	}
	id := acc["id"].(string)
	if got := s.jsonOK(t, "account", "show", "--account", id); fmt.Sprint(got) != fmt.Sprint(acc) {
		t.Fatalf("account show: %v, created %v", got, acc)
	}

	app := s.jsonOK(t, "app", "create", "--account", id, "--name", "Acme Chat", "--region", "frankfurt")
	if jsonKeys(app) != "account,admin_user,auto_renew,created_at,edition,expires_at,name,plan_anchor,region,sdkappid,secret_key,status,suspend_reason,suspended_at,trial_extended" {
		t.Fatalf("app create keys: %s", jsonKeys(app))
	}
	if app["sdkappid"] != float64(1400000001) || app["name"] != "Acme Chat" || app["region"] != "frankfurt" ||
		app["edition"] != "trial" || app["status"] != "active" || app["secret_key"] == "" {
		t.Fatalf("app create: %v", app)
	}
	for _, k := range []string{"created_at", "expires_at"} {
		if _, err := time.Parse(time.RFC3339, app[k].(string)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if app["created_at"] != "2026-11-20T10:30:00Z" || app["expires_at"] != "2026-12-20T10:30:00Z" {
		t.Fatalf("a trial lasts one month: %v .. %v", app["created_at"], app["expires_at"])
	}
	sdkappid := jsonInt(app["sdkappid"])

	// Global flags before, between and after the command words.
	for _, args := range [][]string{
		{"--json", "app", "show", "--sdkappid", sdkappid},
		{"app", "--json", "show", "--sdkappid", sdkappid},
		{"app", "show", "--json", "--sdkappid", sdkappid},
		{"app", "show", "--sdkappid", sdkappid, "--json"},
	} {
		r := s.run(t, nil, append([]string{"--server", s.url}, append(args, "--data", s.data)...)...)
		var got map[string]any
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || fmt.Sprint(got) != fmt.Sprint(app) {
			t.Fatalf("chatd %v: exit %d, %q %q", args, r.code, r.stdout, r.stderr)
		}
	}

	second := s.jsonOK(t, "app", "create", "--account", id, "--name", "Second")
	if second["sdkappid"] != float64(1400000002) || second["region"] != tenant.DefaultRegion {
		t.Fatalf("second app: %v", second)
	}
	list := s.jsonOK(t, "app", "list", "--account", id)
	apps, ok := list["apps"].([]any)
	if jsonKeys(list) != "apps" || !ok || len(apps) != 2 {
		t.Fatalf("app list: %v", list)
	}
	if fmt.Sprint(apps[0]) != fmt.Sprint(app) {
		t.Fatalf("app list [0] = %v, want %v", apps[0], app)
	}

	// MAU of this month and of another.
	ctx := context.Background()
	for _, u := range []string{"alice", "bob", "alice"} {
		if _, err := s.store.AdmitMonthly(ctx, 1400000001, "2026-11", u, 0, s.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.store.AdmitMonthly(ctx, 1400000001, "2026-10", "carol", 0, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	mau := s.jsonOK(t, "app", "mau", "--sdkappid", sdkappid)
	if jsonKeys(mau) != "mau,month,sdkappid" || mau["mau"] != float64(2) || mau["month"] != period.Month(s.clock.Now()) || jsonInt(mau["sdkappid"]) != sdkappid {
		t.Fatalf("app mau: %v", mau)
	}
	if mau := s.jsonOK(t, "app", "mau", "--sdkappid", sdkappid, "--month", "2026-10"); mau["mau"] != float64(1) || mau["month"] != "2026-10" {
		t.Fatalf("app mau --month 2026-10: %v", mau)
	}
	if r := s.cli(t, "app", "mau", "--sdkappid", sdkappid, "--month", "2026-13"); r.code != 1 || !strings.Contains(r.stderr, "YYYY-MM") {
		t.Fatalf("bad month: %+v", r)
	}

	// Deletion needs the matching confirmation.
	if r := s.cli(t, "app", "delete", "--sdkappid", sdkappid); r.code != 2 || !strings.Contains(r.stderr, "--confirm "+sdkappid) {
		t.Fatalf("delete without --confirm: %+v", r)
	}
	if r := s.cli(t, "app", "delete", "--sdkappid", sdkappid, "--confirm", "1400000002"); r.code != 1 || !strings.Contains(r.stderr, "confirm") {
		t.Fatalf("delete with the wrong --confirm: %+v", r)
	}
	if got := s.jsonOK(t, "app", "show", "--sdkappid", sdkappid); got["status"] != "active" {
		t.Fatalf("refused deletion changed the app: %v", got)
	}
	del := s.jsonOK(t, "app", "delete", "--sdkappid", sdkappid, "--confirm", sdkappid)
	if jsonKeys(del) != "deleted" || jsonInt(del["deleted"]) != sdkappid {
		t.Fatalf("app delete: %v", del)
	}
	if r := s.cli(t, "app", "show", "--sdkappid", sdkappid, "--json"); r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "not found") || !strings.Contains(r.stderr, "404") {
		t.Fatalf("show after delete: %+v", r)
	}
	if n, _ := s.store.CountMonthly(ctx, 1400000001, "2026-11"); n != 0 {
		t.Fatalf("MAU records survived deletion: %d", n)
	}
	if list := s.jsonOK(t, "app", "list", "--account", id); len(list["apps"].([]any)) != 1 {
		t.Fatalf("list after delete: %v", list)
	}
	// Never reused.
	if third := s.jsonOK(t, "app", "create", "--account", id, "--name", "Third"); third["sdkappid"] != float64(1400000003) {
		t.Fatalf("app after deletion: %v", third)
	}
}

func TestCLIHumanOutput(t *testing.T) {
	s := newCLITestServer(t)
	r := s.cli(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example")
	if r.code != 0 || !strings.Contains(r.stdout, "acc_") || !strings.Contains(r.stdout, "ops@acme.example") || strings.HasPrefix(r.stdout, "{") {
		t.Fatalf("account create: %+v", r)
	}
	id := s.jsonOK(t, "account", "create", "--name", "B", "--email", "b@example.com")["id"].(string)
	if r := s.cli(t, "app", "list", "--account", id); r.code != 0 || !strings.Contains(r.stdout, "no apps") {
		t.Fatalf("empty app list: %+v", r)
	}
	r = s.cli(t, "app", "create", "--account", id, "--name", "Chat", "--region", "seoul")
	for _, want := range []string{"1400000001", "Chat", "seoul", "trial", "active", "Secret key", "2026-12-20T10:30:00Z"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("app create output lacks %q: %+v", want, r)
		}
	}
	for _, args := range [][]string{
		{"app", "show", "--sdkappid", "1400000001"},
		{"app", "list", "--account", id},
		{"app", "mau", "--sdkappid", "1400000001"},
		{"account", "show", "--account", id},
		{"app", "delete", "--sdkappid", "1400000001", "--confirm", "1400000001"},
	} {
		r := s.cli(t, args...)
		if r.code != 0 || r.stdout == "" || strings.HasPrefix(r.stdout, "{") || r.stderr != "" {
			t.Fatalf("chatd %v: %+v", args, r)
		}
	}
}

func TestCLIToken(t *testing.T) {
	s := newCLITestServer(t)
	args := []string{"account", "create", "--name", "A", "--email", "a@example.com", "--json"}

	ok := func(what string, r cliResult) {
		t.Helper()
		if r.code != 0 || !strings.Contains(r.stdout, `"id":"acc_`) {
			t.Fatalf("%s: %+v", what, r)
		}
	}
	// --data holding the token file, as a flag or CHATD_DATA; --server as a flag or CHATD_SERVER.
	ok("--data", s.run(t, nil, append([]string{"--server", s.url, "--data", s.data}, args...)...))
	ok("CHATD_DATA", s.run(t, map[string]string{"CHATD_DATA": s.data, "CHATD_SERVER": s.url}, args...))
	// --token and CHATD_TOKEN win over the file.
	empty := t.TempDir()
	ok("--token", s.run(t, map[string]string{"CHATD_SERVER": s.url}, append(args, "--token", s.token, "--data", empty)...))
	ok("CHATD_TOKEN", s.run(t, map[string]string{"CHATD_SERVER": s.url, "CHATD_TOKEN": s.token, "CHATD_DATA": empty}, args...))
	ok("CHATD_SERVER with a trailing slash", s.run(t, map[string]string{"CHATD_SERVER": s.url + "/", "CHATD_TOKEN": s.token}, args...))

	// A wrong token is refused by the server; nothing is created.
	r := s.run(t, map[string]string{"CHATD_SERVER": s.url}, append(args, "--token", "wrong")...)
	if r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "token") || r.stdout != "" {
		t.Fatalf("wrong token: %+v", r)
	}
	// No token anywhere: a usage error naming the ways to give one.
	r = s.run(t, map[string]string{"CHATD_SERVER": s.url}, append(args, "--data", empty)...)
	if r.code != 2 || !strings.Contains(r.stderr, "CHATD_TOKEN") || !strings.Contains(r.stderr, "operator.token") {
		t.Fatalf("no token: %+v", r)
	}
	// Wrong token file.
	if err := os.WriteFile(filepath.Join(empty, "operator.token"), []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run(t, map[string]string{"CHATD_SERVER": s.url, "CHATD_DATA": empty}, args...); r.code != 1 {
		t.Fatalf("wrong token file: %+v", r)
	}
	// Usage output never shows the token, wherever it came from.
	r = s.run(t, map[string]string{"CHATD_TOKEN": "env-secret"}, "--token", "flag-secret", "app", "show", "--bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "-token") || strings.Contains(r.stderr, "secret") {
		t.Fatalf("usage output: %+v", r)
	}
	// No server there.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r = s.run(t, map[string]string{"CHATD_TOKEN": s.token}, append(args, "--server", dead.URL)...)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach") {
		t.Fatalf("dead server: %+v", r)
	}
}

func TestCLIErrors(t *testing.T) {
	s := newCLITestServer(t)
	id := s.jsonOK(t, "account", "create", "--name", "A", "--email", "a@example.com")["id"].(string)

	for _, tc := range []struct {
		args []string
		code int
		msg  string // in stderr
	}{
		{[]string{}, 2, "missing command"},
		{[]string{"--json"}, 2, "missing command"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"app"}, 2, "missing app command"},
		{[]string{"app", "explode"}, 2, "unknown command"},
		{[]string{"account", "delete"}, 2, "unknown command"},
		{[]string{"account", "create", "--name", "A"}, 2, "--email is required"},
		{[]string{"account", "create", "--email", "a@example.com"}, 2, "--name is required"},
		{[]string{"account", "create", "--name", "A", "--email", "a@example.com", "extra"}, 2, "unexpected argument"},
		{[]string{"account", "create", "--nmae", "A"}, 2, "flag provided but not defined"},
		{[]string{"account", "show"}, 2, "--account is required"},
		{[]string{"app", "create", "--name", "x"}, 2, "--account is required"},
		{[]string{"app", "list"}, 2, "--account is required"},
		{[]string{"app", "show"}, 2, "--sdkappid is required"},
		{[]string{"app", "show", "--sdkappid", "abc"}, 2, "invalid value"},
		{[]string{"app", "mau"}, 2, "--sdkappid is required"},
		{[]string{"--server", "ftp://x", "app", "show", "--sdkappid", "1"}, 2, "--server"},
		// Refused by the server: its message, exit 1.
		{[]string{"account", "create", "--name", "A", "--email", "not-an-email"}, 1, "not a valid address"},
		{[]string{"account", "show", "--account", "acc_missing"}, 1, "not found"},
		{[]string{"app", "create", "--account", "acc_missing", "--name", "x"}, 1, "not found"},
		{[]string{"app", "create", "--account", id, "--name", "x", "--region", "atlantis"}, 1, "unknown region"},
		{[]string{"app", "show", "--sdkappid", "1400000099"}, 1, "not found"},
		{[]string{"app", "delete", "--sdkappid", "1400000099", "--confirm", "1400000099"}, 1, "not found"},
		{[]string{"app", "mau", "--sdkappid", "1400000099"}, 1, "not found"},
	} {
		r := s.cli(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
			t.Errorf("chatd %v: exit %d stdout %q stderr %q; want exit %d with %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.msg)
		}
	}
	// A failed create left nothing behind.
	if list := s.jsonOK(t, "app", "list", "--account", id); len(list["apps"].([]any)) != 0 {
		t.Fatalf("apps after failed creates: %v", list)
	}
	// -h is not an error.
	if r := s.cli(t, "app", "create", "-h"); r.code != 0 || !strings.Contains(r.stdout, "-region") || r.stderr != "" {
		t.Fatalf("-h: %+v", r)
	}
}

func TestCLI300Apps(t *testing.T) {
	s := newCLITestServer(t)
	id := s.jsonOK(t, "account", "create", "--name", "A", "--email", "a@example.com")["id"].(string)
	svc := &tenant.Service{Store: s.store, Clock: s.clock}
	for i := range tenant.MaxAppsPerAccount {
		if _, err := svc.CreateApp(context.Background(), id, fmt.Sprint("app ", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	r := s.cli(t, "app", "create", "--account", id, "--name", "one too many", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "300") || !strings.Contains(r.stderr, "409") || r.stdout != "" {
		t.Fatalf("301st app: %+v", r)
	}
}

func TestCLIUserSig(t *testing.T) {
	s := newCLITestServer(t)
	now := time.Unix(1_800_000_000, 0)
	// No server is needed: point --server nowhere and give no token.
	env := map[string]string{"CHATD_SERVER": "http://127.0.0.1:1", "CHATD_DATA": t.TempDir()}
	for _, args := range [][]string{
		{"usersig", "--sdkappid", "1400000001", "--key", "secret", "--user", "administrator"},
		{"--json", "usersig", "--sdkappid", "1400000001", "--key", "secret", "--user", "administrator"},
		{"usersig", "--sdkappid", "1400000001", "--key", "secret", "--user", "administrator", "--expire", "60"},
	} {
		r := s.run(t, env, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("chatd %v: %+v", args, r)
		}
		sig := strings.TrimSuffix(r.stdout, "\n")
		if err := usersig.Verify(1400000001, "secret", "administrator", sig, now); err != nil {
			t.Fatalf("chatd %v: sig does not verify: %v", args, err)
		}
		if err := usersig.Verify(1400000001, "other", "administrator", sig, now); err == nil {
			t.Fatal("sig verifies with another key")
		}
		c, err := usersig.Decode(sig)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(defaultUserSigExpire)
		if slices.Contains(args, "--expire") {
			want = 60
		}
		if c.Expire != want || c.Time != now.Unix() {
			t.Fatalf("chatd %v: claims %+v", args, c)
		}
	}
	// The sig of a real app verifies with its secret key.
	id := s.jsonOK(t, "account", "create", "--name", "A", "--email", "a@example.com")["id"].(string)
	app := s.jsonOK(t, "app", "create", "--account", id, "--name", "Chat")
	r := s.run(t, env, "usersig", "--sdkappid", jsonInt(app["sdkappid"]), "--key", app["secret_key"].(string), "--user", "alice")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if err := usersig.Verify(int64(app["sdkappid"].(float64)), app["secret_key"].(string), "alice", strings.TrimSpace(r.stdout), now); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"usersig", "--key", "k", "--user", "u"},
		{"usersig", "--sdkappid", "1", "--user", "u"},
		{"usersig", "--sdkappid", "1", "--key", "k"},
		{"usersig", "--sdkappid", "1", "--key", "k", "--user", "u", "--expire", "0"},
		{"usersig", "--sdkappid", "-3", "--key", "k", "--user", "u"},
	} {
		if r := s.run(t, env, args...); r.code != 2 || r.stdout != "" {
			t.Errorf("chatd %v: %+v", args, r)
		}
	}
}
