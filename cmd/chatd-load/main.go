// Command chatd-load is chatd's load generator. It creates an app on a running chatd
// through the operator API, imports users, connects them over WebSocket and measures
// durable one-to-one delivery: throughput, acknowledgement latency (send → durable ack)
// and delivery latency (send → the receiver's device has it).
//
//	chatd-load --server http://127.0.0.1:8080 --data ./chatd-data --pairs 500 --duration 20s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/usersig"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "chatd base URL")
	data := flag.String("data", "./chatd-data", "chatd data dir (for the operator token)")
	token := flag.String("token", os.Getenv("CHATD_TOKEN"), "operator token (default: read from --data)")
	pairs := flag.Int("pairs", 500, "sender/receiver pairs (2 connections each)")
	duration := flag.Duration("duration", 20*time.Second, "how long to send")
	inflight := flag.Int("inflight", 1, "sends in flight per sender connection")
	idle := flag.Bool("idle", false, "measure server memory per idle connection instead of sending: connect 2*pairs devices and hold them")
	flag.Parse()
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

	// A Free Trial app admits 100 monthly active users, so the users are spread over
	// apps of 50 pairs each (an account may own tenant.MaxAppsPerAccount apps).
	acc := operator(*server, *token, "/operator/v1/accounts", map[string]any{"name": "load", "email": "load@example.com"})
	const pairsPerApp = 50
	type appInfo struct {
		id  int64
		key string
	}
	apps := make([]appInfo, (*pairs+pairsPerApp-1)/pairsPerApp)
	for i := range apps {
		a := operator(*server, *token, "/operator/v1/apps", map[string]any{"account": acc["id"], "name": fmt.Sprintf("load-%d", i)})
		apps[i] = appInfo{int64(a["sdkappid"].(float64)), a["secret_key"].(string)}
	}
	appOf := func(user int) appInfo { return apps[user/(2*pairsPerApp)] }
	users := make([]string, 2**pairs)
	for i := range users {
		users[i] = fmt.Sprintf("u%06d", i)
	}
	for i := 0; i < len(users); i += 2 * pairsPerApp {
		end := min(i+2*pairsPerApp, len(users))
		a := appOf(i)
		rest(*server, a.id, a.key, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users[i:end]})
	}
	ws := strings.Replace(*server, "http", "ws", 1) + "/v1/ws"
	before := serverMemory(*server, *token)
	conns := make([]*client.Client, len(users))
	var wg sync.WaitGroup
	var dialErr atomic.Value
	sem := make(chan struct{}, 64)
	for i, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a := appOf(i)
			sig, _ := usersig.Gen(a.id, a.key, u, 3600, time.Now())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, ws, client.Options{SDKAppID: a.id, User: u, UserSig: sig, Platform: "Web", After: -1, Buffer: 4096})
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
	fmt.Printf("%d connections up; sending for %s\n", len(conns), *duration)

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
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"load test message"}}]`)
	var mu sync.Mutex
	for p := 0; p < *pairs; p++ {
		sender, to := conns[2*p], users[2*p+1]
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

func report(name string, d []time.Duration) {
	if len(d) == 0 {
		fmt.Println(name, "no samples")
		return
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Printf("%s p50 %s  p90 %s  p99 %s  max %s  (n=%d)\n", name, q(.5).Round(10*time.Microsecond), q(.9).Round(10*time.Microsecond), q(.99).Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond), len(d))
}

func operator(server, token, path string, body any) map[string]any {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", server+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("%s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if resp.StatusCode/100 != 2 || json.Unmarshal(out, &v) != nil {
		fail("%s: %s %s", path, resp.Status, out)
	}
	return v
}

func rest(server string, app int64, key, path string, body any) {
	sig, _ := usersig.Gen(app, key, "administrator", 3600, time.Now())
	b, _ := json.Marshal(body)
	url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=administrator&usersig=%s&random=1&contenttype=json", server, path, app, sig)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		fail("%s: %v", path, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	if v["ErrorCode"] != float64(0) {
		fail("%s: %v", path, v)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chatd-load: "+format+"\n", args...)
	os.Exit(1)
}
