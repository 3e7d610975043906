package storetest

import (
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// The behaviours of store.GroupExtras: topics, attributes, counters.
func init() {
	groupTests = append(groupTests, []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GroupTopics", testGroupTopics},
		{"GroupAttrs", testGroupAttrs},
		{"GroupCounters", testGroupCounters},
		{"GroupCountersConcurrent", testGroupCountersConcurrent},
		{"GroupExtrasGoWithGroup", testGroupExtrasGoWithGroup},
		{"GroupExtrasGoWithApp", testGroupExtrasGoWithApp},
	}...)
}

func newTopic(group, suffix string) store.Topic {
	return store.Topic{App: app1, GroupID: group, TopicID: group + "@TOPIC#_" + suffix, Name: "t-" + suffix, CreatedAt: t0}
}

func testGroupTopics(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	c := newGroup("@TGS#_c", store.GroupCommunity, "o")
	c.SupportTopic = true
	mustCreate(t, s, c, noQuota)
	t1 := newTopic("@TGS#_c", "a")
	t1.Creator, t1.CustomString, t1.FaceURL, t1.Notification, t1.Introduction, t1.MuteAllMember = "o", "cs", "http://f", "n", "i", true
	got, err := s.CreateTopic(ctx, t1, 2)
	if err != nil || !reflect.DeepEqual(got, t1) {
		t.Fatalf("CreateTopic = %+v, %v; want %+v", got, err, t1)
	}
	if _, err := s.CreateTopic(ctx, t1, 2); !isErr(err, errs.ErrExists) {
		t.Fatalf("duplicate topic: %v", err)
	}
	t2 := newTopic("@TGS#_c", "b")
	t2.CreatedAt = t0.Add(-time.Hour) // imported, older
	if _, err := s.CreateTopic(ctx, t2, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTopic(ctx, newTopic("@TGS#_c", "c"), 2); limitOf(err) != store.LimitTopics {
		t.Fatalf("third topic with max 2: %v", err)
	}
	if _, err := s.CreateTopic(ctx, newTopic("nope", "a"), 0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("topic of an unknown group: %v", err)
	}
	other := newTopic("@TGS#_c", "x")
	other.App = app2
	if _, err := s.CreateTopic(ctx, other, 0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("topic of another app's group: %v", err)
	}
	list, err := s.GroupTopics(ctx, app1, "@TGS#_c")
	if err != nil || len(list) != 2 || list[0].TopicID != t2.TopicID || list[1].TopicID != t1.TopicID {
		t.Fatalf("GroupTopics = %+v, %v", list, err)
	}
	if _, err := s.GroupTopics(ctx, app1, "nope"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("topics of an unknown group: %v", err)
	}
	name, off := "renamed", false
	up, err := s.UpdateTopic(ctx, app1, "@TGS#_c", t1.TopicID, store.TopicUpdate{Name: &name, MuteAllMember: &off})
	if err != nil || up.Name != "renamed" || up.MuteAllMember || up.CustomString != "cs" || up.Introduction != "i" {
		t.Fatalf("UpdateTopic = %+v, %v", up, err)
	}
	if _, err := s.UpdateTopic(ctx, app1, "other", t1.TopicID, store.TopicUpdate{Name: &name}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("update through another group: %v", err)
	}
	if err := s.DeleteTopic(ctx, app1, "@TGS#_c", t1.TopicID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTopic(ctx, app1, "@TGS#_c", t1.TopicID); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := s.GetTopic(ctx, app1, t1.TopicID); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("deleted topic: %v", err)
	}
	if _, err := s.CreateTopic(ctx, newTopic("@TGS#_c", "c"), 2); err != nil {
		t.Fatalf("a slot freed by the deletion: %v", err)
	}
}

func testGroupAttrs(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	mustCreate(t, s, newGroup("g", store.GroupPublic, "o"), noQuota)
	b := store.AttrBounds{MaxKeys: 3, MaxBytes: 20}
	if got, err := s.GroupAttrs(ctx, app1, "g"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no attrs: %v, %v", got, err)
	}
	must(t, s.PutGroupAttrs(ctx, app1, "g", map[string]string{"a": "1", "b": "2"}, false, b))
	must(t, s.PutGroupAttrs(ctx, app1, "g", map[string]string{"b": "3", "c": "4"}, false, b))
	want := map[string]string{"a": "1", "b": "3", "c": "4"}
	if got, _ := s.GroupAttrs(ctx, app1, "g"); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	if err := s.PutGroupAttrs(ctx, app1, "g", map[string]string{"d": "5"}, false, b); limitOf(err) != store.LimitAttrKeys {
		t.Fatalf("fourth key: %v", err)
	}
	if err := s.PutGroupAttrs(ctx, app1, "g", map[string]string{"a": "1234567890123456"}, false, b); limitOf(err) != store.LimitAttrBytes {
		t.Fatalf("over the bytes: %v", err)
	}
	if got, _ := s.GroupAttrs(ctx, app1, "g"); !reflect.DeepEqual(got, want) {
		t.Fatalf("refused writes changed %v", got)
	}
	must(t, s.PutGroupAttrs(ctx, app1, "g", map[string]string{"x": "y"}, true, b))
	if got, _ := s.GroupAttrs(ctx, app1, "g"); !reflect.DeepEqual(got, map[string]string{"x": "y"}) {
		t.Fatalf("replaced %v", got)
	}
	must(t, s.ClearGroupAttrs(ctx, app1, "g"))
	if got, _ := s.GroupAttrs(ctx, app1, "g"); len(got) != 0 {
		t.Fatalf("cleared %v", got)
	}
	for _, err := range []error{s.PutGroupAttrs(ctx, app2, "g", map[string]string{"a": "1"}, false, b), s.ClearGroupAttrs(ctx, app1, "nope")} {
		if !isErr(err, errs.ErrNotFound) {
			t.Fatalf("unknown group: %v", err)
		}
	}
	if _, err := s.GroupAttrs(ctx, app2, "g"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("another app's group: %v", err)
	}
}

func testGroupCounters(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	mustCreate(t, s, newGroup("g", store.GroupPublic, "o"), noQuota)
	got, err := s.UpdateGroupCounters(ctx, app1, "g", store.CounterSet, map[string]int64{"like": 5, "gift": 1}, 3)
	if err != nil || !reflect.DeepEqual(got, map[string]int64{"like": 5, "gift": 1}) {
		t.Fatalf("Set = %v, %v", got, err)
	}
	got, err = s.UpdateGroupCounters(ctx, app1, "g", store.CounterIncrease, map[string]int64{"like": 2, "new": 7}, 3)
	if err != nil || !reflect.DeepEqual(got, map[string]int64{"like": 7, "new": 7}) {
		t.Fatalf("Increase = %v, %v", got, err)
	}
	got, err = s.UpdateGroupCounters(ctx, app1, "g", store.CounterDecrease, map[string]int64{"gift": 3}, 3)
	if err != nil || got["gift"] != -2 {
		t.Fatalf("Decrease = %v, %v", got, err)
	}
	if _, err := s.UpdateGroupCounters(ctx, app1, "g", store.CounterSet, map[string]int64{"fourth": 1}, 3); limitOf(err) != store.LimitCounterKeys {
		t.Fatalf("fourth key: %v", err)
	}
	must2(t, s, store.CounterSet, map[string]int64{"like": math.MaxInt64 - 1})
	if _, err := s.UpdateGroupCounters(ctx, app1, "g", store.CounterIncrease, map[string]int64{"like": 2, "gift": 1}, 3); limitOf(err) != store.LimitCounterRange {
		t.Fatalf("overflow: %v", err)
	}
	must2(t, s, store.CounterSet, map[string]int64{"gift": math.MinInt64 + 1})
	if _, err := s.UpdateGroupCounters(ctx, app1, "g", store.CounterDecrease, map[string]int64{"gift": 2}, 3); limitOf(err) != store.LimitCounterRange {
		t.Fatalf("underflow: %v", err)
	}
	all, err := s.GroupCounters(ctx, app1, "g", nil)
	want := map[string]int64{"like": math.MaxInt64 - 1, "gift": math.MinInt64 + 1, "new": 7}
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("GroupCounters = %v, %v; want %v (refused updates change nothing)", all, err, want)
	}
	some, _ := s.GroupCounters(ctx, app1, "g", []string{"new", "absent"})
	if !reflect.DeepEqual(some, map[string]int64{"new": 7}) {
		t.Fatalf("selected %v", some)
	}
	must(t, s.DeleteGroupCounters(ctx, app1, "g", []string{"new", "absent"}))
	if all, _ := s.GroupCounters(ctx, app1, "g", nil); len(all) != 2 {
		t.Fatalf("after delete %v", all)
	}
	if _, err := s.GroupCounters(ctx, app2, "g", nil); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("another app's group: %v", err)
	}
	if _, err := s.UpdateGroupCounters(ctx, app1, "nope", store.CounterSet, map[string]int64{"a": 1}, 0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
}

func must2(t *testing.T, s store.Store, mode string, vals map[string]int64) {
	t.Helper()
	if _, err := s.UpdateGroupCounters(ctx, app1, "g", mode, vals, 0); err != nil {
		t.Fatal(err)
	}
}

// testGroupCountersConcurrent: concurrent Increase and Decrease of one counter
// are exact.
func testGroupCountersConcurrent(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	mustCreate(t, s, newGroup("g", store.GroupAVChatRoom, "o"), noQuota)
	const n, each = 8, 10
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				mode, v := store.CounterIncrease, int64(3)
				if i%2 == 1 {
					mode, v = store.CounterDecrease, 1
				}
				if _, err := s.UpdateGroupCounters(ctx, app1, "g", mode, map[string]int64{"likes": v, fmt.Sprint("w", i): 1}, 20); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	all, err := s.GroupCounters(ctx, app1, "g", []string{"likes"})
	if want := int64(n/2*each*3 - n/2*each); err != nil || all["likes"] != want {
		t.Fatalf("likes = %v, %v; want %d", all, err, want)
	}
}

// testGroupExtrasGoWithGroup: disbanding a group removes its topics,
// attributes and counters; a group of the same id starts empty.
func testGroupExtrasGoWithGroup(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o")
	c := newGroup("@TGS#_c", store.GroupCommunity, "o")
	c.SupportTopic = true
	mustCreate(t, s, c, noQuota)
	if _, err := s.CreateTopic(ctx, newTopic("@TGS#_c", "a"), 0); err != nil {
		t.Fatal(err)
	}
	must(t, s.PutGroupAttrs(ctx, app1, "@TGS#_c", map[string]string{"k": "v"}, false, store.AttrBounds{}))
	if _, err := s.UpdateGroupCounters(ctx, app1, "@TGS#_c", store.CounterSet, map[string]int64{"k": 1}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteGroup(ctx, app1, "@TGS#_c", noQuota); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTopic(ctx, app1, "@TGS#_c@TOPIC#_a"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("topic survives its community: %v", err)
	}
	mustCreate(t, s, c, noQuota)
	topics, _ := s.GroupTopics(ctx, app1, "@TGS#_c")
	attrs, _ := s.GroupAttrs(ctx, app1, "@TGS#_c")
	counters, _ := s.GroupCounters(ctx, app1, "@TGS#_c", nil)
	if len(topics)+len(attrs)+len(counters) != 0 {
		t.Fatalf("a recreated group inherits %v %v %v", topics, attrs, counters)
	}
}

// testGroupExtrasGoWithApp: deleting an app removes its topics, attributes and
// counters (and no other app's).
func testGroupExtrasGoWithApp(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	fill := func(app int64) {
		snsUsers(t, s, app, "o")
		c := newGroup("@TGS#_c", store.GroupCommunity, "o")
		c.App, c.SupportTopic = app, true
		mustCreate(t, s, c, noQuota)
		tp := newTopic("@TGS#_c", "a")
		tp.App = app
		if _, err := s.CreateTopic(ctx, tp, 0); err != nil {
			t.Fatal(err)
		}
		must(t, s.PutGroupAttrs(ctx, app, "@TGS#_c", map[string]string{"k": "v"}, false, store.AttrBounds{}))
		if _, err := s.UpdateGroupCounters(ctx, app, "@TGS#_c", store.CounterSet, map[string]int64{"k": 1}, 0); err != nil {
			t.Fatal(err)
		}
	}
	doomed, kept := createApp(t, s, "acc1", "doomed", 0), createApp(t, s, "acc1", "kept", 0)
	fill(doomed.SDKAppID)
	fill(kept.SDKAppID)
	r, ok := s.(appRowser)
	if ok {
		rows, err := r.AppRows(ctx, doomed.SDKAppID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range []string{"im_group_topics", "im_group_attrs", "im_group_counters"} {
			if rows[tb] != 1 {
				t.Fatalf("AppRows does not count %s: %v", tb, rows)
			}
		}
	}
	must(t, s.DeleteApp(ctx, doomed.SDKAppID, t0))
	if _, err := s.GetTopic(ctx, doomed.SDKAppID, "@TGS#_c@TOPIC#_a"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("topic survives its app: %v", err)
	}
	if ok {
		if rows, err := r.AppRows(ctx, doomed.SDKAppID); err != nil || len(rows) != 0 {
			t.Fatalf("rows of the deleted app remain: %v, %v", rows, err)
		}
	}
	if _, err := s.GetTopic(ctx, kept.SDKAppID, "@TGS#_c@TOPIC#_a"); err != nil {
		t.Fatalf("the other app's topic: %v", err)
	}
	if got, err := s.GroupCounters(ctx, kept.SDKAppID, "@TGS#_c", nil); err != nil || got["k"] != 1 {
		t.Fatalf("the other app's counters: %v, %v", got, err)
	}
}
