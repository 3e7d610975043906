package e2e

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shBlocks returns the ```sh blocks of the README's section titled heading.
func shBlocks(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README has no section %q", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// The README's quick start works as written: the server block is what
// startNode runs, and the client block, run by bash against it, prints what
// its "# {…}" comments say ("…" stands for anything).
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the quick start needs %s", tool)
		}
	}
	blocks := shBlocks(t, "Quick start")
	if len(blocks) != 2 {
		t.Fatalf("the quick start has %d sh blocks, want 2 (server, client)", len(blocks))
	}
	for _, line := range []string{"go build -o chatd ./cmd/chatd", "./chatd serve "} {
		if !strings.Contains(blocks[0], line) {
			t.Fatalf("the server block lacks %q:\n%s", line, blocks[0])
		}
	}

	// The reader's directory: ./chatd and the default ./chatd-data.
	dir := t.TempDir()
	if err := os.Symlink(chatdBin, filepath.Join(dir, "chatd")); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "chatd-data"), freeAddr(t))

	// The quick start's browser step: / shows the console's sign-in with the
	// operator's hint naming the token file (not the server's directories).
	res, err := http.Get(n.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	hint := "Operator: sign in with the token in <code>operator.token</code> in the server's data directory"
	if res.StatusCode != 200 || !strings.Contains(string(page), "<h1>Sign in</h1>") || !strings.Contains(string(page), hint) {
		t.Fatalf("GET / on the quick start's server: %d, want the sign-in with %q:\n%s", res.StatusCode, hint, page)
	}

	script := strings.ReplaceAll(blocks[1], "http://127.0.0.1:8080", n.url(""))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHATD_SERVER="+n.url(""), "CHATD_DATA=", "CHATD_TOKEN=")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("the quick start failed: %v\n%s\nstdout:\n%s\nstderr:\n%s", err, script, out, stderr)
	}

	// Every "# {…}" comment matches the output, in order.
	got, checked := string(out), 0
	for _, line := range strings.Split(blocks[1], "\n") {
		want, ok := strings.CutPrefix(strings.TrimSpace(line), "# {")
		if !ok {
			continue
		}
		checked++
		for _, part := range strings.Split("{"+want, "…") {
			i := strings.Index(got, part)
			if i < 0 {
				t.Fatalf("the output lacks %q (of %q) where the README shows it:\n%s", part, line, out)
			}
			got = got[i+len(part):]
		}
	}
	if checked < 4 {
		t.Fatalf("only %d expected outputs in the quick start", checked)
	}
}

// TestDocsHaveNoMergeMarkers: a merge conflict left in a Markdown file breaks
// its tables without failing any build.
func TestDocsHaveNoMergeMarkers(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md", "../conformance/README.md")
	marker := regexp.MustCompile(`(?m)^(<<<<<<< |=======$|>>>>>>> )`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := marker.FindIndex(b); loc != nil {
			t.Errorf("%s: merge conflict marker at line %d", f, 1+strings.Count(string(b[:loc[0]]), "\n"))
		}
	}
}
