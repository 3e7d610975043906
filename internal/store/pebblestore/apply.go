package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// applier is the state of one Apply batch. The batch is write-only; what
// later ops must see of earlier ones (messages, ClientIDs, MsgKeys, read
// positions) is kept in the maps beside it.
type applier struct {
	s      *Store
	b      *pebble.Batch
	kb     keyBuf                     // scratch key
	vb     []byte                     // scratch value
	seqs   map[int64]map[string]int64 // Seqs allocated by the batch
	lastID uint64

	msgs    map[ref]*message // records written (or rewritten) by the batch
	clients map[string]ref   // famClient key -> message, from the engine and the batch
	keys    map[string][]ref // famKey prefix (conversation, MsgKey) -> the batch's messages
	reads   map[string]int64 // famRead key -> read time set by the batch
	g       *gstate          // group ops' state (groupapply.go), nil without them
}

// Apply implements store.Messages. The batch is one Pebble batch committed
// with one fsync; Seqs and ids come from counters cached in memory (recovered
// from the keys) and are published only once the commit is durable. A storage
// error fails the whole batch; per-op outcomes are in OpResult.Err. Ops with a
// zero At get the current time.
func (s *Store) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	if len(ops) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.newApplier()
	defer a.b.Close()
	if err := a.loadClients(ops); err != nil {
		return nil, wrap("apply", err)
	}
	now := time.Now()
	results := make([]store.OpResult, len(ops))
	for i, op := range ops {
		if op.At.IsZero() {
			op.At = now
		}
		var err error
		switch {
		case isGroupOp(op.Kind) && (op.Group == "" || (op.Kind == store.OpGroupSend && op.From == "")):
			results[i].Err = fmt.Errorf("op %d: Group (and a send's From) are required", i)
		case s.deleted[op.App] && isGroupOp(op.Kind):
			results[i].Err = errs.New(errs.AppNotFound, "SDKAppID %d was deleted", op.App)
		case op.Kind == store.OpGroupSend:
			results[i], err = a.groupSend(op)
		case op.Kind == store.OpGroupRecall:
			results[i], err = a.groupRecall(op)
		case op.Kind == store.OpGroupTips:
			results[i], err = a.groupTips(op)
		case op.From == "" || op.To == "":
			results[i].Err = fmt.Errorf("op %d: From and To are required", i)
		case s.deleted[op.App]:
			// DeleteApp ran (under mu): nothing may bring its keys back.
			results[i].Err = errs.New(errs.AppNotFound, "SDKAppID %d was deleted", op.App)
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
	// After-events, in the same batch: the ctx's (store.WithCallbacks) and
	// the ops' (store.Op.Callback).
	evs, written := store.CallbacksOf(ctx)
	evs = append(evs[:len(evs):len(evs)], opCallbacks(ops, results)...)
	if err := a.appendCallbacks(evs); err != nil {
		return nil, wrap("apply", err)
	}
	if err := a.commit(pebble.Sync); err != nil {
		return nil, wrap("apply: commit", err)
	}
	written()
	s.noteCallbackApps(evs)
	return results, nil
}

func (s *Store) newApplier() *applier {
	return &applier{
		s: s, b: s.db.NewBatch(), seqs: map[int64]map[string]int64{}, lastID: s.lastID,
		msgs: map[ref]*message{}, clients: map[string]ref{}, keys: map[string][]ref{}, reads: map[string]int64{},
	}
}

// commit writes the id counter, commits the batch and publishes the counters.
func (a *applier) commit(opts *pebble.WriteOptions) error {
	s := a.s
	if a.lastID != s.lastID {
		if err := a.b.Set(appKey(0, metaID), binary.BigEndian.AppendUint64(nil, a.lastID), nil); err != nil {
			return err
		}
	}
	if err := a.b.Commit(opts); err != nil {
		return err
	}
	s.lastID = a.lastID
	for app, owners := range a.seqs {
		if s.cachedSeqs+len(owners) > maxCachedSeqs {
			// Start the cache over: a user's Seq is recovered from its keys.
			s.seqs, s.cachedSeqs = map[int64]map[string]int64{}, 0
		}
		m := s.seqs[app]
		if m == nil {
			m = make(map[string]int64, len(owners))
			s.seqs[app] = m
		}
		for owner, seq := range owners {
			if _, ok := m[owner]; !ok {
				s.cachedSeqs++
			}
			m[owner] = seq
		}
	}
	return nil
}

// maxCachedSeqs bounds the Seq cache (users; about 80 bytes each).
var maxCachedSeqs = 1 << 20

// loadClients looks up the ClientIDs of the batch's sends, in key order on one
// iterator (each a bloom-filtered prefix seek).
func (a *applier) loadClients(ops []store.Op) error {
	var keys []string
	for _, op := range ops {
		if op.Kind == store.OpSend && op.ClientID != "" {
			keys = append(keys, string(appKey(op.App, famClient).str(op.From).str(op.ClientID)))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	it, err := a.s.db.NewIter(nil)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if it.SeekPrefixGE([]byte(k)) && string(it.Key()) == k {
			rf, _, err := decodeSyncVal(it.Value())
			if err != nil {
				it.Close()
				return err
			}
			a.clients[k] = rf
		}
	}
	return it.Close()
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
			var err error
			if seq, err = a.s.lastSeq(app, owner); err != nil {
				return 0, err
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

// message returns the record rf as the batch has it so far.
func (a *applier) message(app int64, rf ref) (*message, error) {
	if m, ok := a.msgs[rf]; ok {
		return m, nil
	}
	m, found, err := a.s.loadMessage(a.s.db, app, rf)
	if !found || err != nil {
		return nil, err
	}
	return &m, nil
}

// keyMessages returns the messages with msgKey in the conversation of u and
// v, as the batch has them so far.
func (a *applier) keyMessages(app int64, u, v, msgKey string) ([]*message, error) {
	return a.s.keyMessages(app, u, v, msgKey, func(rf ref) (*message, error) { return a.message(app, rf) },
		a.keys[string(convKeyPrefix(app, u, v, msgKey))])
}

func convKeyPrefix(app int64, u, v, msgKey string) keyBuf {
	if v < u {
		u, v = v, u
	}
	return appKey(app, famKey).str(u).str(v).str(msgKey)
}

func (a *applier) send(op store.Op) (store.OpResult, error) {
	if op.ClientID != "" {
		if rf, ok := a.clients[string(appKey(op.App, famClient).str(op.From).str(op.ClientID))]; ok {
			m, err := a.message(op.App, rf)
			if err != nil {
				return store.OpResult{}, err
			}
			if m != nil { // else purged: the ClientID is free again
				return store.OpResult{Entries: m.copies(op.App), Duplicate: true}, nil
			}
		}
	}
	if op.MsgSeq != 0 {
		msgs, err := a.keyMessages(op.App, op.From, op.To, store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime))
		if err != nil {
			return store.OpResult{}, err
		}
		if len(msgs) > 0 {
			return store.OpResult{Entries: msgs[0].copies(op.App), Duplicate: true}, nil
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
	a.msgs[m.ref] = m
	sv := syncVal(m.ref, m.expires)
	// Keys and values are built in scratch buffers: Set copies them.
	set := func(k keyBuf, v []byte) error {
		err := a.b.Set(k, v, nil)
		a.kb = k[:0]
		return err
	}
	a.vb = m.encodeTo(a.vb[:0])
	if err := set(a.key(app, famMsg).i64(m.created).u64(m.id), a.vb); err != nil {
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
		if err := set(a.key(app, famSync).str(c.owner).u64(uint64(c.seq)), sv); err != nil {
			return err
		}
		a.vb = appendHistVal(a.vb[:0], m.ref, m.expires, c.flags)
		if err := set(a.key(app, famHist).str(c.owner).str(c.peer).i64(m.msgTime).u64(uint64(c.seq)), a.vb); err != nil {
			return err
		}
		// The conversation's last message: a blind write, no read (conversations.go).
		a.vb = appendConvVal(a.vb[:0], m, c.seq)
		if err := set(convKey(a.key(app, famConv), c.owner, store.ConvC2C, c.peer), a.vb); err != nil {
			return err
		}
	}
	kp := convKeyPrefix(app, m.from, m.to, m.msgKey)
	a.keys[string(kp)] = append(a.keys[string(kp)], m.ref)
	// A MsgKey whose MsgSeq is the Seq of a copy is found through that copy's
	// sync key; only the others need a key of their own.
	bySync := (m.flags&msgHasSender != 0 && m.msgSeq == m.senderSeq) ||
		(m.flags&msgHasReceiver != 0 && m.msgSeq == m.receiverSeq)
	if !bySync {
		if err := set(kp.u64(m.id), sv); err != nil {
			return err
		}
	}
	if m.clientID != "" {
		ck := a.key(app, famClient).str(m.from).str(m.clientID)
		a.clients[string(ck)] = m.ref
		if err := set(ck, sv); err != nil {
			return err
		}
	}
	if m.expires != 0 {
		if err := set(a.key(app, famExpiry).i64(m.expires).i64(m.created).u64(m.id), nil); err != nil {
			return err
		}
	}
	return nil
}

// key starts a key of app and fam in the applier's scratch buffer.
func (a *applier) key(app int64, fam byte) keyBuf {
	return append(binary.BigEndian.AppendUint64(a.kb[:0], uint64(app)), fam)
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
	msgs, err := a.keyMessages(op.App, op.From, op.To, op.MsgKey)
	if err != nil {
		return store.OpResult{}, err
	}
	var msg message
	found, recalledNow := false, false
	for _, m := range msgs {
		found, msg = true, *m
		if m.flags&msgRecalled != 0 {
			continue
		}
		recalledNow = true
		m.flags |= msgRecalled
		a.msgs[m.ref] = m
		if err := a.b.Set(m.key(op.App), m.encode(), nil); err != nil {
			return store.OpResult{}, err
		}
		if m.flags&msgHasSender != 0 {
			if err := a.b.Set(histKey(op.App, m.from, m.to, m.msgTime, m.senderSeq), histVal(m.ref, m.expires, histRecalled), nil); err != nil {
				return store.OpResult{}, err
			}
		}
		if m.flags&msgHasReceiver != 0 {
			if err := a.b.Set(histKey(op.App, m.to, m.from, m.msgTime, m.receiverSeq), histVal(m.ref, m.expires, histFlagsOf(m)), nil); err != nil {
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
	cur, ok := a.reads[string(k)]
	if !ok {
		v, err := get(a.s.db, k)
		if err != nil {
			return store.OpResult{}, err
		}
		ok = len(v) == 8
		if ok {
			cur = int64(binary.BigEndian.Uint64(v))
		}
	}
	readTime := op.ReadTime
	if ok && cur > readTime {
		readTime = cur // read positions only move forward
	}
	a.reads[string(k)] = readTime
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
