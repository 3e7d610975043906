package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/testdb"
)

// TestSuspensionNoticeNamesAllowedAction: the notice of an app suspended at
// expiry names only what resumes it: a Free Trial is extended (once) or replaced
// by a plan, never renewed.
func TestSuspensionNoticeNamesAllowedAction(t *testing.T) {
	w := newWorldOn(t, testdb.SQLite(t), false)
	acc := w.account(t, "Trial Only", "")
	app := w.app(t, acc.ID, "trial")
	w.setTo(t, w.getApp(t, app.SDKAppID).ExpiresAt.Add(day+time.Hour))
	var body string
	for _, n := range w.notes(t, acc.ID) {
		if n.Kind == "suspended" {
			body = n.Body
		}
	}
	if !strings.Contains(body, "extend its Free Trial") || strings.Contains(body, "renew a plan") || strings.Contains(body, "renew its plan") {
		t.Errorf("suspension notice of a Free Trial app: %q", body)
	}
	if _, err := w.com.ExtendTrial(ctx, app.SDKAppID); err != nil {
		t.Errorf("the notice says to extend the Free Trial, which is refused: %v", err)
	}
}
