package server

import (
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/testdb"
)

// Messages admitted before a disband and still queued in the writer are
// written before the log is deleted, not after: a new group of the same
// GroupId (a Meeting group, whose members see the whole history) holds none
// of them, on both stores.
func TestDisbandDeletesQueuedMessages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := tctx(t)
		create := func() {
			if r := w.rest("group_open_http_svc/create_group", map[string]any{"Owner_Account": "alice", "Type": "Meeting", "GroupId": "M",
				"Name": "m", "MemberList": []map[string]any{{"Member_Account": "bob"}}}); restCode(r) != 0 {
				t.Fatalf("create_group: %v", r)
			}
		}
		create()
		var wg sync.WaitGroup
		const n = 3000
		wg.Add(n)
		for i := 0; i < n; i++ {
			w.s.IM.SendGroupAsync(ctx, w.app, im.GroupSendRequest{Group: "M", From: "bob", Body: textBody("queued")}, bus.Origin{},
				func(im.GroupSendResult, error) { wg.Done() })
		}
		if r := w.rest("group_open_http_svc/destroy_group", map[string]any{"GroupId": "M"}); restCode(r) != 0 {
			t.Fatalf("destroy_group: %v", r)
		}
		wg.Wait()
		create()
		r := w.rest("group_open_http_svc/group_msg_get_simple", map[string]any{"GroupId": "M", "ReqMsgNumber": 20})
		for _, m := range r["RspMsgList"].([]any) {
			if m.(map[string]any)["IsSystemMsg"] != float64(1) {
				t.Fatalf("a message of the disbanded group in the new one: %v", m)
			}
		}
	})
}
