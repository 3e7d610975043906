package e2e

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/testdb"
)

// pw is the database password of these tests; the log never shows it.
const pw = "s3cret-Pw"

// In a data directory that exists with mode 0755, the database (every app's
// secret key), its WAL and shared memory and the operator token are 0600.
func TestDataFilesArePrivate(t *testing.T) {
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, data, freeAddr(t))
	n.createApp() // writes to the WAL
	for _, f := range []string{"chatd.db", "chatd.db-wal", "chatd.db-shm", "operator.token"} {
		fi, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", f, m)
		}
	}
}

// A PostgreSQL password given as a query parameter or a keyword stays out of
// the log, when chatd starts and when it cannot connect.
func TestPostgresPasswordNotLogged(t *testing.T) {
	if os.Getenv("CHATD_TEST_POSTGRES_URL") == "" {
		t.Skip("CHATD_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(testdb.PostgresURL(t)) // the test server trusts, so any password does
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	keyword := fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=disable search_path=%s",
		u.Hostname(), u.Port(), u.User.Username(), pw, strings.TrimPrefix(u.Path, "/"), q.Get("search_path"))
	q.Set("password", pw)
	u.RawQuery = q.Encode()
	for name, pgURL := range map[string]string{"query": u.String(), "keyword": keyword} {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, t.TempDir(), freeAddr(t), "--store", "postgres", "--postgres-url", pgURL)
			n.createApp()
			n.stop()
			if strings.Contains(n.logs.String(), pw) || !strings.Contains(n.logs.String(), "database=") {
				t.Errorf("log:\n%s", n.logs)
			}
		})
	}
	// Unreachable: chatd exits 1, naming the database without the password.
	var logs bytes.Buffer
	cmd := exec.Command(chatdBin, "serve", "--data", t.TempDir(), "--addr", freeAddr(t), "--store", "postgres",
		"--postgres-url", "host=127.0.0.1 port=1 user=chatd password="+pw+" dbname=chatd")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Run(); err == nil || strings.Contains(logs.String(), pw) || !strings.Contains(logs.String(), "database=chatd") {
		t.Errorf("unreachable database: %v\n%s", err, logs.String())
	}
}
