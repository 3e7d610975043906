package restapi_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// declare declares a custom profile field of app, as the operator does.
func (e *env) declare(app store.App, name, typ string, maxBytes int) {
	e.t.Helper()
	if _, err := e.svc.DeclareProfileField(context.Background(), app.SDKAppID, name, typ, maxBytes); err != nil {
		e.t.Fatal(err)
	}
}

// profileOf returns user's raw values of tags in app, keyed by tag (nil when the
// user is not found).
func (e *env) profileOf(app store.App, user string, tags ...string) map[string]string {
	e.t.Helper()
	var out struct {
		UserProfileItem []struct {
			To_Account  string
			ResultCode  int
			ProfileItem []struct {
				Tag   string
				Value json.RawMessage
			}
		}
	}
	e.callApp(app, "profile/portrait_get", M{"To_Account": []string{user}, "TagList": tags}).wantOK("UserProfileItem", "Fail_Account").into(&out)
	if len(out.UserProfileItem) != 1 || out.UserProfileItem[0].ResultCode != 0 {
		return nil
	}
	m := map[string]string{}
	for _, it := range out.UserProfileItem[0].ProfileItem {
		m[it.Tag] = string(it.Value)
	}
	return m
}

// newEnvEach runs fn on a REST stack over each store kind (embedded; PostgreSQL
// when CHATD_TEST_POSTGRES_URL is set).
func newEnvEach(t *testing.T, fn func(t *testing.T, e *env)) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st, ok := open(t).(sqlStore)
		if !ok {
			t.Fatal("the store has no SQL database")
		}
		fn(t, newEnvOn(t, st))
	})
}

var standardTags = []string{
	"Tag_Profile_IM_Nick", "Tag_Profile_IM_Gender", "Tag_Profile_IM_BirthDay", "Tag_Profile_IM_Location",
	"Tag_Profile_IM_SelfSignature", "Tag_Profile_IM_AllowType", "Tag_Profile_IM_Language", "Tag_Profile_IM_Image",
	"Tag_Profile_IM_MsgSettings", "Tag_Profile_IM_AdminForbidType", "Tag_Profile_IM_Level", "Tag_Profile_IM_Role",
}

// TestProfileStandardFields sets every standard field to valid and invalid
// values through the REST API, on both stores: a valid value is stored and
// read back with its JSON type (numbers as numbers); an invalid one gets the
// reference code and leaves the field as it was.
func TestProfileStandardFields(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("x", n%2) } // n bytes
	type value struct {
		v    any
		code int    // 0: stored
		want string // the JSON read back when stored ("" = json.Marshal(v))
	}
	str := func(max int) []value {
		return []value{{"", 0, ""}, {"plain", 0, ""}, {long(max), 0, ""}, {long(max + 1), 40601, ""},
			{7, 40610, ""}, {true, 40610, ""}, {nil, 40610, ""}, {[]string{"a"}, 40610, ""}, {M{"a": 1}, 40610, ""}}
	}
	num := []value{{0, 0, ""}, {20190419, 0, ""}, {uint64(4294967295), 0, ""}, {uint64(4294967296), 40610, ""},
		{-1, 40610, ""}, {1.5, 40610, ""}, {"7", 40610, ""}, {nil, 40610, ""}, {[]int{1}, 40610, ""}}
	enum := func(values ...string) []value {
		out := []value{{"Other", 40605, ""}, {strings.ToLower(values[0]), 40605, ""}, {"", 40605, ""}, {1, 40610, ""}, {nil, 40610, ""}}
		for _, v := range values {
			out = append(out, value{v, 0, ""})
		}
		return out
	}
	fields := map[string][]value{
		"Tag_Profile_IM_Nick":            str(500),
		"Tag_Profile_IM_Gender":          enum("Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"),
		"Tag_Profile_IM_BirthDay":        num,
		"Tag_Profile_IM_Location":        str(16),
		"Tag_Profile_IM_SelfSignature":   str(500),
		"Tag_Profile_IM_AllowType":       enum("AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"),
		"Tag_Profile_IM_Language":        num,
		"Tag_Profile_IM_Image":           str(500),
		"Tag_Profile_IM_MsgSettings":     num,
		"Tag_Profile_IM_AdminForbidType": enum("AdminForbid_Type_None", "AdminForbid_Type_SendOut"),
		"Tag_Profile_IM_Level":           num,
		"Tag_Profile_IM_Role":            num,
	}
	if len(fields) != len(standardTags) {
		t.Fatalf("the table covers %d fields, the reference has %d", len(fields), len(standardTags))
	}
	newEnvEach(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice")
		for _, tag := range standardTags {
			var last string // the stored value, "" while unset
			for _, c := range fields[tag] {
				r := e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": tag, "Value": c.v}}})
				got := e.profileOf(e.a, "alice", tag)[tag]
				if c.code != 0 {
					if r.code() != c.code {
						t.Errorf("%s=%#v: answered %s, want %d", tag, c.v, r.raw, c.code)
						continue
					}
					r.wantErr(c.code)
					if got != last {
						t.Errorf("%s=%v refused with %d changed the value from %s to %s", tag, c.v, c.code, last, got)
					}
					continue
				}
				r.wantOK()
				want := c.want
				if want == "" {
					b, _ := json.Marshal(c.v)
					want = string(b)
				}
				if got != want {
					t.Errorf("%s=%v: read back %s, want %s", tag, c.v, got, want)
				}
				last = got
			}
		}
	})
}

// TestProfileCustomFields: a custom tag is refused until declared (40009), then
// holds values of its type up to its bound (40601 beyond, 40610 of another
// type); each app has its own declarations.
func TestProfileCustomFields(t *testing.T) {
	newEnvEach(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice")
		e.importUsers(e.b, "alice")
		set := func(app store.App, tag string, v any) reply {
			return e.callApp(app, "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{{"Tag": tag, "Value": v}}})
		}
		set(e.a, "Tag_Profile_Custom_hobby", "chess").wantErr(40009, "declared")
		e.callApp(e.a, "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_Custom_hobby"}}).wantErr(40009)

		e.declare(e.a, "hobby", "string", 0) // 500 bytes
		e.declare(e.a, "code", "string", 4)
		e.declare(e.a, "rank", "integer", 0)
		set(e.a, "Tag_Profile_Custom_hobby", strings.Repeat("x", 500)).wantOK()
		set(e.a, "Tag_Profile_Custom_hobby", strings.Repeat("x", 501)).wantErr(40601)
		set(e.a, "Tag_Profile_Custom_code", "abcd").wantOK()
		set(e.a, "Tag_Profile_Custom_code", "abcde").wantErr(40601)
		set(e.a, "Tag_Profile_Custom_code", 5).wantErr(40610)
		set(e.a, "Tag_Profile_Custom_rank", uint64(18446744073709551615)).wantOK()
		set(e.a, "Tag_Profile_Custom_rank", "5").wantErr(40610)
		set(e.a, "Tag_Profile_Custom_rank", -5).wantErr(40610)
		set(e.a, "Tag_Profile_Custom_123456789", "x").wantErr(40009)
		set(e.a, "Tag_Profile_Custom_", "x").wantErr(40009)
		got := e.profileOf(e.a, "alice", "Tag_Profile_Custom_hobby", "Tag_Profile_Custom_code", "Tag_Profile_Custom_rank")
		want := map[string]string{
			"Tag_Profile_Custom_hobby": `"` + strings.Repeat("x", 500) + `"`,
			"Tag_Profile_Custom_code":  `"abcd"`,
			"Tag_Profile_Custom_rank":  `18446744073709551615`,
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("custom fields = %v, want %v", got, want)
		}
		// Another app of the same customer has not declared them.
		set(e.b, "Tag_Profile_Custom_hobby", "chess").wantErr(40009)
	})
}

// TestProfileBadInput: malformed portrait_set and portrait_get calls get the
// reference code and change nothing, whatever else the call holds.
func TestProfileBadInput(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.importUsers(e.c, "carol")
	e.declare(e.a, "hobby", "string", 0)
	nick := M{"Tag": "Tag_Profile_IM_Nick", "Value": "Changed"}
	many := make([]M, 33)
	for i := range many {
		many[i] = M{"Tag": "Tag_Profile_IM_Level", "Value": i}
	}
	allTags := append(append([]string{}, standardTags...), "Tag_Profile_Custom_hobby")
	tooManyTags := make([]string, 33)
	for i := range tooManyTags {
		tooManyTags[i] = standardTags[i%len(standardTags)]
	}
	cases := []struct {
		name string
		path string
		req  any
		code int
	}{
		{"set body not JSON", "profile/portrait_set", `{"From_Account":`, 60003},
		{"set body an array", "profile/portrait_set", `[]`, 60003},
		{"set From_Account a number", "profile/portrait_set", M{"From_Account": 5, "ProfileItem": []M{nick}}, 40001},
		{"set From_Account missing", "profile/portrait_set", M{"ProfileItem": []M{nick}}, 40001},
		{"set From_Account too long", "profile/portrait_set", M{"From_Account": strings.Repeat("a", 33), "ProfileItem": []M{nick}}, 40001},
		{"set ProfileItem an object", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": nick}, 40001},
		{"set ProfileItem empty", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{}}, 40001},
		{"set too many items", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": append([]M{nick}, many...)}, 40001},
		{"set tag twice", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{nick, nick}}, 40001},
		{"set Tag a number", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{nick, {"Tag": 5, "Value": "x"}}}, 40001},
		{"set unknown tag", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{nick, {"Tag": "Tag_Profile_IM_Mood", "Value": "x"}}}, 40009},
		{"set undeclared custom tag", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{nick, {"Tag": "Tag_Profile_Custom_pets", "Value": "x"}}}, 40009},
		{"set oversized custom value", "profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{nick, {"Tag": "Tag_Profile_Custom_hobby", "Value": strings.Repeat("x", 501)}}}, 40601},
		{"set NUL in a value", "profile/portrait_set", `{"From_Account":"alice","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"a\u0000b"}]}`, 60003},
		{"set missing user", "profile/portrait_set", M{"From_Account": "ghost", "ProfileItem": []M{nick}}, 40003},
		{"set user of another app", "profile/portrait_set", M{"From_Account": "carol", "ProfileItem": []M{nick}}, 40003},
		{"get To_Account a string", "profile/portrait_get", M{"To_Account": "alice", "TagList": []string{"Tag_Profile_IM_Nick"}}, 40001},
		{"get TagList a string", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": "Tag_Profile_IM_Nick"}, 40001},
		{"get TagList of numbers", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []int{1}}, 40001},
		{"get no TagList", "profile/portrait_get", M{"To_Account": []string{"alice"}}, 40001},
		{"get no To_Account", "profile/portrait_get", M{"TagList": []string{"Tag_Profile_IM_Nick"}}, 40001},
		{"get 101 users", "profile/portrait_get", M{"To_Account": make([]string, 101), "TagList": []string{"Tag_Profile_IM_Nick"}}, 40001},
		{"get too many tags", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": tooManyTags}, 40001},
		{"get a tag twice", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_IM_Nick", "Tag_Profile_IM_Nick"}}, 40001},
		{"get unknown tag", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_IM_Mood"}}, 40009},
		{"get undeclared custom tag", "profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": []string{"Tag_Profile_Custom_pets"}}, 40009},
	}
	before := e.profileOf(e.a, "alice", allTags...)
	for _, c := range cases {
		r := e.call(c.path, c.req)
		if r.code() != c.code {
			t.Errorf("%s: answered %d (%s), want %d", c.name, r.code(), r.info(), c.code)
			continue
		}
		r.wantErr(c.code)
		if after := e.profileOf(e.a, "alice", allTags...); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s: a refused call changed the profile from %v to %v", c.name, before, after)
		}
	}
	// Every tag at once, within the bound, is one call.
	e.call("profile/portrait_get", M{"To_Account": []string{"alice"}, "TagList": allTags}).wantOK("UserProfileItem", "Fail_Account")
}

// TestPortraitGetAsked: portrait_get answers only the tags asked, in the order
// asked, numbers as numbers; users of another app and missing users come back
// with 40003 in Fail_Account, and a malformed id too.
func TestPortraitGetAsked(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.importUsers(e.c, "carol")
	e.call("profile/portrait_set", M{"From_Account": "alice", "ProfileItem": []M{
		{"Tag": "Tag_Profile_IM_Level", "Value": 9}, {"Tag": "Tag_Profile_IM_Gender", "Value": "Gender_Type_Male"},
		{"Tag": "Tag_Profile_IM_Location", "Value": "0086001000100010"},
	}}).wantOK()
	r := e.call("profile/portrait_get", M{"To_Account": []string{"alice", "carol", "ghost", " bad"},
		"TagList": []string{"Tag_Profile_IM_Location", "Tag_Profile_IM_Level"}}).wantOK("UserProfileItem", "Fail_Account")
	var out struct {
		UserProfileItem []struct {
			To_Account  string
			ResultCode  int
			ProfileItem []json.RawMessage
		}
		Fail_Account []string
	}
	r.into(&out)
	if len(out.UserProfileItem) != 4 || !reflect.DeepEqual(out.Fail_Account, []string{"carol", "ghost", " bad"}) {
		t.Fatalf("portrait_get = %s", r.raw)
	}
	var items []string
	for _, it := range out.UserProfileItem[0].ProfileItem {
		items = append(items, string(it))
	}
	want := []string{`{"Tag":"Tag_Profile_IM_Location","Value":"0086001000100010"}`, `{"Tag":"Tag_Profile_IM_Level","Value":9}`}
	if !reflect.DeepEqual(items, want) {
		t.Fatalf("alice's items = %v, want %v", items, want)
	}
	for _, u := range out.UserProfileItem[1:] {
		if u.ResultCode != 40003 || len(u.ProfileItem) != 0 {
			t.Fatalf("%s: ResultCode %d, items %v; want 40003 and none", u.To_Account, u.ResultCode, u.ProfileItem)
		}
	}
}
