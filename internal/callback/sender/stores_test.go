package sender

import (
	"testing"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// forStores runs f on the in-memory fake and on the real stores: the
// embedded one and PostgreSQL (when CHATD_TEST_POSTGRES_URL is set).
func forStores(t *testing.T, f func(t *testing.T, st store.Callbacks)) {
	t.Run("mem", func(t *testing.T) { f(t, newMemStore()) })
	testdb.Each(t, func(t *testing.T, open testdb.Opener) { f(t, open(t)) })
}
