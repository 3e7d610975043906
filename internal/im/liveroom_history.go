package im

import (
	"sync"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// History for new members of live rooms (product spec §3, catalog
// LiveRoomHistory): live rooms store nothing, so each process keeps the
// recent messages of each room in memory and hands them to a member who
// joins, on editions with the feature. Bounds (docs/decisions.md):
const (
	LiveHistoryMessages = 20       // the newest messages kept per room
	LiveHistoryBytes    = 32 << 10 // their bodies and custom data, per room
	LiveHistoryRooms    = 2048     // rooms kept per process; past it one room is forgotten
	liveHistoryMaxBytes = 64 << 20 // = LiveHistoryRooms × LiveHistoryBytes, the worst case
)

// liveHistory is the rings of recent live-room messages, per room. A ring
// belongs to one incarnation of a GroupId (serial: store.Group.Serial), so a
// room disbanded and created again starts empty.
type liveHistory struct {
	mu    sync.Mutex
	rooms map[groupKey]*liveRing
}

type liveRing struct {
	serial  int64
	entries []*store.Entry // oldest first
	bytes   int
}

func entrySize(e *store.Entry) int { return len(e.Body) + len(e.CloudCustomData) + 64 }

// add keeps e (a message of the room k, incarnation serial) as the room's
// newest; the oldest go past LiveHistoryMessages or LiveHistoryBytes. An
// entry larger than LiveHistoryBytes is not kept.
func (h *liveHistory) add(k groupKey, serial int64, e *store.Entry) {
	size := entrySize(e)
	if size > LiveHistoryBytes {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms == nil {
		h.rooms = map[groupKey]*liveRing{}
	}
	r := h.rooms[k]
	if r == nil || r.serial != serial {
		if r == nil && len(h.rooms) >= LiveHistoryRooms {
			for old := range h.rooms { // forget one room (map order: arbitrary)
				delete(h.rooms, old)
				break
			}
		}
		r = &liveRing{serial: serial}
		h.rooms[k] = r
	}
	r.entries = append(r.entries, e)
	r.bytes += size
	for len(r.entries) > LiveHistoryMessages || r.bytes > LiveHistoryBytes {
		r.bytes -= entrySize(r.entries[0])
		r.entries[0] = nil
		r.entries = r.entries[1:]
	}
	if cap(r.entries) > 4*LiveHistoryMessages { // the slice's head moved on: compact
		r.entries = append([]*store.Entry(nil), r.entries...)
	}
}

// recent returns the kept messages of the room k (incarnation serial), oldest
// first (a copy of the list; the entries are shared and never modified).
func (h *liveHistory) recent(k groupKey, serial int64) []*store.Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[k]
	if r == nil || r.serial != serial {
		return nil
	}
	return append([]*store.Entry(nil), r.entries...)
}

// keepLiveHistory keeps e, a message just sent to the live room g, for the
// members who join later, where the app's edition has the feature.
func (s *Service) keepLiveHistory(app store.App, g store.Group, e *store.Entry) {
	if g.Type != gate.GroupAVChatRoom || s.gate.GroupFeature(app, catalog.LiveRoomHistory) != nil {
		return
	}
	s.live.history.add(groupKey{app.SDKAppID, g.GroupID}, g.Serial, e)
}

// sendLiveHistory hands the live room's recent messages to user, who just
// joined, where the app's edition has the feature: each a group_entry push
// to the user's devices, oldest first, with its seq in the room.
func (s *Service) sendLiveHistory(app store.App, g store.Group, user string) {
	if g.Type != gate.GroupAVChatRoom || s.gate.GroupFeature(app, catalog.LiveRoomHistory) != nil {
		return
	}
	es := s.live.history.recent(groupKey{app.SDKAppID, g.GroupID}, g.Serial)
	if len(es) == 0 {
		return
	}
	to := []string{user}
	ds := make([]bus.Delivery, len(es))
	for i, e := range es {
		ds[i] = bus.Delivery{App: app.SDKAppID, Kind: bus.KindGroup, Entry: e, Group: &bus.GroupDelivery{Members: to, LiveRoom: true}}
	}
	s.bus.Publish(ds)
}
