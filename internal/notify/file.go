package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/fileperm"
)

// FileSender appends each message as one JSON line to a file and logs it. It
// handles both channels and is safe for concurrent use.
type FileSender struct {
	// Clock stamps "sent_at"; nil means the wall clock. Set it before the first Send.
	Clock clock.Clock

	path string
	log  *slog.Logger
	mu   sync.Mutex // one writer at a time, so lines never interleave
}

// NewFileSender returns a sender appending to path; a nil log means slog.Default().
func NewFileSender(path string, log *slog.Logger) *FileSender {
	if log == nil {
		log = slog.Default()
	}
	return &FileSender{path: path, log: log}
}

// fileLine is what one line of the file holds: the message and when it was written.
type fileLine struct {
	Message
	SentAt string `json:"sent_at"`
}

// Send appends m to the file, creating the file (0600: notices carry personal
// data) and its directory (0700) when missing; a file others may read is made
// 0600.
func (f *FileSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now().UTC()
	if f.Clock != nil {
		now = f.Clock.Now()
	}
	line, err := json.Marshal(fileLine{Message: m, SentAt: now.Format(time.RFC3339)})
	if err != nil {
		return fmt.Errorf("notify: encode message %s: %w", m.ID, err)
	}
	line = append(line, '\n')
	if err := f.appendLine(line); err != nil {
		return err
	}
	f.log.Info("notification", "kind", m.Kind, "channel", m.Channel, "account", m.AccountID, "recipient", m.Recipient)
	return nil
}

// appendLine opens the file for each line: a rotated or deleted file is simply
// recreated, and O_APPEND with a single write keeps lines whole even when
// another process appends to the same file.
func (f *FileSender) appendLine(line []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	werr := fileperm.Private(f.path)
	if werr == nil {
		_, werr = file.Write(line)
	}
	cerr := file.Close()
	if werr != nil {
		return fmt.Errorf("notify: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("notify: %w", cerr)
	}
	return nil
}
