package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/store/sqlstore"
	"github.com/chatd/chatd/internal/store/storetest"
)

// testURL returns the server of the tests, skipping them when none is configured
// and failing them when it is configured but unreachable.
func testURL(t *testing.T) (string, *sql.DB) {
	t.Helper()
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("CHATD_TEST_POSTGRES_URL is not set; skipping the PostgreSQL store tests " +
			"(e.g. CHATD_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("CHATD_TEST_POSTGRES_URL: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("CHATD_TEST_POSTGRES_URL is set but the server is unreachable: %v", err)
	}
	return base, admin
}

// freshSchema creates a uniquely named schema, dropped when the test ends, and
// returns base with its search_path set to it.
func freshSchema(t *testing.T, base string, admin *sql.DB) string {
	t.Helper()
	schema := "chatd_test_" + randomHex()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("CHATD_TEST_POSTGRES_URL must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestStore(t *testing.T) {
	base, admin := testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshSchema(t, base, admin))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// A version-2 database gets the version-3 column (entries.expires_at) on open;
// its messages read as ones without an end of life.
func TestUpgradeFromVersion2(t *testing.T) {
	base, admin := testURL(t)
	ctx := context.Background()
	u := freshSchema(t, base, admin)
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`ALTER TABLE entries DROP COLUMN expires_at`,
		`UPDATE schema_version SET version = 2`,
		`INSERT INTO entries (app, owner, seq, kind, peer, from_user, to_user, msg_seq, msg_random, msg_time,
			msg_key, client_id, body, cloud_custom_data, recalled, unread, read_time, created_at)
		VALUES (1, 'bob', 1, 'msg', 'alice', 'alice', 'bob', 1, 7, 1740830400, '1_7_1740830400', '', '[]', '',
			FALSE, TRUE, 0, 1740830400000)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("open of a version-2 database: %v", err)
	}
	defer s.Close()
	var version int
	if err := db.QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil || version != 3 {
		t.Fatalf("schema version %d (%v), want 3", version, err)
	}
	es, err := s.Sync(ctx, 1, "bob", 0, 0, time.Time{}, time.Now())
	if err != nil || len(es) != 1 || !es[0].ExpiresAt.IsZero() {
		t.Fatalf("Sync of the old message = %+v, %v", es, err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}

// BenchmarkApplySend measures durable one-to-one sends as the group-commit
// writer issues them: one Apply (one transaction, one commit) per batch of
// sends between random pairs of 1000 users, each with a ClientID, for batches of
// 1, 16 and 256 sends. One op is one batch; msgs/s counts sends.
func BenchmarkApplySend(b *testing.B) {
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	for _, batch := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchApplySend(b, base, batch) })
	}
}

// BenchmarkApplySendCallback: BenchmarkApplySend with an after-event per
// message appended to the callback outbox in the same pipeline.
func BenchmarkApplySendCallback(b *testing.B) {
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	for _, batch := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			storetest.BenchApplySendCallback(b, benchStore(b, base), batch)
		})
	}
}

// BenchmarkApplyGroupSend: storetest.BenchApplyGroupSend, batches of 1 and 256.
func BenchmarkApplyGroupSend(b *testing.B) {
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	for _, batch := range []int{1, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { storetest.BenchApplyGroupSend(b, benchStore(b, base), batch) })
	}
}

func benchApplySend(b *testing.B, base string, batch int) {
	storetest.BenchApplySend(b, benchStore(b, base), batch)
}

// benchStore opens a store in a fresh schema of the PostgreSQL at base, dropped
// (and the store closed) when the benchmark ends.
func benchStore(b *testing.B, base string) *sqlstore.Store {
	b.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close() })
	schema := "chatd_bench_" + randomHex()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
