package natsbus

import "sync"

// MaxOutboxBytes bounds the messages this node has handed to the bus and
// NATS has not yet taken: past it new ones are dropped (Metrics.Dropped) and
// the devices concerned resync. It keeps a stalled NATS connection (a frozen
// server fills the socket, and nats.go's Publish then waits for its flusher)
// from ever blocking the callers: the group-commit writer, logins, presence.
const MaxOutboxBytes = 64 << 20

// outbox is the queue between the callers of publish and the one goroutine
// that hands messages to NATS, in order.
type outbox struct {
	mu    sync.Mutex
	q     []outMsg
	bytes int
	wake  chan struct{}
}

type outMsg struct {
	subj  string
	reply string
	data  []byte
}

// publish queues one message; a message larger than MaxMessageBytes or one
// that would pass MaxOutboxBytes is dropped and counted. Never blocks.
func (b *Bus) publish(subj string, data []byte) { b.publishReply(subj, "", data) }

func (b *Bus) publishReply(subj, reply string, data []byte) {
	if len(data) > MaxMessageBytes {
		b.dropped()
		b.cfg.Logger.Warn("nats: message too large, not sent", "subject", subj, "bytes", len(data))
		return
	}
	o := &b.out
	o.mu.Lock()
	if o.bytes+len(data) > MaxOutboxBytes {
		o.mu.Unlock()
		b.dropped()
		return
	}
	o.q = append(o.q, outMsg{subj, reply, data})
	o.bytes += len(data)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// send hands queued messages to NATS until the bus stops, then what is
// left.
func (b *Bus) send() {
	defer b.sending.Done()
	o := &b.out
	var batch []outMsg
	for {
		stopping := false
		select {
		case <-o.wake:
		case <-b.stop:
			stopping = true
		}
		o.mu.Lock()
		batch, o.q = o.q, batch[:0]
		o.mu.Unlock()
		n := 0
		for _, m := range batch {
			var err error
			if m.reply != "" {
				err = b.nc.PublishRequest(m.subj, m.reply, m.data)
			} else {
				err = b.nc.Publish(m.subj, m.data)
			}
			if err != nil {
				b.dropped()
			} else {
				n++
			}
			o.mu.Lock()
			o.bytes -= len(m.data)
			o.mu.Unlock()
		}
		b.published(n)
		clear(batch)
		if stopping {
			return
		}
	}
}
