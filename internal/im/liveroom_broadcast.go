package im

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Broadcast messages to every live room of an app (reference rest-api.md
// §3.7 send_broadcast_msg; edition feature catalog.BroadcastLiveRooms). Like
// every live-room message it is delivered to the devices online and stored
// nowhere (each room keeps it for new members as its own messages). It is
// the app's own message, not a room's: the broadcasting limit does not apply
// to it.

// broadcastPage is how many live rooms one step of a broadcast reads.
const broadcastPage = 500

// maxBroadcastRandoms bounds the Randoms an app's recent broadcasts keep for
// duplicate detection (within RandomDupWindow); past it they are forgotten.
const maxBroadcastRandoms = 1024

// BroadcastRequest is a send_broadcast_msg.
type BroadcastRequest struct {
	From            string // "" the app's admin identity
	Random          uint32 // the same From and Random within RandomDupWindow is a duplicate; 0 none
	Body            json.RawMessage
	CloudCustomData string
}

// broadcasts numbers an app's broadcasts (MsgSeq, in memory: 1, 2, ... per
// process) and remembers their Randoms.
type broadcasts struct {
	mu   sync.Mutex
	seqs map[int64]int64
	sent map[int64]map[broadcastKey]broadcastSent
}

type broadcastKey struct {
	from   string
	random uint32
}

type broadcastSent struct {
	seq int64
	at  time.Time
}

// claim returns the MsgSeq of a new broadcast, or of the duplicate it repeats.
func (b *broadcasts) claim(app int64, from string, random uint32, now time.Time) (seq int64, dup bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seqs == nil {
		b.seqs, b.sent = map[int64]int64{}, map[int64]map[broadcastKey]broadcastSent{}
	}
	sent := b.sent[app]
	k := broadcastKey{from, random}
	if random != 0 {
		if p, ok := sent[k]; ok && now.Sub(p.at) < RandomDupWindow {
			return p.seq, true
		}
	}
	b.seqs[app]++
	seq = b.seqs[app]
	if random == 0 {
		return seq, false
	}
	if sent == nil || len(sent) >= maxBroadcastRandoms {
		fresh := map[broadcastKey]broadcastSent{}
		for k, p := range sent {
			if now.Sub(p.at) < RandomDupWindow && len(fresh) < maxBroadcastRandoms/2 {
				fresh[k] = p
			}
		}
		sent = fresh
		b.sent[app] = sent
	}
	sent[k] = broadcastSent{seq, now}
	return seq, false
}

// SendBroadcast sends a message to every live room of the app
// (send_broadcast_msg) and returns its MsgSeq. Each room's online members
// get it as a message of that room, with the room's next live seq. Refusals:
// 10059 on editions without broadcasts, 10004 (From_Account, MsgBody: the
// element types a live room takes, CloudCustomData), 10019 a sender not
// imported, and the body's codes (ValidateBody).
func (s *Service) SendBroadcast(ctx context.Context, app store.App, req BroadcastRequest) (int64, error) {
	if req.From == "" {
		req.From = app.AdminUser
	}
	if err := ValidUserID(req.From); err != nil {
		return 0, errs.New(errs.GroupBadParams, "From_Account: %s", errs.Message(err))
	}
	if err := checkContent(SendRequest{Body: req.Body, CloudCustomData: req.CloudCustomData}); err != nil {
		return 0, err
	}
	if err := liveRoomBody(req.Body); err != nil {
		return 0, err
	}
	if err := s.gate.GroupFeature(app, catalog.BroadcastLiveRooms); err != nil {
		return 0, err
	}
	if req.From != app.AdminUser {
		have, err := s.imported(ctx, app.SDKAppID, req.From)
		if err != nil {
			return 0, err
		}
		if !have[req.From] {
			return 0, notImported(req.From)
		}
	}
	now := s.clock.Now()
	seq, dup := s.live.broadcasts.claim(app.SDKAppID, req.From, req.Random, now)
	if dup {
		return seq, nil
	}
	random := req.Random
	if random == 0 {
		random = randomUint32()
	}
	after := int64(0)
	for {
		gs, _, err := s.store.ListGroups(ctx, app.SDKAppID, gate.GroupAVChatRoom, after, broadcastPage)
		if err != nil {
			return 0, storageErr(err)
		}
		ds := make([]bus.Delivery, 0, len(gs))
		for _, g := range gs {
			k := groupKey{app.SDKAppID, g.GroupID}
			members, err := s.groupMembers.get(k, func() ([]string, error) {
				return s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
			})
			if errors.Is(err, errs.ErrNotFound) {
				continue // disbanded meanwhile
			}
			if err != nil {
				return 0, storageErr(err)
			}
			e := &store.Entry{App: app.SDKAppID, Group: g.GroupID, Kind: store.KindMsg, From: req.From, MsgRandom: random,
				MsgTime: now.Unix(), Body: req.Body, CloudCustomData: req.CloudCustomData, CreatedAt: now}
			e.Seq = s.liveSeqs.next(k, e.MsgTime)
			e.MsgSeq = e.Seq
			ds = append(ds, bus.Delivery{App: app.SDKAppID, Kind: bus.KindGroup, Entry: e,
				Group: &bus.GroupDelivery{Members: members, Group: g.GroupID, LiveRoom: true}})
			s.keepLiveHistory(app, g, e)
		}
		s.bus.Publish(ds)
		if len(gs) < broadcastPage {
			return seq, nil
		}
		after = gs[len(gs)-1].Serial
	}
}
