package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// entryCols are the columns of an Entry, in scanEntry's order, followed by peer_seq.
const entryCols = `app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random, msg_time,
	msg_key, client_id, body, cloud_custom_data, recalled, read_time, created_at, peer_seq`

// The statements of Apply.
const (
	// sqlLockSeq reads the owner's last Seq and, on PostgreSQL, locks the row
	// until the transaction ends, so that concurrent writers of one owner
	// serialise (the upsert also locks an owner seen for the first time).
	sqlLockSeq = `
		INSERT INTO seqs (app, owner, last_seq) VALUES (?, ?, 0)
		ON CONFLICT (app, owner) DO UPDATE SET last_seq = seqs.last_seq
		RETURNING last_seq`
	sqlSaveSeq = `UPDATE seqs SET last_seq = ? WHERE app = ? AND owner = ?`

	// sqlInsertEntry does nothing (0 rows) when the sender already used the
	// ClientID in this log: that is how a retried send is detected.
	sqlInsertEntry = `
		INSERT INTO entries (app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random,
		                     msg_time, msg_key, client_id, body, cloud_custom_data, recalled, unread,
		                     read_time, peer_seq, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app, owner, from_user, client_id) WHERE client_id <> '' DO NOTHING`
	sqlEntryByClientID = `
		SELECT ` + entryCols + ` FROM entries
		WHERE app = ? AND owner = ? AND from_user = ? AND client_id = ? AND client_id <> ''`
	sqlEntryBySeq = `
		SELECT ` + entryCols + ` FROM entries
		WHERE app = ? AND owner = ? AND seq = ?`
	sqlMarkRecalled = `UPDATE entries SET recalled = TRUE WHERE app = ? AND owner = ? AND seq = ?`
	// sqlUpsertRead moves the read time forward only and returns the effective one.
	sqlUpsertRead = `
		INSERT INTO reads (app, owner, peer, read_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (app, owner, peer) DO UPDATE SET read_time =
			CASE WHEN excluded.read_time > reads.read_time THEN excluded.read_time ELSE reads.read_time END
		RETURNING read_time`
)

type scanner interface{ Scan(...any) error }

// scanEntry scans entryCols.
func scanEntry(row scanner) (e store.Entry, peerSeq int64, err error) {
	var random, created int64
	err = row.Scan(&e.App, &e.Owner, &e.Seq, &e.Kind, &e.Peer, &e.From, &e.To, &e.MsgSeq, &random, &e.MsgTime,
		&e.MsgKey, &e.ClientID, &e.Body, &e.CloudCustomData, &e.Recalled, &e.ReadTime, &created, &peerSeq)
	e.MsgRandom = uint32(random)
	e.CreatedAt = fromMs(created)
	return e, peerSeq, err
}

func scanEntries(rows *sql.Rows) ([]store.Entry, error) {
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// msgKey formats a MsgKey: "<MsgSeq>_<MsgRandom>_<MsgTime>".
func msgKey(seq int64, random uint32, t int64) string {
	return strconv.FormatInt(seq, 10) + "_" + strconv.FormatUint(uint64(random), 10) + "_" + strconv.FormatInt(t, 10)
}

// msgKeySeq returns the MsgSeq of a MsgKey.
func msgKeySeq(key string) (int64, bool) {
	s, _, ok := strings.Cut(key, "_")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// bySeqFunc fetches Owner's entry with Seq (and its peer_seq); found is false when
// there is none.
type bySeqFunc func(app int64, owner string, seq int64) (e store.Entry, peerSeq int64, found bool, err error)

func bySeqWith(ctx context.Context, q func(ctx context.Context, args ...any) *sql.Row) bySeqFunc {
	return func(app int64, owner string, seq int64) (store.Entry, int64, bool, error) {
		e, peerSeq, err := scanEntry(q(ctx, app, owner, seq))
		if errors.Is(err, sql.ErrNoRows) {
			return store.Entry{}, 0, false, nil
		}
		return e, peerSeq, err == nil, err
	}
}

// findCopies finds the copies of the message with key in the conversation of a
// and b, without scanning: the MsgSeq of the key is the Seq of one copy (the
// sender's, or the receiver's for a receiver-only message), and that copy's
// peer_seq is the Seq of the other. It returns the sender's copy first; either
// may be nil.
func findCopies(bySeq bySeqFunc, app int64, a, b, key string) (sender, receiver *store.Entry, err error) {
	seq, ok := msgKeySeq(key)
	if !ok {
		return nil, nil, nil
	}
	owners := []string{a, b}
	if a == b {
		owners = owners[:1]
	}
	for _, owner := range owners {
		peer := a
		if owner == a {
			peer = b
		}
		e, peerSeq, found, err := bySeq(app, owner, seq)
		if err != nil {
			return nil, nil, err
		}
		if !found || e.Kind != store.KindMsg || e.MsgKey != key || e.Peer != peer {
			continue
		}
		first := &e
		var other *store.Entry
		if peerSeq > 0 {
			o, _, found, err := bySeq(app, peer, peerSeq)
			if err != nil {
				return nil, nil, err
			}
			if found && o.Kind == store.KindMsg && o.MsgKey == key {
				other = &o
			}
		}
		if first.Owner == first.From {
			return first, other, nil
		}
		return other, first, nil
	}
	return nil, nil, nil
}

type ownerKey struct {
	app   int64
	owner string
}

// applier is the state of one Apply transaction.
type applier struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store

	insertEntry, entryByCID, markRecalled, upsertRead *sql.Stmt
	bySeq                                             bySeqFunc

	last map[ownerKey]int64 // last Seq allocated so far, per owner
}

// Apply implements store.Messages. Ops with a zero At get the current time.
// A database error fails (and rolls back) the whole batch; per-op outcomes are
// in OpResult.Err.
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
		insertEntry:  tx.StmtContext(ctx, s.insertEntry),
		entryByCID:   tx.StmtContext(ctx, s.entryByCID),
		markRecalled: tx.StmtContext(ctx, s.markRecalled),
		upsertRead:   tx.StmtContext(ctx, s.upsertRead),
		last:         make(map[ownerKey]int64),
	}
	a.bySeq = bySeqWith(ctx, tx.StmtContext(ctx, s.entryBySeq).QueryRowContext)

	// Read (and lock) the last Seq of every owner the batch may write to: one
	// query per distinct owner, in a fixed order so that concurrent batches on
	// PostgreSQL cannot deadlock.
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
	first := make(map[ownerKey]int64, len(owners))
	lockSeq := tx.StmtContext(ctx, s.lockSeq)
	for _, k := range owners {
		var last int64
		if err := lockSeq.QueryRowContext(ctx, k.app, k.owner).Scan(&last); err != nil {
			return nil, fmt.Errorf("seq of %d/%s: %w", k.app, k.owner, err)
		}
		a.last[k], first[k] = last, last
	}

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
			results[i], err = a.send(op)
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

	saveSeq := tx.StmtContext(ctx, s.saveSeq)
	for _, k := range owners {
		if a.last[k] != first[k] {
			if _, err := saveSeq.ExecContext(ctx, a.last[k], k.app, k.owner); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

func (a *applier) next(app int64, owner string) int64 {
	k := ownerKey{app, owner}
	a.last[k]++
	return a.last[k]
}

// release gives back the last Seq allocated to owner, keeping the log gapless.
func (a *applier) release(app int64, owner string) { a.last[ownerKey{app, owner}]-- }

// insert writes e; false when its ClientID is already in the log.
func (a *applier) insert(e *store.Entry, unread bool, peerSeq int64) (bool, error) {
	res, err := a.insertEntry.ExecContext(a.ctx, e.App, e.Owner, e.Seq, e.Kind, e.Peer, e.From, e.To,
		e.MsgSeq, int64(e.MsgRandom), e.MsgTime, e.MsgKey, e.ClientID, e.Body, e.CloudCustomData,
		e.Recalled, unread, e.ReadTime, peerSeq, toMs(e.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (a *applier) send(op store.Op) (store.OpResult, error) {
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
	msgSeq := senderSeq
	if !hasSender {
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
		MsgKey:          msgKey(msgSeq, op.MsgRandom, op.MsgTime),
		ClientID:        op.ClientID,
		Body:            op.Body,
		CloudCustomData: op.CloudCustomData,
		CreatedAt:       op.At.UTC().Truncate(time.Millisecond),
	}
	sender, receiver := base, base
	sender.Owner, sender.Peer, sender.Seq = op.From, op.To, senderSeq
	receiver.Owner, receiver.Peer, receiver.Seq = op.To, op.From, receiverSeq

	release := func() {
		if hasSender {
			a.release(op.App, op.From)
		}
		if hasReceiver {
			a.release(op.App, op.To)
		}
	}
	// The receiver's copy goes first: every send with two logs has one, so a
	// retry conflicts on it before anything is written.
	if hasReceiver {
		ok, err := a.insert(&receiver, op.Unread, senderSeq)
		if err != nil {
			return store.OpResult{}, err
		}
		if !ok {
			release()
			return a.duplicate(op)
		}
	}
	if hasSender {
		ok, err := a.insert(&sender, false, receiverSeq)
		if err != nil {
			return store.OpResult{}, err
		}
		if !ok {
			// The sender used the ClientID before, for another receiver (or
			// for a receiver-only message): still a retry; undo the receiver copy.
			if hasReceiver {
				if _, err := a.tx.ExecContext(a.ctx, a.s.q(`DELETE FROM entries WHERE app = ? AND owner = ? AND seq = ?`),
					op.App, op.To, receiverSeq); err != nil {
					return store.OpResult{}, err
				}
			}
			release()
			return a.duplicate(op)
		}
	}
	switch {
	case hasSender && hasReceiver:
		return store.OpResult{Entries: []store.Entry{sender, receiver}}, nil
	case hasSender:
		return store.OpResult{Entries: []store.Entry{sender}}, nil
	default:
		return store.OpResult{Entries: []store.Entry{receiver}}, nil
	}
}

// duplicate returns the stored copies of the message the sender sent with op's ClientID.
func (a *applier) duplicate(op store.Op) (store.OpResult, error) {
	res := store.OpResult{Duplicate: true}
	// The sender's copy leads to the receiver's through peer_seq.
	e, peerSeq, err := scanEntry(a.entryByCID.QueryRowContext(a.ctx, op.App, op.From, op.From, op.ClientID))
	switch {
	case err == nil:
		res.Entries = append(res.Entries, e)
		if peerSeq > 0 {
			o, _, found, err := a.bySeq(op.App, e.Peer, peerSeq)
			if err != nil {
				return store.OpResult{}, err
			}
			if found && o.MsgKey == e.MsgKey {
				res.Entries = append(res.Entries, o)
			}
		}
		return res, nil
	case !errors.Is(err, sql.ErrNoRows):
		return store.OpResult{}, err
	}
	// A receiver-only message.
	e, _, err = scanEntry(a.entryByCID.QueryRowContext(a.ctx, op.App, op.To, op.From, op.ClientID))
	if err != nil {
		return store.OpResult{}, fmt.Errorf("ClientID %q of %s conflicts but no copy is found: %w", op.ClientID, op.From, err)
	}
	res.Entries = append(res.Entries, e)
	return res, nil
}

func (a *applier) recall(op store.Op) (store.OpResult, error) {
	sender, receiver, err := findCopies(a.bySeq, op.App, op.From, op.To, op.MsgKey)
	if err != nil {
		return store.OpResult{}, err
	}
	if sender == nil && receiver == nil {
		return store.OpResult{Err: store.ErrNotFound}, nil
	}
	var msg store.Entry
	recalledNow := false
	for _, c := range []*store.Entry{sender, receiver} {
		if c == nil {
			continue
		}
		msg = *c
		if !c.Recalled {
			if _, err := a.markRecalled.ExecContext(a.ctx, c.App, c.Owner, c.Seq); err != nil {
				return store.OpResult{}, err
			}
			recalledNow = true
		}
	}
	if !recalledNow {
		return store.OpResult{}, nil // recalled before: nothing new to tell
	}
	var res store.OpResult
	for _, owner := range a.pair(op) {
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
		if _, err := a.insert(&e, false, 0); err != nil {
			return store.OpResult{}, err
		}
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
	for _, owner := range a.pair(op) {
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
		if _, err := a.insert(&e, false, 0); err != nil {
			return store.OpResult{}, err
		}
		res.Entries = append(res.Entries, e)
	}
	return res, nil
}

// pair returns the logs an op appends to: From's, then To's unless it is the same.
func (a *applier) pair(op store.Op) []string {
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

// Sync implements store.Messages. limit <= 0 means no limit.
func (s *Store) Sync(ctx context.Context, app int64, owner string, after int64, limit int, notBefore time.Time) ([]store.Entry, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT `+entryCols+` FROM entries
		WHERE app = ? AND owner = ? AND seq > ? AND created_at >= ?
		ORDER BY seq
		LIMIT ?`), app, owner, after, notBeforeMs(notBefore), limitOf(limit))
	if err != nil {
		return nil, wrap("sync", err)
	}
	entries, err := scanEntries(rows)
	return entries, wrap("sync", err)
}

// LastSeq implements store.Messages. It is the last Seq allocated in the log, so
// it stays put when old entries are purged.
func (s *Store) LastSeq(ctx context.Context, app int64, owner string) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT last_seq FROM seqs WHERE app = ? AND owner = ?`), app, owner).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, wrap("last seq", err)
}

// History implements store.Messages. maxTime <= 0 means no upper bound; limit <= 0
// means no limit.
func (s *Store) History(ctx context.Context, app int64, owner, peer string, minTime, maxTime int64, beforeSeq int64, limit int, notBefore time.Time) ([]store.Entry, error) {
	if maxTime <= 0 {
		maxTime = math.MaxInt64
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT `+entryCols+` FROM entries
		WHERE app = ? AND owner = ? AND peer = ? AND seq < ? AND kind = 'msg'
		  AND msg_time >= ? AND msg_time <= ? AND created_at >= ?
		ORDER BY seq DESC
		LIMIT ?`), app, owner, peer, beforeSeq, minTime, maxTime, notBeforeMs(notBefore), limitOf(limit))
	if err != nil {
		return nil, wrap("history", err)
	}
	entries, err := scanEntries(rows)
	return entries, wrap("history", err)
}

// FindMessage implements store.Messages.
func (s *Store) FindMessage(ctx context.Context, app int64, owner, peer, key string) (store.Entry, error) {
	bySeq := bySeqWith(ctx, func(ctx context.Context, args ...any) *sql.Row {
		return s.r.QueryRowContext(ctx, s.q(sqlEntryBySeq), args...)
	})
	sender, receiver, err := findCopies(bySeq, app, owner, peer, key)
	if err != nil {
		return store.Entry{}, wrap("find message", err)
	}
	for _, c := range []*store.Entry{sender, receiver} {
		if c != nil && c.Owner == owner {
			return *c, nil
		}
	}
	return store.Entry{}, store.ErrNotFound
}

// Unread implements store.Messages. With peers, every listed peer is in the
// result (0 when nothing is unread); without, only peers with unread messages.
func (s *Store) Unread(ctx context.Context, app int64, owner string, peers []string, notBefore time.Time) (map[string]int, error) {
	out := make(map[string]int, len(peers))
	query := func(peerFilter string, args ...any) error {
		rows, err := s.r.QueryContext(ctx, s.q(`
			SELECT e.peer, COUNT(*) FROM entries e
			LEFT JOIN reads r ON r.app = e.app AND r.owner = e.owner AND r.peer = e.peer
			WHERE e.app = ? AND e.owner = ? AND e.created_at >= ?`+peerFilter+`
			  AND e.kind = 'msg' AND e.from_user <> e.owner AND e.unread AND NOT e.recalled
			  AND (r.read_time IS NULL OR e.msg_time > r.read_time)
			GROUP BY e.peer`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var peer string
			var n int
			if err := rows.Scan(&peer, &n); err != nil {
				return err
			}
			out[peer] = n
		}
		return rows.Err()
	}
	if len(peers) == 0 {
		return out, wrap("unread", query("", app, owner, notBeforeMs(notBefore)))
	}
	for _, p := range peers {
		out[p] = 0
	}
	for _, part := range chunks(peers, maxInList) {
		args := []any{app, owner, notBeforeMs(notBefore)}
		for _, p := range part {
			args = append(args, p)
		}
		if err := query(` AND e.peer IN (`+placeholders(len(part))+`)`, args...); err != nil {
			return nil, wrap("unread", err)
		}
	}
	return out, nil
}

// PeerReadTime implements store.Messages (0 when Peer never read).
func (s *Store) PeerReadTime(ctx context.Context, app int64, owner, peer string) (int64, error) {
	var t int64
	err := s.r.QueryRowContext(ctx, s.q(`
		SELECT read_time FROM reads WHERE app = ? AND owner = ? AND peer = ?`), app, peer, owner).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return t, wrap("peer read time", err)
}

// PurgeBefore implements store.Messages.
func (s *Store) PurgeBefore(ctx context.Context, app int64, t time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM entries WHERE app = ? AND created_at < ?`), app, toMs(t))
	if err != nil {
		return 0, wrap("purge", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("purge", err)
}

func limitOf(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}
