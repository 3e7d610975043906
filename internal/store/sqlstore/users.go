package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func encodeProfile(p map[string]string) (string, error) {
	if len(p) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

func decodeProfile(s string) (map[string]string, error) {
	p := map[string]string{}
	if s == "" {
		return p, nil
	}
	err := json.Unmarshal([]byte(s), &p)
	return p, err
}

// ImportUsers implements store.Users. A new user is stored with its Profile; an
// existing one only gets a non-empty Nick and FaceURL.
func (s *Store) ImportUsers(ctx context.Context, app int64, users []store.User) error {
	if len(users) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.q(`
			INSERT INTO users (app, user_id, nick, face_url, profile, created_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (app, user_id) DO UPDATE SET
				nick     = CASE WHEN excluded.nick <> '' THEN excluded.nick ELSE users.nick END,
				face_url = CASE WHEN excluded.face_url <> '' THEN excluded.face_url ELSE users.face_url END`))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, u := range users {
			profile, err := encodeProfile(u.Profile)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, app, u.UserID, u.Nick, u.FaceURL, profile, toMs(u.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("import users", err)
}

// DeleteUsers implements store.Users.
func (s *Store) DeleteUsers(ctx context.Context, app int64, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, part := range chunksOf(ids, maxInList) {
			args := make([]any, 0, len(part)+1)
			args = append(args, app)
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				DELETE FROM users WHERE app = ? AND user_id IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return err
			}
			for _, hook := range userDeleteHooks { // before the rows go (groups: ownership, counts)
				if err := hook(ctx, s, tx, app, part); err != nil {
					return err
				}
			}
			for _, t := range userTables { // the users' rows of other tables (mutes, push data, relations)
				if _, err := tx.ExecContext(ctx, s.q(`
					DELETE FROM `+t.table+` WHERE app = ? AND `+t.col+` IN (`+placeholders(len(part))+`)`), args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return wrap("delete users", err)
}

// userTables are the tables holding rows of a user, and the column naming the
// user, emptied for the users DeleteUsers deletes (appended by their files).
var userTables []struct{ table, col string }

// userDeleteHooks run in DeleteUsers' transaction, for each part of the ids,
// before the users' rows are deleted (appended by their files).
var userDeleteHooks []func(ctx context.Context, s *Store, tx *sql.Tx, app int64, ids []string) error

// GetUsers implements store.Users. Profile is never nil.
func (s *Store) GetUsers(ctx context.Context, app int64, ids []string) (map[string]store.User, error) {
	out := make(map[string]store.User, len(ids))
	for _, part := range chunksOf(ids, maxInList) {
		args := make([]any, 0, len(part)+1)
		args = append(args, app)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`
			SELECT user_id, nick, face_url, profile, created_at FROM users
			WHERE app = ? AND user_id IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, wrap("get users", err)
		}
		for rows.Next() {
			var u store.User
			var profile string
			var created int64
			if err := rows.Scan(&u.UserID, &u.Nick, &u.FaceURL, &profile, &created); err != nil {
				rows.Close()
				return nil, wrap("get users", err)
			}
			if u.Profile, err = decodeProfile(profile); err != nil {
				rows.Close()
				return nil, wrap("get users: profile of "+u.UserID, err)
			}
			u.CreatedAt = fromMs(created)
			out[u.UserID] = u
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("get users", err)
		}
	}
	return out, nil
}

// SetProfile implements store.Users.
func (s *Store) SetProfile(ctx context.Context, app int64, userID string, tags map[string]string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var profile string
		err := tx.QueryRowContext(ctx, s.q(`
			SELECT profile FROM users WHERE app = ? AND user_id = ?`+s.d.forUpdate()), app, userID).Scan(&profile)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		p, err := decodeProfile(profile)
		if err != nil {
			return err
		}
		for k, v := range tags {
			p[k] = v
		}
		if profile, err = encodeProfile(p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`
			UPDATE users SET profile = ? WHERE app = ? AND user_id = ?`), profile, app, userID)
		return err
	})
	if err != nil && !isSentinel(err) {
		return wrap("set profile", err)
	}
	return err
}

// SetKickTime implements store.Users.
func (s *Store) SetKickTime(ctx context.Context, app int64, userID string, at time.Time) error {
	_, err := s.wexec(ctx, s.q(`
		INSERT INTO user_kicks (app, user_id, kicked_at) VALUES (?, ?, ?)
		ON CONFLICT (app, user_id) DO UPDATE SET kicked_at =
			CASE WHEN excluded.kicked_at > user_kicks.kicked_at THEN excluded.kicked_at ELSE user_kicks.kicked_at END`),
		app, userID, toMs(at))
	return wrap("set kick time", err)
}

// KickTime implements store.Users.
func (s *Store) KickTime(ctx context.Context, app int64, userID string) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT kicked_at FROM user_kicks WHERE app = ? AND user_id = ?`), app, userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("kick time", err)
	}
	return fromMs(at), nil
}
