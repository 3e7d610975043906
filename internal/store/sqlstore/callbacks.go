package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// callbackSchema holds app callbacks (store.Callbacks): the configuration per
// app, the durable outbox of after-events and the log of recent requests (new
// tables: no upgrade step).
//
// An outbox row's due_at is when it may next be claimed: next_at while it is
// free (0: at once), lease_until while a node holds it. The index on (app,
// due_at, id) finds an app's claimable rows without reading the others: the
// fresh ones (due_at 0) in id order, the retried and expired ones by range.
const callbackSchema = `
CREATE TABLE IF NOT EXISTS callback_configs (
	app        BIGINT PRIMARY KEY,
	url        TEXT NOT NULL,
	token      TEXT NOT NULL,
	commands   TEXT NOT NULL, -- JSON array of CallbackCommand names
	updated_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS callback_outbox (
	id          {{AUTOID}},
	app         BIGINT NOT NULL,
	command     TEXT NOT NULL,
	body        {{BLOB}} NOT NULL,
	client_ip   TEXT NOT NULL,
	platform    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	attempts    INTEGER NOT NULL,
	next_at     BIGINT NOT NULL,
	last_error  TEXT NOT NULL,
	node        TEXT NOT NULL,   -- the node holding the claim, '' when free
	lease_until BIGINT NOT NULL, -- Unix ms; 0 when free
	due_at      BIGINT NOT NULL  -- next_at when free, lease_until when claimed
);
CREATE INDEX IF NOT EXISTS callback_outbox_due ON callback_outbox (app, due_at, id);

CREATE TABLE IF NOT EXISTS callback_log (
	id       {{AUTOID}},
	app      BIGINT NOT NULL,
	command  TEXT NOT NULL,
	at       BIGINT NOT NULL,
	millis   BIGINT NOT NULL,
	status   INTEGER NOT NULL,
	result   TEXT NOT NULL,
	error    TEXT NOT NULL,
	attempt  INTEGER NOT NULL,
	event_id BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS callback_log_by_app ON callback_log (app, id);
`

func init() {
	extraSchemas = append(extraSchemas, callbackSchema)
	appTables = append(appTables, []struct{ table, col string }{
		{"callback_configs", "app"}, {"callback_outbox", "app"}, {"callback_log", "app"},
	}...)
}

const callbackCols = `id, app, command, body, client_ip, platform, created_at, attempts, next_at, last_error`

// callbackInsertRow is one row of insertCallbacks, in its column order.
const callbackInsertRow = `(?, ?, ?, ?, ?, ?, 0, ?, '', '', 0, ?)`

// maxCallbackRows bounds the rows of one multi-row INSERT of events (8
// parameters each, far below either engine's limit).
const maxCallbackRows = 500

// execer is a transaction or a pool.
type execer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertCallbacks appends evs to the outbox through x, a multi-row INSERT per
// maxCallbackRows events. The database assigns the ids, in order. Events of a
// deleted app are dropped (as the message engine does): DeleteApp's own, or a
// batch's after its app was deleted, would otherwise outlive the app. A
// method that share-locks the app's row first (liveApp, Apply) keeps that
// answer true until it commits.
func insertCallbacks(ctx context.Context, d Dialect, x execer, evs []store.CallbackEvent) error {
	evs, err := liveAppEvents(ctx, d, x, evs)
	if err != nil {
		return err
	}
	for _, part := range chunksOf(evs, maxCallbackRows) {
		args := make([]any, 0, 8*len(part))
		for _, e := range part {
			body := e.Body
			if body == nil {
				body = []byte{}
			}
			next := toMs(e.NextAt)
			args = append(args, e.App, e.Command, body, e.ClientIP, e.Platform, toMs(e.CreatedAt), next, next)
		}
		if _, err := x.ExecContext(ctx, d.rebind(`
			INSERT INTO callback_outbox (app, command, body, client_ip, platform, created_at, attempts, next_at,
				last_error, node, lease_until, due_at)
			VALUES `+rows(len(part), callbackInsertRow)), args...); err != nil {
			return fmt.Errorf("append callbacks: %w", err)
		}
	}
	return nil
}

// liveAppEvents returns evs without the events of deleted apps (evs itself
// when there are none), reading the apps' status through x.
func liveAppEvents(ctx context.Context, d Dialect, x queryer, evs []store.CallbackEvent) ([]store.CallbackEvent, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	var apps []any
	for _, e := range evs {
		if !slices.Contains(apps, any(e.App)) {
			apps = append(apps, e.App)
		}
	}
	deleted := map[int64]bool{}
	for _, part := range chunksOf(apps, maxInList) {
		ids, err := queryAll(ctx, x, d.rebind(`SELECT sdkappid FROM apps WHERE status = 'deleted' AND sdkappid IN (`+placeholders(len(part))+`)`),
			"append callbacks", func(r scanner) (int64, error) {
				var id int64
				return id, r.Scan(&id)
			}, part...)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			deleted[id] = true
		}
	}
	if len(deleted) == 0 {
		return evs, nil
	}
	live := make([]store.CallbackEvent, 0, len(evs))
	for _, e := range evs {
		if !deleted[e.App] {
			live = append(live, e)
		}
	}
	return live, nil
}

// opCallbacks returns the after-events of a batch's ops (store.Op.Callback)
// that succeeded, are not duplicates and made entries, in op order.
func opCallbacks(ops []store.Op, results []store.OpResult) []store.CallbackEvent {
	var out []store.CallbackEvent
	for i, op := range ops {
		r := results[i]
		if op.Callback == nil || r.Err != nil || r.Duplicate || len(r.Entries) == 0 {
			continue
		}
		if ev, ok := op.Callback(r.Entries[0]); ok {
			out = append(out, ev)
		}
	}
	return out
}

// SetCallbackConfig implements store.Callbacks.
func (s *Store) SetCallbackConfig(ctx context.Context, app int64, c store.CallbackConfig) error {
	cmds := c.Commands
	if cmds == nil {
		cmds = []string{}
	}
	b, err := json.Marshal(cmds)
	if err != nil {
		return wrap("set callback config", err)
	}
	return wrap("set callback config", s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO callback_configs (app, url, token, commands, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (app) DO UPDATE SET url = excluded.url, token = excluded.token,
				commands = excluded.commands, updated_at = excluded.updated_at`),
			app, c.URL, c.Token, string(b), toMs(c.UpdatedAt))
		return err
	}))
}

// CallbackConfig implements store.Callbacks.
func (s *Store) CallbackConfig(ctx context.Context, app int64) (store.CallbackConfig, error) {
	var c store.CallbackConfig
	var cmds string
	var updated int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT url, token, commands, updated_at FROM callback_configs WHERE app = ?`), app).
		Scan(&c.URL, &c.Token, &cmds, &updated)
	if err == sql.ErrNoRows {
		return store.CallbackConfig{}, nil
	}
	if err != nil {
		return store.CallbackConfig{}, wrap("callback config", err)
	}
	if err := json.Unmarshal([]byte(cmds), &c.Commands); err != nil {
		return store.CallbackConfig{}, wrap("callback config", err)
	}
	if len(c.Commands) == 0 {
		c.Commands = nil
	}
	c.UpdatedAt = fromMs(updated)
	return c, nil
}

// AppendCallbacks implements store.Callbacks.
func (s *Store) AppendCallbacks(ctx context.Context, evs []store.CallbackEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return wrap("append callbacks", s.inTx(ctx, func(tx *sql.Tx) error {
		return insertCallbacks(ctx, s.d, tx, evs)
	}))
}

// DueCallbackApps implements store.Callbacks. The apps with outbox rows are
// walked one index seek each (a skip scan of callback_outbox_due), each
// checked for a row due at now with one more: the cost grows with the apps,
// not the rows.
func (s *Store) DueCallbackApps(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	rs, err := s.r.QueryContext(ctx, s.q(`
		WITH RECURSIVE a (app) AS (
			SELECT MIN(app) FROM callback_outbox WHERE app > ?
			UNION ALL
			SELECT (SELECT MIN(o.app) FROM callback_outbox o WHERE o.app > a.app) FROM a WHERE a.app IS NOT NULL
		)
		SELECT a.app FROM a
		WHERE a.app IS NOT NULL
		  AND EXISTS (SELECT 1 FROM callback_outbox o WHERE o.app = a.app AND o.due_at <= ?)
		LIMIT ?`), after, toMs(now), limit)
	if err != nil {
		return nil, wrap("due callback apps", err)
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var app int64
		if err := rs.Scan(&app); err != nil {
			return nil, wrap("due callback apps", err)
		}
		out = append(out, app)
	}
	return out, wrap("due callback apps", rs.Err())
}

// ClaimCallbacks implements store.Callbacks in one statement. The candidates
// are the app's oldest fresh rows (due_at 0, read in the order of the index
// callback_outbox_due: "due_at <= 0 ORDER BY due_at, id" is an order only that
// index gives) and its oldest retried or expired rows that are due (a range of
// that index, then sorted: "+id" keeps both engines from walking the primary
// key instead, past every other app's rows), limit*2 of each. Of those, found
// by id ("+app" and "+due_at" keep SQLite from reading the app's whole due
// range instead), the oldest limit that no other transaction holds are locked
// (PostgreSQL: FOR UPDATE SKIP LOCKED, which also re-checks due_at against a
// claim committed meanwhile) and given to node. A row another node holds has
// due_at in the future: it is no candidate until the lease expires.
func (s *Store) ClaimCallbacks(ctx context.Context, app int64, node string, now time.Time, lease time.Duration, limit int) ([]store.CallbackEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	at := toMs(now)
	until := at + lease.Milliseconds()
	if until <= at {
		until = at + 1 // a claim is held at least until just after now
	}
	// Candidates beyond limit let a node pass over rows that another holds
	// at this very moment (SKIP LOCKED) and still fill its claim.
	cand := limit * 2
	var evs []store.CallbackEvent
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, s.q(`
			UPDATE callback_outbox SET node = ?, lease_until = ?, due_at = ?
			WHERE id IN (
				SELECT id FROM callback_outbox
				WHERE +app = ? AND +due_at <= ? AND id IN (
					SELECT id FROM (SELECT id FROM callback_outbox WHERE app = ? AND due_at <= 0 ORDER BY due_at, id LIMIT ?) f
					UNION ALL
					SELECT id FROM (SELECT id FROM callback_outbox WHERE app = ? AND due_at > 0 AND due_at <= ? ORDER BY +id LIMIT ?) r
				)
				ORDER BY id LIMIT ?`+s.d.skipLocked()+`
			)
			RETURNING `+callbackCols),
			node, until, until, app, at, app, cand, app, at, cand, limit)
		if err != nil {
			return err
		}
		defer rs.Close()
		evs = evs[:0]
		for rs.Next() {
			e, err := scanCallback(rs)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, wrap("claim callbacks", err)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	return evs, nil
}

func scanCallback(rs *sql.Rows) (store.CallbackEvent, error) {
	var e store.CallbackEvent
	var created, next int64
	err := rs.Scan(&e.ID, &e.App, &e.Command, &e.Body, &e.ClientIP, &e.Platform, &created, &e.Attempts, &next, &e.LastError)
	e.CreatedAt, e.NextAt = fromMs(created), fromMs(next)
	return e, err
}

// FinishCallbacks implements store.Callbacks: the done rows in one DELETE per
// app, a retried row in an UPDATE of its own, the log entries in one INSERT
// and a trim per app, all in one transaction.
func (s *Store) FinishCallbacks(ctx context.Context, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	if len(outs) == 0 && len(log) == 0 {
		return nil
	}
	return wrap("finish callbacks", s.inTx(ctx, func(tx *sql.Tx) error {
		return finishCallbacks(ctx, s.d, tx, node, outs, log)
	}))
}

func finishCallbacks(ctx context.Context, d Dialect, tx *sql.Tx, node string, outs []store.CallbackOutcome, log []store.CallbackLogEntry) error {
	done := map[int64][]int64{}
	var apps []int64
	for _, o := range outs {
		if !o.Done {
			next := toMs(o.NextAt)
			if _, err := tx.ExecContext(ctx, d.rebind(`
				UPDATE callback_outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, node = '', lease_until = 0, due_at = ?
				WHERE id = ? AND app = ? AND node = ?`), next, o.Error, next, o.ID, o.App, node); err != nil {
				return err
			}
			continue
		}
		if _, ok := done[o.App]; !ok {
			apps = append(apps, o.App)
		}
		done[o.App] = append(done[o.App], o.ID)
	}
	for _, app := range apps {
		for _, part := range chunksOf(done[app], maxInList) {
			args := []any{app, node}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, d.rebind(`DELETE FROM callback_outbox WHERE app = ? AND node = ? AND id IN (`+
				placeholders(len(part))+`)`), args...); err != nil {
				return err
			}
		}
	}
	return appendCallbackLog(ctx, d, tx, log)
}

// appendCallbackLog inserts log entries and trims each app's log to the newest
// store.MaxCallbackLog: one index probe for the cut-off id, one range delete
// of the older ones (callback_log_by_app), not a scan of the app's log.
func appendCallbackLog(ctx context.Context, d Dialect, tx *sql.Tx, log []store.CallbackLogEntry) error {
	var apps []int64
	for _, part := range chunksOf(log, maxCallbackRows/2) {
		args := make([]any, 0, 9*len(part))
		for _, l := range part {
			if !slices.Contains(apps, l.App) {
				apps = append(apps, l.App)
			}
			args = append(args, l.App, l.Command, toMs(l.At), l.Millis, l.Status, l.Result, l.Error, l.Attempt, l.EventID)
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`
			INSERT INTO callback_log (app, command, at, millis, status, result, error, attempt, event_id)
			VALUES `+rows(len(part), "(?, ?, ?, ?, ?, ?, ?, ?, ?)")), args...); err != nil {
			return err
		}
	}
	slices.Sort(apps)
	for _, app := range apps {
		var cut int64
		err := tx.QueryRowContext(ctx, d.rebind(`SELECT id FROM callback_log WHERE app = ? ORDER BY id DESC LIMIT 1 OFFSET ?`),
			app, store.MaxCallbackLog).Scan(&cut)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`DELETE FROM callback_log WHERE app = ? AND id <= ?`), app, cut); err != nil {
			return err
		}
	}
	return nil
}

// CallbackLog implements store.Callbacks.
func (s *Store) CallbackLog(ctx context.Context, app int64, limit int) ([]store.CallbackLogEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rs, err := s.r.QueryContext(ctx, s.q(`
		SELECT app, command, at, millis, status, result, error, attempt, event_id FROM callback_log
		WHERE app = ? ORDER BY id DESC LIMIT ?`), app, limit)
	if err != nil {
		return nil, wrap("callback log", err)
	}
	defer rs.Close()
	var out []store.CallbackLogEntry
	for rs.Next() {
		var l store.CallbackLogEntry
		var at int64
		if err := rs.Scan(&l.App, &l.Command, &at, &l.Millis, &l.Status, &l.Result, &l.Error, &l.Attempt, &l.EventID); err != nil {
			return nil, wrap("callback log", err)
		}
		l.At = fromMs(at)
		out = append(out, l)
	}
	return out, wrap("callback log", rs.Err())
}

// CallbackBacklog implements store.Callbacks.
func (s *Store) CallbackBacklog(ctx context.Context, app int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM callback_outbox WHERE app = ?`), app).Scan(&n)
	return n, wrap("callback backlog", err)
}

// ReleaseCallbacks ends node's claims of the events ids of app without
// counting an attempt: they are due again at their NextAt. For a store that
// claims from two sources and gives back what it does not hand out (package
// embedded).
func (s *Store) ReleaseCallbacks(ctx context.Context, app int64, node string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return wrap("release callbacks", s.inTx(ctx, func(tx *sql.Tx) error {
		for _, part := range chunksOf(ids, maxInList) {
			args := []any{app, node}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				UPDATE callback_outbox SET node = '', lease_until = 0, due_at = next_at
				WHERE app = ? AND node = ? AND id IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return err
			}
		}
		return nil
	}))
}
