// Package forwarded trusts what reverse proxies in front of chatd say about
// the client: X-Forwarded-For (its address) and X-Forwarded-Proto (whether
// it spoke HTTPS). Only a connection from an operator-named proxy (chatd
// serve --trusted-proxies) is believed; from anyone else both headers are
// ignored, so a client cannot pick its own address for the sign-in rate
// limits or the callbacks' ClientIP.
package forwarded

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// MaxHops bounds the X-Forwarded-For entries examined (from the right).
const MaxHops = 16

// Proxies are the addresses of trusted reverse proxies.
type Proxies []netip.Prefix

// Parse reads a comma-separated list of IP addresses and CIDRs ("" is none).
func Parse(list string) (Proxies, error) {
	var out Proxies
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

type httpsKey struct{}

// Handler passes requests to next; a request whose connection comes from a
// trusted proxy gets, as its RemoteAddr, the rightmost X-Forwarded-For entry
// that is not a trusted proxy (port 0), and counts as HTTPS (HTTPS) when the
// proxy's X-Forwarded-Proto says "https". With no proxies it is next itself.
func (p Proxies) Handler(next http.Handler) http.Handler {
	if len(p) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !p.trusts(peer) {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		if c, ok := p.client(r.Header.Values("X-Forwarded-For")); ok {
			r2.RemoteAddr = netip.AddrPortFrom(c, 0).String()
		}
		if proto := r.Header.Values("X-Forwarded-Proto"); len(proto) > 0 &&
			strings.EqualFold(strings.TrimSpace(last(proto[len(proto)-1])), "https") {
			r2 = r2.WithContext(context.WithValue(r2.Context(), httpsKey{}, true))
		}
		next.ServeHTTP(w, r2)
	})
}

// client walks X-Forwarded-For from the right past trusted proxies; a
// malformed entry ends the walk (what lies left of it is not believed).
func (p Proxies) client(values []string) (netip.Addr, bool) {
	var found netip.Addr
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if hops++; hops > MaxHops {
				return found, found.IsValid()
			}
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return found, found.IsValid()
			}
			found = a.Unmap()
			if !p.trusts(found) {
				return found, true
			}
		}
	}
	return found, found.IsValid()
}

func last(list string) string {
	if i := strings.LastIndexByte(list, ','); i >= 0 {
		return list[i+1:]
	}
	return list
}

func addrOf(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

// HTTPS reports whether the client reached chatd over HTTPS: chatd
// terminated TLS itself, or a trusted proxy said so (Handler).
func HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v, _ := r.Context().Value(httpsKey{}).(bool)
	return v
}
