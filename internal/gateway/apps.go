package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// appRefresh is how stale a session's view of its app may get when no one
// says it changed: a suspended or deleted app stops its connected devices
// within this time. A change announced by AppChanged (this node) or by the
// bus (bus.InvApp, another node) applies at once.
const appRefresh = 2 * time.Second

// appCache shares one recent read of each app among all sessions of this node.
type appCache struct {
	mu   sync.Mutex
	apps map[int64]cachedApp
	gen  uint64 // moves on every forget and clear: a read begun before is not kept
}

type cachedApp struct {
	app     store.App
	fetched time.Time
}

// get returns the app as read at most appRefresh ago. Failures are not cached, so
// that requests for unknown ids cannot fill the cache.
func (c *appCache) get(ctx context.Context, t *tenant.Service, id int64) (store.App, error) {
	now := t.Clock.Now()
	c.mu.Lock()
	if c.apps == nil {
		c.apps = map[int64]cachedApp{}
	}
	e, ok := c.apps[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < appRefresh {
		return e.app, nil
	}
	app, err := t.GetApp(ctx, id)
	c.mu.Lock()
	switch {
	case err == nil && c.gen == gen:
		c.apps[id] = cachedApp{app: app, fetched: now}
	case err != nil:
		delete(c.apps, id)
	}
	c.mu.Unlock()
	return app, err
}

// forget drops the app's cached copy: the next get reads it again.
func (c *appCache) forget(id int64) {
	c.mu.Lock()
	c.gen++
	delete(c.apps, id)
	c.mu.Unlock()
}

// clear drops every cached app.
func (c *appCache) clear() {
	c.mu.Lock()
	c.gen++
	c.apps = nil
	c.mu.Unlock()
}

// pending is a set of keys waiting for one background worker, which runs fn
// for each: a key added again before its turn runs once (coalesced), so that
// bus handlers, which must not block, hand their store reads to it. The
// worker exists only while keys wait.
type pending[K comparable] struct {
	mu      sync.Mutex
	keys    map[K]struct{}
	running bool
}

func (p *pending[K]) add(k K, fn func(K)) {
	p.mu.Lock()
	if p.keys == nil {
		p.keys = map[K]struct{}{}
	}
	p.keys[k] = struct{}{}
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.drain(fn)
	}
}

func (p *pending[K]) drain(fn func(K)) {
	for {
		p.mu.Lock()
		keys := p.keys
		p.keys = nil
		if len(keys) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for k := range keys {
			fn(k)
		}
	}
}
