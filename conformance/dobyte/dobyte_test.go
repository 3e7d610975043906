// Package dobyte checks chatd's REST edge with a REST SDK we did not write: the public
// Go SDK github.com/dobyte/tencent-im v0.1.1, unmodified.
//
// That SDK always sends its requests to https://console.tim.qq.com (a constant) and
// skips certificate verification. The test therefore runs chatd and the SDK program
// (./sdkrun) inside a private network namespace whose /etc/hosts maps the reference
// hosts to 127.0.0.1, with chatd serving TLS on 127.0.0.1:443 under a self-signed
// certificate made here. The machine's own /etc/hosts is never touched: `ip netns exec`
// bind-mounts /etc/netns/<name>/hosts over /etc/hosts for the commands it runs.
//
// It needs root and the `ip` tool; elsewhere it skips.
package dobyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/testcert"
)

// referenceHosts are the hosts the reference SDKs call (v0.1.1 uses the first; the
// SDK's master branch uses the Frankfurt one). All resolve to chatd inside the namespace.
var referenceHosts = []string{
	"console.tim.qq.com",
	"adminapi.my-imcloud.com",
	"adminapisgp.im.qcloud.com",
	"adminapikr.im.qcloud.com",
	"adminapijpn.im.qcloud.com",
	"adminapiger.im.qcloud.com",
	"adminapiind.im.qcloud.com",
	"adminapiusa.im.qcloud.com",
	"adminapiidn.im.qcloud.com",
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDobyteSDK(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates a network namespace (run `go test ./conformance/...` as root)")
	}
	ipTool, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the `ip` tool (iproute2) for network namespaces")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go tool to build chatd and sdkrun")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}

	// Binaries.
	bin := t.TempDir()
	chatd, sdkrun := filepath.Join(bin, "chatd"), filepath.Join(bin, "sdkrun")
	for _, b := range []struct{ out, pkg string }{{chatd, "./cmd/chatd"}, {sdkrun, "./conformance/dobyte/sdkrun"}} {
		cmd := exec.Command(goTool, "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}

	// Certificate for the reference hosts.
	certFile, keyFile := testcert.Write(t, t.TempDir(), referenceHosts...)

	// Network namespace with its own hosts file.
	ns := setupNetns(t, ipTool)

	// chatd, embedded SQLite, TLS on 127.0.0.1:443 inside the namespace.
	data := t.TempDir()
	logs := &syncBuffer{}
	srv := exec.Command(ipTool, "netns", "exec", ns, chatd, "serve",
		"--data", data, "--addr", "127.0.0.1:443", "--tls-cert", certFile, "--tls-key", keyFile)
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatalf("starting chatd: %v", err)
	}
	exited := make(chan struct{}) // closed when chatd has exited; waitErr is then set
	var waitErr error
	go func() { waitErr = srv.Wait(); close(exited) }()
	t.Cleanup(func() {
		// `ip netns exec` execs chatd in place, so the signal reaches chatd itself.
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			if waitErr != nil {
				t.Errorf("chatd did not exit cleanly after SIGTERM: %v", waitErr)
			}
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-exited
			t.Errorf("chatd did not stop within 20s of SIGTERM; killed")
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("chatd log:\n%s", logs.String())
		}
	})

	// inNS runs a command in the namespace with extra environment variables.
	inNS := func(timeout time.Duration, env []string, name string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, ipTool, append([]string{"netns", "exec", ns, name}, args...)...)
		// The caller's CHATD_* / SDKRUN_* settings (e.g. CHATD_TOKEN) must not leak in.
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CHATD_") && !strings.HasPrefix(kv, "SDKRUN_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w; stderr: %s", err, strings.TrimSpace(stderr.String()))
		}
		return stdout.String(), err
	}

	// Wait until chatd answers /healthz over TLS at the reference host name.
	if out, err := inNS(60*time.Second, nil, sdkrun, "wait", "-timeout", "30s"); err != nil {
		select {
		case <-exited:
			t.Fatalf("chatd exited early (%v)", waitErr)
		default:
		}
		t.Fatalf("chatd not reachable at https://%s inside the namespace: %v\n%s", referenceHosts[0], err, out)
	}

	// An operator account and an app, with the chatd CLI run in the namespace. The CLI
	// verifies certificates; SSL_CERT_FILE makes it trust the test's certificate.
	cli := func(v any, args ...string) {
		t.Helper()
		full := append([]string{"--server", "https://127.0.0.1:443", "--data", data, "--json"}, args...)
		out, err := inNS(60*time.Second, []string{"SSL_CERT_FILE=" + certFile}, chatd, full...)
		if err != nil {
			t.Fatalf("chatd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("chatd %s printed %q: %v", strings.Join(args, " "), out, err)
		}
	}
	var acct struct {
		ID string `json:"id"`
	}
	cli(&acct, "account", "create", "--name", "dobyte conformance", "--email", "conformance@example.com")
	if acct.ID == "" {
		t.Fatal("account create returned no id")
	}
	var app struct {
		SDKAppID  int64  `json:"sdkappid"`
		SecretKey string `json:"secret_key"`
		AdminUser string `json:"admin_user"`
	}
	cli(&app, "app", "create", "--account", acct.ID, "--name", "dobyte conformance")
	if app.SDKAppID == 0 || app.SecretKey == "" {
		t.Fatalf("app create returned %+v; want sdkappid and secret_key", app)
	}
	if app.AdminUser == "" {
		app.AdminUser = "administrator"
	}
	t.Logf("app %d, admin %q", app.SDKAppID, app.AdminUser)
	// The custom profile fields sdkrun sets (sdkrun/main.go, sdkrun/profile.go).
	id := strconv.FormatInt(app.SDKAppID, 10)
	for _, f := range [][]string{{"--name", "hobby"}, {"--name", "team", "--max-bytes", "8"}} {
		var field struct {
			Tag string `json:"tag"`
		}
		cli(&field, append([]string{"app", "profile-field", "add", "--sdkappid", id}, f...)...)
		if field.Tag != "Tag_Profile_Custom_"+f[1] {
			t.Fatalf("profile-field add %v returned %+v", f, field)
		}
	}

	// The SDK run.
	out, err := inNS(3*time.Minute, nil, sdkrun,
		"-sdkappid", strconv.FormatInt(app.SDKAppID, 10), "-key", app.SecretKey, "-admin", app.AdminUser)
	t.Logf("sdkrun output:\n%s", out)
	reportSkips(t, out)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		var fails []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "FAIL ") {
				fails = append(fails, line)
			}
		}
		t.Errorf("%d SDK check(s) failed against chatd:\n%s", len(fails), strings.Join(fails, "\n"))
	default:
		t.Errorf("sdkrun: %v", err)
	}
}

// reportSkips turns sdkrun's "SKIP name: reason" lines (the server answered
// 60009: it lacks the command) into one skipped subtest per module, so that a
// module's checks can land before the feature and run once the server serves it.
func reportSkips(t *testing.T, out string) {
	byModule := map[string][]string{}
	var modules []string
	for _, line := range strings.Split(out, "\n") {
		name, ok := strings.CutPrefix(line, "SKIP ")
		if !ok {
			continue
		}
		module, _, _ := strings.Cut(name, "/")
		if byModule[module] == nil {
			modules = append(modules, module)
		}
		byModule[module] = append(byModule[module], line)
	}
	for _, m := range modules {
		t.Run(m, func(t *testing.T) {
			t.Skipf("%d check(s) skipped: the server lacks the command(s)\n%s", len(byModule[m]), strings.Join(byModule[m], "\n"))
		})
	}
}

// setupNetns creates a uniquely named network namespace with lo up and a hosts file
// that maps the reference hosts to 127.0.0.1; everything is removed in t.Cleanup.
func setupNetns(t *testing.T, ipTool string) string {
	t.Helper()
	name := fmt.Sprintf("chatd-conf-%d", os.Getpid())
	run := func(args ...string) error {
		out, err := exec.Command(ipTool, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}

	etcNetns := "/etc/netns"
	_, statErr := os.Stat(etcNetns)
	createdEtcNetns := errors.Is(statErr, os.ErrNotExist)
	dir := filepath.Join(etcNetns, name)
	// Registered before anything is created, so a failure half-way still cleans up.
	t.Cleanup(func() {
		if err := run("netns", "del", name); err != nil && !strings.Contains(err.Error(), "No such file") {
			t.Errorf("removing network namespace: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
		if createdEtcNetns {
			_ = os.Remove(etcNetns) // only if we created it and it is empty again
		}
	})

	if err := run("netns", "add", name); err != nil {
		t.Fatalf("creating network namespace (root with CAP_SYS_ADMIN is needed): %v", err)
	}
	if err := run("-n", name, "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hosts := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + strings.Join(referenceHosts, " ") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	// No DNS inside the namespace: every name the test uses is in hosts.
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}
