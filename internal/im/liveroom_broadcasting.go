package im

import (
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// The broadcasting limit (product spec §3: at most
// gate.MaxBroadcastingLiveRooms broadcasting live rooms online at once per
// app; docs/decisions.md). A live room is broadcasting while at least one of
// its members is online and a message was sent to it within
// gate.BroadcastIdle. A message to a live room that is not broadcasting, with
// an online member, would make it broadcast: the gate admits it unless the
// app already has the maximum broadcasting (10962). Kept in memory per node
// (a multi-node deployment counts per node; live-room delivery is per node's
// devices too).

// broadcasting holds, per app, the live rooms that sent a message within
// gate.BroadcastIdle and the time of their last one. Bounded: a room leaves
// at its first look after BroadcastIdle, and an app holds at most
// gate.MaxBroadcastingLiveRooms rooms.
type broadcasting struct {
	mu   sync.Mutex
	apps map[int64]map[string]time.Time
}

// admitLiveMessage applies the broadcasting limit to a message sent now to the
// live room g (callers: the live-room send path). It returns
// gate.BroadcastingLimitErr (10962) when the room would be one too many.
func (s *Service) admitLiveMessage(ctx context.Context, app store.App, g store.Group) error {
	if g.Type != gate.GroupAVChatRoom {
		return nil
	}
	b := &s.live.broadcasting
	now := s.clock.Now()
	b.mu.Lock()
	rooms := b.apps[app.SDKAppID]
	if _, ok := rooms[g.GroupID]; ok && now.Sub(rooms[g.GroupID]) < gate.BroadcastIdle {
		rooms[g.GroupID] = now
		b.mu.Unlock()
		return nil
	}
	var others []string
	for id, last := range rooms {
		if now.Sub(last) >= gate.BroadcastIdle || id == g.GroupID {
			delete(rooms, id)
			continue
		}
		others = append(others, id)
	}
	b.mu.Unlock()

	// A room without an online member is not broadcasting: its message reaches
	// no one and it is not counted.
	if on, err := s.onlineMemberIDs(ctx, app.SDKAppID, g.GroupID, 1); err != nil || len(on) == 0 {
		return nil
	}
	var gone []string
	for _, id := range others {
		if on, err := s.onlineMemberIDs(ctx, app.SDKAppID, id, 1); err == nil && len(on) == 0 {
			gone = append(gone, id) // no one online (or disbanded): no longer broadcasting
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.apps == nil {
		b.apps = map[int64]map[string]time.Time{}
	}
	rooms = b.apps[app.SDKAppID]
	if rooms == nil {
		rooms = map[string]time.Time{}
		b.apps[app.SDKAppID] = rooms
	}
	for _, id := range gone {
		delete(rooms, id)
	}
	if _, ok := rooms[g.GroupID]; ok { // admitted meanwhile by a concurrent message
		rooms[g.GroupID] = now
		return nil
	}
	n := 0
	for id, last := range rooms {
		if now.Sub(last) >= gate.BroadcastIdle {
			delete(rooms, id)
			continue
		}
		n++
	}
	if err := s.gate.AdmitBroadcasting(n); err != nil {
		return err
	}
	rooms[g.GroupID] = now
	return nil
}
