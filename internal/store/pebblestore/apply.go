package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// applier is the state of one Apply batch.
type applier struct {
	s      *Store
	b      *pebble.Batch // indexed: lookups see the batch's own writes
	seqs   map[int64]map[string]int64
	lastID uint64
}

// Apply implements store.Messages. The batch is one Pebble batch committed
// with one fsync; Seqs and ids come from counters cached in memory (recovered
// from famSeq and metaID keys) and are published only once the commit is
// durable. A storage error fails the whole batch; per-op outcomes are in
// OpResult.Err. Ops with a zero At get the current time.
func (s *Store) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &applier{s: s, b: s.db.NewIndexedBatch(), seqs: map[int64]map[string]int64{}, lastID: s.lastID}
	defer a.b.Close()
	now := time.Now()
	results := make([]store.OpResult, len(ops))
	for i, op := range ops {
		if op.At.IsZero() {
			op.At = now
		}
		var err error
		switch {
		case op.From == "" || op.To == "":
			results[i].Err = fmt.Errorf("op %d: From and To are required", i)
		case op.Kind == store.OpSend:
			results[i], err = a.send(op)
		case op.Kind == store.OpRecall:
			results[i], err = a.recall(op)
		case op.Kind == store.OpRead:
			results[i], err = a.read(op)
		default:
			results[i].Err = fmt.Errorf("op %d: unknown kind %d", i, op.Kind)
		}
		if err != nil {
			return nil, wrap("apply", err)
		}
	}
	for app, owners := range a.seqs {
		for owner, seq := range owners {
			if err := a.b.Set(appKey(app, famSeq).str(owner), binary.BigEndian.AppendUint64(nil, uint64(seq)), nil); err != nil {
				return nil, wrap("apply", err)
			}
		}
	}
	if a.lastID != s.lastID {
		if err := a.b.Set(appKey(0, metaID), binary.BigEndian.AppendUint64(nil, a.lastID), nil); err != nil {
			return nil, wrap("apply", err)
		}
	}
	if err := a.b.Commit(pebble.Sync); err != nil {
		return nil, wrap("apply: commit", err)
	}
	s.lastID = a.lastID
	for app, owners := range a.seqs {
		m := s.seqs[app]
		if m == nil {
			m = make(map[string]int64, len(owners))
			s.seqs[app] = m
		}
		for owner, seq := range owners {
			m[owner] = seq
		}
	}
	return results, nil
}

// next allocates owner's next Seq.
func (a *applier) next(app int64, owner string) (int64, error) {
	m := a.seqs[app]
	if m == nil {
		m = map[string]int64{}
		a.seqs[app] = m
	}
	seq, ok := m[owner]
	if !ok {
		if seq, ok = a.s.seqs[app][owner]; !ok {
			v, err := get(a.s.db, appKey(app, famSeq).str(owner))
			if err != nil {
				return 0, err
			}
			if len(v) == 8 {
				seq = int64(binary.BigEndian.Uint64(v))
			}
		}
	}
	seq++
	m[owner] = seq
	return seq, nil
}

func (a *applier) newRef(fam byte, at time.Time) ref {
	a.lastID++
	return ref{fam: fam, created: at.UTC().Truncate(time.Millisecond).UnixMilli(), id: a.lastID}
}

// existing returns the copies of the first stored message among refs.
func (a *applier) existing(app int64, refs []ref) ([]store.Entry, bool, error) {
	for _, rf := range refs {
		m, found, err := a.s.loadMessage(a.b, app, rf)
		if err != nil {
			return nil, false, err
		}
		if found {
			return m.copies(app), true, nil
		}
	}
	return nil, false, nil
}

func (a *applier) send(op store.Op) (store.OpResult, error) {
	clientKey := appKey(op.App, famClient).str(op.From).str(op.ClientID)
	if op.ClientID != "" {
		v, err := get(a.b, clientKey)
		if err != nil {
			return store.OpResult{}, err
		}
		if v != nil {
			rf, _, err := decodeSyncVal(v)
			if err != nil {
				return store.OpResult{}, err
			}
			if copies, ok, err := a.existing(op.App, []ref{rf}); err != nil || ok {
				return store.OpResult{Entries: copies, Duplicate: true}, err
			}
		}
	}
	if op.MsgSeq != 0 {
		refs, err := a.s.keyRefs(a.b, op.App, op.From, op.To, store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime))
		if err != nil {
			return store.OpResult{}, err
		}
		if copies, ok, err := a.existing(op.App, refs); err != nil || ok {
			return store.OpResult{Entries: copies, Duplicate: true}, err
		}
	}
	self := op.From == op.To
	m := message{
		ref: a.newRef(famMsg, op.At), from: op.From, to: op.To, msgSeq: op.MsgSeq,
		msgRandom: op.MsgRandom, msgTime: op.MsgTime, clientID: op.ClientID, body: op.Body,
		cloudCustomData: op.CloudCustomData, expires: toMs(op.ExpiresAt),
	}
	var err error
	if !op.OnlyReceiver || self { // a message to oneself has one copy, the sender's
		m.flags |= msgHasSender
		if m.senderSeq, err = a.next(op.App, op.From); err != nil {
			return store.OpResult{}, err
		}
	}
	if !self {
		m.flags |= msgHasReceiver
		if m.receiverSeq, err = a.next(op.App, op.To); err != nil {
			return store.OpResult{}, err
		}
		if op.Unread {
			m.flags |= msgUnread
		}
	}
	switch {
	case m.msgSeq != 0:
	case m.flags&msgHasSender != 0:
		m.msgSeq = m.senderSeq
	default:
		m.msgSeq = m.receiverSeq
	}
	m.msgKey = store.FormatMsgKey(m.msgSeq, m.msgRandom, m.msgTime)
	if err := a.writeMessage(op.App, &m); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: m.copies(op.App)}, nil
}

// writeMessage writes a new message and its index keys.
func (a *applier) writeMessage(app int64, m *message) error {
	b := a.b
	sv := syncVal(m.ref, m.expires)
	set := func(k, v []byte) error { return b.Set(k, v, nil) }
	if err := set(m.key(app), m.encode()); err != nil {
		return err
	}
	for _, c := range [2]struct {
		has         bool
		owner, peer string
		seq         int64
		flags       byte
	}{
		{m.flags&msgHasSender != 0, m.from, m.to, m.senderSeq, 0},
		{m.flags&msgHasReceiver != 0, m.to, m.from, m.receiverSeq, histFlagsOf(m)},
	} {
		if !c.has {
			continue
		}
		if err := set(appKey(app, famSync).str(c.owner).u64(uint64(c.seq)), sv); err != nil {
			return err
		}
		if err := set(histKey(app, c.owner, c.peer, m.msgTime, c.seq), histVal(m.ref, m.expires, c.flags)); err != nil {
			return err
		}
		if err := set(appKey(app, famPeers).str(c.owner).str(c.peer), nil); err != nil {
			return err
		}
	}
	u, v := m.from, m.to
	if v < u {
		u, v = v, u
	}
	if err := set(appKey(app, famKey).str(u).str(v).str(m.msgKey).u64(m.id), sv); err != nil {
		return err
	}
	if m.clientID != "" {
		if err := set(appKey(app, famClient).str(m.from).str(m.clientID), sv); err != nil {
			return err
		}
	}
	if m.expires != 0 {
		if err := set(appKey(app, famExpiry).i64(m.expires).i64(m.created).u64(m.id), nil); err != nil {
			return err
		}
	}
	return nil
}

func histKey(app int64, owner, peer string, msgTime, seq int64) []byte {
	return appKey(app, famHist).str(owner).str(peer).i64(msgTime).u64(uint64(seq))
}

// histFlagsOf returns the history flags of the receiver's copy.
func histFlagsOf(m *message) byte {
	var f byte
	if m.flags&msgUnread != 0 {
		f |= histCounts
	}
	if m.flags&msgRecalled != 0 {
		f |= histRecalled
	}
	return f
}

func (a *applier) recall(op store.Op) (store.OpResult, error) {
	refs, err := a.s.keyRefs(a.b, op.App, op.From, op.To, op.MsgKey)
	if err != nil {
		return store.OpResult{}, err
	}
	var msg message
	found, recalledNow := false, false
	for _, rf := range refs {
		m, ok, err := a.s.loadMessage(a.b, op.App, rf)
		if err != nil {
			return store.OpResult{}, err
		}
		if !ok {
			continue
		}
		found, msg = true, m
		if m.flags&msgRecalled != 0 {
			continue
		}
		recalledNow = true
		m.flags |= msgRecalled
		if err := a.b.Set(m.key(op.App), m.encode(), nil); err != nil {
			return store.OpResult{}, err
		}
		if m.flags&msgHasSender != 0 {
			if err := a.b.Set(histKey(op.App, m.from, m.to, m.msgTime, m.senderSeq), histVal(m.ref, m.expires, histRecalled), nil); err != nil {
				return store.OpResult{}, err
			}
		}
		if m.flags&msgHasReceiver != 0 {
			if err := a.b.Set(histKey(op.App, m.to, m.from, m.msgTime, m.receiverSeq), histVal(m.ref, m.expires, histFlagsOf(&m)), nil); err != nil {
				return store.OpResult{}, err
			}
		}
	}
	if !found {
		return store.OpResult{Err: errs.ErrNotFound}, nil
	}
	if !recalledNow {
		return store.OpResult{}, nil // recalled before: nothing new to tell
	}
	return a.events(op, store.Entry{
		Kind: store.KindRecall, MsgSeq: msg.msgSeq, MsgRandom: msg.msgRandom, MsgTime: msg.msgTime, MsgKey: msg.msgKey,
	})
}

func (a *applier) read(op store.Op) (store.OpResult, error) {
	k := appKey(op.App, famRead).str(op.From).str(op.To)
	v, err := get(a.b, k)
	if err != nil {
		return store.OpResult{}, err
	}
	readTime := op.ReadTime
	if len(v) == 8 {
		if cur := int64(binary.BigEndian.Uint64(v)); cur > readTime {
			readTime = cur // read positions only move forward
		}
	}
	if err := a.b.Set(k, binary.BigEndian.AppendUint64(nil, uint64(readTime)), nil); err != nil {
		return store.OpResult{}, err
	}
	return a.events(op, store.Entry{Kind: store.KindRead, ReadTime: readTime})
}

// events appends the entry base to From's log and, unless the same, To's.
func (a *applier) events(op store.Op, base store.Entry) (store.OpResult, error) {
	owners := []string{op.From, op.To}
	if op.From == op.To {
		owners = owners[:1]
	}
	var res store.OpResult
	for _, owner := range owners {
		e := base
		e.App, e.Owner, e.From, e.To = op.App, owner, op.From, op.To
		e.Peer = op.To
		if owner == op.To {
			e.Peer = op.From
		}
		var err error
		if e.Seq, err = a.next(op.App, owner); err != nil {
			return res, err
		}
		rf := a.newRef(famEvent, op.At)
		e.CreatedAt = fromMs(rf.created)
		if err := a.b.Set(rf.key(op.App), encodeEvent(&e), nil); err != nil {
			return res, err
		}
		if err := a.b.Set(appKey(op.App, famSync).str(owner).u64(uint64(e.Seq)), syncVal(rf, 0), nil); err != nil {
			return res, err
		}
		res.Entries = append(res.Entries, e)
	}
	return res, nil
}
