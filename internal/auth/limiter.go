package auth

import (
	"sync"
	"time"

	"github.com/chatd/chatd/internal/clock"
)

// Limiter counts sign-in attempts per key (an email, a client address) in
// fixed windows: a key with Max attempts counted in its current window of
// Window is refused until the window ends. Successful attempts are given
// back (Release), so only failures stay counted. Memory is bounded: at most
// MaxKeys keys are kept; when full, keys whose window ended are dropped, and
// if none did, an arbitrary key is. Safe for concurrent use.
type Limiter struct {
	Max     int
	Window  time.Duration
	MaxKeys int
	Clock   clock.Clock

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// Defaults of NewLimiter: 5 failures per 15 minutes, 100,000 keys.
const (
	DefaultMaxFailures = 5
	DefaultWindow      = 15 * time.Minute
	DefaultMaxKeys     = 100_000
)

// NewLimiter returns a Limiter with the defaults on clock c.
func NewLimiter(c clock.Clock) *Limiter {
	return &Limiter{Max: DefaultMaxFailures, Window: DefaultWindow, MaxKeys: DefaultMaxKeys, Clock: c}
}

// Take counts one attempt against every key, unless one of them is already at
// Max in its window: then it counts nothing and returns false and how long
// until the latest-ending of the full windows ends.
func (l *Limiter) Take(keys ...string) (ok bool, retryAfter time.Duration) {
	now := l.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]*window)
	}
	for _, k := range keys {
		if w := l.keys[k]; w != nil && now.Sub(w.start) < l.Window && w.n >= l.Max {
			if d := w.start.Add(l.Window).Sub(now); d > retryAfter {
				retryAfter = d
			}
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, k := range keys {
		w := l.keys[k]
		if w == nil || now.Sub(w.start) >= l.Window {
			if w == nil {
				l.makeRoom(now)
				w = &window{}
				l.keys[k] = w
			}
			w.start, w.n = now, 0
		}
		w.n++
	}
	return true, 0
}

// Release gives back one attempt of each key taken in the current window (a
// successful one).
func (l *Limiter) Release(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if w := l.keys[k]; w != nil && w.n > 0 {
			w.n--
		}
	}
}

// Len returns the number of keys kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// makeRoom makes room for one more key when MaxKeys are kept.
func (l *Limiter) makeRoom(now time.Time) {
	if l.MaxKeys <= 0 || len(l.keys) < l.MaxKeys {
		return
	}
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.Window {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.MaxKeys {
			break
		}
		delete(l.keys, k)
	}
}
