package postgres_test

import (
	"os"
	"testing"

	"github.com/chatd/chatd/internal/store/storetest"
)

// BenchmarkSNS: friends of a user with 3,000 friends (storetest.BenchSNS), in a
// schema of its own.
func BenchmarkSNS(b *testing.B) {
	base := os.Getenv("CHATD_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	storetest.BenchSNS(b, benchStore(b, base))
}
