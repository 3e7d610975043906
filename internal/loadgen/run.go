package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes an open-loop run: messages are due at fixed times whatever the
// server does, and latency counts from the time a message was due, so a server that
// falls behind shows it in the latency instead of slowing the senders down.
type Config struct {
	Rate     float64       // messages per second offered by all senders together
	Warmup   time.Duration // sent first and not measured
	Duration time.Duration // the measured phase: messages due in it are measured
	Drain    time.Duration // after the last send, wait at most this long for acks and deliveries
	Senders  int           // goroutines that walk the schedule (default 4)
	Body     json.RawMessage

	// Crash, when set, is called once CrashAfter into the measured phase, while the
	// load runs: it ends the server (kill -9) and starts it again. Devices reconnect,
	// resync and resend what was not acknowledged.
	Crash      func() error
	CrashAfter time.Duration

	// Usage, when set, samples the server's CPU time and resident memory.
	Usage func() (Usage, error)
}

// DefaultBody is a short text message.
var DefaultBody = json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"load test message"}}]`)

// Run is a set of connected sender/receiver pairs.
type Run struct {
	cfg    Config
	users  *Users
	conns  []*conn // 2p sends to 2p+1
	pairs  int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	t0, mStart, mEnd time.Time
	period           float64 // ns between two messages
	total            int64   // messages due in the whole run

	sentAll, sent           atomic.Int64 // written at least once; sent: measured ones
	acked, refused, dupAcks atomic.Int64
	resent, reconnects      atomic.Int64
	deliveredAll, delivered atomic.Int64 // first receptions; delivered: measured ones
	deliveredInWindow       atomic.Int64 // receptions during the measured phase
	dupDeliveries, logGaps  atomic.Int64
	lastRefusal             atomic.Value
	lat, ackLat             Histogram
	lag                     Histogram // how late a sender goroutine wrote a message
	finished                chan struct{}
	finishOnce              sync.Once
}

// Connect logs every user of users in (64 at a time) and keeps the devices
// connected until Close: each has one goroutine that reads, and dials again when
// the connection ends.
func Connect(ctx context.Context, users *Users, cfg Config) (*Run, error) {
	if cfg.Senders <= 0 {
		cfg.Senders = 4
	}
	if len(cfg.Body) == 0 {
		cfg.Body = DefaultBody
	}
	r := &Run{cfg: cfg, users: users, pairs: len(users.Names) / 2, finished: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.conns = make([]*conn, 2*r.pairs)
	for i := range r.conns {
		r.conns[i] = &conn{r: r, user: i, pair: i / 2, sender: i%2 == 0, self: users.Names[i], peer: users.Names[i^1], ahead: map[int64]struct{}{}}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for _, c := range r.conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, seq, err := c.dial(ctx)
			if err != nil {
				mu.Lock()
				firstErr = cmpOr(firstErr, err)
				mu.Unlock()
				return
			}
			c.ws, c.applied = ws, seq
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				c.serve(r.ctx, ws)
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

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Close disconnects every device.
func (r *Run) Close() {
	r.cancel()
	for _, c := range r.conns {
		c.wmu.Lock()
		if c.ws != nil {
			c.ws.Close()
		}
		c.wmu.Unlock()
	}
	r.wg.Wait()
}

func (r *Run) due(pair, n int) time.Time {
	return r.t0.Add(time.Duration(float64(n*r.pairs+pair) * r.period))
}

func (r *Run) measured(pair, n int) bool {
	d := r.due(pair, n)
	return !d.Before(r.mStart) && d.Before(r.mEnd)
}

// progress ends the drain once every message is settled and delivered or refused.
func (r *Run) progress() {
	ref := r.refused.Load()
	if r.deliveredAll.Load()+ref >= r.total && r.acked.Load()+ref >= r.total {
		r.finishOnce.Do(func() { close(r.finished) })
	}
}

// Run sends the load once (a Run is used for one load) and reports it.
func (r *Run) Run(ctx context.Context) (Report, error) {
	cfg := r.cfg
	if cfg.Rate <= 0 || cfg.Duration <= 0 || r.pairs == 0 {
		return Report{}, fmt.Errorf("loadgen: need a positive rate, duration and at least one pair")
	}
	if cfg.Crash != nil && (cfg.CrashAfter < 0 || cfg.CrashAfter >= cfg.Duration) {
		return Report{}, fmt.Errorf("loadgen: the crash must fall inside the measured phase (%s)", cfg.Duration)
	}
	r.period = float64(time.Second) / cfg.Rate
	r.t0 = time.Now().Add(50 * time.Millisecond)
	r.mStart = r.t0.Add(cfg.Warmup)
	r.mEnd = r.mStart.Add(cfg.Duration)
	r.total = dueCount(r.t0, r.mEnd, r.period)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var bg sync.WaitGroup
	var crashErr error
	crashed := false
	if cfg.Crash != nil {
		crashed = true
		bg.Add(1)
		go func() {
			defer bg.Done()
			if sleepUntil(runCtx, r.mStart.Add(cfg.CrashAfter)) {
				crashErr = cfg.Crash()
			}
		}()
	}
	var use usageSamples
	if cfg.Usage != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			use.sample(ctx, cfg.Usage, r.mStart, r.mEnd)
		}()
	}
	var self usageSamples
	bg.Add(1)
	go func() {
		defer bg.Done()
		self.sample(ctx, ProcUsage(os.Getpid), r.mStart, r.mEnd)
	}()
	bg.Add(1)
	go func() { // a receiver sends nothing: keep it within the server's idle limit
		defer bg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				for _, c := range r.conns {
					c.ping()
				}
			}
		}
	}()

	var senders sync.WaitGroup
	g := min(cfg.Senders, r.pairs)
	for k := range g {
		senders.Add(1)
		go func() {
			defer senders.Done()
			r.sendLoop(runCtx, k, g)
		}()
	}
	senders.Wait()
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
	if crashErr != nil {
		return Report{}, fmt.Errorf("loadgen: crash and restart: %w", crashErr)
	}
	rep := r.report(drained)
	use.fill(&rep, crashed)
	rep.GeneratorCPUCores = max(self.cores(), 0)
	return rep, ctx.Err()
}

// dueCount returns how many messages are due from t0 until end, one every period ns.
func dueCount(t0, end time.Time, period float64) int64 {
	due := func(m int64) time.Time { return t0.Add(time.Duration(float64(m) * period)) }
	m := int64(math.Ceil(float64(end.Sub(t0)) / period))
	for m > 0 && !due(m-1).Before(end) {
		m--
	}
	for due(m).Before(end) {
		m++
	}
	return m
}

// walk calls f for the messages of the pairs p with p % of == k in the order they
// are due, until the end of the measured phase or until f returns false.
func (r *Run) walk(k, of int, f func(p, n int, due time.Time) bool) {
	for n := 0; ; n++ {
		for p := k; p < r.pairs; p += of {
			due := r.due(p, n)
			if !due.Before(r.mEnd) || !f(p, n, due) {
				return
			}
		}
	}
}

// sendLoop sends the messages walk gives it when they are due: late ones at once,
// none skipped.
func (r *Run) sendLoop(ctx context.Context, k, of int) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	r.walk(k, of, func(p, n int, due time.Time) bool {
		if wait := time.Until(due); wait > 0 {
			t.Reset(wait)
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
			}
		}
		r.lag.Record(time.Since(due))
		r.conns[2*p].send(n)
		return true
	})
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Latency is a distribution summary in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	N   uint64  `json:"n"`
}

func summary(h *Histogram) Latency {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	return Latency{ms(h.Quantile(.5)), ms(h.Quantile(.9)), ms(h.Quantile(.99)), ms(h.Max()), h.Count()}
}

// Report is the outcome of an open-loop run. Rates are per second of the measured
// phase; "measured" messages are those due in it.
type Report struct {
	Mode              string  `json:"mode"`
	Connections       int     `json:"connections"`
	OfferedPerS       float64 `json:"offered_per_s"`
	WarmupS           float64 `json:"warmup_s"`
	DurationS         float64 `json:"duration_s"`
	DrainS            float64 `json:"drain_s"`   // how long the drain took
	Scheduled         int64   `json:"scheduled"` // messages due in the whole run, warm-up included
	Sent              int64   `json:"sent"`      // measured messages written to the server
	SentPerS          float64 `json:"sent_per_s"`
	Delivered         int64   `json:"delivered"`       // measured messages received by the end of the drain
	DeliveredPerS     float64 `json:"delivered_per_s"` // receptions during the measured phase, per second
	UndeliveredPct    float64 `json:"undelivered_pct"` // measured messages sent and not received by the end of the drain
	Latency           Latency `json:"latency"`         // due → the receiver has it
	AckLatency        Latency `json:"ack_latency"`     // due → durable acknowledgement
	SendLag           Latency `json:"send_lag"`        // due → written: how far the generator itself fell behind (all messages)
	Acked             int64   `json:"acked"`           // all messages of the run
	Refused           int64   `json:"refused"`         // answered with an error code
	LastRefusal       string  `json:"last_refusal,omitempty"`
	DuplicateAcks     int64   `json:"duplicate_acks"` // resends answered "duplicate"
	Resent            int64   `json:"resent"`         // writes of a message already written once
	Reconnects        int64   `json:"reconnects"`
	DupDeliveries     int64   `json:"duplicate_deliveries"` // one client_msg_id under two seqs of a receiver's log
	ServerCPUCores    float64 `json:"server_cpu_cores"`     // during the measured phase; -1: unknown
	ServerCPUPerMsgUs float64 `json:"server_cpu_us_per_msg"`
	ServerRSSBytes    int64   `json:"server_rss_bytes"`    // the highest sample of the run; 0: unknown
	GeneratorCPUCores float64 `json:"generator_cpu_cores"` // this process during the measured phase
}

func (r *Run) report(drained time.Duration) Report {
	secs := r.cfg.Duration.Seconds()
	rep := Report{
		Mode: "open", Connections: len(r.conns), OfferedPerS: r.cfg.Rate,
		WarmupS: r.cfg.Warmup.Seconds(), DurationS: secs, DrainS: math.Round(drained.Seconds()*100) / 100,
		Scheduled: r.total, Sent: r.sent.Load(), Delivered: r.delivered.Load(),
		Latency: summary(&r.lat), AckLatency: summary(&r.ackLat),
		SendLag: summary(&r.lag),
		Acked:   r.acked.Load(), Refused: r.refused.Load(), DuplicateAcks: r.dupAcks.Load(),
		Resent: r.resent.Load(), Reconnects: r.reconnects.Load(), DupDeliveries: r.dupDeliveries.Load(),
		ServerCPUCores: -1,
	}
	if s, ok := r.lastRefusal.Load().(string); ok {
		rep.LastRefusal = s
	}
	rep.SentPerS = math.Round(float64(rep.Sent) / secs)
	rep.DeliveredPerS = math.Round(float64(r.deliveredInWindow.Load()) / secs)
	if rep.Sent > 0 {
		rep.UndeliveredPct = math.Round(float64(rep.Sent-rep.Delivered)/float64(rep.Sent)*1e4) / 100
	}
	return rep
}

// JSON returns the report as one line of JSON.
func (rep Report) JSON() string {
	b, _ := json.Marshal(rep)
	return string(b)
}

// Text returns the report for people.
func (rep Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "open loop: %d connections, %.0f msg/s offered, %.0fs warm-up, %.0fs measured, drain %.2fs\n",
		rep.Connections, rep.OfferedPerS, rep.WarmupS, rep.DurationS, rep.DrainS)
	fmt.Fprintf(&b, "sent %d (%.0f/s)  delivered/s %.0f  undelivered %.2f%%\n", rep.Sent, rep.SentPerS, rep.DeliveredPerS, rep.UndeliveredPct)
	l := func(name string, x Latency) {
		fmt.Fprintf(&b, "%s p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)\n", name, x.P50, x.P90, x.P99, x.Max, x.N)
	}
	l("send→receive ", rep.Latency)
	l("send→ack     ", rep.AckLatency)
	if rep.ServerCPUCores >= 0 {
		fmt.Fprintf(&b, "server CPU %.2f cores (%.1f µs per delivered message)  ", rep.ServerCPUCores, rep.ServerCPUPerMsgUs)
	} else {
		b.WriteString("server CPU unknown  ")
	}
	if rep.ServerRSSBytes > 0 {
		fmt.Fprintf(&b, "RSS peak %.1f MiB\n", float64(rep.ServerRSSBytes)/(1<<20))
	} else {
		b.WriteString("RSS unknown\n")
	}
	fmt.Fprintf(&b, "generator CPU %.2f cores\n", rep.GeneratorCPUCores)
	l("generator lag", rep.SendLag)
	fmt.Fprintf(&b, "acked %d  refused %d  resent %d  duplicate acks %d  reconnects %d  duplicate deliveries %d\n",
		rep.Acked, rep.Refused, rep.Resent, rep.DuplicateAcks, rep.Reconnects, rep.DupDeliveries)
	if rep.LastRefusal != "" {
		fmt.Fprintf(&b, "last refusal: %s\n", rep.LastRefusal)
	}
	return b.String()
}
