package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// entryInsertCols are the columns Apply writes, in flush's argument order.
const entryInsertCols = `app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random,
	msg_time, msg_key, client_id, body, cloud_custom_data, recalled, unread, read_time, created_at, expires_at`

const entryInsertRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertSizes are the row counts of the prepared INSERT statements, largest
// first; a batch is written with as few statements as these sizes allow.
var insertSizes = []int{64, 16, 4, 1}

func sqlInsertEntries(d Dialect, rows int) string {
	return d.BulkInsert + ` INTO entries (` + entryInsertCols + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(entryInsertRow+", ", rows), ", ")
}

const (
	// sqlMarkRecalled recalls every copy of a MsgKey in one owner's log of a
	// conversation: a database written before MsgKeys were kept once per
	// conversation may hold two.
	sqlMarkRecalled = `
		UPDATE entries SET recalled = TRUE
		WHERE app = ? AND owner = ? AND peer = ? AND msg_time = ? AND msg_key = ? AND kind = 'msg' AND NOT recalled`
	// sqlUpsertRead moves the read time forward only and returns the effective one.
	sqlUpsertRead = `
		INSERT INTO reads (app, owner, peer, read_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (app, owner, peer) DO UPDATE SET read_time =
			CASE WHEN excluded.read_time > reads.read_time THEN excluded.read_time ELSE reads.read_time END
		RETURNING read_time`
)

type ownerKey struct {
	app   int64
	owner string
}

// sendKey identifies a send for idempotency: the sender's ClientID.
type sendKey struct {
	app      int64
	from, id string
}

// convKey identifies a message in a conversation, whichever way it went: with
// an explicit MsgSeq, a MsgKey is stored once per conversation.
type convKey struct {
	app  int64
	a, b string // the two users, a <= b
	key  string
}

func convKeyOf(app int64, u, v, key string) convKey {
	if v < u {
		u, v = v, u
	}
	return convKey{app, u, v, key}
}

// pendingEntry is an entry to insert at the next flush.
type pendingEntry struct {
	e      store.Entry
	unread bool
}

// applier is the state of one Apply transaction.
type applier struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store

	insert       map[int]*sql.Stmt // by rows; bound to tx on first use
	markRecalled *sql.Stmt
	upsertRead   *sql.Stmt
	byKey        byKeyFunc

	last    map[ownerKey]int64        // last Seq allocated so far, per owner
	sent    map[sendKey][]store.Entry // copies of the messages with a ClientID, the sender's first
	keys    map[convKey][]store.Entry // copies of the messages the batch's explicit MsgKeys name, and of its sends
	pending []pendingEntry
}

// Apply implements store.Messages. Ops with a zero At get the current time. A
// database error fails (and rolls back) the whole batch; per-op outcomes are in
// OpResult.Err.
//
// The batch is one transaction of few statements, whatever its size:
//
//  1. the last Seq of every owner the batch touches: one query per app (and
//     maxInList owners), which on PostgreSQL also locks those rows so that
//     concurrent batches writing to one owner serialise;
//  2. the messages already sent with the batch's ClientIDs: one query per app
//     (and maxInList ClientIDs), through the unique index; and those of the
//     conversations with the MsgKeys of sends with an explicit MsgSeq, through
//     the conversation index;
//  3. the ops, in order, in memory: Seqs are allocated from step 1, retries are
//     answered from step 2 or from earlier ops of the batch;
//  4. the new entries: multi-row INSERTs of the prepared insertSizes;
//  5. the new last Seqs: multi-row upserts.
//
// A recall looks the message up by primary key, so the entries pending before
// it are inserted first; a read upserts the read state as it goes.
func (s *Store) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("apply", err)
	}
	results, err := s.apply(ctx, tx, ops)
	if err != nil {
		tx.Rollback()
		return nil, wrap("apply", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap("apply: commit", err)
	}
	return results, nil
}

func (s *Store) apply(ctx context.Context, tx *sql.Tx, ops []store.Op) ([]store.OpResult, error) {
	a := &applier{
		ctx:          ctx,
		tx:           tx,
		s:            s,
		insert:       make(map[int]*sql.Stmt, len(insertSizes)),
		markRecalled: tx.StmtContext(ctx, s.markRecalled),
		upsertRead:   tx.StmtContext(ctx, s.upsertRead),
		byKey:        byKeyWith(ctx, tx.StmtContext(ctx, s.entryByKey).QueryRowContext),
		last:         make(map[ownerKey]int64),
	}

	// 1. Seqs. Every op writes to the logs of From and To.
	var owners []ownerKey
	for _, op := range ops {
		for _, o := range [2]string{op.From, op.To} {
			k := ownerKey{op.App, o}
			if _, ok := a.last[k]; !ok && o != "" {
				a.last[k] = 0
				owners = append(owners, k)
			}
		}
	}
	sort.Slice(owners, func(i, j int) bool {
		if owners[i].app != owners[j].app {
			return owners[i].app < owners[j].app
		}
		return owners[i].owner < owners[j].owner
	})
	if err := s.loadSeqs(ctx, tx, owners, a.last); err != nil {
		return nil, err
	}
	first := make(map[ownerKey]int64, len(owners))
	for k, v := range a.last {
		first[k] = v
	}

	// 2. Earlier sends with the batch's ClientIDs. On PostgreSQL the Seq rows
	// of the senders are locked by now, so no other transaction can add one
	// before this one commits.
	var err error
	if a.sent, err = s.loadSent(ctx, tx, ops); err != nil {
		return nil, err
	}
	if a.keys, err = s.loadKeys(ctx, tx, ops); err != nil {
		return nil, err
	}

	// 3. The ops.
	now := time.Now()
	results := make([]store.OpResult, len(ops))
	for i, op := range ops {
		if op.At.IsZero() {
			op.At = now
		}
		var err error
		switch {
		case op.From == "" || op.To == "":
			results[i].Err = fmt.Errorf("op %d: From and To are required", i)
		case op.Kind == store.OpSend:
			results[i] = a.send(op)
		case op.Kind == store.OpRecall:
			results[i], err = a.recall(op)
		case op.Kind == store.OpRead:
			results[i], err = a.read(op)
		default:
			results[i].Err = fmt.Errorf("op %d: unknown kind %d", i, op.Kind)
		}
		if err != nil {
			return nil, err
		}
	}

	// 4. The entries.
	if err := a.flush(); err != nil {
		return nil, err
	}

	// 5. The Seqs.
	var changed []ownerKey
	for _, k := range owners {
		if a.last[k] != first[k] {
			changed = append(changed, k)
		}
	}
	if err := s.saveSeqs(ctx, tx, changed, a.last); err != nil {
		return nil, err
	}
	return results, nil
}

// loadSeqs reads the last Seq of owners (sorted by app and owner) into last: one
// query per app and up to maxInList owners. Without SerialWrites it first creates
// the missing rows and then locks them all, in that order, so that concurrent
// batches writing to one owner serialise without deadlocks.
func (s *Store) loadSeqs(ctx context.Context, tx *sql.Tx, owners []ownerKey, last map[ownerKey]int64) error {
	for len(owners) > 0 {
		n := 1
		for n < len(owners) && n < maxInList && owners[n].app == owners[0].app {
			n++
		}
		part := owners[:n]
		owners = owners[n:]
		app := part[0].app

		args := make([]any, 0, 2*len(part))
		if !s.d.SerialWrites {
			for _, k := range part {
				args = append(args, k.app, k.owner)
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO seqs (app, owner, last_seq)
				VALUES `+rows(len(part), "(?, ?, 0)")+`
				ON CONFLICT (app, owner) DO NOTHING`), args...); err != nil {
				return fmt.Errorf("create seqs: %w", err)
			}
			args = args[:0]
		}
		args = append(args, app)
		for _, k := range part {
			args = append(args, k.owner)
		}
		rs, err := tx.QueryContext(ctx, s.q(`
			SELECT owner, last_seq FROM seqs
			WHERE app = ? AND owner IN (`+placeholders(len(part))+`)
			ORDER BY owner`+s.d.forUpdate()), args...)
		if err != nil {
			return fmt.Errorf("read seqs: %w", err)
		}
		for rs.Next() {
			var owner string
			var seq int64
			if err := rs.Scan(&owner, &seq); err != nil {
				rs.Close()
				return err
			}
			last[ownerKey{app, owner}] = seq
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read seqs: %w", err)
		}
	}
	return nil
}

// saveSeqs stores the last Seq of owners.
func (s *Store) saveSeqs(ctx context.Context, tx *sql.Tx, owners []ownerKey, last map[ownerKey]int64) error {
	for _, part := range chunksOf(owners, maxInList) {
		args := make([]any, 0, 3*len(part))
		for _, k := range part {
			args = append(args, k.app, k.owner, last[k])
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO seqs (app, owner, last_seq)
			VALUES `+rows(len(part), "(?, ?, ?)")+`
			ON CONFLICT (app, owner) DO UPDATE SET last_seq = excluded.last_seq`), args...); err != nil {
			return fmt.Errorf("save seqs: %w", err)
		}
	}
	return nil
}

// loadSent returns the stored copies of the messages sent with the ClientIDs of
// the batch's sends, by sender and ClientID: one query per app and up to
// maxInList ClientIDs, through the unique index. (SQLite plans the row-value IN
// well; PostgreSQL gets an array join that cannot fall back to scanning the app.)
func (s *Store) loadSent(ctx context.Context, tx *sql.Tx, ops []store.Op) (map[sendKey][]store.Entry, error) {
	sent := make(map[sendKey][]store.Entry)
	var keys []sendKey
	seen := make(map[sendKey]bool)
	for _, op := range ops {
		k := sendKey{op.App, op.From, op.ClientID}
		if op.Kind == store.OpSend && op.ClientID != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].app < keys[j].app })
	for len(keys) > 0 {
		n := 1
		for n < len(keys) && n < maxInList && keys[n].app == keys[0].app {
			n++
		}
		part := keys[:n]
		keys = keys[n:]
		var rs *sql.Rows
		var err error
		if s.d.ArrayParams {
			froms, ids := make([]string, len(part)), make([]string, len(part))
			for i, k := range part {
				froms[i], ids[i] = k.from, k.id
			}
			rs, err = tx.QueryContext(ctx, s.q(`
				SELECT e.* FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS k (from_user, client_id)
				CROSS JOIN LATERAL (
					SELECT `+entryCols+` FROM entries
					WHERE app = ? AND from_user = k.from_user AND client_id = k.client_id
					  AND client_id <> '' AND kind = 'msg'
					OFFSET 0 -- keeps the planner from flattening the join, which it may
					         -- do badly while the table has no statistics yet
				) AS e`), froms, ids, part[0].app)
		} else {
			args := make([]any, 0, 1+2*len(part))
			args = append(args, part[0].app)
			for _, k := range part {
				args = append(args, k.from, k.id)
			}
			rs, err = tx.QueryContext(ctx, s.q(`
				SELECT `+entryCols+` FROM entries
				WHERE app = ? AND kind = 'msg' AND client_id <> ''
				  AND (from_user, client_id) IN (VALUES `+rows(len(part), "(?, ?)")+`)`), args...)
		}
		if err != nil {
			return nil, fmt.Errorf("read sent ClientIDs: %w", err)
		}
		for rs.Next() {
			e, err := scanEntry(rs)
			if err != nil {
				rs.Close()
				return nil, err
			}
			k := sendKey{e.App, e.From, e.ClientID}
			sent[k] = append(sent[k], e)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("read sent ClientIDs: %w", err)
		}
	}
	for _, copies := range sent {
		sortCopies(copies)
	}
	return sent, nil
}

// keyRow is one copy loadKeys looks for.
type keyRow struct {
	owner, peer string
	msgTime     int64
	key         string
}

// loadKeys returns the stored copies of the messages whose MsgKeys the batch's
// sends with an explicit MsgSeq would write, by conversation and MsgKey: one
// query per app and up to maxInList copies (each key is looked for in both
// users' logs, as either may hold the only copy).
func (s *Store) loadKeys(ctx context.Context, tx *sql.Tx, ops []store.Op) (map[convKey][]store.Entry, error) {
	out := make(map[convKey][]store.Entry)
	byApp := map[int64][]keyRow{}
	var apps []int64
	seen := make(map[convKey]bool)
	for _, op := range ops {
		if op.Kind != store.OpSend || op.MsgSeq == 0 || op.From == "" || op.To == "" {
			continue
		}
		key := store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime)
		ck := convKeyOf(op.App, op.From, op.To, key)
		if seen[ck] {
			continue
		}
		seen[ck] = true
		if _, ok := byApp[op.App]; !ok {
			apps = append(apps, op.App)
		}
		byApp[op.App] = append(byApp[op.App], keyRow{op.From, op.To, op.MsgTime, key})
		if op.From != op.To {
			byApp[op.App] = append(byApp[op.App], keyRow{op.To, op.From, op.MsgTime, key})
		}
	}
	for _, app := range apps {
		for _, part := range chunksOf(byApp[app], maxInList) {
			rs, err := s.queryKeys(ctx, tx, app, part)
			if err != nil {
				return nil, fmt.Errorf("read MsgKeys: %w", err)
			}
			for rs.Next() {
				e, err := scanEntry(rs)
				if err != nil {
					rs.Close()
					return nil, err
				}
				ck := convKeyOf(e.App, e.From, e.To, e.MsgKey)
				out[ck] = append(out[ck], e)
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return nil, fmt.Errorf("read MsgKeys: %w", err)
			}
		}
	}
	for _, copies := range out {
		sortCopies(copies)
	}
	return out, nil
}

// queryKeys selects the copies of rows of app (as loadSent, with an array join on PostgreSQL).
func (s *Store) queryKeys(ctx context.Context, tx *sql.Tx, app int64, want []keyRow) (*sql.Rows, error) {
	if s.d.ArrayParams {
		n := len(want)
		owners, peers, times, keys := make([]string, n), make([]string, n), make([]int64, n), make([]string, n)
		for i, r := range want {
			owners[i], peers[i], times[i], keys[i] = r.owner, r.peer, r.msgTime, r.key
		}
		return tx.QueryContext(ctx, s.q(`
			SELECT e.* FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]))
				AS k (owner, peer, msg_time, msg_key)
			CROSS JOIN LATERAL (
				SELECT `+entryCols+` FROM entries
				WHERE app = ? AND owner = k.owner AND peer = k.peer AND msg_time = k.msg_time
				  AND msg_key = k.msg_key AND kind = 'msg'
				OFFSET 0 -- as in loadSent
			) AS e`), owners, peers, times, keys, app)
	}
	args := make([]any, 0, 1+4*len(want))
	args = append(args, app)
	for _, r := range want {
		args = append(args, r.owner, r.peer, r.msgTime, r.key)
	}
	return tx.QueryContext(ctx, s.q(`
		SELECT `+entryCols+` FROM entries
		WHERE app = ? AND kind = 'msg'
		  AND (owner, peer, msg_time, msg_key) IN (VALUES `+rows(len(want), "(?, ?, ?, ?)")+`)`), args...)
}

// sortCopies puts the sender's copy first, then the receiver's.
func sortCopies(copies []store.Entry) {
	sort.Slice(copies, func(i, j int) bool {
		ci, cj := copies[i].Owner == copies[i].From, copies[j].Owner == copies[j].From
		if ci != cj {
			return ci
		}
		return copies[i].Owner < copies[j].Owner
	})
}

func (a *applier) next(app int64, owner string) int64 {
	k := ownerKey{app, owner}
	a.last[k]++
	return a.last[k]
}

func (a *applier) add(e store.Entry, unread bool) {
	a.pending = append(a.pending, pendingEntry{e: e, unread: unread})
}

// flush inserts the pending entries.
func (a *applier) flush() error {
	for len(a.pending) > 0 {
		n := insertSizes[len(insertSizes)-1]
		for _, size := range insertSizes {
			if size <= len(a.pending) {
				n = size
				break
			}
		}
		st, ok := a.insert[n]
		if !ok {
			st = a.tx.StmtContext(a.ctx, a.s.insertEntries[n])
			a.insert[n] = st
		}
		args := make([]any, 0, 19*n)
		for _, p := range a.pending[:n] {
			e := p.e
			args = append(args, e.App, e.Owner, e.Seq, e.Kind, e.Peer, e.From, e.To,
				e.MsgSeq, int64(e.MsgRandom), e.MsgTime, e.MsgKey, e.ClientID, e.Body, e.CloudCustomData,
				e.Recalled, p.unread, e.ReadTime, toMs(e.CreatedAt), toMs(e.ExpiresAt))
		}
		res, err := st.ExecContext(a.ctx, args...)
		if err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
		// Nothing can conflict: Seqs come from the (locked) counters and
		// ClientIDs were checked after locking. A skipped row is a bug.
		if got, err := res.RowsAffected(); err != nil {
			return err
		} else if got != int64(n) {
			return fmt.Errorf("insert entries: %d of %d rows conflicted", int64(n)-got, n)
		}
		a.pending = a.pending[n:]
	}
	a.pending = nil
	return nil
}

func (a *applier) send(op store.Op) store.OpResult {
	key := sendKey{op.App, op.From, op.ClientID}
	if op.ClientID != "" {
		if copies, ok := a.sent[key]; ok {
			return store.OpResult{Entries: append([]store.Entry(nil), copies...), Duplicate: true}
		}
	}
	if op.MsgSeq != 0 {
		ck := convKeyOf(op.App, op.From, op.To, store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime))
		if copies, ok := a.keys[ck]; ok {
			return store.OpResult{Entries: append([]store.Entry(nil), copies...), Duplicate: true}
		}
	}
	self := op.From == op.To
	hasSender := !op.OnlyReceiver || self // a message to oneself has one copy, the sender's
	hasReceiver := !self

	var senderSeq, receiverSeq int64
	if hasSender {
		senderSeq = a.next(op.App, op.From)
	}
	if hasReceiver {
		receiverSeq = a.next(op.App, op.To)
	}
	msgSeq := op.MsgSeq
	switch {
	case msgSeq != 0:
	case hasSender:
		msgSeq = senderSeq
	default:
		msgSeq = receiverSeq
	}
	base := store.Entry{
		App:             op.App,
		Kind:            store.KindMsg,
		From:            op.From,
		To:              op.To,
		MsgSeq:          msgSeq,
		MsgRandom:       op.MsgRandom,
		MsgTime:         op.MsgTime,
		MsgKey:          store.FormatMsgKey(msgSeq, op.MsgRandom, op.MsgTime),
		ClientID:        op.ClientID,
		Body:            op.Body,
		CloudCustomData: op.CloudCustomData,
		CreatedAt:       op.At.UTC().Truncate(time.Millisecond),
	}
	if !op.ExpiresAt.IsZero() {
		base.ExpiresAt = op.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	var res store.OpResult
	if hasSender {
		e := base
		e.Owner, e.Peer, e.Seq = op.From, op.To, senderSeq
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	if hasReceiver {
		e := base
		e.Owner, e.Peer, e.Seq = op.To, op.From, receiverSeq
		a.add(e, op.Unread)
		res.Entries = append(res.Entries, e)
	}
	if op.ClientID != "" {
		a.sent[key] = append([]store.Entry(nil), res.Entries...)
	}
	a.keys[convKeyOf(op.App, op.From, op.To, base.MsgKey)] = append([]store.Entry(nil), res.Entries...)
	return res
}

func (a *applier) recall(op store.Op) (store.OpResult, error) {
	// The message may be one of this batch.
	if err := a.flush(); err != nil {
		return store.OpResult{}, err
	}
	sender, receiver, err := findCopies(a.byKey, op.App, op.From, op.To, op.MsgKey)
	if err != nil {
		return store.OpResult{}, err
	}
	if sender == nil && receiver == nil {
		return store.OpResult{Err: errs.ErrNotFound}, nil
	}
	var msg store.Entry
	recalledNow := false
	for _, c := range []*store.Entry{sender, receiver} {
		if c == nil {
			continue
		}
		msg = *c
		res, err := a.markRecalled.ExecContext(a.ctx, c.App, c.Owner, c.Peer, c.MsgTime, c.MsgKey)
		if err != nil {
			return store.OpResult{}, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return store.OpResult{}, err
		} else if n > 0 {
			recalledNow = true
		}
	}
	// Retries answered from memory later in the batch see the recall.
	if msg.ClientID != "" {
		for i := range a.sent[sendKey{msg.App, msg.From, msg.ClientID}] {
			a.sent[sendKey{msg.App, msg.From, msg.ClientID}][i].Recalled = true
		}
	}
	for i, copies := 0, a.keys[convKeyOf(msg.App, msg.From, msg.To, msg.MsgKey)]; i < len(copies); i++ {
		copies[i].Recalled = true
	}
	if !recalledNow {
		return store.OpResult{}, nil // recalled before: nothing new to tell
	}
	var res store.OpResult
	for _, owner := range pair(op) {
		e := store.Entry{
			App:       op.App,
			Owner:     owner,
			Seq:       a.next(op.App, owner),
			Kind:      store.KindRecall,
			Peer:      other(owner, op.From, op.To),
			From:      op.From,
			To:        op.To,
			MsgSeq:    msg.MsgSeq,
			MsgRandom: msg.MsgRandom,
			MsgTime:   msg.MsgTime,
			MsgKey:    msg.MsgKey,
			CreatedAt: op.At.UTC().Truncate(time.Millisecond),
		}
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	return res, nil
}

func (a *applier) read(op store.Op) (store.OpResult, error) {
	var readTime int64
	if err := a.upsertRead.QueryRowContext(a.ctx, op.App, op.From, op.To, op.ReadTime).Scan(&readTime); err != nil {
		return store.OpResult{}, err
	}
	var res store.OpResult
	for _, owner := range pair(op) {
		e := store.Entry{
			App:       op.App,
			Owner:     owner,
			Seq:       a.next(op.App, owner),
			Kind:      store.KindRead,
			Peer:      other(owner, op.From, op.To),
			From:      op.From,
			To:        op.To,
			ReadTime:  readTime,
			CreatedAt: op.At.UTC().Truncate(time.Millisecond),
		}
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	return res, nil
}

// pair returns the logs an op appends to: From's, then To's unless it is the same.
func pair(op store.Op) []string {
	if op.From == op.To {
		return []string{op.From}
	}
	return []string{op.From, op.To}
}

// other returns the other side of the conversation of a and b, seen from owner.
func other(owner, a, b string) string {
	if owner == a {
		return b
	}
	return a
}
