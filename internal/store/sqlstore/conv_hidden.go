package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// Hidden group conversations (store.ConvStates HideGroupConv): a group's
// conversation deleted from a member's list stays out of it until the
// group's log passes the seq it had then. One row per (owner, group).
const convHiddenSchema = `
CREATE TABLE IF NOT EXISTS conv_group_hidden (
	app        BIGINT NOT NULL,
	owner      TEXT NOT NULL,
	grp        TEXT NOT NULL,
	seq        BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (app, owner, grp)
);
`

func init() {
	extraSchemas = append(extraSchemas, convHiddenSchema)
	appTables = append(appTables, struct{ table, col string }{"conv_group_hidden", "app"})
	userTables = append(userTables, struct{ table, col string }{"conv_group_hidden", "owner"})
}

// HideGroupConv implements store.ConvStates.
func (s *Store) HideGroupConv(ctx context.Context, app int64, owner, group string, seq int64, at time.Time) error {
	return wrap("hide group conversation", s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO conv_group_hidden (app, owner, grp, seq, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (app, owner, grp) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`),
			app, owner, group, seq, at.Unix())
		return err
	}))
}

// HiddenGroupConvs implements store.ConvStates.
func (s *Store) HiddenGroupConvs(ctx context.Context, app int64, owner string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT grp, seq FROM conv_group_hidden WHERE app = ? AND owner = ?`), app, owner)
	if err != nil {
		return nil, wrap("hidden group conversations", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var g string
		var seq int64
		if err := rows.Scan(&g, &seq); err != nil {
			return nil, wrap("hidden group conversations", err)
		}
		out[g] = seq
	}
	return out, wrap("hidden group conversations", rows.Err())
}
