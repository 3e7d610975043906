package sqlstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/internal/store"
)

// pgBatch is the PostgreSQL form of a batch's group sends: the ClientID and
// Random look-ups of all of them in two statements (column arrays joined to
// the indexes), the new rows in one INSERT at the end (or before a recall,
// which may name one of them), so a batch of group sends costs a few round
// trips, not three per send.
type pgBatch struct {
	conn    *pgx.Conn
	byCID   map[int]store.Entry // op index -> the message its ClientID names
	byRand  map[int]store.Entry // op index -> a message of the same Random within the window
	cids    map[dupKey]store.Entry
	randoms map[dupKey]store.Entry
	pending []store.Entry
}

type dupKey struct {
	app         int64
	group, from string
	id          string // ClientID, or the Random in decimal
	random      uint32
}

const pgGroupLookupCIDs = `
	SELECT k.i, ` + groupMsgCols + ` FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[]) AS k(k_app, k_grp, k_from, k_cid, i)
	JOIN group_msgs g ON g.app = k.k_app AND g.grp = k.k_grp AND g.from_user = k.k_from AND g.client_id = k.k_cid AND g.kind = 'msg'
	ORDER BY g.seq`

const pgGroupLookupRandoms = `
	SELECT k.i, ` + groupMsgCols + ` FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[]) AS k(k_app, k_grp, k_from, k_random, k_since, i)
	JOIN group_msgs g ON g.app = k.k_app AND g.grp = k.k_grp AND g.from_user = k.k_from AND g.msg_random = k.k_random
	 AND g.kind = 'msg' AND g.created_at >= k.k_since
	ORDER BY g.seq`

const pgGroupInsert = `
	INSERT INTO group_msgs (app, grp, ` + groupMsgCols + `)
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[],
		$9::bigint[], $10::bigint[], $11::text[], $12::bytea[], $13::text[], $14::text[], $15::bigint[], $16::bigint[])`

// preload looks up the ClientIDs and Randoms of the batch's group sends.
func (g *gapplier) preload(ctx context.Context, tx pgxGtx, ops []store.Op, results []store.OpResult, now time.Time) error {
	b := &pgBatch{conn: tx.c, byCID: map[int]store.Entry{}, byRand: map[int]store.Entry{},
		cids: map[dupKey]store.Entry{}, randoms: map[dupKey]store.Entry{}}
	g.pgBatch = b
	var cApps, rApps, rRandoms, rSince []int64
	var cGroups, cFroms, cIDs, rGroups, rFroms []string
	var cIdx, rIdx []int32
	for i, op := range ops {
		if op.Kind != store.OpGroupSend || results[i].Err != nil {
			continue
		}
		at := op.At
		if at.IsZero() {
			at = now
		}
		if op.ClientID != "" {
			cApps, cGroups, cFroms, cIDs, cIdx = append(cApps, op.App), append(cGroups, op.Group), append(cFroms, op.From),
				append(cIDs, op.ClientID), append(cIdx, int32(i))
		}
		if op.RandomWindow > 0 {
			rApps, rGroups, rFroms, rRandoms, rIdx = append(rApps, op.App), append(rGroups, op.Group), append(rFroms, op.From),
				append(rRandoms, int64(op.MsgRandom)), append(rIdx, int32(i))
			rSince = append(rSince, at.UTC().Truncate(time.Millisecond).Add(-op.RandomWindow).UnixMilli())
		}
	}
	load := func(q string, into map[int]store.Entry, args ...any) error {
		rows, err := b.conn.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int32
			var e store.Entry
			var scanErr error
			e, scanErr = scanGroupEntry(0, "", func(dest ...any) error { return rows.Scan(append([]any{&i}, dest...)...) })
			if scanErr != nil {
				return scanErr
			}
			if _, seen := into[int(i)]; !seen { // the first by seq
				e.App, e.Group = ops[i].App, ops[i].Group
				into[int(i)] = e
			}
		}
		return rows.Err()
	}
	if len(cIdx) > 0 {
		if err := load(pgGroupLookupCIDs, b.byCID, cApps, cGroups, cFroms, cIDs, cIdx); err != nil {
			return err
		}
	}
	if len(rIdx) > 0 {
		if err := load(pgGroupLookupRandoms, b.byRand, rApps, rGroups, rFroms, rRandoms, rSince, rIdx); err != nil {
			return err
		}
	}
	return nil
}

// sendBatched is send with the look-ups done and the insert queued.
func (g *gapplier) sendBatched(op store.Op, i int) (store.OpResult, error) {
	at := op.At.UTC().Truncate(time.Millisecond)
	ck := dupKey{app: op.App, group: op.Group, from: op.From, id: op.ClientID}
	rk := dupKey{app: op.App, group: op.Group, from: op.From, random: op.MsgRandom}
	if op.ClientID != "" {
		if e, ok := g.byCID[i]; ok {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
		if e, ok := g.cids[ck]; ok {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
	}
	if op.RandomWindow > 0 {
		if e, ok := g.byRand[i]; ok {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
		if e, ok := g.randoms[rk]; ok && !e.CreatedAt.Before(at.Add(-op.RandomWindow)) {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
	}
	e := store.Entry{
		App: op.App, Group: op.Group, Kind: store.KindMsg, From: op.From, MsgRandom: op.MsgRandom, MsgTime: op.MsgTime,
		ClientID: op.ClientID, Body: op.Body, CloudCustomData: op.CloudCustomData, NeedReceipt: op.NeedReceipt, CreatedAt: at,
	}
	if len(op.Targets) > 0 {
		e.Targets = append([]string(nil), op.Targets...)
	}
	if !op.ExpiresAt.IsZero() {
		e.ExpiresAt = op.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	if err := g.append(context.Background(), &e); err != nil {
		return store.OpResult{}, err
	}
	if op.ClientID != "" {
		g.cids[ck] = e
	}
	if op.RandomWindow > 0 {
		if old, ok := g.randoms[rk]; !ok || old.CreatedAt.Before(e.CreatedAt) {
			g.randoms[rk] = e
		}
	}
	return store.OpResult{Entries: []store.Entry{e}}, nil
}

func (b *pgBatch) queue(e store.Entry) { b.pending = append(b.pending, e) }

// flush inserts the queued rows in one statement.
func (g *gapplier) flush(ctx context.Context) error {
	b := g.pgBatch
	if b == nil || len(b.pending) == 0 {
		return nil
	}
	n := len(b.pending)
	var (
		apps, seqs, recalled, receipt, msgSeqs, randoms, times, created, expires = make([]int64, n), make([]int64, n), make([]int64, n),
			make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		groups, kinds, froms, cids, ccds, targets = make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n)
		bodies = make([][]byte, n)
	)
	for i, e := range b.pending {
		t, err := targetsText(e.Targets)
		if err != nil {
			return err
		}
		apps[i], groups[i], seqs[i], kinds[i], recalled[i], receipt[i] = e.App, e.Group, e.Seq, e.Kind, b2i(e.Recalled), b2i(e.NeedReceipt)
		froms[i], msgSeqs[i], randoms[i], times[i], cids[i], bodies[i] = e.From, e.MsgSeq, int64(e.MsgRandom), e.MsgTime, e.ClientID, e.Body
		ccds[i], targets[i], created[i], expires[i] = e.CloudCustomData, t, toMs(e.CreatedAt), toMs(e.ExpiresAt)
	}
	b.pending = b.pending[:0]
	_, err := b.conn.Exec(ctx, pgGroupInsert, apps, groups, seqs, kinds, recalled, receipt, froms, msgSeqs, randoms, times,
		cids, bodies, ccds, targets, created, expires)
	return err
}
