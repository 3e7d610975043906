package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Apply implements store.Messages. Ops with a zero At get the current time. A
// database error fails (and rolls back) the whole batch; per-op outcomes are in
// OpResult.Err.
//
// A batch is one transaction of three steps, whatever its size:
//
//  1. load: lock the Seq counter of every owner the batch writes to, in (app,
//     owner) order so that concurrent batches (also from other nodes) writing
//     to one owner serialise without deadlocks; then read what the ops depend
//     on: the last Seqs, the messages already sent with the batch's ClientIDs,
//     the stored copies of the MsgKeys its recalls and explicit-MsgSeq sends
//     name, and the read times its reads move;
//  2. run the ops in order, in memory: Seqs are allocated from step 1, retries
//     are answered from step 1 or from earlier ops of the batch;
//  3. save: the new entries, the recalled copies, the read times and the new
//     last Seqs.
//
// Every row the ops read or write belongs to a locked owner (the logs and read
// states of From and To), so what step 1 read stays true until the commit. On
// PostgreSQL (Dialect.Pipeline) steps 1 and 3 are one pipeline each: two round
// trips per batch. Otherwise (SQLite) they are a few statements on the single
// write connection.
func (s *Store) Apply(ctx context.Context, ops []store.Op) ([]store.OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	a := newApplier(ops)
	var results []store.OpResult
	var err error
	if s.d.Pipeline {
		results, err = s.applyPipelined(ctx, a)
	} else {
		results, err = s.applySerial(ctx, a)
	}
	if err != nil {
		return nil, wrap("apply", err)
	}
	return results, nil
}

// sqlLaterReadTime is what an upsert of reads keeps: the later read time. Apply
// computes it under the owner's lock already; this keeps a read time from ever
// moving back whatever else writes.
const sqlLaterReadTime = `CASE WHEN excluded.read_time > reads.read_time THEN excluded.read_time ELSE reads.read_time END`

type ownerKey struct {
	app   int64
	owner string
}

// sendKey identifies a send for idempotency: the sender's ClientID.
type sendKey struct {
	app      int64
	from, id string
}

// convKey identifies a message in a conversation, whichever way it went: with
// an explicit MsgSeq, a MsgKey is stored once per conversation.
type convKey struct {
	app  int64
	a, b string // the two users, a <= b
	key  string
}

func convKeyOf(app int64, u, v, key string) convKey {
	if v < u {
		u, v = v, u
	}
	return convKey{app, u, v, key}
}

// keyRow is one log's copies of a MsgKey that load looks for.
type keyRow struct {
	app         int64
	owner, peer string
	msgTime     int64
	key         string
}

// readKey identifies a read state: Owner read the conversation with Peer.
type readKey struct {
	app         int64
	owner, peer string
}

// pendingEntry is an entry to insert at save.
type pendingEntry struct {
	e      store.Entry
	unread bool
}

// applier is the state of one Apply: what load must read (from the ops), what
// it found, and what the ops produce for save.
type applier struct {
	ops []store.Op

	// To load, each sorted by app (owners also by owner: the lock order).
	owners   []ownerKey
	sendKeys []sendKey
	keyRows  []keyRow
	readKeys []readKey

	// Loaded, then moved by the ops.
	need   map[ownerKey]int64        // entries the ops append to each owner's log if they all succeed
	loaded map[ownerKey]int64        // last Seq per owner before the batch
	last   map[ownerKey]int64        // last Seq allocated so far
	sent   map[sendKey][]store.Entry // copies of the messages with a ClientID, the sender's first
	stored map[convKey][]store.Entry // stored copies of the keyRows' messages, the sender's first
	reads  map[readKey]int64         // read times
	// deleted holds the batch's apps that are deleted: their ops fail. Load
	// reads the apps' rows with a share lock, so a deletion (which locks the
	// row first) either waits for this batch, whose entries it then removes,
	// or comes first and is seen here.
	deleted map[int64]bool

	// Produced.
	batchKeys  map[convKey][]store.Entry // copies of the batch's messages (when it has explicit MsgSeqs)
	batchMsgs  map[convKey][]int         // their indices in pending (when it has recalls)
	pending    []pendingEntry
	recalled   []store.Entry // stored copies to mark recalled
	readsSet   []readKey     // read states to save, once each
	readsDirty map[readKey]bool
}

// ErrAppDeleted is the result of an op of a deleted app: the app's data is
// gone and no write may bring it back (70020, as for an unknown SDKAppID).
func ErrAppDeleted(app int64) error {
	return errs.New(errs.AppNotFound, "SDKAppID %d was deleted", app)
}

// apps returns the distinct apps of the batch's ops, ascending.
func (a *applier) apps() []int64 {
	var out []int64
	for _, op := range a.ops {
		if !slices.Contains(out, op.App) {
			out = append(out, op.App)
		}
	}
	slices.Sort(out)
	return out
}

// newApplier collects what load must read for ops. Ops that will fail (no From
// or To, unknown kind) read nothing.
func newApplier(ops []store.Op) *applier {
	a := &applier{
		ops:     ops,
		deleted: make(map[int64]bool),
		need:    make(map[ownerKey]int64),
		loaded:  make(map[ownerKey]int64),
		sent:    make(map[sendKey][]store.Entry),
		stored:  make(map[convKey][]store.Entry),
		reads:   make(map[readKey]int64),
	}
	seenSend := make(map[sendKey]bool)
	seenKey := make(map[keyRow]bool)
	seenRead := make(map[readKey]bool)
	addKey := func(app int64, from, to string, msgTime int64, key string) {
		for _, r := range []keyRow{{app, from, to, msgTime, key}, {app, to, from, msgTime, key}} {
			if !seenKey[r] {
				seenKey[r] = true
				a.keyRows = append(a.keyRows, r)
			}
			if from == to {
				break
			}
		}
	}
	for _, op := range ops {
		if isGroupOp(op.Kind) || op.From == "" || op.To == "" {
			continue
		}
		switch op.Kind {
		case store.OpSend:
			if op.ClientID != "" {
				k := sendKey{op.App, op.From, op.ClientID}
				if !seenSend[k] {
					seenSend[k] = true
					a.sendKeys = append(a.sendKeys, k)
				}
			}
			if op.MsgSeq != 0 {
				addKey(op.App, op.From, op.To, op.MsgTime, store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime))
				if a.batchKeys == nil {
					a.batchKeys = make(map[convKey][]store.Entry)
				}
			}
		case store.OpRecall:
			if t, ok := msgKeyTime(op.MsgKey); ok {
				addKey(op.App, op.From, op.To, t, op.MsgKey)
			}
			if a.batchMsgs == nil {
				a.batchMsgs = make(map[convKey][]int)
			}
		case store.OpRead:
			if a.readsDirty == nil {
				a.readsDirty = make(map[readKey]bool)
			}
			k := readKey{op.App, op.From, op.To}
			if !seenRead[k] {
				seenRead[k] = true
				a.readKeys = append(a.readKeys, k)
			}
		default:
			continue
		}
		// Both are locked, even when one log gets nothing (OnlyReceiver): the
		// lookups of From's ClientIDs and of the conversation's MsgKeys rely on it.
		for _, o := range [2]string{op.From, op.To} {
			k := ownerKey{op.App, o}
			if _, ok := a.need[k]; !ok {
				a.need[k] = 0
				a.owners = append(a.owners, k)
			}
		}
		for _, o := range appendsTo(op) {
			a.need[ownerKey{op.App, o}]++
		}
	}
	sort.Slice(a.owners, func(i, j int) bool {
		if a.owners[i].app != a.owners[j].app {
			return a.owners[i].app < a.owners[j].app
		}
		return a.owners[i].owner < a.owners[j].owner
	})
	sort.SliceStable(a.sendKeys, func(i, j int) bool { return a.sendKeys[i].app < a.sendKeys[j].app })
	sort.SliceStable(a.keyRows, func(i, j int) bool { return a.keyRows[i].app < a.keyRows[j].app })
	sort.SliceStable(a.readKeys, func(i, j int) bool { return a.readKeys[i].app < a.readKeys[j].app })
	return a
}

// found records copies that load read: by sender and ClientID when byClientID,
// else by conversation and MsgKey. Call sortCopies when all are in.
func (a *applier) found(e store.Entry, byClientID bool) {
	if byClientID {
		k := sendKey{e.App, e.From, e.ClientID}
		a.sent[k] = append(a.sent[k], e)
		return
	}
	k := convKeyOf(e.App, e.From, e.To, e.MsgKey)
	a.stored[k] = append(a.stored[k], e)
}

// run runs the ops on the loaded state and returns their results; the writes
// are left in pending, recalled, readsSet and last.
func (a *applier) run(now time.Time) []store.OpResult {
	for _, copies := range a.sent {
		sortCopies(copies)
	}
	for _, copies := range a.stored {
		sortCopies(copies)
	}
	a.last = make(map[ownerKey]int64, len(a.loaded))
	for k, v := range a.loaded {
		a.last[k] = v
	}
	results := make([]store.OpResult, len(a.ops))
	for i, op := range a.ops {
		if op.At.IsZero() {
			op.At = now
		}
		switch {
		case isGroupOp(op.Kind): // applyGroups runs them (groupapply.go)
		case op.From == "" || op.To == "":
			results[i].Err = fmt.Errorf("op %d: From and To are required", i)
		case a.deleted[op.App]:
			results[i].Err = ErrAppDeleted(op.App)
		case op.Kind == store.OpSend:
			results[i] = a.send(op)
		case op.Kind == store.OpRecall:
			results[i] = a.recall(op)
		case op.Kind == store.OpRead:
			results[i] = a.read(op)
		default:
			results[i].Err = fmt.Errorf("op %d: unknown kind %d", i, op.Kind)
		}
	}
	return results
}

// seqsToSave returns the owners whose counter save must write, in lock order:
// those whose last Seq moved or, when load reserved the Seqs the ops need
// (stored them already), those that did not use up their reservation. A
// deleted app's counters are never written (load reserved nothing for them).
func (a *applier) seqsToSave(reserved bool) []ownerKey {
	var out []ownerKey
	for _, k := range a.owners {
		if a.deleted[k.app] {
			continue
		}
		stored := a.loaded[k]
		if reserved {
			stored += a.need[k]
		}
		if a.last[k] != stored {
			out = append(out, k)
		}
	}
	return out
}

// appendsTo returns the logs a send, recall or read appends to when it
// succeeds (a retry or a recall of a recalled message appends nothing).
func appendsTo(op store.Op) []string {
	if op.Kind == store.OpSend && op.OnlyReceiver && op.From != op.To {
		return []string{op.To}
	}
	return pair(op)
}

// sortCopies puts the sender's copy first, then the receiver's.
func sortCopies(copies []store.Entry) {
	sort.Slice(copies, func(i, j int) bool {
		ci, cj := copies[i].Owner == copies[i].From, copies[j].Owner == copies[j].From
		if ci != cj {
			return ci
		}
		return copies[i].Owner < copies[j].Owner
	})
}

func (a *applier) next(app int64, owner string) int64 {
	k := ownerKey{app, owner}
	a.last[k]++
	return a.last[k]
}

func (a *applier) add(e store.Entry, unread bool) {
	if a.batchMsgs != nil && e.Kind == store.KindMsg {
		k := convKeyOf(e.App, e.From, e.To, e.MsgKey)
		a.batchMsgs[k] = append(a.batchMsgs[k], len(a.pending))
	}
	a.pending = append(a.pending, pendingEntry{e: e, unread: unread})
}

func (a *applier) send(op store.Op) store.OpResult {
	key := sendKey{op.App, op.From, op.ClientID}
	if op.ClientID != "" {
		if copies, ok := a.sent[key]; ok {
			return store.OpResult{Entries: append([]store.Entry(nil), copies...), Duplicate: true}
		}
	}
	if op.MsgSeq != 0 {
		ck := convKeyOf(op.App, op.From, op.To, store.FormatMsgKey(op.MsgSeq, op.MsgRandom, op.MsgTime))
		if copies, ok := a.stored[ck]; ok {
			return store.OpResult{Entries: append([]store.Entry(nil), copies...), Duplicate: true}
		}
		if copies, ok := a.batchKeys[ck]; ok {
			return store.OpResult{Entries: append([]store.Entry(nil), copies...), Duplicate: true}
		}
	}
	self := op.From == op.To
	hasSender := !op.OnlyReceiver || self // a message to oneself has one copy, the sender's
	hasReceiver := !self

	var senderSeq, receiverSeq int64
	if hasSender {
		senderSeq = a.next(op.App, op.From)
	}
	if hasReceiver {
		receiverSeq = a.next(op.App, op.To)
	}
	msgSeq := op.MsgSeq
	switch {
	case msgSeq != 0:
	case hasSender:
		msgSeq = senderSeq
	default:
		msgSeq = receiverSeq
	}
	base := store.Entry{
		App:             op.App,
		Kind:            store.KindMsg,
		From:            op.From,
		To:              op.To,
		MsgSeq:          msgSeq,
		MsgRandom:       op.MsgRandom,
		MsgTime:         op.MsgTime,
		MsgKey:          store.FormatMsgKey(msgSeq, op.MsgRandom, op.MsgTime),
		ClientID:        op.ClientID,
		Body:            op.Body,
		CloudCustomData: op.CloudCustomData,
		CreatedAt:       op.At.UTC().Truncate(time.Millisecond),
	}
	if !op.ExpiresAt.IsZero() {
		base.ExpiresAt = op.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	res := store.OpResult{Entries: make([]store.Entry, 0, 2)}
	if hasSender {
		e := base
		e.Owner, e.Peer, e.Seq = op.From, op.To, senderSeq
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	if hasReceiver {
		e := base
		e.Owner, e.Peer, e.Seq = op.To, op.From, receiverSeq
		a.add(e, op.Unread)
		res.Entries = append(res.Entries, e)
	}
	// The maps share res.Entries: a recall replaces their slices, never
	// changes them (see markRecalled).
	if op.ClientID != "" {
		a.sent[key] = res.Entries
	}
	if a.batchKeys != nil {
		a.batchKeys[convKeyOf(op.App, op.From, op.To, base.MsgKey)] = res.Entries
	}
	return res
}

// recall marks every copy of op.MsgKey in the conversation recalled (stored
// ones and the batch's) and, when one was not yet, appends KindRecall to both
// logs.
func (a *applier) recall(op store.Op) store.OpResult {
	ck := convKeyOf(op.App, op.From, op.To, op.MsgKey)
	stored, batch := a.stored[ck], a.batchMsgs[ck]
	if _, ok := msgKeyTime(op.MsgKey); !ok || len(stored)+len(batch) == 0 {
		return store.OpResult{Err: errs.ErrNotFound}
	}
	var msg store.Entry
	recalledNow := false
	clientIDs := map[sendKey]bool{}
	mark := func(c *store.Entry) {
		msg = *c
		if c.ClientID != "" {
			clientIDs[sendKey{c.App, c.From, c.ClientID}] = true
		}
		if !c.Recalled {
			c.Recalled = true
			recalledNow = true
		}
	}
	for i := range stored {
		if !stored[i].Recalled {
			a.recalled = append(a.recalled, stored[i])
		}
		mark(&stored[i])
	}
	for _, i := range batch {
		mark(&a.pending[i].e)
	}
	// Retries answered from memory later in the batch see the recall.
	for k := range clientIDs {
		if copies, ok := a.sent[k]; ok {
			a.sent[k] = markRecalled(copies)
		}
	}
	if a.batchKeys != nil {
		if copies, ok := a.batchKeys[ck]; ok {
			a.batchKeys[ck] = markRecalled(copies)
		}
	}
	if !recalledNow {
		return store.OpResult{} // recalled before: nothing new to tell
	}
	var res store.OpResult
	for _, owner := range pair(op) {
		e := store.Entry{
			App:       op.App,
			Owner:     owner,
			Seq:       a.next(op.App, owner),
			Kind:      store.KindRecall,
			Peer:      other(owner, op.From, op.To),
			From:      op.From,
			To:        op.To,
			MsgSeq:    msg.MsgSeq,
			MsgRandom: msg.MsgRandom,
			MsgTime:   msg.MsgTime,
			MsgKey:    msg.MsgKey,
			CreatedAt: op.At.UTC().Truncate(time.Millisecond),
		}
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	return res
}

// markRecalled returns a recalled copy of copies (which may be an op's result).
func markRecalled(copies []store.Entry) []store.Entry {
	out := append([]store.Entry(nil), copies...)
	for i := range out {
		out[i].Recalled = true
	}
	return out
}

// read moves the read time of From's conversation with To forward (never back)
// and appends KindRead, with the effective time, to both logs.
func (a *applier) read(op store.Op) store.OpResult {
	k := readKey{op.App, op.From, op.To}
	t, ok := a.reads[k]
	if !ok || op.ReadTime > t {
		t = op.ReadTime
		a.reads[k] = t
		if !a.readsDirty[k] {
			a.readsDirty[k] = true
			a.readsSet = append(a.readsSet, k)
		}
	}
	var res store.OpResult
	for _, owner := range pair(op) {
		e := store.Entry{
			App:       op.App,
			Owner:     owner,
			Seq:       a.next(op.App, owner),
			Kind:      store.KindRead,
			Peer:      other(owner, op.From, op.To),
			From:      op.From,
			To:        op.To,
			ReadTime:  t,
			CreatedAt: op.At.UTC().Truncate(time.Millisecond),
		}
		a.add(e, false)
		res.Entries = append(res.Entries, e)
	}
	return res
}

// pair returns the logs an op appends to: From's, then To's unless it is the same.
func pair(op store.Op) []string {
	if op.From == op.To {
		return []string{op.From}
	}
	return []string{op.From, op.To}
}

// other returns the other side of the conversation of a and b, seen from owner.
func other(owner, a, b string) string {
	if owner == a {
		return b
	}
	return a
}
