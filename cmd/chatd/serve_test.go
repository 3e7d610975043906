package main

import (
	"testing"
	"time"
)

// The HTTP limits come from flags, else CHATD_* variables, else defaults.
func TestServeLimitFlags(t *testing.T) {
	t.Setenv("CHATD_HTTP_IDLE_TIMEOUT", "5s")
	t.Setenv("CHATD_MAX_CONNS", "100")
	c, err := parseServeFlags([]string{"--http-read-timeout", "2s", "--max-conns", "50", "--max-body-bytes", "4096"})
	if err != nil {
		t.Fatal(err)
	}
	l := c.limits
	if l.ReadTimeout != 2*time.Second || l.IdleTimeout != 5*time.Second || l.WriteTimeout != 60*time.Second ||
		l.MaxConns != 50 || l.MaxBodyBytes != 4096 {
		t.Fatalf("limits: %+v", l)
	}
	t.Setenv("CHATD_HTTP_WRITE_TIMEOUT", "soon")
	if _, err := parseServeFlags(nil); err == nil {
		t.Fatal("a bad CHATD_HTTP_WRITE_TIMEOUT was accepted")
	}
	t.Setenv("CHATD_HTTP_WRITE_TIMEOUT", "")
	if _, err := parseServeFlags(nil); err != nil {
		t.Fatalf("an empty variable is unset: %v", err)
	}
	if _, err := parseServeFlags([]string{"--max-conns", "-1"}); err == nil {
		t.Fatal("a negative --max-conns was accepted")
	}
}
