package im

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
)

// OpGroupReceiptUpdate is the op of the push that tells a message's sender
// its new read counts (protocol.OpGroupReceiptUpdate; docs/protocol.md).
const OpGroupReceiptUpdate = "group_receipt_update"

// ReceiptPushWindow is how long read-count changes are gathered before they
// are pushed: a sender gets at most one group_receipt_update per group per
// window, holding each changed message once with its newest counts. 2,000
// members reading one message within a window make one push, not 2,000.
const ReceiptPushWindow = 200 * time.Millisecond

// maxPendingReceipts bounds the changes waiting for the window: past it they
// are pushed at once.
const maxPendingReceipts = 100000

type rcptKey struct {
	app           int64
	group, sender string
}

// rcptPusher gathers read-count changes (MarkGroupReceipts) and publishes them
// once per ReceiptPushWindow as KindNotice deliveries to the senders. The
// zero value is ready.
type rcptPusher struct {
	mu      sync.Mutex
	pending map[rcptKey]map[int64]store.GroupReceipt
	n       int
	armed   bool
}

// receiptPush is the Fields of a group_receipt_update push.
type receiptPush struct {
	Group    string        `json:"group"`
	Receipts []receiptJSON `json:"receipts"`
}

type receiptJSON struct {
	Seq    int64 `json:"seq"`
	Read   int   `json:"read"`
	Unread int   `json:"unread"`
}

// add records that message c.Seq of group, sent by sender, has new counts.
func (p *rcptPusher) add(b bus.Bus, app int64, group, sender string, c store.GroupReceipt) {
	p.mu.Lock()
	if p.pending == nil {
		p.pending = map[rcptKey]map[int64]store.GroupReceipt{}
	}
	k := rcptKey{app, group, sender}
	m := p.pending[k]
	if m == nil {
		m = map[int64]store.GroupReceipt{}
		p.pending[k] = m
	}
	if old, ok := m[c.Seq]; !ok {
		m[c.Seq] = c
		p.n++
	} else if c.ReadNum > old.ReadNum {
		m[c.Seq] = c
	}
	var now []bus.Delivery
	if p.n >= maxPendingReceipts {
		now = p.take()
	}
	arm := !p.armed && p.n > 0
	p.armed = p.armed || arm
	p.mu.Unlock()
	if now != nil {
		b.Publish(now)
	}
	if arm {
		time.AfterFunc(ReceiptPushWindow, func() {
			p.mu.Lock()
			ds := p.take()
			p.armed = false
			p.mu.Unlock()
			if len(ds) > 0 {
				b.Publish(ds)
			}
		})
	}
}

// take empties the pending changes into deliveries, one per (sender, group),
// receipts by seq. p.mu is held.
func (p *rcptPusher) take() []bus.Delivery {
	ds := make([]bus.Delivery, 0, len(p.pending))
	for k, m := range p.pending {
		rs := make([]receiptJSON, 0, len(m))
		for _, c := range m {
			rs = append(rs, receiptJSON{Seq: c.Seq, Read: c.ReadNum, Unread: c.UnreadNum})
		}
		slices.SortFunc(rs, func(a, b receiptJSON) int { return cmp.Compare(a.Seq, b.Seq) })
		ds = append(ds, bus.Delivery{App: k.app, User: k.sender, Kind: bus.KindNotice,
			Notice: &bus.Notice{Op: OpGroupReceiptUpdate, Fields: receiptPush{Group: k.group, Receipts: rs}}})
	}
	p.pending, p.n = nil, 0
	return ds
}
