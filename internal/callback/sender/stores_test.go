package sender

import (
	"testing"

	"github.com/chatd/chatd/internal/store"
)

// forStores runs f on every store available to the tests: the in-memory
// fake, and the real stores when built in.
func forStores(t *testing.T, f func(t *testing.T, st store.Callbacks)) {
	t.Run("mem", func(t *testing.T) { f(t, newMemStore()) })
	for _, s := range realStores {
		t.Run(s.name, func(t *testing.T) { f(t, s.open(t)) })
	}
}

var realStores []struct {
	name string
	open func(t *testing.T) store.Callbacks
}
