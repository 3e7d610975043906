package commerce_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/store"
)

// TestSuspendedMessage: every suspension reason names its own way out.
func TestSuspendedMessage(t *testing.T) {
	for _, c := range []struct {
		app  store.App
		want string
	}{
		{store.App{Edition: catalog.Trial, SuspendReason: commerce.ReasonExpired}, "(expired): x; extend its Free Trial (once) or buy Standard or Premium to resume it"},
		{store.App{Edition: catalog.Trial, TrialExtended: true, SuspendReason: commerce.ReasonExpired}, "(expired): x; buy Standard or Premium to resume it"},
		{store.App{Edition: catalog.Standard, SuspendReason: commerce.ReasonExpired}, "(expired): x; renew its plan or buy one to resume it"},
		{store.App{Edition: catalog.Standard, SuspendReason: commerce.ReasonRefund}, "(refund): x; buy a plan or renew it to resume it"},
		{store.App{Edition: catalog.Premium, SuspendReason: commerce.ReasonArrears}, "(arrears): x; top up the account until its balance is zero or more"},
		{store.App{Edition: catalog.Premium, SuspendReason: commerce.ReasonViolation}, "(violation): x; the suspension is permanent (a content violation): contact the operator"},
	} {
		c.app.SDKAppID = 1400000001
		if got := commerce.SuspendedMessage(c.app, "x"); !strings.HasPrefix(got, "app 1400000001 is suspended ") || !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.app, got, c.want)
		}
	}
}
