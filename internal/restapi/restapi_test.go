package restapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/restapi"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usage"
	"github.com/chatd/chatd/internal/usersig"
)

// ---------------------------------------------------------------------------
// In-process stack: sqlite store, tenants, gate, writer, messaging service, and the
// REST handler behind a real HTTP server.

// deliveries records what the bus hands to the gateway.
// deliveries is the env's delivery end: it records deliveries and reports the
// devices set by online.
type deliveries struct {
	mu      sync.Mutex
	ds      []bus.Delivery
	devices map[string][]bus.Device
}

func (d *deliveries) RemoteDevicesChanged(int64, string) {}

func (d *deliveries) Devices(_ int64, user string) []bus.Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.devices[user]
}

// online makes user's devices connected.
func (d *deliveries) online(user string, devices ...bus.Device) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.devices == nil {
		d.devices = map[string][]bus.Device{}
	}
	d.devices[user] = devices
}

func (d *deliveries) Deliver(ds []bus.Delivery) {
	d.mu.Lock()
	d.ds = append(d.ds, ds...)
	d.mu.Unlock()
}

func (d *deliveries) all() []bus.Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]bus.Delivery(nil), d.ds...)
}

type env struct {
	t       *testing.T
	st      sqlStore
	clock   *clock.Manual
	tenants *tenant.Service
	svc     *im.Service
	faults  *faultyStore // the messaging service's store
	reg     *prometheus.Registry
	bus     *deliveries
	srv     *httptest.Server
	a, b    store.App // two apps of one customer
	c       store.App // an app of another customer
	usage   *usage.Recorder
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "rest.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st)
}

// newEnvOn is newEnv on a given store (closed by the caller).
// sqlStore is a store with a SQL database underneath (the embedded store and
// the SQL stores), which some tests change directly.
type sqlStore interface {
	store.Store
	WriteDB() *sql.DB
}

func newEnvOn(t *testing.T, st sqlStore) *env {
	t.Helper()
	c := clock.NewManual(t0)
	ctx := context.Background()
	tenants := &tenant.Service{Store: st, Clock: c}
	acc, err := tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := tenants.CreateAccount(ctx, "Other", "ops@other.example", "")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, clock: c, tenants: tenants, reg: prometheus.NewRegistry(), bus: &deliveries{}}
	for _, x := range []struct {
		app *store.App
		acc string
	}{{&e.a, acc.ID}, {&e.b, acc.ID}, {&e.c, other.ID}} {
		if *x.app, err = tenants.CreateApp(ctx, x.acc, "app", ""); err != nil {
			t.Fatal(err)
		}
	}
	g := &gate.Gate{MAU: st, Clock: c}
	b := bus.NewLocal()
	b.Attach(e.bus)
	w := im.NewWriter(st, b, 256, nil)
	e.faults = &faultyStore{Store: st}
	e.svc = im.New(e.faults, c, g, w, b)
	e.usage = usage.New(st, c, nil)
	e.svc.SetUsage(e.usage)
	e.srv = httptest.NewServer(restapi.New(restapi.Config{
		Tenants: tenants, IM: e.svc, Clock: c, Registerer: e.reg, MaxBodyBytes: 64 << 10, Daily: e.usage,
	}))
	t.Cleanup(func() { e.srv.Close(); w.Close() })
	return e
}

const admin = "administrator"

func (e *env) sig(app store.App, identifier string) string {
	s, err := usersig.Gen(app.SDKAppID, app.SecretKey, identifier, 180*86400, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// query is the admin query string of app, as the dobyte SDK builds it.
func (e *env) query(app store.App) url.Values {
	return url.Values{
		"sdkappid":    {strconv.FormatInt(app.SDKAppID, 10)},
		"identifier":  {admin},
		"usersig":     {e.sig(app, admin)},
		"random":      {"1804289383"},
		"contenttype": {"json"},
	}
}

// reply is one decoded answer.
type reply struct {
	t      *testing.T
	status int
	raw    []byte
	m      map[string]any
}

func (r reply) code() int {
	n, err := r.m["ErrorCode"].(json.Number).Int64()
	if err != nil {
		r.t.Fatalf("ErrorCode is not a number in %s", r.raw)
	}
	return int(n)
}

func (r reply) info() string { s, _ := r.m["ErrorInfo"].(string); return s }

func (r reply) into(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.raw, v); err != nil {
		r.t.Fatalf("decoding %s: %v", r.raw, err)
	}
}

// keys returns the top-level field names of the answer.
func (r reply) keys() []string {
	var ks []string
	for k := range r.m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// wantOK fails unless the answer is a success with exactly the envelope and fields.
func (r reply) wantOK(fields ...string) reply {
	r.t.Helper()
	if r.code() != 0 || r.m["ActionStatus"] != "OK" || r.info() != "" {
		r.t.Fatalf("want success, got %s", r.raw)
	}
	want := append([]string{"ActionStatus", "ErrorCode", "ErrorDisplay", "ErrorInfo"}, fields...)
	sort.Strings(want)
	if got := r.keys(); !reflect.DeepEqual(got, want) {
		r.t.Fatalf("fields %v, want %v in %s", got, want, r.raw)
	}
	return r
}

// wantErr fails unless the answer is a FAIL envelope with code (and only the envelope).
func (r reply) wantErr(code int, infoContains ...string) reply {
	r.t.Helper()
	if r.code() != code || r.m["ActionStatus"] != "FAIL" {
		r.t.Fatalf("want FAIL %d, got %s", code, r.raw)
	}
	if got := r.keys(); !reflect.DeepEqual(got, []string{"ActionStatus", "ErrorCode", "ErrorDisplay", "ErrorInfo"}) {
		r.t.Fatalf("error answer has fields %v: %s", got, r.raw)
	}
	for _, s := range infoContains {
		if !strings.Contains(r.info(), s) {
			r.t.Fatalf("ErrorInfo %q does not mention %q", r.info(), s)
		}
	}
	return r
}

// send performs one HTTP request; body is sent as is.
func (e *env) send(method, rawURL, contentType string, body []byte) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("HTTP status %d (always 200 in the reference): %s", resp.StatusCode, raw)
	}
	r := reply{t: e.t, status: resp.StatusCode, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.m); err != nil {
		e.t.Fatalf("answer is not a JSON object: %s", raw)
	}
	return r
}

func (e *env) url(path string, q url.Values) string {
	return e.srv.URL + "/v4/" + path + "?" + q.Encode()
}

func body(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// call is an admin call to app A.
func (e *env) call(path string, req any) reply {
	e.t.Helper()
	return e.callApp(e.a, path, req)
}

func (e *env) callApp(app store.App, path string, req any) reply {
	e.t.Helper()
	return e.send(http.MethodPost, e.url(path, e.query(app)), "application/json", body(req))
}

type M = map[string]any

var hello = []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": "hello"}}}

func (e *env) importUsers(app store.App, ids ...string) {
	e.t.Helper()
	e.callApp(app, "im_open_login_svc/multiaccount_import", M{"Accounts": ids}).wantOK("FailAccounts")
}

// imported reports, per id, whether account_check says Imported in app.
func (e *env) imported(app store.App, ids ...string) map[string]bool {
	e.t.Helper()
	items := make([]M, len(ids))
	for i, id := range ids {
		items[i] = M{"UserID": id}
	}
	var out struct {
		ResultItem []struct {
			UserID        string
			AccountStatus string
		}
	}
	e.callApp(app, "im_open_login_svc/account_check", M{"CheckItem": items}).wantOK("ResultItem").into(&out)
	got := map[string]bool{}
	for _, it := range out.ResultItem {
		got[it.UserID] = it.AccountStatus == "Imported"
	}
	return got
}

// lastSeq is the position of user's sync log in app: it moves for every stored entry.
func (e *env) lastSeq(app store.App, user string) int64 {
	e.t.Helper()
	n, err := e.st.LastSeq(context.Background(), app.SDKAppID, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

type roamPage struct {
	Complete    int
	MsgCnt      int
	LastMsgTime int64
	LastMsgKey  string
	MsgList     []struct {
		From_Account    string
		To_Account      string
		MsgSeq          int64
		MsgRandom       uint32
		MsgTimeStamp    int64
		MsgFlagBits     int
		IsPeerRead      int
		MsgKey          string
		MsgBody         json.RawMessage
		CloudCustomData string
	}
}

func (e *env) roam(app store.App, req M) roamPage {
	e.t.Helper()
	var p roamPage
	e.callApp(app, "openim/admin_getroammsg", req).
		wantOK("Complete", "MsgCnt", "LastMsgTime", "LastMsgKey", "MsgList").into(&p)
	return p
}

// ---------------------------------------------------------------------------
// Accounts

func TestAccountImport(t *testing.T) {
	e := newEnv(t)
	e.call("im_open_login_svc/account_import", M{"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://x/a.png"}).wantOK()
	// Older SDKs (dobyte, xjcloudy) send Identifier.
	e.call("im_open_login_svc/account_import", M{"Identifier": "bob", "Nick": "Bob"}).wantOK()
	if got := e.imported(e.a, "alice", "bob", "carol"); !got["alice"] || !got["bob"] || got["carol"] {
		t.Fatalf("imported = %v", got)
	}
	var out struct {
		UserProfileItem []struct {
			To_Account  string
			ProfileItem []struct {
				Tag   string
				Value any
			}
		}
	}
	e.call("profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_IM_Nick", "Tag_Profile_IM_Image"}}).
		wantOK("UserProfileItem", "Fail_Account").into(&out)
	items := out.UserProfileItem[0].ProfileItem
	if len(items) != 2 || items[0].Value != "Alice" || items[1].Value != "https://x/a.png" {
		t.Fatalf("profile after import = %+v", items)
	}

	// Bad input changes nothing.
	e.call("im_open_login_svc/account_import", M{"Nick": "nobody"}).wantErr(70402, "UserID")
	e.call("im_open_login_svc/account_import", M{"UserID": strings.Repeat("x", 33)}).wantErr(70402)
	e.call("im_open_login_svc/account_import", M{"UserID": 42}).wantErr(60015, "UserID")
	if got := e.imported(e.a, strings.Repeat("x", 33)); got[strings.Repeat("x", 33)] {
		t.Fatal("a refused import created the account")
	}
}

func TestMultiAccountImport(t *testing.T) {
	e := newEnv(t)
	var out struct{ FailAccounts []string }
	e.call("im_open_login_svc/multiaccount_import", M{"Accounts": []string{"a1", "a2"}}).wantOK("FailAccounts").into(&out)
	if out.FailAccounts == nil || len(out.FailAccounts) != 0 {
		t.Fatalf("FailAccounts = %#v, want []", out.FailAccounts)
	}
	long := strings.Repeat("z", 33)
	e.call("im_open_login_svc/multiaccount_import", M{"AccountList": []M{
		{"UserID": "a3", "Nick": "Three", "FaceUrl": "https://x/3.png"}, {"UserID": long},
	}}).wantOK("FailAccounts").into(&out)
	if !reflect.DeepEqual(out.FailAccounts, []string{long}) {
		t.Fatalf("FailAccounts = %v, want [%s]", out.FailAccounts, long)
	}
	got := e.imported(e.a, "a1", "a2", "a3", long)
	if !got["a1"] || !got["a2"] || !got["a3"] || got[long] {
		t.Fatalf("imported = %v", got)
	}

	// Over the batch limit: refused as a whole, nothing imported.
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("m%d", i))
	}
	e.call("im_open_login_svc/multiaccount_import", M{"Accounts": many}).wantErr(70206)
	e.call("im_open_login_svc/multiaccount_import", M{}).wantErr(70206)
	if e.imported(e.a, "m0")["m0"] {
		t.Fatal("a refused batch imported an account")
	}
}

func TestAccountDeleteAndCheck(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var chk struct {
		ResultItem []M
	}
	e.call("im_open_login_svc/account_check", M{"CheckItem": []M{{"UserID": "alice"}, {"UserID": "ghost"}}}).
		wantOK("ResultItem").into(&chk)
	want := []M{
		{"UserID": "alice", "ResultCode": 0.0, "ResultInfo": "", "AccountStatus": "Imported"},
		{"UserID": "ghost", "ResultCode": 0.0, "ResultInfo": "", "AccountStatus": "NotImported"},
	}
	if !reflect.DeepEqual(chk.ResultItem, want) {
		t.Fatalf("account_check ResultItem = %v, want %v", chk.ResultItem, want)
	}
	// A malformed UserID fails its own item only.
	long := strings.Repeat("l", 33)
	e.call("im_open_login_svc/account_check", M{"CheckItem": []M{{"UserID": long}, {"UserID": "bob"}}}).
		wantOK("ResultItem").into(&chk)
	if chk.ResultItem[0]["ResultCode"] != 70402.0 || chk.ResultItem[0]["AccountStatus"] != "NotImported" ||
		!strings.Contains(chk.ResultItem[0]["ResultInfo"].(string), "longer than 32") || chk.ResultItem[1]["AccountStatus"] != "Imported" {
		t.Fatalf("account_check with a malformed UserID = %v", chk.ResultItem)
	}

	var del struct{ ResultItem []M }
	e.call("im_open_login_svc/account_delete", M{"DeleteItem": []M{{"UserID": "alice"}, {"UserID": "ghost"}}}).
		wantOK("ResultItem").into(&del)
	want = []M{
		{"ResultCode": 0.0, "ResultInfo": "", "UserID": "alice"},
		{"ResultCode": 70107.0, "ResultInfo": "Err_TLS_PT_Open_Login_Account_Not_Exist", "UserID": "ghost"},
	}
	if !reflect.DeepEqual(del.ResultItem, want) {
		t.Fatalf("account_delete ResultItem = %v, want %v", del.ResultItem, want)
	}
	if got := e.imported(e.a, "alice", "bob"); got["alice"] || !got["bob"] {
		t.Fatalf("after delete: %v", got)
	}
	e.call("im_open_login_svc/account_delete", M{"DeleteItem": []M{}}).wantErr(70206)
	e.call("im_open_login_svc/account_delete", M{"DeleteItem": []M{{"UserID": 7}}}).wantErr(60015, "DeleteItem.UserID")
	e.call("im_open_login_svc/account_check", M{"CheckItem": "alice"}).wantErr(70402, "CheckItem")
}

func TestKick(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.call("im_open_login_svc/kick", M{"UserID": "alice"}).wantOK()
	e.call("im_open_login_svc/kick", M{"Identifier": "alice"}).wantOK() // dobyte's spelling
	e.call("im_open_login_svc/kick", M{"UserID": "ghost"}).wantErr(70107)
	e.call("im_open_login_svc/kick", M{}).wantErr(70402)
}

func TestQueryOnlineStatus(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.bus.online("alice", bus.Device{Platform: "iPhone", ConnID: "c1"}, bus.Device{Platform: "Web", ConnID: "c2"})

	type result struct {
		QueryResult []M
		ErrorList   []M
	}
	for _, path := range []string{"openim/query_online_status", "openim/querystate"} {
		var out result
		e.call(path, M{"To_Account": []string{"alice", "bob", "ghost"}}).wantOK("QueryResult", "ErrorList").into(&out)
		want := result{
			QueryResult: []M{
				{"To_Account": "alice", "Status": "Online", "State": "Online"},
				{"To_Account": "bob", "Status": "Offline", "State": "Offline"},
			},
			ErrorList: []M{{"To_Account": "ghost", "ErrorCode": 70107.0}},
		}
		if !reflect.DeepEqual(out, want) {
			t.Fatalf("%s = %+v, want %+v", path, out, want)
		}
	}
	var out result
	e.call("openim/query_online_status", M{"To_Account": []string{"alice", "bob"}, "IsNeedDetail": 1}).
		wantOK("QueryResult", "ErrorList").into(&out)
	wantDetail := []any{M{"Platform": "iPhone", "Status": "Online"}, M{"Platform": "Web", "Status": "Online"}}
	if !reflect.DeepEqual(out.QueryResult[0]["Detail"], wantDetail) || out.QueryResult[1]["Detail"] != nil {
		t.Fatalf("details = %+v", out.QueryResult)
	}

	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	e.call("openim/query_online_status", M{"To_Account": many}).wantErr(70206)
	e.call("openim/query_online_status", M{}).wantErr(70402)
	e.call("openim/querystate", M{"To_Account": "alice"}).wantErr(60015, "To_Account")
}

// ---------------------------------------------------------------------------
// One-to-one messages

func TestSendMsg(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var out struct {
		MsgTime int64
		MsgKey  string
		MsgId   string
	}
	e.call("openim/sendmsg", M{"SyncOtherMachine": 1, "From_Account": "alice", "To_Account": "bob",
		"MsgLifeTime": 604800, "MsgRandom": 1287657, "MsgBody": hello, "CloudCustomData": "cc",
		"OfflinePushInfo": M{"PushFlag": 0}, "MsgSeq": 93847636}).
		wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
	if out.MsgTime != t0.Unix() || out.MsgId != out.MsgKey || !wellFormedMsgKey(out.MsgKey) ||
		!strings.Contains(out.MsgKey, "_1287657_") {
		t.Fatalf("sendmsg answer = %+v", out)
	}
	for _, owner := range []string{"alice", "bob"} {
		p := e.roam(e.a, M{"Operator_Account": owner, "Peer_Account": map[string]string{"alice": "bob", "bob": "alice"}[owner], "MaxCnt": 10})
		if p.MsgCnt != 1 || p.MsgList[0].MsgKey != out.MsgKey || p.MsgList[0].CloudCustomData != "cc" ||
			p.MsgList[0].From_Account != "alice" || p.MsgList[0].To_Account != "bob" {
			t.Fatalf("%s's history = %+v", owner, p)
		}
	}

	// From the admin (no From_Account), without the sender's copy (SyncOtherMachine 2).
	e.call("openim/sendmsg", M{"To_Account": "bob", "MsgRandom": 5, "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
	if p := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": admin, "MaxCnt": 10}); p.MsgCnt != 1 || p.MsgList[0].From_Account != admin {
		t.Fatalf("admin's message in bob's history = %+v", p)
	}
	e.call("openim/sendmsg", M{"SyncOtherMachine": 2, "From_Account": "bob", "To_Account": "alice", "MsgRandom": 6, "MsgBody": hello}).
		wantOK("MsgTime", "MsgKey", "MsgId")
	if p := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 10}); p.MsgCnt != 1 {
		t.Fatalf("SyncOtherMachine 2 kept the sender's copy: %+v", p)
	}
	if p := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10}); p.MsgCnt != 2 {
		t.Fatalf("receiver misses the SyncOtherMachine 2 message: %+v", p)
	}

	// Errors store nothing.
	seq := e.lastSeq(e.a, "bob")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "ghost", "MsgBody": hello}).wantErr(90012)
	e.call("openim/sendmsg", M{"From_Account": "ghost", "To_Account": "bob", "MsgBody": hello}).wantErr(20003)
	e.call("openim/sendmsg", M{"From_Account": "alice", "MsgBody": hello}).wantErr(90003, "To_Account")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "SyncOtherMachine": 3, "MsgBody": hello}).wantErr(90031)
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "SyncOtherMachine": "1", "MsgBody": hello}).wantErr(90031, "SyncOtherMachine")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": "x", "MsgBody": hello}).wantErr(90044, "MsgLifeTime")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": -1, "MsgBody": hello}).wantErr(90005, "MsgRandom")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": "12", "MsgBody": hello}).wantErr(90005, "MsgRandom")
	if got := e.lastSeq(e.a, "bob"); got != seq {
		t.Fatalf("refused sends moved bob's log from %d to %d", seq, got)
	}
}

func TestSendMsgIdempotent(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	send := func(random uint32) string {
		var out struct{ MsgKey string }
		e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": random, "MsgBody": hello}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		return out.MsgKey
	}
	first := send(777)
	e.clock.Advance(3 * time.Second) // a retry comes later
	if again := send(777); again != first {
		t.Fatalf("retry got MsgKey %s, first was %s", again, first)
	}
	if a, b := e.lastSeq(e.a, "alice"), e.lastSeq(e.a, "bob"); a != 1 || b != 1 {
		t.Fatalf("after a retry: alice's log at %d, bob's at %d; want one message each", a, b)
	}
	if other := send(778); other == first {
		t.Fatal("another MsgRandom reused the MsgKey")
	}
	// MsgRandom 0 means "none": no deduplication.
	if send(0) == send(0) {
		t.Fatal("two sends without MsgRandom got one MsgKey")
	}
	// A different message whose MsgRandom collides with an earlier one is stored.
	var other struct{ MsgKey string }
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 777,
		"MsgBody": []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": "something else"}}}}).wantOK("MsgTime", "MsgKey", "MsgId").into(&other)
	if other.MsgKey == first {
		t.Fatal("a different message with a colliding MsgRandom was taken for a retry")
	}
	if p := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 100}); p.MsgCnt != 5 {
		t.Fatalf("bob has %d messages, want 5", p.MsgCnt)
	}
	// The same MsgRandom to another receiver is another message.
	e.importUsers(e.a, "carol")
	var out struct{ MsgKey string }
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "carol", "MsgRandom": 777, "MsgBody": hello}).
		wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
	if out.MsgKey == first || e.lastSeq(e.a, "carol") != 1 {
		t.Fatalf("MsgRandom 777 to carol was taken for the one to bob (%s)", out.MsgKey)
	}
}

func TestBatchSendMsg(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol")
	type result struct {
		MsgKey    string
		MsgId     string
		ErrorList []M
	}
	var out result
	req := M{"From_Account": "alice", "To_Account": []string{"bob", "ghost", "carol"}, "MsgRandom": 99, "MsgBody": hello}
	e.call("openim/batchsendmsg", req).wantOK("MsgKey", "MsgId", "ErrorList").into(&out)
	if out.MsgKey == "" || out.MsgId != out.MsgKey ||
		!reflect.DeepEqual(out.ErrorList, []M{{"To_Account": "ghost", "ErrorCode": 90012.0}}) {
		t.Fatalf("batchsendmsg = %+v", out)
	}
	if e.lastSeq(e.a, "bob") != 1 || e.lastSeq(e.a, "carol") != 1 || e.lastSeq(e.a, "alice") != 2 {
		t.Fatal("batchsendmsg did not store one message per receiver")
	}
	// A retry with the same MsgRandom stores nothing again.
	var again result
	e.call("openim/batchsendmsg", req).wantOK("MsgKey", "MsgId", "ErrorList").into(&again)
	if e.lastSeq(e.a, "bob") != 1 || e.lastSeq(e.a, "carol") != 1 || e.lastSeq(e.a, "alice") != 2 {
		t.Fatal("a retried batchsendmsg stored the messages twice")
	}

	many := make([]string, 501)
	for i := range many {
		many[i] = "bob"
	}
	e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": many, "MsgBody": hello}).wantErr(90011)
	e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{}, "MsgBody": hello}).wantErr(90011)
	e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantErr(90003, "To_Account")
	e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob"}, "MsgBody": "hi"}).wantErr(90007)
	if e.lastSeq(e.a, "bob") != 1 {
		t.Fatal("a refused batchsendmsg stored a message")
	}
}

func TestImportMsg(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	past := t0.Add(-48 * time.Hour).Unix()
	req := M{"SyncFromOldSystem": 2, "From_Account": "alice", "To_Account": "bob", "MsgRandom": 1234,
		"MsgTimeStamp": past, "MsgBody": hello, "CloudCustomData": "old"}
	e.call("openim/importmsg", req).wantOK()
	e.call("openim/importmsg", req).wantOK() // a retried import stores nothing twice
	for _, owner := range []string{"alice", "bob"} {
		peer := map[string]string{"alice": "bob", "bob": "alice"}[owner]
		p := e.roam(e.a, M{"Operator_Account": owner, "Peer_Account": peer, "MaxCnt": 10})
		if p.MsgCnt != 1 || p.MsgList[0].MsgTimeStamp != past || p.MsgList[0].MsgRandom != 1234 || p.MsgList[0].CloudCustomData != "old" {
			t.Fatalf("%s's history after import = %+v", owner, p)
		}
	}
	var unread struct{ AllC2CUnreadMsgNum int }
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "bob"}).wantOK("AllC2CUnreadMsgNum", "C2CUnreadMsgNumList", "ErrorList").into(&unread)
	if unread.AllC2CUnreadMsgNum != 0 {
		t.Fatalf("an imported message is unread: %d", unread.AllC2CUnreadMsgNum)
	}
	seq := e.lastSeq(e.a, "bob")
	e.call("openim/importmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": hello}).wantErr(90006, "MsgTimeStamp")
	e.call("openim/importmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgTimeStamp": "yesterday", "MsgBody": hello}).wantErr(90006)
	e.call("openim/importmsg", M{"From_Account": "alice", "MsgTimeStamp": past, "MsgBody": hello}).wantErr(90003)
	if e.lastSeq(e.a, "bob") != seq {
		t.Fatal("a refused import stored a message")
	}
}

func TestAdminGetRoamMsg(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var keys []string
	for i, from := range []string{"alice", "bob", "alice"} {
		to := map[string]string{"alice": "bob", "bob": "alice"}[from]
		var out struct{ MsgKey string }
		e.call("openim/sendmsg", M{"From_Account": from, "To_Account": to, "MsgRandom": 100 + i, "MsgBody": hello}).
			wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
		keys = append(keys, out.MsgKey)
		e.clock.Advance(10 * time.Second)
	}
	first := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 2, "MinTime": 0, "MaxTime": e.clock.Now().Unix()})
	if first.Complete != 0 || first.MsgCnt != 2 || first.MsgList[0].MsgKey != keys[2] || first.MsgList[1].MsgKey != keys[1] ||
		first.LastMsgKey != keys[1] || first.LastMsgTime != t0.Unix()+10 {
		t.Fatalf("first page = %+v", first)
	}
	m := first.MsgList[0]
	if m.From_Account != "alice" || m.To_Account != "bob" || m.MsgRandom != 102 || m.MsgTimeStamp != t0.Unix()+20 ||
		m.MsgFlagBits != 0 || m.IsPeerRead != 0 || m.MsgSeq == 0 || string(m.MsgBody) != string(body(hello)) {
		t.Fatalf("message = %+v", m)
	}
	// dobyte continues with From_Account/To_Account, MaxTime = LastMsgTime and LastMsgKey.
	next := e.roam(e.a, M{"From_Account": "alice", "To_Account": "bob", "MaxCnt": 2, "MinTime": 0,
		"MaxTime": first.LastMsgTime, "LastMsgKey": first.LastMsgKey})
	if next.Complete != 1 || next.MsgCnt != 1 || next.MsgList[0].MsgKey != keys[0] || next.LastMsgKey != keys[0] {
		t.Fatalf("second page = %+v", next)
	}
	// Time window.
	if p := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10, "MinTime": t0.Unix() + 5, "MaxTime": t0.Unix() + 15}); p.MsgCnt != 1 || p.MsgList[0].MsgKey != keys[1] {
		t.Fatalf("window page = %+v", p)
	}
	// Read by the peer, and recalled.
	e.call("openim/admin_set_msg_read", M{"Report_Account": "bob", "Peer_Account": "alice", "MsgReadTime": t0.Unix() + 5}).wantOK()
	e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": keys[2]}).wantOK()
	all := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10})
	flags := map[string][2]int{}
	for _, m := range all.MsgList {
		flags[m.MsgKey] = [2]int{m.MsgFlagBits, m.IsPeerRead}
	}
	want := map[string][2]int{keys[0]: {0, 1}, keys[1]: {0, 0}, keys[2]: {8, 0}}
	if !reflect.DeepEqual(flags, want) {
		t.Fatalf("MsgFlagBits/IsPeerRead = %v, want %v", flags, want)
	}
	e.call("openim/admin_getroammsg", M{"Operator_Account": "alice", "MaxCnt": 10}).wantErr(70402)
	e.call("openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": "10"}).wantErr(90001, "MaxCnt")
	e.call("openim/admin_getroammsg", M{"Operator_Account": "alice", "Peer_Account": "bob", "LastMsgKey": "1_2_3"}).wantErr(70402, "LastMsgKey")
}

func TestAdminMsgWithdraw(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var out struct{ MsgKey string }
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId").into(&out)
	e.clock.Advance(time.Hour) // the admin recalls at any time
	e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": out.MsgKey}).wantOK()
	if p := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 10}); p.MsgList[0].MsgFlagBits != 8 ||
		string(p.MsgList[0].MsgBody) != "[]" {
		t.Fatalf("recalled message not flagged, or its body still handed out: %+v", p)
	}
	e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob", "MsgKey": "1_2_3"}).wantErr(90004)
	e.call("openim/admin_msgwithdraw", M{"From_Account": "alice", "To_Account": "bob"}).wantErr(70402, "MsgKey")
}

func TestUnreadAndSetMsgRead(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol")
	for _, from := range []string{"alice", "alice", "carol"} {
		e.call("openim/sendmsg", M{"From_Account": from, "To_Account": "bob", "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
	}
	type result struct {
		AllC2CUnreadMsgNum  int
		C2CUnreadMsgNumList []M
		ErrorList           []M
	}
	var out result
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "bob"}).
		wantOK("AllC2CUnreadMsgNum", "C2CUnreadMsgNumList", "ErrorList").into(&out)
	want := result{3, []M{{"Peer_Account": "alice", "C2CUnreadMsgNum": 2.0}, {"Peer_Account": "carol", "C2CUnreadMsgNum": 1.0}}, []M{}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("unread = %+v, want %+v", out, want)
	}
	bad := strings.Repeat("q", 40)
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "bob", "Peer_Account": []string{"alice", bad, "ghost"}}).
		wantOK("AllC2CUnreadMsgNum", "C2CUnreadMsgNumList", "ErrorList").into(&out)
	want = result{3, []M{{"Peer_Account": "alice", "C2CUnreadMsgNum": 2.0}},
		[]M{{"Peer_Account": bad, "ErrorCode": 70402.0}, {"Peer_Account": "ghost", "ErrorCode": 70107.0}}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("unread with peers = %+v, want %+v", out, want)
	}

	e.call("openim/admin_set_msg_read", M{"Report_Account": "bob", "Peer_Account": "alice"}).wantOK()
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "bob", "Peer_Account": []string{"alice", "carol"}}).
		wantOK("AllC2CUnreadMsgNum", "C2CUnreadMsgNumList", "ErrorList").into(&out)
	want = result{1, []M{{"Peer_Account": "alice", "C2CUnreadMsgNum": 0.0}, {"Peer_Account": "carol", "C2CUnreadMsgNum": 1.0}}, []M{}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("unread after read = %+v, want %+v", out, want)
	}
	e.call("openim/admin_set_msg_read", M{"Report_Account": "bob", "Peer_Account": "ghost"}).wantErr(70107)
	e.call("openim/admin_set_msg_read", M{"Report_Account": "bob"}).wantErr(70402)
	e.call("openim/admin_set_msg_read", M{"Report_Account": "bob", "Peer_Account": "carol", "MsgReadTime": "now"}).wantErr(90001, "MsgReadTime")
	e.call("openim/get_c2c_unread_msg_num", M{}).wantErr(90003)
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "ghost"}).wantErr(70107)
}

// The reference lists a conversation newest first by message time, and the SDKs page
// with MaxTime = LastMsgTime and LastMsgKey; an imported message carries its own (older)
// time although it is written later.
func TestAdminGetRoamMsgOrderWithImport(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	var sent struct{ MsgKey string }
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": hello}).
		wantOK("MsgTime", "MsgKey", "MsgId").into(&sent)
	e.clock.Advance(time.Second)
	e.call("openim/importmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 2,
		"MsgTimeStamp": t0.Unix() - 600, "MsgBody": hello}).wantOK()
	all := e.roam(e.a, M{"From_Account": "alice", "To_Account": "bob", "MaxCnt": 10, "MinTime": t0.Unix() - 3600, "MaxTime": t0.Unix() + 60})
	if all.MsgCnt != 2 {
		t.Fatalf("history = %+v", all)
	}
	var paged []string
	req := M{"From_Account": "alice", "To_Account": "bob", "MaxCnt": 1, "MinTime": t0.Unix() - 3600, "MaxTime": t0.Unix() + 60}
	for range 5 {
		p := e.roam(e.a, req)
		for _, m := range p.MsgList {
			paged = append(paged, m.MsgKey)
		}
		if p.Complete == 1 {
			break
		}
		req["MaxTime"], req["LastMsgKey"] = p.LastMsgTime, p.LastMsgKey
	}
	if all.MsgList[0].MsgKey != sent.MsgKey || len(paged) != 2 || paged[0] != sent.MsgKey {
		t.Fatalf("history must be newest first by message time: an imported older message is listed "+
			"as %v, and paging with MaxTime=LastMsgTime gives %v", keysOf(all), paged)
	}
}

// batchsendmsg returns one MsgKey; the reference (and the dobyte SDK's documentation)
// lets the caller recall the message of every receiver with it.
func TestBatchSendMsgOneMsgKey(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "carol", "alice", "bob")
	var out struct{ MsgKey string }
	e.call("openim/batchsendmsg", M{"From_Account": "carol", "To_Account": []string{"alice", "bob"}, "MsgRandom": 3, "MsgBody": hello}).
		wantOK("MsgKey", "MsgId", "ErrorList").into(&out)
	var stored []string
	for _, u := range []string{"alice", "bob"} {
		p := e.roam(e.a, M{"Operator_Account": u, "Peer_Account": "carol", "MaxCnt": 10})
		stored = append(stored, keysOf(p)...)
	}
	if stored[0] != out.MsgKey || stored[1] != out.MsgKey {
		t.Fatalf("batchsendmsg returned %s, but the receivers store %v: every copy must carry the returned key", out.MsgKey, stored)
	}
	for _, u := range []string{"alice", "bob"} {
		e.call("openim/admin_msgwithdraw", M{"From_Account": "carol", "To_Account": u, "MsgKey": out.MsgKey}).wantOK()
	}
}

func keysOf(p roamPage) []string {
	var ks []string
	for _, m := range p.MsgList {
		ks = append(ks, m.MsgKey)
	}
	return ks
}

// ---------------------------------------------------------------------------
// Profiles

func TestPortrait(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.declare(e.a, "Hobby", "string", 0)
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{
		{"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"},
		{"Tag": "Tag_Profile_IM_Gender", "Value": "Gender_Type_Female"},
		{"Tag": "Tag_Profile_IM_Level", "Value": 7},
		{"Tag": "Tag_Profile_Custom_Hobby", "Value": "chess"},
	}}).wantOK()

	var out struct {
		UserProfileItem []struct {
			To_Account  string
			ProfileItem []struct {
				Tag   string
				Value json.RawMessage
			}
			ResultCode int
			ResultInfo string
		}
		Fail_Account []string
	}
	e.call("profile/portrait_get", M{"To_Account": []string{"alice", "ghost"},
		"TagList": []string{"Tag_Profile_IM_Nick", "Tag_Profile_IM_Level", "Tag_Profile_Custom_Hobby", "Tag_Profile_IM_Location"}}).
		wantOK("UserProfileItem", "Fail_Account").into(&out)
	if len(out.UserProfileItem) != 2 || !reflect.DeepEqual(out.Fail_Account, []string{"ghost"}) {
		t.Fatalf("portrait_get = %+v", out)
	}
	a := out.UserProfileItem[0]
	got := map[string]string{}
	for _, it := range a.ProfileItem {
		got[it.Tag] = string(it.Value)
	}
	want := map[string]string{"Tag_Profile_IM_Nick": `"Alice"`, "Tag_Profile_IM_Level": `7`, "Tag_Profile_Custom_Hobby": `"chess"`}
	if a.To_Account != "alice" || a.ResultCode != 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("alice's profile = %+v", a)
	}
	if g := out.UserProfileItem[1]; g.To_Account != "ghost" || g.ResultCode != 40003 || len(g.ProfileItem) != 0 {
		t.Fatalf("ghost's profile = %+v", g)
	}

	// Bad input changes nothing.
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{
		{"Tag": "Tag_Profile_IM_Nick", "Value": "Mallory"}, {"Tag": "Tag_Profile_IM_Gender", "Value": "Robot"},
	}}).wantErr(40605)
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Nope", "Value": "x"}}}).wantErr(40009)
	e.call("profile/portrait_set", M{"From_Account": "ghost", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "x"}}}).wantErr(40003)
	e.call("profile/portrait_set", M{"ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "x"}}}).wantErr(40001, "From_Account")
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": M{"Tag": "x"}}).wantErr(40001, "ProfileItem")
	e.call("profile/portrait_get", M{"To_Account": []string{"alice"}}).wantErr(40001)
	e.call("profile/portrait_set", "{").wantErr(60003)
	e.call("profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_IM_Nick"}}).
		wantOK("UserProfileItem", "Fail_Account").into(&out)
	if v := string(out.UserProfileItem[0].ProfileItem[0].Value); v != `"Alice"` {
		t.Fatalf("a refused portrait_set changed the nick to %s", v)
	}
}

// ---------------------------------------------------------------------------
// Transport: envelope, leniency, authentication, limits

func TestLenientTransport(t *testing.T) {
	e := newEnv(t)
	q := e.query(e.a)
	imp := func(u string, r reply) {
		t.Helper()
		r.wantOK()
		if !e.imported(e.a, u)[u] {
			t.Fatalf("%s was not imported", u)
		}
	}
	// text/plain (xjcloudy), no Content-Type at all.
	imp("u1", e.send("POST", e.url("im_open_login_svc/account_import", q), "text/plain", body(M{"UserID": "u1"})))
	imp("u2", e.send("POST", e.url("im_open_login_svc/account_import", q), "", body(M{"UserID": "u2"})))
	// No random and no contenttype.
	q2 := e.query(e.a)
	q2.Del("random")
	q2.Del("contenttype")
	imp("u3", e.send("POST", e.url("im_open_login_svc/account_import", q2), "application/json", body(M{"UserID": "u3"})))

	// The sig percent-encoded ('*' as %2A, as url.Values.Encode does) and raw.
	sig := e.sig(e.a, admin)
	for strings.Count(sig, "*") == 0 { // make sure the sig has a '*' to encode
		e.clock.Advance(time.Second)
		sig = e.sig(e.a, admin)
	}
	enc := e.srv.URL + "/v4/im_open_login_svc/account_import?sdkappid=" + strconv.FormatInt(e.a.SDKAppID, 10) +
		"&identifier=" + admin + "&usersig=" + strings.ReplaceAll(url.QueryEscape(sig), "*", "%2A") + "&random=1&contenttype=json"
	if !strings.Contains(enc, "%2A") {
		t.Fatal("test sig has no encoded '*'")
	}
	imp("u4", e.send("POST", enc, "application/json", body(M{"UserID": "u4"})))
	rawURL := e.srv.URL + "/v4/im_open_login_svc/account_import?sdkappid=" + strconv.FormatInt(e.a.SDKAppID, 10) +
		"&identifier=" + admin + "&usersig=" + sig + "&random=1&contenttype=json"
	imp("u5", e.send("POST", rawURL, "application/json", body(M{"UserID": "u5"})))

	// Unknown fields and nulls are ignored; an empty body is {}.
	imp("u6", e.call("im_open_login_svc/account_import", `{"UserID":"u6","Nick":null,"Unknown":{"a":[1,2]}}`))
	e.call("im_open_login_svc/account_check", "").wantErr(70206) // {}: no accounts listed
	e.call("im_open_login_svc/account_check", "  \n").wantErr(70206)
}

func TestAuthErrors(t *testing.T) {
	e := newEnv(t)
	a := e.a
	id := strconv.FormatInt(a.SDKAppID, 10)
	expired, err := usersig.Gen(a.SDKAppID, a.SecretKey, admin, 60, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := usersig.Gen(a.SDKAppID, strings.Repeat("0", 64), admin, 3600, t0)
	bKeyOnA, _ := usersig.Gen(a.SDKAppID, e.b.SecretKey, admin, 3600, t0)
	deleted, err := e.tenants.CreateApp(context.Background(), a.AccountID, "gone", "")
	if err != nil {
		t.Fatal(err)
	}
	deletedSig := e.sig(deleted, admin)
	if err := e.tenants.DeleteApp(context.Background(), deleted.SDKAppID, deleted.SDKAppID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query string
		code  int
	}{
		{"missing sdkappid", "identifier=administrator&usersig=" + e.sig(a, admin), 60012},
		{"empty sdkappid", "sdkappid=&identifier=administrator&usersig=" + e.sig(a, admin), 60012},
		{"sdkappid not a number", "sdkappid=abc&identifier=administrator&usersig=" + e.sig(a, admin), 60006},
		{"sdkappid negative", "sdkappid=-5&identifier=administrator&usersig=" + e.sig(a, admin), 60006},
		{"parameter names are case-sensitive", "SdkAppID=" + id + "&identifier=administrator&usersig=" + e.sig(a, admin), 60012},
		{"unknown app", "sdkappid=1499999999&identifier=administrator&usersig=" + e.sig(a, admin), 70020},
		{"deleted app", "sdkappid=" + strconv.FormatInt(deleted.SDKAppID, 10) + "&identifier=administrator&usersig=" + deletedSig, 70020},
		{"no usersig", "sdkappid=" + id + "&identifier=administrator", 70002},
		{"garbage usersig", "sdkappid=" + id + "&identifier=administrator&usersig=notasig", 70003},
		{"expired usersig", "sdkappid=" + id + "&identifier=administrator&usersig=" + expired, 70001},
		{"forged usersig (other key)", "sdkappid=" + id + "&identifier=administrator&usersig=" + forged, 70009},
		{"sig of app B's admin on app A", "sdkappid=" + id + "&identifier=administrator&usersig=" + e.sig(e.b, admin), 70014},
		{"app B's key with app A's id", "sdkappid=" + id + "&identifier=administrator&usersig=" + bKeyOnA, 70009},
		{"sig of another customer's app", "sdkappid=" + id + "&identifier=administrator&usersig=" + e.sig(e.c, admin), 70014},
		{"identifier differs from the sig's", "sdkappid=" + id + "&identifier=alice&usersig=" + e.sig(a, admin), 70013},
		{"valid sig of a non-admin user", "sdkappid=" + id + "&identifier=alice&usersig=" + e.sig(a, "alice"), 60010},
		{"missing identifier", "sdkappid=" + id + "&usersig=" + e.sig(a, admin), 70013},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.send("POST", e.srv.URL+"/v4/im_open_login_svc/account_import?"+tt.query, "application/json",
				body(M{"UserID": "intruder"}))
			r.wantErr(tt.code)
			if e.imported(a, "intruder")["intruder"] {
				t.Fatal("a refused call imported the account")
			}
		})
	}
}

func TestTenantBoundary(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantOK("MsgTime", "MsgKey", "MsgId")
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "A"}}}).wantOK()

	for _, other := range []store.App{e.b, e.c} {
		if got := e.imported(other, "alice", "bob"); got["alice"] || got["bob"] {
			t.Fatalf("app %d sees app A's users: %v", other.SDKAppID, got)
		}
		if p := e.roam(other, M{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10}); p.MsgCnt != 0 {
			t.Fatalf("app %d sees app A's messages: %+v", other.SDKAppID, p)
		}
		e.callApp(other, "openim/sendmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello}).wantErr(20003)
		e.callApp(other, "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": "Tag_Profile_IM_Nick", "Value": "B"}}}).wantErr(40003)
		e.callApp(other, "im_open_login_svc/kick", M{"UserID": "alice"}).wantErr(70107)
		var del struct{ ResultItem []M }
		e.callApp(other, "im_open_login_svc/account_delete", M{"DeleteItem": []M{{"UserID": "alice"}}}).wantOK("ResultItem").into(&del)
		if del.ResultItem[0]["ResultCode"] != 70107.0 {
			t.Fatalf("app %d deleted app A's user: %v", other.SDKAppID, del)
		}
	}
	if got := e.imported(e.a, "alice", "bob"); !got["alice"] || !got["bob"] {
		t.Fatalf("app A lost its users: %v", got)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	q := e.query(e.a)

	e.call("openim/nope", M{}).wantErr(60009, "v4/openim/nope")
	e.call("follow/follow_add", M{}).wantErr(60009, "command not supported by this server")
	e.call("im_msg_audit_mgr/anything", M{}).wantErr(60009, "command not supported by this server")
	e.call("Openim/sendmsg", M{}).wantErr(60009) // paths are case-sensitive
	for _, p := range []string{"/v4/openim", "/v4/openim/sendmsg/extra", "/v4//sendmsg", "/v3/openim/sendmsg"} {
		e.send("POST", e.srv.URL+p+"?"+q.Encode(), "application/json", []byte("{}")).wantErr(60009)
	}
	// Unknown commands still need a valid sig.
	e.send("POST", e.srv.URL+"/v4/openim/nope?sdkappid="+strconv.FormatInt(e.a.SDKAppID, 10)+"&identifier=administrator&usersig=x",
		"application/json", []byte("{}")).wantErr(70003)

	for _, m := range []string{"GET", "PUT", "DELETE"} {
		e.send(m, e.url("im_open_login_svc/account_import", q), "", nil).wantErr(60002, m)
	}

	// Malformed JSON: 90001 for openim message commands, 60003 for the others.
	e.call("openim/sendmsg", `{"To_Account":"bob",`).wantErr(90001)
	e.call("openim/batchsendmsg", `not json`).wantErr(90001)
	e.call("im_open_login_svc/account_import", `{"UserID":"x"`).wantErr(60003)
	e.call("openim/query_online_status", `{"To_Account":["a"]}}`).wantErr(60003)
	e.call("im_open_login_svc/account_import", `["UserID"]`).wantErr(60003, "JSON object")
	e.call("openim/sendmsg", `"text"`).wantErr(90001, "JSON object")

	// Wrong field types name the field.
	e.call("openim/sendmsg", M{"From_Account": "alice", "To_Account": 12345, "MsgBody": hello}).wantErr(90003, "To_Account")
	e.call("openim/sendmsg", M{"From_Account": 1, "To_Account": "bob", "MsgBody": hello}).wantErr(90001, "From_Account")
	e.call("im_open_login_svc/multiaccount_import", M{"Accounts": []any{"a", 2}}).wantErr(60015, "Accounts")
	e.call("im_open_login_svc/multiaccount_import", M{"AccountList": []M{{"UserID": "a", "Nick": 5}}}).wantErr(70402, "AccountList.Nick")

	// Oversize body (the test server allows 64 KiB).
	big := M{"UserID": "big", "Nick": strings.Repeat("n", 70<<10)}
	e.call("im_open_login_svc/account_import", big).wantErr(93000)
	if e.imported(e.a, "big")["big"] {
		t.Fatal("an oversize request imported the account")
	}
	// Also when the client does not announce the length.
	req, _ := http.NewRequest("POST", e.url("im_open_login_svc/account_import", q), io.MultiReader(bytes.NewReader(body(big))))
	req.ContentLength = -1
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `"ErrorCode":93000`) {
		t.Fatalf("chunked oversize body: %s", raw)
	}
	// And nothing of the failures above stored a message.
	if e.lastSeq(e.a, "bob") != 0 {
		t.Fatal("a refused call stored a message")
	}
}

func TestMsgBodyValidation(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	tests := []struct {
		name string
		body any
		code int
	}{
		{"missing", nil, 90007},
		{"object", M{"MsgType": "TIMTextElem", "MsgContent": M{"Text": "x"}}, 90007},
		{"string", "hello", 90007},
		{"empty array", []M{}, 90002},
		{"unknown element type", []M{{"MsgType": "TIMNopeElem", "MsgContent": M{}}}, 90002},
		{"content not an object", []M{{"MsgType": "TIMTextElem", "MsgContent": "x"}}, 90002},
		{"too long", []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": strings.Repeat("x", 13<<10)}}}, 93000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1}
			if tt.body != nil {
				req["MsgBody"] = tt.body
			}
			e.call("openim/sendmsg", req).wantErr(tt.code)
			e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob"}, "MsgBody": req["MsgBody"]}).wantErr(tt.code)
			e.call("openim/importmsg", M{"From_Account": "alice", "To_Account": "bob", "MsgTimeStamp": t0.Unix() - 60, "MsgBody": req["MsgBody"]}).wantErr(tt.code)
			if e.lastSeq(e.a, "bob") != 0 || e.lastSeq(e.a, "alice") != 0 {
				t.Fatal("an invalid MsgBody stored a message")
			}
		})
	}
}

func TestSuspendedApp(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	// The store has no status setter yet (billing sets it); flip the row directly.
	if _, err := e.st.WriteDB().Exec(`UPDATE apps SET status = 'suspended' WHERE sdkappid = ?`, e.a.SDKAppID); err != nil {
		t.Fatal(err)
	}
	e.call("im_open_login_svc/account_import", M{"UserID": "bob"}).wantErr(60020)
	e.call("openim/sendmsg", M{"To_Account": "alice", "MsgBody": hello}).wantErr(60020)
	e.call("openim/nope", M{}).wantErr(60020) // before dispatch
	// A stranger learns nothing: the sig is checked first.
	q := e.query(e.a)
	q.Set("usersig", e.sig(e.b, admin))
	e.send("POST", e.url("im_open_login_svc/account_import", q), "application/json", body(M{"UserID": "bob"})).wantErr(70014)
	q.Set("identifier", "alice")
	q.Set("usersig", e.sig(e.a, "alice"))
	e.send("POST", e.url("im_open_login_svc/account_import", q), "application/json", body(M{"UserID": "bob"})).wantErr(60010)
	// Other apps are unaffected.
	e.callApp(e.b, "im_open_login_svc/account_import", M{"UserID": "bob"}).wantOK()
	if _, err := e.st.WriteDB().Exec(`UPDATE apps SET status = 'active' WHERE sdkappid = ?`, e.a.SDKAppID); err != nil {
		t.Fatal(err)
	}
	if e.imported(e.a, "bob")["bob"] || e.lastSeq(e.a, "alice") != 0 {
		t.Fatal("a suspended app accepted a change")
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.call("im_open_login_svc/kick", M{"UserID": "alice"}).wantOK()
	e.call("im_open_login_svc/kick", M{"UserID": "ghost"}).wantErr(70107)
	e.call("no/such", M{}).wantErr(60009)
	e.call("openim/querystate", M{"To_Account": []string{"alice"}}).wantOK("QueryResult", "ErrorList")
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "chatd_rest_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var cmd, code string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "command":
					cmd = l.GetValue()
				case "code":
					code = l.GetValue()
				}
			}
			got[cmd+" "+code] = m.GetCounter().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"im_open_login_svc/kick 0":     1,
		"im_open_login_svc/kick 70107": 1,
		"unknown 60009":                1,
		"openim/query_online_status 0": 1, // the legacy name counts under the command
	} {
		if got[k] != v {
			t.Errorf("chatd_rest_requests_total{%s} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// Retries can race (a client times out and resends while the first is in flight):
// still one message, one MsgKey.
func TestSendMsgConcurrentRetries(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	const n = 16
	keys := make(chan string, n)
	errc := make(chan string, n)
	req := body(M{"From_Account": "alice", "To_Account": "bob", "MsgRandom": 4242, "MsgBody": hello})
	u := e.url("openim/sendmsg", e.query(e.a))
	for range n {
		go func() {
			resp, err := e.srv.Client().Post(u, "application/json", bytes.NewReader(req))
			if err != nil {
				errc <- err.Error()
				return
			}
			defer resp.Body.Close()
			var out struct {
				ErrorCode int
				ErrorInfo string
				MsgKey    string
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ErrorCode != 0 {
				errc <- fmt.Sprintf("%v %d %s", err, out.ErrorCode, out.ErrorInfo)
				return
			}
			keys <- out.MsgKey
		}()
	}
	seen := map[string]int{}
	for range n {
		select {
		case k := <-keys:
			seen[k]++
		case msg := <-errc:
			t.Fatalf("a concurrent retry failed: %s", msg)
		}
	}
	if len(seen) != 1 || e.lastSeq(e.a, "bob") != 1 || e.lastSeq(e.a, "alice") != 1 {
		t.Fatalf("%d concurrent retries gave keys %v; bob's log at %d, alice's at %d; want one message",
			n, seen, e.lastSeq(e.a, "bob"), e.lastSeq(e.a, "alice"))
	}
}

func TestNewWithoutOptionalConfig(t *testing.T) {
	e := newEnv(t)
	// No registerer, no logger, no body limit: defaults apply.
	h := restapi.New(restapi.Config{Tenants: e.tenants, IM: e.svc, Clock: e.clock})
	// A second handler on the same registry reuses the counter instead of panicking.
	_ = restapi.New(restapi.Config{Tenants: e.tenants, IM: e.svc, Clock: e.clock, Registerer: e.reg})
	// Mounted as the server does.
	mux := http.NewServeMux()
	mux.Handle("/v4/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v4/im_open_login_svc/account_import?"+e.query(e.a).Encode(), "application/json",
		strings.NewReader(`{"UserID":"viaMux","Nick":"`+strings.Repeat("n", 100<<10)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// 100 KiB is within the default 1 MiB: the domain refuses the long Nick (70402), not the transport.
	if !strings.Contains(string(raw), `"ErrorCode":70402`) {
		t.Fatalf("answer %s", raw)
	}
	resp, err = http.Post(srv.URL+"/v4/im_open_login_svc/account_import?"+e.query(e.a).Encode(), "application/json",
		strings.NewReader(`{"UserID":"viaMux","Nick":"`+strings.Repeat("n", 1<<20)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(raw), `"ErrorCode":93000`) {
		t.Fatalf("answer to a body over 1 MiB: %s", raw)
	}
}

// wellFormedMsgKey reports whether key is "<seq>_<random>_<time>" in decimal.
func wellFormedMsgKey(key string) bool {
	parts := strings.Split(key, "_")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return false
		}
	}
	return true
}
