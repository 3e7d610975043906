// Package embedded opens chatd's embedded store: SQLite for relational and
// commercial data (package sqlite) and Pebble for message data (package
// pebblestore), behind one store.Store.
//
// Writes that span both keep one order so that a crash in between is harmless:
//   - deleting an app marks it deleted in SQLite first, then range-deletes its
//     keys in Pebble; on open the range delete is redone for every deleted app;
//   - a send is checked against SQLite (users, app status) by the service above
//     and then written to Pebble alone, idempotent on its ClientID;
//   - an after-event of app callbacks is written where its cause is: a message
//     batch's in Pebble (same batch), a relational change's in SQLite (same
//     transaction); the outbox methods merge both (callbacks.go);
//   - the upgrade moves SQLite's messages to Pebble, records that in Pebble
//     (synced), and only then deletes them from SQLite; an interrupted upgrade
//     starts over.
package embedded

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/pebblestore"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// Store is the embedded store. The SQL store's message methods are replaced by
// the engine's; everything else is the SQL store's.
type Store struct {
	*sqlstore.Store
	msgs *pebblestore.Store
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at dbPath and the message
// engine in the directory msgDir (mode 0700), upgrades a database that still
// holds messages, and finishes any app deletion a crash interrupted.
func Open(dbPath, msgDir string) (*Store, error) {
	sq, err := sqlite.Open(dbPath)
	if err != nil {
		return nil, err
	}
	if err := privateDir(msgDir); err != nil {
		sq.Close()
		return nil, fmt.Errorf("embedded: %w", err)
	}
	m, err := pebblestore.Open(msgDir)
	if err != nil {
		sq.Close()
		return nil, err
	}
	s := &Store{Store: sq, msgs: m}
	ctx := context.Background()
	if err := upgrade(ctx, sq, m); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded: upgrade: %w", err)
	}
	if err := s.redoDeletions(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded: %w", err)
	}
	return s, nil
}

// privateDir creates dir with mode 0700, or makes an existing one 0700: it
// holds every message.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// redoDeletions range-deletes the message data of every deleted app.
func (s *Store) redoDeletions(ctx context.Context) error {
	rows, err := s.WriteDB().QueryContext(ctx, `SELECT sdkappid FROM apps WHERE status = ?`, store.StatusDeleted)
	if err != nil {
		return err
	}
	var apps []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		apps = append(apps, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range apps {
		if err := s.msgs.DeleteApp(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Close closes both databases.
func (s *Store) Close() error {
	err := s.msgs.Close()
	if e := s.Store.Close(); err == nil {
		err = e
	}
	return err
}

// Messages.

func (s *Store) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	return s.msgs.Apply(ctx, ops)
}

func (s *Store) Sync(ctx context.Context, app int64, owner string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	return s.msgs.Sync(ctx, app, owner, after, limit, notBefore, now)
}

func (s *Store) LastSeq(ctx context.Context, app int64, owner string) (int64, error) {
	return s.msgs.LastSeq(ctx, app, owner)
}

func (s *Store) History(ctx context.Context, app int64, owner, peer string, minTime, maxTime int64, before store.Cursor, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	return s.msgs.History(ctx, app, owner, peer, minTime, maxTime, before, limit, notBefore, now)
}

func (s *Store) FindMessage(ctx context.Context, app int64, owner, peer, msgKey string) (store.Entry, error) {
	return s.msgs.FindMessage(ctx, app, owner, peer, msgKey)
}

func (s *Store) Unread(ctx context.Context, app int64, owner string, peers []string, notBefore, now time.Time) (map[string]int, error) {
	return s.msgs.Unread(ctx, app, owner, peers, notBefore, now)
}

func (s *Store) PeerReadTime(ctx context.Context, app int64, owner, peer string) (int64, error) {
	return s.msgs.PeerReadTime(ctx, app, owner, peer)
}

func (s *Store) PurgeBefore(ctx context.Context, app int64, t, now time.Time) (int64, error) {
	return s.msgs.PurgeBefore(ctx, app, t, now)
}

// DeleteApp implements store.Tenants: the SQLite tombstone first, then the
// app's message keys (redone on open if this is interrupted).
func (s *Store) DeleteApp(ctx context.Context, sdkappid int64, at time.Time) error {
	if err := s.Store.DeleteApp(ctx, sdkappid, at); err != nil {
		return err
	}
	return s.msgs.DeleteApp(ctx, sdkappid)
}

// InCommerceTx implements store.Commerce; apps deleted by the transaction
// (DeleteAppData) lose their message keys once it commits.
func (s *Store) InCommerceTx(ctx context.Context, fn func(tx store.CommerceTx) error) error {
	var deleted []int64
	err := s.Store.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		deleted = deleted[:0] // a retried transaction starts over
		return fn(deletingTx{tx, &deleted})
	})
	if err != nil {
		return err
	}
	for _, id := range deleted {
		if err := s.msgs.DeleteApp(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

type deletingTx struct {
	store.CommerceTx
	deleted *[]int64
}

func (t deletingTx) DeleteAppData(ctx context.Context, sdkappid int64, at time.Time) error {
	err := t.CommerceTx.DeleteAppData(ctx, sdkappid, at)
	if err == nil {
		*t.deleted = append(*t.deleted, sdkappid)
	}
	return err
}
