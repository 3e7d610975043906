// Package sqlite opens chatd's embedded store: SQLite through the pure-Go driver
// modernc.org/sqlite, with the shared SQL of package sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"

	"modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/chatd/chatd/internal/fileperm"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// Connection settings. WAL lets readers run alongside the writer;
// synchronous=FULL makes every commit durable (group commit above amortises the
// sync); busy_timeout covers other processes holding the lock (backups, the
// sqlite3 shell).
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"foreign_keys(1)",
	"cache_size(-32000)", // 32 MiB of page cache per connection
}

// writerPragmas apply to the write connection only. A commit of a batch dirties
// a page per owner in each per-owner index, over a thousand pages; checkpointing
// after every 1000 pages (the default) would copy them back to the database file
// almost once per commit. A larger WAL lets a checkpoint copy each hot page once
// for many commits.
var writerPragmas = []string{
	"wal_autocheckpoint(16384)",    // pages: 64 MiB of WAL with 4 KiB pages
	"journal_size_limit(67108864)", // truncate the WAL back to 64 MiB after a reset
}

func dsn(path string, writer bool, extra url.Values) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if writer {
		for _, p := range writerPragmas {
			q.Add("_pragma", p)
		}
	}
	for k, v := range extra {
		q[k] = v
	}
	return path + "?" + q.Encode()
}

// makePrivate creates the database file at path with mode 0600 when missing and
// makes it and its sidecars private when present: the database holds every
// app's secret key. SQLite creates the sidecars with the database file's mode.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := fileperm.Private(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

// Open opens (creating if needed, mode 0600) the database at path. SQLite has one writer,
// so all writes go through one connection (transactions BEGIN IMMEDIATE) and
// reads through a separate pool that never waits on it. ":memory:" opens a
// private in-memory database on a single connection shared by reads and writes.
func Open(path string) (*sqlstore.Store, error) {
	// Commit with fdatasync(2) rather than fsync(2), as SQLite built from its
	// own configure script does on Linux: the same durability without waiting
	// for timestamp updates. Process-wide; unavailable on some platforms,
	// where fsync stays.
	sqlite.Fdatasync(true)

	ctx := context.Background()
	if path == ":memory:" {
		db, err := sql.Open("sqlite", dsn(path, true, nil))
		if err != nil {
			return nil, err
		}
		// One connection, kept forever: the database lives in it.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s, err := sqlstore.New(ctx, sqlstore.SQLite, db, db)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		return s, nil
	}

	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, true, url.Values{"_txlock": {"immediate"}}))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil { // creates the file and switches it to WAL
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(path, false, url.Values{"_query_only": {"1"}}))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)

	s, err := sqlstore.New(ctx, sqlstore.SQLite, w, r)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return s, nil
}
