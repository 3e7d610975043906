package gateway

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// Catching up after the bus reconnects (bus.InvAll). The bus between nodes
// is at most once: while this node was cut off, the kicks and deliveries
// other nodes published for its devices were lost. So, for every app with
// sessions here, one at a time and in the background (the bus callback only
// queues the app):
//   - the app is read again (endIfInactive);
//   - each session whose account no longer exists, or whose user was kicked
//     after the session logged in (im.LoginCheck.Ends), ends with the
//     "kicked" frame a live kick sends;
//   - every other session is sent {"op":"log_head","seq":N}, N the newest
//     seq of its user's log, read after the reconnect: a device that has
//     delivered less syncs. Group logs are not covered: a device fills a
//     group's gap by group_sync on the group's next entry (docs/protocol.md).

// Bounds of the catch-up of one app.
const (
	resyncBatch   = im.MaxBatchAccounts // users per im.LoginChecks
	resyncReaders = 4                   // batches of one app read at once
)

// resyncApp runs the catch-up of app id (the resyncs worker calls it).
func (g *Gateway) resyncApp(id int64) {
	ctx := context.Background()
	sessions := g.sessionsOf(id)
	if len(sessions) == 0 {
		return
	}
	g.endIfInactive(ctx, id, sessions)
	app, err := g.apps.get(ctx, g.tenants, id)
	if err != nil || g.im.AppActive(app) != nil {
		return // ended above, or the store is unreachable (WatchApps tries again)
	}
	byUser := map[string][]*session{}
	var users []string
	for _, s := range sessions {
		if byUser[s.user] == nil {
			users = append(users, s.user)
		}
		byUser[s.user] = append(byUser[s.user], s)
	}
	sem := make(chan struct{}, resyncReaders)
	var wg sync.WaitGroup
	for start := 0; start < len(users); start += resyncBatch {
		batch := users[start:min(start+resyncBatch, len(users))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			g.resyncUsers(ctx, app, batch, byUser)
		}()
	}
	wg.Wait()
}

// resyncUsers checks the sessions of users (at most resyncBatch) and tells
// those that stay their user's log head. byUser is only read.
func (g *Gateway) resyncUsers(ctx context.Context, app store.App, users []string, byUser map[string][]*session) {
	checks, err := g.im.LoginChecks(ctx, app, users)
	if err != nil {
		g.log.Warn("checking sessions after a bus reconnect failed", "app", app.SDKAppID, "err", err)
		return
	}
	for _, u := range users {
		c := checks[u]
		var keep []*session
		for _, s := range byUser[u] {
			if why := c.Ends(s.sigTime, s.loginAt); why != "" {
				kick([]*session{s}, why)
			} else {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			continue
		}
		seq, err := g.im.LastSeq(ctx, app, u)
		if err != nil {
			g.log.Warn("reading a log head after a bus reconnect failed", "app", app.SDKAppID, "user", u, "err", err)
			continue
		}
		frame, _ := json.Marshal(Frame{Op: OpLogHead, Seq: seq})
		for _, s := range keep {
			s.enqueue(frame)
		}
	}
}

// kick ends sessions with a "kicked" frame saying reason, once their queued
// frames are written.
func kick(sessions []*session, reason string) {
	frame, _ := json.Marshal(Frame{Op: OpKicked, Reason: reason})
	for _, s := range sessions {
		s.enqueue(frame)
		s.closeAfterFlush(websocket.ClosePolicyViolation, "kicked")
	}
}
