package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// appRefresh is how stale a session's view of its app may get: a suspended or
// deleted app stops its connected devices within this time.
const appRefresh = 2 * time.Second

// appCache shares one recent read of each app among all sessions of this node.
type appCache struct {
	mu   sync.Mutex
	apps map[int64]cachedApp
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
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < appRefresh {
		return e.app, nil
	}
	app, err := t.GetApp(ctx, id)
	c.mu.Lock()
	if err == nil {
		c.apps[id] = cachedApp{app: app, fetched: now}
	} else {
		delete(c.apps, id)
	}
	c.mu.Unlock()
	return app, err
}
