package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/chatd/chatd/client"
)

// The relationship chain on the real binary: the 21st friend of a Free Trial user
// is refused with 30010 and nothing changes; a blocked user's messages are refused
// with 20007 (REST and WebSocket) while the blocker's arrive; friend-only
// messaging set by the operator CLI refuses messages between non-friends (20009).
func TestSNSFriendLimitBlockAndFriendOnly(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	ids := []string{"hub", "late", "alice", "bob", "carol"}
	for i := 0; i < 20; i++ {
		ids = append(ids, fmt.Sprintf("f%02d", i))
	}
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": ids})

	items := func(to ...string) []map[string]any {
		out := make([]map[string]any, len(to))
		for i, id := range to {
			out[i] = map[string]any{"To_Account": id, "AddSource": "AddSource_Type_Test"}
		}
		return out
	}
	codes := func(v map[string]any) []int {
		var out []int
		for _, it := range v["ResultItem"].([]any) {
			out = append(out, int(it.(map[string]any)["ResultCode"].(float64)))
		}
		return out
	}
	res := n.restOK(a, "sns/friend_add", map[string]any{"From_Account": "hub", "ForceAddFlags": 1, "AddFriendItem": items(ids[5:]...)})
	for i, c := range codes(res) {
		if c != 0 {
			t.Fatalf("friend %d refused with %d", i+1, c)
		}
	}
	res = n.restOK(a, "sns/friend_add", map[string]any{"From_Account": "hub", "ForceAddFlags": 1, "AddFriendItem": items("late")})
	if c := codes(res); len(c) != 1 || c[0] != 30010 {
		t.Fatalf("21st friend of a Free Trial user: %v, want 30010", res)
	}
	if got := n.restOK(a, "sns/friend_get", map[string]any{"From_Account": "hub"})["FriendNum"]; got != float64(20) {
		t.Fatalf("hub has %v friends after the refusal", got)
	}
	check := n.restOK(a, "sns/friend_check", map[string]any{"From_Account": "late", "To_Account": []string{"hub"}, "CheckType": "CheckResult_Type_Both"})
	if rel := check["InfoItem"].([]any)[0].(map[string]any)["Relation"]; rel != "CheckResult_Type_NoRelation" {
		t.Fatalf("late vs hub: %v", rel)
	}

	// alice blocks bob: one-way.
	n.restOK(a, "sns/black_list_add", map[string]any{"From_Account": "alice", "To_Account": []string{"bob"}})
	ctx := context.Background()
	alice := n.mustLogin(a, "alice", "Web", 0)
	bob := n.mustLogin(a, "bob", "Web", 0)
	_, err := bob.SendText(ctx, "alice", "b-1", "let me in")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != 20007 {
		t.Fatalf("blocked user's send: %v, want 20007", err)
	}
	if v := n.rest(a, "openim/sendmsg", map[string]any{"From_Account": "bob", "To_Account": "alice", "MsgRandom": 7,
		"MsgBody": []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "x"}}}}); v["ErrorCode"] != float64(20007) {
		t.Fatalf("blocked user's REST send: %v", v)
	}
	if _, err := alice.SendText(ctx, "bob", "a-1", "still here"); err != nil {
		t.Fatalf("blocker's send: %v", err)
	}
	if e := nextMsg(t, bob); text(e) != "still here" {
		t.Fatalf("bob got %+v", e)
	}

	// Friend-only messaging, set by the operator.
	got := n.cli("app", "settings", "set", "--sdkappid", strconv.FormatInt(a.id, 10), "--set", "friend_only_c2c=on")
	if got["settings"].(map[string]any)["friend_only_c2c"] != "on" {
		t.Fatalf("settings: %v", got)
	}
	if _, err := alice.SendText(ctx, "carol", "a-2", "hi carol"); !errors.As(err, &ce) || ce.Code != 20009 {
		t.Fatalf("send between non-friends: %v, want 20009", err)
	}

	// A request confirmed by the target's device makes them friends; then they talk.
	if c := codes(n.restOK(a, "sns/friend_add", map[string]any{"From_Account": "alice", "AddFriendItem": items("carol")})); c[0] != 30539 {
		t.Fatalf("friend_add to a need-confirm user: %v, want 30539", c)
	}
	carol := n.mustLogin(a, "carol", "Web", 0)
	reqs, err := carol.FriendRequests(ctx)
	if err != nil || len(reqs) != 1 || reqs[0].From != "alice" {
		t.Fatalf("carol's requests: %+v, %v", reqs, err)
	}
	if err := carol.AcceptFriend(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := carol.AcceptFriend(ctx, "alice"); !errors.As(err, &ce) || ce.Code != 30614 {
		t.Fatalf("accepting twice: %v, want 30614", err)
	}
	if _, err := alice.SendText(ctx, "carol", "a-3", "hi friend"); err != nil {
		t.Fatalf("send between friends: %v", err)
	}
}
