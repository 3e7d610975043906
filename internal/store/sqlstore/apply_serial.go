package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// entryInsertCols are the columns Apply writes, in entryArgs' order.
const entryInsertCols = `app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random,
	msg_time, msg_key, client_id, body, cloud_custom_data, recalled, unread, read_time, created_at, expires_at`

const entryInsertRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertSizes are the row counts of the prepared INSERT statements of the
// serial path, largest first; a batch is written with as few statements as
// these sizes allow.
var insertSizes = []int{64, 16, 4, 1}

func sqlInsertEntries(d Dialect, rows int) string {
	return d.BulkInsert + ` INTO entries (` + entryInsertCols + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(entryInsertRow+", ", rows), ", ")
}

// applySerial runs a batch through database/sql on a connection that writes
// alone (SQLite, Dialect.SerialWrites): load reads without locks, a statement
// per app and maxInList keys; save writes the entries with the prepared
// multi-row INSERTs.
func (s *Store) applySerial(ctx context.Context, a *applier) ([]store.OpResult, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := s.loadSerial(ctx, tx, a); err != nil {
		tx.Rollback()
		return nil, err
	}
	now := time.Now()
	results := a.run(now)
	if err := applyGroups(ctx, sqlGtx{s.d, tx}, a, results, now); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := s.saveSerial(ctx, tx, a); err != nil {
		tx.Rollback()
		return nil, err
	}
	// After-events: the ctx's (as inTx) and the ops' (store.Op.Callback).
	evs, written := store.CallbacksOf(ctx)
	evs = append(evs[:len(evs):len(evs)], opCallbacks(a.ops, results)...)
	if err := insertCallbacks(ctx, s.d, tx, evs); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	written()
	return results, nil
}

// appRuns calls fn for each run of xs (sorted by app) that shares an app, in
// parts of at most n.
func appRuns[T any](xs []T, appOf func(T) int64, n int, fn func(app int64, part []T) error) error {
	for len(xs) > 0 {
		k := 1
		for k < len(xs) && k < n && appOf(xs[k]) == appOf(xs[0]) {
			k++
		}
		if err := fn(appOf(xs[0]), xs[:k]); err != nil {
			return err
		}
		xs = xs[k:]
	}
	return nil
}

// queryEach runs a query in tx and calls fn for each row.
func (s *Store) queryEach(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(rs *sql.Rows) error) error {
	rs, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

func (s *Store) loadSerial(ctx context.Context, tx *sql.Tx, a *applier) error {
	apps := a.apps()
	args := make([]any, len(apps))
	for i, app := range apps {
		args[i] = app
	}
	if err := s.queryEach(ctx, tx, `SELECT sdkappid FROM apps WHERE status = 'deleted' AND sdkappid IN (`+placeholders(len(apps))+`)`,
		args, func(rs *sql.Rows) error {
			var app int64
			if err := rs.Scan(&app); err != nil {
				return err
			}
			a.deleted[app] = true
			return nil
		}); err != nil {
		return err
	}
	err := appRuns(a.owners, func(k ownerKey) int64 { return k.app }, maxInList, func(app int64, part []ownerKey) error {
		args := []any{app}
		for _, k := range part {
			args = append(args, k.owner)
		}
		return s.queryEach(ctx, tx, `SELECT owner, last_seq FROM seqs WHERE app = ? AND owner IN (`+placeholders(len(part))+`)`,
			args, func(rs *sql.Rows) error {
				var owner string
				var seq int64
				if err := rs.Scan(&owner, &seq); err != nil {
					return err
				}
				a.loaded[ownerKey{app, owner}] = seq
				return nil
			})
	})
	if err != nil {
		return fmt.Errorf("read seqs: %w", err)
	}
	err = appRuns(a.sendKeys, func(k sendKey) int64 { return k.app }, maxInList, func(app int64, part []sendKey) error {
		args := []any{app}
		for _, k := range part {
			args = append(args, k.from, k.id)
		}
		return s.queryEach(ctx, tx, `
			SELECT `+entryCols+` FROM entries
			WHERE app = ? AND kind = 'msg' AND client_id <> ''
			  AND (from_user, client_id) IN (VALUES `+rows(len(part), "(?, ?)")+`)`,
			args, func(rs *sql.Rows) error {
				e, err := scanEntry(rs)
				if err != nil {
					return err
				}
				a.found(e, true)
				return nil
			})
	})
	if err != nil {
		return fmt.Errorf("read sent ClientIDs: %w", err)
	}
	err = appRuns(a.keyRows, func(k keyRow) int64 { return k.app }, maxInList, func(app int64, part []keyRow) error {
		args := []any{app}
		for _, r := range part {
			args = append(args, r.owner, r.peer, r.msgTime, r.key)
		}
		return s.queryEach(ctx, tx, `
			SELECT `+entryCols+` FROM entries
			WHERE app = ? AND kind = 'msg'
			  AND (owner, peer, msg_time, msg_key) IN (VALUES `+rows(len(part), "(?, ?, ?, ?)")+`)`,
			args, func(rs *sql.Rows) error {
				e, err := scanEntry(rs)
				if err != nil {
					return err
				}
				a.found(e, false)
				return nil
			})
	})
	if err != nil {
		return fmt.Errorf("read MsgKeys: %w", err)
	}
	err = appRuns(a.readKeys, func(k readKey) int64 { return k.app }, maxInList, func(app int64, part []readKey) error {
		args := []any{app}
		for _, k := range part {
			args = append(args, k.owner, k.peer)
		}
		return s.queryEach(ctx, tx, `
			SELECT owner, peer, read_time FROM reads
			WHERE app = ? AND (owner, peer) IN (VALUES `+rows(len(part), "(?, ?)")+`)`,
			args, func(rs *sql.Rows) error {
				var owner, peer string
				var t int64
				if err := rs.Scan(&owner, &peer, &t); err != nil {
					return err
				}
				a.reads[readKey{app, owner, peer}] = t
				return nil
			})
	})
	if err != nil {
		return fmt.Errorf("read read times: %w", err)
	}
	return nil
}

func (s *Store) saveSerial(ctx context.Context, tx *sql.Tx, a *applier) error {
	if err := s.insertSerial(ctx, tx, a.pending); err != nil {
		return err
	}
	if err := s.saveConvLast(ctx, tx, a); err != nil { // conversations.go
		return err
	}
	for _, c := range a.recalled {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE entries SET recalled = TRUE WHERE app = ? AND owner = ? AND seq = ?`),
			c.App, c.Owner, c.Seq); err != nil {
			return fmt.Errorf("recall: %w", err)
		}
	}
	for _, part := range chunksOf(a.readsSet, maxInList) {
		args := make([]any, 0, 4*len(part))
		for _, k := range part {
			args = append(args, k.app, k.owner, k.peer, a.reads[k])
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO reads (app, owner, peer, read_time) VALUES `+rows(len(part), "(?, ?, ?, ?)")+`
			ON CONFLICT (app, owner, peer) DO UPDATE SET read_time = `+sqlLaterReadTime), args...); err != nil {
			return fmt.Errorf("save read times: %w", err)
		}
	}
	for _, part := range chunksOf(a.seqsToSave(false), maxInList) {
		args := make([]any, 0, 3*len(part))
		for _, k := range part {
			args = append(args, k.app, k.owner, a.last[k])
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO seqs (app, owner, last_seq) VALUES `+rows(len(part), "(?, ?, ?)")+`
			ON CONFLICT (app, owner) DO UPDATE SET last_seq = excluded.last_seq`), args...); err != nil {
			return fmt.Errorf("save seqs: %w", err)
		}
	}
	return nil
}

// insertSerial inserts the pending entries with the prepared statements.
func (s *Store) insertSerial(ctx context.Context, tx *sql.Tx, pending []pendingEntry) error {
	stmts := make(map[int]*sql.Stmt, len(insertSizes))
	for len(pending) > 0 {
		n := insertSizes[len(insertSizes)-1]
		for _, size := range insertSizes {
			if size <= len(pending) {
				n = size
				break
			}
		}
		st, ok := stmts[n]
		if !ok {
			st = tx.StmtContext(ctx, s.insertEntries[n])
			stmts[n] = st
		}
		args := make([]any, 0, 19*n)
		for _, p := range pending[:n] {
			e := p.e
			args = append(args, e.App, e.Owner, e.Seq, e.Kind, e.Peer, e.From, e.To,
				e.MsgSeq, int64(e.MsgRandom), e.MsgTime, e.MsgKey, e.ClientID, e.Body, e.CloudCustomData,
				e.Recalled, p.unread, e.ReadTime, toMs(e.CreatedAt), toMs(e.ExpiresAt))
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
		// Nothing can conflict: Seqs come from the counters and ClientIDs
		// were checked, all under the write lock. A skipped row is a bug.
		if got, err := res.RowsAffected(); err != nil {
			return err
		} else if got != int64(n) {
			return fmt.Errorf("insert entries: %d of %d rows conflicted", int64(n)-got, n)
		}
		pending = pending[n:]
	}
	return nil
}
