//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// The database holds every app's secret key: it and its WAL and shared-memory
// files are 0600 whatever the umask, in a directory of mode 0755, also when an
// earlier run left them readable by others.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "chatd.db")
	files := []string{path, path + "-wal", path + "-shm"}
	open := func(id string) *sqlstore.Store {
		t.Helper()
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.CreateAccount(context.Background(), store.Account{ID: id, Name: "Acme", Email: "ops@acme.example"}); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(f), m)
			}
		}
		return s
	}
	open("acc_1")
	// Files left readable by an earlier version (still open, as after a crash).
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open("acc_2")
}
