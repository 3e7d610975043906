package gateway

import (
	"context"
	"encoding/json"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// Conversation ops (docs/protocol.md, "Conversations"): the same domain calls
// as recentcontact/*, for the logged-in user; the edition gate is the
// domain's. Changes reach every device of the user as conv_changed pushes.

// convRef turns a frame's conversation into a ConvID (conv_type 0 means 1).
func convRef(typ int, peer string) store.ConvID {
	if typ == 0 {
		typ = store.ConvC2C
	}
	return store.ConvID{Type: typ, Peer: peer}
}

func convRefs(rs []protocol.ConvRef) []store.ConvID {
	out := make([]store.ConvID, len(rs))
	for i, r := range rs {
		out[i] = convRef(r.Type, r.Peer)
	}
	return out
}

func wireConvState(st store.ConvState) protocol.Conv {
	return protocol.Conv{Type: st.Type, Peer: st.Peer, Pinned: st.Pinned, Marks: im.StandardMarkString(st.Marks),
		CustomMark: st.CustomMark, Groups: st.Groups}
}

func wireGroups(gs []store.ConvGroup) []protocol.ConvGroup {
	out := make([]protocol.ConvGroup, len(gs))
	for i, g := range gs {
		out[i] = protocol.ConvGroup{ID: g.ID, Name: g.Name}
	}
	return out
}

// handleConv answers a conversation op and reports whether f was one.
func (s *session) handleConv(ctx context.Context, f Frame) bool {
	svc := s.gw.im
	r := Frame{Op: f.Op, ID: f.ID}
	var err error
	switch f.Op {
	case protocol.OpConvList:
		req := im.ConvListRequest{Owner: s.user, AssistFlags: f.Flags}
		if f.Cursor != nil {
			req.Normal = im.ConvCursor{Time: f.Cursor.Time, Index: f.Cursor.Index}
			req.Top = im.ConvCursor{Time: f.Cursor.TopTime, Index: f.Cursor.TopIndex}
		}
		var page im.ConvPage
		if page, err = svc.ListConversations(ctx, s.app, req); err == nil {
			r.Convs = make([]protocol.Conv, len(page.Items))
			for i, it := range page.Items {
				r.Convs[i] = protocol.Conv{Type: it.Type, Peer: it.Peer, MsgTime: it.MsgTime, MsgKey: it.MsgKey, From: it.From,
					Seq: it.Seq, Unread: it.Unread, Pinned: it.Pinned, Marks: im.StandardMarkString(it.Marks),
					CustomMark: it.Custom, Groups: it.Groups}
			}
			r.Cursor = &protocol.ConvCursor{Time: page.Normal.Time, Index: page.Normal.Index, TopTime: page.Top.Time, TopIndex: page.Top.Index}
			r.Complete = page.Complete
		}
	case protocol.OpConvDelete:
		err = svc.DeleteConversation(ctx, s.app, s.user, convRef(f.ConvType, f.Peer), f.Clear)
	case protocol.OpConvPin:
		err = svc.PinConversation(ctx, s.app, s.user, convRef(f.ConvType, f.Peer), f.Pinned)
	case protocol.OpConvMark:
		op := im.MarkOp{Conv: convRef(f.ConvType, f.Peer), Set: f.SetMark, Clear: f.ClearMark}
		if len(f.SetMark) > 0 || len(f.ClearMark) > 0 {
			op.OptType |= 1
		}
		if f.CustomMark != nil {
			op.OptType |= 2
			op.CustomMark = *f.CustomMark
		}
		var states []store.ConvState
		var results []error
		if states, results, err = svc.MarkConversations(ctx, s.app, s.user, []im.MarkOp{op}); err == nil {
			if err = results[0]; err == nil {
				c := wireConvState(states[0])
				r.Conv = &c
			}
		}
	case protocol.OpConvGroups:
		var m im.ConvMarks
		if m, err = svc.ConvGroups(ctx, s.app, s.user, int(f.After)); err == nil {
			r.Convs = make([]protocol.Conv, len(m.Convs))
			for i, st := range m.Convs {
				r.Convs[i] = wireConvState(st)
			}
			r.Groups, r.Complete, r.After = wireGroups(m.Groups), m.Complete, int64(m.Next)
		}
	case protocol.OpConvGroupCreate:
		var g store.ConvGroup
		if g, err = svc.CreateConvGroup(ctx, s.app, s.user, f.GroupName, convRefs(f.Add)); err == nil {
			r.Groups = wireGroups([]store.ConvGroup{g})
		}
	case protocol.OpConvGroupRename:
		var g store.ConvGroup
		if g, err = svc.RenameConvGroup(ctx, s.app, s.user, f.GroupName, f.NewGroupName); err == nil {
			r.Groups = wireGroups([]store.ConvGroup{g})
		}
	case protocol.OpConvGroupUpdate:
		var g store.ConvGroup
		var results []error
		if g, results, err = svc.UpdateConvGroup(ctx, s.app, s.user, f.GroupName, convRefs(f.Add), convRefs(f.Remove)); err == nil {
			r.Groups = wireGroups([]store.ConvGroup{g})
			r.Codes = make([]int, len(results))
			for i, e := range results {
				if e != nil {
					r.Codes[i] = errs.CodeOf(e)
				}
			}
		}
	case protocol.OpConvGroupDelete:
		var gone []store.ConvGroup
		if gone, err = svc.DeleteConvGroups(ctx, s.app, s.user, []string{f.GroupName}); err == nil {
			r.Groups = wireGroups(gone)
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

// deliverConv encodes a conversation change once and queues the same bytes
// for every device of the user.
func deliverConv(d *bus.Delivery, sessions []*session) {
	if d.Conv == nil {
		return
	}
	f := Frame{Op: protocol.OpConvChanged}
	if d.Conv.Conv != nil {
		c := wireConvState(*d.Conv.Conv)
		c.Deleted = d.Conv.Deleted
		f.Conv = &c
	}
	if d.Conv.GroupsChanged {
		f.Groups = wireGroups(d.Conv.Groups)
		if f.Groups == nil {
			f.Groups = []protocol.ConvGroup{}
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	for _, s := range sessions {
		s.enqueue(b)
	}
}
