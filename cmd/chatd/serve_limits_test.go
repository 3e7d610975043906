package main

import (
	"testing"

	"github.com/chatd/chatd/internal/gateway"
)

// The session caps come from flags, then CHATD_* variables, then the defaults;
// a cap below 1 or not a number is refused.
func TestServeSessionCaps(t *testing.T) {
	c, err := parseServeFlags(nil)
	if err != nil || c.sessionsPerUser != gateway.DefaultSessionsPerUser || c.sessionsPerApp != gateway.DefaultSessionsPerApp {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	t.Setenv("CHATD_MAX_SESSIONS_PER_USER", "5")
	t.Setenv("CHATD_MAX_SESSIONS_PER_APP", "700")
	if c, err = parseServeFlags(nil); err != nil || c.sessionsPerUser != 5 || c.sessionsPerApp != 700 {
		t.Fatalf("from the environment: %+v, %v", c, err)
	}
	if c, err = parseServeFlags([]string{"--max-sessions-per-user", "3"}); err != nil || c.sessionsPerUser != 3 {
		t.Fatalf("flag over the environment: %+v, %v", c, err)
	}
	for _, args := range [][]string{{"--max-sessions-per-user", "0"}, {"--max-sessions-per-app", "-2"}} {
		if _, err := parseServeFlags(args); err == nil {
			t.Fatalf("%v accepted", args)
		}
	}
	t.Setenv("CHATD_MAX_SESSIONS_PER_APP", "lots")
	if _, err := parseServeFlags(nil); err == nil {
		t.Fatal("CHATD_MAX_SESSIONS_PER_APP=lots accepted")
	}
}

// The node's queued-bytes cap comes from its flag or CHATD_MAX_QUEUED_BYTES.
func TestServeNodeQueueBytes(t *testing.T) {
	c, err := parseServeFlags(nil)
	if err != nil || c.nodeQueueBytes != gateway.DefaultNodeQueueBytes {
		t.Fatalf("default: %d, %v", c.nodeQueueBytes, err)
	}
	t.Setenv("CHATD_MAX_QUEUED_BYTES", "1048576")
	if c, err = parseServeFlags(nil); err != nil || c.nodeQueueBytes != 1<<20 {
		t.Fatalf("from the environment: %d, %v", c.nodeQueueBytes, err)
	}
	if _, err := parseServeFlags([]string{"--max-queued-bytes", "0"}); err == nil {
		t.Fatal("--max-queued-bytes 0 accepted")
	}
}
