package storetest

import (
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// testCustomStatus: a custom status is stored per app and user, replaced by a
// later one, cleared by "", refused for a missing user, gone with its user and
// with its app (a re-imported user starts without one).
func testCustomStatus(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	app1 := createApp(t, s, "acc1", "one", 0).SDKAppID
	app2 := createApp(t, s, "acc1", "two", 0).SDKAppID
	for _, a := range []int64{app1, app2} {
		if err := s.ImportUsers(ctx, a, []store.User{{UserID: "alice", CreatedAt: t0}, {UserID: "bob", CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetCustomStatus(ctx, app1, "ghost", "x", t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("missing user: %v, want ErrNotFound", err)
	}
	if err := s.SetCustomStatus(ctx, app1, "alice", "at lunch", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCustomStatus(ctx, app1, "alice", "in a call ☎", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCustomStatus(ctx, app2, "bob", "other app", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.CustomStatuses(ctx, app1, []string{"alice", "bob", "ghost"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["alice"] != "in a call ☎" {
		t.Fatalf("app1 statuses = %v", got)
	}
	if err := s.SetCustomStatus(ctx, app1, "alice", "", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CustomStatuses(ctx, app1, []string{"alice"}); len(got) != 0 {
		t.Fatalf("cleared status still there: %v", got)
	}
	if got, _ := s.CustomStatuses(ctx, app2, []string{"bob"}); got["bob"] != "other app" {
		t.Fatalf("app2 status = %v", got)
	}
	if err := s.DeleteUsers(ctx, app2, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CustomStatuses(ctx, app2, []string{"bob"}); len(got) != 0 {
		t.Fatalf("deleted user's status = %v", got)
	}
	if err := s.ImportUsers(ctx, app2, []store.User{{UserID: "bob", CreatedAt: t0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CustomStatuses(ctx, app2, []string{"bob"}); len(got) != 0 {
		t.Fatalf("re-imported user got the deleted one's status: %v", got)
	}
	if err := s.SetCustomStatus(ctx, app1, "bob", "bye", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteApp(ctx, app1, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CustomStatuses(ctx, app1, []string{"alice", "bob"}); err != nil || len(got) != 0 {
		t.Fatalf("deleted app's statuses = %v, %v", got, err)
	}
}
