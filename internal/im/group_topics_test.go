package im

import (
	"context"
	"testing"

	"github.com/chatd/chatd/internal/errs"
)

// resolveTopic maps a topic to its community for the message path: 10010
// when the topic does not exist (also after its community is disbanded),
// 10015 when the id is malformed.
func TestResolveTopic(t *testing.T) {
	f := newFixture(t, "trial")
	ctx := context.Background()
	if _, err := f.svc.CreateGroup(ctx, f.app, AdminActor, GroupSpec{Type: "Community", GroupID: "@TGS#_c", Name: "c", SupportTopic: true, Owner: "alice"}, false); err != nil {
		t.Fatal(err)
	}
	tp, err := f.svc.CreateTopic(ctx, f.app, TopicSpec{GroupID: "@TGS#_c", Name: "news"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := f.svc.resolveTopic(ctx, f.app.SDKAppID, tp.TopicID); err != nil || g != "@TGS#_c" {
		t.Fatalf("resolveTopic = %q, %v", g, err)
	}
	for id, code := range map[string]int{"@TGS#_c@TOPIC#_none": errs.GroupNotFound, "no-separator": errs.GroupIDInvalid, "@TGS#_c@TOPIC#_": errs.GroupIDInvalid} {
		if _, err := f.svc.resolveTopic(ctx, f.app.SDKAppID, id); errs.CodeOf(err) != code {
			t.Fatalf("resolveTopic(%q) = %v, want %d", id, err, code)
		}
	}
	if _, err := f.svc.resolveTopic(ctx, f.app.SDKAppID+1, tp.TopicID); errs.CodeOf(err) != errs.GroupNotFound {
		t.Fatalf("another app's topic: %v", err)
	}
	if err := f.svc.DestroyGroup(ctx, f.app, AdminActor, "@TGS#_c"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.resolveTopic(ctx, f.app.SDKAppID, tp.TopicID); errs.CodeOf(err) != errs.GroupNotFound {
		t.Fatalf("topic of a disbanded community: %v", err)
	}
}
