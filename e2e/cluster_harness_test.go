package e2e

// The multi-node harness: a nats-server process of the test's own, a PostgreSQL
// database (a fresh schema of CHATD_TEST_POSTGRES_URL's server, or a private
// PostgreSQL instance for the test that restarts it), several chatd nodes on
// loopback sharing both, devices that follow their user's log across
// reconnects, and a steady send load whose acknowledged messages are checked
// against the receivers' logs afterwards (docs/operations.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/testdb"
)

// natsServerBin is the nats-server the cluster tests run (core NATS only).
const natsServerBin = "/usr/sbin/nats-server"

// natsServer is a nats-server process of the test's own, on a port of its own.
type natsServer struct {
	t    *testing.T
	addr string // 127.0.0.1:port, kept across restarts
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startNATSServer(t *testing.T) *natsServer {
	t.Helper()
	if _, err := os.Stat(natsServerBin); err != nil {
		t.Skipf("no %s: the cluster tests run a NATS server of their own", natsServerBin)
	}
	s := &natsServer{t: t, addr: freeAddr(t)}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *natsServer) url() string { return "nats://" + s.addr }

// start runs nats-server on s.addr and waits until it accepts connections.
func (s *natsServer) start() {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.addr)
	s.logs = &bytes.Buffer{}
	s.cmd = exec.Command(natsServerBin, "-a", host, "-p", port)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if err := waitTCP(s.addr, 10*time.Second); err != nil {
		s.kill()
		s.t.Fatalf("nats-server on %s: %v\n%s", s.addr, err, s.logs)
	}
}

// kill ends nats-server with SIGKILL.
func (s *natsServer) kill() {
	if s.cmd != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// waitTCP polls addr until it accepts a TCP connection.
func waitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sharedPostgres returns a URL of a fresh schema on CHATD_TEST_POSTGRES_URL's
// server (dropped at the end), or skips the test when it is not set.
func sharedPostgres(t *testing.T) string {
	t.Helper()
	if os.Getenv("CHATD_TEST_POSTGRES_URL") == "" {
		t.Skip("CHATD_TEST_POSTGRES_URL is not set: the cluster tests need PostgreSQL")
	}
	return testdb.PostgresURL(t)
}

// pgServer is a private PostgreSQL instance (initdb + pg_ctl, run as the
// postgres OS user when the test runs as root), for a test that stops it.
type pgServer struct {
	t        *testing.T
	bin, dir string // bin: the directory of initdb and pg_ctl; dir: data and socket
	port     string
	asUser   []string // runuser -u postgres -- (as root), else nothing
}

func startPrivatePostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/initdb: this test runs a PostgreSQL instance of its own")
	}
	p := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	p.port = port
	dir, err := os.MkdirTemp("", "chatd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres OS user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	p.start()
	t.Cleanup(func() { p.pgctl("stop", "-m", "immediate") })
	return p
}

func (p *pgServer) data() string { return filepath.Join(p.dir, "data") }

func (p *pgServer) url() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// run runs one of PostgreSQL's programs as the postgres user.
func (p *pgServer) run(prog string, args ...string) error {
	full := append(append(append([]string(nil), p.asUser...), filepath.Join(p.bin, prog)), args...)
	out, err := exec.Command(full[0], full[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", prog, err, out)
	}
	return nil
}

func (p *pgServer) pgctl(args ...string) error {
	return p.run("pg_ctl", append([]string{"-D", p.data(), "-w", "-t", "30"}, args...)...)
}

// start starts the instance on p.port (loopback only, its socket in p.dir)
// and waits until it accepts connections.
func (p *pgServer) start() {
	p.t.Helper()
	opts := "-p " + p.port + " -c listen_addresses=127.0.0.1 -k " + p.dir
	if err := p.pgctl("start", "-l", filepath.Join(p.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("%v\n%s", err, log)
	}
}

// stop shuts the instance down (-m fast: sessions are ended, the data flushed).
func (p *pgServer) stop() {
	p.t.Helper()
	if err := p.pgctl("stop", "-m", "fast"); err != nil {
		p.t.Fatal(err)
	}
}

// tryCLI is cli for any goroutine: it returns failures as errors.
func (n *node) tryCLI(args ...string) (map[string]any, error) {
	full := append([]string{"--server", n.url(""), "--data", n.data, "--json"}, args...)
	out, err := exec.Command(chatdBin, full...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("chatd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("chatd %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v, nil
}

// cluster is several chatd nodes sharing one PostgreSQL database and one NATS.
type cluster struct {
	t     *testing.T
	nodes []*node
}

// startCluster starts count nodes (node-1, node-2, ...) on pgURL and natsURL,
// each with extra flags. The first starts alone (it creates the schema and the
// operator token, which the others are given: one token for the cluster).
func startCluster(t *testing.T, count int, pgURL, natsURL string, extra ...string) *cluster {
	t.Helper()
	cl := &cluster{t: t, nodes: make([]*node, count)}
	args := func(i int) []string {
		return append([]string{"--store", "postgres", "--postgres-url", pgURL, "--nats-url", natsURL,
			"--node-id", fmt.Sprintf("node-%d", i+1)}, extra...)
	}
	first := t.TempDir()
	cl.nodes[0] = startNode(t, first, freeAddr(t), args(0)...)
	token, err := os.ReadFile(filepath.Join(first, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, count)
	for i := 1; i < count; i++ {
		data := t.TempDir()
		if err := os.WriteFile(filepath.Join(data, "operator.token"), token, 0o600); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		go func() {
			n, err := launch(t, data, addr, args(i)...)
			cl.nodes[i] = n
			errc <- err
		}()
	}
	for i := 1; i < count; i++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	return cl
}

// metric sums a counter or gauge (name with its labels, as /metrics prints
// it) over the live nodes; a node that does not answer is skipped.
func (cl *cluster) metric(name string, nodes ...*node) float64 {
	if len(nodes) == 0 {
		nodes = cl.nodes
	}
	var sum float64
	for _, n := range nodes {
		resp, err := n.http.Get(n.url("/metrics"))
		if err != nil {
			continue
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(b.String(), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				sum += f
			}
		}
	}
	return sum
}

// eventually polls cond every 20 ms until it holds or within passes, and
// returns how long it took.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// dev is a device that follows its user's log across reconnects: every entry
// is drained into log in the order received, and when its connection ends
// (its node died) it logs in on the next node that answers, resuming after
// the last seq it has. A user's log must never skip or repeat a seq.
type dev struct {
	t     *testing.T
	cl    *cluster
	a     app
	user  string
	start int // the node it first logs in on

	mu         sync.Mutex
	c          *client.Client
	node       int            // index of the node of c
	log        []client.Entry // in the order received
	keys       map[string]int // MsgKey → times received
	reconnects int
	changed    chan struct{} // closed and replaced when c changes

	stopped atomic.Bool
	wg      sync.WaitGroup
}

// device logs user in on node i (Web) and keeps it connected until the test ends.
func (cl *cluster) device(a app, user string, i int) *dev {
	cl.t.Helper()
	d := &dev{t: cl.t, cl: cl, a: a, user: user, start: i, node: i, keys: map[string]int{}, changed: make(chan struct{})}
	c, err := cl.nodes[i].login(a, user, "Web", 0)
	if err != nil {
		cl.t.Fatalf("login %s on node %d: %v", user, i+1, err)
	}
	d.c = c
	d.wg.Add(1)
	go d.supervise(c)
	cl.t.Cleanup(d.stop)
	return d
}

// supervise drains c into the log; when c ends it dials again, on the nodes
// after d's current one first.
func (d *dev) supervise(c *client.Client) {
	defer d.wg.Done()
	for {
		for e := range c.Entries() {
			d.mu.Lock()
			d.log = append(d.log, e)
			if e.Kind == "msg" {
				d.keys[e.MsgKey]++
			}
			d.mu.Unlock()
		}
		if d.stopped.Load() {
			return
		}
		after := c.Applied()
		for attempt := 0; ; attempt++ {
			if d.stopped.Load() {
				return
			}
			d.mu.Lock()
			i := (d.node + 1 + attempt) % len(d.cl.nodes)
			d.mu.Unlock()
			nc, err := d.cl.nodes[i].login(d.a, d.user, "Web", after)
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			d.mu.Lock()
			d.c, d.node = nc, i
			d.reconnects++
			close(d.changed)
			d.changed = make(chan struct{})
			d.mu.Unlock()
			if d.stopped.Load() { // stop may have closed the connection before this one
				nc.Close()
			}
			c = nc
			break
		}
	}
}

// client returns the current connection and a channel closed when it is replaced.
func (d *dev) client() (*client.Client, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c, d.changed
}

func (d *dev) stop() {
	if d.stopped.Swap(true) {
		return
	}
	d.mu.Lock()
	c := d.c
	d.mu.Unlock()
	c.Close()
	d.wg.Wait()
}

// where returns the index of the device's node and how many times it logged in again.
func (d *dev) where() (node, reconnects int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.node, d.reconnects
}

func (d *dev) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keys[key] > 0
}

// checkLog fails the test unless the entries received form one run of
// consecutive seqs (none skipped, none twice) across every reconnect.
func (d *dev) checkLog() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	var prev int64
	for _, e := range d.log {
		if e.Seq == 0 {
			continue // online-only
		}
		if prev != 0 && e.Seq != prev+1 {
			d.t.Errorf("%s: received seq %d after %d (%d reconnects)", d.user, e.Seq, prev, d.reconnects)
			return
		}
		prev = e.Seq
	}
}

// load is a steady one-to-one send load: sender k sends to receiver k every
// period, each message retried with its client_msg_id until acknowledged.
type load struct {
	t          *testing.T
	senders    []*dev
	receivers  []*dev
	period     time.Duration
	stopc      chan struct{}
	wg         sync.WaitGroup
	acked      atomic.Int64
	mu         sync.Mutex
	ackedTo    []map[string]bool // per receiver: acknowledged MsgKeys
	failures   []string          // every failed send attempt's error text
	failedAt   []time.Time
	lastAckAt  atomic.Int64 // unix nanos of the newest acknowledgement
	duplicates atomic.Int64 // retries acknowledged as duplicates (stored before, ack lost)
}

func startLoad(t *testing.T, senders, receivers []*dev, period time.Duration) *load {
	l := &load{t: t, senders: senders, receivers: receivers, period: period, stopc: make(chan struct{}),
		ackedTo: make([]map[string]bool, len(receivers))}
	for k := range senders {
		l.ackedTo[k] = map[string]bool{}
		l.wg.Add(1)
		go l.run(k)
	}
	return l
}

func (l *load) run(k int) {
	defer l.wg.Done()
	s, to := l.senders[k], l.receivers[k].user
	tick := time.NewTicker(l.period)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-l.stopc:
			return
		case <-tick.C:
		}
		id := fmt.Sprintf("%s-%d", s.user, n)
		for {
			c, changed := s.client()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ack, err := c.SendText(ctx, to, id, id)
			cancel()
			if err == nil {
				l.mu.Lock()
				l.ackedTo[k][ack.MsgKey] = true
				l.mu.Unlock()
				l.acked.Add(1)
				l.lastAckAt.Store(time.Now().UnixNano())
				if ack.Duplicate {
					l.duplicates.Add(1)
				}
				break
			}
			l.mu.Lock()
			l.failures = append(l.failures, err.Error())
			l.failedAt = append(l.failedAt, time.Now())
			l.mu.Unlock()
			select {
			case <-c.Done(): // the connection is gone: wait for the device to dial again
				select {
				case <-changed:
				case <-l.stopc:
					return
				}
			case <-l.stopc:
				return
			case <-time.After(100 * time.Millisecond): // refused: the same message again
			}
		}
	}
}

// waitAcked waits until n more messages than now are acknowledged.
func (l *load) waitAcked(n int64, within time.Duration) time.Duration {
	l.t.Helper()
	target := l.acked.Load() + n
	return eventually(l.t, within, fmt.Sprintf("%d more acknowledged sends", n), func() bool { return l.acked.Load() >= target })
}

func (l *load) failed() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.failures...)
}

// stop ends the load and checks, per receiver, that every acknowledged
// message reached its device (live or by its resync), that the device's log
// ran without a gap or a repeat, and that a sync of the whole log (through
// node via) holds every acknowledged message exactly once and no message twice.
func (l *load) stop(via *node) {
	l.t.Helper()
	close(l.stopc)
	l.wg.Wait()
	total := 0
	for k, r := range l.receivers {
		keys := l.ackedTo[k]
		total += len(keys)
		missing := func() int {
			m := 0
			for key := range keys {
				if !r.has(key) {
					m++
				}
			}
			return m
		}
		deadline := time.Now().Add(15 * time.Second)
		for missing() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if m := missing(); m > 0 {
			_, rc := r.where()
			l.t.Errorf("%s: %d of %d acknowledged messages never reached the device (%d reconnects)", r.user, m, len(keys), rc)
		}
		r.checkLog()
		for _, s := range []*dev{r, l.senders[k]} {
			s.checkLog()
		}
		c, err := via.login(r.a, r.user, "Web", -1)
		if err != nil {
			l.t.Fatalf("login %s to check its log: %v", r.user, err)
		}
		stored := map[string]int{}
		byClient := map[string]int{}
		for after := int64(0); ; {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			entries, complete, err := c.Sync(ctx, after, 500)
			cancel()
			if err != nil {
				l.t.Fatalf("sync %s: %v", r.user, err)
			}
			for _, e := range entries {
				after = e.Seq
				if e.Kind == "msg" {
					stored[e.MsgKey]++
					byClient[e.From+"/"+e.ClientMsgID]++
				}
			}
			if complete {
				break
			}
		}
		c.Close()
		lost, twice := 0, 0
		for key := range keys {
			if stored[key] == 0 {
				lost++
			}
		}
		for _, n := range byClient {
			if n > 1 {
				twice++
			}
		}
		if lost > 0 || twice > 0 {
			l.t.Errorf("%s's log: %d of %d acknowledged messages lost, %d messages stored more than once", r.user, lost, len(keys), twice)
		}
	}
	l.t.Logf("load: %d acknowledged (%d as duplicates of a send whose ack was lost), %d failed attempts; every acknowledged message in its receiver's log once",
		total, l.duplicates.Load(), len(l.failed()))
}
