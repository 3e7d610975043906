package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The HTTP limits come from flags, else CHATD_* variables, else defaults.
func TestServeLimitFlags(t *testing.T) {
	t.Setenv("CHATD_HTTP_IDLE_TIMEOUT", "5s")
	t.Setenv("CHATD_MAX_CONNS", "100")
	c, err := parseServeFlags([]string{"--http-read-timeout", "2s", "--max-conns", "50", "--max-body-bytes", "4096"})
	if err != nil {
		t.Fatal(err)
	}
	l := c.limits
	if l.ReadTimeout != 2*time.Second || l.IdleTimeout != 5*time.Second || l.WriteTimeout != 60*time.Second ||
		l.MaxConns != 50 || l.MaxBodyBytes != 4096 {
		t.Fatalf("limits: %+v", l)
	}
	t.Setenv("CHATD_HTTP_WRITE_TIMEOUT", "soon")
	if _, err := parseServeFlags(nil); err == nil {
		t.Fatal("a bad CHATD_HTTP_WRITE_TIMEOUT was accepted")
	}
	t.Setenv("CHATD_HTTP_WRITE_TIMEOUT", "")
	if _, err := parseServeFlags(nil); err != nil {
		t.Fatalf("an empty variable is unset: %v", err)
	}
	if _, err := parseServeFlags([]string{"--max-conns", "-1"}); err == nil {
		t.Fatal("a negative --max-conns was accepted")
	}
}

// pw is a secret that no log line, error or help text may repeat.
const pw = "s3cret-Pw"

// A PostgreSQL password, in any of the places a connection string holds one,
// stays out of the log and of the error of a failed start.
func TestOpenStoreHidesThePassword(t *testing.T) {
	for _, u := range []string{
		"postgres://chatd:" + pw + "@127.0.0.1:1/chatd?sslmode=disable",
		"postgres://chatd@127.0.0.1:1/chatd?sslmode=disable&password=" + pw,
		"host=127.0.0.1 port=1 user=chatd password=" + pw + " dbname=chatd sslmode=disable",
		"host=127.0.0.1 port=1 user=chatd password='" + pw + "' dbname=chatd",
	} {
		var logs bytes.Buffer
		_, err := openStore(context.Background(), serveConfig{storeKind: "postgres", postgresURL: u}, slog.New(slog.NewJSONHandler(&logs, nil)))
		if err == nil {
			t.Fatalf("%s: opened a closed port", u)
		}
		if strings.Contains(logs.String()+err.Error(), pw) {
			t.Errorf("the password of %s leaks:\n%s%v", u, logs.String(), err)
		}
		if !strings.Contains(logs.String(), "host=127.0.0.1 port=1 database=chatd user=chatd") {
			t.Errorf("the log does not name the database:\n%s", logs.String())
		}
	}
}

// serve -h shows no secret taken from the environment as a default.
func TestServeHelpHidesSecrets(t *testing.T) {
	t.Setenv("CHATD_POSTGRES_URL", "postgres://chatd:"+pw+"@db/chatd")
	t.Setenv("CHATD_NOTIFY_WEBHOOK", "https://sms.example/send?key="+pw)
	t.Setenv("CHATD_NOTIFY_WEBHOOK_SECRET", pw)
	var help bytes.Buffer
	serveUsage(&help)
	if strings.Contains(help.String(), pw) || !strings.Contains(help.String(), "-postgres-url URL") {
		t.Errorf("help:\n%s", help.String())
	}
	if c, err := parseServeFlags([]string{"--store", "postgres"}); err != nil || c.postgresURL == "" || c.webhookSecret != pw {
		t.Errorf("the environment's secrets are not taken: %v %+v", err, c)
	}
}

// --callback-allow-hosts (or CHATD_CALLBACK_ALLOW_HOSTS) is parsed into the
// callback policy; a bad item stops the start with its name; empty: public
// hosts only.
func TestServeCallbackAllowHosts(t *testing.T) {
	c, err := parseServeFlags(nil)
	if err != nil || len(c.callbackPolicy.AllowHosts) != 0 || c.callbackPolicy.Check("http://127.0.0.1/cb") == nil {
		t.Fatalf("default: %v %+v", err, c.callbackPolicy)
	}
	t.Setenv("CHATD_CALLBACK_ALLOW_HOSTS", "hooks.example.com, 10.0.0.0/8")
	if c, err = parseServeFlags(nil); err != nil || c.callbackPolicy.Check("http://10.1.2.3/cb") != nil || c.callbackPolicy.Check("https://other.example.com/") == nil {
		t.Fatalf("from the environment: %v %+v", err, c.callbackPolicy)
	}
	if c, err = parseServeFlags([]string{"--callback-allow-hosts", "*.example.org"}); err != nil || c.callbackPolicy.Check("https://a.example.org/cb") != nil ||
		c.callbackPolicy.Check("http://10.1.2.3/cb") == nil {
		t.Fatalf("the flag over the environment: %v %+v", err, c.callbackPolicy)
	}
	if _, err := parseServeFlags([]string{"--callback-allow-hosts", "bad host!"}); err == nil || !strings.Contains(err.Error(), "--callback-allow-hosts") {
		t.Fatalf("a bad item: %v", err)
	}
	var help bytes.Buffer
	serveUsage(&help)
	if !strings.Contains(help.String(), "-callback-allow-hosts hosts") {
		t.Errorf("help:\n%s", help.String())
	}
}

// --trusted-proxies (or CHATD_TRUSTED_PROXIES) names the proxies whose
// forwarding headers are believed; a bad item stops the start with its name.
func TestServeTrustedProxies(t *testing.T) {
	c, err := parseServeFlags(nil)
	if err != nil || len(c.proxies) != 0 {
		t.Fatalf("default: %v %+v", err, c.proxies)
	}
	t.Setenv("CHATD_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
	if c, err = parseServeFlags(nil); err != nil || len(c.proxies) != 2 || c.proxies[1].String() != "127.0.0.1/32" {
		t.Fatalf("from the environment: %v %+v", err, c.proxies)
	}
	if _, err := parseServeFlags([]string{"--trusted-proxies", "proxy.local"}); err == nil || !strings.Contains(err.Error(), "--trusted-proxies") {
		t.Fatalf("a host name: %v", err)
	}
	var help bytes.Buffer
	serveUsage(&help)
	if !strings.Contains(help.String(), "-trusted-proxies addresses") {
		t.Errorf("help:\n%s", help.String())
	}
}
