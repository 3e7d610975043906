package gateway

import (
	"context"
	"encoding/json"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/protocol"
)

// handleSNS answers the friend-request ops (docs/protocol.md "Friends"); ok is
// false for any other op.
func (s *session) handleSNS(ctx context.Context, f Frame) (Frame, bool) {
	svc := s.gw.im
	r := Frame{Op: f.Op, ID: f.ID}
	var err error
	switch f.Op {
	case protocol.OpFriendRequests:
		rs, lerr := svc.FriendRequests(ctx, s.app, s.user, true)
		err = lerr
		for _, q := range rs {
			r.FriendRequests = append(r.FriendRequests, protocol.FriendRequest{From: q.From, To: q.To, AddType: q.AddType,
				AddSource: q.AddSource, AddWording: q.AddWording, Time: q.Time})
		}
	case protocol.OpFriendAccept:
		err = svc.AcceptFriendRequest(ctx, s.app, s.user, f.Peer)
	case protocol.OpFriendRefuse:
		err = svc.RefuseFriendRequest(ctx, s.app, s.user, f.Peer)
	default:
		return Frame{}, false
	}
	if err != nil {
		return s.errFrame(f.Op, f.ID, err), true
	}
	return r, true
}

// deliverNotice writes a notice as {"op":…,"code":0,…its fields} to every
// device of the user.
func deliverNotice(d *bus.Delivery, sessions []*session) {
	if d.Notice == nil {
		return
	}
	head, _ := json.Marshal(Frame{Op: d.Notice.Op})
	frame := head
	if d.Notice.Fields != nil {
		fields, err := json.Marshal(d.Notice.Fields)
		if err != nil || len(fields) < 2 || fields[0] != '{' {
			return
		}
		if len(fields) > 2 {
			frame = append(append(append([]byte{}, head[:len(head)-1]...), ','), fields[1:]...)
		}
	}
	for _, s := range sessions {
		s.enqueue(frame)
	}
}
