package auth

import (
	"sync"
	"time"

	"github.com/chatd/chatd/internal/clock"
)

// Key is one count a Limiter keeps: its name (an email, a client address, a
// pair of both) and how many attempts it allows per window (0: Limiter.Max).
type Key struct {
	Name string
	Max  int
}

// Limiter counts attempts per key in fixed windows: a key with its maximum of
// attempts counted in its current window of Window is refused until the
// window ends. Successful attempts may be given back (Release), so that only
// failures stay counted.
//
// Memory is bounded by MaxKeys. When it is full, keys whose window ended are
// dropped. Then, by default, a key still counting is never dropped, so nobody
// resets a count, his own or another's, by flooding the limiter with new keys:
// a new key is refused until a window ends (the limiter fails closed). With
// FailOpen, keys that are not refusing are dropped to make room, then any
// keys: a flood can then reset counts but never refuses a newcomer. Safe for
// concurrent use.
type Limiter struct {
	Max     int // attempts per window of a Key without its own Max
	Window  time.Duration
	MaxKeys int
	Clock   clock.Clock
	// FailOpen makes a full limiter drop counting keys rather than refuse new
	// ones: for counts whose loss costs little (sign-ups, the operator's
	// random token), where refusing everybody would cost more.
	FailOpen bool

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start time.Time
	n     int
	max   int
}

// Defaults of NewLimiter: 5 attempts per 15 minutes, 100,000 keys.
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
// its maximum in its window (or there is no room for a new key): then it
// counts nothing and returns false and how long until the latest-ending of
// the full windows ends.
func (l *Limiter) Take(keys ...Key) (ok bool, retryAfter time.Duration) {
	now := l.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]*window)
	}
	for _, k := range keys {
		if w := l.keys[k.Name]; w != nil && l.refusing(w, now) {
			if d := w.start.Add(l.Window).Sub(now); d > retryAfter {
				retryAfter = d
			}
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	missing := 0
	for _, k := range keys {
		if l.keys[k.Name] == nil {
			missing++
		}
	}
	if wait := l.makeRoom(now, missing); wait > 0 {
		return false, wait
	}
	for _, k := range keys {
		w := l.keys[k.Name]
		if w == nil {
			w = &window{start: now}
			l.keys[k.Name] = w
		} else if now.Sub(w.start) >= l.Window {
			w.start, w.n = now, 0
		}
		w.max = k.Max
		if w.max <= 0 {
			w.max = l.Max
		}
		w.n++
	}
	return true, 0
}

// Release gives back one attempt of each key taken in the current window (a
// successful one). A key left with no attempt is dropped, so that its next
// window begins with its next counted attempt.
func (l *Limiter) Release(keys ...Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if w := l.keys[k.Name]; w != nil && w.n > 0 {
			if w.n--; w.n == 0 {
				delete(l.keys, k.Name)
			}
		}
	}
}

// Len returns the number of keys kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Limiter) refusing(w *window, now time.Time) bool {
	return now.Sub(w.start) < l.Window && w.n >= w.max
}

// makeRoom makes room for n more keys by dropping ended windows. When there
// is still no room, it returns how long until the first kept window ends.
func (l *Limiter) makeRoom(now time.Time, n int) time.Duration {
	if n == 0 || l.MaxKeys <= 0 || len(l.keys)+n <= l.MaxKeys {
		return 0
	}
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.Window {
			delete(l.keys, k)
		}
	}
	if len(l.keys)+n <= l.MaxKeys {
		return 0
	}
	if l.FailOpen {
		for pass := 0; pass < 2 && len(l.keys)+n > l.MaxKeys; pass++ {
			for k, w := range l.keys {
				if len(l.keys)+n <= l.MaxKeys {
					break
				}
				if pass == 1 || !l.refusing(w, now) {
					delete(l.keys, k)
				}
			}
		}
		return 0
	}
	wait := l.Window
	for _, w := range l.keys {
		if d := w.start.Add(l.Window).Sub(now); d < wait {
			wait = d
		}
	}
	return wait
}
