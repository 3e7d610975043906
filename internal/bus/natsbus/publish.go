package natsbus

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
)

// wire is one delivery between nodes: a Delivery without what only the
// sending node uses (Origin: the requesting device is connected there; the
// shared encodings). Its user, or its group, is in the subject.
type wire struct {
	Kind    string          `json:"k"`
	Entry   *wireEntry      `json:"e,omitempty"`
	Reason  string          `json:"r,omitempty"`
	Profile *wireProfile    `json:"p,omitempty"`
	Notice  *wireNotice     `json:"n,omitempty"`
	Conv    *bus.ConvChange `json:"c,omitempty"`
	Group   *wireGroup      `json:"g,omitempty"`
}

// wireEntry is a store.Entry with short names and no empty fields; its
// times in Unix nanoseconds (0: zero).
type wireEntry struct {
	Owner           string   `json:"o,omitempty"`
	Seq             int64    `json:"s,omitempty"`
	Kind            string   `json:"k,omitempty"`
	Peer            string   `json:"p,omitempty"`
	From            string   `json:"f,omitempty"`
	To              string   `json:"t,omitempty"`
	MsgSeq          int64    `json:"ms,omitempty"`
	MsgRandom       uint32   `json:"mr,omitempty"`
	MsgTime         int64    `json:"mt,omitempty"`
	MsgKey          string   `json:"mk,omitempty"`
	ClientID        string   `json:"c,omitempty"`
	Body            []byte   `json:"b,omitempty"`
	CloudCustomData string   `json:"cd,omitempty"`
	Recalled        bool     `json:"rc,omitempty"`
	ReadTime        int64    `json:"rt,omitempty"`
	CreatedAt       int64    `json:"ca,omitempty"`
	ExpiresAt       int64    `json:"ea,omitempty"`
	Group           string   `json:"g,omitempty"`
	Targets         []string `json:"tg,omitempty"`
	NeedReceipt     bool     `json:"nr,omitempty"`
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func toWireEntry(e *store.Entry) *wireEntry {
	if e == nil {
		return nil
	}
	return &wireEntry{Owner: e.Owner, Seq: e.Seq, Kind: e.Kind, Peer: e.Peer, From: e.From, To: e.To,
		MsgSeq: e.MsgSeq, MsgRandom: e.MsgRandom, MsgTime: e.MsgTime, MsgKey: e.MsgKey, ClientID: e.ClientID,
		Body: e.Body, CloudCustomData: e.CloudCustomData, Recalled: e.Recalled, ReadTime: e.ReadTime,
		CreatedAt: unixNano(e.CreatedAt), ExpiresAt: unixNano(e.ExpiresAt), Group: e.Group, Targets: e.Targets,
		NeedReceipt: e.NeedReceipt}
}

func (w *wireEntry) entry(app int64) *store.Entry {
	if w == nil {
		return nil
	}
	return &store.Entry{App: app, Owner: w.Owner, Seq: w.Seq, Kind: w.Kind, Peer: w.Peer, From: w.From, To: w.To,
		MsgSeq: w.MsgSeq, MsgRandom: w.MsgRandom, MsgTime: w.MsgTime, MsgKey: w.MsgKey, ClientID: w.ClientID,
		Body: w.Body, CloudCustomData: w.CloudCustomData, Recalled: w.Recalled, ReadTime: w.ReadTime,
		CreatedAt: fromUnixNano(w.CreatedAt), ExpiresAt: fromUnixNano(w.ExpiresAt), Group: w.Group, Targets: w.Targets,
		NeedReceipt: w.NeedReceipt}
}

type wireProfile struct {
	User string           `json:"u"`
	Tags []bus.ProfileTag `json:"t"`
}

type wireNotice struct {
	Op     string          `json:"op"`
	Fields json.RawMessage `json:"f,omitempty"`
}

type wireGroup struct {
	Group string `json:"g,omitempty"`
	Live  bool   `json:"l,omitempty"`
}

// Publish hands ds to this node's gateway and sends each to the other nodes
// that need it: a user's deliveries of the batch as one message on its
// subject, a group entry for the whole group as one message on the group's
// subject (each node delivers it to its own members online), an entry for a
// chosen audience to each of them. Each delivery is encoded once whatever
// the number of its subjects. It never blocks on other nodes.
func (b *Bus) Publish(ds []bus.Delivery) {
	if len(ds) == 0 {
		return
	}
	if h := b.handler(); h != nil {
		h.Deliver(ds)
	}
	p := publisher{b: b, msgs: map[string][]byte{}, shared: map[any][]byte{}}
	for i := range ds {
		p.add(&ds[i])
	}
	p.flush()
}

// publisher gathers one Publish call's messages: per subject, the encoded
// deliveries in order.
type publisher struct {
	b      *Bus
	order  []string
	msgs   map[string][]byte
	shared map[any][]byte // encodings of values shared by several deliveries
}

func (p *publisher) add(d *bus.Delivery) {
	enc := p.encode(d)
	if enc == nil {
		return
	}
	switch {
	case d.Kind != bus.KindGroup:
		p.append(userSubject(d.App, d.User), enc)
	case d.Group != nil && d.Group.Group != "":
		p.append(groupSubject(d.App, d.Group.Group), enc)
	default:
		d.Recipients(func(u string) { p.append(userSubject(d.App, u), enc) })
	}
}

// append adds enc to subj's message, sending the message first when enc
// would make it larger than MaxMessageBytes.
func (p *publisher) append(subj string, enc []byte) {
	m, ok := p.msgs[subj]
	if ok && len(m)+1+len(enc)+1 > MaxMessageBytes {
		p.b.publish(subj, append(m, ']'))
		m, ok = nil, false
	}
	if !ok {
		p.order = append(p.order, subj)
		m = append(make([]byte, 0, len(enc)+2), '[')
	} else {
		m = append(m, ',')
	}
	p.msgs[subj] = append(m, enc...)
}

func (p *publisher) flush() {
	for _, subj := range p.order {
		if m, ok := p.msgs[subj]; ok {
			p.b.publish(subj, append(m, ']'))
			delete(p.msgs, subj)
		}
	}
}

// encode is the one encoding of d for the other nodes (nil: nothing to send).
// Deliveries sharing a value (a profile change for every friend, a notice,
// a group entry for several audiences) share its encoding: the recipient is
// in the subject, not in the encoding.
func (p *publisher) encode(d *bus.Delivery) []byte {
	var key any
	switch {
	case d.Kind == bus.KindProfile && d.Profile != nil:
		key = d.Profile
	case d.Kind == bus.KindNotice && d.Notice != nil:
		key = d.Notice
	case d.Kind == bus.KindGroup && d.Group != nil:
		key = d.Group
	}
	if key != nil {
		if enc, ok := p.shared[key]; ok {
			return enc
		}
	}
	w := wire{Kind: d.Kind, Entry: toWireEntry(d.Entry), Reason: d.Reason, Conv: d.Conv}
	switch d.Kind {
	case bus.KindProfile:
		if d.Profile == nil {
			return nil
		}
		w.Profile = &wireProfile{User: d.Profile.User, Tags: d.Profile.Tags}
	case bus.KindNotice:
		if d.Notice == nil {
			return nil
		}
		w.Notice = &wireNotice{Op: d.Notice.Op}
		if d.Notice.Fields != nil {
			fields, err := json.Marshal(d.Notice.Fields)
			if err != nil {
				return nil
			}
			w.Notice.Fields = fields
		}
	case bus.KindGroup:
		if d.Group == nil || d.Entry == nil {
			return nil
		}
		w.Group = &wireGroup{Group: d.Group.Group, Live: d.Group.LiveRoom}
	}
	enc, err := json.Marshal(w)
	if err != nil {
		p.b.cfg.Logger.Error("encoding a delivery for other nodes failed", "kind", d.Kind, "err", err)
		return nil
	}
	if key != nil {
		p.shared[key] = enc
	}
	return enc
}

// dispatch hands the deliveries arriving on user and group subjects to the
// gateway, in arrival order, a batch at a time.
func (b *Bus) dispatch() {
	defer b.done.Done()
	var ds []bus.Delivery
	for {
		var m *nats.Msg
		select {
		case <-b.stop:
			return
		case m = <-b.in:
		}
		ds = b.decode(m, ds[:0])
	more:
		for len(ds) < 1024 {
			select {
			case m = <-b.in:
				ds = b.decode(m, ds)
			default:
				break more
			}
		}
		if len(ds) > 0 {
			if h := b.handler(); h != nil {
				h.Deliver(ds)
			}
			clear(ds)
		}
	}
}

// decode appends the deliveries of one message from another node to ds.
func (b *Bus) decode(m *nats.Msg, ds []bus.Delivery) []bus.Delivery {
	if b.cfg.Metrics.Received != nil {
		b.cfg.Metrics.Received(1)
	}
	var ws []wire
	if err := json.Unmarshal(m.Data, &ws); err != nil {
		b.dropped()
		return ds
	}
	if app, user, ok := parseSubject(m.Subject, prefixUser); ok {
		for i := range ws {
			d, ok := toDelivery(&ws[i], app)
			if !ok {
				b.dropped()
				continue
			}
			d.User = user
			if d.Kind == bus.KindGroup {
				d.Group.Only = user
			}
			ds = append(ds, d)
		}
		return ds
	}
	if app, group, ok := parseSubject(m.Subject, prefixGroup); ok {
		members := b.groupMembers(app, group)
		if len(members) == 0 {
			return ds
		}
		for i := range ws {
			d, ok := toDelivery(&ws[i], app)
			if !ok || d.Kind != bus.KindGroup {
				b.dropped()
				continue
			}
			d.Group.Members, d.Group.Group = members, group
			ds = append(ds, d)
		}
		return ds
	}
	b.dropped()
	return ds
}

// toDelivery turns a wire delivery back into a Delivery (ok false: unusable).
func toDelivery(w *wire, app int64) (bus.Delivery, bool) {
	d := bus.Delivery{App: app, Kind: w.Kind, Entry: w.Entry.entry(app), Reason: w.Reason, Conv: w.Conv}
	switch w.Kind {
	case bus.KindEntry:
		if w.Entry == nil {
			return d, false
		}
	case bus.KindKick, bus.KindConv:
	case bus.KindProfile:
		if w.Profile == nil {
			return d, false
		}
		d.Profile = &bus.ProfileChange{User: w.Profile.User, Tags: w.Profile.Tags}
	case bus.KindNotice:
		if w.Notice == nil {
			return d, false
		}
		d.Notice = &bus.Notice{Op: w.Notice.Op}
		if len(w.Notice.Fields) > 0 {
			d.Notice.Fields = w.Notice.Fields
		}
	case bus.KindGroup:
		if w.Entry == nil || w.Group == nil {
			return d, false
		}
		d.Group = &bus.GroupDelivery{Group: w.Group.Group, LiveRoom: w.Group.Live}
	default:
		return d, false
	}
	return d, true
}
