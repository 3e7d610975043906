package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/storetest"
)

// BenchmarkSNS: friends of a user with 3,000 friends (storetest.BenchSNS).
func BenchmarkSNS(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchSNS(b, s)
}
