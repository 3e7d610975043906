package forwarded

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p, err := Parse(" 10.0.0.0/8, 127.0.0.1 ,::1,")
	if err != nil || len(p) != 3 || p[1].String() != "127.0.0.1/32" || p[2].String() != "::1/128" {
		t.Fatalf("%v %v", p, err)
	}
	if p, err := Parse(""); err != nil || len(p) != 0 {
		t.Fatalf("empty: %v %v", p, err)
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "CIDR") {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestHandler(t *testing.T) {
	p, err := Parse("10.0.0.0/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	var https bool
	h := p.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { addr, https = r.RemoteAddr, HTTPS(r) }))
	for _, c := range []struct {
		name, remote string
		xff          []string
		proto        string
		tls          bool
		addr         string
		https        bool
	}{
		{"no proxy: headers ignored", "192.0.2.1:5000", []string{"203.0.113.9"}, "https", false, "192.0.2.1:5000", false},
		{"proxy: client from the header", "10.0.0.2:5000", []string{"203.0.113.9"}, "https", false, "203.0.113.9:0", true},
		{"spoofed entry left of the client is ignored", "10.0.0.2:5000", []string{"1.1.1.1, 203.0.113.9, 10.0.0.3"}, "http", false, "203.0.113.9:0", false},
		{"several header lines", "[::1]:5000", []string{"198.51.100.7", "10.1.1.1"}, "", false, "198.51.100.7:0", false},
		{"garbage ends the walk at the last good hop", "10.0.0.2:5000", []string{"1.1.1.1, junk, 10.0.0.3"}, "", false, "10.0.0.3:0", false},
		{"no header: the proxy's address", "10.0.0.2:5000", nil, "", false, "10.0.0.2:5000", false},
		{"IPv6 client", "10.0.0.2:5000", []string{"2001:db8::5"}, "HTTPS", false, "[2001:db8::5]:0", true},
		{"TLS terminated here", "192.0.2.1:5000", nil, "", true, "192.0.2.1:5000", true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if addr != c.addr || https != c.https {
			t.Errorf("%s: addr %q https %v, want %q %v", c.name, addr, https, c.addr, c.https)
		}
	}
	// A long chain of trusted hops is bounded.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.1"+strings.Repeat(", 10.0.0.9", 40))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if addr != "10.0.0.9:0" {
		t.Fatalf("long chain: %q", addr)
	}
}
