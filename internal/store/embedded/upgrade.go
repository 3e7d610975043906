package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/pebblestore"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// importChunk is how many SQL rows go into one engine batch during an upgrade
// (a variable for the tests of chunk boundaries).
var importChunk = 4096

// upgrade moves the messages, Seqs and read positions a SQLite database of
// schema v2 or v3 kept (sqlite.Open has brought it to v3) into the engine.
// Order: copy all, record in the engine (synced) that the copy completed up to
// the last rowid, delete those rows from SQLite, record that too. A crash
// before the first record makes the next start wipe the engine's app keys and
// copy again; after it, only the deletion is redone. Rows SQLite holds once
// the upgrade is done were written by an older chatd: chatd refuses to start
// rather than delete or copy them twice.
func upgrade(ctx context.Context, sq *sqlstore.Store, m *pebblestore.Store) error {
	db := sq.WriteDB()
	st, err := m.Upgraded()
	if err != nil {
		return err
	}
	if st == pebblestore.UpgradeNotDone {
		var upTo int64
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM entries`).Scan(&upTo); err != nil {
			return err
		}
		if err := m.BeginUpgrade(); err != nil {
			return err
		}
		if err := copyEntries(ctx, db, m); err != nil {
			return fmt.Errorf("entries: %w", err)
		}
		if err := copySeqs(ctx, db, m); err != nil {
			return fmt.Errorf("seqs: %w", err)
		}
		if err := copyReads(ctx, db, m); err != nil {
			return fmt.Errorf("reads: %w", err)
		}
		st = pebblestore.UpgradeState(upTo)
		if err := m.SetUpgradeState(st); err != nil {
			return err
		}
	}
	var newer int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries WHERE rowid > ?`, int64(st)).Scan(&newer); err != nil {
		return err
	}
	if newer > 0 {
		return fmt.Errorf("SQLite holds %d message rows written after the messages moved to the message engine "+
			"(by an older chatd?); they are left as they are and chatd does not start with them", newer)
	}
	if st == pebblestore.UpgradeDone {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, table := range []string{"entries", "seqs", "reads"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return m.SetUpgradeState(pebblestore.UpgradeDone)
}

// copyEntries streams the SQL logs in an order that puts the two copies of a
// message next to each other.
func copyEntries(ctx context.Context, db *sql.DB, m *pebblestore.Store) error {
	rows, err := db.QueryContext(ctx, `
		SELECT app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random, msg_time,
			msg_key, client_id, body, cloud_custom_data, recalled, unread, read_time, created_at, expires_at
		FROM entries
		ORDER BY app, kind, from_user, to_user, msg_time, msg_key, created_at, client_id, owner`)
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([]pebblestore.Legacy, 0, importChunk)
	for rows.Next() {
		var l pebblestore.Legacy
		var random, created, expires int64
		if err := rows.Scan(&l.App, &l.Owner, &l.Seq, &l.Kind, &l.Peer, &l.From, &l.To, &l.MsgSeq, &random,
			&l.MsgTime, &l.MsgKey, &l.ClientID, &l.Body, &l.CloudCustomData, &l.Recalled, &l.Unread,
			&l.ReadTime, &created, &expires); err != nil {
			return err
		}
		l.MsgRandom = uint32(random)
		l.CreatedAt, l.ExpiresAt = fromMs(created), fromMs(expires)
		// Keep a message's copies in one chunk.
		if len(batch) >= importChunk && !sameGroup(batch[len(batch)-1], l) {
			if err := m.Import(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		batch = append(batch, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return m.Import(batch)
	}
	return nil
}

func sameGroup(a, b pebblestore.Legacy) bool {
	return a.Kind == store.KindMsg && b.Kind == store.KindMsg && a.App == b.App && a.From == b.From &&
		a.To == b.To && a.MsgKey == b.MsgKey && a.MsgTime == b.MsgTime
}

func copySeqs(ctx context.Context, db *sql.DB, m *pebblestore.Store) error {
	rows, err := db.QueryContext(ctx, `SELECT app, owner, last_seq FROM seqs`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var app, last int64
		var owner string
		if err := rows.Scan(&app, &owner, &last); err != nil {
			return err
		}
		if err := m.ImportSeq(app, owner, last); err != nil {
			return err
		}
	}
	return rows.Err()
}

func copyReads(ctx context.Context, db *sql.DB, m *pebblestore.Store) error {
	rows, err := db.QueryContext(ctx, `SELECT app, owner, peer, read_time FROM reads`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var app, t int64
		var owner, peer string
		if err := rows.Scan(&app, &owner, &peer, &t); err != nil {
			return err
		}
		if err := m.ImportRead(app, owner, peer, t); err != nil {
			return err
		}
	}
	return rows.Err()
}

func fromMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
