package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// GroupConfig describes an open-loop fan-out run: one sender (user 0) sends to
// the group at Rate messages per second on a fixed schedule, whatever the
// server does, and every other member online measures, per delivery, the time
// from the message's due time to its receipt.
type GroupConfig struct {
	Rate     float64       // messages per second from the one sender
	Warmup   time.Duration // sent first and not measured
	Duration time.Duration // the measured phase: messages due in it are measured
	Drain    time.Duration // after the last send, wait at most this long for deliveries
	Body     json.RawMessage
	Usage    func() (Usage, error) // samples the server's CPU time and memory, when set
}

// GroupRun is a group (or live room) with every member connected.
type GroupRun struct {
	cfg       GroupConfig
	users     *GroupUsers
	groupJSON []byte // the GroupId as a JSON string
	members   []*member
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	t0, mStart, mEnd time.Time
	period           float64 // ns between two messages
	total            int64   // messages due in the whole run

	sentAll, sent                   atomic.Int64 // written; sent: measured ones
	acked, refused                  atomic.Int64
	lastRefusal                     atomic.Value
	deliveredAll, delivered         atomic.Int64 // first receptions; delivered: of measured messages
	deliveredInWindow               atomic.Int64 // receptions during the measured phase
	dupDeliveries, gapSeqs, synced  atomic.Int64
	disconnects, unsupportedReplies atomic.Int64
	gapBase, syncBase               int64 // gapSeqs and synced when Run started
	lat, ackLat, lag                Histogram
	finished                        chan struct{}
	finishOnce                      sync.Once
}

// member is one connected member; member 0 is the sender.
type member struct {
	r   *GroupRun
	i   int
	wmu sync.Mutex
	ws  *websocket.Conn // nil once the connection ended
	buf []byte

	// Owned by the reader goroutine.
	got      bitset      // message numbers received
	lastSeq  int64       // the highest seq seen
	syncing  bool        // a group_sync is in flight (stored groups)
	syncTo   int64       // the gap being synced ends here
	settled  bitset      // sender: replies received
	ready    atomic.Bool // connected (and joined): writes go through write
	scratch  []byte
	readBuf  bytes.Buffer
	isSender bool
}

func (r *GroupRun) due(n int) time.Time {
	return r.t0.Add(time.Duration(float64(n) * r.period))
}

func (r *GroupRun) measured(n int) bool {
	d := r.due(n)
	return !d.Before(r.mStart) && d.Before(r.mEnd)
}

// receivers is how many members get each message: all but the sender, whose
// message comes back in its group_send reply (docs/protocol.md ("Groups")).
func (r *GroupRun) receivers() int64 { return int64(len(r.members) - 1) }

// ConnectGroup logs every member in (64 at a time); in a live room each then
// joins it (group_join). ErrUnsupported (wrapped) when the server lacks the
// group ops.
func ConnectGroup(ctx context.Context, users *GroupUsers, cfg GroupConfig) (*GroupRun, error) {
	if len(cfg.Body) == 0 {
		cfg.Body = DefaultBody
	}
	gj, _ := json.Marshal(users.Group)
	r := &GroupRun{cfg: cfg, users: users, groupJSON: gj, finished: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.members = make([]*member, len(users.Names))
	for i := range r.members {
		r.members[i] = &member{r: r, i: i, isSender: i == 0}
	}
	// A large room takes minutes to fill: keep the members connected first
	// within the server's idle limit.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-t.C:
				for _, m := range r.members {
					if m.ready.Load() {
						m.write([]byte(`{"op":"ping","id":"ping"}`))
					}
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for _, m := range r.members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := m.connect(ctx); err != nil {
				mu.Lock()
				firstErr = cmpOr(firstErr, err)
				mu.Unlock()
				return
			}
			// Read from now on: the joins of the others push tips to this
			// member, which a member that does not read would hold up.
			m.ready.Store(true)
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				m.read(m.ws)
			}()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		r.Close()
		return nil, firstErr
	}
	return r, nil
}

// connect logs the member in; in a live room it joins it, and the sender of a
// group checks that the server serves group_sync.
func (m *member) connect(ctx context.Context) error {
	ws, _, err := dialUser(ctx, m.r.users.Users, m.i)
	if err != nil {
		return err
	}
	m.ws = ws
	var probe []byte
	switch {
	case m.r.users.LiveRoom:
		probe = append(append([]byte(`{"op":"group_join","id":"join","group":`), m.r.groupJSON...), '}')
	case m.isSender:
		probe = append(append([]byte(`{"op":"group_sync","id":"join","after":0,"limit":1,"group":`), m.r.groupJSON...), '}')
	default:
		return nil
	}
	f, err := m.call(probe, "join")
	switch {
	case err != nil:
		return err
	case f.Code == 70402 && strings.Contains(f.Message, "unknown op"):
		return fmt.Errorf("%w: %s", ErrUnsupported, f.Message)
	case f.Code != 0 && !(m.isSender && m.r.users.LiveRoom && f.Code == 10013): // the owner is already a member
		return fmt.Errorf("%s %s: %d %s", f.Op, m.r.users.Names[m.i], f.Code, f.Message)
	}
	return nil
}

// joinTimeout bounds the wait for the reply to a set-up request (a live
// room's join: each pushes a tip to the members already in).
const joinTimeout = 60 * time.Second

// call writes a request and reads frames until its reply (before the reader
// goroutine starts).
func (m *member) call(req []byte, id string) (groupFrame, error) {
	_ = m.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := m.ws.WriteMessage(websocket.TextMessage, req); err != nil {
		return groupFrame{}, err
	}
	_ = m.ws.SetReadDeadline(time.Now().Add(joinTimeout))
	defer m.ws.SetReadDeadline(time.Time{})
	for {
		_, b, err := m.ws.ReadMessage()
		if err != nil {
			return groupFrame{}, err
		}
		if f, ok := decodeGroupFrame(b); ok && f.ID == id {
			return f, nil
		}
	}
}

// Close disconnects every member.
func (r *GroupRun) Close() {
	r.cancel()
	for _, m := range r.members {
		m.wmu.Lock()
		if m.ws != nil {
			m.ws.Close()
		}
		m.wmu.Unlock()
	}
	r.wg.Wait()
}

func (m *member) read(ws *websocket.Conn) {
	defer func() {
		if m.r.ctx.Err() == nil {
			m.r.disconnects.Add(1)
		}
		m.wmu.Lock()
		m.ws = nil
		m.wmu.Unlock()
		ws.Close()
	}()
	for {
		_, rd, err := ws.NextReader()
		if err != nil {
			return
		}
		m.readBuf.Reset()
		if _, err := m.readBuf.ReadFrom(rd); err != nil {
			return
		}
		m.frame(m.readBuf.Bytes(), time.Now())
	}
}

// frame takes one server frame: the sender reads its replies, the others the
// group's entries (one byte scan per delivery, scanGroupEntry).
func (m *member) frame(b []byte, now time.Time) {
	if m.isSender {
		if !bytes.HasPrefix(b, groupSendPrefix) {
			return // the sender's own messages come in its replies
		}
		cut := b
		if i := bytes.Index(b, entryKey); i > 0 { // the reply's entry: not read
			m.scratch = append(append(m.scratch[:0], b[:i]...), '}')
			cut = m.scratch
		}
		var f inFrame
		if !scanFrame(cut, &f) {
			f = inFrame{}
			if json.Unmarshal(b, &f) != nil {
				return
			}
		}
		m.ack(f, now)
		return
	}
	if e, ok := scanGroupEntry(b); ok {
		m.entry(e, now)
		return
	}
	f, ok := decodeGroupFrame(b)
	if !ok {
		return
	}
	switch f.Op {
	case "group_entry":
		if f.Entry != nil {
			m.entry(f.Entry.lite(), now)
		}
	case "group_sync":
		m.synced(f, now)
	}
}

// ack settles the message the reply's id names.
func (m *member) ack(f inFrame, now time.Time) {
	n, err := strconv.Atoi(f.ID)
	if err != nil || n < 0 || m.settled.has(n) {
		return
	}
	m.settled.set(n)
	r := m.r
	if f.Code != 0 {
		r.refused.Add(1)
		r.lastRefusal.Store(fmt.Sprintf("%d %s", f.Code, f.Message))
		if f.Code == 70402 && strings.Contains(f.Message, "unknown op") {
			r.unsupportedReplies.Add(1)
		}
	} else {
		r.acked.Add(1)
		if r.measured(n) {
			r.ackLat.Record(now.Sub(r.due(n)))
		}
	}
	r.progress()
}

// entry takes one pushed entry: its seq shows pushes the member missed (a
// live room drops them for slow readers; a stored group's member fetches
// them with group_sync), its tag the message.
func (m *member) entry(e gEntry, now time.Time) {
	r := m.r
	if e.Seq > 0 {
		if m.lastSeq > 0 && e.Seq > m.lastSeq+1 {
			r.gapSeqs.Add(e.Seq - m.lastSeq - 1)
			if !r.users.LiveRoom && !m.syncing {
				m.syncing, m.syncTo = true, e.Seq-1
				m.writeSync(m.lastSeq)
			}
		}
		m.lastSeq = max(m.lastSeq, e.Seq)
	}
	m.record(e.N, now)
}

// record counts the first receipt of message n (n < 0: not a message of the load).
func (m *member) record(n int, now time.Time) {
	if n < 0 {
		return
	}
	r := m.r
	if m.got.has(n) {
		r.dupDeliveries.Add(1)
		return
	}
	m.got.set(n)
	r.deliveredAll.Add(1)
	if !now.Before(r.mStart) && now.Before(r.mEnd) {
		r.deliveredInWindow.Add(1)
	}
	if r.measured(n) {
		r.delivered.Add(1)
		r.lat.Record(now.Sub(r.due(n)))
	}
	r.progress()
}

// synced takes a group_sync page of a gap and asks for the next until the gap is filled.
func (m *member) synced(f groupFrame, now time.Time) {
	last := int64(0)
	for _, e := range f.Entries {
		last = max(last, e.Seq)
		if l := e.lite(); l.N >= 0 && !m.got.has(l.N) {
			m.r.synced.Add(1)
			m.record(l.N, now)
		}
	}
	if f.Code == 0 && len(f.Entries) > 0 && last < m.syncTo {
		m.writeSync(last)
		return
	}
	m.syncing = false
}

func (m *member) writeSync(after int64) {
	b := append(m.buf[:0], `{"op":"group_sync","id":"sync","limit":500,"after":`...)
	b = strconv.AppendInt(b, after, 10)
	b = append(append(append(b, `,"group":`...), m.r.groupJSON...), '}')
	m.buf = b
	m.write(b)
}

// write sends a frame; a failed write closes the connection, which the reader notices.
func (m *member) write(b []byte) bool {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.ws == nil {
		return false
	}
	_ = m.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := m.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		m.ws.Close()
		m.ws = nil
		return false
	}
	return true
}

// sendFrame is the group_send of message n (id n, tag "lg:<n>").
func (r *GroupRun) sendFrame(buf []byte, n int) []byte {
	b := append(buf[:0], `{"op":"group_send","id":"`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `","group":`...)
	b = append(b, r.groupJSON...)
	b = append(b, `,"client_msg_id":"`...)
	b = msgID(b, n)
	b = append(b, `","cloud_custom_data":"`...)
	b = loadTag(b, n)
	b = append(b, `","body":`...)
	b = append(b, r.cfg.Body...)
	return append(b, '}')
}

// progress ends the drain once every message is answered and every
// acknowledged one reached every receiver.
func (r *GroupRun) progress() {
	ack, ref := r.acked.Load(), r.refused.Load()
	if ack+ref >= r.total && r.deliveredAll.Load() >= ack*r.receivers() {
		r.finishOnce.Do(func() { close(r.finished) })
	}
}

// Run sends the load once and reports it.
func (r *GroupRun) Run(ctx context.Context) (GroupReport, error) {
	cfg := r.cfg
	if cfg.Rate <= 0 || cfg.Duration <= 0 || len(r.members) < 2 {
		return GroupReport{}, fmt.Errorf("loadgen: need a positive rate and duration and at least 2 members")
	}
	// What the set-up pushed (join tips, and their gaps) is not the load's.
	r.gapBase, r.syncBase = r.gapSeqs.Load(), r.synced.Load()
	r.period = float64(time.Second) / cfg.Rate
	r.t0 = time.Now().Add(50 * time.Millisecond)
	r.mStart = r.t0.Add(cfg.Warmup)
	r.mEnd = r.mStart.Add(cfg.Duration)
	r.total = dueCount(r.t0, r.mEnd, r.period)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var bg sync.WaitGroup
	var use, self usageSamples
	if cfg.Usage != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			use.sample(ctx, cfg.Usage, r.mStart, r.mEnd)
		}()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		self.sample(ctx, ProcUsage(os.Getpid), r.mStart, r.mEnd)
	}()
	bg.Add(1)
	go func() { // members send nothing: keep them within the server's idle limit
		defer bg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				for _, m := range r.members {
					m.write([]byte(`{"op":"ping","id":"ping"}`))
				}
			}
		}
	}()

	sender := r.members[0]
	var buf []byte
	t := time.NewTimer(time.Hour)
	for n := 0; int64(n) < r.total; n++ {
		due := r.due(n)
		if wait := time.Until(due); wait > 0 {
			t.Reset(wait)
			select {
			case <-runCtx.Done():
			case <-t.C:
			}
		}
		if runCtx.Err() != nil {
			break
		}
		r.lag.Record(time.Since(due))
		buf = r.sendFrame(buf, n)
		if !sender.write(buf) {
			break // the sender's connection ended: what is left is unsent
		}
		r.sentAll.Add(1)
		if r.measured(n) {
			r.sent.Add(1)
		}
	}
	t.Stop()
	sent := time.Now()
	drain := time.NewTimer(cfg.Drain)
	select {
	case <-r.finished:
	case <-drain.C:
	case <-ctx.Done():
	}
	drain.Stop()
	drained := time.Since(sent)
	stop()
	bg.Wait()
	rep := r.report(drained)
	tmp := Report{DeliveredPerS: rep.DeliveriesPerS, ServerCPUCores: -1}
	use.fill(&tmp, false)
	rep.ServerCPUCores, rep.ServerCPUPerDeliveryUs, rep.ServerRSSBytes = tmp.ServerCPUCores, tmp.ServerCPUPerMsgUs, tmp.ServerRSSBytes
	rep.GeneratorCPUCores = max(self.cores(), 0)
	if r.unsupportedReplies.Load() > 0 {
		return rep, fmt.Errorf("%w: group_send answered %s", ErrUnsupported, rep.LastRefusal)
	}
	return rep, ctx.Err()
}

// GroupReport is the outcome of a group or live room run. Rates are per
// second of the measured phase; "measured" messages are those due in it, and
// each is expected to reach every member but the sender.
type GroupReport struct {
	Mode               string  `json:"mode"` // group or liveroom
	Members            int     `json:"members"`
	OfferedPerS        float64 `json:"offered_per_s"`
	WarmupS            float64 `json:"warmup_s"`
	DurationS          float64 `json:"duration_s"`
	DrainS             float64 `json:"drain_s"`
	Scheduled          int64   `json:"scheduled"` // messages due in the whole run, warm-up included
	Sent               int64   `json:"sent"`      // measured messages written
	Acked              int64   `json:"acked"`     // all messages of the run
	Refused            int64   `json:"refused"`
	LastRefusal        string  `json:"last_refusal,omitempty"`
	ExpectedDeliveries int64   `json:"expected_deliveries"` // Sent × (Members − 1)
	Delivered          int64   `json:"delivered"`           // measured deliveries received by the end of the drain
	Undelivered        int64   `json:"undelivered"`         // ExpectedDeliveries − Delivered
	UndeliveredPct     float64 `json:"undelivered_pct"`
	DeliveriesPerS     float64 `json:"deliveries_per_s"` // receptions during the measured phase, per second
	Latency            Latency `json:"latency"`          // due → a member has it, per delivery
	AckLatency         Latency `json:"ack_latency"`      // due → the sender's reply
	SendLag            Latency `json:"send_lag"`         // due → written (the generator's own lateness)
	// GapSeqs counts seqs members saw skipped in their pushes: in a live room
	// these are drops (nothing is stored); in a stored group the member
	// fetched them with group_sync (Synced messages recovered that way).
	GapSeqs                int64   `json:"gap_seqs"`
	Synced                 int64   `json:"synced"`
	DupDeliveries          int64   `json:"duplicate_deliveries"`
	Disconnects            int64   `json:"disconnects"`
	ServerCPUCores         float64 `json:"server_cpu_cores"` // -1: unknown
	ServerCPUPerDeliveryUs float64 `json:"server_cpu_us_per_delivery"`
	ServerRSSBytes         int64   `json:"server_rss_bytes"`
	GeneratorCPUCores      float64 `json:"generator_cpu_cores"`
}

func (r *GroupRun) report(drained time.Duration) GroupReport {
	secs := r.cfg.Duration.Seconds()
	rep := GroupReport{
		Mode: "group", Members: len(r.members), OfferedPerS: r.cfg.Rate,
		WarmupS: r.cfg.Warmup.Seconds(), DurationS: secs, DrainS: math.Round(drained.Seconds()*100) / 100,
		Scheduled: r.total, Sent: r.sent.Load(), Acked: r.acked.Load(), Refused: r.refused.Load(),
		Delivered: r.delivered.Load(), Latency: summary(&r.lat), AckLatency: summary(&r.ackLat), SendLag: summary(&r.lag),
		GapSeqs: r.gapSeqs.Load() - r.gapBase, Synced: r.synced.Load() - r.syncBase, DupDeliveries: r.dupDeliveries.Load(),
		Disconnects: r.disconnects.Load(), ServerCPUCores: -1,
	}
	if r.users != nil && r.users.LiveRoom {
		rep.Mode = "liveroom"
	}
	if s, ok := r.lastRefusal.Load().(string); ok {
		rep.LastRefusal = s
	}
	rep.ExpectedDeliveries = rep.Sent * r.receivers()
	rep.Undelivered = rep.ExpectedDeliveries - rep.Delivered
	if rep.ExpectedDeliveries > 0 {
		rep.UndeliveredPct = math.Round(float64(rep.Undelivered)/float64(rep.ExpectedDeliveries)*1e4) / 100
	}
	rep.DeliveriesPerS = math.Round(float64(r.deliveredInWindow.Load()) / secs)
	return rep
}

// JSON returns the report as one line of JSON.
func (rep GroupReport) JSON() string {
	b, _ := json.Marshal(rep)
	return string(b)
}

// Text returns the report for people.
func (rep GroupReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s fan-out: %d members online, one sender at %.0f msg/s, %.1fs warm-up, %.1fs measured, drain %.2fs\n",
		rep.Mode, rep.Members, rep.OfferedPerS, rep.WarmupS, rep.DurationS, rep.DrainS)
	fmt.Fprintf(&b, "sent %d  deliveries expected %d, received %d, undelivered %d (%.2f%%)  deliveries/s %.0f\n",
		rep.Sent, rep.ExpectedDeliveries, rep.Delivered, rep.Undelivered, rep.UndeliveredPct, rep.DeliveriesPerS)
	l := func(name string, x Latency) {
		fmt.Fprintf(&b, "%s p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)\n", name, x.P50, x.P90, x.P99, x.Max, x.N)
	}
	l("send→member  ", rep.Latency)
	l("send→ack     ", rep.AckLatency)
	l("generator lag", rep.SendLag)
	if rep.Mode == "liveroom" {
		fmt.Fprintf(&b, "dropped (seq gaps, live room) %d  ", rep.GapSeqs)
	} else {
		fmt.Fprintf(&b, "seq gaps %d (recovered by group_sync: %d messages)  ", rep.GapSeqs, rep.Synced)
	}
	fmt.Fprintf(&b, "duplicate deliveries %d  disconnects %d  acked %d  refused %d\n", rep.DupDeliveries, rep.Disconnects, rep.Acked, rep.Refused)
	if rep.LastRefusal != "" {
		fmt.Fprintf(&b, "last refusal: %s\n", rep.LastRefusal)
	}
	if rep.ServerCPUCores >= 0 {
		fmt.Fprintf(&b, "server CPU %.2f cores (%.1f µs per delivery)  ", rep.ServerCPUCores, rep.ServerCPUPerDeliveryUs)
	} else {
		b.WriteString("server CPU unknown  ")
	}
	if rep.ServerRSSBytes > 0 {
		fmt.Fprintf(&b, "RSS peak %.1f MiB  ", float64(rep.ServerRSSBytes)/(1<<20))
	}
	fmt.Fprintf(&b, "generator CPU %.2f cores\n", rep.GeneratorCPUCores)
	return b.String()
}

// IsUnsupported reports whether err says the server lacks groups.
func IsUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
