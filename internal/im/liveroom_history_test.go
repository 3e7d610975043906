package im

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/store"
)

func TestLiveHistoryBounds(t *testing.T) {
	var h liveHistory
	k := groupKey{1, "live"}
	for i := range 3 * LiveHistoryMessages {
		h.add(k, 1, &store.Entry{Seq: int64(i + 1), Body: []byte(`[]`)})
	}
	got := h.recent(k, 1)
	if len(got) != LiveHistoryMessages || got[0].Seq != 2*LiveHistoryMessages+1 || got[len(got)-1].Seq != 3*LiveHistoryMessages {
		t.Fatalf("kept %d from %d", len(got), got[0].Seq)
	}
	// Bytes bound: big messages push out the old ones.
	big := strings.Repeat("x", LiveHistoryBytes/3)
	for i := range 4 {
		h.add(k, 1, &store.Entry{Seq: int64(100 + i), Body: []byte(big)})
	}
	got = h.recent(k, 1)
	size := 0
	for _, e := range got {
		size += entrySize(e)
	}
	if size > LiveHistoryBytes || got[len(got)-1].Seq != 103 || len(got) != 2 {
		t.Fatalf("kept %d entries, %d bytes", len(got), size)
	}
	// Too large for the ring: not kept.
	h.add(k, 1, &store.Entry{Seq: 200, Body: []byte(strings.Repeat("y", LiveHistoryBytes+1))})
	if got := h.recent(k, 1); got[len(got)-1].Seq != 103 {
		t.Fatal("an entry over the byte bound was kept")
	}
	// Another incarnation of the same GroupId starts empty.
	if got := h.recent(k, 2); len(got) != 0 {
		t.Fatalf("a new room of the same id sees %d messages", len(got))
	}
	h.add(k, 2, &store.Entry{Seq: 1})
	if got := h.recent(k, 2); len(got) != 1 {
		t.Fatalf("new incarnation: %d", len(got))
	}
	// Rooms are bounded.
	for i := range LiveHistoryRooms + 10 {
		h.add(groupKey{2, string(rune('a'+i%26)) + strings.Repeat("z", i/26)}, 1, &store.Entry{Seq: 1})
	}
	if n := len(h.rooms); n > LiveHistoryRooms {
		t.Fatalf("%d rooms kept", n)
	}
}
