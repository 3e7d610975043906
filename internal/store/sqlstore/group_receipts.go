package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupReceiptsSchema holds the read receipts of group messages
// (store.GroupReceipts): im_group_receipts is one row per message with
// receipts that was marked or counted (its audience, fixed then, and its
// read counter); im_group_receipt_reads one row per (message, reader). Both go
// with the group (groupOwnedTables), the app, and the reader's rows with the
// reader. at and created_at are Unix milliseconds.
const groupReceiptsSchema = `
CREATE TABLE IF NOT EXISTS im_group_receipts (
	app        BIGINT NOT NULL,
	group_id   TEXT NOT NULL,
	seq        BIGINT NOT NULL,
	audience   BIGINT NOT NULL,
	read_num   BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (app, group_id, seq)
);
CREATE INDEX IF NOT EXISTS im_group_receipts_by_time ON im_group_receipts (app, created_at);

CREATE TABLE IF NOT EXISTS im_group_receipt_reads (
	app      BIGINT NOT NULL,
	group_id TEXT NOT NULL,
	seq      BIGINT NOT NULL,
	user_id  TEXT NOT NULL,
	at       BIGINT NOT NULL,
	PRIMARY KEY (app, group_id, seq, user_id)
);
CREATE INDEX IF NOT EXISTS im_group_receipt_reads_by_user ON im_group_receipt_reads (app, user_id);
CREATE INDEX IF NOT EXISTS im_group_receipt_reads_by_time ON im_group_receipt_reads (app, at)`

func init() {
	extraSchemas = append(extraSchemas, groupReceiptsSchema)
	groupOwnedTables = append(groupOwnedTables, "im_group_receipts", "im_group_receipt_reads")
	appTables = append(appTables, struct{ table, col string }{"im_group_receipts", "app"},
		struct{ table, col string }{"im_group_receipt_reads", "app"})
	userTables = append(userTables, struct{ table, col string }{"im_group_receipt_reads", "user_id"})
}

// audienceWhere selects, from im_group_members, msg's audience: members whose
// JoinSeq is at or before its seq, not its sender, among its targets if any.
func audienceWhere(app int64, group string, msg store.ReceiptMsg) (string, []any) {
	w := `app = ? AND group_id = ? AND join_seq <= ? AND user_id <> ?`
	args := []any{app, group, msg.Seq, msg.Sender}
	if len(msg.Targets) > 0 {
		w += ` AND user_id IN (?` + strings.Repeat(`, ?`, len(msg.Targets)-1) + `)`
		for _, t := range msg.Targets {
			args = append(args, t)
		}
	}
	return w, args
}

// shareGroup refuses a deleted app or an unknown group and keeps the group's
// row from being deleted until the transaction ends.
func (s *Store) shareGroup(ctx context.Context, tx *sql.Tx, app int64, group string) error {
	if err := s.liveApp(ctx, tx, app, s.d.forShare(), false); err != nil {
		return err
	}
	var one int
	err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_groups WHERE app = ? AND group_id = ?`+s.d.forShare()), app, group).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	return err
}

// ensureReceipt creates msg's row, fixing its audience, when it has none.
func (s *Store) ensureReceipt(ctx context.Context, tx *sql.Tx, app int64, group string, msg store.ReceiptMsg, at time.Time) error {
	w, args := audienceWhere(app, group, msg)
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO im_group_receipts (app, group_id, seq, audience, read_num, created_at)
		SELECT ?, ?, ?, COUNT(*), 0, ? FROM im_group_members WHERE `+w+`
		ON CONFLICT (app, group_id, seq) DO NOTHING`), append([]any{app, group, msg.Seq, toMs(at)}, args...)...)
	return err
}

func receiptOf(seq, audience, read int64) store.GroupReceipt {
	return store.GroupReceipt{Seq: seq, ReadNum: int(read), UnreadNum: int(max(audience-read, 0))}
}

// MarkGroupReceipts implements store.GroupReceipts.
func (s *Store) MarkGroupReceipts(ctx context.Context, app int64, group, reader string, msgs []store.ReceiptMsg, at time.Time) ([]store.GroupReceipt, error) {
	// Messages by seq: two readers' transactions lock the counters in the
	// same order (no deadlock on PostgreSQL).
	msgs = slices.Clone(msgs)
	slices.SortFunc(msgs, func(a, b store.ReceiptMsg) int { return cmp.Compare(a.Seq, b.Seq) })
	var out []store.GroupReceipt
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		if err := s.shareGroup(ctx, tx, app, group); err != nil {
			return err
		}
		for _, m := range msgs {
			res, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO im_group_receipt_reads (app, group_id, seq, user_id, at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (app, group_id, seq, user_id) DO NOTHING`), app, group, m.Seq, reader, toMs(at))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return err
				}
				continue
			}
			// The counter; the message's row is made (its audience counted,
			// once) when this is its first read.
			var audience, read int64
			bump := func() error {
				return tx.QueryRowContext(ctx, s.q(`
					UPDATE im_group_receipts SET read_num = read_num + 1 WHERE app = ? AND group_id = ? AND seq = ?
					RETURNING audience, read_num`), app, group, m.Seq).Scan(&audience, &read)
			}
			err = bump()
			if errors.Is(err, sql.ErrNoRows) {
				if err = s.ensureReceipt(ctx, tx, app, group, m, at); err == nil {
					err = bump()
				}
			}
			if err != nil {
				return err
			}
			out = append(out, receiptOf(m.Seq, audience, read))
		}
		return nil
	})
	return out, groupWrap("mark group receipts", err)
}

// GroupReceipts implements store.GroupReceipts: it reads the counters, and
// writes only the rows of messages counted for the first time.
func (s *Store) GroupReceipts(ctx context.Context, app int64, group string, msgs []store.ReceiptMsg, at time.Time) ([]store.GroupReceipt, error) {
	read := func(db queryer) (map[int64]store.GroupReceipt, error) {
		got := make(map[int64]store.GroupReceipt, len(msgs))
		if len(msgs) == 0 {
			return got, nil
		}
		args := []any{app, group}
		for _, m := range msgs {
			args = append(args, m.Seq)
		}
		rows, err := db.QueryContext(ctx, s.q(`SELECT seq, audience, read_num FROM im_group_receipts
			WHERE app = ? AND group_id = ? AND seq IN (?`+strings.Repeat(`, ?`, len(msgs)-1)+`)`), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var seq, audience, n int64
			if err := rows.Scan(&seq, &audience, &n); err != nil {
				return nil, err
			}
			got[seq] = receiptOf(seq, audience, n)
		}
		return got, rows.Err()
	}
	got, err := read(s.r)
	if err != nil {
		return nil, wrap("group receipts", err)
	}
	if len(got) < len(msgs) {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			if err := s.shareGroup(ctx, tx, app, group); err != nil {
				return err
			}
			for _, m := range msgs {
				if _, ok := got[m.Seq]; !ok {
					if err := s.ensureReceipt(ctx, tx, app, group, m, at); err != nil {
						return err
					}
				}
			}
			got, err = read(tx)
			return err
		})
		if err != nil {
			return nil, groupWrap("group receipts", err)
		}
	}
	out := make([]store.GroupReceipt, len(msgs))
	for i, m := range msgs {
		out[i] = got[m.Seq]
		out[i].Seq = m.Seq
	}
	return out, nil
}

// GroupReceiptReaders implements store.GroupReceipts. The unread page walks
// the group's members by UserID (the primary key) and skips the readers.
func (s *Store) GroupReceiptReaders(ctx context.Context, app int64, group string, msg store.ReceiptMsg, read bool, after string, limit int) ([]string, bool, error) {
	if limit <= 0 || limit > store.MaxReceiptPage {
		limit = store.MaxReceiptPage
	}
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_groups WHERE app = ? AND group_id = ?`), app, group).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, errs.ErrNotFound
	}
	if err != nil {
		return nil, false, wrap("group receipt readers", err)
	}
	var query string
	var args []any
	if read {
		query = `SELECT user_id FROM im_group_receipt_reads WHERE app = ? AND group_id = ? AND seq = ? AND user_id > ?
			ORDER BY user_id LIMIT ?`
		args = []any{app, group, msg.Seq, after, limit + 1}
	} else {
		w, wargs := audienceWhere(app, group, msg)
		query = `SELECT m.user_id FROM im_group_members m WHERE ` + strings.ReplaceAll(w, "user_id", "m.user_id") + ` AND m.user_id > ?
			AND NOT EXISTS (SELECT 1 FROM im_group_receipt_reads r WHERE r.app = m.app AND r.group_id = m.group_id
				AND r.seq = ? AND r.user_id = m.user_id)
			ORDER BY m.user_id LIMIT ?`
		args = append(wargs, after, msg.Seq, limit+1)
	}
	ids, err := queryAll(ctx, s.r, s.q(query), "group receipt readers", func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, args...)
	if err != nil {
		return nil, false, err
	}
	if len(ids) > limit {
		return ids[:limit], false, nil
	}
	return ids, true, nil
}

// PurgeGroupReceipts implements store.GroupReceipts.
func (s *Store) PurgeGroupReceipts(ctx context.Context, app int64, before time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, q := range []string{`DELETE FROM im_group_receipts WHERE app = ? AND created_at < ?`,
			`DELETE FROM im_group_receipt_reads WHERE app = ? AND at < ?`} {
			res, err := tx.ExecContext(ctx, s.q(q), app, toMs(before))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, wrap("purge group receipts", err)
}
