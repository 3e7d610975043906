// Package testbrowser starts headless Chromium for the browser tests (the
// JavaScript SDK's in sdk/js, the console's in internal/console/web), driven
// with chromedp. Tests only: nothing in chatd imports it.
package testbrowser

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// SkipEnv, when set, lets the browser tests skip where Chromium is missing;
// without it a missing browser fails them (CI installs it: .ci/run).
const SkipEnv = "CHATD_SKIP_BROWSER_TESTS"

// Path is the browser the tests drive: $CHATD_CHROMIUM, default Debian's
// /usr/bin/chromium. Missing, it fails t (skips it when SkipEnv is set).
func Path(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CHATD_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(SkipEnv) != "" {
			t.Skipf("Chromium is not installed at %s and %s is set: browser tests skipped", path, SkipEnv)
		}
		t.Fatalf("Chromium is not installed at %s (%v): install it (apt-get install -y chromium), "+
			"point CHATD_CHROMIUM at it, or set %s=1 to skip the browser tests", path, err, SkipEnv)
	}
	return path
}

// Start starts one headless Chromium with a fresh profile and the flags the
// machines need (no sandbox as root, no GPU, no network of its own, no
// throttling of background tabs), plus extra, and returns its first tab's
// context, started. The browser ends with the test.
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := Path(t)
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.UserDataDir(t.TempDir()),
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
