package gate

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func TestPushToAllOnlyOnFreeTrial(t *testing.T) {
	g := &Gate{Clock: clock.Real{}}
	for _, tc := range []struct {
		edition string
		status  string
		code    int
	}{
		{catalog.Trial, store.StatusActive, 0},
		{catalog.Standard, store.StatusActive, errs.PushNotEnabled},
		{catalog.Premium, store.StatusActive, errs.PushNotEnabled},
		{catalog.Trial, store.StatusSuspended, errs.PlanInactive},
	} {
		err := g.PushToAll(store.App{SDKAppID: 1400000001, Edition: tc.edition, Status: tc.status})
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s %s: %v", tc.edition, tc.status, err)
			}
			continue
		}
		if !errs.Is(err, tc.code) {
			t.Errorf("%s %s: got %v, want code %d", tc.edition, tc.status, err, tc.code)
			continue
		}
		if tc.code == errs.PushNotEnabled {
			msg := errs.Message(err)
			name := catalog.MustLookup(tc.edition).Name
			if !strings.Contains(msg, "push to all users") || !strings.Contains(msg, name) || !strings.Contains(msg, "Free Trial") {
				t.Errorf("%s: message %q must name the feature, the edition and the edition that has it", tc.edition, msg)
			}
		}
	}
}
