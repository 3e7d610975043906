// Package server wires chatd's parts into one HTTP server: REST API, WebSocket
// gateway, operator API, health, readiness and metrics on one port.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/console"
	"github.com/chatd/chatd/internal/console/web"
	"github.com/chatd/chatd/internal/forwarded"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/restapi"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usage"
	jssdk "github.com/chatd/chatd/sdk/js"
)

// Config is everything a server needs; cmd/chatd fills it from flags.
type Config struct {
	Store         store.Store
	Clock         clock.Clock
	Logger        *slog.Logger
	OperatorToken string
	// OperatorTokenFile is where the operator token is kept (DIR/operator.token),
	// named by the console's sign-in page; "" names it "DIR/operator.token".
	OperatorTokenFile string
	PurgeEvery        time.Duration // retention purge interval; default 10 minutes

	// Manual, when set, is the server's clock (chatd serve --fake-clock): only the
	// operator's clock commands move it, running the lifecycle jobs due on the way.
	// Clock must then be the same clock.
	Manual *clock.Manual
	// Notifier delivers reminders and notices; nil records them only.
	Notifier notify.Sender
	// TrialAutoExtend grants each Free Trial its one extension at expiry.
	TrialAutoExtend bool
	// LifecycleEvery is how often the real-clock scheduler looks for due jobs;
	// default 30 seconds.
	LifecycleEvery time.Duration
	// Sessions bounds the device sessions of this node (zero fields: defaults).
	Sessions gateway.Limits
	// Limits bound the HTTP port's connections and requests; zero fields take
	// their defaults.
	Limits Limits
	// Bus links this node to the others (a *natsbus.Bus, built with
	// BusMetrics.Hooks); nil: bus.NewLocal(), one node. The server closes it.
	Bus bus.Bus
	// BusMetrics are the metrics the Bus's hooks feed (NewBusMetrics); nil:
	// new ones, which stay zero.
	BusMetrics *BusMetrics
	// NodeID names this node among the others (metrics, the claims of push
	// tasks); default "node-" and the process id.
	NodeID string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (chatd serve --trusted-proxies); none:
	// the connection's address is the client's.
	TrustedProxies forwarded.Proxies
	// CallbackPolicy is the operator's rule on apps' callback URLs (chatd serve
	// --callback-allow-hosts); the zero value allows public hosts only.
	CallbackPolicy sender.Policy
	// UsageFlushEvery is how often this node adds its daily usage counts to
	// the store; default usage.DefaultFlushEvery (10 seconds).
	UsageFlushEvery time.Duration
}

// Server is one chatd node: New builds it, Start or Serve runs it, Close ends it.
type Server struct {
	cfg       Config
	Tenants   *tenant.Service
	Auth      *auth.Service // console sign-in and sessions
	IM        *im.Service
	Gateway   *gateway.Gateway
	Writer    *im.Writer
	Bus       bus.Bus
	Commerce  *commerce.Service
	Lifecycle *lifecycle.Scheduler
	Usage     *usage.Recorder // daily usage, flushed by Start's loop and by Close
	Handler   http.Handler
	metrics   *metrics
	ready     atomic.Bool
	startOnce sync.Once
	stopJobs  context.CancelFunc // nil until Start
	// jobsDone, lifecycleDone and watchDone close when the retention purge, the
	// lifecycle loop and the gateway's watch of app status returned; pushesDone
	// when the scan for push tasks to take over did.
	jobsDone      chan struct{}
	lifecycleDone chan struct{}
	watchDone     chan struct{}
	pushesDone    chan struct{}
	callbacks     *callbacks    // callbacks.go
	callbacksDone chan struct{} // closes when the callback dispatcher returned
	usageDone     chan struct{} // closes when the daily usage loop returned (after its last flush)
}

// New builds a server over an open store. It starts nothing: Start (or
// Serve) does.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.Logger == nil {
		return nil, errors.New("server: store, clock and logger are required")
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = 10 * time.Minute
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Bus == nil {
		cfg.Bus = bus.NewLocal()
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "node-" + strconv.Itoa(os.Getpid())
	}
	if cfg.BusMetrics == nil {
		cfg.BusMetrics = NewBusMetrics()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg, cfg)

	s := &Server{cfg: cfg}
	s.Tenants = &tenant.Service{Store: cfg.Store, Clock: cfg.Clock}
	g := &gate.Gate{MAU: cfg.Store, Clock: cfg.Clock}
	// The bus is the seam between im and delivery: im publishes to it and asks
	// it who is online; the gateway attaches to it as this node's delivery end.
	s.Bus = cfg.Bus
	s.Writer = im.NewWriter(cfg.Store, s.Bus, im.DefaultMaxBatch, func(n int, took time.Duration) {
		m.batchSize.Observe(float64(n))
		m.commitSeconds.Observe(took.Seconds())
	})
	s.IM = im.New(cfg.Store, cfg.Clock, g, s.Writer, s.Bus)
	s.IM.SetNode(cfg.NodeID)
	s.Usage = usage.New(cfg.Store, cfg.Clock, cfg.Logger)
	s.IM.SetUsage(s.Usage)
	s.callbacks = newCallbacks(s, reg)
	s.IM.UseCallbacks(s.callbacks.hooks)
	s.Gateway = gateway.New(gateway.Config{Tenants: s.Tenants, IM: s.IM, Bus: s.Bus, Logger: cfg.Logger,
		Limits: cfg.Sessions, Metrics: gateway.Metrics{
			Connections:     func(d int) { m.connections.Add(float64(d)) },
			Frames:          func(op string) { m.frames.WithLabelValues(op).Inc() },
			QueuedBytes:     func(d int) { m.queuedBytes.Add(float64(d)) },
			LiveRoomDropped: m.liveDropped.Inc,
		}})
	s.Commerce = &commerce.Service{Store: cfg.Store, Clock: cfg.Clock, Log: cfg.Logger}
	s.Tenants.OnAppChanged, s.Commerce.OnAppChanged = s.appChanged, s.appChanged
	s.Lifecycle = lifecycle.New(lifecycle.Config{Store: cfg.Store, Clock: cfg.Clock, Manual: cfg.Manual,
		Sender: cfg.Notifier, Log: cfg.Logger, TrialAutoExtend: cfg.TrialAutoExtend, OnAppChanged: s.appChanged,
		Metrics: lifecycle.Metrics{
			Job:    func(kind string) { m.lifecycleJobs.WithLabelValues(kind).Inc() },
			Notice: func(status string) { m.notices.WithLabelValues(status).Inc() },
		}})

	mux := http.NewServeMux()
	mux.Handle("/v4/", restapi.New(restapi.Config{Tenants: s.Tenants, IM: s.IM, Clock: cfg.Clock, Registerer: reg, Logger: cfg.Logger,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, Daily: s.Usage}))
	mux.Handle("/v1/ws", clearDeadlines(s.Gateway))
	mux.Handle("/operator/v1/", operatorUnbounded(cfg.OperatorToken, operator.New(operator.Config{Tenants: s.Tenants, Gate: g, Clock: cfg.Clock, Token: cfg.OperatorToken, Logger: cfg.Logger,
		Commerce: s.Commerce, Scheduler: s.Lifecycle, IM: s.IM, Pushes: s.IM, Settings: s.IM,
		Callbacks: s.callbacks.configs, CallbackLog: cfg.Store})))
	// Console sessions and sign-in limits are about people's real time: a fake
	// clock (the business calendar the operator moves) must not end them.
	authClock := cfg.Clock
	if cfg.Manual != nil {
		authClock = clock.Real{}
	}
	s.Auth = auth.New(auth.Config{Store: cfg.Store, Tenants: s.Tenants, Clock: authClock, OperatorToken: cfg.OperatorToken})
	mux.Handle(console.Prefix+"/", console.New(console.Config{Auth: s.Auth, Tenants: s.Tenants, Gate: g, Accounts: cfg.Store, Clock: cfg.Clock, Logger: cfg.Logger,
		Commerce: s.Commerce, Callbacks: s.callbacks.configs, Daily: s.Usage}))
	pages := web.New(web.Config{Auth: s.Auth, Tenants: s.Tenants, Gate: g, Commerce: s.Commerce, Callbacks: s.callbacks.configs,
		OperatorTokenFile: cfg.OperatorTokenFile, Clock: cfg.Clock, Logger: cfg.Logger, Daily: s.Usage, Accounts: s.IM, Scheduler: s.Lifecycle})
	mux.Handle("GET /{$}", pages)     // the console's pages (internal/console/web)
	mux.Handle(web.Prefix+"/", pages) // (the JSON API keeps /console/v1/)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET "+jssdk.Path, jssdk.Handler()) // the JavaScript client SDK (sdk/js)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	// pprof is for the operator only.
	debug := http.NewServeMux()
	debug.HandleFunc("/debug/pprof/", pprof.Index)
	debug.HandleFunc("/debug/pprof/profile", pprof.Profile)
	debug.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", requireToken(cfg.OperatorToken, debug))
	s.Handler = cfg.TrustedProxies.Handler(limitBody(cfg.Limits.MaxBodyBytes, mux))
	s.metrics = m

	return s, nil
}

// appChanged is called after an app's status, edition or add-ons changed
// here (tenant, commerce, lifecycle): its sessions on this node end at once
// when it no longer serves, and the other nodes are told (bus.InvApp).
func (s *Server) appChanged(app int64) {
	s.Gateway.AppChanged(context.Background(), app)
	s.Bus.Invalidate(bus.Invalidation{Kind: bus.InvApp, App: app})
}

// Start starts the background work: the retention purge, the lifecycle
// scheduler, the gateway's watch of app status and the callback dispatcher; /readyz answers ready from
// then on. Serve calls it; tests that need the jobs without Serve call it
// themselves. Calls after the first do nothing; Close stops the work.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopJobs, s.jobsDone, s.lifecycleDone, s.watchDone = cancel, make(chan struct{}), make(chan struct{}), make(chan struct{})
		go s.runJobs(ctx)
		s.usageDone = make(chan struct{})
		go func() {
			defer close(s.usageDone)
			s.Usage.Run(ctx, s.cfg.UsageFlushEvery)
		}()
		go func() {
			defer close(s.lifecycleDone)
			s.Lifecycle.Loop(ctx, s.cfg.LifecycleEvery)
		}()
		go func() {
			defer close(s.watchDone)
			s.Gateway.WatchApps(ctx)
		}()
		if err := s.IM.ResumePushes(ctx); err != nil { // im_push tasks a stop interrupted
			s.cfg.Logger.Error("resuming push tasks", "err", err)
		}
		s.callbacksDone = make(chan struct{})
		go s.callbacks.run(ctx, s.callbacksDone)
		s.pushesDone = make(chan struct{})
		go func() { // and those of nodes that died
			defer close(s.pushesDone)
			s.IM.WatchPushes(ctx, 0)
		}()
		s.ready.Store(true)
	})
}

// runJobs runs the periodic retention purge.
func (s *Server) runJobs(ctx context.Context) {
	defer close(s.jobsDone)
	t := time.NewTicker(s.cfg.PurgeEvery)
	defer t.Stop()
	for {
		if n, err := s.purge(ctx); err != nil {
			s.cfg.Logger.Error("retention purge failed", "err", err)
		} else if n > 0 {
			s.cfg.Logger.Info("retention purge", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge runs the retention purge unless another node runs it now (a purge
// lock in the store: the work is safe twice at once, only wasted).
func (s *Server) purge(ctx context.Context) (int64, error) {
	release, ok, err := s.cfg.Store.TryLock(ctx, purgeLock)
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	apps, err := s.cfg.Store.AllApps(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.IM.PurgeExpired(ctx, apps)
	if err != nil {
		return n, err
	}
	d, err := s.Usage.Purge(ctx) // daily figures older than usage.RetentionDays
	return n + d, err
}

// Serve serves on ln, within Config.Limits, until ctx ends, then shuts down
// gracefully: it stops accepting, ends device sessions, lets requests in flight
// finish, commits queued writes and closes the store.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	s.Start()
	l := s.cfg.Limits
	ln = limitConns(ln, l.MaxConns,
		func(d int) { s.metrics.httpConns.Add(float64(d)) },
		func() { s.metrics.httpRefused.Inc() })
	hs := &http.Server{Handler: s.Handler, ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout,
		IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s.Gateway.CloseAll()
	err := hs.Shutdown(shutdownCtx)
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close stops the background work if started, flushes the writer and closes
// the store. A server is closed once, and not started after.
func (s *Server) Close() {
	s.ready.Store(false)
	if s.stopJobs != nil {
		s.stopJobs()
		<-s.jobsDone
		<-s.lifecycleDone
		<-s.watchDone
		<-s.pushesDone
		<-s.callbacksDone
		<-s.usageDone
	}
	s.IM.StopPushes() // before the writer: a task finishes the page it is writing
	s.Writer.Close()  // publishes to the bus while it flushes: the bus closes after it
	// The writes the writer just committed were counted: flush them too.
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := s.Usage.Flush(fctx); err != nil {
		s.cfg.Logger.Error("daily usage: flush at close failed", "err", err)
	}
	cancel()
	if err := s.Bus.Close(); err != nil {
		s.cfg.Logger.Error("closing bus", "err", err)
	}
	if err := s.cfg.Store.Close(); err != nil {
		s.cfg.Logger.Error("closing store", "err", err)
	}
}

// requireToken lets through only requests bearing the operator token.
func requireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !operator.Authorized(r, token) {
			http.Error(w, "operator token required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type metrics struct {
	httpConns     prometheus.Gauge
	httpRefused   prometheus.Counter
	connections   prometheus.Gauge
	queuedBytes   prometheus.Gauge
	frames        *prometheus.CounterVec
	batchSize     prometheus.Histogram
	commitSeconds prometheus.Histogram
	lifecycleJobs *prometheus.CounterVec
	notices       *prometheus.CounterVec
	liveDropped   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, cfg Config) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chatd_ws_connections", Help: "Open device connections on this node."}),
		queuedBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chatd_ws_queued_bytes", Help: "Bytes queued for devices on this node and not yet written."}),
		frames:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chatd_ws_frames_total", Help: "Frames received from devices, by op."}, []string{"op"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chatd_write_batch_size", Help: "Operations per group commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chatd_write_commit_seconds", Help: "Duration of one group commit.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
	}
	m.lifecycleJobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chatd_lifecycle_jobs_total",
		Help: "Lifecycle jobs run by this node (bills, reminders, suspensions, repossessions, ...), by kind."}, []string{"kind"})
	m.notices = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chatd_notification_deliveries_total",
		Help: "Delivery attempts of reminders and notices by this node, by outcome."}, []string{"status"})
	m.httpConns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "chatd_http_connections",
		Help: "Open connections on the HTTP port (device sessions included)."})
	m.httpRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "chatd_http_connections_refused_total",
		Help: "Connections closed at once because the connection limit was reached."})
	m.liveDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "chatd_live_room_frames_dropped_total",
		Help: "Live-room frames dropped for devices that did not keep up (live rooms drop instead of queueing)."})
	registerClusterMetrics(reg, cfg) // node info and the bus's hooks (cluster.go)
	reg.MustRegister(m.liveDropped, m.httpConns, m.httpRefused, m.connections, m.queuedBytes, m.frames, m.batchSize, m.commitSeconds, m.lifecycleJobs, m.notices)
	return m
}
