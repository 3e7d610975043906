package bus

// KindGroup is a new entry of a group log (Delivery.Entry, with Group set) for
// the group's members: ONE delivery per entry whatever the group's size
// (Delivery.User is empty). The edge encodes the entry once (Group.Frame) and
// queues the same bytes for every connected device of the recipients; the
// device named by Delivery.Origin gets it in its request's reply instead.
const KindGroup = "group"

// GroupDelivery is the audience of a KindGroup delivery.
type GroupDelivery struct {
	// Members is the group's member list when the entry was written: an
	// immutable snapshot shared by every delivery of the group (never copied
	// per message, never modified; a membership change makes a new one).
	Members []string
	// Group, when set, says that Members is the whole membership of this
	// group (the community, for a topic's entry), as the sender's node knew it:
	// a cluster bus then routes the delivery by the group, and each node
	// delivers it to its own connected members. Empty: Members is a chosen
	// audience (tips to some members, history to a joining member), routed
	// to each of them.
	Group string
	// Only, when set, limits the delivery to this one user (a cluster bus
	// sets it for an entry routed to one recipient's node by its user).
	Only string
	// LiveRoom marks an AVChatRoom message (online only, not stored): a
	// device that does not keep up drops it instead of being disconnected.
	LiveRoom bool
	// Frame keeps the edge's one encoding of the entry's push.
	Frame Encoded
}

// Recipients calls fn for each user the entry reaches: every member, or for a
// targeted message (Entry.Targets, members when it was sent) its targets and
// its sender only.
func (d *Delivery) Recipients(fn func(user string)) {
	if d.Group == nil || d.Entry == nil {
		return
	}
	if d.Group.Only != "" {
		fn(d.Group.Only)
		return
	}
	if len(d.Entry.Targets) == 0 {
		for _, m := range d.Group.Members {
			fn(m)
		}
		return
	}
	sent := false
	for _, t := range d.Entry.Targets {
		sent = sent || t == d.Entry.From
		fn(t)
	}
	if !sent && d.Entry.From != "" {
		fn(d.Entry.From)
	}
}
