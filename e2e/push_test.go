package e2e

import (
	"fmt"
	"testing"
	"time"
)

// A Free Trial im_push by tag, on the real binary: the tagged device online gets it
// over WebSocket, the tagged user offline gets it after login, the untagged user
// (whose UserID sorts between the two tagged ones, so a wrongly selected copy would
// be written before the last tagged one) never has it; the CLI reads the task's
// progress from the operator API.
func TestPushByTag(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	n.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"a-online", "b-untagged", "c-offline"}})
	n.restOK(a, "all_member_push/im_add_tag", map[string]any{"UserTags": []map[string]any{
		{"To_Account": "a-online", "Tags": []string{"news"}}, {"To_Account": "c-offline", "Tags": []string{"news"}},
	}})
	online := n.mustLogin(a, "a-online", "Web", 0)
	untagged := n.mustLogin(a, "b-untagged", "Web", 0)
	out := n.restOK(a, "all_member_push/im_push", map[string]any{
		"MsgRandom": 11, "MsgLifeTime": 3600, "Condition": map[string]any{"TagsAnd": []string{"news"}},
		"MsgBody": []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]string{"Text": "breaking"}}},
	})
	task, _ := out["TaskId"].(string)
	if task == "" {
		t.Fatalf("im_push: %v", out)
	}
	if e := nextMsg(t, online); e.From != "administrator" || text(e) != "breaking" || e.Seq != 1 {
		t.Fatalf("online tagged user's entry %+v", e)
	}
	offline := n.mustLogin(a, "c-offline", "Android", 0)
	if e := nextMsg(t, offline); e.From != "administrator" || text(e) != "breaking" {
		t.Fatalf("offline tagged user's entry after login %+v", e)
	}
	if es, _, err := untagged.Sync(t.Context(), 0, 10); err != nil || len(es) != 0 {
		t.Fatalf("the untagged user's log: %v, %v", es, err)
	}
	// The task is done once its last page's progress is stored (just after the
	// copies commit); the CLI reads it from the operator API.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := n.cli("app", "push-task", "--sdkappid", fmt.Sprint(a.id), "--task", task)
		if p["state"] == "done" {
			if p["targets"] != float64(2) || p["delivered"] != float64(2) {
				t.Fatalf("push-task: %v", p)
			}
			break
		}
		if p["state"] != "running" || time.Now().After(deadline) {
			t.Fatalf("push-task: %v", p)
		}
	}
}
