package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// pushSchema holds the tables of push to all users (new tables: no upgrade step).
// Tags and attribute values are indexed by (app, tag or slot and value, user_id),
// so that a push walks the users of one tag or value in UserID order without
// reading the others; the primary keys answer "does this user have it".
const pushSchema = `
CREATE TABLE IF NOT EXISTS push_attr_names (
	app  BIGINT NOT NULL,
	slot INTEGER NOT NULL, -- 0..9
	name TEXT NOT NULL,
	PRIMARY KEY (app, slot)
);

CREATE TABLE IF NOT EXISTS push_user_attrs (
	app     BIGINT NOT NULL,
	user_id TEXT NOT NULL,
	slot    INTEGER NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (app, user_id, slot)
);
CREATE INDEX IF NOT EXISTS push_user_attrs_by_value ON push_user_attrs (app, slot, value, user_id);

CREATE TABLE IF NOT EXISTS push_user_tags (
	app     BIGINT NOT NULL,
	user_id TEXT NOT NULL,
	tag     TEXT NOT NULL,
	PRIMARY KEY (app, user_id, tag)
);
CREATE INDEX IF NOT EXISTS push_user_tags_by_tag ON push_user_tags (app, tag, user_id);

-- One row per im_push; cursor_user is the last target handled (targets are
-- walked in user_id order), so a restart resumes after it.
CREATE TABLE IF NOT EXISTS push_tasks (
	id          TEXT PRIMARY KEY,
	app         BIGINT NOT NULL,
	from_user   TEXT NOT NULL,
	msg_random  BIGINT NOT NULL,
	msg_seq     BIGINT NOT NULL,
	msg_time    BIGINT NOT NULL,
	body        {{BLOB}},
	lifetime_ms BIGINT NOT NULL,
	cond        TEXT NOT NULL, -- JSON of store.PushCondition
	state       TEXT NOT NULL,
	cursor_user TEXT NOT NULL,
	targets     BIGINT NOT NULL,
	delivered   BIGINT NOT NULL,
	error       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	done_at     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS push_tasks_by_app ON push_tasks (app, created_at);
CREATE INDEX IF NOT EXISTS push_tasks_running ON push_tasks (created_at) WHERE state = 'running';

-- The push rate of an app: its last push (Unix ms) and its pushes of day ("2006-01-02", UTC).
CREATE TABLE IF NOT EXISTS push_rate (
	app     BIGINT PRIMARY KEY,
	last_at BIGINT NOT NULL,
	day     TEXT NOT NULL,
	n       INTEGER NOT NULL
);
`

// SetPushAttrNames implements store.Push.
func (s *Store) SetPushAttrNames(ctx context.Context, app int64, names map[int]string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.liveApp(ctx, tx, app, s.d.forShare(), false); err != nil {
			return err
		}
		for slot, name := range names {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO push_attr_names (app, slot, name) VALUES (?, ?, ?)
				ON CONFLICT (app, slot) DO UPDATE SET name = excluded.name`), app, slot, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		return wrap("set push attribute names", err)
	}
	return err
}

// PushAttrNames implements store.Push.
func (s *Store) PushAttrNames(ctx context.Context, app int64) (map[int]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT slot, name FROM push_attr_names WHERE app = ?`), app)
	if err != nil {
		return nil, wrap("push attribute names", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var slot int
		var name string
		if err := rows.Scan(&slot, &name); err != nil {
			return nil, wrap("push attribute names", err)
		}
		out[slot] = name
	}
	return out, wrap("push attribute names", rows.Err())
}

// SetUserPushAttrs implements store.Push.
func (s *Store) SetUserPushAttrs(ctx context.Context, app int64, user string, attrs map[int]string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareUser(ctx, tx, app, user); err != nil {
			return err
		}
		for slot, v := range attrs {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO push_user_attrs (app, user_id, slot, value) VALUES (?, ?, ?, ?)
				ON CONFLICT (app, user_id, slot) DO UPDATE SET value = excluded.value`), app, user, slot, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		return wrap("set user push attributes", err)
	}
	return err
}

// RemoveUserPushAttrs implements store.Push.
func (s *Store) RemoveUserPushAttrs(ctx context.Context, app int64, user string, slots []int) error {
	if len(slots) == 0 {
		return nil
	}
	args := []any{app, user}
	for _, sl := range slots {
		args = append(args, sl)
	}
	_, err := s.wexec(ctx, s.q(`DELETE FROM push_user_attrs WHERE app = ? AND user_id = ? AND slot IN (`+placeholders(len(slots))+`)`), args...)
	return wrap("remove user push attributes", err)
}

// UserPushAttrs implements store.Push.
func (s *Store) UserPushAttrs(ctx context.Context, app int64, users []string) (map[string]map[int]string, error) {
	out := map[string]map[int]string{}
	for _, part := range chunksOf(users, maxInList) {
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT user_id, slot, value FROM push_user_attrs WHERE app = ? AND user_id IN (`+placeholders(len(part))+`)`), appArgs(app, part)...)
		if err != nil {
			return nil, wrap("user push attributes", err)
		}
		for rows.Next() {
			var u, v string
			var slot int
			if err := rows.Scan(&u, &slot, &v); err != nil {
				rows.Close()
				return nil, wrap("user push attributes", err)
			}
			if out[u] == nil {
				out[u] = map[int]string{}
			}
			out[u][slot] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("user push attributes", err)
		}
	}
	return out, nil
}

// AddUserPushTags implements store.Push.
func (s *Store) AddUserPushTags(ctx context.Context, app int64, user string, tags []string, max int) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareUser(ctx, tx, app, user); err != nil {
			return err
		}
		for _, tag := range tags {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO push_user_tags (app, user_id, tag) VALUES (?, ?, ?)
				ON CONFLICT (app, user_id, tag) DO NOTHING`), app, user, tag); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM push_user_tags WHERE app = ? AND user_id = ?`), app, user).Scan(&n); err != nil {
			return err
		}
		if n > max {
			return errs.Kind(errs.ErrLimit, fmt.Sprintf("user %q would have %d tags; at most %d", user, n, max))
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		return wrap("add user push tags", err)
	}
	return err
}

// RemoveUserPushTags implements store.Push.
func (s *Store) RemoveUserPushTags(ctx context.Context, app int64, user string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	args := []any{app, user}
	for _, t := range tags {
		args = append(args, t)
	}
	_, err := s.wexec(ctx, s.q(`DELETE FROM push_user_tags WHERE app = ? AND user_id = ? AND tag IN (`+placeholders(len(tags))+`)`), args...)
	return wrap("remove user push tags", err)
}

// RemoveAllUserPushTags implements store.Push.
func (s *Store) RemoveAllUserPushTags(ctx context.Context, app int64, users []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, part := range chunksOf(users, maxInList) {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM push_user_tags WHERE app = ? AND user_id IN (`+placeholders(len(part))+`)`), appArgs(app, part)...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("remove all user push tags", err)
}

// UserPushTags implements store.Push.
func (s *Store) UserPushTags(ctx context.Context, app int64, users []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, part := range chunksOf(users, maxInList) {
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT user_id, tag FROM push_user_tags WHERE app = ? AND user_id IN (`+placeholders(len(part))+`)`), appArgs(app, part)...)
		if err != nil {
			return nil, wrap("user push tags", err)
		}
		for rows.Next() {
			var u, t string
			if err := rows.Scan(&u, &t); err != nil {
				rows.Close()
				return nil, wrap("user push tags", err)
			}
			out[u] = append(out[u], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("user push tags", err)
		}
	}
	for _, ts := range out {
		sort.Strings(ts)
	}
	return out, nil
}

func appArgs(app int64, ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, app)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// pushTerm is one tag or one attribute value of a condition, as SQL over alias x
// (a row of push_user_tags or push_user_attrs).
type pushTerm struct {
	table string // push_user_tags or push_user_attrs
	where string // condition on the row's alias written "{a}", e.g. "{a}.tag = ?"
	args  []any
}

func pushTerms(tags []string, attrs map[int]string) []pushTerm {
	var out []pushTerm
	for _, t := range tags {
		out = append(out, pushTerm{"push_user_tags", "{a}.tag = ?", []any{t}})
	}
	slots := make([]int, 0, len(attrs))
	for sl := range attrs {
		slots = append(slots, sl)
	}
	sort.Ints(slots)
	for _, sl := range slots {
		out = append(out, pushTerm{"push_user_attrs", "{a}.slot = ? AND {a}.value = ?", []any{sl, attrs[sl]}})
	}
	return out
}

// on is the term's condition on the row of alias a.
func (t pushTerm) on(a string) string { return strings.ReplaceAll(t.where, "{a}", a) }

// exists is "the user of the row aliased x has term t" (through its primary key).
func (t pushTerm) exists() string {
	return `EXISTS (SELECT 1 FROM ` + t.table + ` y WHERE y.app = x.app AND y.user_id = x.user_id AND ` + t.on("y") + `)`
}

// PushTargets implements store.Push. With AND terms, the first one's index range
// is walked in UserID order and the others (and the OR terms, any of them) are
// checked per row through the primary keys; with OR terms only, each term's next
// page is read from its index and the union's first page kept; with no terms the
// app's users are paged. Each page costs about the rows it skips plus limit.
func (s *Store) PushTargets(ctx context.Context, app int64, c store.PushCondition, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	and := pushTerms(c.TagsAnd, c.AttrsAnd)
	or := pushTerms(c.TagsOr, c.AttrsOr)
	var q string
	var args []any
	switch {
	case len(and) > 0:
		d := and[0]
		q = `SELECT x.user_id FROM ` + d.table + ` x WHERE x.app = ? AND ` + d.on("x") + ` AND x.user_id > ?`
		args = append(append([]any{app}, d.args...), after)
		for _, t := range and[1:] {
			q += ` AND ` + t.exists()
			args = append(args, t.args...)
		}
		if len(or) > 0 {
			var anyOf []string
			for _, t := range or {
				anyOf = append(anyOf, t.exists())
				args = append(args, t.args...)
			}
			q += ` AND (` + strings.Join(anyOf, " OR ") + `)`
		}
		q += ` ORDER BY x.user_id LIMIT ?`
		args = append(args, limit)
	case len(or) > 0:
		var parts []string
		for i, t := range or {
			parts = append(parts, fmt.Sprintf(`SELECT user_id FROM (SELECT x.user_id FROM %s x WHERE x.app = ? AND %s AND x.user_id > ? ORDER BY x.user_id LIMIT ?) p%d`, t.table, t.on("x"), i))
			args = append(append(append(args, app), t.args...), after, limit)
		}
		q = `SELECT user_id FROM (` + strings.Join(parts, " UNION ") + `) u ORDER BY user_id LIMIT ?`
		args = append(args, limit)
	default:
		q = `SELECT user_id FROM users WHERE app = ? AND user_id > ? ORDER BY user_id LIMIT ?`
		args = []any{app, after, limit}
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, wrap("push targets", err)
	}
	defer rows.Close()
	out := make([]string, 0, limit)
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, wrap("push targets", err)
		}
		out = append(out, u)
	}
	return out, wrap("push targets", rows.Err())
}

// CreatePushTask implements store.Push.
func (s *Store) CreatePushTask(ctx context.Context, t store.PushTask, rate store.PushRate) error {
	cond, err := json.Marshal(t.Condition)
	if err != nil {
		return wrap("create push task", err)
	}
	at := toMs(t.CreatedAt)
	day := t.CreatedAt.UTC().Format("2006-01-02")
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.liveApp(ctx, tx, t.App, s.d.forShare(), false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO push_rate (app, last_at, day, n) VALUES (?, 0, '', 0)
			ON CONFLICT (app) DO NOTHING`), t.App); err != nil {
			return err
		}
		// One conditional UPDATE: the row lock orders concurrent pushes of an
		// app, and each sees the one before it.
		res, err := tx.ExecContext(ctx, s.q(`
			UPDATE push_rate SET n = CASE WHEN day = ? THEN n + 1 ELSE 1 END, day = ?, last_at = ?
			WHERE app = ? AND last_at <= ? AND (day <> ? OR n < ?)`),
			day, day, at, t.App, at-rate.MinInterval.Milliseconds(), day, rate.PerDay)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var last int64
			if err := tx.QueryRowContext(ctx, s.q(`SELECT last_at FROM push_rate WHERE app = ?`), t.App).Scan(&last); err != nil {
				return err
			}
			if last > at-rate.MinInterval.Milliseconds() {
				return errs.Kind(errs.ErrConflict, "the app's last push is less than the minimum interval ago")
			}
			return errs.Kind(errs.ErrLimit, "the app's pushes of the day are used up")
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO push_tasks (id, app, from_user, msg_random, msg_seq, msg_time, body, lifetime_ms, cond,
				state, cursor_user, targets, delivered, error, created_at, updated_at, done_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.App, t.From, int64(t.MsgRandom), t.MsgSeq, t.MsgTime, t.Body, t.Lifetime.Milliseconds(), string(cond),
			store.PushRunning, t.Cursor, t.Targets, t.Delivered, t.Error, at, at, toMs(t.DoneAt))
		if isUniqueViolation(err) {
			return errs.Kind(errs.ErrExists, "a push task with this id exists")
		}
		return err
	})
	if err != nil && !isSentinel(err) && !errors.Is(err, errs.ErrConflict) {
		return wrap("create push task", err)
	}
	return err
}

// isUniqueViolation recognises a duplicate key error of either engine.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "unique") || strings.Contains(m, "duplicate key")
}

const pushTaskColumns = `id, app, from_user, msg_random, msg_seq, msg_time, body, lifetime_ms, cond,
	state, cursor_user, targets, delivered, error, created_at, updated_at, done_at`

func scanPushTask(sc interface{ Scan(...any) error }) (store.PushTask, error) {
	var t store.PushTask
	var random, lifetime, created, updated, done int64
	var cond string
	if err := sc.Scan(&t.ID, &t.App, &t.From, &random, &t.MsgSeq, &t.MsgTime, &t.Body, &lifetime, &cond,
		&t.State, &t.Cursor, &t.Targets, &t.Delivered, &t.Error, &created, &updated, &done); err != nil {
		return t, err
	}
	t.MsgRandom = uint32(random)
	t.Lifetime = time.Duration(lifetime) * time.Millisecond
	t.CreatedAt, t.UpdatedAt, t.DoneAt = fromMs(created), fromMs(updated), fromMs(done)
	if err := json.Unmarshal([]byte(cond), &t.Condition); err != nil {
		return t, fmt.Errorf("condition of push task %s: %w", t.ID, err)
	}
	return t, nil
}

// PushTask implements store.Push.
func (s *Store) PushTask(ctx context.Context, app int64, id string) (store.PushTask, error) {
	t, err := scanPushTask(s.r.QueryRowContext(ctx, s.q(`SELECT `+pushTaskColumns+` FROM push_tasks WHERE id = ? AND app = ?`), id, app))
	if errors.Is(err, sql.ErrNoRows) {
		return store.PushTask{}, errs.ErrNotFound
	}
	return t, wrap("push task", err)
}

// UpdatePushProgress implements store.Push.
func (s *Store) UpdatePushProgress(ctx context.Context, t store.PushTask) error {
	_, err := s.wexec(ctx, s.q(`
		UPDATE push_tasks SET state = ?, cursor_user = ?, targets = ?, delivered = ?, error = ?, updated_at = ?, done_at = ?
		WHERE id = ? AND app = ?`),
		t.State, t.Cursor, t.Targets, t.Delivered, t.Error, toMs(t.UpdatedAt), toMs(t.DoneAt), t.ID, t.App)
	return wrap("update push progress", err)
}

// RunningPushTasks implements store.Push.
func (s *Store) RunningPushTasks(ctx context.Context) ([]store.PushTask, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT `+pushTaskColumns+` FROM push_tasks t
		WHERE state = ? AND EXISTS (SELECT 1 FROM apps a WHERE a.sdkappid = t.app AND a.status <> ?)
		ORDER BY created_at, id`), store.PushRunning, store.StatusDeleted)
	if err != nil {
		return nil, wrap("running push tasks", err)
	}
	defer rows.Close()
	var out []store.PushTask
	for rows.Next() {
		t, err := scanPushTask(rows)
		if err != nil {
			return nil, wrap("running push tasks", err)
		}
		out = append(out, t)
	}
	return out, wrap("running push tasks", rows.Err())
}

func init() {
	extraSchemas = append(extraSchemas, pushSchema)
	// per-user push data goes with the user (DeleteUsers)
	userTables = append(userTables, struct{ table, col string }{"push_user_attrs", "user_id"}, struct{ table, col string }{"push_user_tags", "user_id"})
}
