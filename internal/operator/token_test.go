//go:build unix

package operator

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The token is 0600 and a data directory chatd creates 0700, whatever the
// umask; a token file left readable by others is made 0600.
func TestTokenFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	tok, path, created, err := LoadOrCreateToken(dir)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, %v; want mode %o", p, fi.Mode(), err, want)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	again, _, created, err := LoadOrCreateToken(dir)
	if err != nil || created || again != tok {
		t.Fatalf("load: %v, %v, same token %v", created, err, again == tok)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("an existing token file stays %o", fi.Mode().Perm())
	}
}
