package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

type env struct {
	t       *testing.T
	srv     *httptest.Server
	tenants *tenant.Service
	gate    *gate.Gate
	clock   *clock.Manual
	store   store.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "chatd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewManual(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC))
	e := &env{t: t, clock: c, store: st}
	e.tenants = &tenant.Service{Store: st, Clock: c}
	e.gate = &gate.Gate{MAU: st, Clock: c}
	mux := http.NewServeMux()
	mux.Handle("/operator/v1/", New(Config{Tenants: e.tenants, Gate: e.gate, Clock: c, Token: testToken}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request with the operator token and decodes the JSON answer into a map.
func (e *env) do(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	return e.doAuth(method, path, body, "Bearer "+testToken)
}

func (e *env) doAuth(method, path, body, auth string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
	}
	if resp.StatusCode >= 400 {
		if msg, _ := m["error"].(string); msg == "" || len(m) != 1 {
			e.t.Fatalf("%s %s: error answer %s is not {\"error\": message}", method, path, raw)
		}
	}
	return resp.StatusCode, m
}

func (e *env) want(method, path, body string, status int) map[string]any {
	e.t.Helper()
	got, m := e.do(method, path, body)
	if got != status {
		e.t.Fatalf("%s %s %s: status %d, want %d: %v", method, path, body, got, status, m)
	}
	return m
}

func (e *env) account() string {
	e.t.Helper()
	m := e.want("POST", "/operator/v1/accounts", `{"name":"Acme","email":"ops@acme.example"}`, 201)
	return m["id"].(string)
}

func (e *env) app(account string) int64 {
	e.t.Helper()
	m := e.want("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"Acme Chat"}`, account), 201)
	return int64(m["sdkappid"].(float64))
}

func keys(m map[string]any) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	m := e.want("POST", "/operator/v1/accounts", `{"name":"Acme","email":"ops@acme.example","phone":"+65 1234"}`, 201)
	if got := keys(m); got != "balance,created_at,email,id,name,overdue_since,phone,status,suspend_reason,suspended_at" {
		t.Fatalf("account keys %s", got)
	}
	id := m["id"].(string)
	if !strings.HasPrefix(id, "acc_") || m["name"] != "Acme" || m["email"] != "ops@acme.example" ||
		m["phone"] != "+65 1234" || m["status"] != "active" || m["created_at"] != "2026-11-20T10:30:00Z" {
		t.Fatalf("account %v", m)
	}
	got := e.want("GET", "/operator/v1/accounts/"+id, "", 200)
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("GET account = %v, created %v", got, m)
	}
	e.want("GET", "/operator/v1/accounts/acc_nope", "", 404)
}

func TestCreateAccountRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{``, 400},
		{`{`, 400},
		{`nope`, 400},
		{`[]`, 400},
		{`null`, 400},
		{`{}`, 400},
		{`{"name":"Acme"}`, 400},
		{`{"email":"ops@acme.example"}`, 400},
		{`{"name":"  ","email":"ops@acme.example"}`, 400},
		{`{"name":"Acme","email":"not-an-address"}`, 400},
		{`{"name":"Acme","email":"ops@acme.example","phone":"` + strings.Repeat("1", 33) + `"}`, 400},
		{`{"name":"Acme","email":"ops@acme.example","extra":1}`, 400},
		{`{"name":1,"email":"ops@acme.example"}`, 400},
		{`{"name":"Acme","email":"ops@acme.example"} {"name":"B"}`, 400},
		{`{"name":"Acme","email":"ops@acme.example"} x`, 400},
		{`{"name":"` + strings.Repeat("a", 70<<10) + `","email":"ops@acme.example"}`, 413},
	} {
		got, m := e.do("POST", "/operator/v1/accounts", tc.body)
		if got != tc.status {
			t.Errorf("body %.60q: status %d, want %d (%v)", tc.body, got, tc.status, m)
		}
	}
}

func TestCreateAndShowApp(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	m := e.want("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"Acme Chat","region":"tokyo"}`, acc), 201)
	if got := keys(m); got != "account,admin_user,auto_renew,created_at,edition,expires_at,name,plan_anchor,region,sdkappid,secret_key,status,suspend_reason,suspended_at,trial_extended" {
		t.Fatalf("app keys %s", got)
	}
	if m["sdkappid"] != float64(1400000001) || m["account"] != acc || m["name"] != "Acme Chat" ||
		m["region"] != "tokyo" || m["edition"] != "trial" || m["status"] != "active" ||
		m["created_at"] != "2026-11-20T10:30:00Z" || m["expires_at"] != "2026-12-20T10:30:00Z" ||
		m["admin_user"] != tenant.DefaultAdmin {
		t.Fatalf("app %v", m)
	}
	if k, _ := m["secret_key"].(string); len(k) < 32 {
		t.Fatalf("secret key %q", k)
	}
	got := e.want("GET", "/operator/v1/apps/1400000001", "", 200)
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("GET app = %v, created %v", got, m)
	}

	// Default region, and the next SDKAppID.
	m = e.want("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"Second"}`, acc), 201)
	if m["sdkappid"] != float64(1400000002) || m["region"] != tenant.DefaultRegion {
		t.Fatalf("second app %v", m)
	}

	e.want("GET", "/operator/v1/apps/1400000099", "", 404)
	e.want("GET", "/operator/v1/apps/abc", "", 400)
	e.want("GET", "/operator/v1/apps/-5", "", 400)
	e.want("GET", "/operator/v1/apps/0", "", 400)
}

func TestCreateAppRefusesBadInputAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	for _, tc := range []struct {
		body   string
		status int
	}{
		{``, 400},
		{`{"account":`, 400},
		{`{}`, 400},
		{fmt.Sprintf(`{"account":%q}`, acc), 400},
		{`{"name":"Chat"}`, 400},
		{fmt.Sprintf(`{"account":%q,"name":"Chat","region":"atlantis"}`, acc), 400},
		{fmt.Sprintf(`{"account":%q,"name":"  "}`, acc), 400},
		{fmt.Sprintf(`{"account":%q,"name":"%s"}`, acc, strings.Repeat("x", 129)), 400},
		{fmt.Sprintf(`{"account":%q,"name":"Chat","edition":"premium"}`, acc), 400},
		{fmt.Sprintf(`{"account":%q,"name":"Chat","sdkappid":1}`, acc), 400},
		{fmt.Sprintf(`{"account":%q,"name":["Chat"]}`, acc), 400},
		{`{"account":"acc_missing","name":"Chat"}`, 404},
		{fmt.Sprintf(`{"account":%q,"name":"Chat","region":"%s"}`, acc, strings.Repeat("x", 65<<10)), 413},
	} {
		got, m := e.do("POST", "/operator/v1/apps", tc.body)
		if got != tc.status {
			t.Errorf("body %.80q: status %d, want %d (%v)", tc.body, got, tc.status, m)
		}
	}
	m := e.want("GET", "/operator/v1/apps?account="+acc, "", 200)
	if apps := m["apps"].([]any); len(apps) != 0 {
		t.Fatalf("failed creates left apps: %v", apps)
	}
	// Failed creates did not consume SDKAppIDs either.
	if id := e.app(acc); id != 1400000001 {
		t.Fatalf("first successful app got %d", id)
	}
}

func TestListApps(t *testing.T) {
	e := newEnv(t)
	acc, other := e.account(), e.account()
	a1, a2 := e.app(acc), e.app(acc)
	e.app(other)
	m := e.want("GET", "/operator/v1/apps?account="+acc, "", 200)
	if keys(m) != "apps" {
		t.Fatalf("list keys %s", keys(m))
	}
	apps := m["apps"].([]any)
	if len(apps) != 2 {
		t.Fatalf("apps %v", apps)
	}
	for i, want := range []int64{a1, a2} {
		a := apps[i].(map[string]any)
		if a["sdkappid"] != float64(want) || a["account"] != acc || a["secret_key"] == "" {
			t.Fatalf("apps[%d] = %v", i, a)
		}
	}
	e.want("GET", "/operator/v1/apps", "", 400)
	e.want("GET", "/operator/v1/apps?account=acc_missing", "", 404)
	// An account without apps lists an empty array, not null.
	_, raw := e.do("GET", "/operator/v1/apps?account="+e.account(), "")
	if apps, ok := raw["apps"].([]any); !ok || len(apps) != 0 {
		t.Fatalf("empty list = %v", raw)
	}
}

func TestDeleteAppNeedsConfirmationAndIDsAreNeverReused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	id := e.app(acc)
	keep := e.app(acc)
	app, err := e.tenants.GetApp(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.gate.AdmitLogin(ctx, app, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.ImportUsers(ctx, id, []store.User{{UserID: "alice", CreatedAt: e.clock.Now()}}); err != nil {
		t.Fatal(err)
	}

	path := fmt.Sprintf("/operator/v1/apps/%d", id)
	for _, q := range []string{"", "?confirm=", fmt.Sprintf("?confirm=%d", keep), "?confirm=yes", fmt.Sprintf("?confirm=%d", id+1000)} {
		got, m := e.do("DELETE", path+q, "")
		if got != 400 {
			t.Fatalf("DELETE %s%s: %d %v", path, q, got, m)
		}
		if !strings.Contains(m["error"].(string), fmt.Sprint(id)) {
			t.Fatalf("confirmation error does not say which SDKAppID to repeat: %v", m)
		}
	}
	e.want("GET", path, "", 200) // still there

	m := e.want("DELETE", fmt.Sprintf("%s?confirm=%d", path, id), "", 200)
	if keys(m) != "deleted" || m["deleted"] != float64(id) {
		t.Fatalf("delete answer %v", m)
	}
	e.want("GET", path, "", 404)
	e.want("GET", path+"/mau", "", 404)
	e.want("DELETE", fmt.Sprintf("%s?confirm=%d", path, id), "", 404)
	e.want("DELETE", "/operator/v1/apps/1400000077?confirm=1400000077", "", 404)

	// All data of the app is gone; the other app is untouched.
	if n, _ := e.store.CountMonthly(ctx, id, "2026-11"); n != 0 {
		t.Fatalf("MAU records survived deletion: %d", n)
	}
	if us, _ := e.store.GetUsers(ctx, id, []string{"alice"}); len(us) != 0 {
		t.Fatalf("users survived deletion: %v", us)
	}
	e.want("GET", fmt.Sprintf("/operator/v1/apps/%d", keep), "", 200)
	list := e.want("GET", "/operator/v1/apps?account="+acc, "", 200)["apps"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["sdkappid"] != float64(keep) {
		t.Fatalf("list after delete: %v", list)
	}

	// The deleted SDKAppID is never handed out again.
	if next := e.app(acc); next != keep+1 {
		t.Fatalf("app created after deletion got %d, want %d", next, keep+1)
	}
}

func TestThreeHundredAppsPerAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	for i := range tenant.MaxAppsPerAccount {
		if _, err := e.tenants.CreateApp(ctx, acc, fmt.Sprintf("app %d", i), ""); err != nil {
			t.Fatalf("app %d: %v", i, err)
		}
	}
	got, m := e.do("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"one too many"}`, acc))
	if got != 409 || !strings.Contains(m["error"].(string), "300") {
		t.Fatalf("301st app: %d %v", got, m)
	}
	if n := len(e.want("GET", "/operator/v1/apps?account="+acc, "", 200)["apps"].([]any)); n != 300 {
		t.Fatalf("%d apps listed", n)
	}
	// Another account is not affected.
	e.app(e.account())
	// Deleting one frees a place; the new app gets a fresh SDKAppID.
	e.want("DELETE", "/operator/v1/apps/1400000001?confirm=1400000001", "", 200)
	if id := e.app(acc); id != 1400000302 {
		t.Fatalf("app after freeing a place got %d", id)
	}
	e.want("POST", "/operator/v1/apps", fmt.Sprintf(`{"account":%q,"name":"again too many"}`, acc), 409)
}

func TestMAU(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	id := e.app(acc)
	other := e.app(acc)
	app, _ := e.tenants.GetApp(ctx, id)
	otherApp, _ := e.tenants.GetApp(ctx, other)

	path := fmt.Sprintf("/operator/v1/apps/%d/mau", id)
	m := e.want("GET", path, "", 200)
	if keys(m) != "mau,month,sdkappid" || m["sdkappid"] != float64(id) || m["month"] != "2026-11" || m["mau"] != float64(0) {
		t.Fatalf("empty MAU %v", m)
	}
	for _, u := range []string{"alice", "bob", "alice"} {
		if err := e.gate.AdmitLogin(ctx, app, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.gate.AdmitLogin(ctx, otherApp, "carol"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC)) // next UTC month
	if err := e.gate.AdmitLogin(ctx, app, "alice"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		q, month string
		mau      int
	}{
		{"", "2026-12", 1}, // default: the clock's current month
		{"?month=2026-12", "2026-12", 1},
		{"?month=2026-11", "2026-11", 2},
		{"?month=2026-10", "2026-10", 0},
	} {
		m := e.want("GET", path+tc.q, "", 200)
		if m["month"] != tc.month || m["mau"] != float64(tc.mau) || m["sdkappid"] != float64(id) {
			t.Errorf("MAU%s = %v, want %s %d", tc.q, m, tc.month, tc.mau)
		}
	}
	if m := e.want("GET", fmt.Sprintf("/operator/v1/apps/%d/mau?month=2026-11", other), "", 200); m["mau"] != float64(1) {
		t.Fatalf("other app MAU %v", m)
	}
	for _, bad := range []string{"2026-13", "2026-1", "26-11", "2026/11", "november", "2026-11-01"} {
		e.want("GET", path+"?month="+bad, "", 400)
	}
	e.want("GET", "/operator/v1/apps/1400000099/mau", "", 404)
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	routes := [][2]string{
		{"POST", "/operator/v1/accounts"},
		{"GET", "/operator/v1/accounts/" + acc},
		{"POST", "/operator/v1/apps"},
		{"GET", "/operator/v1/apps?account=" + acc},
		{"GET", "/operator/v1/apps/1400000001"},
		{"DELETE", "/operator/v1/apps/1400000001?confirm=1400000001"},
		{"GET", "/operator/v1/apps/1400000001/mau"},
		{"GET", "/operator/v1/nothing-here"},
	}
	id := e.app(acc)
	for _, auth := range []string{
		"",
		"Bearer",
		"Bearer ",
		"Bearer wrong",
		"Bearer " + testToken[:63],
		"Bearer " + testToken + "0",
		"Basic " + testToken,
		testToken,
	} {
		for _, rt := range routes {
			body := ""
			if rt[0] == "POST" {
				body = `{"name":"Evil","email":"evil@example.com"}`
			}
			got, m := e.doAuth(rt[0], rt[1], body, auth)
			if got != 401 {
				t.Errorf("%s %s with Authorization %q: %d %v", rt[0], rt[1], auth, got, m)
			}
		}
	}
	// Nothing changed.
	e.want("GET", fmt.Sprintf("/operator/v1/apps/%d", id), "", 200)
	if apps := e.want("GET", "/operator/v1/apps?account="+acc, "", 200)["apps"].([]any); len(apps) != 1 {
		t.Fatalf("apps %v", apps)
	}
	// The scheme is case-insensitive.
	if got, m := e.doAuth("GET", "/operator/v1/accounts/"+acc, "", "bearer "+testToken); got != 200 {
		t.Fatalf("lower-case bearer scheme: %d %v", got, m)
	}

	// A handler configured without a token refuses everything.
	h := New(Config{Tenants: e.tenants, Gate: e.gate, Clock: e.clock})
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		req := httptest.NewRequest("GET", "/operator/v1/accounts/"+acc, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Fatalf("empty configured token, Authorization %q: %d", auth, rec.Code)
		}
	}
}

func TestMethodsAndUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/operator/v1/accounts", 405},
		{"PUT", "/operator/v1/accounts", 405},
		{"DELETE", "/operator/v1/accounts/acc_x", 405},
		{"PATCH", "/operator/v1/apps", 405},
		{"POST", "/operator/v1/apps/1400000001", 405},
		{"POST", "/operator/v1/apps/1400000001/mau", 405},
		{"GET", "/operator/v1/", 404},
		{"GET", "/operator/v1/users", 404},
		{"GET", "/operator/v1/apps/1/mau/extra", 404},
	} {
		got, m := e.do(tc.method, tc.path, "")
		if got != tc.status {
			t.Errorf("%s %s: %d, want %d (%v)", tc.method, tc.path, got, tc.status, m)
		}
	}
	req, _ := http.NewRequest("PUT", e.srv.URL+"/operator/v1/apps", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("405 Allow header %q", allow)
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	tok, path, created, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created || path != filepath.Join(dir, "operator.token") {
		t.Fatalf("created=%v path=%s", created, path)
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Fatalf("token %q is not 32 bytes of hex", tok)
	}
	raw, err := os.ReadFile(path)
	if err != nil || string(raw) != tok {
		t.Fatalf("file holds %q (%v), token %q", raw, err, tok)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
		}
		dst, _ := os.Stat(dir)
		if dst.Mode().Perm() != 0o700 {
			t.Fatalf("data dir mode %v, want 0700", dst.Mode().Perm())
		}
	}

	tok2, path2, created2, err := LoadOrCreateToken(dir)
	if err != nil || created2 || tok2 != tok || path2 != path {
		t.Fatalf("second call: %q %s created=%v err=%v", tok2, path2, created2, err)
	}

	// A token the operator edited (with a newline) is read back trimmed.
	if err := os.WriteFile(path, []byte("my-own-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok3, _, created3, err := LoadOrCreateToken(dir); err != nil || created3 || tok3 != "my-own-token" {
		t.Fatalf("edited token: %q created=%v err=%v", tok3, created3, err)
	}
	// An empty token file is an error, never an empty token.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if tok4, _, _, err := LoadOrCreateToken(dir); err == nil {
		t.Fatalf("empty token file gave token %q", tok4)
	}

	// Two data directories get different tokens.
	other, _, _, err := LoadOrCreateToken(t.TempDir())
	if err != nil || other == tok {
		t.Fatalf("second directory token %q err %v", other, err)
	}
}

func TestTokenWorksEndToEnd(t *testing.T) {
	dir := t.TempDir()
	tok, _, _, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := clock.NewManual(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC))
	h := New(Config{Tenants: &tenant.Service{Store: st, Clock: c}, Gate: &gate.Gate{MAU: st, Clock: c}, Clock: c, Token: tok})
	req := httptest.NewRequest("POST", "/operator/v1/accounts", bytes.NewBufferString(`{"name":"A","email":"a@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var a Account
	json.Unmarshal(rec.Body.Bytes(), &a)

	// A trial created on 31 January expires at the end of February (month-end rule).
	req = httptest.NewRequest("POST", "/operator/v1/apps", strings.NewReader(fmt.Sprintf(`{"account":%q,"name":"x"}`, a.ID)))
	req.Header.Set("Authorization", "Bearer "+tok)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var app App
	if err := json.Unmarshal(rec.Body.Bytes(), &app); err != nil || rec.Code != 201 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if app.ExpiresAt != "2026-02-28T12:00:00Z" {
		t.Fatalf("expires_at %s", app.ExpiresAt)
	}
}
