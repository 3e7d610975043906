package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func TestSignDocExample(t *testing.T) {
	got := Sign("xxxxyyyy", 1669872112)
	if want := "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestPolicyCheckEmptyAllowList(t *testing.T) {
	p, err := ParsePolicy("")
	if err != nil {
		t.Fatal(err)
	}
	ok := []string{
		"https://hooks.example.com/im",
		"http://hooks.example.com:8080/im?a=1&b=2",
		"https://8.8.8.8/cb",
		"https://[2001:4860:4860::8888]/cb",
	}
	for _, u := range ok {
		if err := p.Check(u); err != nil {
			t.Errorf("Check(%q) = %v, want ok", u, err)
		}
	}
	bad := map[string]string{
		"/relative":                          "absolute",
		"hooks.example.com/im":               "absolute",
		"ftp://hooks.example.com/":           "scheme",
		"javascript:alert(1)":                "scheme",
		"http:///path":                       "no host",
		"https://user:pw@hooks.example.com/": "user info",
		"https://hooks.example.com/#frag":    "fragment",
		"https://hooks.example.com/" + strings.Repeat("a", 1100): "longer than 1024",
		"https://hooks.example.com/\xff":                         "UTF-8",
		"http://localhost/":                                      "local machine",
		"http://LOCALHOST:80/":                                   "local machine",
		"http://app.localhost/":                                  "local machine",
		"http://127.0.0.1/":                                      "loopback",
		"http://127.8.9.1/":                                      "loopback",
		"http://[::1]/":                                          "loopback",
		"http://10.1.2.3/":                                       "private",
		"http://172.16.0.1/":                                     "private",
		"http://192.168.1.1/":                                    "private",
		"http://[fc00::1]/":                                      "private",
		"http://[fd12::1]/":                                      "private",
		"http://169.254.169.254/latest/":                         "link-local",
		"http://[fe80::1]/":                                      "link-local",
		"http://0.0.0.0/":                                        "unspecified",
		"http://[::]/":                                           "unspecified",
		"http://224.0.0.1/":                                      "multicast",
		"http://100.64.0.1/":                                     "CGNAT",
		"http://[::ffff:127.0.0.1]/":                             "loopback",
		"http://[64:ff9b::a9fe:a9fe]/":                           "special-purpose", // NAT64 of 169.254.169.254
		"http://[2002:7f00:1::]/":                                "special-purpose", // 6to4 of 127.0.0.1
		"http://[::ffff:0:7f00:1]/":                              "special-purpose", // IPv4-translated 127.0.0.1
		"http://[2001::1]/":                                      "special-purpose", // Teredo
		"http://255.255.255.255/":                                "special-purpose",
		"http://240.0.0.1/":                                      "special-purpose",
		"http://198.18.0.1/":                                     "special-purpose",
		"http://192.0.0.1/":                                      "special-purpose",
		"http://0.1.2.3/":                                        "special-purpose",
		"http://2130706433/":                                     "not a valid host name", // 127.0.0.1 in legacy forms
		"http://0177.0.0.1/":                                     "not a valid host name",
		"http://127.1/":                                          "not a valid host name",
		"http://0x7f.1/":                                         "not a valid host name",
		"http://0/":                                              "not a valid host name",
		"http://hooks.example.com:0/":                            "port",
		"http://hooks.example.com:99999/":                        "port",
		"http://bad_host!.com/":                                  "",
	}
	for u, want := range bad {
		err := p.Check(u)
		if err == nil {
			t.Errorf("Check(%q) = nil, want an error about %q", u, want)
			continue
		}
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Check(%q) = %v, not of kind ErrInvalid", u, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%q) = %q, want it to mention %q", u, err, want)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(" hooks.internal , *.corp.example, 10.0.0.0/8,192.168.5.5, [fd00::7] ")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.AllowHosts) != 5 {
		t.Fatalf("AllowHosts = %q", p.AllowHosts)
	}
	ok := []string{
		"http://hooks.internal/cb", "http://HOOKS.internal:9000/cb", "https://a.corp.example/", "https://a.b.corp.example/",
		"http://10.2.3.4/", "http://192.168.5.5/", "http://[fd00::7]/",
	}
	for _, u := range ok {
		if err := p.Check(u); err != nil {
			t.Errorf("Check(%q) = %v, want ok", u, err)
		}
	}
	bad := []string{
		"http://corp.example/", "http://xcorp.example/", "http://hooks.example.com/", "http://192.168.5.6/",
		"http://11.0.0.1/", "http://localhost/", "http://[fd00::8]/",
		"ftp://hooks.internal/", "http://u@hooks.internal/",
	}
	for _, u := range bad {
		if err := p.Check(u); err == nil || !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", u, err)
		}
	}
	for _, s := range []string{"10.0.0.0/33", "*.", "*.bad!", "a b", "host:80", "http://x"} {
		if _, err := ParsePolicy(s); err == nil {
			t.Errorf("ParsePolicy(%q) = nil error", s)
		}
	}
}

// fakeResolver answers every A query with 127.0.0.1 and every other query
// with no records, over an in-memory stream (DNS over TCP framing), the way a
// rebinding DNS server would answer for a public-looking name.
func fakeResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			for {
				var l [2]byte
				if _, err := io.ReadFull(server, l[:]); err != nil {
					return
				}
				q := make([]byte, int(l[0])<<8|int(l[1]))
				if _, err := io.ReadFull(server, q); err != nil || len(q) < 12 {
					return
				}
				// The question ends after the name (labels up to a zero byte), type and class.
				end := 12
				for end < len(q) && q[end] != 0 {
					end += int(q[end]) + 1
				}
				end++
				qtype := int(q[end])<<8 | int(q[end+1])
				end += 4
				resp := append([]byte(nil), q[:end]...)
				resp[2], resp[3] = 0x81, 0x80 // response, recursion desired and available
				resp[6], resp[7] = 0, 0
				if qtype == 1 {
					resp[7] = 1
					resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
				}
				resp[8], resp[9], resp[10], resp[11] = 0, 0, 0, 0
				if _, err := server.Write(append([]byte{byte(len(resp) >> 8), byte(len(resp))}, resp...)); err != nil {
					return
				}
			}
		}()
		return client, nil
	}}
}

// A public-looking name that resolves to 127.0.0.1 passes Check but is
// refused when dialling with an empty allow-list.
func TestDialRefusesNonPublicAddress(t *testing.T) {
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := ParsePolicy("")
	p.resolver = fakeResolver()
	u := "http://hooks.rebind.example:" + port + "/cb"
	if err := p.Check(u); err != nil {
		t.Fatalf("Check(%q) = %v", u, err)
	}
	if ips, err := p.resolver.LookupHost(context.Background(), "hooks.rebind.example"); err != nil || len(ips) != 1 || ips[0] != "127.0.0.1" {
		t.Fatalf("fake resolver: %v %v", ips, err)
	}
	_, err := p.Client().Post(u, "application/json", nil)
	if err == nil || !errors.Is(err, errDialRefused) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dial = %v, want refused as loopback", err)
	}
	if hit.Load() {
		t.Fatal("the receiver got a request")
	}
	// With the name on the allow-list, the same dial goes through.
	pa, _ := ParsePolicy("hooks.rebind.example")
	pa.resolver = fakeResolver()
	resp, err := pa.Client().Post(u, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !hit.Load() {
		t.Fatal("the allowed receiver got no request")
	}
	// An allow-listed policy refuses a host that does not match at dial time.
	pb, _ := ParsePolicy("hooks.internal")
	if _, err := pb.Client().Post(srv.URL, "application/json", nil); !errors.Is(err, errDialRefused) {
		t.Fatalf("dial off the allow-list = %v, want refused", err)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			followed = true
			return
		}
		http.Redirect(w, r, "/next", http.StatusFound)
	}))
	defer srv.Close()
	p, _ := ParsePolicy("127.0.0.1")
	resp, err := p.Client().Post(srv.URL+"/cb", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || followed {
		t.Fatalf("status %d followed %v", resp.StatusCode, followed)
	}
}

func TestConfigsSet(t *testing.T) {
	st := newMemStore()
	p, _ := ParsePolicy("")
	clk := clock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := NewConfigs(st, p, clk)
	var notified []int64
	c.OnSet = func(app int64) { notified = append(notified, app) }
	app := store.App{SDKAppID: 1400000001, Status: store.StatusActive}
	ctx := context.Background()

	cfg, err := c.Set(ctx, app, "https://hooks.example.com/im?x=1", "tok-123", []string{callback.GroupAfterSendMsg, callback.C2CBeforeSendMsg, callback.GroupAfterSendMsg})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{callback.C2CBeforeSendMsg, callback.GroupAfterSendMsg}; strings.Join(cfg.Commands, ",") != strings.Join(want, ",") {
		t.Fatalf("Commands = %q, want %q", cfg.Commands, want)
	}
	if !cfg.UpdatedAt.Equal(clk.Now()) || len(notified) != 1 || notified[0] != app.SDKAppID {
		t.Fatalf("UpdatedAt %v notified %v", cfg.UpdatedAt, notified)
	}
	got, err := c.Get(ctx, app)
	if err != nil || got.URL != cfg.URL || got.Token != "tok-123" || len(got.Commands) != 2 {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	all, err := c.Set(ctx, app, "https://hooks.example.com/im", "", []string{"all", callback.StateChange})
	if err != nil || len(all.Commands) != len(callback.Commands) {
		t.Fatalf("all: %v %v", all.Commands, err)
	}

	invalid := []struct {
		url, token string
		cmds       []string
		want       string
	}{
		{"http://10.0.0.1/", "", nil, "private"},
		{"https://hooks.example.com/", strings.Repeat("t", 129), nil, "128"},
		{"https://hooks.example.com/", "tok en", nil, "printable"},
		{"https://hooks.example.com/", "tök", nil, "printable"},
		{"https://hooks.example.com/", "", []string{"C2C.CallbackNope"}, "unknown command"},
		{"https://hooks.example.com/", "", make([]string, 200), "more than"},
	}
	for _, tc := range invalid {
		_, err := c.Set(ctx, app, tc.url, tc.token, tc.cmds)
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%q, %q, %q) = %v, want ErrInvalid mentioning %q", tc.url, tc.token, tc.cmds, err, tc.want)
		}
	}
	if got, _ := c.Get(ctx, app); got.URL != "https://hooks.example.com/im" || len(got.Commands) != len(callback.Commands) {
		t.Fatalf("a refused Set changed the config: %+v", got)
	}

	off, err := c.Set(ctx, app, "", "", nil)
	if err != nil || off.URL != "" || off.Commands == nil {
		t.Fatalf("off: %+v %v", off, err)
	}

	for _, status := range []string{store.StatusSuspended, store.StatusDeleted} {
		a := app
		a.Status = status
		_, err := c.Set(ctx, a, "https://hooks.example.com/x", "", nil)
		if !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), status) {
			t.Errorf("%s app: %v, want ErrConflict", status, err)
		}
	}
	a := app
	a.Status = store.StatusSuspended
	if _, err := c.Set(ctx, a, "", "", nil); !strings.Contains(err.Error(), "renew") {
		t.Errorf("suspended: %v, want the way out", err)
	}
	if got, _ := c.Get(ctx, app); got.URL != "" {
		t.Fatalf("a suspended app changed its config: %+v", got)
	}
	if err := c.ValidateURL("http://127.0.0.1/"); !errors.Is(err, errs.ErrInvalid) {
		t.Fatal(err)
	}
	if err := c.ValidateURL(""); err != nil {
		t.Fatal(err)
	}
}

// Update keeps what a change leaves out, and gives an app never configured
// every command when the change names none.
func TestConfigsUpdate(t *testing.T) {
	st := newMemStore()
	p, _ := ParsePolicy("127.0.0.1")
	c := NewConfigs(st, p, clock.NewManual(time.Unix(1000, 0)))
	app := store.App{SDKAppID: testApp, Status: store.StatusActive}
	ctx := context.Background()
	u1, tok := "http://127.0.0.1/a", "t1"
	got, err := c.Update(ctx, app, callback.ConfigChange{URL: &u1, Token: &tok})
	if err != nil || got.URL != u1 || got.Token != tok || len(got.Commands) != len(callback.Commands) {
		t.Fatalf("first update: %+v %v (want every command)", got, err)
	}
	cmds := []string{callback.StateChange}
	if got, err = c.Update(ctx, app, callback.ConfigChange{Commands: &cmds}); err != nil || got.URL != u1 || got.Token != tok || fmt.Sprint(got.Commands) != "[State.StateChange]" {
		t.Fatalf("commands alone: %+v %v", got, err)
	}
	u2 := "http://127.0.0.1/b"
	if got, err = c.Update(ctx, app, callback.ConfigChange{URL: &u2}); err != nil || got.URL != u2 || got.Token != tok || fmt.Sprint(got.Commands) != "[State.StateChange]" {
		t.Fatalf("url alone: %+v %v", got, err)
	}
	bad := "ftp://x"
	if _, err = c.Update(ctx, app, callback.ConfigChange{URL: &bad}); err == nil {
		t.Fatal("a bad URL was accepted")
	}
	if cur, _ := c.Get(ctx, app); cur.URL != u2 {
		t.Fatalf("a refused update changed the URL: %+v", cur)
	}
}
