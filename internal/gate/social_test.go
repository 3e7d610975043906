package gate

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Friends per user by edition (product spec section 3) and the refusals' codes
// and messages (naming the limit and the edition).
func TestFriendsPerUser(t *testing.T) {
	g := &Gate{}
	for _, tc := range []struct {
		edition, name string
		max           int
	}{{catalog.Trial, "Free Trial", 20}, {catalog.Standard, "Standard", 3000}, {catalog.Premium, "Premium", 3000}} {
		app := store.App{Edition: tc.edition}
		if got := g.MaxFriends(app); got != tc.max {
			t.Errorf("%s: MaxFriends = %d, want %d", tc.edition, got, tc.max)
		}
		own, peer := g.FriendsFull(app, true), g.FriendsFull(app, false)
		if !errs.Is(own, errs.SNSOwnListFull) || !errs.Is(peer, errs.SNSPeerListFull) {
			t.Errorf("%s: codes %v, %v; want 30010, 30014", tc.edition, own, peer)
		}
		for _, err := range []error{own, peer} {
			if msg := errs.Message(err); !strings.Contains(msg, tc.name) || !strings.Contains(msg, strconv.Itoa(tc.max)) {
				t.Errorf("%s: message %q does not name the edition and its limit", tc.edition, msg)
			}
		}
	}
}
