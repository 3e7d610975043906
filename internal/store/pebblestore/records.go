package pebblestore

import (
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Flags of a message record.
const (
	msgHasSender   = 1 << iota // the sender's log holds a copy
	msgHasReceiver             // the receiver's log holds a copy
	msgRecalled
	msgUnread // the receiver's copy raises its unread count
)

// message is a one-to-one message, stored once for both logs.
type message struct {
	ref
	flags                  byte
	from, to               string
	senderSeq, receiverSeq int64
	msgSeq                 int64
	msgRandom              uint32
	msgTime                int64
	msgKey, clientID       string
	body                   []byte
	cloudCustomData        string
	expires                int64 // Unix ms, 0 = none
}

func (m *message) encode() []byte { return m.encodeTo(nil) }

// encodeTo appends the record's encoding to dst.
func (m *message) encodeTo(dst []byte) []byte {
	e := enc(dst)
	e = append(e, m.flags)
	e = e.str(m.from).str(m.to).varint(m.senderSeq).varint(m.receiverSeq).varint(m.msgSeq).
		uvarint(uint64(m.msgRandom)).varint(m.msgTime).str(m.msgKey).str(m.clientID).
		bytes(m.body).str(m.cloudCustomData).varint(m.expires)
	return e
}

func decodeMessage(r ref, v []byte) (message, error) {
	d := dec{b: v}
	m := message{ref: r}
	m.flags = d.byte1()
	m.from, m.to = d.str(), d.str()
	m.senderSeq, m.receiverSeq, m.msgSeq = d.varint(), d.varint(), d.varint()
	m.msgRandom = uint32(d.uvarint())
	m.msgTime = d.varint()
	m.msgKey, m.clientID = d.str(), d.str()
	m.body = append([]byte(nil), d.bytes()...)
	m.cloudCustomData = d.str()
	m.expires = d.varint()
	return m, d.err
}

// copies returns the message's entries, the sender's first.
func (m *message) copies(app int64) []store.Entry {
	out := make([]store.Entry, 0, 2)
	if m.flags&msgHasSender != 0 {
		out = append(out, m.entry(app, m.from))
	}
	if m.flags&msgHasReceiver != 0 {
		out = append(out, m.entry(app, m.to))
	}
	return out
}

// has reports whether owner's log holds a copy.
func (m *message) has(owner string) bool {
	return (owner == m.from && m.flags&msgHasSender != 0) || (owner == m.to && m.flags&msgHasReceiver != 0)
}

// entry returns owner's copy.
func (m *message) entry(app int64, owner string) store.Entry {
	e := store.Entry{
		App: app, Owner: owner, Kind: store.KindMsg, From: m.from, To: m.to,
		MsgSeq: m.msgSeq, MsgRandom: m.msgRandom, MsgTime: m.msgTime, MsgKey: m.msgKey,
		ClientID: m.clientID, Body: m.body, CloudCustomData: m.cloudCustomData,
		Recalled: m.flags&msgRecalled != 0, CreatedAt: fromMs(m.created), ExpiresAt: fromMs(m.expires),
	}
	if owner == m.from && m.flags&msgHasSender != 0 {
		e.Seq, e.Peer = m.senderSeq, m.to
	} else {
		e.Seq, e.Peer = m.receiverSeq, m.from
	}
	return e
}

func encodeEvent(e *store.Entry) []byte {
	x := make(enc, 0, 48+len(e.Owner)+len(e.Peer)+len(e.From)+len(e.To)+len(e.MsgKey))
	kind := byte('r')
	if e.Kind == store.KindRecall {
		kind = 'c'
	}
	x = append(x, kind)
	return x.str(e.Owner).varint(e.Seq).str(e.Peer).str(e.From).str(e.To).varint(e.MsgSeq).
		uvarint(uint64(e.MsgRandom)).varint(e.MsgTime).str(e.MsgKey).varint(e.ReadTime)
}

func decodeEvent(app int64, r ref, v []byte) (store.Entry, error) {
	d := dec{b: v}
	e := store.Entry{App: app, Kind: store.KindRead, CreatedAt: fromMs(r.created)}
	if d.byte1() == 'c' {
		e.Kind = store.KindRecall
	}
	e.Owner, e.Seq, e.Peer, e.From, e.To = d.str(), d.varint(), d.str(), d.str(), d.str()
	e.MsgSeq = d.varint()
	e.MsgRandom = uint32(d.uvarint())
	e.MsgTime = d.varint()
	e.MsgKey = d.str()
	e.ReadTime = d.varint()
	return e, d.err
}

// syncVal is the value of a famSync key: which record, and enough to filter
// by age and end of life without reading it.
func syncVal(r ref, expires int64) []byte {
	v := make(enc, 0, 26)
	v = append(v, r.fam)
	v = append(v, keyBuf(nil).i64(r.created).u64(r.id)...)
	return v.varint(expires)
}

func decodeSyncVal(v []byte) (ref, int64, error) {
	d := dec{b: v}
	r := ref{fam: d.byte1()}
	r.created, r.id = d.i64(), d.u64()
	exp := d.varint()
	return r, exp, d.err
}

// Flags of a famHist value.
const (
	histCounts   = 1 << iota // a received message that raises the unread count
	histRecalled             // recalled: no longer counted
)

func histVal(r ref, expires int64, flags byte) []byte {
	return appendHistVal(make([]byte, 0, 28), r, expires, flags)
}

func appendHistVal(dst []byte, r ref, expires int64, flags byte) []byte {
	v := enc(keyBuf(dst).i64(r.created).u64(r.id))
	v = v.varint(expires)
	return append(v, flags)
}

func decodeHistVal(v []byte) (ref, int64, byte, error) {
	d := dec{b: v}
	r := ref{fam: famMsg}
	r.created, r.id = d.i64(), d.u64()
	exp := d.varint()
	f := d.byte1()
	return r, exp, f, d.err
}

func toMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
