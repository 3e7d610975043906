package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Group logs (store.GroupLog): each entry is one row of group_msgs, keyed by
// (app, grp, seq); group_heads holds each group's counter, locked by the
// batch transaction that allocates seqs. Reads of unread counts select the
// small columns only (flags, sender, targets), never the body.
const groupLogSchema = `
CREATE TABLE IF NOT EXISTS group_heads (
	app           BIGINT NOT NULL,
	grp           TEXT NOT NULL,
	last_seq      BIGINT NOT NULL,
	last_msg_time BIGINT NOT NULL,
	PRIMARY KEY (app, grp)
);
CREATE TABLE IF NOT EXISTS group_msgs (
	app               BIGINT NOT NULL,
	grp               TEXT NOT NULL,
	seq               BIGINT NOT NULL,
	kind              TEXT NOT NULL,   -- msg, tips, recall
	recalled          BIGINT NOT NULL, -- 1: recalled
	receipt           BIGINT NOT NULL, -- 1: the sender asked for read receipts
	from_user         TEXT NOT NULL,
	msg_seq           BIGINT NOT NULL, -- recall: the recalled message
	msg_random        BIGINT NOT NULL,
	msg_time          BIGINT NOT NULL,
	client_id         TEXT NOT NULL,
	body              {{BLOB}},
	cloud_custom_data TEXT NOT NULL,
	targets           TEXT NOT NULL,   -- JSON array of a targeted message's receivers, '' for all
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	PRIMARY KEY (app, grp, seq)
);
CREATE INDEX IF NOT EXISTS group_msgs_client ON group_msgs (app, grp, from_user, client_id);
CREATE INDEX IF NOT EXISTS group_msgs_random ON group_msgs (app, grp, from_user, msg_random);
CREATE INDEX IF NOT EXISTS group_msgs_created ON group_msgs (app, created_at)
`

func init() {
	extraSchemas = append(extraSchemas, groupLogSchema)
	appTables = append(appTables, []struct{ table, col string }{{"group_msgs", "app"}, {"group_heads", "app"}}...)
}

const groupMsgCols = `seq, kind, recalled, receipt, from_user, msg_seq, msg_random, msg_time, client_id, body,
	cloud_custom_data, targets, created_at, expires_at`

// scanGroupEntry scans groupMsgCols.
func scanGroupEntry(app int64, group string, scan func(...any) error) (store.Entry, error) {
	e := store.Entry{App: app, Group: group}
	var recalled, receipt, random, created, expires int64
	var targets string
	if err := scan(&e.Seq, &e.Kind, &recalled, &receipt, &e.From, &e.MsgSeq, &random, &e.MsgTime, &e.ClientID,
		&e.Body, &e.CloudCustomData, &targets, &created, &expires); err != nil {
		return e, err
	}
	e.Recalled, e.NeedReceipt, e.MsgRandom = recalled != 0, receipt != 0, uint32(random)
	e.CreatedAt, e.ExpiresAt = fromMs(created), fromMs(expires)
	if targets != "" {
		if err := json.Unmarshal([]byte(targets), &e.Targets); err != nil {
			return e, err
		}
	}
	e.MsgKey = store.FormatMsgKey(e.MsgSeq, e.MsgRandom, e.MsgTime)
	return e, nil
}

// liveCond is the filter of reads by retention and end of life.
const liveCond = ` AND created_at >= ? AND (expires_at = 0 OR expires_at > ?)`

func liveArgs(notBefore, now time.Time) []any {
	expiredAt := int64(math.MinInt64) // a zero now skips none
	if !now.IsZero() {
		expiredAt = now.UnixMilli()
	}
	return []any{notBeforeMs(notBefore), expiredAt}
}

func (s *Store) groupEntries(ctx context.Context, app int64, group, query string, args ...any) ([]store.Entry, error) {
	rs, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []store.Entry
	for rs.Next() {
		e, err := scanGroupEntry(app, group, rs.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// GroupSync implements store.GroupLog.
func (s *Store) GroupSync(ctx context.Context, app int64, group string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	args := append([]any{app, group, after}, liveArgs(notBefore, now)...)
	out, err := s.groupEntries(ctx, app, group, `SELECT `+groupMsgCols+` FROM group_msgs
		WHERE app = ? AND grp = ? AND seq > ?`+liveCond+` ORDER BY seq LIMIT ?`, append(args, limitOf(limit))...)
	return out, wrap("group sync", err)
}

// GroupHistory implements store.GroupLog.
func (s *Store) GroupHistory(ctx context.Context, app int64, group string, from int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	if from <= 0 {
		from = 1<<63 - 1
	}
	args := append([]any{app, group, from}, liveArgs(notBefore, now)...)
	out, err := s.groupEntries(ctx, app, group, `SELECT `+groupMsgCols+` FROM group_msgs
		WHERE app = ? AND grp = ? AND seq <= ?`+liveCond+` ORDER BY seq DESC LIMIT ?`, append(args, limitOf(limit))...)
	return out, wrap("group history", err)
}

// GroupLast implements store.GroupLog.
func (s *Store) GroupLast(ctx context.Context, app int64, group string) (store.GroupLast, error) {
	var l store.GroupLast
	err := s.r.QueryRowContext(ctx, s.q(`SELECT last_seq, last_msg_time FROM group_heads WHERE app = ? AND grp = ?`),
		app, group).Scan(&l.Seq, &l.MsgTime)
	if err == sql.ErrNoRows {
		return l, nil
	}
	return l, wrap("group last", err)
}

// GroupUnread implements store.GroupLog: one COUNT over the untargeted
// messages and the targets of the targeted ones, within the newest
// MaxGroupUnreadScan seqs.
func (s *Store) GroupUnread(ctx context.Context, app int64, group, member string, readSeq int64, notBefore, now time.Time) (int, error) {
	last, err := s.GroupLast(ctx, app, group)
	if err != nil {
		return 0, err
	}
	if floor := last.Seq - store.MaxGroupUnreadScan; readSeq < floor {
		readSeq = floor
	}
	where := ` FROM group_msgs WHERE app = ? AND grp = ? AND seq > ? AND kind = 'msg' AND recalled = 0 AND from_user <> ?` + liveCond
	args := append([]any{app, group, readSeq, member}, liveArgs(notBefore, now)...)
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*)`+where+` AND targets = ''`), args...).Scan(&n); err != nil {
		return 0, wrap("group unread", err)
	}
	rs, err := s.r.QueryContext(ctx, s.q(`SELECT targets`+where+` AND targets <> ''`), args...)
	if err != nil {
		return 0, wrap("group unread", err)
	}
	defer rs.Close()
	for rs.Next() {
		var targets string
		if err := rs.Scan(&targets); err != nil {
			return 0, wrap("group unread", err)
		}
		e := store.Entry{From: "\x00"}
		if err := json.Unmarshal([]byte(targets), &e.Targets); err != nil {
			return 0, wrap("group unread", err)
		}
		if e.VisibleTo(member) {
			n++
		}
	}
	return n, wrap("group unread", rs.Err())
}

// DeleteGroupMsgsBySender implements store.GroupLog.
func (s *Store) DeleteGroupMsgsBySender(ctx context.Context, app int64, group, sender string) (int64, error) {
	res, err := s.wexec(ctx, s.q(`DELETE FROM group_msgs WHERE app = ? AND grp = ? AND from_user = ? AND kind = 'msg'`),
		app, group, sender)
	if err != nil {
		return 0, wrap("delete group msgs", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete group msgs", err)
}

// DeleteGroupLog implements store.GroupLog; the counter row stays.
func (s *Store) DeleteGroupLog(ctx context.Context, app int64, group string) error {
	_, err := s.wexec(ctx, s.q(`DELETE FROM group_msgs WHERE app = ? AND grp = ?`), app, group)
	return wrap("delete group log", err)
}

// purgeGroupLogs deletes the app's group entries created before t and its
// group messages expired at now.
func (s *Store) purgeGroupLogs(ctx context.Context, app int64, t, now time.Time) (int64, error) {
	res, err := s.wexec(ctx, s.q(`
		DELETE FROM group_msgs
		WHERE app = ? AND (created_at < ? OR (expires_at <> 0 AND expires_at <= ?))`), app, toMs(t), toMs(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
