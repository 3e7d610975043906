package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTryItInBrowser: two tabs of the "try it" page chat as two test users
// the page imports: a message typed in one shows in the other, and again
// after the receiver reloads (the SDK syncs the history).
func TestTryItInBrowser(t *testing.T) {
	c := startConsole(t)
	ctx, base := c.ctx, c.base
	run := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", what, err, body)
		}
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
	}
	run(ctx, "sign up",
		chromedp.Navigate(base+"/console/signup"),
		chromedp.WaitVisible(chromedp.ID(`#name`)),
		chromedp.SendKeys(chromedp.ID(`#name`), "Acme"),
		chromedp.SendKeys(chromedp.ID(`#email`), "ops@acme.example"),
		chromedp.SendKeys(chromedp.ID(`#password`), "password1"),
		chromedp.Submit(chromedp.ID(`#password`)),
		chromedp.WaitVisible(chromedp.ID(`#region`)))
	run(ctx, "create an app",
		chromedp.SendKeys(chromedp.ID(`#name`), "chat"),
		chromedp.Submit(chromedp.ID(`#name`)),
		chromedp.WaitVisible(chromedp.ID(`#confirm`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]

	// The app page links the chat; the first tab follows it as test-a.
	run(ctx, "open try it as test-a",
		chromedp.Click(chromedp.CSS(`a[href$="/try?user=test-a&peer=test-b"]`)),
		chromedp.WaitVisible(chromedp.ID(`#try-state`)),
		poll(`document.getElementById('try-state') && document.getElementById('try-state').textContent === 'online'`))
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	receiver := base + "/console/apps/" + id + "/try?user=test-b&peer=test-a"
	run(tab2, "open try it as test-b", chromedp.Navigate(receiver), chromedp.WaitVisible(chromedp.ID(`#try-state`)),
		poll(`document.getElementById('try-state') && document.getElementById('try-state').textContent === 'online'`))

	const text = "hello from test-a"
	seen := fmt.Sprintf(`[...document.querySelectorAll('#try-log li.msg')].some(li => li.textContent === 'test-a: %s')`, text)
	run(ctx, "send", chromedp.SendKeys(chromedp.ID(`#try-text`), text), chromedp.Click(chromedp.CSS(`#try-send button`)),
		poll(seen))
	run(tab2, "received", poll(seen))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#try-log li.msg').length`)); err != nil || n != 1 {
		t.Fatalf("messages in the sender's tab: %d %v", n, err)
	}
	run(tab2, "reload the receiver", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID(`#try-state`)),
		poll(`document.getElementById('try-state') && document.getElementById('try-state').textContent === 'online'`),
		poll(seen))
	n, err := chromedp.Run(tab2, chromedp.Evaluate[int](`document.querySelectorAll('#try-log li.msg').length`))
	if err != nil || n != 1 {
		t.Fatalf("messages after the reload: %d %v", n, err)
	}
}
