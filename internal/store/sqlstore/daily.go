package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"

	"github.com/chatd/chatd/internal/store"
)

// dailySchema holds per-app daily usage (store.Daily): additive counters per
// app and day, and the day's distinct users (whose number daily_usage.active
// keeps, raised only by a user's first row of the day).
const dailySchema = `
CREATE TABLE IF NOT EXISTS daily_usage (
	app        BIGINT NOT NULL,
	day        TEXT NOT NULL,
	active     BIGINT NOT NULL DEFAULT 0,
	logins     BIGINT NOT NULL DEFAULT 0,
	c2c_msgs   BIGINT NOT NULL DEFAULT 0,
	group_msgs BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (app, day)
);
CREATE TABLE IF NOT EXISTS daily_users (
	app     BIGINT NOT NULL,
	day     TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (app, day, user_id)
);
CREATE INDEX IF NOT EXISTS daily_usage_by_day ON daily_usage (day);
CREATE INDEX IF NOT EXISTS daily_users_by_day ON daily_users (day);
`

func init() {
	extraSchemas = append(extraSchemas, dailySchema)
	appTables = append(appTables, []struct{ table, col string }{{"daily_usage", "app"}, {"daily_users", "app"}}...)
}

// AddDaily implements store.Daily. Rows are written in key order, so that
// concurrent flushes of several nodes lock them in one order (no deadlock).
func (s *Store) AddDaily(ctx context.Context, counts []store.DailyCounts, users []store.DailyUser) error {
	if len(counts) == 0 && len(users) == 0 {
		return nil
	}
	counts = slices.Clone(counts)
	slices.SortFunc(counts, func(a, b store.DailyCounts) int {
		return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Day, b.Day))
	})
	users = slices.Clone(users)
	slices.SortFunc(users, func(a, b store.DailyUser) int {
		return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Day, b.Day), cmp.Compare(a.User, b.User))
	})
	type appDay struct {
		app int64
		day string
	}
	return wrap("add daily", s.inTx(ctx, func(tx *sql.Tx) error {
		fresh := map[appDay]int64{}
		for _, u := range users {
			res, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO daily_users (app, day, user_id) VALUES (?, ?, ?)
				ON CONFLICT (app, day, user_id) DO NOTHING`), u.App, u.Day, u.User)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			fresh[appDay{u.App, u.Day}] += n
		}
		// One upsert per (app, day), in key order: the counts and the new users.
		keys := make([]appDay, 0, len(counts)+len(fresh))
		sum := map[appDay]store.DailyCounts{}
		for _, c := range counts {
			k := appDay{c.App, c.Day}
			if _, ok := sum[k]; !ok {
				keys = append(keys, k)
			}
			t := sum[k]
			t.Logins += c.Logins
			t.C2CMsgs += c.C2CMsgs
			t.GroupMsgs += c.GroupMsgs
			sum[k] = t
		}
		for k := range fresh {
			if _, ok := sum[k]; !ok {
				keys = append(keys, k)
				sum[k] = store.DailyCounts{}
			}
		}
		slices.SortFunc(keys, func(a, b appDay) int { return cmp.Or(cmp.Compare(a.app, b.app), cmp.Compare(a.day, b.day)) })
		for _, k := range keys {
			c, a := sum[k], fresh[k]
			if a == 0 && c.Logins == 0 && c.C2CMsgs == 0 && c.GroupMsgs == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO daily_usage (app, day, active, logins, c2c_msgs, group_msgs) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (app, day) DO UPDATE SET
					active = daily_usage.active + excluded.active,
					logins = daily_usage.logins + excluded.logins,
					c2c_msgs = daily_usage.c2c_msgs + excluded.c2c_msgs,
					group_msgs = daily_usage.group_msgs + excluded.group_msgs`),
				k.app, k.day, a, c.Logins, c.C2CMsgs, c.GroupMsgs); err != nil {
				return err
			}
		}
		return nil
	}))
}

// DailyUsage implements store.Daily.
func (s *Store) DailyUsage(ctx context.Context, app int64, from, to string) ([]store.DailyUsage, error) {
	return queryAll(ctx, s.r, s.q(`
		SELECT day, active, logins, c2c_msgs, group_msgs FROM daily_usage
		WHERE app = ? AND day >= ? AND day <= ? ORDER BY day`), "daily usage",
		func(r scanner) (store.DailyUsage, error) {
			var d store.DailyUsage
			err := r.Scan(&d.Day, &d.ActiveUsers, &d.Logins, &d.C2CMsgs, &d.GroupMsgs)
			return d, err
		}, app, from, to)
}

// PurgeDailyBefore implements store.Daily.
func (s *Store) PurgeDailyBefore(ctx context.Context, figures, users string) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct{ table, day string }{{"daily_users", users}, {"daily_usage", figures}} {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t.table+` WHERE day < ?`), t.day)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, wrap("purge daily", err)
}
