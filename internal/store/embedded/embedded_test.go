package embedded_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		dir := t.TempDir()
		s, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// The message directory is private (0700) even when it existed with a wider mode.
func TestMessagesDirIsPrivate(t *testing.T) {
	dir := t.TempDir()
	msgs := filepath.Join(dir, "messages")
	if err := os.Mkdir(msgs, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(dir, "chatd.db"), msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Fatalf("messages directory has mode %o, want 700", m)
	}
}
