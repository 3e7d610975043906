package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// convSchema holds the conversation tables (new tables: no migration step).
// conv_last is the SQL stores' conversation index, written by Apply in the
// message's transaction (the embedded store keeps it in Pebble instead); the
// others are the relational state of store.ConvStates. type is 1 (one-to-one,
// peer a UserID) or 2 (group, peer a GroupId).
const convSchema = `
CREATE TABLE IF NOT EXISTS conv_last (
	app       BIGINT NOT NULL,
	owner     TEXT NOT NULL,
	type      INTEGER NOT NULL,
	peer      TEXT NOT NULL,
	msg_time  BIGINT NOT NULL,
	seq       BIGINT NOT NULL,
	from_user TEXT NOT NULL,
	msg_key   TEXT NOT NULL,
	PRIMARY KEY (app, owner, type, peer)
);

-- One row per user with conversation state: the lock that serialises the
-- user's state changes (and their limits) across nodes.
CREATE TABLE IF NOT EXISTS conv_owners (
	app   BIGINT NOT NULL,
	owner TEXT NOT NULL,
	PRIMARY KEY (app, owner)
);

CREATE TABLE IF NOT EXISTS conv_state (
	app         BIGINT NOT NULL,
	owner       TEXT NOT NULL,
	type        INTEGER NOT NULL,
	peer        TEXT NOT NULL,
	pinned      BOOLEAN NOT NULL,
	marks       BIGINT NOT NULL,
	custom_mark TEXT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (app, owner, type, peer)
);

CREATE TABLE IF NOT EXISTS conv_groups (
	app        BIGINT NOT NULL,
	owner      TEXT NOT NULL,
	group_id   BIGINT NOT NULL,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (app, owner, group_id),
	UNIQUE (app, owner, name)
);

CREATE TABLE IF NOT EXISTS conv_group_members (
	app      BIGINT NOT NULL,
	owner    TEXT NOT NULL,
	group_id BIGINT NOT NULL,
	type     INTEGER NOT NULL,
	peer     TEXT NOT NULL,
	PRIMARY KEY (app, owner, group_id, type, peer)
);
`

func init() {
	extraSchemas = append(extraSchemas, convSchema)
	appTables = append(appTables, []struct{ table, col string }{
		{"conv_last", "app"}, {"conv_owners", "app"}, {"conv_state", "app"}, {"conv_groups", "app"}, {"conv_group_members", "app"},
	}...)
	// A deleted account's pins, marks and groups go with it; conv_last stays
	// with the messages (docs/decisions.md).
	userTables = append(userTables, []struct{ table, col string }{
		{"conv_owners", "owner"}, {"conv_state", "owner"}, {"conv_groups", "owner"}, {"conv_group_members", "owner"},
	}...)
}

// convLastRows returns the batch's last message per (owner, peer), in
// (app, owner, peer) order.
func convLastRows(a *applier) []store.Entry {
	type k struct {
		app         int64
		owner, peer string
	}
	last := map[k]int{}
	for i, p := range a.pending {
		if p.e.Kind == store.KindMsg {
			last[k{p.e.App, p.e.Owner, p.e.Peer}] = i
		}
	}
	out := make([]store.Entry, 0, len(last))
	for _, i := range last {
		out = append(out, a.pending[i].e)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.App != y.App {
			return x.App < y.App
		}
		if x.Owner != y.Owner {
			return x.Owner < y.Owner
		}
		return x.Peer < y.Peer
	})
	return out
}

const sqlConvLastUpsert = ` ON CONFLICT (app, owner, type, peer) DO UPDATE SET msg_time = excluded.msg_time,
	seq = excluded.seq, from_user = excluded.from_user, msg_key = excluded.msg_key`

// saveConvLast upserts the conversations' last messages (serial path).
func (s *Store) saveConvLast(ctx context.Context, tx *sql.Tx, a *applier) error {
	for _, part := range chunksOf(convLastRows(a), 200) {
		args := make([]any, 0, 7*len(part))
		for _, e := range part {
			args = append(args, e.App, e.Owner, e.Peer, e.MsgTime, e.Seq, e.From, e.MsgKey)
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO conv_last (app, owner, type, peer, msg_time, seq, from_user, msg_key) VALUES `+
			rows(len(part), "(?, ?, 1, ?, ?, ?, ?, ?)")+sqlConvLastUpsert), args...); err != nil {
			return fmt.Errorf("save conversations: %w", err)
		}
	}
	return nil
}

// pgSaveConvLast is saveConvLast for the pipeline: one statement of arrays.
const pgSaveConvLast = `
	INSERT INTO conv_last (app, owner, type, peer, msg_time, seq, from_user, msg_key)
	SELECT k.app, k.owner, 1, k.peer, k.msg_time, k.seq, k.from_user, k.msg_key
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
		AS k (app, owner, peer, msg_time, seq, from_user, msg_key)` + sqlConvLastUpsert

// convLastArgs returns pgSaveConvLast's arguments, or nil when there is nothing to save.
func convLastArgs(a *applier) []any {
	rs := convLastRows(a)
	if len(rs) == 0 {
		return nil
	}
	n := len(rs)
	apps, times, seqs := make([]int64, n), make([]int64, n), make([]int64, n)
	owners, peers, froms, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range rs {
		apps[i], owners[i], peers[i], times[i], seqs[i], froms[i], keys[i] = e.App, e.Owner, e.Peer, e.MsgTime, e.Seq, e.From, e.MsgKey
	}
	return []any{apps, owners, peers, times, seqs, froms, keys}
}

// Conversations implements store.ConvIndex.
func (s *Store) Conversations(ctx context.Context, app int64, owner string) ([]store.ConvLast, error) {
	rs, err := s.r.QueryContext(ctx, s.q(`
		SELECT type, peer, msg_time, seq, from_user, msg_key FROM conv_last WHERE app = ? AND owner = ?`), app, owner)
	if err != nil {
		return nil, wrap("conversations", err)
	}
	defer rs.Close()
	var out []store.ConvLast
	for rs.Next() {
		var c store.ConvLast
		if err := rs.Scan(&c.Type, &c.Peer, &c.MsgTime, &c.Seq, &c.From, &c.MsgKey); err != nil {
			return nil, wrap("conversations", err)
		}
		out = append(out, c)
	}
	return out, wrap("conversations", rs.Err())
}

// DeleteConversation implements store.ConvIndex in one transaction. Clearing
// the history deletes the owner's rows of the conversation's messages.
func (s *Store) DeleteConversation(ctx context.Context, app int64, owner string, c store.ConvID, clearHistory bool, at time.Time) error {
	return wrap("delete conversation", s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		// The owner's entries before its conv_last row: the order in which a
		// batch of Apply (a recall, then a send) takes them, so the two never
		// wait for each other in a cycle.
		if clearHistory && c.Type == store.ConvC2C {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM entries WHERE app = ? AND owner = ? AND peer = ? AND kind = 'msg'`),
				app, owner, c.Peer); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM conv_last WHERE app = ? AND owner = ? AND type = ? AND peer = ?`,
			`DELETE FROM conv_state WHERE app = ? AND owner = ? AND type = ? AND peer = ?`,
			`DELETE FROM conv_group_members WHERE app = ? AND owner = ? AND type = ? AND peer = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(q), app, owner, c.Type, c.Peer); err != nil {
				return err
			}
		}
		return nil
	}))
}

// lockConvOwner serialises owner's conversation state changes; errs.ErrNotFound
// when the owner does not exist (its user row stays locked until tx commits, so
// DeleteUsers deletes what tx writes).
func (s *Store) lockConvOwner(ctx context.Context, tx *sql.Tx, app int64, owner string) error {
	if err := s.shareUser(ctx, tx, app, owner); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO conv_owners (app, owner) VALUES (?, ?) ON CONFLICT (app, owner) DO NOTHING`), app, owner); err != nil {
		return err
	}
	var one int
	return tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM conv_owners WHERE app = ? AND owner = ?`+s.d.forUpdate()), app, owner).Scan(&one)
}

// ConvStates implements store.ConvStates.
func (s *Store) ConvStates(ctx context.Context, app int64, owner string) ([]store.ConvState, []store.ConvGroup, error) {
	states, err := s.convStates(ctx, s.r, app, owner)
	if err != nil {
		return nil, nil, wrap("conversation states", err)
	}
	groups, err := s.convGroups(ctx, s.r, app, owner)
	return states, groups, wrap("conversation states", err)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) convStates(ctx context.Context, q querier, app int64, owner string) ([]store.ConvState, error) {
	rs, err := q.QueryContext(ctx, s.q(`
		SELECT type, peer, pinned, marks, custom_mark, updated_at FROM conv_state
		WHERE app = ? AND owner = ? ORDER BY type, peer`), app, owner)
	if err != nil {
		return nil, err
	}
	var out []store.ConvState
	idx := map[store.ConvID]int{}
	for rs.Next() {
		var c store.ConvState
		var marks, updated int64
		if err := rs.Scan(&c.Type, &c.Peer, &c.Pinned, &marks, &c.CustomMark, &updated); err != nil {
			rs.Close()
			return nil, err
		}
		c.Marks, c.UpdatedAt = uint64(marks), fromMs(updated)
		idx[c.ConvID] = len(out)
		out = append(out, c)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	rs, err = q.QueryContext(ctx, s.q(`
		SELECT type, peer, group_id FROM conv_group_members WHERE app = ? AND owner = ? ORDER BY type, peer, group_id`), app, owner)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id store.ConvID
		var g int64
		if err := rs.Scan(&id.Type, &id.Peer, &g); err != nil {
			return nil, err
		}
		i, ok := idx[id]
		if !ok { // a member with no state row yet
			i = len(out)
			idx[id] = i
			out = append(out, store.ConvState{ConvID: id})
		}
		out[i].Groups = append(out[i].Groups, g)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Peer < out[j].Peer
	})
	return out, nil
}

func (s *Store) convGroups(ctx context.Context, q querier, app int64, owner string) ([]store.ConvGroup, error) {
	rs, err := q.QueryContext(ctx, s.q(`SELECT group_id, name FROM conv_groups WHERE app = ? AND owner = ? ORDER BY group_id`), app, owner)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []store.ConvGroup
	for rs.Next() {
		var g store.ConvGroup
		if err := rs.Scan(&g.ID, &g.Name); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rs.Err()
}

// touchState creates c's state row if missing and sets its update time.
func (s *Store) touchState(ctx context.Context, tx *sql.Tx, app int64, owner string, c store.ConvID, at time.Time) error {
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO conv_state (app, owner, type, peer, pinned, marks, custom_mark, updated_at) VALUES (?, ?, ?, ?, FALSE, 0, '', ?)
		ON CONFLICT (app, owner, type, peer) DO UPDATE SET updated_at = excluded.updated_at`),
		app, owner, c.Type, c.Peer, toMs(at))
	return err
}

// SetPinned implements store.ConvStates.
func (s *Store) SetPinned(ctx context.Context, app int64, owner string, c store.ConvID, pinned bool, at time.Time) error {
	return wrap("pin", s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		if err := s.touchState(ctx, tx, app, owner, c, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE conv_state SET pinned = ? WHERE app = ? AND owner = ? AND type = ? AND peer = ?`),
			pinned, app, owner, c.Type, c.Peer)
		return err
	}))
}

// SetMarks implements store.ConvStates.
func (s *Store) SetMarks(ctx context.Context, app int64, owner string, changes []store.MarkChange, maxMarked int, at time.Time) ([]store.ConvState, []error, error) {
	var out []store.ConvState
	var results []error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out, results = make([]store.ConvState, len(changes)), make([]error, len(changes))
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		var marked int
		if err := tx.QueryRowContext(ctx, s.q(`
			SELECT COUNT(*) FROM conv_state WHERE app = ? AND owner = ? AND (marks <> 0 OR custom_mark <> '')`),
			app, owner).Scan(&marked); err != nil {
			return err
		}
		touched := map[store.ConvID]int{}
		for i, ch := range changes {
			c := ch.Conv
			var marks int64
			var cm string
			err := tx.QueryRowContext(ctx, s.q(`SELECT marks, custom_mark FROM conv_state WHERE app = ? AND owner = ? AND type = ? AND peer = ?`),
				app, owner, c.Type, c.Peer).Scan(&marks, &cm)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			newMarks := (uint64(marks) | ch.Set) &^ ch.Clear
			newCM := cm
			if ch.Custom != nil {
				newCM = *ch.Custom
			}
			was, now := marks != 0 || cm != "", newMarks != 0 || newCM != ""
			if !was && now && marked >= maxMarked {
				results[i] = errs.ErrLimit
				continue
			}
			switch {
			case !was && now:
				marked++
			case was && !now:
				marked--
			}
			if err := s.touchState(ctx, tx, app, owner, c, at); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				UPDATE conv_state SET marks = ?, custom_mark = ? WHERE app = ? AND owner = ? AND type = ? AND peer = ?`),
				int64(newMarks), newCM, app, owner, c.Type, c.Peer); err != nil {
				return err
			}
			touched[c] = i
		}
		if len(touched) == 0 {
			return nil
		}
		states, err := s.convStates(ctx, tx, app, owner)
		if err != nil {
			return err
		}
		for _, st := range states {
			if _, ok := touched[st.ConvID]; ok {
				for i, ch := range changes {
					if ch.Conv == st.ConvID && results[i] == nil {
						out[i] = st
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, wrap("mark", err)
	}
	return out, results, nil
}

// CreateConvGroup implements store.ConvStates.
func (s *Store) CreateConvGroup(ctx context.Context, app int64, owner, name string, convs []store.ConvID, maxGroups, maxConvs int, at time.Time) (store.ConvGroup, error) {
	var g store.ConvGroup
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		groups, err := s.convGroups(ctx, tx, app, owner)
		if err != nil {
			return err
		}
		var maxID int64
		for _, x := range groups {
			if x.Name == name {
				return errs.ErrExists
			}
			maxID = max(maxID, x.ID)
		}
		if len(groups) >= maxGroups || len(dedupConvs(convs)) > maxConvs {
			return errs.ErrLimit
		}
		g = store.ConvGroup{ID: maxID + 1, Name: name}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO conv_groups (app, owner, group_id, name, created_at) VALUES (?, ?, ?, ?, ?)`),
			app, owner, g.ID, name, toMs(at)); err != nil {
			return err
		}
		for _, c := range dedupConvs(convs) {
			if err := s.addMember(ctx, tx, app, owner, g.ID, c, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		err = wrap("create conversation group", err)
	}
	return g, err
}

func dedupConvs(cs []store.ConvID) []store.ConvID {
	seen := map[store.ConvID]bool{}
	var out []store.ConvID
	for _, c := range cs {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (s *Store) addMember(ctx context.Context, tx *sql.Tx, app int64, owner string, group int64, c store.ConvID, at time.Time) error {
	if err := s.touchState(ctx, tx, app, owner, c, at); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO conv_group_members (app, owner, group_id, type, peer) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (app, owner, group_id, type, peer) DO NOTHING`), app, owner, group, c.Type, c.Peer)
	return err
}

// groupByName returns owner's group named name, or errs.ErrNotFound.
func (s *Store) groupByName(ctx context.Context, tx *sql.Tx, app int64, owner, name string) (store.ConvGroup, error) {
	g := store.ConvGroup{Name: name}
	err := tx.QueryRowContext(ctx, s.q(`SELECT group_id FROM conv_groups WHERE app = ? AND owner = ? AND name = ?`), app, owner, name).Scan(&g.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return g, errs.ErrNotFound
	}
	return g, err
}

// RenameConvGroup implements store.ConvStates.
func (s *Store) RenameConvGroup(ctx context.Context, app int64, owner, old, newName string, at time.Time) (store.ConvGroup, error) {
	var g store.ConvGroup
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		var err error
		if g, err = s.groupByName(ctx, tx, app, owner, old); err != nil {
			return err
		}
		if old == newName {
			return nil
		}
		if _, err := s.groupByName(ctx, tx, app, owner, newName); err == nil {
			return errs.ErrExists
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		g.Name = newName
		_, err = tx.ExecContext(ctx, s.q(`UPDATE conv_groups SET name = ? WHERE app = ? AND owner = ? AND group_id = ?`), newName, app, owner, g.ID)
		return err
	})
	if err != nil && !isSentinel(err) {
		err = wrap("rename conversation group", err)
	}
	return g, err
}

// UpdateConvGroup implements store.ConvStates.
func (s *Store) UpdateConvGroup(ctx context.Context, app int64, owner, name string, add, remove []store.ConvID, maxConvs int, at time.Time) (store.ConvGroup, []error, error) {
	var g store.ConvGroup
	var results []error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		results = results[:0]
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		var err error
		if g, err = s.groupByName(ctx, tx, app, owner, name); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM conv_group_members WHERE app = ? AND owner = ? AND group_id = ?`),
			app, owner, g.ID).Scan(&n); err != nil {
			return err
		}
		for _, c := range add {
			var one int
			err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM conv_group_members WHERE app = ? AND owner = ? AND group_id = ? AND type = ? AND peer = ?`),
				app, owner, g.ID, c.Type, c.Peer).Scan(&one)
			switch {
			case err == nil:
				results = append(results, nil) // already in the group
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if n >= maxConvs {
				results = append(results, errs.ErrLimit)
				continue
			}
			if err := s.addMember(ctx, tx, app, owner, g.ID, c, at); err != nil {
				return err
			}
			n++
			results = append(results, nil)
		}
		for _, c := range remove {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM conv_group_members WHERE app = ? AND owner = ? AND group_id = ? AND type = ? AND peer = ?`),
				app, owner, g.ID, c.Type, c.Peer); err != nil {
				return err
			}
			if err := s.touchState(ctx, tx, app, owner, c, at); err != nil {
				return err
			}
			results = append(results, nil)
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		err = wrap("update conversation group", err)
	}
	return g, results, err
}

// DeleteConvGroups implements store.ConvStates.
func (s *Store) DeleteConvGroups(ctx context.Context, app int64, owner string, names []string) ([]store.ConvGroup, error) {
	var out []store.ConvGroup
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if err := s.lockConvOwner(ctx, tx, app, owner); err != nil {
			return err
		}
		for _, name := range names {
			g, err := s.groupByName(ctx, tx, app, owner, name)
			if errors.Is(err, errs.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			for _, q := range []string{
				`DELETE FROM conv_group_members WHERE app = ? AND owner = ? AND group_id = ?`,
				`DELETE FROM conv_groups WHERE app = ? AND owner = ? AND group_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, s.q(q), app, owner, g.ID); err != nil {
					return err
				}
			}
			out = append(out, g)
		}
		return nil
	})
	return out, wrap("delete conversation groups", err)
}
