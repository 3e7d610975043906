package pebblestore

import (
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Flags of a group index value (gidx).
const (
	gRecalled = 1 << iota
	gNotMsg   // tips or recall entry: never counted as unread
	gTargeted // targeted message: the value lists the targets
	gReceipt  // the sender asked for read receipts
)

// Kinds of group records.
const (
	gkMsg    = 'm'
	gkTips   = 't'
	gkRecall = 'r'
)

// grec is one entry of a group log.
type grec struct {
	kind      byte
	flags     byte
	seq       int64
	from      string
	msgSeq    int64 // recall: the recalled message
	msgRandom uint32
	msgTime   int64
	clientID  string
	body      []byte
	ccd       string
	targets   []string
	created   int64 // Unix ms
	expires   int64 // Unix ms, 0 = none
}

func (r *grec) encodeTo(dst []byte) []byte {
	e := enc(dst)
	e = append(e, r.kind, r.flags)
	e = e.str(r.from).varint(r.msgSeq).uvarint(uint64(r.msgRandom)).varint(r.msgTime).str(r.clientID).
		bytes(r.body).str(r.ccd).varint(r.created).varint(r.expires).uvarint(uint64(len(r.targets)))
	for _, t := range r.targets {
		e = e.str(t)
	}
	return e
}

func decodeGrec(seq int64, v []byte) (grec, error) {
	d := dec{b: v}
	r := grec{seq: seq}
	r.kind, r.flags = d.byte1(), d.byte1()
	r.from, r.msgSeq = d.str(), d.varint()
	r.msgRandom = uint32(d.uvarint())
	r.msgTime, r.clientID = d.varint(), d.str()
	r.body = append([]byte(nil), d.bytes()...)
	r.ccd = d.str()
	r.created, r.expires = d.varint(), d.varint()
	n := d.uvarint()
	if n > store.MaxGroupTargets*4 {
		return r, errCorrupt
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		r.targets = append(r.targets, d.str())
	}
	return r, d.err
}

// idx returns the record's index value: what unread counts and purges need,
// without the body.
func (r *grec) idx(dst []byte) []byte {
	e := enc(dst)
	e = append(e, r.flags)
	e = e.varint(r.created).varint(r.expires).str(r.from)
	if r.flags&gTargeted != 0 {
		e = e.uvarint(uint64(len(r.targets)))
		for _, t := range r.targets {
			e = e.str(t)
		}
	}
	return e
}

// gidx is a decoded index value.
type gidx struct {
	flags            byte
	created, expires int64
	from             string
	targets          []string
}

func decodeGidx(v []byte) (gidx, error) {
	d := dec{b: v}
	x := gidx{flags: d.byte1()}
	x.created, x.expires = d.varint(), d.varint()
	x.from = d.str()
	if x.flags&gTargeted != 0 {
		n := d.uvarint()
		if n > store.MaxGroupTargets*4 {
			return x, errCorrupt
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			x.targets = append(x.targets, d.str())
		}
	}
	return x, d.err
}

// counts reports whether the indexed entry is an unread message for member.
func (x *gidx) counts(member string) bool {
	if x.flags&(gRecalled|gNotMsg) != 0 || x.from == member {
		return false
	}
	if x.flags&gTargeted == 0 {
		return true
	}
	for _, t := range x.targets {
		if t == member {
			return true
		}
	}
	return false
}

func (r *grec) entry(app int64, group string) store.Entry {
	e := store.Entry{
		App: app, Group: group, Seq: r.seq, From: r.from, MsgSeq: r.seq, MsgRandom: r.msgRandom,
		MsgTime: r.msgTime, ClientID: r.clientID, Body: r.body, CloudCustomData: r.ccd,
		Recalled: r.flags&gRecalled != 0, NeedReceipt: r.flags&gReceipt != 0, Targets: r.targets,
		CreatedAt: fromMs(r.created), ExpiresAt: fromMs(r.expires),
	}
	switch r.kind {
	case gkMsg:
		e.Kind = store.KindMsg
	case gkTips:
		e.Kind = store.KindGroupTips
	case gkRecall:
		e.Kind, e.MsgSeq = store.KindRecall, r.msgSeq
	}
	e.MsgKey = store.FormatMsgKey(e.MsgSeq, e.MsgRandom, e.MsgTime)
	return e
}

func gLogKey(app int64, group string, seq int64) keyBuf {
	return appKey(app, famGLog).str(group).u64(uint64(seq))
}

func gIdxKey(app int64, group string, seq int64) keyBuf {
	return appKey(app, famGIdx).str(group).u64(uint64(seq))
}

func gAgeKey(app int64, created int64, group string, seq int64) keyBuf {
	return appKey(app, famGAge).i64(created).str(group).u64(uint64(seq))
}

func msOf(t time.Time) int64 { return t.UTC().Truncate(time.Millisecond).UnixMilli() }
