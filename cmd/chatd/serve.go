package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/chatd/chatd/internal/callback/sender"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/forwarded"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/server"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
	"github.com/chatd/chatd/internal/store/postgres"
)

// serveConfig is what `chatd serve` is told by flags and CHATD_* variables.
type serveConfig struct {
	data, addr, storeKind, postgresURL, tlsCert, tlsKey, logLevel string

	natsURL, nodeID string // the cluster: NATS between nodes, this node's name

	fakeClock       string // RFC3339 start of a manual clock; "" = the real clock
	trialAutoExtend bool

	sessionsPerUser, sessionsPerApp int   // device sessions on this node
	nodeQueueBytes                  int64 // bytes queued for all devices of this node

	notifyFile, smtpAddr, smtpFrom, smtpUser, webhookURL, webhookSecret string

	limits server.Limits // HTTP timeouts, body and connection bounds

	callbackAllowHosts string        // --callback-allow-hosts
	callbackPolicy     sender.Policy // parsed from it

	trustedProxies string            // --trusted-proxies
	proxies        forwarded.Proxies // parsed from it
}

// serveFlags registers serve's flags on a new set, with defaults from CHATD_*
// variables, filling c.
func serveFlags(c *serveConfig) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // runServe reports errors and prints the help
	fs.StringVar(&c.data, "data", env("CHATD_DATA", "./chatd-data"), "data directory (SQLite database, operator token)")
	fs.StringVar(&c.addr, "addr", env("CHATD_ADDR", "127.0.0.1:8080"), "listen address for REST, WebSocket, operator API and metrics")
	fs.StringVar(&c.storeKind, "store", env("CHATD_STORE", "sqlite"), "storage: sqlite (embedded: SQLite and a Pebble message engine) or postgres")
	// Secrets are flag values that -h must not print as defaults taken from the environment.
	c.postgresURL, c.webhookURL, c.webhookSecret = env("CHATD_POSTGRES_URL", ""), env("CHATD_NOTIFY_WEBHOOK", ""), env("CHATD_NOTIFY_WEBHOOK_SECRET", "")
	fs.Var(secretFlag{&c.postgresURL}, "postgres-url", "PostgreSQL `URL` for --store postgres")
	c.natsURL = env("CHATD_NATS_URL", "") // may hold a NATS user and password
	fs.Var(secretFlag{&c.natsURL}, "nats-url", "NATS server `URL`s (comma-separated) linking the nodes of a cluster; needs --store postgres (without it: one node)")
	fs.StringVar(&c.nodeID, "node-id", env("CHATD_NODE_ID", ""), "this node's `ID` in the cluster, unique, 1 to 64 of A-Z a-z 0-9 _ - (default: host name and listen port)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("CHATD_TLS_CERT", ""), "serve HTTPS/WSS with this certificate (PEM)")
	fs.StringVar(&c.tlsKey, "tls-key", env("CHATD_TLS_KEY", ""), "private key for --tls-cert (PEM)")
	fs.StringVar(&c.logLevel, "log-level", env("CHATD_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&c.fakeClock, "fake-clock", env("CHATD_FAKE_CLOCK", ""), "start on a manual clock at this RFC3339 `TIME`; only chatd clock set|advance move it (tests and forecasts)")
	fs.BoolVar(&c.trialAutoExtend, "trial-auto-extend", envBool("CHATD_TRIAL_AUTO_EXTEND"), "extend each Free Trial once, by one month, automatically at expiry")
	fs.StringVar(&c.notifyFile, "notify-file", env("CHATD_NOTIFY_FILE", ""), "append every reminder and notice as a JSON line to this file (default DATA/notifications.log)")
	fs.StringVar(&c.smtpAddr, "smtp-addr", env("CHATD_SMTP_ADDR", ""), "send email notices through this SMTP relay (host:port); password in CHATD_SMTP_PASSWORD")
	fs.StringVar(&c.smtpFrom, "smtp-from", env("CHATD_SMTP_FROM", ""), "From address of email notices (with --smtp-addr)")
	fs.StringVar(&c.smtpUser, "smtp-user", env("CHATD_SMTP_USER", ""), "SMTP AUTH PLAIN user name (with --smtp-addr)")
	fs.Var(secretFlag{&c.webhookURL}, "notify-webhook", "POST every notice (email and SMS) as JSON to this `URL`, e.g. an SMS gateway")
	fs.Var(secretFlag{&c.webhookSecret}, "notify-webhook-secret", "sign webhook bodies with HMAC-SHA256 (header X-Chatd-Signature) with this `key`")
	fs.StringVar(&c.callbackAllowHosts, "callback-allow-hosts", env("CHATD_CALLBACK_ALLOW_HOSTS", ""), "the only `hosts` apps' callback URLs may name: comma-separated host names, *.domain, IP addresses, CIDRs\n"+
		"(private ones allowed when listed); empty: any public host, private and loopback addresses refused")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", env("CHATD_TRUSTED_PROXIES", ""), "reverse proxies in front of chatd (comma-separated `addresses` and CIDRs) whose X-Forwarded-For and\n"+
		"X-Forwarded-Proto are believed: the client's address for sign-in limits and callbacks, Secure cookies under HTTPS")
	limitFlags(fs, &c.limits)
	fs.IntVar(&c.sessionsPerUser, "max-sessions-per-user", gateway.DefaultSessionsPerUser, "device sessions one user may hold on this node; more logins are refused (60018)")
	fs.Int64Var(&c.nodeQueueBytes, "max-queued-bytes", gateway.DefaultNodeQueueBytes, "bytes queued for all devices of this node together; a device whose frame would pass it is disconnected (1013) and resyncs")
	fs.IntVar(&c.sessionsPerApp, "max-sessions-per-app", gateway.DefaultSessionsPerApp, "device sessions one app may hold on this node; more logins are refused (60011)")
	return fs, setFromEnv(fs, limitEnv)
}

// serveUsage prints serve's help, flags with their defaults, to w.
func serveUsage(w io.Writer) {
	var c serveConfig
	fs, _ := serveFlags(&c)
	fs.SetOutput(w)
	fmt.Fprintln(w, "Usage: chatd serve [flags]\n\nEach flag also comes from the CHATD_* environment variable of its name.\n\nFlags:")
	fs.PrintDefaults()
}

func parseServeFlags(args []string) (serveConfig, error) {
	var c serveConfig
	fs, err := serveFlags(&c)
	if err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.storeKind != "sqlite" && c.storeKind != "postgres" {
		return c, fmt.Errorf("--store must be sqlite or postgres, not %q", c.storeKind)
	}
	if c.storeKind == "postgres" && c.postgresURL == "" {
		return c, errors.New("--store postgres needs --postgres-url")
	}
	if c.natsURL != "" && c.storeKind != "postgres" {
		return c, errors.New("--nats-url needs --store postgres: the embedded store belongs to one node")
	}
	if c.nodeID == "" {
		c.nodeID = defaultNodeID(c.addr)
	} else if !validNodeID(c.nodeID) {
		return c, fmt.Errorf("--node-id must be 1 to 64 letters, digits, _ or -, not %.80q", c.nodeID)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if c.fakeClock != "" {
		if _, err := time.Parse(time.RFC3339, c.fakeClock); err != nil {
			return c, fmt.Errorf("--fake-clock must be an RFC3339 time such as 2027-01-31T10:00:00Z, not %q", c.fakeClock)
		}
	}
	if l := c.limits; l.ReadTimeout < 0 || l.WriteTimeout < 0 || l.IdleTimeout < 0 || l.MaxBodyBytes < 0 || l.MaxConns < 0 {
		return c, errors.New("--http-*-timeout, --max-body-bytes and --max-conns must not be negative")
	}
	if c.sessionsPerUser < 1 || c.sessionsPerApp < 1 || c.nodeQueueBytes < 1 {
		return c, errors.New("--max-sessions-per-user, --max-sessions-per-app and --max-queued-bytes must be at least 1")
	}
	if (c.smtpAddr == "") != (c.smtpFrom == "") {
		return c, errors.New("--smtp-addr and --smtp-from go together")
	}
	if c.callbackPolicy, err = sender.ParsePolicy(c.callbackAllowHosts); err != nil {
		return c, fmt.Errorf("--callback-allow-hosts: %v", err)
	}
	if c.proxies, err = forwarded.Parse(c.trustedProxies); err != nil {
		return c, fmt.Errorf("--trusted-proxies: %v", err)
	}
	return c, nil
}

// validNodeID reports whether id is 1 to maxNodeID bytes of [A-Za-z0-9_-].
func validNodeID(id string) bool {
	if id == "" || len(id) > maxNodeID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// maxNodeID bounds a node id, in bytes (natsbus.Config.NodeID).
const maxNodeID = 64

// defaultNodeID names a node by its host name and listen port ("web1-8080"):
// other bytes become "_", and the host name is cut so that the port stays.
func defaultNodeID(addr string) string {
	host, _ := os.Hostname()
	if host == "" {
		host = "chatd"
	}
	port := "0"
	if _, p, err := net.SplitHostPort(addr); err == nil && p != "" {
		port = p
	}
	clean := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				b[i] = '_'
			}
		}
		return string(b)
	}
	port = clean(port)
	if len(port) > maxNodeID/2 {
		port = port[:maxNodeID/2]
	}
	host = clean(host)
	if max := maxNodeID - 1 - len(port); len(host) > max {
		host = host[:max]
	}
	return host + "-" + port
}

// limitFlags registers the flags of the HTTP port's limits (server.Limits).
func limitFlags(fs *flag.FlagSet, l *server.Limits) {
	fs.DurationVar(&l.ReadTimeout, "http-read-timeout", server.DefaultReadTimeout, "time a client has to send a whole request, body included")
	fs.DurationVar(&l.WriteTimeout, "http-write-timeout", server.DefaultWriteTimeout, "time to answer a request, from the end of its headers")
	fs.DurationVar(&l.IdleTimeout, "http-idle-timeout", server.DefaultIdleTimeout, "close keep-alive connections idle this long")
	fs.Int64Var(&l.MaxBodyBytes, "max-body-bytes", server.DefaultMaxBodyBytes, fmt.Sprintf("largest request body in bytes (REST; the operator API takes %d KiB)", operator.MaxBodyBytes>>10))
	fs.IntVar(&l.MaxConns, "max-conns", 0, fmt.Sprintf("most open connections, device sessions included; more are closed at once (0: the descriptor limit less %d)", server.ReservedFDs))
}

// limitEnv names the environment variable of each limit flag.
var limitEnv = map[string]string{
	"max-sessions-per-user": "CHATD_MAX_SESSIONS_PER_USER",
	"max-sessions-per-app":  "CHATD_MAX_SESSIONS_PER_APP",
	"max-queued-bytes":      "CHATD_MAX_QUEUED_BYTES",
	"http-read-timeout":     "CHATD_HTTP_READ_TIMEOUT",
	"http-write-timeout":    "CHATD_HTTP_WRITE_TIMEOUT",
	"http-idle-timeout":     "CHATD_HTTP_IDLE_TIMEOUT",
	"max-body-bytes":        "CHATD_MAX_BODY_BYTES",
	"max-conns":             "CHATD_MAX_CONNS",
}

// setFromEnv sets each flag of vars from its environment variable, when set and
// not empty, so that the command line overrides the environment; a bad value is
// an error.
func setFromEnv(fs *flag.FlagSet, vars map[string]string) error {
	for name, env := range vars {
		if v := os.Getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s=%q: %v", env, v, err)
			}
		}
	}
	return nil
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

// notifier builds the senders of reminders and notices: the file always (the
// record an operator can read without a mail server), SMTP for email and a
// webhook for both channels when configured.
func notifier(c serveConfig, logger *slog.Logger, clk clock.Clock) (notify.Sender, error) {
	path := c.notifyFile
	if path == "" {
		path = filepath.Join(c.data, "notifications.log")
	}
	file := notify.NewFileSender(path, logger)
	file.Clock = clk
	r := &notify.Router{Email: []notify.Sender{file}, SMS: []notify.Sender{file}}
	if c.smtpAddr != "" {
		smtp, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: c.smtpAddr, From: c.smtpFrom, Username: c.smtpUser,
			Password: os.Getenv("CHATD_SMTP_PASSWORD"), Clock: clk})
		if err != nil {
			return nil, err
		}
		r.Email = append(r.Email, smtp)
	}
	if c.webhookURL != "" {
		wh, err := notify.NewWebhookSender(notify.WebhookConfig{URL: c.webhookURL, Secret: c.webhookSecret})
		if err != nil {
			return nil, err
		}
		r.Email = append(r.Email, wh)
		r.SMS = append(r.SMS, wh)
	}
	return r, nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// runServe runs `chatd serve` and returns its exit status: help on stdout (0),
// a mistake in the flags on stderr (2), a failure in the log on stderr (1).
func runServe(stdout, stderr io.Writer, args []string) int {
	c, err := parseServeFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			serveUsage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "chatd serve:", err)
		fmt.Fprintln(stderr, "Run 'chatd serve -h' for its flags.")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		fmt.Fprintln(stderr, "chatd serve: bad --log-level:", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger) // packages that log without a logger of their own (slog.Warn) write JSON too, at --log-level
	if err := serve(c, logger); err != nil {
		logger.Error("chatd stopped", "err", err)
		return 1
	}
	return 0
}

func serve(c serveConfig, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return err
	}
	token, tokenPath, created, err := operator.LoadOrCreateToken(c.data)
	if err != nil {
		return err
	}
	if created {
		logger.Info("wrote a new operator token", "path", tokenPath)
	} else {
		logger.Info("using operator token", "path", tokenPath)
	}

	st, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}

	cfg := server.Config{Store: st, Clock: clock.Real{}, Logger: logger, OperatorToken: token, OperatorTokenFile: filepath.Join(c.data, "operator.token"), TrialAutoExtend: c.trialAutoExtend,
		Limits: c.limits, Sessions: gateway.Limits{SessionsPerUser: c.sessionsPerUser, SessionsPerApp: c.sessionsPerApp, NodeQueueBytes: c.nodeQueueBytes},
		NodeID: c.nodeID, BusMetrics: server.NewBusMetrics(), CallbackPolicy: c.callbackPolicy, TrustedProxies: c.proxies}
	if c.fakeClock != "" {
		start, _ := time.Parse(time.RFC3339, c.fakeClock)
		cfg.Manual = clock.NewManual(start)
		cfg.Clock = cfg.Manual
		logger.Warn("running on a fake clock: only `chatd clock set|advance` move time", "now", cfg.Manual.Now().Format(time.RFC3339))
	}
	if cfg.Notifier, err = notifier(c, logger, cfg.Clock); err != nil {
		st.Close()
		return err
	}
	nb, err := openBus(c, st, logger, cfg.BusMetrics)
	if err != nil {
		st.Close()
		return err
	}
	if nb != nil {
		cfg.Bus = nb // the server closes it, after the writer and before the store
	}
	srv, err := server.New(cfg)
	if err != nil {
		if nb != nil {
			nb.Close()
		}
		st.Close()
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		srv.Close()
		return err
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	logger.Info("chatd listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String())
	err = srv.Serve(ctx, ln, c.tlsCert, c.tlsKey)
	logger.Info("chatd stopped gracefully")
	return err
}

// openStore opens the configured store. Logs and errors name a PostgreSQL
// database by postgres.Describe, never by its connection string.
func openStore(ctx context.Context, c serveConfig, logger *slog.Logger) (store.Store, error) {
	switch c.storeKind {
	case "postgres":
		logger.Info("storage", "kind", "postgres", "db", postgres.Describe(c.postgresURL))
		st, err := postgres.Open(ctx, c.postgresURL)
		if err != nil {
			return nil, fmt.Errorf("opening the postgres store (%s): %w", postgres.Describe(c.postgresURL), err)
		}
		return st, nil
	default:
		path, msgs := filepath.Join(c.data, "chatd.db"), filepath.Join(c.data, "messages")
		logger.Info("storage", "kind", "sqlite", "path", path, "messages", msgs)
		st, err := embedded.Open(path, msgs)
		if err != nil {
			return nil, fmt.Errorf("opening the embedded store: %w", err)
		}
		return st, nil
	}
}
