package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"sort"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupExtrasSchema holds what hangs off a group (store.GroupExtras): community
// topics, group attributes and group counters. Every change locks the group's
// row in im_groups first; disband deletes these rows with the group
// (groupOwnedTables). created_at is Unix milliseconds.
const groupExtrasSchema = `
CREATE TABLE IF NOT EXISTS im_group_topics (
	app           BIGINT NOT NULL,
	topic_id      TEXT NOT NULL,
	group_id      TEXT NOT NULL,
	name          TEXT NOT NULL,
	creator       TEXT NOT NULL,
	custom_string TEXT NOT NULL,
	face_url      TEXT NOT NULL,
	notification  TEXT NOT NULL,
	introduction  TEXT NOT NULL,
	mute_all      BOOLEAN NOT NULL,
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (app, topic_id)
);
CREATE INDEX IF NOT EXISTS im_group_topics_by_group ON im_group_topics (app, group_id, created_at, topic_id);

CREATE TABLE IF NOT EXISTS im_group_attrs (
	app        BIGINT NOT NULL,
	group_id   TEXT NOT NULL,
	attr_key   TEXT NOT NULL,
	attr_value TEXT NOT NULL,
	PRIMARY KEY (app, group_id, attr_key)
);

CREATE TABLE IF NOT EXISTS im_group_counters (
	app         BIGINT NOT NULL,
	group_id    TEXT NOT NULL,
	counter_key TEXT NOT NULL,
	value       BIGINT NOT NULL,
	PRIMARY KEY (app, group_id, counter_key)
)`

// groupOwnedTables are the tables whose rows (app, group_id) disband deletes
// with the group.
var groupOwnedTables = []string{"im_group_topics", "im_group_attrs", "im_group_counters"}

func init() {
	extraSchemas = append(extraSchemas, groupExtrasSchema)
	for _, t := range groupOwnedTables {
		appTables = append(appTables, struct{ table, col string }{t, "app"})
	}
}

// lockLiveGroup refuses a deleted app and locks the group's row.
func (s *Store) lockLiveGroup(ctx context.Context, tx *sql.Tx, app int64, groupID string) (store.Group, error) {
	if err := s.liveApp(ctx, tx, app, s.d.forShare(), false); err != nil {
		return store.Group{}, err
	}
	return s.lockGroup(ctx, tx, app, groupID)
}

const topicCols = `topic_id, group_id, name, creator, custom_string, face_url, notification, introduction, mute_all, created_at`

func scanTopic(app int64) func(scanner) (store.Topic, error) {
	return func(row scanner) (store.Topic, error) {
		t := store.Topic{App: app}
		var created int64
		err := row.Scan(&t.TopicID, &t.GroupID, &t.Name, &t.Creator, &t.CustomString, &t.FaceURL, &t.Notification,
			&t.Introduction, &t.MuteAllMember, &created)
		t.CreatedAt = fromMs(created)
		return t, err
	}
}

// CreateTopic implements store.GroupExtras.
func (s *Store) CreateTopic(ctx context.Context, t store.Topic, maxTopics int) (store.Topic, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, t.App, t.GroupID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_group_topics WHERE app = ? AND topic_id = ?`), t.App, t.TopicID).Scan(&one)
		if err == nil {
			return errs.ErrExists
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if maxTopics > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM im_group_topics WHERE app = ? AND group_id = ?`), t.App, t.GroupID).Scan(&n); err != nil {
				return err
			}
			if n >= maxTopics {
				return groupLimit(store.LimitTopics, "")
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO im_group_topics (app, `+topicCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.App, t.TopicID, t.GroupID, t.Name, t.Creator, t.CustomString, t.FaceURL, t.Notification, t.Introduction,
			t.MuteAllMember, toMs(t.CreatedAt))
		return err
	})
	if err != nil {
		return store.Topic{}, groupWrap("create topic", err)
	}
	return s.GetTopic(ctx, t.App, t.TopicID)
}

// GetTopic implements store.GroupExtras.
func (s *Store) GetTopic(ctx context.Context, app int64, topicID string) (store.Topic, error) {
	t, err := scanTopic(app)(s.r.QueryRowContext(ctx, s.q(`SELECT `+topicCols+` FROM im_group_topics WHERE app = ? AND topic_id = ?`), app, topicID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Topic{}, errs.ErrNotFound
	}
	return t, groupWrap("get topic", err)
}

// GroupTopics implements store.GroupExtras.
func (s *Store) GroupTopics(ctx context.Context, app int64, groupID string) ([]store.Topic, error) {
	if err := s.groupExists(ctx, app, groupID); err != nil {
		return nil, err
	}
	return queryAll(ctx, s.r, s.q(`SELECT `+topicCols+` FROM im_group_topics WHERE app = ? AND group_id = ? ORDER BY created_at, topic_id`),
		"group topics", scanTopic(app), app, groupID)
}

// groupExists is nil when the group exists, errs.ErrNotFound when not.
func (s *Store) groupExists(ctx context.Context, app int64, groupID string) error {
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_groups WHERE app = ? AND group_id = ?`), app, groupID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	return groupWrap("group exists", err)
}

// UpdateTopic implements store.GroupExtras.
func (s *Store) UpdateTopic(ctx context.Context, app int64, groupID, topicID string, u store.TopicUpdate) (store.Topic, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		t, err := scanTopic(app)(tx.QueryRowContext(ctx, s.q(`SELECT `+topicCols+` FROM im_group_topics WHERE app = ? AND topic_id = ? AND group_id = ?`), app, topicID, groupID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, f := range []struct{ dst, v *string }{{&t.Name, u.Name}, {&t.CustomString, u.CustomString},
			{&t.FaceURL, u.FaceURL}, {&t.Notification, u.Notification}, {&t.Introduction, u.Introduction}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if u.MuteAllMember != nil {
			t.MuteAllMember = *u.MuteAllMember
		}
		_, err = tx.ExecContext(ctx, s.q(`
			UPDATE im_group_topics SET name = ?, custom_string = ?, face_url = ?, notification = ?, introduction = ?, mute_all = ?
			WHERE app = ? AND topic_id = ?`),
			t.Name, t.CustomString, t.FaceURL, t.Notification, t.Introduction, t.MuteAllMember, app, topicID)
		return err
	})
	if err != nil {
		return store.Topic{}, groupWrap("update topic", err)
	}
	return s.GetTopic(ctx, app, topicID)
}

// DeleteTopic implements store.GroupExtras.
func (s *Store) DeleteTopic(ctx context.Context, app int64, groupID, topicID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_topics WHERE app = ? AND topic_id = ? AND group_id = ?`), app, topicID, groupID)
		return affected("delete topic", res, err, errs.ErrNotFound)
	})
	return groupWrap("delete topic", err)
}

func (s *Store) attrsOf(ctx context.Context, db queryer, app int64, groupID string) (map[string]string, error) {
	type kv struct{ k, v string }
	rows, err := queryAll(ctx, db, s.q(`SELECT attr_key, attr_value FROM im_group_attrs WHERE app = ? AND group_id = ?`),
		"group attrs", func(r scanner) (kv, error) {
			var x kv
			return x, r.Scan(&x.k, &x.v)
		}, app, groupID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, x := range rows {
		out[x.k] = x.v
	}
	return out, nil
}

// GroupAttrs implements store.GroupExtras.
func (s *Store) GroupAttrs(ctx context.Context, app int64, groupID string) (map[string]string, error) {
	if err := s.groupExists(ctx, app, groupID); err != nil {
		return nil, err
	}
	return s.attrsOf(ctx, s.r, app, groupID)
}

// PutGroupAttrs implements store.GroupExtras.
func (s *Store) PutGroupAttrs(ctx context.Context, app int64, groupID string, attrs map[string]string, replace bool, b store.AttrBounds) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		cur := map[string]string{}
		if !replace {
			var err error
			if cur, err = s.attrsOf(ctx, tx, app, groupID); err != nil {
				return err
			}
		}
		for k, v := range attrs {
			cur[k] = v
		}
		size := 0
		for k, v := range cur {
			size += len(k) + len(v)
		}
		if b.MaxKeys > 0 && len(cur) > b.MaxKeys {
			return groupLimit(store.LimitAttrKeys, "")
		}
		if b.MaxBytes > 0 && size > b.MaxBytes {
			return groupLimit(store.LimitAttrBytes, "")
		}
		if replace {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_attrs WHERE app = ? AND group_id = ?`), app, groupID); err != nil {
				return err
			}
		}
		for _, k := range sortedKeys(attrs) {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO im_group_attrs (app, group_id, attr_key, attr_value) VALUES (?, ?, ?, ?)
				ON CONFLICT (app, group_id, attr_key) DO UPDATE SET attr_value = excluded.attr_value`), app, groupID, k, attrs[k]); err != nil {
				return err
			}
		}
		return nil
	})
	return groupWrap("put group attrs", err)
}

// ClearGroupAttrs implements store.GroupExtras.
func (s *Store) ClearGroupAttrs(ctx context.Context, app int64, groupID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_attrs WHERE app = ? AND group_id = ?`), app, groupID)
		return err
	})
	return groupWrap("clear group attrs", err)
}

func (s *Store) countersOf(ctx context.Context, db queryer, app int64, groupID string) (map[string]int64, error) {
	type kv struct {
		k string
		v int64
	}
	rows, err := queryAll(ctx, db, s.q(`SELECT counter_key, value FROM im_group_counters WHERE app = ? AND group_id = ?`),
		"group counters", func(r scanner) (kv, error) {
			var x kv
			return x, r.Scan(&x.k, &x.v)
		}, app, groupID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, x := range rows {
		out[x.k] = x.v
	}
	return out, nil
}

// GroupCounters implements store.GroupExtras.
func (s *Store) GroupCounters(ctx context.Context, app int64, groupID string, keys []string) (map[string]int64, error) {
	if err := s.groupExists(ctx, app, groupID); err != nil {
		return nil, err
	}
	all, err := s.countersOf(ctx, s.r, app, groupID)
	if err != nil || len(keys) == 0 {
		return all, err
	}
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// UpdateGroupCounters implements store.GroupExtras.
func (s *Store) UpdateGroupCounters(ctx context.Context, app int64, groupID, mode string, vals map[string]int64, maxKeys int) (map[string]int64, error) {
	out := make(map[string]int64, len(vals))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		cur, err := s.countersOf(ctx, tx, app, groupID)
		if err != nil {
			return err
		}
		n := len(cur)
		for k, v := range vals {
			old, ok := cur[k]
			if !ok {
				n++
			}
			nv, ok := applyCounter(mode, old, v)
			if !ok {
				return groupLimit(store.LimitCounterRange, "")
			}
			out[k] = nv
		}
		if maxKeys > 0 && n > maxKeys {
			return groupLimit(store.LimitCounterKeys, "")
		}
		for _, k := range sortedKeys(out) {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO im_group_counters (app, group_id, counter_key, value) VALUES (?, ?, ?, ?)
				ON CONFLICT (app, group_id, counter_key) DO UPDATE SET value = excluded.value`), app, groupID, k, out[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, groupWrap("update group counters", err)
	}
	return out, nil
}

// applyCounter is old changed by v under mode; false when the result would
// leave int64 (or the mode is unknown).
func applyCounter(mode string, old, v int64) (int64, bool) {
	switch mode {
	case store.CounterSet:
		return v, true
	case store.CounterIncrease:
		if (v > 0 && old > math.MaxInt64-v) || (v < 0 && old < math.MinInt64-v) {
			return 0, false
		}
		return old + v, true
	case store.CounterDecrease:
		if (v > 0 && old < math.MinInt64+v) || (v < 0 && old > math.MaxInt64+v) {
			return 0, false
		}
		return old - v, true
	}
	return 0, false
}

// DeleteGroupCounters implements store.GroupExtras.
func (s *Store) DeleteGroupCounters(ctx context.Context, app int64, groupID string, keys []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLiveGroup(ctx, tx, app, groupID); err != nil {
			return err
		}
		for _, part := range chunksOf(keys, maxInList) {
			args := []any{app, groupID}
			for _, k := range part {
				args = append(args, k)
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_counters WHERE app = ? AND group_id = ? AND counter_key IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return groupWrap("delete group counters", err)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
