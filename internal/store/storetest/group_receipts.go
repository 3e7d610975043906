package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// The behaviours of store.GroupReceipts: read receipts of group messages.
func init() {
	groupTests = append(groupTests, []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GroupReceipts", testGroupReceipts},
		{"GroupReceiptsConcurrent", testGroupReceiptsConcurrent},
		{"GroupReceiptsGoWithGroupAndUser", testGroupReceiptsGo},
		{"GroupReceiptsPurge", testGroupReceiptsPurge},
		{"GroupReceiptsConcurrentOrders", testGroupReceiptsOrders},
	}...)
}

func readers(t *testing.T, s store.Store, group string, msg store.ReceiptMsg, read bool, page int) []string {
	t.Helper()
	var all []string
	after := ""
	for i := 0; ; i++ {
		ids, done, err := s.GroupReceiptReaders(ctx, app1, group, msg, read, after, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > page || i > 10000 {
			t.Fatalf("page of %d > %d", len(ids), page)
		}
		all = append(all, ids...)
		if done {
			return all
		}
		after = ids[len(ids)-1]
	}
}

func testGroupReceipts(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b", "c", "d")
	mustCreate(t, s, newGroup("@TGS#_r", store.GroupWork, "o"), noQuota, "a", "b", "c")
	late := mem("d")
	late.JoinSeq = 5 // joined after messages 1..4
	if res, err := s.AddGroupMembers(ctx, app1, "@TGS#_r", []store.GroupMember{late}, noQuota); err != nil || res[0] != nil {
		t.Fatalf("AddGroupMembers = %v, %v", res, err)
	}
	m3 := store.ReceiptMsg{Seq: 3, Sender: "o"}
	m4 := store.ReceiptMsg{Seq: 4, Sender: "a", Targets: []string{"b", "c"}}
	got, err := s.GroupReceipts(ctx, app1, "@TGS#_r", []store.ReceiptMsg{m3, m4}, t0)
	want := []store.GroupReceipt{{Seq: 3, ReadNum: 0, UnreadNum: 3}, {Seq: 4, ReadNum: 0, UnreadNum: 2}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GroupReceipts = %+v, %v; want %+v", got, err, want)
	}
	changed, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_r", "b", []store.ReceiptMsg{m3, m4}, t0)
	want = []store.GroupReceipt{{Seq: 3, ReadNum: 1, UnreadNum: 2}, {Seq: 4, ReadNum: 1, UnreadNum: 1}}
	if err != nil || !reflect.DeepEqual(changed, want) {
		t.Fatalf("Mark = %+v, %v; want %+v", changed, err, want)
	}
	if changed, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_r", "b", []store.ReceiptMsg{m3, m4}, t0); err != nil || len(changed) != 0 {
		t.Fatalf("Mark again = %+v, %v; want nothing changed", changed, err)
	}
	if _, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_r", "a", []store.ReceiptMsg{m3}, t0); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GroupReceipts(ctx, app1, "@TGS#_r", []store.ReceiptMsg{m4, m3}, t0)
	want = []store.GroupReceipt{{Seq: 4, ReadNum: 1, UnreadNum: 1}, {Seq: 3, ReadNum: 2, UnreadNum: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GroupReceipts = %+v; want %+v", got, want)
	}
	if r, u := readers(t, s, "@TGS#_r", m3, true, 1), readers(t, s, "@TGS#_r", m3, false, 1); !reflect.DeepEqual(r, []string{"a", "b"}) || !reflect.DeepEqual(u, []string{"c"}) {
		t.Fatalf("readers of 3 = %v, unread %v", r, u)
	}
	if r, u := readers(t, s, "@TGS#_r", m4, true, 5), readers(t, s, "@TGS#_r", m4, false, 5); !reflect.DeepEqual(r, []string{"b"}) || !reflect.DeepEqual(u, []string{"c"}) {
		t.Fatalf("readers of 4 = %v, unread %v", r, u)
	}
	if _, err := s.MarkGroupReceipts(ctx, app1, "nope", "a", []store.ReceiptMsg{m3}, t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("mark in an unknown group: %v", err)
	}
	if _, err := s.GroupReceipts(ctx, app2, "@TGS#_r", []store.ReceiptMsg{m3}, t0); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("another app's group: %v", err)
	}
	if _, _, err := s.GroupReceiptReaders(ctx, app1, "nope", m3, true, "", 10); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("readers of an unknown group: %v", err)
	}
}

// testGroupReceiptsConcurrent: 2,000 members read one message at once; the
// counter is exact and every reader is listed once.
func testGroupReceiptsConcurrent(t *testing.T, s store.Store) {
	const n = 2000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%04d", i)
	}
	snsUsers(t, s, app1, append([]string{"o"}, ids...)...)
	g := newGroup("@TGS#_big", store.GroupWork, "o")
	g.MaxMemberNum = n + 1
	mustCreate(t, s, g, noQuota, ids...)
	msg := store.ReceiptMsg{Seq: 1, Sender: "o"}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, 16)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ch, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_big", id, []store.ReceiptMsg{msg}, t0)
			if err == nil && len(ch) != 1 {
				err = fmt.Errorf("%s: changed %v", id, ch)
			}
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GroupReceipts(ctx, app1, "@TGS#_big", []store.ReceiptMsg{msg}, t0)
	if err != nil || got[0] != (store.GroupReceipt{Seq: 1, ReadNum: n, UnreadNum: 0}) {
		t.Fatalf("GroupReceipts = %+v, %v", got, err)
	}
	if r := readers(t, s, "@TGS#_big", msg, true, store.MaxReceiptPage); !reflect.DeepEqual(r, ids) {
		t.Fatalf("%d readers listed; want %d", len(r), n)
	}
	if u := readers(t, s, "@TGS#_big", msg, false, store.MaxReceiptPage); len(u) != 0 {
		t.Fatalf("unread %v", u)
	}
}

func testGroupReceiptsGo(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("@TGS#_g", store.GroupWork, "o"), noQuota, "a", "b")
	msg := store.ReceiptMsg{Seq: 1, Sender: "o"}
	for _, u := range []string{"a", "b"} {
		if _, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_g", u, []store.ReceiptMsg{msg}, t0); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.DeleteUsers(ctx, app1, []string{"a"}))
	if r := readers(t, s, "@TGS#_g", msg, true, 10); !reflect.DeepEqual(r, []string{"b"}) {
		t.Fatalf("readers after a's deletion = %v", r)
	}
	if _, err := s.DeleteGroup(ctx, app1, "@TGS#_g", noQuota); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newGroup("@TGS#_g", store.GroupWork, "o"), noQuota, "b")
	got, err := s.GroupReceipts(ctx, app1, "@TGS#_g", []store.ReceiptMsg{msg}, t0)
	if err != nil || got[0] != (store.GroupReceipt{Seq: 1, ReadNum: 0, UnreadNum: 1}) {
		t.Fatalf("receipts of a re-created group = %+v, %v", got, err)
	}
	if r := readers(t, s, "@TGS#_g", msg, true, 10); len(r) != 0 {
		t.Fatalf("readers of a re-created group = %v", r)
	}
}

// testGroupReceiptsPurge: rows made before the retention start go; later
// ones stay.
func testGroupReceiptsPurge(t *testing.T, s store.Store) {
	snsUsers(t, s, app1, "o", "a", "b")
	mustCreate(t, s, newGroup("@TGS#_p", store.GroupWork, "o"), noQuota, "a", "b")
	old, young := store.ReceiptMsg{Seq: 1, Sender: "o"}, store.ReceiptMsg{Seq: 2, Sender: "o"}
	if _, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_p", "a", []store.ReceiptMsg{old}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_p", "a", []store.ReceiptMsg{young}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeGroupReceipts(ctx, app1, t0.Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("PurgeGroupReceipts = %d, %v; want 2 rows", n, err)
	}
	if r := readers(t, s, "@TGS#_p", old, true, 10); len(r) != 0 {
		t.Fatalf("readers of a purged message: %v", r)
	}
	got, err := s.GroupReceipts(ctx, app1, "@TGS#_p", []store.ReceiptMsg{young}, t0.Add(time.Hour))
	if err != nil || got[0] != (store.GroupReceipt{Seq: 2, ReadNum: 1, UnreadNum: 1}) {
		t.Fatalf("kept receipt = %+v, %v", got, err)
	}
}

// testGroupReceiptsOrders: readers marking the same messages in opposite
// orders at once all succeed and are all counted.
func testGroupReceiptsOrders(t *testing.T, s store.Store) {
	const n = 40
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("v%02d", i)
	}
	snsUsers(t, s, app1, append([]string{"o"}, ids...)...)
	mustCreate(t, s, newGroup("@TGS#_o", store.GroupWork, "o"), noQuota, ids...)
	m1, m2, m3 := store.ReceiptMsg{Seq: 1, Sender: "o"}, store.ReceiptMsg{Seq: 2, Sender: "o"}, store.ReceiptMsg{Seq: 3, Sender: "o"}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i, id := range ids {
		msgs := []store.ReceiptMsg{m1, m2, m3}
		if i%2 == 1 {
			msgs = []store.ReceiptMsg{m3, m2, m1}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.MarkGroupReceipts(ctx, app1, "@TGS#_o", id, msgs, t0)
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GroupReceipts(ctx, app1, "@TGS#_o", []store.ReceiptMsg{m1, m2, m3}, t0)
	want := []store.GroupReceipt{{Seq: 1, ReadNum: n}, {Seq: 2, ReadNum: n}, {Seq: 3, ReadNum: n}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GroupReceipts = %+v, %v; want %+v", got, err, want)
	}
}
