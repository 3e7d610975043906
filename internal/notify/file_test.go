package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
)

func TestFileSenderWritesJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool", "notify", "notices.jsonl") // directories made on demand
	var logs bytes.Buffer
	f := NewFileSender(path, slog.New(slog.NewTextHandler(&logs, nil)))
	sentAt := time.Date(2031, 2, 22, 9, 0, 5, 0, time.UTC)
	f.Clock = clock.NewManual(sentAt)

	email, sms := testMessage(ChannelEmail), testMessage(ChannelSMS)
	sms.ID, sms.Recipient = "n-43", "+41790000000"
	for _, m := range []Message{email, sms} {
		if err := f.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), data)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "n-42", "account": "acc-7", "sdkappid": float64(1400000001), "kind": "renewal_reminder",
		"channel": "email", "recipient": "alice@example.org", "subject": email.Subject, "body": email.Body,
		"due_at": "2031-02-22T09:00:00Z", "sent_at": "2031-02-22T09:00:05Z",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("line 1 = %v\nwant     %v", got, want)
	}
	var second Message
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second.ID != "n-43" || second.Channel != ChannelSMS || !second.DueAt.Equal(sms.DueAt) {
		t.Fatalf("line 2 = %+v", second)
	}

	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Fatalf("file mode %v, want 0600", perm)
		}
	}
	for _, s := range []string{"msg=notification", "kind=renewal_reminder", "channel=sms", "account=acc-7", "recipient=+41790000000"} {
		if !strings.Contains(logs.String(), s) {
			t.Fatalf("log lacks %q:\n%s", s, logs.String())
		}
	}
}

func TestFileSenderConcurrentLinesStayWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notices.jsonl")
	f := NewFileSender(path, slog.New(slog.DiscardHandler))
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := testMessage(ChannelEmail)
			m.ID = fmt.Sprintf("n-%d", i)
			m.Body = strings.Repeat(fmt.Sprintf("%d ", i), 2000) // long, so a torn write would show
			errs <- f.Send(context.Background(), m)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	seen, lines := map[string]bool{}, 0
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", lines, err)
		}
		var i int
		fmt.Sscanf(m.ID, "n-%d", &i)
		if m.Body != strings.Repeat(fmt.Sprintf("%d ", i), 2000) {
			t.Fatalf("message %s has a mangled body", m.ID)
		}
		seen[m.ID] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != n || len(seen) != n {
		t.Fatalf("%d lines and %d distinct messages in the file, want %d", lines, len(seen), n)
	}
}

// Notices carry personal data: a log file left readable by others is made 0600.
func TestFileSenderKeepsTheFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifications.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := NewFileSender(path, slog.New(slog.DiscardHandler)).Send(context.Background(), testMessage(ChannelEmail)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
}
