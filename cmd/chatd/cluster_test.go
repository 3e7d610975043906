package main

import (
	"bytes"
	"strings"
	"testing"
)

// --nats-url needs --store postgres; --store postgres alone is one node.
func TestServeNATSNeedsPostgres(t *testing.T) {
	_, err := parseServeFlags([]string{"--nats-url", "nats://127.0.0.1:4222"})
	if err == nil || !strings.Contains(err.Error(), "--nats-url needs --store postgres") {
		t.Fatalf("--nats-url on the embedded store: %v", err)
	}
	c, err := parseServeFlags([]string{"--store", "postgres", "--postgres-url", "postgres://db/chatd"})
	if err != nil || c.natsURL != "" {
		t.Fatalf("postgres without NATS: %v %+v", err, c)
	}
	t.Setenv("CHATD_NATS_URL", "nats://chatd:"+pw+"@nats:4222")
	c, err = parseServeFlags([]string{"--store", "postgres", "--postgres-url", "postgres://db/chatd"})
	if err != nil || c.natsURL != "nats://chatd:"+pw+"@nats:4222" {
		t.Fatalf("CHATD_NATS_URL is not taken: %v %q", err, c.natsURL)
	}
	var help bytes.Buffer
	serveUsage(&help)
	if strings.Contains(help.String(), pw) || !strings.Contains(help.String(), "-nats-url URL") {
		t.Errorf("help:\n%s", help.String())
	}
}

// The node id: given (flag, else CHATD_NODE_ID) it must be 1 to 64 of
// [A-Za-z0-9_-]; by default the host name and the listen port, cleaned.
func TestServeNodeID(t *testing.T) {
	c, err := parseServeFlags([]string{"--node-id", "web-1_a"})
	if err != nil || c.nodeID != "web-1_a" {
		t.Fatalf("--node-id web-1_a: %v %q", err, c.nodeID)
	}
	t.Setenv("CHATD_NODE_ID", "from-env")
	if c, err := parseServeFlags(nil); err != nil || c.nodeID != "from-env" {
		t.Fatalf("CHATD_NODE_ID: %v %q", err, c.nodeID)
	}
	for _, bad := range []string{"web 1", "a.b", "ünï", strings.Repeat("x", 65)} {
		if _, err := parseServeFlags([]string{"--node-id", bad}); err == nil {
			t.Errorf("--node-id %q was accepted", bad)
		}
	}
	t.Setenv("CHATD_NODE_ID", "")
	c, err = parseServeFlags([]string{"--addr", "0.0.0.0:9090"})
	if err != nil || !validNodeID(c.nodeID) || !strings.HasSuffix(c.nodeID, "-9090") {
		t.Fatalf("default node id %q: %v", c.nodeID, err)
	}
	for _, addr := range []string{"[::1]:8080", "bad", "h:" + strings.Repeat("9", 80)} {
		if id := defaultNodeID(addr); !validNodeID(id) {
			t.Errorf("defaultNodeID(%q) = %q, not a valid node id", addr, id)
		}
	}
}
