package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// snsTests are the relationship-chain behaviours of store.SNS and store.AppSettings.
var snsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SNSAddFriendsLimit", testSNSAddFriendsLimit},
	{"SNSAddFriendsFields", testSNSAddFriendsFields},
	{"SNSDeleteFriends", testSNSDeleteFriends},
	{"SNSListFriendsPaging", testSNSListFriendsPaging},
	{"SNSBlocks", testSNSBlocks},
	{"SNSFriendLists", testSNSFriendLists},
	{"SNSFriendRequests", testSNSFriendRequests},
	{"SNSAddFriendsConcurrent", testSNSAddFriendsConcurrent},
	{"SNSRequestsConcurrent", testSNSRequestsConcurrent},
	{"SNSDeleteAppRemoves", testSNSDeleteAppRemoves},
	{"SNSDeleteUsersRemoves", testSNSDeleteUsersRemoves},
	{"AppSettings", testAppSettings},
}

func snsUsers(t *testing.T, s store.Store, app int64, ids ...string) {
	t.Helper()
	us := make([]store.User, len(ids))
	for i, id := range ids {
		us[i] = store.User{UserID: id, Nick: id, CreatedAt: t0}
	}
	if err := s.ImportUsers(ctx, app, us); err != nil {
		t.Fatal(err)
	}
}

func fr(owner, peer string, sec int) store.Friend {
	return store.Friend{Owner: owner, Peer: peer, AddSource: "AddSource_Type_Test", AddTime: t0.Add(time.Duration(sec) * time.Second)}
}

func both(a, b string, sec int) []store.Friend { return []store.Friend{fr(a, b, sec), fr(b, a, sec)} }

func relOf(t *testing.T, s store.Store, user string, others ...string) map[string]store.Relation {
	t.Helper()
	r, err := s.FriendRelations(ctx, app1, user, others)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testSNSAddFriendsLimit(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c", "d")
	if n, err := s.AddFriends(ctx, app1, both("a", "b", 1), 2); err != nil || n != 2 {
		t.Fatalf("AddFriends a<->b = %d, %v", n, err)
	}
	// Existing rows are left alone and not counted.
	if n, err := s.AddFriends(ctx, app1, both("a", "b", 5), 2); err != nil || n != 0 {
		t.Fatalf("AddFriends again = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.AddFriends(ctx, app1, both("a", "c", 2), 2); err != nil || n != 2 {
		t.Fatalf("AddFriends a<->c = %d, %v", n, err)
	}
	// a has 2 of 2: a's list is full (the owner of the first row).
	_, err := s.AddFriends(ctx, app1, both("a", "d", 3), 2)
	var full *store.ListFull
	if !errors.As(err, &full) || full.User != "a" || !errors.Is(err, errs.ErrLimit) {
		t.Fatalf("AddFriends a<->d = %v, want ListFull of a", err)
	}
	// The peer's list full: d -> a is refused on a's row; nothing is written.
	_, err = s.AddFriends(ctx, app1, both("d", "a", 3), 2)
	if !errors.As(err, &full) || full.User != "a" {
		t.Fatalf("AddFriends d<->a = %v, want ListFull of a", err)
	}
	if r := relOf(t, s, "d", "a")["a"]; r.Mine || r.Theirs {
		t.Fatalf("a refused add wrote rows: %+v", r)
	}
	// Unknown users.
	if _, err := s.AddFriends(ctx, app1, both("d", "zed", 3), 0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("AddFriends with a missing user = %v, want ErrNotFound", err)
	}
	// Another app's users are other users.
	if _, err := s.AddFriends(ctx, app2, both("c", "d", 3), 0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("AddFriends in app2 = %v, want ErrNotFound", err)
	}
	// No limit.
	if n, err := s.AddFriends(ctx, app1, both("b", "d", 4), 0); err != nil || n != 2 {
		t.Fatalf("AddFriends b<->d = %d, %v", n, err)
	}
	want := map[string]store.Relation{"b": {Mine: true, Theirs: true}, "c": {Mine: true, Theirs: true}, "d": {}}
	if r := relOf(t, s, "a", "b", "c", "d"); !reflect.DeepEqual(r, want) {
		t.Fatalf("relations of a = %+v, want %+v", r, want)
	}
	// One-way rows.
	if _, err := s.AddFriends(ctx, app1, []store.Friend{fr("c", "d", 6)}, 0); err != nil {
		t.Fatal(err)
	}
	if r := relOf(t, s, "d", "c")["c"]; r.Mine || !r.Theirs {
		t.Fatalf("d vs c = %+v, want Theirs only", r)
	}
}

func testSNSAddFriendsFields(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b")
	f := store.Friend{Owner: "a", Peer: "b", Remark: "Bee", Groups: []string{"work", "gym"}, AddSource: "AddSource_Type_Web",
		AddWording: "hi, I am a", AddTime: t0, Custom: map[string]string{"Tag_SNS_Custom_Lvl": "7", "Tag_SNS_Custom_Note": `"x"`}}
	if _, err := s.AddFriends(ctx, app1, []store.Friend{f}, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetFriends(ctx, app1, "a", []string{"b", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got["b"], f) {
		t.Fatalf("GetFriends = %+v, want %+v", got, f)
	}
	// Lists named by a friend row exist.
	if l, err := s.FriendLists(ctx, app1, "a"); err != nil || !reflect.DeepEqual(l, []string{"work", "gym"}) {
		t.Fatalf("FriendLists = %v, %v", l, err)
	}
	f.Remark, f.Groups, f.Custom = "B", []string{"gym"}, map[string]string{}
	if err := s.UpdateFriend(ctx, app1, f); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetFriends(ctx, app1, "a", []string{"b"})
	if !reflect.DeepEqual(got["b"], f) {
		t.Fatalf("after update = %+v, want %+v", got["b"], f)
	}
	if err := s.UpdateFriend(ctx, app1, store.Friend{Owner: "b", Peer: "a", AddTime: t0}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("UpdateFriend of a non-friend = %v", err)
	}
}

func testSNSDeleteFriends(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c", "d")
	for _, p := range []string{"b", "c", "d"} {
		if _, err := s.AddFriends(ctx, app1, both("a", p, 1), 0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DeleteFriends(ctx, app1, "a", []string{"b", "zed"}, false)
	if err != nil || !reflect.DeepEqual(got, map[string]bool{"b": true, "zed": false}) {
		t.Fatalf("DeleteFriends single = %v, %v", got, err)
	}
	if r := relOf(t, s, "a", "b")["b"]; r.Mine || !r.Theirs {
		t.Fatalf("after single delete a vs b = %+v", r)
	}
	if _, err := s.DeleteFriends(ctx, app1, "a", []string{"c"}, true); err != nil {
		t.Fatal(err)
	}
	if r := relOf(t, s, "a", "c")["c"]; r.Mine || r.Theirs {
		t.Fatalf("after both delete a vs c = %+v", r)
	}
	// b still has a; a has d. Delete all, both ways: d loses a, b keeps a (a had no b).
	n, err := s.DeleteAllFriends(ctx, app1, "a", true)
	if err != nil || n != 1 {
		t.Fatalf("DeleteAllFriends = %d, %v", n, err)
	}
	want := map[string]store.Relation{"b": {Mine: false, Theirs: true}, "c": {}, "d": {}}
	if r := relOf(t, s, "a", "b", "c", "d"); !reflect.DeepEqual(r, want) {
		t.Fatalf("after delete all = %+v, want %+v", r, want)
	}
}

func testSNSListFriendsPaging(t *testing.T, s store.Store) {
	ids := []string{"owner"}
	for i := 0; i < 7; i++ {
		ids = append(ids, fmt.Sprintf("u%d", i))
	}
	snsUsers(t, s, app1, ids...)
	for i := 6; i >= 0; i-- { // added in reverse: ordered by AddTime
		if _, err := s.AddFriends(ctx, app1, []store.Friend{fr("owner", fmt.Sprintf("u%d", i), 10-i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for off := 0; ; off += 3 {
		page, total, err := s.ListFriends(ctx, app1, "owner", off, 3)
		if err != nil || total != 7 {
			t.Fatalf("ListFriends = %d, %v", total, err)
		}
		for _, f := range page {
			seen = append(seen, f.Peer)
		}
		if len(page) < 3 {
			break
		}
	}
	want := []string{"u6", "u5", "u4", "u3", "u2", "u1", "u0"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("pages = %v, want %v", seen, want)
	}
	if page, total, err := s.ListFriends(ctx, app1, "nobody", 0, 10); err != nil || total != 0 || len(page) != 0 {
		t.Fatalf("empty list = %v %d %v", page, total, err)
	}
}

func testSNSBlocks(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c", "d")
	if _, err := s.AddFriends(ctx, app1, both("a", "b", 1), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFriendRequest(ctx, app1, store.FriendRequest{From: "c", To: "a", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.AddBlocks(ctx, app1, "a", []string{"b", "c", "zed"}, t0.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got["b"] != nil || got["c"] != nil || !errors.Is(got["zed"], errs.ErrNotFound) {
		t.Fatalf("AddBlocks = %v", got)
	}
	// Blocking ends the friendship both ways and refuses pending requests.
	if r := relOf(t, s, "a", "b")["b"]; r.Mine || r.Theirs {
		t.Fatalf("a and b still friends after the block: %+v", r)
	}
	if rs, _ := s.FriendRequests(ctx, app1, "a", true); len(rs) != 0 {
		t.Fatalf("pending requests after block: %+v", rs)
	}
	// Again: ErrExists per peer, nothing else.
	got, err = s.AddBlocks(ctx, app1, "a", []string{"b"}, t0.Add(2*time.Minute), 0)
	if err != nil || !errors.Is(got["b"], errs.ErrExists) {
		t.Fatalf("AddBlocks again = %v, %v", got, err)
	}
	// The limit: a has 2, max 3: d fits, nobody further.
	got, err = s.AddBlocks(ctx, app1, "b", []string{"a", "c", "d"}, t0, 2)
	if err != nil || got["a"] != nil || got["c"] != nil || !errors.Is(got["d"], errs.ErrLimit) {
		t.Fatalf("AddBlocks over the limit = %v, %v", got, err)
	}
	rel, err := s.BlockRelations(ctx, app1, "a", []string{"b", "c", "d"})
	want := map[string]store.Relation{"b": {Mine: true, Theirs: true}, "c": {Mine: true, Theirs: false}, "d": {}}
	if err != nil || !reflect.DeepEqual(rel, want) {
		t.Fatalf("BlockRelations = %+v, %v; want %+v", rel, err, want)
	}
	list, total, err := s.ListBlocks(ctx, app1, "a", 0, 1)
	if err != nil || total != 2 || len(list) != 1 || list[0].Peer != "b" || !list[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ListBlocks = %+v, %d, %v", list, total, err)
	}
	del, err := s.DeleteBlocks(ctx, app1, "a", []string{"b", "d"})
	if err != nil || !reflect.DeepEqual(del, map[string]bool{"b": true, "d": false}) {
		t.Fatalf("DeleteBlocks = %v, %v", del, err)
	}
	if _, total, _ := s.ListBlocks(ctx, app1, "a", 0, 10); total != 1 {
		t.Fatalf("blocks after delete = %d", total)
	}
}

func testSNSFriendLists(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c")
	if _, err := s.AddFriends(ctx, app1, []store.Friend{fr("a", "b", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.AddFriendLists(ctx, app1, "a", []string{"x", "y"}, []string{"b", "c"}, 3)
	if err != nil || !reflect.DeepEqual(got, map[string]bool{"b": true, "c": false}) {
		t.Fatalf("AddFriendLists = %v, %v", got, err)
	}
	if _, err := s.AddFriendLists(ctx, app1, "a", []string{"y", "z", "w"}, nil, 3); !errors.Is(err, errs.ErrLimit) {
		t.Fatalf("AddFriendLists over the limit = %v", err)
	}
	if l, _ := s.FriendLists(ctx, app1, "a"); !reflect.DeepEqual(l, []string{"x", "y"}) {
		t.Fatalf("lists after a refused add = %v", l)
	}
	if fs, _ := s.GetFriends(ctx, app1, "a", []string{"b"}); !reflect.DeepEqual(fs["b"].Groups, []string{"x", "y"}) {
		t.Fatalf("b's groups = %v", fs["b"].Groups)
	}
	del, err := s.DeleteFriendLists(ctx, app1, "a", []string{"x", "q"})
	if err != nil || !reflect.DeepEqual(del, map[string]bool{"x": true, "q": false}) {
		t.Fatalf("DeleteFriendLists = %v, %v", del, err)
	}
	if fs, _ := s.GetFriends(ctx, app1, "a", []string{"b"}); !reflect.DeepEqual(fs["b"].Groups, []string{"y"}) {
		t.Fatalf("b's groups after delete = %v", fs["b"].Groups)
	}
	if _, err := s.AddFriendLists(ctx, app1, "zed", []string{"x"}, nil, 3); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("lists of a missing user = %v", err)
	}
}

func testSNSFriendRequests(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c", "d")
	req := func(from, to string, sec int) store.FriendRequest {
		return store.FriendRequest{From: from, To: to, AddType: "Add_Type_Both", AddSource: "AddSource_Type_T", AddWording: "hi " + to,
			Remark: "r", GroupName: "g", At: t0.Add(time.Duration(sec) * time.Second)}
	}
	for i, from := range []string{"b", "c"} {
		if err := s.PutFriendRequest(ctx, app1, req(from, "a", i), 2); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing a pending request does not count again; a third is refused.
	if err := s.PutFriendRequest(ctx, app1, req("b", "a", 5), 2); err != nil {
		t.Fatalf("replace = %v", err)
	}
	var full *store.ListFull
	if err := s.PutFriendRequest(ctx, app1, req("d", "a", 6), 2); !errors.As(err, &full) || full.User != "a" {
		t.Fatalf("third request = %v, want ListFull of a", err)
	}
	in, err := s.FriendRequests(ctx, app1, "a", true)
	if err != nil || len(in) != 2 || in[0].From != "c" || in[1].From != "b" || in[1].AddWording != "hi a" || in[1].Status != store.RequestPending {
		t.Fatalf("incoming = %+v, %v", in, err)
	}
	out, _ := s.FriendRequests(ctx, app1, "b", false)
	if len(out) != 1 || out[0].To != "a" {
		t.Fatalf("outgoing of b = %+v", out)
	}
	if err := s.DecideFriendRequest(ctx, app1, "c", "a", store.RequestRefused, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideFriendRequest(ctx, app1, "c", "a", store.RequestRefused, t0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("decide twice = %v", err)
	}
	if _, err := s.GetFriendRequest(ctx, app1, "c", "a"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("refused request still pending: %v", err)
	}
	if r, err := s.GetFriendRequest(ctx, app1, "b", "a"); err != nil || r.Remark != "r" {
		t.Fatalf("GetFriendRequest = %+v, %v", r, err)
	}
	// Becoming friends marks the pending request accepted.
	if _, err := s.AddFriends(ctx, app1, both("a", "b", 9), 0); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.FriendRequests(ctx, app1, "a", true); len(in) != 0 {
		t.Fatalf("pending after friendship = %+v", in)
	}
	if err := s.PutFriendRequest(ctx, app1, req("a", "zed", 1), 0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("request to a missing user = %v", err)
	}
}

// testSNSAddFriendsConcurrent: concurrent adds to one user never exceed the limit.
func testSNSAddFriendsConcurrent(t *testing.T, s store.Store) {
	const max, n = 5, 16
	ids := []string{"hub"}
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("p%d", i))
	}
	snsUsers(t, s, app1, ids...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			_, err := s.AddFriends(ctx, app1, both(p, "hub", 1), max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errs.ErrLimit):
				full++
			default:
				t.Errorf("AddFriends: %v", err)
			}
		}(ids[i+1])
	}
	wg.Wait()
	_, total, err := s.ListFriends(ctx, app1, "hub", 0, 100)
	if err != nil || ok != max || full != n-max || total != max {
		t.Fatalf("ok %d full %d total %d (%v), want %d %d %d", ok, full, total, err, max, n-max, max)
	}
}

func testSNSDeleteAppRemoves(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "one", 0)
	snsUsers(t, s, a.SDKAppID, "x", "y")
	if _, err := s.AddFriends(ctx, a.SDKAppID, []store.Friend{fr("x", "y", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBlocks(ctx, a.SDKAppID, "y", []string{"x"}, t0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAppSettings(ctx, a.SDKAppID, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteApp(ctx, a.SDKAppID, t0); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.ListBlocks(ctx, a.SDKAppID, "y", 0, 10); total != 0 {
		t.Fatalf("blocks survive app deletion: %d", total)
	}
	if kv, _ := s.GetAppSettings(ctx, a.SDKAppID); len(kv) != 0 {
		t.Fatalf("settings survive app deletion: %v", kv)
	}
}

func testAppSettings(t *testing.T, s store.Store) {
	if kv, err := s.GetAppSettings(ctx, app1); err != nil || len(kv) != 0 {
		t.Fatalf("empty settings = %v, %v", kv, err)
	}
	if err := s.SetAppSettings(ctx, app1, map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAppSettings(ctx, app1, map[string]string{"a": "3", "b": ""}); err != nil {
		t.Fatal(err)
	}
	if kv, _ := s.GetAppSettings(ctx, app1); !reflect.DeepEqual(kv, map[string]string{"a": "3"}) {
		t.Fatalf("settings = %v", kv)
	}
	if kv, _ := s.GetAppSettings(ctx, app2); len(kv) != 0 {
		t.Fatalf("app2 settings = %v", kv)
	}
}

// testSNSDeleteUsersRemoves: a deleted account leaves every list it was in.
func testSNSDeleteUsersRemoves(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "a", "b", "c")
	if _, err := s.AddFriends(ctx, app1, append(both("a", "b", 1), fr("c", "a", 2)), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBlocks(ctx, app1, "c", []string{"b"}, t0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFriendRequest(ctx, app1, store.FriendRequest{From: "b", To: "c", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUsers(ctx, app1, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	if r := relOf(t, s, "a", "b", "c"); !reflect.DeepEqual(r, map[string]store.Relation{"b": {}, "c": {Mine: false, Theirs: true}}) {
		t.Fatalf("relations of a after deleting b = %+v", r)
	}
	if _, total, _ := s.ListBlocks(ctx, app1, "c", 0, 10); total != 0 {
		t.Fatalf("c still blocks the deleted b: %d", total)
	}
	if rs, _ := s.FriendRequests(ctx, app1, "c", true); len(rs) != 0 {
		t.Fatalf("requests of the deleted b: %+v", rs)
	}
	// Imported again, b starts with nothing.
	snsUsers(t, s, app1, "b")
	if _, total, _ := s.ListFriends(ctx, app1, "b", 0, 10); total != 0 {
		t.Fatalf("re-imported b has %d friends", total)
	}
}

// testSNSRequestsConcurrent: concurrent requests to one user never pass its limit.
func testSNSRequestsConcurrent(t *testing.T, s store.Store) {
	const max, n = 4, 12
	ids := []string{"target"}
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("r%d", i))
	}
	snsUsers(t, s, app1, ids...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for _, from := range ids[1:] {
		wg.Add(1)
		go func(from string) {
			defer wg.Done()
			err := s.PutFriendRequest(ctx, app1, store.FriendRequest{From: from, To: "target", AddType: "Add_Type_Both", At: t0}, max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errs.ErrLimit):
				full++
			default:
				t.Errorf("PutFriendRequest: %v", err)
			}
		}(from)
	}
	wg.Wait()
	in, err := s.FriendRequests(ctx, app1, "target", true)
	if err != nil || ok != max || full != n-max || len(in) != max {
		t.Fatalf("ok %d full %d pending %d (%v), want %d %d %d", ok, full, len(in), err, max, n-max, max)
	}
}
