// Package testdb opens fresh stores for tests of the packages above the store:
// always the embedded store (SQLite + the Pebble message engine), and a PostgreSQL one (in a schema of its own,
// dropped at the end) when CHATD_TEST_POSTGRES_URL is set.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for the admin connection

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/store/postgres"
)

// Opener opens a fresh, empty store closed when the test ends.
type Opener func(t *testing.T) store.Store

// SkipWithoutPostgres skips a PostgreSQL-only test when CHATD_TEST_POSTGRES_URL
// is not set (a machine with only Go).
func SkipWithoutPostgres(t *testing.T) {
	t.Helper()
	if os.Getenv("CHATD_TEST_POSTGRES_URL") == "" {
		t.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
}

// Each runs fn as a subtest once per available store kind ("sqlite", "postgres").
func Each(t *testing.T, fn func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite) })
	t.Run("postgres", func(t *testing.T) {
		SkipWithoutPostgres(t)
		fn(t, Postgres)
	})
}

// SQLite opens a fresh embedded store (SQLite and the Pebble message engine,
// as chatd serve does by default) in the test's temporary directory.
func SQLite(t *testing.T) store.Store {
	t.Helper()
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Postgres opens a fresh PostgreSQL store in a new schema; it fails the test when
// CHATD_TEST_POSTGRES_URL is unset or the server is unreachable.
func Postgres(t *testing.T) store.Store {
	t.Helper()
	u := PostgresURL(t)
	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL creates a schema of its own for the test and returns a URL whose
// search_path points at it (open it several times for several "nodes").
func PostgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		t.Fatal("CHATD_TEST_POSTGRES_URL is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("CHATD_TEST_POSTGRES_URL is set but the server is unreachable: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "chatd_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}
