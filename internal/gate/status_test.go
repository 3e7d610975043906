package gate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func TestCapabilitiesFollowTheCatalog(t *testing.T) {
	g := &Gate{}
	for _, ed := range catalog.Editions() {
		c := g.Capabilities(store.App{Edition: ed.ID, Status: store.StatusActive})
		if c.Edition != ed.ID {
			t.Fatalf("edition %q, want %q", c.Edition, ed.ID)
		}
		var want []string
		for _, f := range []catalog.Feature{catalog.BroadcastLiveRooms, catalog.Community, catalog.ConversationGroups,
			catalog.ConversationMarks, catalog.GroupReadReceipts, catalog.LiveRoomBan, catalog.LiveRoomHistory,
			catalog.LiveRoomOnlineMembers, catalog.LocalSearch, catalog.MultiDeviceSamePlat, catalog.PushToAll,
			catalog.TargetedGroupMessages, catalog.UserStatus} {
			if ed.Has(f) {
				want = append(want, string(f))
			}
		}
		if want == nil {
			want = []string{}
		}
		// sorted by name, as listed above
		if !reflect.DeepEqual(c.Features, want) {
			t.Fatalf("%s: features %v, want %v", ed.ID, c.Features, want)
		}
	}
	if c := g.Capabilities(store.App{Edition: catalog.Standard}); len(c.Features) != 0 {
		t.Fatalf("standard lists %v", c.Features)
	}
}

func TestUserStatusGate(t *testing.T) {
	g := &Gate{}
	for ed, ok := range map[string]bool{catalog.Trial: true, catalog.Standard: false, catalog.Premium: true} {
		err := g.UserStatus(store.App{Edition: ed, Status: store.StatusActive})
		if ok != (err == nil) {
			t.Fatalf("%s: %v", ed, err)
		}
		if !ok && (errs.CodeOf(err) != errs.FeatureNotInEdition || !strings.Contains(errs.Message(err), "not part of the Standard edition; it is in Free Trial and Premium")) {
			t.Fatalf("%s: %v", ed, err)
		}
	}
	if err := g.UserStatus(store.App{Edition: catalog.Premium, Status: store.StatusSuspended}); errs.CodeOf(err) != errs.PlanInactive {
		t.Fatalf("suspended app: %v, want 60020", err)
	}
}
