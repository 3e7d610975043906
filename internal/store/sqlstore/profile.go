package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// profileSchema holds the declared custom profile fields of apps and the users'
// global mutes (new tables: no upgrade step).
const profileSchema = `
-- Custom profile fields declared per app (Tag_Profile_Custom_<name>).
CREATE TABLE IF NOT EXISTS profile_fields (
	app        BIGINT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	max_bytes  INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (app, name)
);

-- Global mutes: until when (Unix ms; 0 none; the largest BIGINT forever) a user
-- may not send one-to-one or group messages.
CREATE TABLE IF NOT EXISTS user_mutes (
	app         BIGINT NOT NULL,
	user_id     TEXT NOT NULL,
	c2c_until   BIGINT NOT NULL,
	group_until BIGINT NOT NULL,
	PRIMARY KEY (app, user_id)
);
`

func init() {
	extraSchemas = append(extraSchemas, profileSchema)
	userTables = append(userTables, struct{ table, col string }{"user_mutes", "user_id"}) // a mute goes with the user
}

// AddProfileField implements store.Profiles. The app's row is locked so that
// concurrent declarations of one app count one after the other; a missing or
// deleted app is errs.ErrNotFound.
func (s *Store) AddProfileField(ctx context.Context, app int64, f store.ProfileField, max int) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.liveApp(ctx, tx, app, s.d.forUpdate(), true); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM profile_fields WHERE app = ?`), app).Scan(&n); err != nil {
			return err
		}
		var dup int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM profile_fields WHERE app = ? AND name = ?`), app, f.Name).Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			return errs.ErrExists
		}
		if max > 0 && n >= max {
			return errs.ErrLimit
		}
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO profile_fields (app, name, type, max_bytes, created_at) VALUES (?, ?, ?, ?, ?)`),
			app, f.Name, f.Type, f.MaxBytes, toMs(f.CreatedAt))
		return err
	})
	if err != nil && !isSentinel(err) {
		return wrap("add profile field", err)
	}
	return err
}

// ProfileFields implements store.Profiles.
func (s *Store) ProfileFields(ctx context.Context, app int64) ([]store.ProfileField, error) {
	return queryAll(ctx, s.r, s.q(`
		SELECT name, type, max_bytes, created_at FROM profile_fields WHERE app = ? ORDER BY name`),
		"profile fields", func(r scanner) (store.ProfileField, error) {
			var f store.ProfileField
			var created int64
			err := r.Scan(&f.Name, &f.Type, &f.MaxBytes, &created)
			f.CreatedAt = fromMs(created)
			return f, err
		}, app)
}

// SetMute implements store.Profiles. Setting a mute of a user that does not
// exist is errs.ErrNotFound.
func (s *Store) SetMute(ctx context.Context, app int64, user string, m store.Mute) error {
	if m.C2CUntil == 0 && m.GroupUntil == 0 {
		_, err := s.wexec(ctx, s.q(`DELETE FROM user_mutes WHERE app = ? AND user_id = ?`), app, user)
		return wrap("set mute", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareUser(ctx, tx, app, user); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO user_mutes (app, user_id, c2c_until, group_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (app, user_id) DO UPDATE SET c2c_until = excluded.c2c_until, group_until = excluded.group_until`),
			app, user, m.C2CUntil, m.GroupUntil)
		return err
	})
	if err != nil && !isSentinel(err) {
		return wrap("set mute", err)
	}
	return err
}

// GetMute implements store.Profiles.
func (s *Store) GetMute(ctx context.Context, app int64, user string) (store.Mute, error) {
	var m store.Mute
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT c2c_until, group_until FROM user_mutes WHERE app = ? AND user_id = ?`), app, user).Scan(&m.C2CUntil, &m.GroupUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Mute{}, nil
	}
	return m, wrap("get mute", err)
}
