package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
)

// statusSchema is the table of users' custom status texts (a new table of
// schema version 3: databases of any version get it on start).
const statusSchema = `
CREATE TABLE IF NOT EXISTS user_status (
	app           BIGINT NOT NULL,
	user_id       TEXT   NOT NULL,
	custom_status TEXT   NOT NULL,
	updated_at    BIGINT NOT NULL, -- Unix ms
	PRIMARY KEY (app, user_id)
);
`

func init() {
	extraSchemas = append(extraSchemas, statusSchema)
	appTables = append(appTables, struct{ table, col string }{"user_status", "app"})
	userTables = append(userTables, struct{ table, col string }{"user_status", "user_id"}) // a status goes with the user
}

// SetCustomStatus implements store.UserStatuses.
func (s *Store) SetCustomStatus(ctx context.Context, app int64, userID, text string, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareUser(ctx, tx, app, userID); err != nil {
			return err
		}
		if text == "" {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM user_status WHERE app = ? AND user_id = ?`), app, userID)
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO user_status (app, user_id, custom_status, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (app, user_id) DO UPDATE SET custom_status = excluded.custom_status, updated_at = excluded.updated_at`),
			app, userID, text, toMs(at))
		return err
	})
	if errors.Is(err, errs.ErrNotFound) {
		return err
	}
	return wrap("set custom status", err)
}

// CustomStatuses implements store.UserStatuses. A status whose user was deleted
// is not returned, nor after the user is imported again (a status older than
// the user's creation belongs to the deleted one).
func (s *Store) CustomStatuses(ctx context.Context, app int64, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for _, part := range chunksOf(ids, maxInList) {
		args := make([]any, 0, len(part)+1)
		args = append(args, app)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`
			SELECT st.user_id, st.custom_status FROM user_status st
			JOIN users u ON u.app = st.app AND u.user_id = st.user_id AND st.updated_at >= u.created_at
			WHERE st.app = ? AND st.user_id IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, wrap("custom statuses", err)
		}
		for rows.Next() {
			var id, text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return nil, wrap("custom statuses", err)
			}
			out[id] = text
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("custom statuses", err)
		}
	}
	return out, nil
}
