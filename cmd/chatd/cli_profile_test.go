package main

import (
	"strings"
	"testing"
)

// TestCLIProfileFields declares custom profile fields and lists them; bad
// names, types and bounds, a duplicate, the 21st field and an unknown app are
// refused with the server's message and a failing exit status.
func TestCLIProfileFields(t *testing.T) {
	s := newCLITestServer(t)
	acc := s.jsonOK(t, "account", "create", "--name", "Acme", "--email", "ops@acme.example")
	app := s.jsonOK(t, "app", "create", "--account", acc["id"].(string), "--name", "Chat")
	id := jsonInt(app["sdkappid"])

	if r := s.cli(t, "app", "profile-field", "list", "--sdkappid", id); r.code != 0 || !strings.Contains(r.stdout, "no custom profile fields") {
		t.Fatalf("list of none: %+v", r)
	}
	f := s.jsonOK(t, "app", "profile-field", "add", "--sdkappid", id, "--name", "hobby")
	if jsonKeys(f) != "created_at,max_bytes,name,tag,type" || f["tag"] != "Tag_Profile_Custom_hobby" || f["type"] != "string" || f["max_bytes"] != float64(500) {
		t.Fatalf("add hobby: %v", f)
	}
	r := s.cli(t, "app", "profile-field", "add", "--sdkappid", id, "--name", "rank", "--type", "integer")
	if r.code != 0 || !strings.Contains(r.stdout, "Declared Tag_Profile_Custom_rank (integer)") {
		t.Fatalf("add rank: %+v", r)
	}
	s.jsonOK(t, "app", "profile-field", "add", "--sdkappid", id, "--name", "Code_1", "--max-bytes", "4")
	l := s.jsonOK(t, "app", "profile-field", "list", "--sdkappid", id)
	fields := l["fields"].([]any)
	var names []string
	for _, x := range fields {
		names = append(names, x.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "Code_1,hobby,rank" {
		t.Fatalf("list: %v", l)
	}
	if r := s.cli(t, "app", "profile-field", "list", "--sdkappid", id); r.code != 0 || !strings.Contains(r.stdout, "Tag_Profile_Custom_Code_1  string   4") {
		t.Fatalf("list (human): %q", r.stdout)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "toolongname"}, "1 to 8 bytes"},
		{[]string{"--name", "a-b"}, "letters, digits and underscores"},
		{[]string{"--name", "x", "--type", "bool"}, "type must be"},
		{[]string{"--name", "x", "--max-bytes", "501"}, "1 to 500"},
		{[]string{"--name", "x", "--type", "integer", "--max-bytes", "5"}, "no max bytes"},
		{[]string{"--name", "hobby"}, "declared already"},
		{[]string{"--name"}, "flag needs an argument"},
	} {
		r := s.cli(t, append([]string{"app", "profile-field", "add", "--sdkappid", id}, bad.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("add %v: exit %d, stderr %q; want a failure saying %q", bad.args, r.code, r.stderr, bad.want)
		}
	}
	if r := s.cli(t, "app", "profile-field", "add", "--sdkappid", "1499999999", "--name", "x"); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("add to an unknown app: %+v", r)
	}
	if r := s.cli(t, "app", "profile-field", "list", "--sdkappid", "1499999999"); r.code == 0 {
		t.Errorf("list of an unknown app: %+v", r)
	}
	for i := 3; i < 20; i++ {
		s.jsonOK(t, "app", "profile-field", "add", "--sdkappid", id, "--name", "f"+jsonInt(float64(i)))
	}
	if r := s.cli(t, "app", "profile-field", "add", "--sdkappid", id, "--name", "extra"); r.code == 0 || !strings.Contains(r.stderr, "at most 20") {
		t.Errorf("the 21st field: %+v", r)
	}
	if l := s.jsonOK(t, "app", "profile-field", "list", "--sdkappid", id); len(l["fields"].([]any)) != 20 {
		t.Errorf("%d fields after refusals, want 20", len(l["fields"].([]any)))
	}
}
