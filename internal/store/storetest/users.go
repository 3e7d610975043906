package storetest

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func getUsers(t *testing.T, s store.Store, app int64, ids ...string) map[string]store.User {
	t.Helper()
	users, err := s.GetUsers(ctx, app, ids)
	if err != nil {
		t.Fatalf("GetUsers: %v", err)
	}
	return users
}

func testImportUsers(t *testing.T, s store.Store) {
	alice := store.User{UserID: "alice", Nick: "Alice", FaceURL: "https://f/a.png",
		Profile: map[string]string{"Tag_Profile_IM_Gender": "Gender_Type_Female"}, CreatedAt: t0}
	bob := store.User{UserID: "bob", Nick: "Bob", CreatedAt: t0}
	if err := s.ImportUsers(ctx, app1, []store.User{alice, bob}); err != nil {
		t.Fatal(err)
	}
	users := getUsers(t, s, app1, "alice", "bob")
	if len(users) != 2 {
		t.Fatalf("GetUsers = %v, want alice and bob", users)
	}
	got := users["alice"]
	if got.UserID != "alice" || got.Nick != "Alice" || got.FaceURL != alice.FaceURL || !got.CreatedAt.Equal(t0) ||
		!reflect.DeepEqual(got.Profile, alice.Profile) {
		t.Fatalf("alice = %+v, want %+v", got, alice)
	}

	// Existing users: a non-empty Nick/FaceURL replaces, an empty one keeps;
	// new users are created in the same call.
	if err := s.ImportUsers(ctx, app1, []store.User{
		{UserID: "alice", Nick: "Alice2", CreatedAt: t0.AddDate(0, 0, 1)},
		{UserID: "bob", FaceURL: "https://f/b.png"},
		{UserID: "carol", Nick: "Carol"},
	}); err != nil {
		t.Fatal(err)
	}
	users = getUsers(t, s, app1, "alice", "bob", "carol")
	if a := users["alice"]; a.Nick != "Alice2" || a.FaceURL != alice.FaceURL || !a.CreatedAt.Equal(t0) ||
		a.Profile["Tag_Profile_IM_Gender"] != "Gender_Type_Female" {
		t.Fatalf("alice after re-import = %+v", a)
	}
	if b := users["bob"]; b.Nick != "Bob" || b.FaceURL != "https://f/b.png" {
		t.Fatalf("bob after re-import = %+v", b)
	}
	if c, ok := users["carol"]; !ok || c.Nick != "Carol" {
		t.Fatalf("carol not created: %+v", users)
	}
	// Same user IDs in another app are other users.
	if users := getUsers(t, s, app2, "alice", "bob", "carol"); len(users) != 0 {
		t.Fatalf("GetUsers(app2) = %v, want none", users)
	}
}

func testDeleteUsers(t *testing.T, s store.Store) {
	for _, app := range []int64{app1, app2} {
		if err := s.ImportUsers(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}, {UserID: "carol"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetProfile(ctx, app1, "alice", map[string]string{"Tag_Profile_IM_Nick": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUsers(ctx, app1, []string{"alice", "carol", "nobody"}); err != nil {
		t.Fatalf("DeleteUsers with a missing user: %v", err)
	}
	users := getUsers(t, s, app1, "alice", "bob", "carol")
	if _, ok := users["bob"]; len(users) != 1 || !ok {
		t.Fatalf("GetUsers after delete = %v, want only bob", users)
	}
	if users := getUsers(t, s, app2, "alice", "bob", "carol"); len(users) != 3 {
		t.Fatalf("DeleteUsers in app1 touched app2: %v", users)
	}
	// The profile went with the user.
	if err := s.SetProfile(ctx, app1, "alice", map[string]string{"a": "b"}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("SetProfile of a deleted user: %v, want ErrNotFound", err)
	}
	if err := s.ImportUsers(ctx, app1, []store.User{{UserID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if p := getUsers(t, s, app1, "alice")["alice"].Profile; len(p) != 0 {
		t.Fatalf("re-imported user has the old profile %v", p)
	}
	if err := s.DeleteUsers(ctx, app1, nil); err != nil {
		t.Fatalf("DeleteUsers(nil): %v", err)
	}
}

func testGetUsersOnlyExisting(t *testing.T, s store.Store) {
	if err := s.ImportUsers(ctx, app1, []store.User{{UserID: "alice", Nick: "A"}}); err != nil {
		t.Fatal(err)
	}
	users := getUsers(t, s, app1, "alice", "nobody")
	if len(users) != 1 || users["alice"].Nick != "A" {
		t.Fatalf("GetUsers = %v, want only alice", users)
	}
	if users := getUsers(t, s, app1); len(users) != 0 {
		t.Fatalf("GetUsers() = %v", users)
	}
	// Many IDs at once.
	var many []store.User
	var ids []string
	for i := range 1200 {
		id := "u" + strconv.Itoa(i)
		many = append(many, store.User{UserID: id})
		ids = append(ids, id, "missing"+strconv.Itoa(i))
	}
	if err := s.ImportUsers(ctx, app1, many); err != nil {
		t.Fatal(err)
	}
	if users := getUsers(t, s, app1, ids...); len(users) != 1200 {
		t.Fatalf("GetUsers(2400 ids) = %d users, want 1200", len(users))
	}
}

func testSetProfile(t *testing.T, s store.Store) {
	if err := s.ImportUsers(ctx, app1, []store.User{{UserID: "alice", Profile: map[string]string{"Tag_Profile_IM_Gender": "Gender_Type_Male"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetProfile(ctx, app1, "alice", map[string]string{"Tag_Profile_IM_Nick": "Al", "Tag_Profile_IM_Gender": "Gender_Type_Female"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetProfile(ctx, app1, "alice", map[string]string{"Tag_Profile_Custom_X": "1"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Tag_Profile_IM_Nick": "Al", "Tag_Profile_IM_Gender": "Gender_Type_Female", "Tag_Profile_Custom_X": "1"}
	if p := getUsers(t, s, app1, "alice")["alice"].Profile; !reflect.DeepEqual(p, want) {
		t.Fatalf("Profile = %v, want %v", p, want)
	}
	if err := s.SetProfile(ctx, app1, "nobody", map[string]string{"a": "b"}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("SetProfile(missing): %v, want ErrNotFound", err)
	}
	if err := s.SetProfile(ctx, app2, "alice", map[string]string{"a": "b"}); !isErr(err, errs.ErrNotFound) {
		t.Fatalf("SetProfile(alice of another app): %v, want ErrNotFound", err)
	}
}

func kickTime(t *testing.T, s store.Store, app int64, user string) time.Time {
	t.Helper()
	at, err := s.KickTime(ctx, app, user)
	if err != nil {
		t.Fatalf("KickTime: %v", err)
	}
	return at
}

// testKickTime: the last kick per user is kept, never moved back, outlives the
// user's deletion and goes with the app.
func testKickTime(t *testing.T, s store.Store) {
	if at := kickTime(t, s, app1, "alice"); !at.IsZero() {
		t.Fatalf("never kicked: %v, want zero", at)
	}
	if err := s.ImportUsers(ctx, app1, []store.User{{UserID: "alice", CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(90 * time.Minute)
	for _, at := range []time.Time{t0, later, t0.Add(time.Minute)} {
		if err := s.SetKickTime(ctx, app1, "alice", at); err != nil {
			t.Fatal(err)
		}
	}
	if at := kickTime(t, s, app1, "alice"); !at.Equal(later) {
		t.Fatalf("kick time %v, want the latest %v", at, later)
	}
	if at := kickTime(t, s, app2, "alice"); !at.IsZero() {
		t.Fatalf("another app's alice: %v, want zero", at)
	}
	if err := s.DeleteUsers(ctx, app1, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if at := kickTime(t, s, app1, "alice"); !at.Equal(later) {
		t.Fatalf("after deleting the user: %v, want %v", at, later)
	}
}
