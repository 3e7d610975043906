package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func account(id string) store.Account {
	return store.Account{ID: id, Name: "Name " + id, Email: id + "@example.com", Phone: "+100" + id, Status: "active", CreatedAt: t0}
}

func app(accountID, name string) store.App {
	return store.App{
		AccountID: accountID,
		Name:      name,
		Region:    "sg",
		SecretKey: "secret-" + name,
		AdminUser: "administrator",
		Edition:   "trial",
		Status:    "active",
		CreatedAt: t0.Add(1500 * time.Millisecond),
		ExpiresAt: t0.AddDate(0, 1, 0),
	}
}

func createAccount(t *testing.T, s store.Store, id string) {
	t.Helper()
	if err := s.CreateAccount(ctx, account(id)); err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
}

func createApp(t *testing.T, s store.Store, accountID, name string, maxApps int) store.App {
	t.Helper()
	a, err := s.CreateApp(ctx, app(accountID, name), maxApps)
	if err != nil {
		t.Fatalf("CreateApp(%s, %s): %v", accountID, name, err)
	}
	return a
}

func testAccounts(t *testing.T, s store.Store) {
	want := account("acc1")
	want.CreatedAt = t0.Add(123 * time.Millisecond).In(time.FixedZone("X", 3600))
	if err := s.CreateAccount(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAccount(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v in UTC", got.CreatedAt, want.CreatedAt)
	}
	want.CreatedAt = want.CreatedAt.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetAccount = %+v, want %+v", got, want)
	}

	dup := account("acc1")
	dup.Name = "other"
	if err := s.CreateAccount(ctx, dup); !isErr(err, errs.ErrExists) {
		t.Fatalf("duplicate CreateAccount: %v, want ErrExists", err)
	}
	if got, _ := s.GetAccount(ctx, "acc1"); got.Name != want.Name {
		t.Fatalf("duplicate CreateAccount changed the account: %+v", got)
	}
	if _, err := s.GetAccount(ctx, "nobody"); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("GetAccount(missing): %v, want ErrNotFound", err)
	}
}

func testCreateAppAllocatesIDs(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	createAccount(t, s, "acc2")

	a1 := createApp(t, s, "acc1", "one", 0)
	if a1.SDKAppID != 1400000001 {
		t.Fatalf("first SDKAppID = %d, want 1400000001", a1.SDKAppID)
	}
	want := app("acc1", "one")
	want.SDKAppID = a1.SDKAppID
	if !reflect.DeepEqual(a1, want) {
		t.Fatalf("CreateApp = %+v, want %+v", a1, want)
	}
	got, err := s.GetApp(ctx, a1.SDKAppID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetApp = %+v, want %+v", got, want)
	}

	a2 := createApp(t, s, "acc2", "two", 0)
	if a2.SDKAppID <= a1.SDKAppID {
		t.Fatalf("second SDKAppID %d not above %d", a2.SDKAppID, a1.SDKAppID)
	}
	deletedAt := t0.Add(time.Hour)
	if err := s.DeleteApp(ctx, a2.SDKAppID, deletedAt); err != nil {
		t.Fatal(err)
	}
	a3 := createApp(t, s, "acc2", "three", 0)
	if a3.SDKAppID <= a2.SDKAppID {
		t.Fatalf("SDKAppID %d after deleting %d: reused or not increasing", a3.SDKAppID, a2.SDKAppID)
	}

	// The deleted app stays readable as a tombstone.
	d, err := s.GetApp(ctx, a2.SDKAppID)
	if err != nil {
		t.Fatalf("GetApp(deleted): %v", err)
	}
	if d.Status != "deleted" || !d.DeletedAt.Equal(deletedAt) || d.Name != "two" {
		t.Fatalf("deleted app = %+v", d)
	}
	if _, err := s.GetApp(ctx, 1399999999); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("GetApp(missing): %v, want ErrNotFound", err)
	}
	if err := s.DeleteApp(ctx, 1399999999, deletedAt); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("DeleteApp(missing): %v, want ErrNotFound", err)
	}
}

func testCreateAppLimit(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	createAccount(t, s, "acc2")
	a := createApp(t, s, "acc1", "a", 2)
	createApp(t, s, "acc1", "b", 2)
	if _, err := s.CreateApp(ctx, app("acc1", "c"), 2); !isErr(err, errs.ErrLimit) {
		t.Fatalf("CreateApp beyond maxApps: %v, want ErrLimit", err)
	}
	// Another account has its own limit.
	createApp(t, s, "acc2", "x", 2)
	// Deleted apps do not count.
	if err := s.DeleteApp(ctx, a.SDKAppID, t0); err != nil {
		t.Fatal(err)
	}
	createApp(t, s, "acc1", "c", 2)
	if _, err := s.CreateApp(ctx, app("acc1", "d"), 2); !isErr(err, errs.ErrLimit) {
		t.Fatalf("CreateApp beyond maxApps after delete: %v, want ErrLimit", err)
	}
	apps, err := s.ListApps(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 {
		t.Fatalf("ListApps = %d apps, want 2: a refused CreateApp stored something", len(apps))
	}
}

func testCreateAppMissingAccount(t *testing.T, s store.Store) {
	if _, err := s.CreateApp(ctx, app("nobody", "a"), 5); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("CreateApp for a missing account: %v, want ErrNotFound", err)
	}
	if _, err := s.GetApp(ctx, 1400000001); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("GetApp after refused CreateApp: %v, want ErrNotFound", err)
	}
}

func testListAppsExcludesDeleted(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	createAccount(t, s, "acc2")
	a := createApp(t, s, "acc1", "a", 0)
	other := createApp(t, s, "acc2", "other", 0)
	b := createApp(t, s, "acc1", "b", 0)
	c := createApp(t, s, "acc1", "c", 0)
	if err := s.DeleteApp(ctx, b.SDKAppID, t0); err != nil {
		t.Fatal(err)
	}
	apps, err := s.ListApps(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, x := range apps {
		ids = append(ids, x.SDKAppID)
	}
	if !reflect.DeepEqual(ids, []int64{a.SDKAppID, c.SDKAppID}) {
		t.Fatalf("ListApps(acc1) = %v, want %v", ids, []int64{a.SDKAppID, c.SDKAppID})
	}
	if !reflect.DeepEqual(apps[0], a) {
		t.Fatalf("ListApps[0] = %+v, want %+v", apps[0], a)
	}
	apps, err = s.ListApps(ctx, "acc2")
	if err != nil || len(apps) != 1 || apps[0].SDKAppID != other.SDKAppID {
		t.Fatalf("ListApps(acc2) = %+v, %v", apps, err)
	}
	apps, err = s.ListApps(ctx, "nobody")
	if err != nil || len(apps) != 0 {
		t.Fatalf("ListApps(nobody) = %+v, %v", apps, err)
	}
	all, err := s.AllApps(ctx)
	ids = nil
	for _, x := range all {
		ids = append(ids, x.SDKAppID)
	}
	if want := []int64{a.SDKAppID, other.SDKAppID, c.SDKAppID}; err != nil || !reflect.DeepEqual(ids, want) {
		t.Fatalf("AllApps = %v, %v; want %v (every account, no deleted app)", ids, err, want)
	}
}

// testDeleteAppRemovesOnlyItsData fills two apps with the same user IDs and
// checks that deleting one leaves the other intact: the tenant boundary.
func testDeleteAppRemovesOnlyItsData(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a1 := createApp(t, s, "acc1", "one", 0)
	a2 := createApp(t, s, "acc1", "two", 0)
	month := "2025-03"
	for _, id := range []int64{a1.SDKAppID, a2.SDKAppID} {
		if err := s.ImportUsers(ctx, id, []store.User{{UserID: "alice", Nick: "A"}, {UserID: "bob", Nick: "B"}}); err != nil {
			t.Fatal(err)
		}
		m := send("alice", "bob", 1, "c1")
		m.App = id
		r := read("bob", "alice", m.MsgTime-100, 2) // leaves the message unread
		r.App = id
		applyOK(t, s, m, r)
		for _, u := range []string{"alice", "bob"} {
			if _, err := s.AdmitMonthly(ctx, id, month, u, 0, t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetKickTime(ctx, id, "alice", t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteApp(ctx, a1.SDKAppID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	check := func(id int64, present bool) {
		t.Helper()
		n := 0
		if present {
			n = 1
		}
		users, err := s.GetUsers(ctx, id, []string{"alice", "bob"})
		if err != nil || len(users) != 2*n {
			t.Fatalf("app %d: GetUsers = %v, %v; want %d users", id, users, err, 2*n)
		}
		if es := syncAll(t, s, id, "bob"); len(es) != 2*n {
			t.Fatalf("app %d: bob's log has %d entries, want %d", id, len(es), 2*n)
		}
		if es := syncAll(t, s, id, "alice"); len(es) != 2*n {
			t.Fatalf("app %d: alice's log has %d entries, want %d", id, len(es), 2*n)
		}
		if seq := lastSeq(t, s, id, "alice"); seq != int64(2*n) {
			t.Fatalf("app %d: LastSeq(alice) = %d, want %d", id, seq, 2*n)
		}
		h, err := s.History(ctx, id, "alice", "bob", 0, 0, store.Cursor{}, 10, time.Time{}, time.Time{})
		if err != nil || len(h) != n {
			t.Fatalf("app %d: History = %d entries, %v; want %d", id, len(h), err, n)
		}
		unread, err := s.Unread(ctx, id, "bob", nil, time.Time{}, time.Time{})
		if err != nil || unread["alice"] != n {
			t.Fatalf("app %d: Unread = %v, %v; want alice:%d", id, unread, err, n)
		}
		rt, err := s.PeerReadTime(ctx, id, "alice", "bob")
		if err != nil || (rt != 0) != present {
			t.Fatalf("app %d: PeerReadTime = %d, %v; present=%v", id, rt, err, present)
		}
		c, err := s.CountMonthly(ctx, id, month)
		if err != nil || c != 2*n {
			t.Fatalf("app %d: CountMonthly = %d, %v; want %d", id, c, err, 2*n)
		}
		if at := kickTime(t, s, id, "alice"); at.IsZero() == present {
			t.Fatalf("app %d: KickTime = %v; present=%v", id, at, present)
		}
	}
	check(a1.SDKAppID, false)
	check(a2.SDKAppID, true)

	// The tombstone's MAU counter is gone too: the deleted app has no
	// capacity left over from before.
	if first, err := s.AdmitMonthly(ctx, a1.SDKAppID, month, "alice", 1, t0); err != nil || !first {
		t.Fatalf("AdmitMonthly after DeleteApp = %v, %v; want true", first, err)
	}
	if got, err := s.GetApp(ctx, a1.SDKAppID); err != nil || got.Status != "deleted" {
		t.Fatalf("GetApp(deleted) = %+v, %v", got, err)
	}
}

// testDeletedAppRefusesWrites: sends racing an app's deletion leave nothing of
// the app behind, whichever commits first, and every write after the deletion
// is refused with 70020 (a session that passed its checks before the deletion
// must not bring data back).
func testDeletedAppRefusesWrites(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "doomed", 0)
	other := createApp(t, s, "acc1", "kept", 0)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for i := 0; ; i++ {
			m := send("alice", "bob", i, fmt.Sprintf("r%d", i))
			m.App = a.SDKAppID
			o := send("alice", "bob", i, fmt.Sprintf("o%d", i))
			o.App = other.SDKAppID
			res, err := s.Apply(ctx, []store.Op{m, o})
			if err != nil {
				t.Error(err)
				break
			}
			if res[1].Err != nil {
				t.Errorf("the other app's send failed: %v", res[1].Err)
			}
			n++
			select {
			case <-stop:
				done <- n
				return
			default:
			}
		}
		done <- n
	}()
	applyOK(t, s, send("carol", "dave", 1, "first"))
	if err := s.DeleteApp(ctx, a.SDKAppID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	n := <-done
	m := send("alice", "bob", 99999, "after")
	m.App = a.SDKAppID
	res := apply(t, s, m)
	if !errs.Is(res[0].Err, errs.AppNotFound) || len(res[0].Entries) != 0 {
		t.Fatalf("a send after the deletion: %+v, want 70020 and nothing written", res[0])
	}
	for _, u := range []string{"alice", "bob"} {
		if got := syncAll(t, s, a.SDKAppID, u); len(got) != 0 {
			t.Fatalf("%d entries of %s remain in the deleted app (after %d racing batches)", len(got), u, n)
		}
		if got := syncAll(t, s, other.SDKAppID, u); len(got) != n {
			t.Fatalf("the other app's %s has %d entries, want %d", u, len(got), n)
		}
	}
}
