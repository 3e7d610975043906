// Package sender is the I/O side of app callbacks (reference §6): it checks
// callback URLs against the operator's policy (no requests into the
// operator's own network), keeps apps' callback settings (Configs), posts
// before-events and decides by the answer (Hooks), and drains the durable
// outbox of after-events at least once (Dispatcher).
package sender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/errs"
)

// Sign is the reference's callback signature: lowercase
// hex(sha256(token + decimal requestTime)), requestTime in Unix seconds.
func Sign(token string, requestTime int64) string {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write([]byte(strconv.FormatInt(requestTime, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

// MaxURLBytes bounds a callback URL.
const MaxURLBytes = 1024

// Policy is the operator's rule for callback URLs (SSRF protection). With an
// empty AllowHosts, a URL's host must be public: not localhost, not an IP
// literal in a loopback, private, link-local, unspecified, multicast or CGNAT
// range, and every address the name resolves to at dial time must be public
// too. With a non-empty AllowHosts, only matching hosts are accepted (private
// ones too: the operator vouched for them). Make one with ParsePolicy (a
// literal with AllowHosts set matches nothing); the zero value is the empty
// allow-list.
type Policy struct {
	// AllowHosts are the patterns of ParsePolicy: a host name ("hooks.example.com"),
	// a suffix ("*.example.com": any name below example.com, not example.com
	// itself), an IP literal or a CIDR.
	AllowHosts []string

	names    []string       // exact host names, lower case
	suffixes []string       // ".example.com"
	prefixes []netip.Prefix // IP literals as /32 or /128

	resolver *net.Resolver // nil: the default (tests resolve names their own way)
}

// MaxPolicyPatterns bounds the patterns of an allow-list.
const MaxPolicyPatterns = 256

// ParsePolicy parses an operator flag value: a comma-separated list of host
// names, "*.suffix" patterns, IP literals and CIDRs (spaces around items are
// ignored). "" is the empty allow-list (public hosts only). An item that is
// none of these is an error naming it.
func ParsePolicy(s string) (Policy, error) {
	var p Policy
	for _, item := range strings.Split(s, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		if len(p.AllowHosts) >= MaxPolicyPatterns {
			return Policy{}, fmt.Errorf("callback allow-list: more than %d patterns", MaxPolicyPatterns)
		}
		switch {
		case strings.Contains(item, "/"):
			pr, err := netip.ParsePrefix(item)
			if err != nil {
				return Policy{}, fmt.Errorf("callback allow-list: %q is not a CIDR: %v", item, err)
			}
			p.prefixes = append(p.prefixes, pr.Masked())
		case strings.HasPrefix(item, "*."):
			suf := item[1:]
			if !validHostName(suf[1:]) {
				return Policy{}, fmt.Errorf("callback allow-list: %q is not a *.domain pattern", item)
			}
			p.suffixes = append(p.suffixes, suf)
		default:
			if a, err := netip.ParseAddr(strings.Trim(item, "[]")); err == nil {
				a = a.Unmap()
				p.prefixes = append(p.prefixes, netip.PrefixFrom(a, a.BitLen()))
			} else if validHostName(item) {
				p.names = append(p.names, item)
			} else {
				return Policy{}, fmt.Errorf("callback allow-list: %q is not a host name, *.domain, IP address or CIDR", item)
			}
		}
		p.AllowHosts = append(p.AllowHosts, item)
	}
	return p, nil
}

// validHostName reports whether s is a DNS name of letters, digits, '-', '_'
// and dots, labels 1..63 bytes, at most 253 bytes.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	// A last label of digits, or starting with 0x, makes the name an IPv4
	// address in a legacy form for some resolvers (2130706433, 0177.0.0.1,
	// 127.1, 0x7f.1): no top-level domain looks like that.
	last := s[strings.LastIndexByte(s, '.')+1:]
	if strings.HasPrefix(strings.ToLower(last), "0x") || strings.Trim(last, "0123456789") == "" {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// allowList reports whether the policy has an allow-list.
func (p Policy) allowList() bool { return len(p.AllowHosts) > 0 }

// matches reports whether host (a name in lower case or an IP literal) is on
// the allow-list.
func (p Policy) matches(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		for _, pr := range p.prefixes {
			if pr.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, n := range p.names {
		if host == n {
			return true
		}
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// special are the special-purpose blocks of the IANA registries (RFC 6890 and
// later) that the checks of package netip below do not name: shared (CGNAT),
// reserved, benchmarking, documentation and protocol-assignment blocks, and
// the IPv6 blocks that embed or translate an IPv4 address (NAT64, 6to4,
// Teredo, IPv4-translated and IPv4-compatible), through which a private or
// loopback IPv4 address could be reached.
var cgnat = netip.MustParsePrefix("100.64.0.0/10") // shared address space, RFC 6598

var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
		"2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16",
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// nonPublic reports why a is not a public address ("" when it is).
func nonPublic(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsMulticast():
		return "a multicast address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsUnspecified():
		return "the unspecified address"
	case cgnat.Contains(a):
		return "a shared (CGNAT) address"
	}
	for _, p := range special {
		if p.Contains(a) {
			return "a special-purpose address (" + p.String() + ")"
		}
	}
	return ""
}

// Check reports whether raw is an acceptable callback URL: an absolute http
// or https URL of at most MaxURLBytes bytes of valid UTF-8, with a host, no
// user info and no fragment, whose host the policy allows (see Policy). The
// error is of kind errs.ErrInvalid and says what is wrong. Names are resolved
// only when dialling (see the dialer of Hooks and Dispatcher).
func (p Policy) Check(raw string) error {
	bad := func(format string, args ...any) error {
		return errs.Kind(errs.ErrInvalid, "callback URL: "+fmt.Sprintf(format, args...))
	}
	if len(raw) > MaxURLBytes {
		return bad("longer than %d bytes", MaxURLBytes)
	}
	if !utf8.ValidString(raw) {
		return bad("not valid UTF-8")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if !u.IsAbs() {
		return bad("not an absolute URL (http://... or https://...)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("scheme %q is not http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.User != nil {
		return bad("user info (user:password@) is not allowed")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("a fragment (#...) is not allowed")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("port %q is not 1..65535", port)
		}
	}
	host := strings.ToLower(u.Hostname())
	if p.allowList() {
		if !p.matches(host) {
			return bad("host %q is not on the operator's callback allow-list", host)
		}
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := nonPublic(a); why != "" {
			return bad("host %s is %s; callbacks go to public addresses only (the operator may allow it: chatd serve --callback-allow-hosts)", host, why)
		}
		return nil
	}
	h := strings.TrimSuffix(host, ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return bad("host %q is the local machine; callbacks go to public addresses only (the operator may allow it: chatd serve --callback-allow-hosts)", host)
	}
	if !validHostName(h) {
		return bad("host %q is not a valid host name (letters, digits, '-' and dots; international names in their xn-- form)", host)
	}
	return nil
}

// errDialRefused is the cause of a dial the policy refused.
var errDialRefused = errors.New("callback address refused by policy")

// dialContext dials addr ("host:port" of the URL) for the callback client.
// With an allow-list the host must still match it; without one, every
// address the name resolves to is checked by the dialer's ControlContext
// after resolution, so a name that resolves (or rebinds) to a non-public
// address is refused.
func (p Policy) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.allowList() {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || !p.matches(strings.ToLower(host)) {
				return nil, fmt.Errorf("%w: %s is not on the allow-list", errDialRefused, addr)
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

// control refuses a non-public address when there is no allow-list.
func (p Policy) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	if p.allowList() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errDialRefused, address)
	}
	if why := nonPublic(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is %s", errDialRefused, ap.Addr(), why)
	}
	return nil
}

// Client returns the HTTP client callbacks are posted with: dials checked by
// the policy (see Check), no proxy from the environment, redirects not
// followed (the 3xx answer is returned, and counts as a failure), no overall
// timeout (each request carries its own deadline).
func (p Policy) Client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, ControlContext: p.control, Resolver: p.resolver}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            p.dialContext(d),
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
