package server

import (
	"context"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/testdb"
)

// Push to all users on the three editions, through the real REST API and a real
// WebSocket device: Free Trial serves every all_member_push command and the
// device gets the push; Standard and Premium refuse each command with 90045,
// naming the feature, the app's edition and Free Trial, and change nothing.
func TestPushEditionMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		for _, ed := range catalog.Editions() {
			t.Run(ed.ID, func(t *testing.T) {
				st := open(t) // the node closes its store
				w := newPushWorld(t, st, "alice")
				setEdition(t, st, w.app.SDKAppID, ed.ID)
				want := 0
				if ed.ID != catalog.Trial {
					want = errs.PushNotEnabled
				}
				dev := w.login("alice", 0)
				body := []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "hi"}}}
				calls := []struct {
					cmd string
					req map[string]any
				}{
					{"im_set_attr_name", map[string]any{"AttrNames": map[string]string{"0": "sex"}}},
					{"im_get_attr_name", map[string]any{}},
					{"im_set_attr", map[string]any{"UserAttrs": []map[string]any{{"To_Account": "alice", "Attrs": map[string]string{"sex": "f"}}}}},
					{"im_get_attr", map[string]any{"To_Account": []string{"alice"}}},
					{"im_remove_attr", map[string]any{"UserAttrs": []map[string]any{{"To_Account": "alice", "Attrs": []string{"sex"}}}}},
					{"im_add_tag", map[string]any{"UserTags": []map[string]any{{"To_Account": "alice", "Tags": []string{"t"}}}}},
					{"im_get_tag", map[string]any{"To_Account": []string{"alice"}}},
					{"im_remove_tag", map[string]any{"UserTags": []map[string]any{{"To_Account": "alice", "Tags": []string{"x"}}}}},
					{"im_push", map[string]any{"MsgRandom": 1, "MsgBody": body, "MsgLifeTime": 60, "Condition": map[string]any{"TagsAnd": []string{"t"}}}},
					{"im_remove_all_tags", map[string]any{"To_Account": []string{"alice"}}},
				}
				for _, c := range calls {
					out := w.rest(c.cmd, c.req)
					if errorCode(out) != want {
						t.Fatalf("%s on %s: %v, want code %d", c.cmd, ed.Name, out, want)
					}
					if want != 0 {
						info, _ := out["ErrorInfo"].(string)
						if !strings.Contains(info, "push to all users") || !strings.Contains(info, ed.Name) || !strings.Contains(info, "Free Trial") {
							t.Fatalf("%s on %s: ErrorInfo %q must name the feature and the editions", c.cmd, ed.Name, info)
						}
					}
				}
				ctx := context.Background()
				if want == 0 {
					if e := next(t, dev); e.From != w.app.AdminUser || !strings.Contains(string(e.Body), "hi") {
						t.Fatalf("pushed entry %+v", e)
					}
					return
				}
				w.s.IM.WaitPushes()
				names, _ := st.PushAttrNames(ctx, w.app.SDKAppID)
				tags, _ := st.UserPushTags(ctx, w.app.SDKAppID, []string{"alice"})
				attrs, _ := st.UserPushAttrs(ctx, w.app.SDKAppID, []string{"alice"})
				if len(names)+len(tags)+len(attrs) != 0 {
					t.Fatalf("refused calls stored %v %v %v", names, tags, attrs)
				}
				if es, _, err := dev.Sync(ctx, 0, 10); err != nil || len(es) != 0 {
					t.Fatalf("a refused push reached the log: %v %v", es, err)
				}
			})
		}
	})
}
