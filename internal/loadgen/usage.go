package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is a sample of the server process: CPU time used since it started and
// resident memory in bytes.
type Usage struct {
	CPU time.Duration
	RSS int64
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// ProcUsage reads /proc/<pid>/stat and /proc/<pid>/status of the process pid()
// names (a function, so that a restarted server can be followed).
func ProcUsage(pid func() int) func() (Usage, error) {
	return func() (Usage, error) {
		p := pid()
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return Usage{}, err
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			return Usage{}, fmt.Errorf("/proc/%d/stat: too short", p)
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		u := Usage{CPU: time.Duration(utime+stime) * time.Second / clockTicks}
		status, err := os.Open(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			return Usage{}, err
		}
		defer status.Close()
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				u.RSS = kb << 10
			}
		}
		return u, nil
	}
}

// MetricsUsage reads process_cpu_seconds_total and process_resident_memory_bytes
// from the server's /metrics page.
func MetricsUsage(client *http.Client, server string) func() (Usage, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func() (Usage, error) {
		resp, err := client.Get(server + "/metrics")
		if err != nil {
			return Usage{}, err
		}
		defer resp.Body.Close()
		var u Usage
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				continue
			}
			switch name {
			case "process_cpu_seconds_total":
				u.CPU = time.Duration(v * float64(time.Second))
			case "process_resident_memory_bytes":
				u.RSS = int64(v)
			}
		}
		return u, sc.Err()
	}
}

// SumUsage adds the samples of several processes (the nodes of a cluster):
// CPU time and resident memory summed. One failing sample fails the sum.
func SumUsage(fs ...func() (Usage, error)) func() (Usage, error) {
	return func() (Usage, error) {
		var sum Usage
		for _, f := range fs {
			u, err := f()
			if err != nil {
				return Usage{}, err
			}
			sum.CPU += u.CPU
			sum.RSS += u.RSS
		}
		return sum, nil
	}
}

// usageSamples holds the samples at the start and end of the measured phase and
// the highest resident memory seen in between (sampled every 500 ms). Sampling
// follows the caller's context, not the run's: the end sample is taken even when
// the drain ends at once.
type usageSamples struct {
	mu         sync.Mutex
	start, end *Usage
	span       time.Duration // between the two samples
	peakRSS    int64
}

func (s *usageSamples) sample(ctx context.Context, f func() (Usage, error), from, to time.Time) {
	take := func() *Usage {
		u, err := f()
		if err != nil {
			return nil
		}
		s.mu.Lock()
		s.peakRSS = max(s.peakRSS, u.RSS)
		s.mu.Unlock()
		return &u
	}
	if !sleepUntil(ctx, from) {
		return
	}
	start, t0 := take(), time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		next := time.Now().Add(500 * time.Millisecond)
		if next.After(to) {
			next = to
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if next.Equal(to) {
			end := take()
			s.mu.Lock()
			s.start, s.end, s.span = start, end, time.Since(t0)
			s.mu.Unlock()
			return
		}
		take()
	}
}

// fill puts the server's CPU use over the measured phase and its peak memory into
// rep; CPU stays unknown (-1) when the server was restarted.
func (s *usageSamples) fill(rep *Report, restarted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep.ServerRSSBytes = s.peakRSS
	if restarted || s.start == nil || s.end == nil || s.end.CPU < s.start.CPU {
		return
	}
	cpu := s.end.CPU - s.start.CPU
	rep.ServerCPUCores = math.Round(cpu.Seconds()/s.span.Seconds()*100) / 100
	if d := rep.DeliveredPerS * s.span.Seconds(); d > 0 {
		rep.ServerCPUPerMsgUs = math.Round(float64(cpu.Microseconds())/d*10) / 10
	}
}

// cores returns the CPU used between the two samples in cores, or -1 without them.
func (s *usageSamples) cores() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.start == nil || s.end == nil || s.end.CPU < s.start.CPU {
		return -1
	}
	return math.Round((s.end.CPU-s.start.CPU).Seconds()/s.span.Seconds()*100) / 100
}
