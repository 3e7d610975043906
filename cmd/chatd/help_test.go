package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

// runArgs runs the binary's entry point with args, without a server.
func runArgs(args ...string) cliResult {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := c.run(args)
	return cliResult{code, out.String(), errb.String()}
}

// Help asked for goes to stdout with exit 0, at every level; mistakes go to
// stderr with exit 2.
func TestHelpToStdout(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    []string // in stdout
		wantNot []string // not in stdout
	}{
		{[]string{"help"}, []string{"chatd serve", "chatd app create", "chatd clock advance DURATION", "chatd version"}, nil},
		{[]string{"-h"}, []string{"chatd plan buy"}, nil},
		{[]string{"--help"}, []string{"chatd plan buy"}, nil},
		{[]string{"app", "--help"}, []string{"chatd app create", "chatd app extend-trial"}, []string{"Usage of", "-server string", "chatd plan"}},
		{[]string{"account", "-h"}, []string{"chatd account create", "chatd account topup"}, []string{"chatd app"}},
		{[]string{"help", "app"}, []string{"chatd app delete"}, []string{"chatd account"}},
		{[]string{"app", "create", "--help"}, []string{"Usage: chatd app create --account ID", "-region"}, []string{"Usage of"}},
		{[]string{"help", "clock", "set"}, []string{"Usage: chatd clock set TIME", "RFC 3339"}, nil},
		{[]string{"serve", "-h"}, []string{"Usage: chatd serve", "-fake-clock TIME", "-max-conns"}, []string{"`"}},
		{[]string{"help", "serve"}, []string{"-fake-clock TIME"}, nil},
	} {
		r := runArgs(tt.args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("chatd %v: exit %d, stderr %q", tt.args, r.code, r.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("chatd %v: stdout lacks %q:\n%s", tt.args, w, r.stdout)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(r.stdout, w) {
				t.Errorf("chatd %v: stdout has %q:\n%s", tt.args, w, r.stdout)
			}
		}
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"app"}, {"app", "explode"}, {"app", "create", "--bogus"},
		{"serve", "--bogus"}, {"serve", "extra"}, {"--data", "/srv/chatd", "serve"}, {"version", "extra"}, {"help", "frobnicate"}} {
		if r := runArgs(args...); r.code != 2 || r.stdout != "" || r.stderr == "" {
			t.Errorf("chatd %v: exit %d, stdout %q, stderr %q; want 2 with stderr only", args, r.code, r.stdout, r.stderr)
		}
	}
}

// Every command of the table dispatches to its own help.
func TestEveryCommandHasHelp(t *testing.T) {
	n := 0
	for _, s := range sections {
		for _, cmd := range s.commands {
			n++
			if cmd.words == "help" {
				continue
			}
			r := runArgs(append(strings.Fields(cmd.words), "-h")...)
			want := "Usage: chatd " + cmd.words
			if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
				t.Errorf("chatd %s -h: exit %d, %q; want %q", cmd.words, r.code, r.stdout, want)
			}
		}
	}
	if n < 30 {
		t.Fatalf("the table has %d commands", n)
	}
}

func TestVersion(t *testing.T) {
	r := runArgs("version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "chatd ") || !strings.Contains(r.stdout, "go1.") || r.stderr != "" {
		t.Fatalf("version: %+v", r)
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T04:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(info), "chatd v1.2.3 (revision 0123abcd, 2026-11-30T04:00:00Z, modified) go1.26.0"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	if got, want := versionLine(&debug.BuildInfo{GoVersion: "go1.26.0"}), "chatd (devel) go1.26.0"; got != want {
		t.Errorf("versionLine without VCS = %q, want %q", got, want)
	}
}
