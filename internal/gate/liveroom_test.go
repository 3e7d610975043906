package gate

import (
	"testing"

	"github.com/chatd/chatd/internal/errs"
)

func TestAdmitBroadcasting(t *testing.T) {
	g := &Gate{}
	for n := 0; n < MaxBroadcastingLiveRooms; n++ {
		if err := g.AdmitBroadcasting(n); err != nil {
			t.Fatalf("%d broadcasting: %v", n, err)
		}
	}
	if err := g.AdmitBroadcasting(MaxBroadcastingLiveRooms); errs.CodeOf(err) != errs.GroupBroadcastLimit {
		t.Fatalf("the sixth: %v", err)
	}
}
