package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/restapi"
)

// Limits bound what one client can hold on the HTTP port, before it has
// authenticated: time to send a request, time to take an answer, time kept idle
// between requests, request size and the number of open connections. Zero
// fields take the defaults below.
type Limits struct {
	// ReadHeaderTimeout bounds the time to send the request line and headers
	// (default 5 s, and never more than ReadTimeout).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to send a whole request, body included
	// (default 30 s).
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request's headers to the
	// end of the answer (default 60 s; pprof profiles must be shorter).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default 30 s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (default 64 KiB).
	MaxHeaderBytes int
	// MaxBodyBytes bounds every request body (default 1 MiB); the REST edge
	// refuses a larger one with 93000, the operator API has its own smaller bound.
	MaxBodyBytes int64
	// MaxConns bounds the open connections, device WebSocket sessions
	// included; connections beyond it are closed at once. Default: the
	// process's descriptor limit less ReservedFDs kept for the store, notices and logs.
	MaxConns int
}

// Defaults of Limits.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = restapi.DefaultMaxBodyBytes
	// ReservedFDs are the descriptors kept out of MaxConns's default.
	ReservedFDs = 128
)

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	l.ReadHeaderTimeout = min(l.ReadHeaderTimeout, l.ReadTimeout)
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = max(16, descriptorLimit()-ReservedFDs)
	}
	return l
}

// limitBody bounds every request body, whatever the route does with it.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// clearDeadlines lifts the HTTP read and write deadlines before next takes the
// connection over: a WebSocket session sets its own (login, idle and write
// timeouts), and the HTTP ones would otherwise end it ReadTimeout after its start.
func clearDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(w, r)
	})
}

// operatorUnbounded lifts the write deadline of requests that carry the
// operator token: a clock move runs every lifecycle job due on the way and may
// take longer than WriteTimeout. Unauthenticated requests keep every bound.
func operatorUnbounded(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if operator.Authorized(r, token) {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// connLimiter is a listener that keeps at most max connections open: one
// accepted beyond that is closed at once, so that descriptors never run out and
// a client is refused rather than left waiting.
type connLimiter struct {
	net.Listener
	slots   chan struct{}
	open    func(delta int) // counts open connections; may be nil
	refused func()          // counts refused connections; may be nil
}

func limitConns(ln net.Listener, max int, open func(int), refused func()) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), open: open, refused: refused}
}

// Accept returns the next connection within the limit.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			if l.open != nil {
				l.open(1)
			}
			return &limitedConn{Conn: c, l: l}, nil
		default:
			c.Close()
			if l.refused != nil {
				l.refused()
			}
		}
	}
}

// limitedConn gives its slot back when closed (once, however often closed).
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.slots
		if c.l.open != nil {
			c.l.open(-1)
		}
	})
	return err
}
