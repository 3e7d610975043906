package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// entryCols are the columns of an Entry, in scanEntry's order, followed by peer_seq.
const entryCols = `app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random, msg_time,
	msg_key, client_id, body, cloud_custom_data, recalled, read_time, created_at, peer_seq`

// sqlEntryBySeq fetches one entry by primary key.
const sqlEntryBySeq = `
	SELECT ` + entryCols + ` FROM entries
	WHERE app = ? AND owner = ? AND seq = ?`

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
	for _, part := range chunksOf(peers, maxInList) {
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
