package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// userDelTests: a write naming a user confirms the user in its own transaction
// (so nothing of a deleted user is written, even by a write that raced the
// deletion), a deleted user leaves no state a re-imported one inherits, and the
// per-app writes refuse a deleted app.
var userDelTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"WritesOfDeletedUserRefused", testWritesOfDeletedUserRefused},
	{"DeleteUsersRemovesConvStateAndStatus", testDeleteUsersRemovesConvStateAndStatus},
	{"DeletedAppRefusesAppWrites", testDeletedAppRefusesAppWrites},
	{"AddBlocksVsDeleteUsersConcurrent", testAddBlocksVsDeleteUsersConcurrent},
}

// testWritesOfDeletedUserRefused: every store write that inserts a row naming a
// user (as owner or peer) answers errs.ErrNotFound for a deleted user and
// writes nothing.
func testWritesOfDeletedUserRefused(t *testing.T, s store.Store) {
	importUsers(t, s, app1, "owner", "gone")
	must(t, s.DeleteUsers(ctx, app1, []string{"gone"}))
	notFound := func(what string, err error) {
		t.Helper()
		if !isErr(err, errs.ErrNotFound) {
			t.Errorf("%s of a deleted user: %v, want ErrNotFound", what, err)
		}
	}
	// Relations, the deleted user as peer and as owner.
	got, err := s.AddBlocks(ctx, app1, "owner", []string{"gone"}, t0, 0)
	if err != nil || !isErr(got["gone"], errs.ErrNotFound) {
		t.Errorf("AddBlocks of a deleted peer: %v, %v; want its item ErrNotFound", got, err)
	}
	_, err = s.AddBlocks(ctx, app1, "gone", []string{"owner"}, t0, 0)
	notFound("AddBlocks by", err)
	_, err = s.AddFriends(ctx, app1, both("owner", "gone", 1), 0)
	notFound("AddFriends", err)
	notFound("PutFriendRequest", s.PutFriendRequest(ctx, app1, store.FriendRequest{From: "owner", To: "gone", At: t0}, 0))
	_, err = s.AddFriendLists(ctx, app1, "gone", []string{"L"}, nil, 0)
	notFound("AddFriendLists", err)
	if r, err := s.BlockRelations(ctx, app1, "gone", []string{"owner"}); err != nil || r["owner"] != (store.Relation{}) {
		t.Errorf("blocks of a deleted user: %+v, %v", r, err)
	}
	if r := relOf(t, s, "gone", "owner"); r["owner"] != (store.Relation{}) {
		t.Errorf("friends of a deleted user: %+v", r)
	}
	if l, err := s.FriendLists(ctx, app1, "gone"); err != nil || len(l) != 0 {
		t.Errorf("friend lists of a deleted user: %v, %v", l, err)
	}
	// Push data, mutes, status.
	notFound("SetUserPushAttrs", s.SetUserPushAttrs(ctx, app1, "gone", map[int]string{0: "v"}))
	notFound("AddUserPushTags", s.AddUserPushTags(ctx, app1, "gone", []string{"t"}, 100))
	if a, err := s.UserPushAttrs(ctx, app1, []string{"gone"}); err != nil || len(a) != 0 {
		t.Errorf("push attributes of a deleted user: %v, %v", a, err)
	}
	if tg, err := s.UserPushTags(ctx, app1, []string{"gone"}); err != nil || len(tg) != 0 {
		t.Errorf("push tags of a deleted user: %v, %v", tg, err)
	}
	notFound("SetMute", s.SetMute(ctx, app1, "gone", store.Mute{C2CUntil: store.MuteForever}))
	if m, err := s.GetMute(ctx, app1, "gone"); err != nil || m != (store.Mute{}) {
		t.Errorf("mute of a deleted user: %+v, %v", m, err)
	}
	notFound("SetCustomStatus", s.SetCustomStatus(ctx, app1, "gone", "away", t0))
	// Conversation state of the deleted user as owner.
	notFound("SetPinned", s.SetPinned(ctx, app1, "gone", c2c("owner"), true, t0))
	_, _, err = s.SetMarks(ctx, app1, "gone", []store.MarkChange{{Conv: c2c("owner"), Set: 1}}, 10, t0)
	notFound("SetMarks", err)
	_, err = s.CreateConvGroup(ctx, app1, "gone", "g", []store.ConvID{c2c("owner")}, 10, 10, t0)
	notFound("CreateConvGroup", err)
	if st, gs, err := s.ConvStates(ctx, app1, "gone"); err != nil || len(st) != 0 || len(gs) != 0 {
		t.Errorf("conversation state of a deleted user: %+v %+v, %v", st, gs, err)
	}
	// The same user imported again starts with nothing.
	importUsers(t, s, app1, "gone")
	if st, gs, _ := s.ConvStates(ctx, app1, "gone"); len(st) != 0 || len(gs) != 0 {
		t.Errorf("a re-imported user has conversation state: %+v %+v", st, gs)
	}
}

// testDeleteUsersRemovesConvStateAndStatus: pins, marks, conversation groups
// and the custom status go with the account; the conversation list (which
// follows the message history, kept by design) stays.
func testDeleteUsersRemovesConvStateAndStatus(t *testing.T, s store.Store) {
	importUsers(t, s, app1, "a", "b")
	applyOK(t, s, send("a", "b", 1, "m1"))
	at := t0.Add(time.Hour)
	must(t, s.SetPinned(ctx, app1, "a", c2c("b"), true, at))
	if _, res, err := s.SetMarks(ctx, app1, "a", []store.MarkChange{{Conv: c2c("x"), Set: 2}}, 10, at); err != nil || res[0] != nil {
		t.Fatalf("SetMarks: %v %v", res, err)
	}
	if _, err := s.CreateConvGroup(ctx, app1, "a", "work", []store.ConvID{c2c("b")}, 10, 10, at); err != nil {
		t.Fatal(err)
	}
	must(t, s.SetCustomStatus(ctx, app1, "a", "busy", at))
	must(t, s.SetPinned(ctx, app1, "b", c2c("a"), true, at)) // b's own state stays
	must(t, s.DeleteUsers(ctx, app1, []string{"a"}))
	// Imported again with a creation time before the old rows.
	importUsers(t, s, app1, "a")
	if st, gs, err := s.ConvStates(ctx, app1, "a"); err != nil || len(st) != 0 || len(gs) != 0 {
		t.Fatalf("a re-imported user inherits conversation state: %+v %+v, %v", st, gs, err)
	}
	if cs, err := s.CustomStatuses(ctx, app1, []string{"a"}); err != nil || len(cs) != 0 {
		t.Fatalf("a re-imported user inherits the status: %v, %v", cs, err)
	}
	// The group and its id start over: a new group is number 1 again.
	g, err := s.CreateConvGroup(ctx, app1, "a", "work", nil, 10, 10, at)
	if err != nil || g.ID != 1 {
		t.Fatalf("new group of a re-imported user: %+v, %v; want ID 1", g, err)
	}
	if st, _, _ := s.ConvStates(ctx, app1, "b"); len(st) != 1 || !st[0].Pinned {
		t.Fatalf("the other user's state: %+v", st)
	}
	if len(convs(t, s, app1, "a")) != 1 {
		t.Fatal("the conversation list follows the kept history and stays")
	}
}

// testDeletedAppRefusesAppWrites: the per-app writes of operators and the REST
// API refuse a deleted app (errs.ErrNotFound) and write nothing.
func testDeletedAppRefusesAppWrites(t *testing.T, s store.Store) {
	createAccount(t, s, "accX")
	a := createApp(t, s, "accX", "doomed", 0)
	must(t, s.DeleteApp(ctx, a.SDKAppID, t0))
	id := a.SDKAppID
	if err := s.AddProfileField(ctx, id, store.ProfileField{Name: "hobby", Type: "string", MaxBytes: 10, CreatedAt: t0}, 10); !isErr(err, errs.ErrNotFound) {
		t.Errorf("AddProfileField of a deleted app: %v", err)
	}
	if fs, err := s.ProfileFields(ctx, id); err != nil || len(fs) != 0 {
		t.Errorf("profile fields of a deleted app: %v, %v", fs, err)
	}
	if err := s.SetAppSettings(ctx, id, map[string]string{"friend_only_c2c": "on"}); !isErr(err, errs.ErrNotFound) {
		t.Errorf("SetAppSettings of a deleted app: %v", err)
	}
	if kv, err := s.GetAppSettings(ctx, id); err != nil || len(kv) != 0 {
		t.Errorf("settings of a deleted app: %v, %v", kv, err)
	}
	if err := s.SetPushAttrNames(ctx, id, map[int]string{0: "sex"}); !isErr(err, errs.ErrNotFound) {
		t.Errorf("SetPushAttrNames of a deleted app: %v", err)
	}
	if n, err := s.PushAttrNames(ctx, id); err != nil || len(n) != 0 {
		t.Errorf("push attribute names of a deleted app: %v, %v", n, err)
	}
	if err := s.CreatePushTask(ctx, pushTask(id, "late", t0), testRate); !isErr(err, errs.ErrNotFound) {
		t.Errorf("CreatePushTask of a deleted app: %v", err)
	}
	if _, err := s.PushTask(ctx, id, "late"); !isErr(err, errs.ErrNotFound) {
		t.Errorf("push task of a deleted app: %v", err)
	}
}

// testAddBlocksVsDeleteUsersConcurrent: users blocking an account while it is
// deleted leave no blocklist row naming it (each AddBlocks either commits
// before the deletion, which then removes its row, or sees the account gone).
func testAddBlocksVsDeleteUsersConcurrent(t *testing.T, s store.Store) {
	const n = 8
	owners := make([]string, 0, n)
	for i := 0; i < n/2; i++ { // owners sorting before and after the victim
		owners = append(owners, fmt.Sprintf("a%d", i), fmt.Sprintf("z%d", i))
	}
	importUsers(t, s, app1, append([]string{"victim"}, owners...)...)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, o := range owners {
		wg.Add(1)
		go func(o string) {
			defer wg.Done()
			<-start
			got, err := s.AddBlocks(ctx, app1, o, []string{"victim"}, t0, 0)
			if err != nil || (got["victim"] != nil && !isErr(got["victim"], errs.ErrNotFound)) {
				t.Errorf("AddBlocks by %s: %v, %v", o, got, err)
			}
		}(o)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		if err := s.DeleteUsers(ctx, app1, []string{"victim"}); err != nil {
			t.Errorf("DeleteUsers: %v", err)
		}
	}()
	close(start)
	wg.Wait()
	for _, o := range owners {
		if bs, total, err := s.ListBlocks(ctx, app1, o, 0, 10); err != nil || total != 0 {
			t.Errorf("%s blocks the deleted victim: %+v (%d), %v", o, bs, total, err)
		}
	}
}
