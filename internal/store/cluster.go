package store

import (
	"context"
	"time"
)

// Cluster coordinates the nodes that share one store (several chatd nodes on
// one PostgreSQL; the embedded store has one node).
type Cluster interface {
	// TryLock takes the lock name for this node when no other node holds it:
	// ok true and release, which frees it (call it once, whatever ctx did).
	// ok false: another node holds it, nothing to release. The embedded store
	// always grants it. PostgreSQL: a session advisory lock, held on one pooled
	// connection until release (a lost connection frees it): only for work that
	// is safe, if wasteful, should two nodes ever run it at once.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)

	// ClaimPushTask makes node the runner of push task id of app until
	// now+lease, unless another node's claim runs past now: true when node
	// holds it afterwards (a new claim, its own renewed, or an expired one taken
	// over), false when another node holds it. One statement: two nodes
	// claiming at once never both win.
	ClaimPushTask(ctx context.Context, app int64, id, node string, now time.Time, lease time.Duration) (bool, error)
	// ReleasePushTask ends node's claim of task id (another node's claim, or
	// none: nothing), so that another node may take the task at once.
	ReleasePushTask(ctx context.Context, app int64, id, node string) error
}
