package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// testPush covers store.Push: attribute names, user attributes and tags, target
// selection by keyset pages, tasks with their progress and the push rate.
func testPush(t *testing.T, s store.Store) {
	t.Run("AttrNames", func(t *testing.T) { testPushAttrNames(t, s) })
	t.Run("UserAttrs", func(t *testing.T) { testPushUserAttrs(t, s) })
	t.Run("UserTags", func(t *testing.T) { testPushUserTags(t, s) })
	t.Run("Targets", func(t *testing.T) { testPushTargets(t, s) })
	t.Run("DeleteUsersRemovesPushData", func(t *testing.T) { testPushDeleteUsers(t, s) })
	t.Run("Tasks", func(t *testing.T) { testPushTasks(t, s) })
	t.Run("RateConcurrent", func(t *testing.T) { testPushRateConcurrent(t, s) })
	t.Run("DeleteAppRemovesPushData", func(t *testing.T) { testPushDeleteApp(t, s) })
}

func testPushAttrNames(t *testing.T, s store.Store) {
	const app = 1400000101
	if err := s.SetPushAttrNames(ctx, app, map[int]string{0: "sex", 1: "city"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPushAttrNames(ctx, app, map[int]string{1: "town", 9: "level"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.PushAttrNames(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]string{0: "sex", 1: "town", 9: "level"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	other, err := s.PushAttrNames(ctx, app+1)
	if err != nil || len(other) != 0 {
		t.Fatalf("another app's names: %v, %v", other, err)
	}
}

func testPushUserAttrs(t *testing.T, s store.Store) {
	const app = 1400000102
	importUsers(t, s, app, "alice", "bob")
	importUsers(t, s, app+1, "alice")
	must(t, s.SetUserPushAttrs(ctx, app, "alice", map[int]string{0: "f", 1: "Paris"}))
	must(t, s.SetUserPushAttrs(ctx, app, "alice", map[int]string{1: "Lyon", 2: "gold"}))
	must(t, s.SetUserPushAttrs(ctx, app, "bob", map[int]string{0: "m"}))
	must(t, s.SetUserPushAttrs(ctx, app+1, "alice", map[int]string{0: "x"}))
	must(t, s.RemoveUserPushAttrs(ctx, app, "alice", []int{2, 7}))
	got, err := s.UserPushAttrs(ctx, app, []string{"alice", "bob", "carol"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int]string{"alice": {0: "f", 1: "Lyon"}, "bob": {0: "m"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("attrs %v, want %v", got, want)
	}
}

func testPushUserTags(t *testing.T, s store.Store) {
	const app, other = 1400000103, 1400000113 // other: no other test's app
	importUsers(t, s, app, "alice", "bob")
	importUsers(t, s, other, "alice")
	must(t, s.AddUserPushTags(ctx, app, "alice", []string{"b", "a"}, 3))
	must(t, s.AddUserPushTags(ctx, app, "alice", []string{"a", "c"}, 3)) // "a" again: still 3
	// A fourth tag passes the limit: nothing of the call is added.
	if err := s.AddUserPushTags(ctx, app, "alice", []string{"d", "e"}, 3); !isErr(err, errLimit) {
		t.Fatalf("over the limit: %v, want ErrLimit", err)
	}
	must(t, s.AddUserPushTags(ctx, app, "bob", []string{"a"}, 3))
	must(t, s.AddUserPushTags(ctx, other, "alice", []string{"z"}, 3))
	got, err := s.UserPushTags(ctx, app, []string{"alice", "bob", "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"alice": {"a", "b", "c"}, "bob": {"a"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	must(t, s.RemoveUserPushTags(ctx, app, "alice", []string{"b", "nope"}))
	must(t, s.RemoveAllUserPushTags(ctx, app, []string{"bob"}))
	got, _ = s.UserPushTags(ctx, app, []string{"alice", "bob"})
	if want := map[string][]string{"alice": {"a", "c"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after removal: %v, want %v", got, want)
	}
	otherTags, _ := s.UserPushTags(ctx, other, []string{"alice"})
	if !reflect.DeepEqual(otherTags, map[string][]string{"alice": {"z"}}) {
		t.Fatalf("the other app's tags changed: %v", otherTags)
	}
}

// pushUsers imports n users u000..u(n-1) into app.
func pushUsers(t *testing.T, s store.Store, app int64, n int) []string {
	t.Helper()
	var users []store.User
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("u%03d", i)
		users = append(users, store.User{UserID: id, CreatedAt: t0})
		ids = append(ids, id)
	}
	must(t, s.ImportUsers(ctx, app, users))
	return ids
}

// allTargets pages through PushTargets with the given page size.
func allTargets(t *testing.T, s store.Store, app int64, c store.PushCondition, page int) []string {
	t.Helper()
	out := []string{}
	after := ""
	for {
		ids, err := s.PushTargets(ctx, app, c, after, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > page {
			t.Fatalf("page of %d for limit %d", len(ids), page)
		}
		for i, id := range ids {
			if id <= after || (i > 0 && id <= ids[i-1]) {
				t.Fatalf("page %v after %q is not ascending", ids, after)
			}
		}
		out = append(out, ids...)
		if len(ids) < page {
			return out
		}
		after = ids[len(ids)-1]
	}
}

func testPushTargets(t *testing.T, s store.Store) {
	const app = 1400000104
	ids := pushUsers(t, s, app, 30)
	pushUsers(t, s, app+1, 5) // another app's users are never selected
	must(t, s.AddUserPushTags(ctx, app+1, "u001", []string{"even"}, 100))
	// Tags: "even" on even users, "three" on multiples of 3; attrs: slot 0 "f"
	// on even users, slot 1 "gold" on multiples of 5.
	want := map[string][]string{}
	for i, id := range ids {
		if i%2 == 0 {
			must(t, s.AddUserPushTags(ctx, app, id, []string{"even"}, 100))
			must(t, s.SetUserPushAttrs(ctx, app, id, map[int]string{0: "f"}))
		} else {
			must(t, s.SetUserPushAttrs(ctx, app, id, map[int]string{0: "m"}))
		}
		if i%3 == 0 {
			must(t, s.AddUserPushTags(ctx, app, id, []string{"three"}, 100))
		}
		if i%5 == 0 {
			must(t, s.SetUserPushAttrs(ctx, app, id, map[int]string{1: "gold"}))
		}
		want["all"] = append(want["all"], id)
		if i%2 == 0 && i%3 == 0 {
			want["and"] = append(want["and"], id)
		}
		if i%2 == 0 || i%3 == 0 {
			want["or"] = append(want["or"], id)
		}
		if i%2 == 0 && i%5 == 0 {
			want["attrAnd"] = append(want["attrAnd"], id)
		}
		if i%2 == 0 || i%5 == 0 {
			want["attrOr"] = append(want["attrOr"], id)
		}
		if i%3 == 0 && i%2 == 0 {
			want["andOr"] = append(want["andOr"], id)
		}
	}
	conds := map[string]store.PushCondition{
		"all":     {},
		"and":     {TagsAnd: []string{"even", "three"}},
		"or":      {TagsOr: []string{"three", "even"}},
		"attrAnd": {AttrsAnd: map[int]string{0: "f", 1: "gold"}},
		"attrOr":  {AttrsOr: map[int]string{0: "f", 1: "gold"}},
		"none":    {TagsAnd: []string{"missing"}},
		"andOr":   {TagsAnd: []string{"three"}, TagsOr: []string{"even", "nope"}},
	}
	for name, c := range conds {
		for _, page := range []int{1, 4, 7, 100} {
			got := allTargets(t, s, app, c, page)
			w := want[name]
			if w == nil {
				w = []string{}
			}
			sort.Strings(w)
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("%s, pages of %d: %v, want %v", name, page, got, w)
			}
		}
	}
	// andOr mixes tags with attributes in the OR side is not a valid condition for
	// the domain, but the store still answers one that combines both.
	got := allTargets(t, s, app, store.PushCondition{TagsAnd: []string{"even"}, AttrsOr: map[int]string{1: "gold"}}, 3)
	var w []string
	for i, id := range ids {
		if i%2 == 0 && i%5 == 0 {
			w = append(w, id)
		}
	}
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("tags and attrs: %v, want %v", got, w)
	}
}

func testPushDeleteUsers(t *testing.T, s store.Store) {
	const app = 1400000105
	pushUsers(t, s, app, 3)
	for _, u := range []string{"u000", "u001", "u002"} {
		must(t, s.AddUserPushTags(ctx, app, u, []string{"t"}, 100))
		must(t, s.SetUserPushAttrs(ctx, app, u, map[int]string{0: "v"}))
	}
	must(t, s.DeleteUsers(ctx, app, []string{"u001"}))
	if got := allTargets(t, s, app, store.PushCondition{TagsAnd: []string{"t"}}, 10); !reflect.DeepEqual(got, []string{"u000", "u002"}) {
		t.Fatalf("tag targets after deleting u001: %v", got)
	}
	if got := allTargets(t, s, app, store.PushCondition{AttrsOr: map[int]string{0: "v"}}, 10); !reflect.DeepEqual(got, []string{"u000", "u002"}) {
		t.Fatalf("attr targets after deleting u001: %v", got)
	}
	must(t, s.ImportUsers(ctx, app, []store.User{{UserID: "u001", CreatedAt: t0}}))
	tags, _ := s.UserPushTags(ctx, app, []string{"u001"})
	attrs, _ := s.UserPushAttrs(ctx, app, []string{"u001"})
	if len(tags) != 0 || len(attrs) != 0 {
		t.Fatalf("a re-imported user has the old push data: %v %v", tags, attrs)
	}
}

func pushTask(app int64, id string, at time.Time) store.PushTask {
	return store.PushTask{
		ID: id, App: app, From: "admin", MsgRandom: 4000000000, MsgSeq: 77, MsgTime: at.Unix(),
		Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`), Lifetime: 90 * time.Second,
		Condition: store.PushCondition{TagsOr: []string{"a", "b"}, AttrsAnd: map[int]string{3: "x"}},
		CreatedAt: at,
	}
}

var testRate = store.PushRate{MinInterval: time.Second, PerDay: 3}

func testPushTasks(t *testing.T, s store.Store) {
	createAccount(t, s, "accT")
	a := createApp(t, s, "accT", "push", 0)
	day := time.Date(2025, 3, 1, 23, 59, 50, 0, time.UTC)
	tk := pushTask(a.SDKAppID, "task1", day)
	must(t, s.CreatePushTask(ctx, tk, testRate))
	got, err := s.PushTask(ctx, a.SDKAppID, "task1")
	if err != nil {
		t.Fatal(err)
	}
	want := tk
	want.State, want.UpdatedAt = store.PushRunning, day
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("task:\n got  %+v\n want %+v", got, want)
	}
	if _, err := s.PushTask(ctx, a.SDKAppID+1, "task1"); !isErr(err, errNotFound) {
		t.Fatalf("another app's task: %v, want ErrNotFound", err)
	}
	// Less than a second later: refused (ErrConflict); a second later: stored.
	if err := s.CreatePushTask(ctx, pushTask(a.SDKAppID, "task2", day.Add(999*time.Millisecond)), testRate); !isErr(err, errConflict) {
		t.Fatalf("push 999 ms later: %v, want ErrConflict", err)
	}
	must(t, s.CreatePushTask(ctx, pushTask(a.SDKAppID, "task2", day.Add(time.Second)), testRate))
	must(t, s.CreatePushTask(ctx, pushTask(a.SDKAppID, "task3", day.Add(2*time.Second)), testRate))
	// The fourth of the day: ErrLimit; the next UTC day counts afresh.
	if err := s.CreatePushTask(ctx, pushTask(a.SDKAppID, "task4", day.Add(3*time.Second)), testRate); !isErr(err, errLimit) {
		t.Fatalf("fourth push of the day: %v, want ErrLimit", err)
	}
	must(t, s.CreatePushTask(ctx, pushTask(a.SDKAppID, "task4", day.Add(10*time.Second)), testRate))
	if _, err := s.PushTask(ctx, a.SDKAppID, "task4"); err != nil {
		t.Fatal(err)
	}

	// Progress, then the running list without the finished task.
	got.Cursor, got.Targets, got.Delivered, got.UpdatedAt = "u0042", 43, 40, day.Add(time.Minute)
	must(t, s.UpdatePushProgress(ctx, got))
	got2 := got
	got2.ID = "task2"
	got2.State, got2.DoneAt, got2.Error = store.PushFailed, day.Add(time.Minute), "stopped"
	got2.CreatedAt = day.Add(time.Second)
	got2.MsgTime = got2.CreatedAt.Unix()
	must(t, s.UpdatePushProgress(ctx, got2))
	back, _ := s.PushTask(ctx, a.SDKAppID, "task1")
	if back.Cursor != "u0042" || back.Targets != 43 || back.Delivered != 40 || !back.UpdatedAt.Equal(day.Add(time.Minute)) || back.State != store.PushRunning {
		t.Fatalf("progress not stored: %+v", back)
	}
	back2, _ := s.PushTask(ctx, a.SDKAppID, "task2")
	if back2.State != store.PushFailed || back2.Error != "stopped" || !back2.DoneAt.Equal(day.Add(time.Minute)) {
		t.Fatalf("failed state not stored: %+v", back2)
	}
	running, err := s.RunningPushTasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range running {
		names = append(names, r.ID)
	}
	if !reflect.DeepEqual(names, []string{"task1", "task3", "task4"}) {
		t.Fatalf("running tasks %v, want task1 task3 task4", names)
	}
}

// Concurrent pushes of one app at one instant: exactly one is stored.
func testPushRateConcurrent(t *testing.T, s store.Store) {
	createAccount(t, s, "accR")
	a := createApp(t, s, "accR", "race", 0)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreatePushTask(ctx, pushTask(a.SDKAppID, fmt.Sprintf("race%d", i), t0), testRate)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !isErr(err, errConflict):
			t.Fatalf("concurrent push: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent pushes stored, want 1", ok)
	}
}

func testPushDeleteApp(t *testing.T, s store.Store) {
	createAccount(t, s, "accD")
	a1 := createApp(t, s, "accD", "one", 0)
	a2 := createApp(t, s, "accD", "two", 0)
	for _, a := range []store.App{a1, a2} {
		pushUsers(t, s, a.SDKAppID, 1)
		must(t, s.SetPushAttrNames(ctx, a.SDKAppID, map[int]string{0: "sex"}))
		must(t, s.SetUserPushAttrs(ctx, a.SDKAppID, "u000", map[int]string{0: "f"}))
		must(t, s.AddUserPushTags(ctx, a.SDKAppID, "u000", []string{"t"}, 100))
		must(t, s.CreatePushTask(ctx, pushTask(a.SDKAppID, fmt.Sprintf("t%d", a.SDKAppID), t0), testRate))
	}
	must(t, s.DeleteApp(ctx, a1.SDKAppID, t0.Add(time.Hour)))
	for _, c := range []struct {
		app  int64
		gone bool
	}{{a1.SDKAppID, true}, {a2.SDKAppID, false}} {
		names, _ := s.PushAttrNames(ctx, c.app)
		attrs, _ := s.UserPushAttrs(ctx, c.app, []string{"u000"})
		tags, _ := s.UserPushTags(ctx, c.app, []string{"u000"})
		_, taskErr := s.PushTask(ctx, c.app, fmt.Sprintf("t%d", c.app))
		if gone := len(names) == 0 && len(attrs) == 0 && len(tags) == 0 && isErr(taskErr, errNotFound); gone != c.gone {
			t.Fatalf("app %d: names %v attrs %v tags %v task %v; want gone=%v", c.app, names, attrs, tags, taskErr, c.gone)
		}
	}
	running, _ := s.RunningPushTasks(ctx)
	var apps []int64
	for _, r := range running {
		if r.App == a1.SDKAppID || r.App == a2.SDKAppID {
			apps = append(apps, r.App)
		}
	}
	if !reflect.DeepEqual(apps, []int64{a2.SDKAppID}) {
		t.Fatalf("running tasks of the two apps after deleting one: %v", apps)
	}
}

var (
	errLimit    = errs.ErrLimit
	errNotFound = errs.ErrNotFound
	errConflict = errs.ErrConflict
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
