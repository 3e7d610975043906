package pebblestore

import (
	"encoding/binary"
	"errors"
	"math"
)

// Key families. Every key of an app starts with the app's SDKAppID (8 bytes,
// big-endian), so deleting an app is one range delete; app 0 holds the
// store's own metadata. See docs/storage.md for the diagrams.
const (
	famMsg    = 'm' // app m created id        -> message record (stored once)
	famEvent  = 'e' // app e created id        -> recall/read entry of one log
	famSync   = 's' // app s owner seq         -> ref (family, created, id, expires)
	famHist   = 'h' // app h owner peer t seq  -> ref + flags (history, unread counts)
	famKey    = 'k' // app k a b msgkey id     -> created (the conversation's MsgKeys)
	famClient = 'c' // app c from clientid     -> ref of the message sent with it
	famRead   = 'r' // app r owner peer        -> read time (Unix seconds)
	famSeq    = 'q' // app q owner             -> floor of owner's last Seq (upgrades only)
	famExpiry = 'x' // app x expires created id -> (empty) messages with an ExpiresAt
	famPurge  = 'w' // app w                   -> purge marks (created before, expired at)
	famConv   = 'v' // app v owner type peer   -> the conversation's last message (conversations.go)

	metaID       = 'i' // 0 i -> last message/event id
	metaUpgraded = 'u' // 0 u -> set once the SQLite messages were moved here
)

// Key families of group logs (every key starts with the app; docs/storage.md).
const (
	famGLog    = 'g' // app g group seq             -> group entry record (stored once)
	famGIdx    = 'j' // app j group seq             -> gidx: flags, created, expires, from, targets
	famGAge    = 'a' // app a created group seq     -> (empty) group entries by creation time (purge)
	famGClient = 'l' // app l group from clientid   -> seq of the message sent with it
	famGRandom = 'n' // app n group from random     -> seq, created (duplicate Random within a window)
	famGHead   = 'p' // app p group                 -> last seq, last message time (never deleted but with the app)
)

// Key families of the callback outbox (callbacks.go).
const (
	famCbEvent = 'o' // app o id          -> after-event record (until delivered)
	famCbDue   = 'b' // app b next_at id  -> (empty) the event is due at next_at (Unix ms, 0: at once)
)

var errCorrupt = errors.New("pebblestore: malformed record")

type keyBuf []byte

func appKey(app int64, fam byte) keyBuf {
	k := make(keyBuf, 9, 64)
	binary.BigEndian.PutUint64(k, uint64(app))
	k[8] = fam
	return k
}

// str appends s length-prefixed: exact prefixes for (owner), (owner, peer)...
func (k keyBuf) str(s string) keyBuf {
	k = binary.AppendUvarint(k, uint64(len(s)))
	return append(k, s...)
}

func (k keyBuf) u64(v uint64) keyBuf { return binary.BigEndian.AppendUint64(k, v) }

// i64 appends v so that byte order is numeric order (negative times included).
func (k keyBuf) i64(v int64) keyBuf { return k.u64(uint64(v) ^ 1<<63) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// ref names a record of famMsg or famEvent: they are ordered by creation time
// so that purging by age is a range delete.
type ref struct {
	fam     byte
	created int64 // Unix ms
	id      uint64
}

func (r ref) key(app int64) []byte { return appKey(app, r.fam).i64(r.created).u64(r.id) }

// dec reads the encodings of enc.
type dec struct {
	b   []byte
	err error
}

func (d *dec) u64() uint64 {
	if len(d.b) < 8 {
		d.err = errCorrupt
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *dec) i64() int64 { return int64(d.u64() ^ 1<<63) }

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) || n > math.MaxInt32 {
		d.err = errCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) byte1() byte {
	if len(d.b) < 1 {
		d.err = errCorrupt
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

type enc []byte

func (e enc) uvarint(v uint64) enc { return binary.AppendUvarint(e, v) }
func (e enc) varint(v int64) enc   { return binary.AppendVarint(e, v) }
func (e enc) bytes(b []byte) enc   { return append(e.uvarint(uint64(len(b))), b...) }
func (e enc) str(s string) enc     { return append(e.uvarint(uint64(len(s))), s...) }
