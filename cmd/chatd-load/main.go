// Command chatd-load is chatd's load generator. It creates an account, apps and users
// on a running chatd through the operator API and REST, connects them over WebSocket
// in sender/receiver pairs and measures durable one-to-one delivery.
//
// The default mode is an open loop: messages are due at a fixed total rate whatever
// the server does, and latency counts from the time a message was due (see
// docs/performance.md):
//
//	chatd-load --server http://127.0.0.1:8080 --data ./chatd-data --conns 1000 --rate 20000 --duration 20s --server-pid $(pgrep -nx chatd)
//
// --mode group sends from one member to a Premium group of --members members, all
// online, at --rate messages per second (open loop), and measures each delivery
// from the message's due time; --mode liveroom does the same in a live room the
// members join over WebSocket (a live room drops pushes for slow readers: drops
// are reported apart):
//
//	chatd-load --mode group --members 2000 --rate 20 --duration 20s
//
// Against several nodes of a cluster, --server takes several base URLs
// (comma-separated or repeated): the operator API and REST go to the first,
// devices connect round-robin to all of them (a pair's sender and receiver on
// two different nodes), and the server CPU and memory reported are the sums
// of the nodes' /metrics:
//
//	chatd-load --server http://10.0.0.1:8080,http://10.0.0.2:8080,http://10.0.0.3:8080 --data ./node1-data --rate 2000
//
// --kill9-after kills the server (--server-pid) with SIGKILL during the run, starts it
// again with the same command line, and checks afterwards that every acknowledged
// message is in the logs once. --mode closed is the older closed loop (each sender
// sends its next message after the last one is acknowledged); --idle measures
// memory per idle connection.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/loadgen"
)

func main() {
	var servers urlList
	flag.Var(&servers, "server", "chatd base `URL`; several nodes: comma-separated or repeated (default http://127.0.0.1:8080)")
	data := flag.String("data", "./chatd-data", "chatd data dir (for the operator token)")
	token := flag.String("token", os.Getenv("CHATD_TOKEN"), "operator token (default: read from --data)")
	mode := flag.String("mode", "open", "open (fixed offered rate), closed (next send after the ack), group (one sender to a group of --members) or liveroom (the same in a live room)")
	members := flag.Int("members", 200, "group, liveroom: members online, the sender included (a group holds at most 2000)")
	nconns := flag.Int("conns", 1000, "open: connections, half senders, half their receivers")
	rate := flag.Float64("rate", 5000, "open: messages per second offered by all senders together; group, liveroom: messages per second from the one sender (default there 20)")
	warmup := flag.Duration("warmup", 2*time.Second, "open: sent before the measured phase, not measured")
	drain := flag.Duration("drain", 10*time.Second, "open: after the last send, wait at most this long for deliveries (default 30s with --kill9-after)")
	senders := flag.Int("senders", 4, "open: goroutines walking the send schedule")
	pid := flag.Int("server-pid", 0, "open: the server's process id, to read its CPU and memory from /proc (default: its /metrics)")
	kill9 := flag.Duration("kill9-after", 0, "open: kill -9 the server (--server-pid) this long into the measured phase, start it again with the same command line and check the logs afterwards")
	restartLog := flag.String("restart-log", "chatd-restarted.log", "open: output of the server started again after --kill9-after")
	verify := flag.Bool("verify", false, "open: read every log back after the run and count lost and duplicated messages (on with --kill9-after)")
	pairs := flag.Int("pairs", 500, "closed, idle: sender/receiver pairs (2 connections each)")
	duration := flag.Duration("duration", 20*time.Second, "how long to send (open: the measured phase)")
	inflight := flag.Int("inflight", 1, "closed: sends in flight per sender connection")
	cpuProfile := flag.String("cpuprofile", "", "write the generator's own CPU profile to this file")
	callbacks := flag.String("callbacks", "", "open: point the load's apps at a callback receiver on loopback that allows everything, with these comma-separated `commands` (e.g. C2C.CallbackBeforeSendMsg); the server needs --callback-allow-hosts 127.0.0.1")
	idle := flag.Bool("idle", false, "measure server memory per idle connection instead of sending: connect 2*pairs devices and hold them")
	flag.Parse()
	if len(servers) == 0 {
		servers = urlList{"http://127.0.0.1:8080"}
	}
	server := &servers[0]
	if len(servers) > 1 && (*kill9 > 0 || *idle || *mode == "closed") {
		fail("several --server URLs work with --mode open, group and liveroom, without --kill9-after and --idle")
	}
	if len(servers) > 1 && *pid != 0 {
		fail("--server-pid names one process: with several --server URLs the nodes' /metrics are read")
	}
	if *token == "" {
		b, err := os.ReadFile(filepath.Join(*data, "operator.token"))
		if err != nil {
			fail("no --token and no token file: %v", err)
		}
		*token = strings.TrimSpace(string(b))
	}
	if *duration > 10*time.Minute {
		fail("--duration is capped at 10m")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	name := fmt.Sprintf("load-%d", time.Now().UnixNano())
	if *mode == "group" || *mode == "liveroom" {
		rateSet := false
		flag.Visit(func(f *flag.Flag) { rateSet = rateSet || f.Name == "rate" })
		if !rateSet {
			*rate = 20
		}
		groupLoad(ctx, servers, *token, name, *mode == "liveroom", *members,
			loadgen.GroupConfig{Rate: *rate, Warmup: *warmup, Duration: *duration, Drain: *drain}, *pid)
		return
	}
	if *mode == "open" && !*idle {
		if *nconns < 2 || *nconns%2 != 0 {
			fail("--conns must be even and at least 2")
		}
		if *kill9 > 0 && *pid == 0 {
			fail("--kill9-after needs --server-pid")
		}
		if *kill9 >= *duration {
			fail("--kill9-after must be shorter than --duration")
		}
		drainSet := false
		flag.Visit(func(f *flag.Flag) { drainSet = drainSet || f.Name == "drain" })
		if *kill9 > 0 && !drainSet {
			*drain = 30 * time.Second // the restart's backlog is resent at once and takes longer to drain
		}
		users, err := loadgen.Setup(ctx, *server, *token, name, *nconns/2, nil, nil)
		if err != nil {
			fail("setup: %v", err)
		}
		users.Devices = servers
		if *callbacks != "" {
			r, err := loadgen.StartReceiver()
			if err != nil {
				fail("callback receiver: %v", err)
			}
			defer func() {
				// After-events drain from the outbox after the run: wait until none
				// arrived for 2 s (at most a minute) and say how long that took.
				end, n := time.Now(), r.Requests.Load()
				for quiet := time.Now(); time.Since(quiet) < 2*time.Second && time.Since(end) < time.Minute; time.Sleep(100 * time.Millisecond) {
					if m := r.Requests.Load(); m != n {
						n, quiet = m, time.Now()
					}
				}
				fmt.Printf("callback receiver: %d requests (%d before-send, %d after-send); the last %.1f s after the run\n",
					r.Requests.Load(), r.Before.Load(), r.After.Load(), max(0, time.Since(end).Seconds()-2))
				r.Close()
			}()
			if err := users.SetCallbacks(ctx, *token, r.URL, strings.Split(*callbacks, ",")); err != nil {
				fail("callbacks: %v", err)
			}
		}
		openLoop(ctx, users, loadgen.Config{Rate: *rate, Warmup: *warmup, Duration: *duration, Drain: *drain, Senders: *senders},
			servers, *pid, *kill9, *restartLog, *verify || *kill9 > 0)
		return
	}
	if *mode != "closed" && !*idle {
		fail("--mode is open, closed, group or liveroom")
	}

	users, err := loadgen.Setup(ctx, *server, *token, name, *pairs, nil, nil)
	if err != nil {
		fail("setup: %v", err)
	}
	ws := users.WebSocketURL()
	before := serverMemory(*server, *token)
	conns := make([]*client.Client, len(users.Names))
	var wg sync.WaitGroup
	var dialErr atomic.Value
	sem := make(chan struct{}, 64)
	for i, u := range users.Names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, ws, client.Options{SDKAppID: users.App(i).ID, User: u, UserSig: users.Sig(i), Platform: "Web", After: -1, Buffer: 4096})
			if err != nil {
				dialErr.Store(err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if err := dialErr.Load(); err != nil {
		fail("login: %v", err)
	}
	if *idle {
		time.Sleep(3 * time.Second) // let the server settle
		after := serverMemory(*server, *token)
		n := float64(len(conns))
		fmt.Printf("idle connections %d\n", len(conns))
		for _, m := range []string{"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines"} {
			fmt.Printf("%-32s before %12.0f  after %12.0f  per connection %8.1f\n", m, before[m], after[m], (after[m]-before[m])/n)
		}
		fmt.Printf("heap+stack per connection: %.1f KiB\n", (after["go_memstats_heap_inuse_bytes"]+after["go_memstats_stack_inuse_bytes"]-
			before["go_memstats_heap_inuse_bytes"]-before["go_memstats_stack_inuse_bytes"])/n/1024)
		for _, c := range conns {
			c.Close()
		}
		return
	}
	fmt.Printf("closed loop: %d connections up; sending for %s\n", len(conns), *duration)

	var sent, delivered atomic.Int64
	ackLat := make([][]time.Duration, *pairs)
	delLat := make([][]time.Duration, *pairs)
	stop := time.Now().Add(*duration)
	start := time.Now()
	var recv sync.WaitGroup
	for p := 0; p < *pairs; p++ {
		receiver := conns[2*p+1]
		recv.Add(1)
		go func() {
			defer recv.Done()
			for e := range receiver.Entries() {
				if e.Kind != "msg" {
					continue
				}
				// The client message id starts with the send time: "t<unix nanos>-…".
				stamp, _, _ := strings.Cut(strings.TrimPrefix(e.ClientMsgID, "t"), "-")
				if ts, err := strconv.ParseInt(stamp, 10, 64); err == nil {
					delLat[p] = append(delLat[p], time.Since(time.Unix(0, ts)))
				}
				delivered.Add(1)
			}
		}()
	}
	var send sync.WaitGroup
	body := loadgen.DefaultBody
	var mu sync.Mutex
	for p := 0; p < *pairs; p++ {
		sender, to := conns[2*p], users.Names[2*p+1]
		for k := 0; k < *inflight; k++ {
			send.Add(1)
			go func() {
				defer send.Done()
				var local []time.Duration
				for n := 0; time.Now().Before(stop); n++ {
					t0 := time.Now()
					id := fmt.Sprintf("t%d-%d-%d", t0.UnixNano(), k, n)
					if _, err := sender.Send(context.Background(), to, id, body); err != nil {
						fmt.Fprintln(os.Stderr, "send:", err)
						return
					}
					local = append(local, time.Since(t0))
					sent.Add(1)
				}
				mu.Lock()
				ackLat[p] = append(ackLat[p], local...)
				mu.Unlock()
			}()
		}
	}
	send.Wait()
	elapsed := time.Since(start)
	deadline := time.Now().Add(10 * time.Second)
	for delivered.Load() < sent.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	recv.Wait()

	fmt.Printf("pairs=%d inflight=%d duration=%s\n", *pairs, *inflight, elapsed.Round(time.Millisecond))
	fmt.Printf("sent (acknowledged durable) %d  delivered %d  throughput %.0f msg/s\n", sent.Load(), delivered.Load(), float64(sent.Load())/elapsed.Seconds())
	report("ack latency     ", slices.Concat(ackLat...))
	report("delivery latency", slices.Concat(delLat...))
}

// serverMemory reads the server's memory gauges from its /metrics page, after
// making it collect garbage (twice: the second collection also shrinks the stacks
// that the first found oversized), so that only live memory is counted.
func serverMemory(server, token string) map[string]float64 {
	for range 2 {
		req, _ := http.NewRequest("GET", server+"/debug/pprof/heap?gc=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		fail("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// urlList is a flag of base URLs, comma-separated or repeated.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, ",") }

func (l *urlList) Set(v string) error {
	for _, u := range strings.Split(v, ",") {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%q is not an http:// or https:// URL", u)
		}
		*l = append(*l, u)
	}
	return nil
}

// usageOf samples the server's CPU and memory: from /proc with a pid, else
// from the /metrics of every node, summed.
func usageOf(servers []string, pid func() int) func() (loadgen.Usage, error) {
	if pid != nil {
		return loadgen.ProcUsage(pid)
	}
	var fs []func() (loadgen.Usage, error)
	for _, s := range servers {
		fs = append(fs, loadgen.MetricsUsage(nil, s))
	}
	return loadgen.SumUsage(fs...)
}

func report(name string, d []time.Duration) {
	if len(d) == 0 {
		fmt.Println(name, "no samples")
		return
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Printf("%s p50 %s  p90 %s  p99 %s  max %s  (n=%d)\n", name, q(.5).Round(10*time.Microsecond), q(.9).Round(10*time.Microsecond), q(.99).Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond), len(d))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chatd-load: "+format+"\n", args...)
	os.Exit(1)
}
