package pebblestore

import (
	"encoding/binary"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// ghead is the head of a group log: last seq and last message time.
type ghead struct{ seq, msgTime int64 }

// gstate is what a batch's group ops see of the earlier ones.
type gstate struct {
	heads   map[string]*ghead   // famGHead key -> head (loaded on first use)
	recs    map[string]*grec    // famGLog key -> records written or rewritten by the batch
	clients map[string]int64    // famGClient key -> seq, from the batch
	randoms map[string][2]int64 // famGRandom key -> seq, created, from the batch
}

func (a *applier) groups() *gstate {
	if a.g == nil {
		a.g = &gstate{heads: map[string]*ghead{}, recs: map[string]*grec{}, clients: map[string]int64{}, randoms: map[string][2]int64{}}
	}
	return a.g
}

// head returns the group's head as the batch has it.
func (a *applier) head(app int64, group string) (*ghead, error) {
	g := a.groups()
	k := string(appKey(app, famGHead).str(group))
	if h, ok := g.heads[k]; ok {
		return h, nil
	}
	v, err := get(a.s.db, []byte(k))
	if err != nil {
		return nil, err
	}
	h := &ghead{}
	if len(v) == 16 {
		d := dec{b: v}
		h.seq, h.msgTime = int64(d.u64()), d.i64()
	}
	g.heads[k] = h
	return h, nil
}

// grecord returns the group record with seq as the batch has it (nil when none).
func (a *applier) grecord(app int64, group string, seq int64) (*grec, error) {
	k := gLogKey(app, group, seq)
	if r, ok := a.groups().recs[string(k)]; ok {
		return r, nil
	}
	v, err := get(a.s.db, k)
	if err != nil || v == nil {
		return nil, err
	}
	r, err := decodeGrec(seq, v)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// gdup looks up the seq stored at key k (famGClient or famGRandom), the
// batch's first; created is 0 for famGClient.
func (a *applier) gdup(k []byte, m map[string]int64, rm map[string][2]int64) (seq, created int64, ok bool, err error) {
	if m != nil {
		if s, found := m[string(k)]; found {
			return s, 0, true, nil
		}
	}
	if rm != nil {
		if v, found := rm[string(k)]; found {
			return v[0], v[1], true, nil
		}
	}
	v, err := get(a.s.db, k)
	if err != nil || len(v) < 8 {
		return 0, 0, false, err
	}
	seq = int64(binary.BigEndian.Uint64(v))
	if len(v) == 16 {
		created = int64(binary.BigEndian.Uint64(v[8:]) ^ 1<<63)
	}
	return seq, created, true, nil
}

// groupSend runs OpGroupSend.
func (a *applier) groupSend(op store.Op) (store.OpResult, error) {
	g := a.groups()
	at := msOf(op.At)
	var ck, rk []byte
	if op.ClientID != "" {
		ck = appKey(op.App, famGClient).str(op.Group).str(op.From).str(op.ClientID)
		seq, _, ok, err := a.gdup(ck, g.clients, nil)
		if err != nil {
			return store.OpResult{}, err
		}
		if ok {
			if r, err := a.grecord(op.App, op.Group, seq); err != nil || r != nil {
				if err != nil {
					return store.OpResult{}, err
				}
				return store.OpResult{Entries: []store.Entry{r.entry(op.App, op.Group)}, Duplicate: true}, nil
			}
		}
	}
	if op.RandomWindow > 0 {
		rk = appKey(op.App, famGRandom).str(op.Group).str(op.From).u64(uint64(op.MsgRandom))
		seq, created, ok, err := a.gdup(rk, nil, g.randoms)
		if err != nil {
			return store.OpResult{}, err
		}
		if ok && created >= at-op.RandomWindow.Milliseconds() {
			r, err := a.grecord(op.App, op.Group, seq)
			if err != nil {
				return store.OpResult{}, err
			}
			if r != nil {
				return store.OpResult{Entries: []store.Entry{r.entry(op.App, op.Group)}, Duplicate: true}, nil
			}
		}
	}
	r := &grec{
		kind: gkMsg, from: op.From, msgRandom: op.MsgRandom, msgTime: op.MsgTime, clientID: op.ClientID,
		body: op.Body, ccd: op.CloudCustomData, created: at, expires: toMs(op.ExpiresAt),
	}
	if len(op.Targets) > 0 {
		r.flags |= gTargeted
		r.targets = append([]string(nil), op.Targets...)
	}
	if op.NeedReceipt {
		r.flags |= gReceipt
	}
	if err := a.gappend(op.App, op.Group, r); err != nil {
		return store.OpResult{}, err
	}
	if ck != nil {
		g.clients[string(ck)] = r.seq
		if err := a.b.Set(ck, binary.BigEndian.AppendUint64(nil, uint64(r.seq)), nil); err != nil {
			return store.OpResult{}, err
		}
	}
	if rk != nil {
		g.randoms[string(rk)] = [2]int64{r.seq, at}
		if err := a.b.Set(rk, keyBuf(nil).u64(uint64(r.seq)).i64(at), nil); err != nil {
			return store.OpResult{}, err
		}
	}
	return store.OpResult{Entries: []store.Entry{r.entry(op.App, op.Group)}}, nil
}

// gappend gives r the group's next seq and writes it, its index and age keys
// and the head.
func (a *applier) gappend(app int64, group string, r *grec) error {
	h, err := a.head(app, group)
	if err != nil {
		return err
	}
	h.seq++
	r.seq = h.seq
	if r.msgTime == 0 {
		r.msgTime = r.created / 1000
	}
	if r.kind == gkMsg {
		h.msgTime = r.msgTime
	}
	return a.gwrite(app, group, r, true)
}

// gwrite writes r (new when fresh: with its age key and the head).
func (a *applier) gwrite(app int64, group string, r *grec, fresh bool) error {
	lk := gLogKey(app, group, r.seq)
	a.groups().recs[string(lk)] = r
	a.vb = r.encodeTo(a.vb[:0])
	if err := a.b.Set(lk, a.vb, nil); err != nil {
		return err
	}
	a.vb = r.idx(a.vb[:0])
	if err := a.b.Set(gIdxKey(app, group, r.seq), a.vb, nil); err != nil {
		return err
	}
	if !fresh {
		return nil
	}
	if err := a.b.Set(gAgeKey(app, r.created, group, r.seq), nil, nil); err != nil {
		return err
	}
	h := a.groups().heads[string(appKey(app, famGHead).str(group))]
	return a.b.Set(appKey(app, famGHead).str(group), keyBuf(nil).u64(uint64(h.seq)).i64(h.msgTime), nil)
}

// groupRecall runs OpGroupRecall.
func (a *applier) groupRecall(op store.Op) (store.OpResult, error) {
	r, err := a.grecord(op.App, op.Group, op.MsgSeq)
	if err != nil {
		return store.OpResult{}, err
	}
	if r == nil || r.kind != gkMsg {
		return store.OpResult{Err: errs.ErrNotFound}, nil
	}
	if r.flags&gRecalled != 0 {
		return store.OpResult{}, nil // recalled before: nothing new to tell
	}
	c := *r
	c.flags |= gRecalled
	if err := a.gwrite(op.App, op.Group, &c, false); err != nil {
		return store.OpResult{}, err
	}
	ev := &grec{kind: gkRecall, flags: gNotMsg, from: op.From, msgSeq: r.seq, msgRandom: r.msgRandom, msgTime: op.MsgTime, created: msOf(op.At)}
	if err := a.gappend(op.App, op.Group, ev); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: []store.Entry{ev.entry(op.App, op.Group)}}, nil
}

// groupTips runs OpGroupTips.
func (a *applier) groupTips(op store.Op) (store.OpResult, error) {
	r := &grec{kind: gkTips, flags: gNotMsg, from: op.From, msgRandom: op.MsgRandom, msgTime: op.MsgTime, body: op.Body, created: msOf(op.At)}
	if err := a.gappend(op.App, op.Group, r); err != nil {
		return store.OpResult{}, err
	}
	return store.OpResult{Entries: []store.Entry{r.entry(op.App, op.Group)}}, nil
}

func isGroupOp(k store.OpKind) bool {
	return k == store.OpGroupSend || k == store.OpGroupRecall || k == store.OpGroupTips
}
