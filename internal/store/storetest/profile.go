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

// testProfileFields: declared fields are listed by name, per app; a duplicate
// name is ErrExists, a full app ErrLimit, an unknown app ErrNotFound, and
// nothing changes on a refusal; deleting the app removes them.
func testProfileFields(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "a", 0)
	b := createApp(t, s, "acc1", "b", 0)
	hobby := store.ProfileField{Name: "hobby", Type: "string", MaxBytes: 500, CreatedAt: t0}
	rank := store.ProfileField{Name: "Rank_2", Type: "integer", CreatedAt: t0.Add(time.Millisecond)}
	for _, f := range []store.ProfileField{hobby, rank} {
		if err := s.AddProfileField(ctx, a.SDKAppID, f, 2); err != nil {
			t.Fatalf("AddProfileField(%s): %v", f.Name, err)
		}
	}
	if err := s.AddProfileField(ctx, a.SDKAppID, hobby, 5); !isErr(err, errs.ErrExists) {
		t.Fatalf("declaring hobby twice: %v, want ErrExists", err)
	}
	if err := s.AddProfileField(ctx, a.SDKAppID, store.ProfileField{Name: "x", Type: "string", MaxBytes: 1}, 2); !isErr(err, errs.ErrLimit) {
		t.Fatalf("a third field with max 2: %v, want ErrLimit", err)
	}
	if err := s.AddProfileField(ctx, 1499999999, hobby, 2); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("a field of an unknown app: %v, want ErrNotFound", err)
	}
	got, err := s.ProfileFields(ctx, a.SDKAppID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.ProfileField{rank, hobby}; !reflect.DeepEqual(got, want) { // "R" sorts before "h"
		t.Fatalf("ProfileFields = %+v, want %+v", got, want)
	}
	if got, err := s.ProfileFields(ctx, b.SDKAppID); err != nil || len(got) != 0 {
		t.Fatalf("other app's fields = %+v, %v; want none", got, err)
	}
	// The same name in another app is another field.
	if err := s.AddProfileField(ctx, b.SDKAppID, hobby, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteApp(ctx, a.SDKAppID, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ProfileFields(ctx, a.SDKAppID); err != nil || len(got) != 0 {
		t.Fatalf("deleted app's fields = %+v, %v; want none", got, err)
	}
	if got, err := s.ProfileFields(ctx, b.SDKAppID); err != nil || len(got) != 1 {
		t.Fatalf("other app's fields after a deletion = %+v, %v; want hobby", got, err)
	}
}

// importUsers imports users with ids into app.
func importUsers(t *testing.T, s store.Store, app int64, ids ...string) {
	t.Helper()
	users := make([]store.User, len(ids))
	for i, id := range ids {
		users[i] = store.User{UserID: id, CreatedAt: t0}
	}
	if err := s.ImportUsers(ctx, app, users); err != nil {
		t.Fatal(err)
	}
}

// testProfileFieldsConcurrent: concurrent declarations never exceed the limit.
func testProfileFieldsConcurrent(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "a", 0)
	const max, tries = 3, 12
	var wg sync.WaitGroup
	okCount := make(chan struct{}, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.AddProfileField(ctx, a.SDKAppID, store.ProfileField{Name: fmt.Sprintf("f%d", i), Type: "string", MaxBytes: 10, CreatedAt: t0}, max)
			switch {
			case err == nil:
				okCount <- struct{}{}
			case !isErr(err, errs.ErrLimit):
				t.Errorf("AddProfileField: %v", err)
			}
		}()
	}
	wg.Wait()
	close(okCount)
	if n := len(okCount); n != max {
		t.Fatalf("%d declarations succeeded, want %d", n, max)
	}
	if got, _ := s.ProfileFields(ctx, a.SDKAppID); len(got) != max {
		t.Fatalf("%d fields stored, want %d", len(got), max)
	}
}

// testMutes: a mute is per app and user, replaced by the next, removed by a
// zero Mute, by the user's deletion and by the app's deletion.
func testMutes(t *testing.T, s store.Store) {
	if m, err := s.GetMute(ctx, app1, "alice"); err != nil || m != (store.Mute{}) {
		t.Fatalf("GetMute of nobody = %+v, %v", m, err)
	}
	importUsers(t, s, app1, "alice", "bob")
	want := store.Mute{C2CUntil: t0.UnixMilli() + 60000, GroupUntil: store.MuteForever}
	if err := s.SetMute(ctx, app1, "alice", want); err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetMute(ctx, app1, "alice"); err != nil || m != want {
		t.Fatalf("GetMute = %+v, %v; want %+v", m, err, want)
	}
	for _, other := range []struct {
		app  int64
		user string
	}{{app1, "bob"}, {app2, "alice"}} {
		if m, err := s.GetMute(ctx, other.app, other.user); err != nil || m != (store.Mute{}) {
			t.Fatalf("GetMute(%d, %s) = %+v, %v; want none", other.app, other.user, m, err)
		}
	}
	want = store.Mute{C2CUntil: store.MuteForever}
	if err := s.SetMute(ctx, app1, "alice", want); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.GetMute(ctx, app1, "alice"); m != want {
		t.Fatalf("GetMute after a new mute = %+v, want %+v", m, want)
	}
	if err := s.SetMute(ctx, app1, "alice", store.Mute{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.GetMute(ctx, app1, "alice"); m != (store.Mute{}) {
		t.Fatalf("GetMute after unmuting = %+v", m)
	}
	// Deleting the user or the app removes the mute.
	if err := s.SetMute(ctx, app1, "bob", want); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUsers(ctx, app1, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.GetMute(ctx, app1, "bob"); m != (store.Mute{}) {
		t.Fatalf("a deleted user's mute = %+v", m)
	}
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "a", 0)
	importUsers(t, s, a.SDKAppID, "carol")
	if err := s.SetMute(ctx, a.SDKAppID, "carol", want); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteApp(ctx, a.SDKAppID, t0); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.GetMute(ctx, a.SDKAppID, "carol"); m != (store.Mute{}) {
		t.Fatalf("a deleted app's mute = %+v", m)
	}
}
