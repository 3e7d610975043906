package restapi_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/chatd/chatd/internal/errs"
)

const asvc = "group_open_attr_http_svc/"

func (e *env) groupAttrs(group string) string {
	e.t.Helper()
	var out struct {
		GroupAttrAry []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}
	}
	r := e.call(asvc+"get_group_attr", M{"GroupId": group}).wantOK("GroupAttrAry")
	r.into(&out)
	if !strings.Contains(string(r.raw), `"GroupAttrAry":[`) {
		e.t.Fatalf("GroupAttrAry is not a list: %s", r.raw)
	}
	return fmt.Sprint(out.GroupAttrAry)
}

func attrs(kv ...string) []M {
	out := []M{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, M{"key": kv[i], "value": kv[i+1]})
	}
	return out
}

func TestGroupAttrs(t *testing.T) { newEnvEach(t, testGroupAttrs) }

func testGroupAttrs(t *testing.T, e *env) {
	e.importUsers(e.a, "o")
	g := e.createGroup(M{"Type": "Public", "Name": "p", "Owner_Account": "o"})
	live := e.createGroup(M{"Type": "AVChatRoom", "Name": "live", "Owner_Account": "o"})
	comm := e.createGroup(M{"Type": "Community", "Name": "c"})
	if got := e.groupAttrs(g); got != "[]" {
		t.Fatalf("no attributes: %s", got)
	}
	e.call(asvc+"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("b", "2", "a", "1")}).wantOK()
	e.call(asvc+"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("b", "3", "c", "")}).wantOK()
	if got := e.groupAttrs(g); got != "[{a 1} {b 3} {c }]" {
		t.Fatalf("merged %s", got)
	}
	e.call(asvc+"set_group_attr", M{"GroupId": g, "GroupAttr": attrs("x", "y")}).wantOK()
	if got := e.groupAttrs(g); got != "[{x y}]" {
		t.Fatalf("replaced %s", got)
	}
	// Live rooms and communities have attributes too (the reference's
	// REST API takes every group type), but clear_group_attr is not for communities.
	e.call(asvc+"set_group_attr", M{"GroupId": live, "GroupAttr": attrs("seat1", "o")}).wantOK()
	e.call(asvc+"modify_group_attr", M{"GroupId": comm, "GroupAttr": attrs("k", "v")}).wantOK()
	e.call(asvc+"clear_group_attr", M{"GroupId": comm}).wantErr(errs.GroupNoPermission)
	e.call(asvc+"clear_group_attr", M{"GroupId": live}).wantOK()
	if got := e.groupAttrs(live); got != "[]" {
		t.Fatalf("cleared %s", got)
	}

	// Fill g to 16 keys, then bad input: the reference's code, nothing changed.
	var full []string
	for i := 0; i < 16; i++ {
		full = append(full, fmt.Sprintf("k%02d", i), strings.Repeat("v", 1000))
	}
	e.call(asvc+"set_group_attr", M{"GroupId": g, "GroupAttr": attrs(full...)}).wantOK()
	before := e.groupAttrs(g)
	big := strings.Repeat("v", 4096)
	for _, bad := range []struct {
		cmd  string
		req  any
		code int
	}{
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("k16", "v")}, errs.GroupBadParams},                         // a 17th key
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("k00", big, "k01", big, "k02", big)}, errs.GroupBadParams}, // over 16 KB in all
		{"set_group_attr", M{"GroupId": g, "GroupAttr": attrs("a", big, "b", big, "c", big, "d", big)}, errs.GroupBadParams},
		{"set_group_attr", M{"GroupId": g, "GroupAttr": attrs(append(full, "k16", "v")...)}, errs.GroupBadParams}, // 17 items
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs(strings.Repeat("k", 33), "v")}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("k00", big+"v")}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("", "v")}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": attrs("k00", "a", "k00", "b")}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": []M{}}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": "k"}, errs.GroupBadParams},
		{"modify_group_attr", M{"GroupId": g, "GroupAttr": []M{{"key": "k00", "value": 5}}}, errs.GroupBadParams},
		{"set_group_attr", M{"GroupId": g}, errs.GroupBadParams},
		{"set_group_attr", `{"GroupId":`, errs.GroupJSONParse},
		{"modify_group_attr", M{"GroupId": "nope", "GroupAttr": attrs("a", "b")}, errs.GroupNotFound},
		{"modify_group_attr", M{"GroupId": "", "GroupAttr": attrs("a", "b")}, errs.GroupIDInvalid},
		{"get_group_attr", M{"GroupId": "nope"}, errs.GroupNotFound},
		{"clear_group_attr", M{"GroupId": "nope"}, errs.GroupNotFound},
		{"get_group_attr", M{"GroupId": 5}, errs.GroupBadParams},
	} {
		e.call(asvc+bad.cmd, bad.req).wantErr(bad.code)
	}
	e.callApp(e.b, asvc+"set_group_attr", M{"GroupId": g, "GroupAttr": attrs("a", "b")}).wantErr(errs.GroupNotFound)
	e.callApp(e.b, asvc+"clear_group_attr", M{"GroupId": g}).wantErr(errs.GroupNotFound)
	if after := e.groupAttrs(g); after != before {
		t.Fatalf("refused calls changed attributes")
	}
	e.call(asvc+"clear_group_attr", M{"GroupId": g}).wantOK()

	// A destroyed group's attributes go with it.
	e.call(asvc+"modify_group_attr", M{"GroupId": "mine", "GroupAttr": attrs("a", "b")}).wantErr(errs.GroupNotFound)
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "mine"})
	e.call(asvc+"modify_group_attr", M{"GroupId": "mine", "GroupAttr": attrs("a", "b")}).wantOK()
	e.call(gsvc+"destroy_group", M{"GroupId": "mine"}).wantOK()
	e.createGroup(M{"Type": "Work", "Name": "w", "GroupId": "mine"})
	if got := e.groupAttrs("mine"); got != "[]" {
		t.Fatalf("a recreated group has %s", got)
	}
}

type counter struct {
	Key   string
	Value int64
}

func (e *env) counters(group string, keys ...string) []counter {
	e.t.Helper()
	var out struct{ GroupCounter []counter }
	req := M{"GroupId": group}
	if keys != nil {
		req["GroupCounterKeys"] = keys
	}
	e.call(gsvc+"get_group_counter", req).wantOK("GroupCounter").into(&out)
	return out.GroupCounter
}

func (e *env) updateCounters(group, mode string, kv ...any) []counter {
	e.t.Helper()
	items := []M{}
	for i := 0; i+1 < len(kv); i += 2 {
		items = append(items, M{"Key": kv[i], "Value": kv[i+1]})
	}
	var out struct{ GroupCounter []counter }
	e.call(gsvc+"update_group_counter", M{"GroupId": group, "Mode": mode, "GroupCounter": items}).wantOK("GroupCounter").into(&out)
	return out.GroupCounter
}

func TestGroupCounters(t *testing.T) { newEnvEach(t, testGroupCounters) }

func testGroupCounters(t *testing.T, e *env) {
	e.importUsers(e.a, "o")
	g := e.createGroup(M{"Type": "AVChatRoom", "Name": "live", "Owner_Account": "o"})
	comm := e.createGroup(M{"Type": "Community", "Name": "c"})
	if got := fmt.Sprint(e.updateCounters(g, "Set", "like", 5, "gift", 1)); got != "[{like 5} {gift 1}]" {
		t.Fatalf("Set %s", got)
	}
	if got := fmt.Sprint(e.updateCounters(g, "Increase", "like", 2, "new", 7)); got != "[{like 7} {new 7}]" {
		t.Fatalf("Increase %s", got)
	}
	if got := fmt.Sprint(e.updateCounters(g, "Decrease", "gift", 3)); got != "[{gift -2}]" {
		t.Fatalf("Decrease %s", got)
	}
	if got := fmt.Sprint(e.counters(g)); got != "[{gift -2} {like 7} {new 7}]" {
		t.Fatalf("all counters %s", got)
	}
	if got := fmt.Sprint(e.counters(g, "new", "absent", "like")); got != "[{new 7} {like 7}]" {
		t.Fatalf("selected %s", got)
	}
	e.call(gsvc+"delete_group_counter", M{"GroupId": g, "GroupCounterKeys": []string{"new", "absent"}}).wantOK()
	e.updateCounters(g, "Set", "max", int64(math.MaxInt64))
	for i := 0; i < 17; i++ { // 20 counters in all
		e.updateCounters(g, "Set", fmt.Sprintf("k%02d", i), i)
	}

	before := fmt.Sprint(e.counters(g))
	for _, bad := range []struct {
		cmd  string
		req  any
		code int
	}{
		{"update_group_counter", M{"GroupId": g, "Mode": "Increase", "GroupCounter": []M{{"Key": "max", "Value": 1}}}, errs.GroupBadParams},  // overflow
		{"update_group_counter", M{"GroupId": g, "Mode": "Decrease", "GroupCounter": []M{{"Key": "max", "Value": -1}}}, errs.GroupBadParams}, // overflow
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "k21", "Value": 1}}}, errs.GroupBadParams},       // a 21st counter
		{"update_group_counter", M{"GroupId": g, "Mode": "Add", "GroupCounter": []M{{"Key": "like", "Value": 1}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "GroupCounter": []M{{"Key": "like", "Value": 1}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "like", "Value": "5"}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "like", "Value": 1.5}}}, errs.GroupBadParams},
		{"update_group_counter", `{"GroupId":"` + g + `","Mode":"Set","GroupCounter":[{"Key":"like","Value":9223372036854775808}]}`, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": strings.Repeat("k", 129), "Value": 1}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "", "Value": 1}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "like", "Value": 1}, {"Key": "like", "Value": 2}}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{}}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": counterList(21)}, errs.GroupBadParams},
		{"update_group_counter", M{"GroupId": comm, "Mode": "Set", "GroupCounter": []M{{"Key": "a", "Value": 1}}}, errs.GroupNoPermission},
		{"update_group_counter", M{"GroupId": "nope", "Mode": "Set", "GroupCounter": []M{{"Key": "a", "Value": 1}}}, errs.GroupNotFound},
		{"update_group_counter", `{"GroupId":`, errs.GroupJSONParse},
		{"get_group_counter", M{"GroupId": g, "GroupCounterKeys": users("k", 21)}, errs.GroupBadParams},
		{"get_group_counter", M{"GroupId": g, "GroupCounterKeys": "like"}, errs.GroupBadParams},
		{"get_group_counter", M{"GroupId": comm}, errs.GroupNoPermission},
		{"get_group_counter", M{"GroupId": "nope"}, errs.GroupNotFound},
		{"delete_group_counter", M{"GroupId": g}, errs.GroupBadParams},
		{"delete_group_counter", M{"GroupId": g, "GroupCounterKeys": []string{strings.Repeat("k", 129)}}, errs.GroupBadParams},
		{"delete_group_counter", M{"GroupId": "", "GroupCounterKeys": []string{"like"}}, errs.GroupIDInvalid},
	} {
		e.call(gsvc+bad.cmd, bad.req).wantErr(bad.code)
	}
	e.callApp(e.b, gsvc+"update_group_counter", M{"GroupId": g, "Mode": "Set", "GroupCounter": []M{{"Key": "like", "Value": 0}}}).wantErr(errs.GroupNotFound)
	e.callApp(e.b, gsvc+"delete_group_counter", M{"GroupId": g, "GroupCounterKeys": []string{"like"}}).wantErr(errs.GroupNotFound)
	if after := fmt.Sprint(e.counters(g)); after != before {
		t.Fatalf("refused calls changed counters:\n%s\n%s", before, after)
	}

	// A destroyed group's counters go with it.
	e.call(gsvc+"destroy_group", M{"GroupId": g}).wantOK()
	e.call(gsvc+"get_group_counter", M{"GroupId": g}).wantErr(errs.GroupNotFound)
}

func counterList(n int) []M {
	out := make([]M, n)
	for i := range out {
		out[i] = M{"Key": fmt.Sprintf("c%02d", i), "Value": 1}
	}
	return out
}

// Concurrent Increase and Decrease through the REST API are exact.
func TestGroupCountersConcurrent(t *testing.T) { newEnvEach(t, testGroupCountersConcurrent) }

func testGroupCountersConcurrent(t *testing.T, e *env) {
	g := e.createGroup(M{"Type": "Public", "Name": "p"})
	const n, each = 8, 5
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mode := "Increase"
			if i%2 == 1 {
				mode = "Decrease"
			}
			for j := 0; j < each; j++ {
				r := e.call(gsvc+"update_group_counter", M{"GroupId": g, "Mode": mode, "GroupCounter": []M{{"Key": "likes", "Value": 2}}})
				if r.code() != 0 {
					t.Errorf("update: %s", r.raw)
				}
			}
		}(i)
	}
	wg.Wait()
	if got := e.counters(g, "likes"); len(got) != 1 || got[0].Value != 0 {
		t.Fatalf("likes after %d increases and %d decreases of 2: %v", n/2*each, n/2*each, got)
	}
	e.updateCounters(g, "Increase", "likes", 3)
	if got := e.counters(g, "likes"); got[0].Value != 3 {
		t.Fatalf("likes %v", got)
	}
}
