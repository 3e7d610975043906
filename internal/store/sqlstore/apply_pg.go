package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chatd/chatd/internal/store"
)

// The statements of the pipelined Apply (PostgreSQL only). Keys travel as
// arrays, so each text is one prepared statement whatever the batch size, and
// the lookups join an index to an unnested array (LATERAL ... OFFSET 0 keeps the
// planner from flattening the join, which it may do badly while a table has no
// statistics yet).
const (
	// pgReserveSeqs locks the counters of an app's owners one after the
	// other in owner order (creating missing ones), and moves each forward by
	// the Seqs the batch needs in that log: one write per counter. It returns
	// the new last Seqs. Nothing is reserved, and no row created, for a
	// deleted app: the pipeline queues this before load's first answer (the
	// app's status) is read, so the statement checks the status itself, which
	// the share lock taken just before keeps as it is until the commit.
	pgReserveSeqs = `
		INSERT INTO seqs (app, owner, last_seq)
		SELECT $1, k.owner, k.n FROM unnest($2::text[], $3::bigint[]) AS k (owner, n)
		WHERE NOT EXISTS (SELECT 1 FROM apps WHERE sdkappid = $1 AND status = 'deleted')
		ORDER BY k.owner
		ON CONFLICT (app, owner) DO UPDATE SET last_seq = seqs.last_seq + excluded.last_seq
		RETURNING owner, last_seq`
	pgSent = `
		SELECT e.* FROM unnest($2::text[], $3::text[]) AS k (from_user, client_id)
		CROSS JOIN LATERAL (
			SELECT ` + entryCols + ` FROM entries
			WHERE app = $1 AND from_user = k.from_user AND client_id = k.client_id
			  AND client_id <> '' AND kind = 'msg'
			OFFSET 0
		) AS e`
	pgKeys = `
		SELECT e.* FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) AS k (owner, peer, msg_time, msg_key)
		CROSS JOIN LATERAL (
			SELECT ` + entryCols + ` FROM entries
			WHERE app = $1 AND owner = k.owner AND peer = k.peer AND msg_time = k.msg_time
			  AND msg_key = k.msg_key AND kind = 'msg'
			OFFSET 0
		) AS e`
	pgReads = `
		SELECT r.owner, r.peer, r.read_time FROM unnest($2::text[], $3::text[]) AS k (owner, peer)
		CROSS JOIN LATERAL (
			SELECT owner, peer, read_time FROM reads WHERE app = $1 AND owner = k.owner AND peer = k.peer
			OFFSET 0
		) AS r`

	pgInsertEntries = `
		INSERT INTO entries (` + entryInsertCols + `)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bytea[], $14::text[],
			$15::boolean[], $16::boolean[], $17::bigint[], $18::bigint[], $19::bigint[])`
	pgRecall = `UPDATE entries SET recalled = TRUE WHERE app = $1 AND owner = $2 AND seq = $3`
	// The upserts find their rows through the arbiter index, row by row: no
	// plan to go wrong.
	pgSaveReads = `
		INSERT INTO reads (app, owner, peer, read_time)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
		ON CONFLICT (app, owner, peer) DO UPDATE SET read_time = ` + sqlLaterReadTime
	// pgReturnSeqs gives back the unused end of a reservation (retries,
	// recalls of recalled messages), under the lock still held.
	pgReturnSeqs = `UPDATE seqs SET last_seq = $3 WHERE app = $1 AND owner = $2`
)

// applyPipelined runs a batch on PostgreSQL in two round trips on one pooled
// connection, driven through pgx: BEGIN and load in one pipeline, save and
// COMMIT in the other.
func (s *Store) applyPipelined(ctx context.Context, a *applier) ([]store.OpResult, error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var results []store.OpResult
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the pipelined Apply needs pgx's driver, not %T", dc)
		}
		pc := c.Conn()
		var err error
		results, err = pipelined(ctx, pc, a)
		if err != nil && pc.PgConn().TxStatus() != 'I' {
			// A connection that cannot be rolled back is closed, not pooled.
			if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				return errors.Join(err, driver.ErrBadConn)
			}
		}
		return err
	})
	return results, err
}

func pipelined(ctx context.Context, c *pgx.Conn, a *applier) ([]store.OpResult, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	queueLoad(b, a)
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	now := time.Now()
	results := a.run(now)
	// Group ops (groupapply.go): statements of their own, in the open transaction.
	if err := applyGroups(ctx, pgxGtx{c}, a, results, now); err != nil {
		return nil, err
	}
	b = &pgx.Batch{}
	queueSave(b, a)
	// After-events: the ctx's (as inTx) and the ops' (store.Op.Callback), in
	// one statement of the same pipeline.
	evs, written := store.CallbacksOf(ctx)
	evs = append(evs[:len(evs):len(evs)], opCallbacks(a.ops, results)...)
	queueCallbacks(b, evs)
	committed := false
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		committed = ct.String() == "COMMIT"
		return nil
	})
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	if !committed {
		return nil, errors.New("save: the transaction was rolled back")
	}
	written()
	return results, nil
}

// pgInsertCallbacks appends events to the outbox from column arrays: one
// prepared statement whatever their number. Events of a deleted app are
// dropped, as insertCallbacks does (the batch's apps are share-locked).
const pgInsertCallbacks = `
	INSERT INTO callback_outbox (app, command, body, client_ip, platform, created_at, attempts, next_at,
		last_error, node, lease_until, due_at)
	SELECT k.app, k.command, k.body, k.client_ip, k.platform, k.created_at, 0, k.next_at, '', '', 0, k.next_at
	FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
		WITH ORDINALITY AS k (app, command, body, client_ip, platform, created_at, next_at, n)
	WHERE NOT EXISTS (SELECT 1 FROM apps WHERE sdkappid = k.app AND status = 'deleted')
	ORDER BY k.n`

// queueCallbacks queues the insert of evs (nothing when there are none).
func queueCallbacks(b *pgx.Batch, evs []store.CallbackEvent) {
	n := len(evs)
	if n == 0 {
		return
	}
	apps, created, next := make([]int64, n), make([]int64, n), make([]int64, n)
	cmds, ips, platforms := make([]string, n), make([]string, n), make([]string, n)
	bodies := make([][]byte, n)
	for i, e := range evs {
		apps[i], cmds[i], bodies[i], ips[i], platforms[i] = e.App, e.Command, e.Body, e.ClientIP, e.Platform
		if bodies[i] == nil {
			bodies[i] = []byte{}
		}
		created[i], next[i] = toMs(e.CreatedAt), toMs(e.NextAt)
	}
	b.Queue(pgInsertCallbacks, apps, cmds, bodies, ips, platforms, created, next)
}

// queueLoad queues load: per app, lock and reserve the counters, then the
// lookups, which run after the locks are held.
func queueLoad(b *pgx.Batch, a *applier) {
	// First the apps' rows, share-locked in order (see applier.deleted).
	b.Queue(`SELECT sdkappid, status FROM apps WHERE sdkappid = ANY($1) ORDER BY sdkappid FOR SHARE`, a.apps()).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var app int64
			var status string
			if err := rows.Scan(&app, &status); err != nil {
				return err
			}
			if status == store.StatusDeleted {
				a.deleted[app] = true
			}
		}
		return rows.Err()
	})
	appRuns(a.owners, func(k ownerKey) int64 { return k.app }, len(a.owners), func(app int64, part []ownerKey) error {
		owners, need := make([]string, len(part)), make([]int64, len(part))
		for i, k := range part {
			owners[i], need[i] = k.owner, a.need[k]
		}
		b.Queue(pgReserveSeqs, app, owners, need).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var owner string
				var last int64
				if err := rows.Scan(&owner, &last); err != nil {
					return err
				}
				k := ownerKey{app, owner}
				a.loaded[k] = last - a.need[k]
			}
			return rows.Err()
		})
		return nil
	})
	scanEntries := func(byClientID bool) func(rows pgx.Rows) error {
		return func(rows pgx.Rows) error {
			for rows.Next() {
				e, err := scanEntry(rows)
				if err != nil {
					return err
				}
				a.found(e, byClientID)
			}
			return rows.Err()
		}
	}
	appRuns(a.sendKeys, func(k sendKey) int64 { return k.app }, len(a.sendKeys), func(app int64, part []sendKey) error {
		froms, ids := make([]string, len(part)), make([]string, len(part))
		for i, k := range part {
			froms[i], ids[i] = k.from, k.id
		}
		b.Queue(pgSent, app, froms, ids).Query(scanEntries(true))
		return nil
	})
	appRuns(a.keyRows, func(k keyRow) int64 { return k.app }, len(a.keyRows), func(app int64, part []keyRow) error {
		n := len(part)
		owners, peers, times, keys := make([]string, n), make([]string, n), make([]int64, n), make([]string, n)
		for i, r := range part {
			owners[i], peers[i], times[i], keys[i] = r.owner, r.peer, r.msgTime, r.key
		}
		b.Queue(pgKeys, app, owners, peers, times, keys).Query(scanEntries(false))
		return nil
	})
	appRuns(a.readKeys, func(k readKey) int64 { return k.app }, len(a.readKeys), func(app int64, part []readKey) error {
		owners, peers := make([]string, len(part)), make([]string, len(part))
		for i, k := range part {
			owners[i], peers[i] = k.owner, k.peer
		}
		b.Queue(pgReads, app, owners, peers).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var owner, peer string
				var t int64
				if err := rows.Scan(&owner, &peer, &t); err != nil {
					return err
				}
				a.reads[readKey{app, owner, peer}] = t
			}
			return rows.Err()
		})
		return nil
	})
}

// queueSave queues save: the entries in one statement (column arrays), the
// recalled copies by primary key, the read times and the counters whose
// reservation was not used up.
func queueSave(b *pgx.Batch, a *applier) {
	if n := len(a.pending); n > 0 {
		var (
			apps, seqs, msgSeqs, randoms, msgTimes, readTimes, created, expires = make([]int64, n), make([]int64, n),
				make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			owners, kinds, peers, froms, tos, keys, clientIDs, custom = make([]string, n), make([]string, n),
				make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			bodies           = make([][]byte, n)
			recalled, unread = make([]bool, n), make([]bool, n)
		)
		for i, p := range a.pending {
			e := &p.e
			apps[i], owners[i], seqs[i], kinds[i], peers[i], froms[i], tos[i] = e.App, e.Owner, e.Seq, e.Kind, e.Peer, e.From, e.To
			msgSeqs[i], randoms[i], msgTimes[i], keys[i], clientIDs[i] = e.MsgSeq, int64(e.MsgRandom), e.MsgTime, e.MsgKey, e.ClientID
			bodies[i], custom[i], recalled[i], unread[i], readTimes[i] = e.Body, e.CloudCustomData, e.Recalled, p.unread, e.ReadTime
			created[i], expires[i] = toMs(e.CreatedAt), toMs(e.ExpiresAt)
		}
		b.Queue(pgInsertEntries, apps, owners, seqs, kinds, peers, froms, tos, msgSeqs, randoms, msgTimes, keys,
			clientIDs, bodies, custom, recalled, unread, readTimes, created, expires).Exec(func(ct pgconn.CommandTag) error {
			// Nothing can conflict: Seqs come from the locked counters and
			// ClientIDs were looked up after locking. A skipped row is a bug.
			if ct.RowsAffected() != int64(n) {
				return fmt.Errorf("insert entries: %d of %d rows written", ct.RowsAffected(), n)
			}
			return nil
		})
	}
	for _, c := range a.recalled {
		b.Queue(pgRecall, c.App, c.Owner, c.Seq)
	}
	// After the recalls: entries, then conv_last, as DeleteConversation takes them.
	if args := convLastArgs(a); args != nil { // conversations.go
		b.Queue(pgSaveConvLast, args...)
	}
	if n := len(a.readsSet); n > 0 {
		apps, owners, peers, times := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n)
		for i, k := range a.readsSet {
			apps[i], owners[i], peers[i], times[i] = k.app, k.owner, k.peer, a.reads[k]
		}
		b.Queue(pgSaveReads, apps, owners, peers, times)
	}
	for _, k := range a.seqsToSave(true) {
		b.Queue(pgReturnSeqs, k.app, k.owner, a.last[k])
	}
}
