package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// planApp creates an account with money and an app on edition (bought with
// the CLI, as the customer would; "trial" buys nothing).
func (n *node) planApp(edition string) app {
	n.t.Helper()
	acc := n.cli("account", "create", "--name", "Acme", "--email", "ops@acme.example")["id"].(string)
	a := n.cli("app", "create", "--account", acc, "--name", "chat "+edition)
	ap := app{id: int64(a["sdkappid"].(float64)), key: a["secret_key"].(string)}
	if edition != "trial" {
		n.cli("account", "topup", "--account", acc, "--cash", "1000")
		n.cli("plan", "buy", "--sdkappid", fmt.Sprint(ap.id), "--edition", edition, "--months", "1", "--accept-agreement")
	}
	return ap
}

func nextStatus(t *testing.T, c *client.Client) client.UserStatus {
	t.Helper()
	select {
	case s := <-c.StatusNotices():
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no status notice within 5s")
		return client.UserStatus{}
	}
}

// A status subscriber sees a user go online and offline; a Standard app's
// second Web login kicks the first while a Premium app's does not; the login
// reply names the edition and its features.
func TestUserStatusAndDevicePolicy(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	premium := n.planApp("premium")
	n.restOK(premium, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"alice", "bob"}})
	bob := n.mustLogin(premium, "bob", "Android", 0)
	if caps := bob.Capabilities(); caps.Edition != "premium" || !caps.Has("user_status") || !caps.Has("local_search") || caps.Has("push_to_all") {
		t.Fatalf("premium capabilities %+v", caps)
	}
	st, failed, err := bob.SubscribeStatus(ctx, "alice")
	if err != nil || len(failed) != 0 || len(st) != 1 || st[0].Status != "Offline" {
		t.Fatalf("subscribe: %v %v %v", st, failed, err)
	}
	alice := n.mustLogin(premium, "alice", "Web", 0)
	if s := nextStatus(t, bob); s.User != "alice" || s.Status != "Online" {
		t.Fatalf("notice %+v, want alice Online", s)
	}
	alice2 := n.mustLogin(premium, "alice", "Web", 0) // Premium keeps both Web sessions
	if err := alice.Ping(ctx); err != nil {
		t.Fatalf("premium: the first Web session ended: %v", err)
	}
	alice.Close()
	alice2.Close()
	if s := nextStatus(t, bob); s.User != "alice" || s.Status != "Offline" {
		t.Fatalf("notice %+v, want alice Offline", s)
	}
	v := n.restOK(premium, "openim/query_online_status", map[string]any{"To_Account": []string{"alice"}, "IsReturnCustomStatus": 1})
	if r := v["QueryResult"].([]any)[0].(map[string]any); r["Status"] != "Offline" {
		t.Fatalf("query_online_status %v", r)
	}

	standard := n.planApp("standard")
	n.restOK(standard, "im_open_login_svc/account_import", map[string]any{"UserID": "carol"})
	first := n.mustLogin(standard, "carol", "Web", 0)
	if caps := first.Capabilities(); caps.Edition != "standard" || caps.Has("user_status") || caps.Has("multi_device_same_platform") {
		t.Fatalf("standard capabilities %+v", caps)
	}
	if _, _, err := first.SubscribeStatus(ctx, "carol"); err == nil || !strings.Contains(err.Error(), "60030") {
		t.Fatalf("standard subscribe: %v, want 60030", err)
	}
	if v := n.rest(standard, "openim/query_online_status", map[string]any{"To_Account": []string{"carol"}, "IsReturnCustomStatus": 1}); v["ErrorCode"] != float64(60030) {
		t.Fatalf("standard query_online_status with custom status: %v", v)
	}
	second := n.mustLogin(standard, "carol", "Web", 0)
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("standard: the first Web session was not ended by the second")
	}
	if !strings.Contains(first.Kicked(), "another Web device") {
		t.Fatalf("kicked reason %q", first.Kicked())
	}
	if err := second.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	mobile := n.mustLogin(standard, "carol", "iOS", 0) // another platform coexists
	if err := second.Ping(ctx); err != nil {
		t.Fatalf("standard: an iOS login ended the Web session: %v", err)
	}
	_ = mobile
}
