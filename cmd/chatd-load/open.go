package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatd/chatd/internal/loadgen"
)

// openLoop runs the open-loop load and prints the report as text, then as one JSON
// line (with the log check when verify is set).
func openLoop(ctx context.Context, users *loadgen.Users, cfg loadgen.Config, servers []string, pid int, kill9 time.Duration, restartLog string, verify bool) {
	server := servers[0]
	var serverPID atomic.Int64
	serverPID.Store(int64(pid))
	if pid != 0 {
		cfg.Usage = usageOf(servers, func() int { return int(serverPID.Load()) })
	} else {
		cfg.Usage = usageOf(servers, nil)
	}
	if kill9 > 0 {
		cfg.CrashAfter = kill9
		cfg.Crash = func() error {
			old := serverPID.Load()
			newPID, err := killAndRestart(int(old), server, restartLog)
			if err != nil {
				return err
			}
			serverPID.Store(int64(newPID))
			fmt.Printf("killed the server (pid %d) with SIGKILL and started it again: pid %d, output in %s\n", old, newPID, restartLog)
			return nil
		}
	}
	run, err := loadgen.Connect(ctx, users, cfg)
	if err != nil {
		fail("connect: %v", err)
	}
	if len(servers) > 1 {
		fmt.Printf("devices spread round-robin over %d nodes: %s\n", len(servers), strings.Join(servers, " "))
	}
	fmt.Printf("%d connections up; %.0f msg/s for %s + %s measured\n", len(users.Names), cfg.Rate, cfg.Warmup, cfg.Duration)
	rep, err := run.Run(ctx)
	run.Close()
	if err != nil {
		fail("%v", err)
	}
	fmt.Print(rep.Text())
	out := struct {
		loadgen.Report
		Check *loadgen.Check `json:"check,omitempty"`
	}{Report: rep}
	if verify {
		check, err := run.Verify(ctx)
		if err != nil {
			fail("verify: %v", err)
		}
		fmt.Printf("logs: %d acknowledged, %d lost, %d duplicated, %d never acknowledged (%d message entries read)\n",
			check.Acked, check.Lost, check.Duplicated, check.Unacked, check.Entries)
		out.Check = &check
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if out.Check != nil && (out.Check.Lost > 0 || out.Check.Duplicated > 0) {
		os.Exit(2)
	}
}

// killAndRestart sends SIGKILL to the server pid, waits until it is gone, starts
// the same command line again (same directory and environment, in its own session,
// output to logFile) and waits until server answers /readyz. It returns the new pid.
func killAndRestart(pid int, server, logFile string) (int, error) {
	proc := fmt.Sprintf("/proc/%d/", pid)
	cmdline, err := os.ReadFile(proc + "cmdline")
	if err != nil {
		return 0, err
	}
	environ, _ := os.ReadFile(proc + "environ")
	dir, err := os.Readlink(proc + "cwd")
	if err != nil {
		return 0, err
	}
	exe, err := os.Readlink(proc + "exe")
	if err != nil {
		return 0, err
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return 0, err
	}
	// Gone once /proc no longer lists it or it is a zombie its parent has not reaped.
	for deadline := time.Now().Add(30 * time.Second); ; {
		stat, err := os.ReadFile(proc + "stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("pid %d still runs after SIGKILL", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	cmd := exec.Command(exe, args[1:]...)
	cmd.Dir = dir
	cmd.Env = strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get(server + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd.Process.Pid, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the restarted server (pid %d) is not ready after 60s", cmd.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
