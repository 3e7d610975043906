package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/usersig"
)

// safety bounds every blocking read of these tests: reaching it means the
// server held the connection although a limit should have ended it.
const safety = 5 * time.Second

// serveLimited runs a server with limits on a real listener (through Serve,
// as chatd serve does) and returns it with its address.
func serveLimited(t *testing.T, l Limits) (*Server, *clock.Manual, string) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Store: st, Clock: c, Logger: slog.New(slog.DiscardHandler), OperatorToken: "secret", PurgeEvery: time.Hour, Limits: l})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, "", "") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s, c, ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends a keep-alive GET on c and reads its answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, path string) (int, string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(safety))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: chatd\r\n\r\n", path)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitClosed reads c until the server closes it; it fails if the server keeps
// it open for the safety bound.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(safety))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server still holds the connection after %v", what, safety)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	_, _, addr := serveLimited(t, Limits{IdleTimeout: 100 * time.Millisecond})
	c := dial(t, addr)
	if code, _ := roundTrip(t, c, bufio.NewReader(c), "/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	waitClosed(t, c, "idle keep-alive")
}

// A client that announces a body and sends it slowly, unauthenticated, loses
// the connection after ReadTimeout; so does one that never finishes its headers.
func TestSlowRequestsAreCut(t *testing.T) {
	_, _, addr := serveLimited(t, Limits{ReadTimeout: 200 * time.Millisecond})
	for _, tt := range []struct{ name, request string }{
		{"slow REST body", "POST /v4/openim/sendmsg?sdkappid=1&identifier=administrator&usersig=x&random=1&contenttype=json HTTP/1.1\r\n" +
			"Host: chatd\r\nContent-Length: 102400\r\n\r\n" + strings.Repeat("x", 10)},
		{"slow operator body", "POST /operator/v1/accounts HTTP/1.1\r\nHost: chatd\r\nContent-Length: 102400\r\n\r\n{"},
		{"slow headers", "GET /healthz HTTP/1.1\r\nHost: chatd\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			io.WriteString(c, tt.request)
			waitClosed(t, c, tt.name)
		})
	}
}

// A body over MaxBodyBytes is refused by the REST edge in its own vocabulary,
// before the command runs.
func TestBodyLimitReachesREST(t *testing.T) {
	s, clk, addr := serveLimited(t, Limits{MaxBodyBytes: 1000})
	ctx := context.Background()
	app := newApp(t, s)
	sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, "administrator", 86400, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://%s/v4/im_open_login_svc/account_import?sdkappid=%d&identifier=administrator&usersig=%s&random=1&contenttype=json", addr, app.SDKAppID, sig)
	body := `{"UserID":"alice","Nick":"` + strings.Repeat("a", 1000) + `"}`
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"ErrorCode":93000`) {
		t.Fatalf("a body over the limit: %d %s", resp.StatusCode, b)
	}
	if us, err := s.cfg.Store.GetUsers(ctx, app.SDKAppID, []string{"alice"}); err != nil || len(us) != 0 {
		t.Fatalf("the refused import stored alice: %v, %v", us, err)
	}
}

// newApp creates an account and its app.
func newApp(t *testing.T, s *Server) store.App {
	t.Helper()
	ctx := context.Background()
	acc, err := s.Tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Tenants.CreateApp(ctx, acc.ID, "Chat", "")
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// Beyond MaxConns a connection is closed at once, unanswered, and counted.
func TestConnectionLimit(t *testing.T) {
	_, _, addr := serveLimited(t, Limits{MaxConns: 2})
	c1, c2 := dial(t, addr), dial(t, addr)
	br1 := bufio.NewReader(c1)
	for c, br := range map[net.Conn]*bufio.Reader{c1: br1, c2: bufio.NewReader(c2)} { // both accepted and held open
		if code, _ := roundTrip(t, c, br, "/healthz"); code != 200 {
			t.Fatalf("healthz: %d", code)
		}
	}
	c3 := dial(t, addr)
	fmt.Fprintf(c3, "GET /healthz HTTP/1.1\r\nHost: chatd\r\n\r\n")
	c3.SetReadDeadline(time.Now().Add(safety))
	var ne net.Error
	if b, err := io.ReadAll(c3); len(b) != 0 || errors.As(err, &ne) && ne.Timeout() { // EOF or reset
		t.Fatalf("a third connection over a limit of 2: %q, %v", b, err)
	}
	_, metrics := roundTrip(t, c1, br1, "/metrics")
	for _, want := range []string{"chatd_http_connections 2", "chatd_http_connections_refused_total 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// A closed connection gives its slot back, once however often it is closed.
func TestConnLimiterReleasesSlots(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConns(ln, 1, nil, nil)
	defer l.Close()
	addr := ln.Addr().String()
	dial(t, addr)
	a1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c2 := dial(t, addr) // over the limit: closed at once
	waitClosed(t, c2, "a connection over the limit")
	a1.Close()
	a1.Close()
	c3 := dial(t, addr)
	a3 := <-accepted
	if a3 == nil || a3.RemoteAddr().String() != c3.LocalAddr().String() {
		t.Fatalf("after a close, accepted %v, want %v", a3, c3.LocalAddr())
	}
	a3.Close()
}

// A device's WebSocket session is not bound by the HTTP read and write
// timeouts: it lives on past them, under the gateway's own deadlines.
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	const timeout = 150 * time.Millisecond
	s, clk, addr := serveLimited(t, Limits{ReadTimeout: timeout, WriteTimeout: timeout})
	ctx := context.Background()
	app := newApp(t, s)
	if err := s.IM.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	sig, err := usersig.Gen(app.SDKAppID, app.SecretKey, "alice", 86400, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, safety)
	defer cancel()
	dev, err := client.Dial(dctx, "ws://"+addr+"/v1/ws", client.Options{SDKAppID: app.SDKAppID, User: "alice", UserSig: sig, Platform: "Web"})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	time.Sleep(3 * timeout) // the timeouts under test pass
	if err := dev.Ping(dctx); err != nil {
		t.Fatalf("the session ended with the HTTP timeouts: %v", err)
	}
}

// Requests with the operator token may take longer than WriteTimeout (a long
// clock move); others are cut at it.
func TestOperatorRequestsOutliveWriteTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	slow := operatorUnbounded("secret", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * timeout) // a job longer than the timeout under test
		io.WriteString(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: slow, WriteTimeout: timeout}
	go hs.Serve(ln)
	defer hs.Close()
	for token, want := range map[string]bool{"secret": true, "wrong": false, "": false} {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/operator/v1/clock", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		got := err == nil
		if got {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got = string(b) == "done"
		}
		if got != want {
			t.Errorf("token %q: answered %v, want %v (%v)", token, got, want, err)
		}
	}
}
