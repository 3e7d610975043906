package im

import (
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
)

// SubmitGroup queues a group op (store.OpGroupSend, OpGroupRecall,
// OpGroupTips) like Submit; once committed, its entry is published as ONE
// bus.KindGroup delivery to members (an immutable snapshot, shared, never
// copied), the device named by origin getting it in its reply. group is the
// GroupId (the community's, for a topic's entry) when members is the group's
// whole member list, "" when it is a chosen audience (bus.GroupDelivery.Group).
func (w *Writer) SubmitGroup(op store.Op, members []string, group string, origin bus.Origin, then func(store.OpResult, error)) {
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		then(store.OpResult{}, errClosed())
		return
	}
	r := w.pool.Get().(*writeReq)
	r.op, r.origin, r.then, r.group = op, origin, then, &bus.GroupDelivery{Members: members, Group: group}
	w.running()
	w.reqs <- r
	w.closeMu.RUnlock()
}

// groupDelivery is the delivery of a committed group entry.
func groupDelivery(e *store.Entry, g *bus.GroupDelivery, origin bus.Origin) bus.Delivery {
	if g == nil {
		g = &bus.GroupDelivery{}
	}
	return bus.Delivery{App: e.App, Kind: bus.KindGroup, Entry: e, Group: g, Origin: origin}
}
