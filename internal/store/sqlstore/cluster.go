package sqlstore

import (
	"context"
	"database/sql/driver"
	"hash/crc32"
	"time"
)

// clusterSchema holds the claims of push tasks: the node running each task
// and until when (a new table: no upgrade step). A claim past lease_until is
// free for another node to take.
const clusterSchema = `
CREATE TABLE IF NOT EXISTS push_claims (
	id          TEXT PRIMARY KEY, -- push_tasks.id
	app         BIGINT NOT NULL,
	node        TEXT NOT NULL,
	lease_until BIGINT NOT NULL -- Unix ms
);
`

func init() {
	extraSchemas = append(extraSchemas, clusterSchema)
	appTables = append(appTables, struct{ table, col string }{"push_claims", "app"})
}

// lockSpace is the first key of chatd's two-key advisory locks (the second is
// the CRC-32 of the lock's name); the schema lock uses the one-key space.
const lockSpace = 4300741

// TryLock implements store.Cluster.
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if s.d.SerialWrites { // one process owns the database
		return func() {}, true, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, false, wrap("try lock", err)
	}
	key := int32(crc32.ChecksumIEEE([]byte(name)))
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockSpace, key).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, wrap("try lock", err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var freed bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, lockSpace, key).Scan(&freed); err != nil || !freed {
			// The session may still hold it: drop the connection rather than
			// return it to the pool with the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}

// ClaimPushTask implements store.Cluster.
func (s *Store) ClaimPushTask(ctx context.Context, app int64, id, node string, now time.Time, lease time.Duration) (bool, error) {
	at := toMs(now)
	res, err := s.wexec(ctx, s.q(`
		INSERT INTO push_claims (id, app, node, lease_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET node = excluded.node, lease_until = excluded.lease_until
		WHERE push_claims.node = excluded.node OR push_claims.lease_until <= ?`),
		id, app, node, at+lease.Milliseconds(), at)
	if err != nil {
		return false, wrap("claim push task", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("claim push task", err)
}

// ReleasePushTask implements store.Cluster.
func (s *Store) ReleasePushTask(ctx context.Context, app int64, id, node string) error {
	_, err := s.wexec(ctx, s.q(`DELETE FROM push_claims WHERE id = ? AND app = ? AND node = ?`), id, app, node)
	return wrap("release push task", err)
}
