package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// entryCols are the columns of an Entry, in scanEntry's order.
const entryCols = `app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random, msg_time,
	msg_key, client_id, body, cloud_custom_data, recalled, read_time, created_at, expires_at`

// sqlLive keeps the entries a reader may see at a time (its argument, from
// notBeforeMs): all but the messages whose offline life ended.
const sqlLive = ` AND (expires_at = 0 OR expires_at > ?)`

// sqlEntryByKey fetches Owner's copy of a message of the conversation with Peer by
// its MsgKey, through the conversation index (the key's MsgTime narrows it).
const sqlEntryByKey = `
	SELECT ` + entryCols + ` FROM entries
	WHERE app = ? AND owner = ? AND peer = ? AND msg_time = ? AND msg_key = ? AND kind = 'msg'
	LIMIT 1`

type scanner interface{ Scan(...any) error }

// scanEntry scans entryCols.
func scanEntry(row scanner) (e store.Entry, err error) {
	var random, created, expires int64
	err = row.Scan(&e.App, &e.Owner, &e.Seq, &e.Kind, &e.Peer, &e.From, &e.To, &e.MsgSeq, &random, &e.MsgTime,
		&e.MsgKey, &e.ClientID, &e.Body, &e.CloudCustomData, &e.Recalled, &e.ReadTime, &created, &expires)
	e.MsgRandom = uint32(random)
	e.CreatedAt = fromMs(created)
	e.ExpiresAt = fromMs(expires)
	return e, err
}

func scanEntries(rows *sql.Rows) ([]store.Entry, error) {
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// msgKeyTime returns the MsgTime of a MsgKey.
func msgKeyTime(key string) (int64, bool) {
	i := strings.LastIndexByte(key, '_')
	if i < 0 {
		return 0, false
	}
	t, err := strconv.ParseInt(key[i+1:], 10, 64)
	return t, err == nil
}

// byKeyFunc fetches Owner's copy of the message key of the conversation with Peer;
// found is false when there is none.
type byKeyFunc func(app int64, owner, peer string, msgTime int64, key string) (e store.Entry, found bool, err error)

func byKeyWith(ctx context.Context, q func(ctx context.Context, args ...any) *sql.Row) byKeyFunc {
	return func(app int64, owner, peer string, msgTime int64, key string) (store.Entry, bool, error) {
		e, err := scanEntry(q(ctx, app, owner, peer, msgTime, key))
		if errors.Is(err, sql.ErrNoRows) {
			return store.Entry{}, false, nil
		}
		return e, err == nil, err
	}
}

// findCopies finds the copies of the message with key in the conversation of a
// and b: the sender's copy first, then the receiver's; either may be nil.
func findCopies(byKey byKeyFunc, app int64, a, b, key string) (sender, receiver *store.Entry, err error) {
	t, ok := msgKeyTime(key)
	if !ok {
		return nil, nil, nil
	}
	owners := []string{a, b}
	if a == b {
		owners = owners[:1]
	}
	for _, owner := range owners {
		e, found, err := byKey(app, owner, other(owner, a, b), t, key)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			continue
		}
		if e.Owner == e.From {
			sender = &e
		} else {
			receiver = &e
		}
	}
	return sender, receiver, nil
}

// Sync implements store.Messages. limit <= 0 means no limit.
func (s *Store) Sync(ctx context.Context, app int64, owner string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT `+entryCols+` FROM entries
		WHERE app = ? AND owner = ? AND seq > ? AND created_at >= ?`+sqlLive+`
		ORDER BY seq
		LIMIT ?`), app, owner, after, notBeforeMs(notBefore), notBeforeMs(now), limitOf(limit))
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
func (s *Store) History(ctx context.Context, app int64, owner, peer string, minTime, maxTime int64, before store.Cursor, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if maxTime <= 0 {
		maxTime = math.MaxInt64
	}
	if before.Seq <= 0 {
		before = store.Cursor{MsgTime: math.MaxInt64, Seq: math.MaxInt64}
	}
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT `+entryCols+` FROM entries
		WHERE app = ? AND owner = ? AND peer = ? AND kind = 'msg'
		  AND msg_time >= ? AND msg_time <= ? AND created_at >= ?`+sqlLive+`
		  AND (msg_time < ? OR (msg_time = ? AND seq < ?))
		ORDER BY msg_time DESC, seq DESC
		LIMIT ?`), app, owner, peer, minTime, maxTime, notBeforeMs(notBefore), notBeforeMs(now),
		before.MsgTime, before.MsgTime, before.Seq, limitOf(limit))
	if err != nil {
		return nil, wrap("history", err)
	}
	entries, err := scanEntries(rows)
	return entries, wrap("history", err)
}

// FindMessage implements store.Messages.
func (s *Store) FindMessage(ctx context.Context, app int64, owner, peer, key string) (store.Entry, error) {
	byKey := byKeyWith(ctx, func(ctx context.Context, args ...any) *sql.Row {
		return s.r.QueryRowContext(ctx, s.q(sqlEntryByKey), args...)
	})
	sender, receiver, err := findCopies(byKey, app, owner, peer, key)
	if err != nil {
		return store.Entry{}, wrap("find message", err)
	}
	for _, c := range []*store.Entry{sender, receiver} {
		if c != nil && c.Owner == owner {
			return *c, nil
		}
	}
	return store.Entry{}, errs.ErrNotFound
}

// Unread implements store.Messages. With peers, every listed peer is in the
// result (0 when nothing is unread); without, only peers with unread messages.
func (s *Store) Unread(ctx context.Context, app int64, owner string, peers []string, notBefore, now time.Time) (map[string]int, error) {
	out := make(map[string]int, len(peers))
	query := func(peerFilter string, args ...any) error {
		rows, err := s.r.QueryContext(ctx, s.q(`
			SELECT e.peer, COUNT(*) FROM entries e
			LEFT JOIN reads r ON r.app = e.app AND r.owner = e.owner AND r.peer = e.peer
			WHERE e.app = ? AND e.owner = ? AND e.created_at >= ?
			  AND (e.expires_at = 0 OR e.expires_at > ?)`+peerFilter+`
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
		return out, wrap("unread", query("", app, owner, notBeforeMs(notBefore), notBeforeMs(now)))
	}
	for _, p := range peers {
		out[p] = 0
	}
	for _, part := range chunksOf(peers, maxInList) {
		args := []any{app, owner, notBeforeMs(notBefore), notBeforeMs(now)}
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
func (s *Store) PurgeBefore(ctx context.Context, app int64, t, now time.Time) (int64, error) {
	res, err := s.wexec(ctx, s.q(`
		DELETE FROM entries
		WHERE app = ? AND (created_at < ? OR (expires_at <> 0 AND expires_at <= ?))`), app, toMs(t), toMs(now))
	if err != nil {
		return 0, wrap("purge", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("purge", err)
	}
	g, err := s.purgeGroupLogs(ctx, app, t, now) // grouplog.go
	return n + g, wrap("purge", err)
}

func limitOf(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}
