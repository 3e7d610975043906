// Package e2e runs the real chatd binary and drives it as its users would: the
// operator through the CLI, an app backend over REST with UserSigs made by the public
// TLSSigAPIv2 library, and devices over WebSocket with the Go client.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/testcert"
)

var chatdBin string

// sigValidity is the lifetime of the tests' UserSigs: ten years, so that they stay
// valid on a server whose fake clock runs months ahead.
const sigValidity = 10 * 365 * 86400

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chatd-e2e-bin")
	if err != nil {
		panic(err)
	}
	chatdBin = filepath.Join(dir, "chatd")
	out, err := exec.Command("go", "build", "-o", chatdBin, "../cmd/chatd").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building chatd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one running chatd process.
type node struct {
	t      *testing.T
	data   string
	addr   string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	scheme string       // "http", or "https" with --tls-cert
	http   *http.Client // trusts the node's certificate
	tls    *tls.Config  // the same trust, for wss://
	caFile string       // the node's certificate, for the CLI (SSL_CERT_FILE)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startNode(t *testing.T, data, addr string, extra ...string) *node {
	t.Helper()
	n, err := launch(t, data, addr, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// launch starts chatd and waits until it is ready. Unlike startNode it may run
// on any goroutine (it reports failures as errors).
func launch(t *testing.T, data, addr string, extra ...string) (*node, error) {
	n := &node{t: t, data: data, addr: addr, logs: &bytes.Buffer{}, scheme: "http", http: http.DefaultClient}
	for i, a := range extra {
		if a == "--tls-cert" {
			n.scheme, n.caFile = "https", extra[i+1]
			pem, err := os.ReadFile(n.caFile)
			if err != nil {
				return nil, err
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			n.tls = &tls.Config{RootCAs: pool}
			n.http = &http.Client{Transport: &http.Transport{TLSClientConfig: n.tls}}
		}
	}
	args := append([]string{"serve", "--data", data, "--addr", addr}, extra...)
	n.cmd = exec.Command(chatdBin, args...)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := n.http.Get(n.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			n.kill()
			return nil, fmt.Errorf("chatd did not become ready: %v\n%s", err, n.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(n.kill)
	return n, nil
}

func (n *node) url(path string) string { return n.scheme + "://" + n.addr + path }

func (n *node) kill() {
	if n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
	}
}

// stop ends chatd with SIGTERM and waits for the graceful exit.
func (n *node) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	if err := n.cmd.Wait(); err != nil {
		n.t.Fatalf("chatd exited with %v\n%s", err, n.logs)
	}
}

// crash ends chatd with SIGKILL: nothing is flushed.
func (n *node) crash() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
}

// cli runs the chatd CLI against the node and decodes its --json output.
func (n *node) cli(args ...string) map[string]any {
	n.t.Helper()
	full := append([]string{"--server", n.url(""), "--data", n.data, "--json"}, args...)
	cmd := exec.Command(chatdBin, full...)
	if n.caFile != "" {
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+n.caFile)
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		n.t.Fatalf("chatd %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		n.t.Fatalf("chatd %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

type app struct {
	id  int64
	key string
}

func (n *node) createApp() app {
	n.t.Helper()
	acc := n.cli("account", "create", "--name", "Acme", "--email", "ops@acme.example")
	if acc["status"] != "active" || acc["id"] == "" {
		n.t.Fatalf("account create: %v", acc)
	}
	a := n.cli("app", "create", "--account", acc["id"].(string), "--name", "Acme Chat")
	if a["edition"] != "trial" || a["status"] != "active" {
		n.t.Fatalf("app create: %v", a)
	}
	return app{id: int64(a["sdkappid"].(float64)), key: a["secret_key"].(string)}
}

// rest calls /v4/<path> as the app's admin with a UserSig from the public library.
func (n *node) rest(a app, path string, body any) map[string]any {
	n.t.Helper()
	sig, err := tencentyun.GenUserSig(int(a.id), a.key, "administrator", sigValidity)
	if err != nil {
		n.t.Fatal(err)
	}
	b, _ := json.Marshal(body)
	url := n.url(fmt.Sprintf("/v4/%s?sdkappid=%d&identifier=administrator&usersig=%s&random=%d&contenttype=json", path, a.id, sig, time.Now().UnixNano()%1e9))
	resp, err := n.http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		n.t.Fatalf("%s: %v", path, err)
	}
	return v
}

func (n *node) restOK(a app, path string, body any) map[string]any {
	n.t.Helper()
	v := n.rest(a, path, body)
	if v["ActionStatus"] != "OK" || v["ErrorCode"] != float64(0) {
		n.t.Fatalf("%s: %v", path, v)
	}
	return v
}

func (n *node) login(a app, user, platform string, after int64) (*client.Client, error) {
	sig, err := tencentyun.GenUserSig(int(a.id), a.key, user, sigValidity)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := strings.Replace(n.url("/v1/ws"), "http", "ws", 1)
	return client.Dial(ctx, ws, client.Options{SDKAppID: a.id, User: user, UserSig: sig, Platform: platform, After: after, TLSConfig: n.tls})
}

func (n *node) mustLogin(a app, user, platform string, after int64) *client.Client {
	n.t.Helper()
	c, err := n.login(a, user, platform, after)
	if err != nil {
		n.t.Fatalf("login %s: %v", user, err)
	}
	n.t.Cleanup(func() { c.Close() })
	return c
}

// next waits for the next entry of c.
func next(t *testing.T, c *client.Client) client.Entry {
	t.Helper()
	select {
	case e, ok := <-c.Entries():
		if !ok {
			t.Fatalf("connection closed: %v", c.Err())
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no entry within 5s")
	}
	return client.Entry{}
}

// nextKind skips entries of other kinds and returns the next one of kind.
func nextKind(t *testing.T, c *client.Client, kind string) client.Entry {
	t.Helper()
	for {
		if e := next(t, c); e.Kind == kind {
			return e
		}
	}
}

// nextMsg returns the next message, skipping read receipts and recalls.
func nextMsg(t *testing.T, c *client.Client) client.Entry { t.Helper(); return nextKind(t, c, "msg") }

func text(e client.Entry) string {
	var body []struct {
		MsgContent struct{ Text string }
	}
	_ = json.Unmarshal(e.Body, &body)
	if len(body) == 0 {
		return ""
	}
	return body[0].MsgContent.Text
}

func TestOneToOneChat(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "alice", "Nick": "Alice"})
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"Identifier": "bob"})

	alice := n.mustLogin(a, "alice", "iOS", 0)
	bob := n.mustLogin(a, "bob", "Android", 0)
	bobWeb := n.mustLogin(a, "bob", "Web", 0)
	ctx := context.Background()

	// Real time, both ways, on every device of the receiver.
	ack, err := alice.SendText(ctx, "bob", "a-1", "hello bob")
	if err != nil || ack.MsgKey == "" {
		t.Fatalf("send: %v %+v", err, ack)
	}
	for _, dev := range []*client.Client{bob, bobWeb} {
		if e := nextMsg(t, dev); text(e) != "hello bob" || e.From != "alice" || e.MsgKey != ack.MsgKey {
			t.Fatalf("bob got %+v", e)
		}
	}
	if e := nextMsg(t, alice); e.MsgKey != ack.MsgKey || e.Seq != ack.Seq { // the sender's own log
		t.Fatalf("alice's copy: %+v (ack %+v)", e, ack)
	}
	ackB, err := bob.SendText(ctx, "alice", "b-1", "hi alice")
	if err != nil {
		t.Fatal(err)
	}
	if e := nextMsg(t, alice); text(e) != "hi alice" || e.From != "bob" {
		t.Fatalf("alice got %+v", e)
	}

	// An idempotent retry: same client id, same MsgKey, nothing new delivered.
	again, err := alice.SendText(ctx, "bob", "a-1", "hello bob")
	if err != nil || !again.Duplicate || again.MsgKey != ack.MsgKey {
		t.Fatalf("retry: %v %+v", err, again)
	}

	// Offline storage and resync: Web device goes away, messages arrive, it reconnects.
	bobWeb.Close()
	last := ackB.Seq // bob's log holds nothing newer yet
	for i := 0; i < 3; i++ {
		if _, err := alice.SendText(ctx, "bob", fmt.Sprintf("off-%d", i), fmt.Sprintf("offline %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	bob.Close()
	back := n.mustLogin(a, "bob", "Web", last)
	for i := 0; i < 3; i++ {
		e := nextMsg(t, back)
		if want := fmt.Sprintf("offline %d", i); text(e) != want {
			t.Fatalf("resync %d: got %q want %q", i, text(e), want)
		}
	}
	if back.Applied() != back.LoginSeq {
		t.Fatalf("resync ended at %d, log is at %d", back.Applied(), back.LoginSeq)
	}

	// Unread and read reports.
	unread := n.restOK(a, "openim/get_c2c_unread_msg_num", map[string]any{"To_Account": "bob"})
	if unread["AllC2CUnreadMsgNum"] != float64(4) { // hello bob + 3 offline
		t.Fatalf("unread: %v", unread)
	}
	if err := back.MarkRead(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if e := nextKind(t, alice, "read"); e.From != "bob" { // alice sees bob's read receipt
		t.Fatalf("alice read receipt: %+v", e)
	}
	unread = n.restOK(a, "openim/get_c2c_unread_msg_num", map[string]any{"To_Account": "bob"})
	if unread["AllC2CUnreadMsgNum"] != float64(0) {
		t.Fatalf("unread after read: %v", unread)
	}

	// Recall reaches both sides.
	r, err := alice.SendText(ctx, "bob", "oops", "oops")
	if err != nil {
		t.Fatal(err)
	}
	nextMsg(t, back)
	if err := alice.Recall(ctx, "bob", r.MsgKey); err != nil {
		t.Fatal(err)
	}
	if e := nextKind(t, back, "recall"); e.MsgKey != r.MsgKey {
		t.Fatalf("recall: %+v", e)
	}

	// History through the REST API, newest first.
	hist := n.restOK(a, "openim/admin_getroammsg", map[string]any{"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 100, "MinTime": 0, "MaxTime": time.Now().Unix() + 10})
	msgs := hist["MsgList"].([]any)
	if len(msgs) != 6 { // hello bob, hi alice, 3 offline, oops (recalled)
		t.Fatalf("history has %d messages: %v", len(msgs), hist)
	}
	if first := msgs[0].(map[string]any); first["MsgKey"] != r.MsgKey {
		t.Fatalf("history is not newest first: %v", first)
	}

	// MAU of the month: alice and bob.
	mau := n.cli("app", "mau", "--sdkappid", strconv.FormatInt(a.id, 10))
	if mau["mau"] != float64(2) {
		t.Fatalf("mau: %v", mau)
	}
	n.stop()
}

func TestFreeTrialMAUCap(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	var ids []string
	for i := 0; i < 101; i++ {
		ids = append(ids, fmt.Sprintf("u%03d", i))
	}
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": ids[:100]})
	n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": ids[100]})
	for _, id := range ids[:100] {
		c, err := n.login(a, id, "Web", -1)
		if err != nil {
			t.Fatalf("login %s: %v", id, err)
		}
		c.Close()
	}
	_, err := n.login(a, ids[100], "Web", -1)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != 70398 {
		t.Fatalf("101st user: got %v, want error 70398", err)
	}
	c, err := n.login(a, ids[0], "Web", -1) // already counted this month
	if err != nil {
		t.Fatalf("counted user refused: %v", err)
	}
	c.Close()
	if mau := n.cli("app", "mau", "--sdkappid", strconv.FormatInt(a.id, 10)); mau["mau"] != float64(100) {
		t.Fatalf("mau: %v", mau)
	}
}

// An acknowledged message survives kill -9 of the server.
func TestAckedMessagesSurviveCrash(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	n := startNode(t, data, addr)
	a := n.createApp()
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"alice", "bob"}})
	alice := n.mustLogin(a, "alice", "Web", 0)
	const count = 200
	acked := make(chan string, count)
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := w; i < count; i += 4 {
				ack, err := alice.SendText(context.Background(), "bob", fmt.Sprintf("m-%d", i), fmt.Sprintf("m %d", i))
				if err != nil {
					break
				}
				acked <- ack.MsgKey
			}
			done <- struct{}{}
		}(w)
	}
	// Crash mid-stream, once some messages are acknowledged and more are in flight.
	for deadline := time.Now().Add(10 * time.Second); len(acked) < 20; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d acknowledgements before the crash", len(acked))
		}
		time.Sleep(time.Millisecond)
	}
	n.crash()
	for i := 0; i < 4; i++ {
		<-done
	}
	close(acked)
	n2 := startNode(t, data, addr)
	bob := n2.mustLogin(a, "bob", "Web", -1)
	got := map[string]bool{}
	for after := int64(0); ; {
		entries, complete, err := bob.Sync(context.Background(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			got[e.MsgKey] = true
			after = e.Seq
		}
		if complete {
			break
		}
	}
	lost := 0
	total := 0
	for key := range acked {
		total++
		if !got[key] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after kill -9", lost, total)
	}
	t.Logf("%d acknowledged before the crash, all present after restart (%d stored)", total, len(got))
}

// chatd serves HTTPS and WSS itself with --tls-cert and --tls-key.
func TestTLS(t *testing.T) {
	cert, key := testcert.Write(t, t.TempDir())
	n := startNode(t, t.TempDir(), freeAddr(t), "--tls-cert", cert, "--tls-key", key)
	a := n.createApp() // the CLI over HTTPS
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"alice", "bob"}})
	alice := n.mustLogin(a, "alice", "Web", 0) // wss://
	bob := n.mustLogin(a, "bob", "Web", 0)
	if _, err := alice.SendText(context.Background(), "bob", "t-1", "over TLS"); err != nil {
		t.Fatal(err)
	}
	if e := nextMsg(t, bob); text(e) != "over TLS" {
		t.Fatalf("bob got %+v", e)
	}
	if resp, err := http.Get("http://" + n.addr + "/healthz"); err == nil { // no plain HTTP on a TLS port
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "ok" {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

// A REST message with MsgLifeTime 0 reaches the devices online now, is not in
// anyone's log and moves no device's position; a device that logs in later never
// sees it.
func TestOnlineOnlyMessage(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"alice", "bob"}})
	bob := n.mustLogin(a, "bob", "Android", 0)
	hello := func(s string) []map[string]any {
		return []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": s}}}
	}
	n.restOK(a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgLifeTime": 0, "MsgBody": hello("now or never")})
	if e := nextMsg(t, bob); e.Seq != 0 || text(e) != "now or never" || e.From != "alice" {
		t.Fatalf("bob's online message: %+v", e)
	}
	n.restOK(a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgBody": hello("stored")})
	if e := nextMsg(t, bob); e.Seq != 1 || text(e) != "stored" {
		t.Fatalf("bob's stored message: %+v", e)
	}
	later := n.mustLogin(a, "bob", "Web", 0)
	if e := nextMsg(t, later); e.Seq != 1 || text(e) != "stored" || later.Applied() != 1 {
		t.Fatalf("a later device's first message: %+v (applied %d)", e, later.Applied())
	}
}
