package gateway

import (
	"context"
	"encoding/json"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// handleGroup answers the group ops (docs/protocol.md "Groups"); false for
// any other op.
func (s *session) handleGroup(ctx context.Context, f Frame) bool {
	svc := s.gw.im
	r := Frame{Op: f.Op, ID: f.ID}
	var err error
	switch f.Op {
	case protocol.OpGroupSend:
		if err = im.DeviceClientID(f.ClientMsgID); err == nil {
			s.groupSend(ctx, f)
			return true
		}
	case protocol.OpGroupSync:
		s.groupSync(ctx, f)
		return true
	case protocol.OpGroupRead:
		err = svc.MarkGroupRead(ctx, s.app, s.user, f.Group, f.Seq)
	case protocol.OpGroupJoin:
		var joined bool
		if joined, err = svc.JoinGroup(ctx, s.app, s.user, f.Group, f.Message); err == nil && !joined {
			r.Reason = "pending"
		}
	case protocol.OpGroupReceipt: // group_receipts.go of im
		err = svc.MarkGroupReceipts(ctx, s.app, s.user, f.Group, f.Seqs)
	case protocol.OpGroupQuit:
		err = svc.QuitGroup(ctx, s.app, s.user, f.Group)
	case protocol.OpGroupRecall:
		err = svc.RecallGroupMsg(ctx, s.app, s.user, f.Group, f.Seq)
	case protocol.OpGroupApprove, protocol.OpGroupRefuse:
		err = svc.DecideApplication(ctx, s.app, im.Actor{User: s.user}, f.Group, f.User, f.Op == protocol.OpGroupApprove)
	case protocol.OpGroupAccept, protocol.OpGroupDecline:
		err = svc.DecideInvitation(ctx, s.app, s.user, f.Group, f.Op == protocol.OpGroupAccept)
	case protocol.OpGroupList:
		var gs []im.GroupState
		if gs, err = svc.GroupList(ctx, s.app, s.user); err == nil {
			r.GroupStates = make([]protocol.GroupState, len(gs))
			for i, g := range gs {
				r.GroupStates[i] = protocol.GroupState{Group: g.Group.GroupID, Type: g.Group.Type, Name: g.Group.Name,
					LastSeq: g.LastSeq, ReadSeq: g.ReadSeq, Unread: g.Unread, LastMsgTime: g.LastMsgTime}
			}
		}
	default:
		return false
	}
	if err != nil {
		r = s.errFrame(f.Op, f.ID, err)
	}
	s.reply(r)
	return true
}

// groupSend submits a group message like send: the device's reply carries the
// entry (deliverGroup answers it) or, for a duplicate or a lost delivery,
// the result.
func (s *session) groupSend(ctx context.Context, f Frame) {
	if s.sends == nil {
		s.sends = make(chan struct{}, MaxSendsInFlight)
	}
	s.sends <- struct{}{}
	s.sendNo++
	id, clientID, group, token := f.ID, f.ClientMsgID, f.Group, s.sendNo
	req := im.GroupSendRequest{Group: f.Group, From: s.user, ClientID: f.ClientMsgID, Body: f.Body,
		CloudCustomData: f.CloudCustomData, Targets: f.Targets, NeedReceipt: f.NeedReceipt}
	s.gw.im.SendGroupAsync(ctx, s.app, req, bus.Origin{ConnID: s.connID, RequestID: id, Token: token}, func(res im.GroupSendResult, err error) {
		answered := s.takeAcked(token)
		<-s.sends
		switch {
		case err != nil:
			s.reply(s.errFrame(protocol.OpGroupSend, id, err))
		case answered:
		default:
			r := Frame{Op: protocol.OpGroupSend, ID: id, Seq: res.Seq, MsgTime: res.MsgTime, Duplicate: res.Duplicate, ClientMsgID: clientID}
			r.Group = group
			s.reply(r)
		}
	})
}

// groupSync answers group_sync with at most MaxSyncReplyBytes, one in flight
// per session as sync.
func (s *session) groupSync(ctx context.Context, f Frame) {
	if s.syncWritten != nil {
		<-s.syncWritten
	}
	entries, complete, err := s.gw.im.GroupSync(ctx, s.app, s.user, f.Group, f.After, f.Limit)
	if err != nil {
		s.reply(s.errFrame(f.Op, f.ID, err))
		return
	}
	s.syncWritten = make(chan struct{})
	s.push(outFrame{b: groupSyncReply(f.ID, f.Group, entries, complete), written: s.syncWritten})
}

// groupSyncReply is the reply to group_sync request id: the bytes of
// Frame{Op, ID, Entries, Complete, Group} assembled from one encoding of each
// entry, at most MaxSyncReplyBytes (at least one entry).
func groupSyncReply(id, group string, entries []store.Entry, complete bool) []byte {
	head, _ := json.Marshal(Frame{Op: protocol.OpGroupSync, ID: id})
	b := append([]byte(nil), head[:len(head)-1]...)
	n := 0
	for i := range entries {
		e := encodeGroupEntry(&entries[i])
		if n > 0 && len(b)+1+len(e)+len(group)+64 > MaxSyncReplyBytes {
			complete = false
			break
		}
		if n == 0 {
			b = append(b, `,"entries":[`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, e...)
		n++
	}
	if n > 0 {
		b = append(b, ']')
	}
	if complete {
		b = append(b, `,"complete":true`...)
	}
	b = appendString(append(b, `,"group":`...), group)
	return append(b, '}')
}
