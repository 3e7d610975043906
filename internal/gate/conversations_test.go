package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Conversation marks and groups: Free Trial and Premium yes, Standard refused
// with 60030 naming the feature and the editions that have it; an inactive
// app is refused first (60020).
func TestConversationFeatures(t *testing.T) {
	g, _ := newGate(t, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	for _, ed := range []string{catalog.Trial, catalog.Standard, catalog.Premium} {
		app := store.App{SDKAppID: 1400000001, Edition: ed, Status: store.StatusActive}
		for name, check := range map[string]func(store.App) error{
			"conversation marks": g.ConversationMarks, "conversation groups": g.ConversationGroups,
		} {
			err := check(app)
			if ed != catalog.Standard {
				if err != nil {
					t.Errorf("%s on %s: %v", name, ed, err)
				}
				continue
			}
			if !errs.Is(err, errs.FeatureNotInEdition) || !strings.Contains(err.Error(), name) ||
				!strings.Contains(err.Error(), "Standard") || !strings.Contains(err.Error(), "Free Trial and Premium") {
				t.Errorf("%s on Standard: %v", name, err)
			}
			app.Status = store.StatusSuspended
			if err := check(app); !errs.Is(err, errs.PlanInactive) {
				t.Errorf("%s on a suspended app: %v", name, err)
			}
			app.Status = store.StatusActive
		}
	}
}
