package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// gtx is the transaction a batch's group ops run in: database/sql's (SQLite)
// or the pipelined Apply's pgx connection inside its open transaction.
type gtx interface {
	exec(ctx context.Context, q string, args ...any) error
	// queryRow scans the first row; found is false without one.
	queryRow(ctx context.Context, q string, args []any, dest ...any) (found bool, err error)
}

type sqlGtx struct {
	d  Dialect
	tx *sql.Tx
}

func (t sqlGtx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, t.d.rebind(q), args...)
	return err
}

func (t sqlGtx) queryRow(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.tx.QueryRowContext(ctx, t.d.rebind(q), args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

type pgxGtx struct{ c *pgx.Conn }

func (t pgxGtx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.c.Exec(ctx, Postgres.rebind(q), args...)
	return err
}

func (t pgxGtx) queryRow(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.c.QueryRow(ctx, Postgres.rebind(q), args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func isGroupOp(k store.OpKind) bool {
	return k == store.OpGroupSend || k == store.OpGroupRecall || k == store.OpGroupTips
}

type groupKey struct {
	app   int64
	group string
}

type ghead struct{ seq, msgTime int64 }

// applyGroups runs the batch's group ops in tx after the one-to-one ops ran
// (results holds theirs) and before the commit. It locks the counter rows of
// the batch's groups in (app, group) order (creating missing ones), so
// concurrent batches, also of other nodes, serialise per group without
// deadlocks; every later read of a group's rows is under its lock. A group op
// costs a few statements (look-ups of its ClientID and Random, its row).
func applyGroups(ctx context.Context, tx gtx, a *applier, results []store.OpResult, now time.Time) error {
	var keys []groupKey
	seen := map[groupKey]bool{}
	for i, op := range a.ops {
		if !isGroupOp(op.Kind) {
			continue
		}
		switch {
		case op.Group == "" || (op.Kind == store.OpGroupSend && op.From == ""):
			results[i].Err = fmt.Errorf("op %d: Group (and a send's From) are required", i)
		case a.deleted[op.App]:
			results[i].Err = ErrAppDeleted(op.App)
		default:
			if k := (groupKey{op.App, op.Group}); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].app != keys[j].app {
			return keys[i].app < keys[j].app
		}
		return keys[i].group < keys[j].group
	})
	heads := make(map[groupKey]*ghead, len(keys))
	for _, k := range keys {
		if err := tx.exec(ctx, `INSERT INTO group_heads (app, grp, last_seq, last_msg_time) VALUES (?, ?, 0, 0) ON CONFLICT DO NOTHING`, k.app, k.group); err != nil {
			return fmt.Errorf("group heads: %w", err)
		}
		h := &ghead{}
		lock := ""
		if _, ok := tx.(pgxGtx); ok {
			lock = " FOR UPDATE"
		}
		if _, err := tx.queryRow(ctx, `SELECT last_seq, last_msg_time FROM group_heads WHERE app = ? AND grp = ?`+lock,
			[]any{k.app, k.group}, &h.seq, &h.msgTime); err != nil {
			return fmt.Errorf("group heads: %w", err)
		}
		heads[k] = h
	}
	start := make(map[groupKey]ghead, len(heads))
	for k, h := range heads {
		start[k] = *h
	}
	g := &gapplier{tx: tx, heads: heads}
	if pc, ok := tx.(pgxGtx); ok {
		if err := g.preload(ctx, pc, a.ops, results, now); err != nil { // grouppg.go
			return fmt.Errorf("group look-ups: %w", err)
		}
	}
	for i, op := range a.ops {
		if !isGroupOp(op.Kind) || results[i].Err != nil {
			continue
		}
		if op.At.IsZero() {
			op.At = now
		}
		var err error
		switch op.Kind {
		case store.OpGroupSend:
			results[i], err = g.send(ctx, op, i)
		case store.OpGroupRecall:
			results[i], err = g.recall(ctx, op)
		case store.OpGroupTips:
			results[i], err = g.tips(ctx, op)
		}
		if err != nil {
			return fmt.Errorf("group op %d: %w", i, err)
		}
	}
	if err := g.flush(ctx); err != nil {
		return fmt.Errorf("group entries: %w", err)
	}
	for _, k := range keys {
		if h := heads[k]; *h != start[k] {
			if err := tx.exec(ctx, `UPDATE group_heads SET last_seq = ?, last_msg_time = ? WHERE app = ? AND grp = ?`,
				h.seq, h.msgTime, k.app, k.group); err != nil {
				return fmt.Errorf("group heads: %w", err)
			}
		}
	}
	return nil
}

type gapplier struct {
	tx       gtx
	heads    map[groupKey]*ghead
	*pgBatch // PostgreSQL: look-ups loaded at once, inserts sent at once (grouppg.go)
}

// entry returns the group's first entry matching where (found false when none).
func (g *gapplier) entry(ctx context.Context, app int64, group string, where string, args ...any) (store.Entry, bool, error) {
	found := false
	e, err := scanGroupEntry(app, group, func(dest ...any) error {
		var err error
		found, err = g.tx.queryRow(ctx, `SELECT `+groupMsgCols+` FROM group_msgs WHERE app = ? AND grp = ? AND `+where,
			append([]any{app, group}, args...), dest...)
		return err
	})
	if !found || err != nil {
		return store.Entry{}, false, err
	}
	return e, true, nil
}

func (g *gapplier) send(ctx context.Context, op store.Op, i int) (store.OpResult, error) {
	if g.pgBatch != nil {
		return g.sendBatched(op, i)
	}
	if op.ClientID != "" {
		e, found, err := g.entry(ctx, op.App, op.Group, `from_user = ? AND client_id = ? AND kind = 'msg' LIMIT 1`, op.From, op.ClientID)
		if err != nil {
			return store.OpResult{}, err
		}
		if found {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
	}
	at := op.At.UTC().Truncate(time.Millisecond)
	if op.RandomWindow > 0 {
		// "+created_at": the index on (app, created_at) is not the way here.
		e, found, err := g.entry(ctx, op.App, op.Group, `from_user = ? AND msg_random = ? AND kind = 'msg' AND +created_at >= ? LIMIT 1`,
			op.From, int64(op.MsgRandom), at.Add(-op.RandomWindow).UnixMilli())
		if err != nil {
			return store.OpResult{}, err
		}
		if found {
			return store.OpResult{Entries: []store.Entry{e}, Duplicate: true}, nil
		}
	}
	e := store.Entry{
		App: op.App, Group: op.Group, Kind: store.KindMsg, From: op.From, MsgRandom: op.MsgRandom, MsgTime: op.MsgTime,
		ClientID: op.ClientID, Body: op.Body, CloudCustomData: op.CloudCustomData, NeedReceipt: op.NeedReceipt,
		CreatedAt: at,
	}
	if len(op.Targets) > 0 {
		e.Targets = append([]string(nil), op.Targets...)
	}
	if !op.ExpiresAt.IsZero() {
		e.ExpiresAt = op.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	if err := g.append(ctx, &e); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: []store.Entry{e}}, nil
}

// append gives e the group's next seq and inserts it (or, batched, queues it).
func (g *gapplier) append(ctx context.Context, e *store.Entry) error {
	h := g.heads[groupKey{e.App, e.Group}]
	h.seq++
	e.Seq = h.seq
	if e.Kind != store.KindRecall {
		e.MsgSeq = e.Seq
	}
	if e.MsgTime == 0 {
		e.MsgTime = e.CreatedAt.Unix()
	}
	if e.Kind == store.KindMsg {
		h.msgTime = e.MsgTime
	}
	e.MsgKey = store.FormatMsgKey(e.MsgSeq, e.MsgRandom, e.MsgTime)
	if g.pgBatch != nil {
		g.queue(*e)
		return nil
	}
	targets, err := targetsText(e.Targets)
	if err != nil {
		return err
	}
	return g.tx.exec(ctx, `INSERT INTO group_msgs (app, grp, `+groupMsgCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.App, e.Group, e.Seq, e.Kind, b2i(e.Recalled), b2i(e.NeedReceipt), e.From, e.MsgSeq, int64(e.MsgRandom), e.MsgTime,
		e.ClientID, e.Body, e.CloudCustomData, targets, toMs(e.CreatedAt), toMs(e.ExpiresAt))
}

// targetsText is the targets column: a JSON array, or "" for none.
func targetsText(ts []string) (string, error) {
	if len(ts) == 0 {
		return "", nil
	}
	b, err := json.Marshal(ts)
	return string(b), err
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (g *gapplier) recall(ctx context.Context, op store.Op) (store.OpResult, error) {
	if err := g.flush(ctx); err != nil { // the message may be one of the batch's
		return store.OpResult{}, err
	}
	m, found, err := g.entry(ctx, op.App, op.Group, `seq = ? AND kind = 'msg'`, op.MsgSeq)
	if err != nil {
		return store.OpResult{}, err
	}
	if !found {
		return store.OpResult{Err: errs.ErrNotFound}, nil
	}
	if m.Recalled {
		return store.OpResult{}, nil // recalled before: nothing new to tell
	}
	if err := g.tx.exec(ctx, `UPDATE group_msgs SET recalled = 1 WHERE app = ? AND grp = ? AND seq = ?`, op.App, op.Group, op.MsgSeq); err != nil {
		return store.OpResult{}, err
	}
	e := store.Entry{App: op.App, Group: op.Group, Kind: store.KindRecall, From: op.From, MsgSeq: m.Seq, MsgRandom: m.MsgRandom,
		MsgTime: op.MsgTime, CreatedAt: op.At.UTC().Truncate(time.Millisecond)}
	if err := g.append(ctx, &e); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: []store.Entry{e}}, nil
}

func (g *gapplier) tips(ctx context.Context, op store.Op) (store.OpResult, error) {
	e := store.Entry{App: op.App, Group: op.Group, Kind: store.KindGroupTips, From: op.From, MsgRandom: op.MsgRandom,
		MsgTime: op.MsgTime, Body: op.Body, CreatedAt: op.At.UTC().Truncate(time.Millisecond)}
	if err := g.append(ctx, &e); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: []store.Entry{e}}, nil
}
