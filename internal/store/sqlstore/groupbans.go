package sqlstore

import (
	"context"
	"database/sql"

	"github.com/chatd/chatd/internal/store"
)

// groupBanSchema is the table of live-room bans (ban_group_member).
const groupBanSchema = `
CREATE TABLE IF NOT EXISTS im_group_bans (
	app          BIGINT NOT NULL,
	group_id     TEXT   NOT NULL,
	user_id      TEXT   NOT NULL,
	banned_until BIGINT NOT NULL, -- Unix seconds
	description  TEXT   NOT NULL,
	PRIMARY KEY (app, group_id, user_id)
);
CREATE INDEX IF NOT EXISTS im_group_bans_by_user ON im_group_bans (app, user_id)`

func init() {
	extraSchemas = append(extraSchemas, groupBanSchema)
	appTables = append(appTables, struct{ table, col string }{"im_group_bans", "app"})
	userTables = append(userTables, struct{ table, col string }{"im_group_bans", "user_id"}) // a ban goes with the user
}

// BanGroupMembers implements store.GroupBans: the group's row is locked, the
// bans written, the banned members removed as RemoveGroupMembers does.
func (s *Store) BanGroupMembers(ctx context.Context, app int64, groupID string, bans []store.GroupBan, q store.GroupQuota) (store.GroupRemoval, error) {
	var r store.GroupRemoval
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_bans WHERE app = ? AND group_id = ? AND banned_until <= ?`),
			app, groupID, q.At.Unix()); err != nil {
			return err
		}
		users := make([]string, len(bans))
		for i, b := range bans {
			users[i] = b.UserID
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO im_group_bans (app, group_id, user_id, banned_until, description) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (app, group_id, user_id) DO UPDATE SET banned_until = excluded.banned_until, description = excluded.description`),
				app, groupID, b.UserID, b.Until, b.Description); err != nil {
				return err
			}
		}
		r, err = s.removeMembers(ctx, tx, app, g, users, q.Day, q.At)
		return err
	})
	if err != nil {
		return store.GroupRemoval{}, groupWrap("ban group members", err)
	}
	return r, nil
}

// UnbanGroupMembers implements store.GroupBans.
func (s *Store) UnbanGroupMembers(ctx context.Context, app int64, groupID string, users []string) error {
	for _, part := range chunksOf(users, maxInList) {
		args := []any{app, groupID}
		for _, u := range part {
			args = append(args, u)
		}
		if _, err := s.wexec(ctx, s.q(`DELETE FROM im_group_bans WHERE app = ? AND group_id = ? AND user_id IN (`+placeholders(len(part))+`)`), args...); err != nil {
			return wrap("unban group members", err)
		}
	}
	return nil
}

func scanBan(r scanner) (store.GroupBan, error) {
	var b store.GroupBan
	return b, r.Scan(&b.UserID, &b.Until, &b.Description)
}

// GroupBansOf implements store.GroupBans.
func (s *Store) GroupBansOf(ctx context.Context, app int64, groupID string, users []string, now int64) (map[string]store.GroupBan, error) {
	out := make(map[string]store.GroupBan, len(users))
	for _, part := range chunksOf(users, maxInList) {
		args := []any{app, groupID, now}
		for _, u := range part {
			args = append(args, u)
		}
		bs, err := queryAll(ctx, s.r, s.q(`SELECT user_id, banned_until, description FROM im_group_bans
			WHERE app = ? AND group_id = ? AND banned_until > ? AND user_id IN (`+placeholders(len(part))+`)`), "group bans", scanBan, args...)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out[b.UserID] = b
		}
	}
	return out, nil
}

// ListGroupBans implements store.GroupBans.
func (s *Store) ListGroupBans(ctx context.Context, app int64, groupID string, now int64, offset, limit int) ([]store.GroupBan, bool, error) {
	bs, err := queryAll(ctx, s.r, s.q(`SELECT user_id, banned_until, description FROM im_group_bans
		WHERE app = ? AND group_id = ? AND banned_until > ? ORDER BY user_id LIMIT ? OFFSET ?`), "list group bans", scanBan,
		app, groupID, now, limit+1, offset)
	if err != nil {
		return nil, false, err
	}
	if len(bs) > limit {
		return bs[:limit], true, nil
	}
	return bs, false, nil
}
