package postgres_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"testing"

	"github.com/chatd/chatd/internal/store/postgres"
	"github.com/chatd/chatd/internal/store/storetest"
)

// BenchmarkSNS: friends of a user with 3,000 friends (storetest.BenchSNS), in a
// schema of its own.
func BenchmarkSNS(b *testing.B) {
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	schema := "chatd_bench_" + randomHex()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		b.Fatal(err)
	}
	defer admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchSNS(b, s)
}
