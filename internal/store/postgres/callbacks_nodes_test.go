package postgres_test

import (
	"testing"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/storetest"
)

// Claimers on several nodes (store handles of one database) at once never
// get the same callback event, and together get all of them.
func TestNodesClaimCallbacks(t *testing.T) {
	nodes := openNodes(t)
	handles := make([]store.Store, len(nodes))
	for i, n := range nodes {
		handles[i] = n
	}
	storetest.ClaimConcurrently(t, handles)
}
