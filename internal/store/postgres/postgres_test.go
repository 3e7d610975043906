package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
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
	b := make([]byte, 8)
	rand.Read(b)
	schema := "chatd_test_" + hex.EncodeToString(b)
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

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}
