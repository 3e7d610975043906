package pebblestore

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/store"
)

// The conversation list (docs/storage.md, "Conversations"):
//
//	app │ v │ owner │ type │ peer → msg_time │ seq │ from │ msg_key
//
// Every copy of a message sets its owner's key in the message's batch, without
// reading it first: the last message written is the conversation's last
// message. type is one byte (1 one-to-one, 2 group: peer is then the GroupId),
// so a user's one-to-one and group conversations share one prefix scan.

// convKey appends (owner, type, peer) to k, a famConv key start.
func convKey(k keyBuf, owner string, typ int, peer string) keyBuf {
	k = k.str(owner)
	k = append(k, byte(typ))
	return k.str(peer)
}

func appendConvVal(dst []byte, m *message, seq int64) []byte {
	v := enc(keyBuf(dst).i64(m.msgTime).u64(uint64(seq)))
	return v.str(m.from).str(m.msgKey)
}

// Conversations implements store.ConvIndex: one prefix scan of the owner's
// famConv keys.
func (s *Store) Conversations(ctx context.Context, app int64, owner string) ([]store.ConvLast, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	p := appKey(app, famConv).str(owner)
	it, err := s.iter(s.db, p, prefixEnd(p))
	if err != nil {
		return nil, wrap("conversations", err)
	}
	defer it.Close()
	var out []store.ConvLast
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(p):]
		if len(k) < 1 {
			return nil, wrap("conversations", errCorrupt)
		}
		d := dec{b: k[1:]}
		c := store.ConvLast{ConvID: store.ConvID{Type: int(k[0]), Peer: d.str()}}
		v := dec{b: it.Value()}
		c.MsgTime, c.Seq = v.i64(), int64(v.u64())
		from := v.bytes()
		switch { // the sender is the owner or the peer: no new string
		case string(from) == owner:
			c.From = owner
		case string(from) == c.Peer:
			c.From = c.Peer
		default:
			c.From = string(from)
		}
		c.MsgKey = v.str()
		if d.err != nil || v.err != nil {
			return nil, wrap("conversations", errCorrupt)
		}
		out = append(out, c)
	}
	return out, wrap("conversations", it.Error())
}

// DeleteConversation implements store.ConvIndex (the engine's part: the last
// message and, with clearHistory, the owner's copies), in synced batches
// under the writer's lock. Clearing a one-to-one history deletes the owner's
// history and sync keys of the conversation and takes the owner's copy off each
// record (a record left with no copy is deleted, so its ClientID is free
// again, as in the SQL stores); a record whose MsgKey was found through the
// removed copy's sync key gets a MsgKey key of its own; the owner's Seq floor
// is written so that Seqs never go back. A long history is cleared
// clearChunk messages per batch, the lock released in between, so sends wait
// for one chunk at most.
func (s *Store) DeleteConversation(ctx context.Context, app int64, owner string, c store.ConvID, clearHistory bool, at time.Time) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	var from []byte // the next history key to clear
	for first := true; first || from != nil; first = false {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if from, err = s.deleteConvChunk(app, owner, c, clearHistory && c.Type == store.ConvC2C, first, from); err != nil {
			return wrap("delete conversation", err)
		}
	}
	return nil
}

// clearChunk bounds the messages one batch of a history clear handles.
var clearChunk = 1024

// deleteConvChunk runs one batch of DeleteConversation and returns where the
// next starts (nil: done).
func (s *Store) deleteConvChunk(app int64, owner string, c store.ConvID, clear, first bool, from []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	if first {
		if err := b.Delete(convKey(appKey(app, famConv), owner, c.Type, c.Peer), nil); err != nil {
			return nil, err
		}
	}
	var next []byte
	if clear {
		var err error
		if next, err = s.clearHistory(b, app, owner, c.Peer, from); err != nil {
			return nil, err
		}
	}
	return next, b.Commit(pebble.Sync)
}

// clearHistory adds to b the clearing of at most clearChunk messages of
// owner's history with peer from key from (nil: the start), and returns the
// key after them (nil when none is left).
func (s *Store) clearHistory(b *pebble.Batch, app int64, owner, peer string, from []byte) ([]byte, error) {
	p := appKey(app, famHist).str(owner).str(peer)
	lower := from
	if lower == nil {
		lower = p
	}
	it, err := s.iter(s.db, lower, prefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	n := 0
	var next []byte
	for ok := it.First(); ok; ok = it.Next() {
		if n == clearChunk {
			next = append([]byte(nil), it.Key()...)
			break
		}
		n++
		d := dec{b: it.Key()[len(p):]}
		d.i64()
		seq := int64(d.u64())
		rf, _, _, err := decodeHistVal(it.Value())
		if d.err != nil || err != nil {
			return nil, errCorrupt
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			return nil, err
		}
		if err := b.Delete(appKey(app, famSync).str(owner).u64(uint64(seq)), nil); err != nil {
			return nil, err
		}
		m, found, err := s.loadMessage(s.db, app, rf)
		if err != nil {
			return nil, err
		}
		if !found {
			continue // purged: only its index keys were left
		}
		foundBySync := (m.flags&msgHasSender != 0 && m.msgSeq == m.senderSeq) ||
			(m.flags&msgHasReceiver != 0 && m.msgSeq == m.receiverSeq)
		if owner == m.from {
			m.flags &^= msgHasSender
		}
		if owner == m.to {
			m.flags &^= msgHasReceiver
		}
		if m.flags&(msgHasSender|msgHasReceiver) == 0 {
			if err := b.Delete(m.key(app), nil); err != nil {
				return nil, err
			}
			continue
		}
		if err := b.Set(m.key(app), m.encode(), nil); err != nil {
			return nil, err
		}
		stillBySync := (m.flags&msgHasSender != 0 && m.msgSeq == m.senderSeq) ||
			(m.flags&msgHasReceiver != 0 && m.msgSeq == m.receiverSeq)
		if foundBySync && !stillBySync {
			if err := b.Set(convKeyPrefix(app, m.from, m.to, m.msgKey).u64(m.id), syncVal(m.ref, m.expires), nil); err != nil {
				return nil, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	seq, ok := s.seqs[app][owner]
	if !ok {
		if seq, err = s.lastSeq(app, owner); err != nil {
			return nil, err
		}
	}
	if err := b.Set(appKey(app, famSeq).str(owner), binary.BigEndian.AppendUint64(nil, uint64(seq)), nil); err != nil {
		return nil, err
	}
	return next, nil
}
