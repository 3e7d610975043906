package restapi_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

const pushSvc = "all_member_push/"

// pushState is what the push commands change in app A, for "nothing changed" checks.
func (e *env) pushState(users ...string) string {
	e.t.Helper()
	ctx := context.Background()
	names, err1 := e.st.PushAttrNames(ctx, e.a.SDKAppID)
	attrs, err2 := e.st.UserPushAttrs(ctx, e.a.SDKAppID, users)
	tags, err3 := e.st.UserPushTags(ctx, e.a.SDKAppID, users)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return fmt.Sprint(names, attrs, tags)
}

func (e *env) setEdition(app store.App, edition string) {
	e.t.Helper()
	if _, err := e.st.WriteDB().Exec(`UPDATE apps SET edition = ? WHERE sdkappid = ?`, edition, app.SDKAppID); err != nil {
		e.t.Fatal(err)
	}
}

func manyUsers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%d", i)
	}
	return out
}

func TestPushAttrNames(t *testing.T) {
	e := newEnv(t)
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "sex", "1": "city"}}).wantOK()
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"1": "town", "9": "level"}}).wantOK()
	var got struct{ AttrNames map[string]string }
	e.call(pushSvc+"im_get_attr_name", M{}).wantOK("AttrNames").into(&got)
	if want := map[string]string{"0": "sex", "1": "town", "9": "level"}; !reflect.DeepEqual(got.AttrNames, want) {
		t.Fatalf("names %v, want %v", got.AttrNames, want)
	}
	before := e.pushState()
	for _, tc := range []struct {
		req  any
		code int
	}{
		{M{"AttrNames": M{"10": "x"}}, errs.PushBadAttr},
		{M{"AttrNames": M{"01": "x"}}, errs.PushBadAttr},
		{M{"AttrNames": M{"a": "x"}}, errs.PushBadAttr},
		{M{"AttrNames": M{"2": ""}}, errs.PushBadAttr},
		{M{"AttrNames": M{"2": strings.Repeat("n", 51)}}, errs.PushBadAttr},
		{M{"AttrNames": M{"2": "sex"}}, errs.PushBadAttr},                  // "sex" is slot 0's name
		{M{"AttrNames": M{"2": "a", "3": "a"}}, errs.PushBadAttr},          // two slots, one name
		{M{"AttrNames": M{"2": "ok", "4": "bad\u0001"}}, errs.PushBadAttr}, // control character
		{M{"AttrNames": []string{"sex"}}, errs.MsgJSON},
		{M{"AttrNames": M{"2": 5}}, errs.MsgJSON},
		{M{}, errs.InvalidParameters},
		{`{"AttrNames":`, errs.MsgJSON},
	} {
		e.call(pushSvc+"im_set_attr_name", tc.req).wantErr(tc.code)
	}
	if after := e.pushState(); after != before {
		t.Fatalf("refused calls changed the names: %s -> %s", before, after)
	}
	// Another app's names are its own.
	got.AttrNames = nil
	e.callApp(e.b, pushSvc+"im_get_attr_name", M{}).wantOK("AttrNames").into(&got)
	if len(got.AttrNames) != 0 {
		t.Fatalf("app B sees names %v", got.AttrNames)
	}
}

type userAttrs struct {
	UserAttrs []struct {
		To_Account string
		Attrs      map[string]string
	}
	Attrs []struct {
		To_Account string
		Attrs      map[string]string
	}
}

func (e *env) getAttrs(users ...string) map[string]map[string]string {
	e.t.Helper()
	var got userAttrs
	e.call(pushSvc+"im_get_attr", M{"To_Account": users}).wantOK("UserAttrs", "Attrs").into(&got)
	out := map[string]map[string]string{}
	for i, u := range got.UserAttrs {
		if u.To_Account != users[i] || !reflect.DeepEqual(got.Attrs[i].Attrs, u.Attrs) {
			e.t.Fatalf("im_get_attr: entry %d is %+v / %+v, want %s in both lists", i, u, got.Attrs[i], users[i])
		}
		out[u.To_Account] = u.Attrs
	}
	return out
}

func TestPushUserAttrs(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol")
	e.importUsers(e.c, "dave")
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "sex", "1": "city"}}).wantOK()
	e.call(pushSvc+"im_set_attr", M{"UserAttrs": []M{
		{"To_Account": "alice", "Attrs": M{"sex": "f", "city": "Paris"}},
		{"To_Account": "bob", "Attrs": M{"sex": "m"}},
	}}).wantOK()
	// The Go SDK's spelling: the list under "Attrs".
	e.call(pushSvc+"im_set_attr", M{"Attrs": []M{{"To_Account": "carol", "Attrs": M{"city": "Lyon"}}}}).wantOK()
	// Users that are missing or of another app are listed; the others are set.
	r := e.call(pushSvc+"im_set_attr", M{"UserAttrs": []M{
		{"To_Account": "ghost", "Attrs": M{"sex": "x"}},
		{"To_Account": "dave", "Attrs": M{"sex": "x"}},
		{"To_Account": "bob", "Attrs": M{"city": "Nice"}},
	}}).wantOK("ErrorList")
	var el struct {
		ErrorList []struct {
			To_Account string
			ErrorCode  int
		}
	}
	r.into(&el)
	if len(el.ErrorList) != 2 || el.ErrorList[0].To_Account != "ghost" || el.ErrorList[0].ErrorCode != errs.AccountNotFound ||
		el.ErrorList[1].To_Account != "dave" || el.ErrorList[1].ErrorCode != errs.AccountNotFound {
		t.Fatalf("ErrorList %+v", el.ErrorList)
	}
	want := map[string]map[string]string{
		"alice": {"sex": "f", "city": "Paris"}, "bob": {"sex": "m", "city": "Nice"},
		"carol": {"city": "Lyon"}, "ghost": {}, "dave": {},
	}
	if got := e.getAttrs("alice", "bob", "carol", "ghost", "dave"); !reflect.DeepEqual(got, want) {
		t.Fatalf("attrs %v, want %v", got, want)
	}
	users := []string{"alice", "bob", "carol"}
	before := e.pushState(users...)
	tooMany := make([]M, 101)
	for i := range tooMany {
		tooMany[i] = M{"To_Account": "alice", "Attrs": M{"sex": "f"}}
	}
	for _, tc := range []struct {
		req  any
		code int
	}{
		{M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{"age": "3"}}}}, errs.PushBadAttr},
		{M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{"sex": strings.Repeat("v", 51)}}}}, errs.PushBadAttr},
		{M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{"sex": ""}}}}, errs.PushBadAttr},
		{M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{"sex": 1}}}}, errs.PushBadAttr},
		// One bad item fails the call before anything is set.
		{M{"UserAttrs": []M{{"To_Account": "bob", "Attrs": M{"sex": "x"}}, {"To_Account": "alice", "Attrs": M{"nope": "x"}}}}, errs.PushBadAttr},
		{M{"UserAttrs": tooMany}, errs.PushTooManyAccounts},
		{M{"UserAttrs": []M{}}, errs.InvalidParameters},
		{M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{}}}}, errs.InvalidParameters},
		{M{"UserAttrs": M{"To_Account": "alice"}}, errs.MsgJSON},
		{M{"UserAttrs": []M{{"To_Account": 7, "Attrs": M{"sex": "x"}}}}, errs.MsgJSON},
	} {
		e.call(pushSvc+"im_set_attr", tc.req).wantErr(tc.code)
	}
	e.call(pushSvc+"im_remove_attr", M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": []string{"age"}}}}).wantErr(errs.PushBadAttr)
	e.call(pushSvc+"im_get_attr", M{"To_Account": manyUsers(101)}).wantErr(errs.PushTooManyAccounts)
	e.call(pushSvc+"im_get_attr", M{"To_Account": "alice"}).wantErr(errs.MsgJSON)
	if after := e.pushState(users...); after != before {
		t.Fatalf("refused calls changed attributes: %s -> %s", before, after)
	}
	e.call(pushSvc+"im_remove_attr", M{"Attrs": []M{{"To_Account": "alice", "Attrs": []string{"city"}}}}).wantOK()
	if got := e.getAttrs("alice"); !reflect.DeepEqual(got["alice"], map[string]string{"sex": "f"}) {
		t.Fatalf("after im_remove_attr: %v", got)
	}
	// Renaming a slot keeps its values under the new name.
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "gender"}}).wantOK()
	if got := e.getAttrs("alice"); !reflect.DeepEqual(got["alice"], map[string]string{"gender": "f"}) {
		t.Fatalf("after renaming slot 0: %v", got)
	}
}

func (e *env) getTags(users ...string) map[string][]string {
	e.t.Helper()
	var got struct {
		UserTags, Tags []struct {
			To_Account string
			Tags       []string
		}
	}
	e.call(pushSvc+"im_get_tag", M{"To_Account": users}).wantOK("UserTags", "Tags").into(&got)
	out := map[string][]string{}
	for i, u := range got.UserTags {
		if u.To_Account != users[i] || !reflect.DeepEqual(got.Tags[i], u) {
			e.t.Fatalf("im_get_tag: entry %d %+v / %+v", i, u, got.Tags[i])
		}
		out[u.To_Account] = u.Tags
	}
	return out
}

func TestPushUserTags(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.importUsers(e.c, "dave")
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{"b", "a", "a"}}}}).wantOK()
	e.call(pushSvc+"im_add_tag", M{"Tags": []M{{"To_Account": "bob", "Tags": []string{"a"}}}}).wantOK() // the Go SDK's spelling
	var el struct {
		ErrorList []struct {
			To_Account string
			ErrorCode  int
		}
	}
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{
		{"To_Account": "dave", "Tags": []string{"x"}}, {"To_Account": "alice", "Tags": []string{"c"}},
	}}).wantOK("ErrorList").into(&el)
	if len(el.ErrorList) != 1 || el.ErrorList[0].To_Account != "dave" || el.ErrorList[0].ErrorCode != errs.AccountNotFound {
		t.Fatalf("ErrorList %+v", el.ErrorList)
	}
	if got, want := e.getTags("alice", "bob", "dave"), map[string][]string{"alice": {"a", "b", "c"}, "bob": {"a"}, "dave": {}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	before := e.pushState("alice", "bob")
	eleven := manyUsers(11)
	tooMany := make([]M, 101)
	for i := range tooMany {
		tooMany[i] = M{"To_Account": "alice", "Tags": []string{"t"}}
	}
	for _, cmd := range []string{"im_add_tag", "im_remove_tag"} {
		for _, tc := range []struct {
			req  any
			code int
		}{
			{M{"UserTags": []M{{"To_Account": "alice", "Tags": eleven}}}, errs.PushTooManyTags},
			{M{"UserTags": []M{{"To_Account": "bob", "Tags": []string{"z"}}, {"To_Account": "alice", "Tags": []string{strings.Repeat("t", 51)}}}}, errs.PushTagTooLong},
			{M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{""}}}}, errs.PushEmptyTag},
			{M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{}}}}, errs.InvalidParameters},
			{M{"UserTags": tooMany}, errs.PushTooManyAccounts},
			{M{"UserTags": []M{{"To_Account": "alice", "Tags": "a"}}}, errs.MsgJSON},
			{M{"UserTags": []M{{"To_Account": "alice", "Tags": []int{1}}}}, errs.MsgJSON},
		} {
			e.call(pushSvc+cmd, tc.req).wantErr(tc.code)
		}
	}
	e.call(pushSvc+"im_remove_all_tags", M{"To_Account": manyUsers(101)}).wantErr(errs.PushTooManyAccounts)
	e.call(pushSvc+"im_remove_all_tags", M{"To_Account": []string{}}).wantErr(errs.InvalidParameters)
	if after := e.pushState("alice", "bob"); after != before {
		t.Fatalf("refused calls changed tags: %s -> %s", before, after)
	}
	// A user may have 100 tags: the call that would pass that adds nothing to
	// that user (90032 in ErrorList), and the other users still get theirs.
	for i := 0; i < 97; i += 10 {
		var tags []string
		for j := i; j < min(i+10, 97); j++ {
			tags = append(tags, fmt.Sprintf("n%02d", j))
		}
		e.call(pushSvc+"im_add_tag", M{"UserTags": []M{{"To_Account": "alice", "Tags": tags}}}).wantOK()
	}
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{
		{"To_Account": "alice", "Tags": []string{"y1", "y2"}}, {"To_Account": "bob", "Tags": []string{"y1"}},
	}}).wantOK("ErrorList").into(&el)
	if len(el.ErrorList) != 1 || el.ErrorList[0].To_Account != "alice" || el.ErrorList[0].ErrorCode != errs.PushTooManyTags {
		t.Fatalf("ErrorList %+v", el.ErrorList)
	}
	got := e.getTags("alice", "bob")
	if len(got["alice"]) != 100 || !reflect.DeepEqual(got["bob"], []string{"a", "y1"}) {
		t.Fatalf("alice has %d tags (want 100), bob %v", len(got["alice"]), got["bob"])
	}
	e.call(pushSvc+"im_remove_tag", M{"UserTags": []M{{"To_Account": "bob", "Tags": []string{"a", "never"}}}}).wantOK()
	e.call(pushSvc+"im_remove_all_tags", M{"To_Account": []string{"alice", "ghost"}}).wantOK("ErrorList").into(&el)
	if len(el.ErrorList) != 1 || el.ErrorList[0].To_Account != "ghost" {
		t.Fatalf("ErrorList %+v", el.ErrorList)
	}
	if got, want := e.getTags("alice", "bob"), map[string][]string{"alice": {}, "bob": {"y1"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
}

// Every all_member_push command is refused on Standard and Premium with 90045,
// naming the feature and the edition that has it, and changes nothing.
func TestPushEditionGate(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "sex"}}).wantOK()
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{"t"}}}}).wantOK()
	before := e.pushState("alice")
	calls := map[string]any{
		"im_push":            M{"MsgRandom": 1, "MsgBody": hello, "MsgLifeTime": 60},
		"im_set_attr_name":   M{"AttrNames": M{"1": "city"}},
		"im_get_attr_name":   M{},
		"im_get_attr":        M{"To_Account": []string{"alice"}},
		"im_set_attr":        M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": M{"sex": "f"}}}},
		"im_remove_attr":     M{"UserAttrs": []M{{"To_Account": "alice", "Attrs": []string{"sex"}}}},
		"im_get_tag":         M{"To_Account": []string{"alice"}},
		"im_add_tag":         M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{"u"}}}},
		"im_remove_tag":      M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{"t"}}}},
		"im_remove_all_tags": M{"To_Account": []string{"alice"}},
	}
	for _, ed := range []struct{ id, name string }{{"standard", "Standard"}, {"premium", "Premium"}} {
		e.setEdition(e.a, ed.id)
		for cmd, req := range calls {
			e.call(pushSvc+cmd, req).wantErr(errs.PushNotEnabled, "push to all users", ed.name, "Free Trial")
		}
	}
	if after := e.pushState("alice"); after != before {
		t.Fatalf("refused calls changed push data: %s -> %s", before, after)
	}
	if n := e.lastSeq(e.a, "alice"); n != 0 {
		t.Fatalf("a refused push stored %d entries", n)
	}
	e.setEdition(e.a, "trial")
	e.call(pushSvc+"im_get_tag", M{"To_Account": []string{"alice"}}).wantOK("UserTags", "Tags")
}

// pushTask waits for the app's push task and returns it.
func (e *env) pushTask(id string) store.PushTask {
	e.t.Helper()
	e.svc.WaitPushes()
	t, err := e.svc.PushTask(context.Background(), e.a, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) push(req M) string {
	e.t.Helper()
	var out struct{ TaskId string }
	e.call(pushSvc+"im_push", req).wantOK("TaskId").into(&out)
	if out.TaskId == "" {
		e.t.Fatal("im_push answered an empty TaskId")
	}
	e.clock.Advance(time.Second) // the next push is allowed
	return out.TaskId
}

func TestImPushByTagStoresForTargetsOnly(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol", "dave", "sender")
	e.importUsers(e.b, "alice")
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{
		{"To_Account": "alice", "Tags": []string{"vip", "fr"}}, {"To_Account": "bob", "Tags": []string{"vip"}},
		{"To_Account": "carol", "Tags": []string{"fr"}},
	}}).wantOK()
	e.callApp(e.b, pushSvc+"im_add_tag", M{"UserTags": []M{{"To_Account": "alice", "Tags": []string{"vip"}}}}).wantOK()
	e.bus.online("bob", bus.Device{Platform: "Web"})
	// SDK-style: unused Condition keys as null.
	id := e.push(M{"From_Account": "sender", "MsgRandom": 77, "MsgBody": hello, "MsgLifeTime": 3600,
		"Condition": M{"TagsAnd": []string{"vip"}, "TagsOr": nil, "AttrsAnd": nil, "AttrsOr": nil}})
	task := e.pushTask(id)
	if task.State != store.PushDone || task.Targets != 2 || task.Delivered != 2 || task.From != "sender" || task.DoneAt.IsZero() {
		t.Fatalf("task %+v", task)
	}
	for u, want := range map[string]int64{"alice": 1, "bob": 1, "carol": 0, "dave": 0, "sender": 0} {
		if got := e.lastSeq(e.a, u); got != want {
			t.Errorf("%s has %d entries, want %d", u, got, want)
		}
	}
	if n := e.lastSeq(e.b, "alice"); n != 0 {
		t.Errorf("app B's alice got the push (%d entries)", n)
	}
	// The stored copy is a message from sender, unread, with one MsgKey for all.
	p := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "sender", "MaxCnt": 10})
	q := e.roam(e.a, M{"Operator_Account": "bob", "Peer_Account": "sender", "MaxCnt": 10})
	if p.MsgCnt != 1 || q.MsgCnt != 1 || p.MsgList[0].MsgKey != q.MsgList[0].MsgKey || p.MsgList[0].MsgRandom != 77 || p.MsgList[0].From_Account != "sender" {
		t.Fatalf("stored copies %+v / %+v", p, q)
	}
	var unread struct{ AllC2CUnreadMsgNum int }
	e.call("openim/get_c2c_unread_msg_num", M{"To_Account": "alice"}).into(&unread)
	if unread.AllC2CUnreadMsgNum != 1 {
		t.Fatalf("alice's unread count %d, want 1", unread.AllC2CUnreadMsgNum)
	}
	// Each stored copy was published for delivery (bob is online).
	got := map[string]bool{}
	for _, d := range e.bus.all() {
		if d.Kind == bus.KindEntry && d.Entry.From == "sender" {
			got[d.User] = true
		}
	}
	if !reflect.DeepEqual(got, map[string]bool{"alice": true, "bob": true}) {
		t.Fatalf("deliveries to %v", got)
	}
	// The message expires after MsgLifeTime: no longer listed.
	e.clock.Advance(time.Hour)
	if p := e.roam(e.a, M{"Operator_Account": "alice", "Peer_Account": "sender", "MaxCnt": 10}); p.MsgCnt != 0 {
		t.Fatalf("expired push still listed: %+v", p)
	}
}

func TestImPushConditions(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "u1", "u2", "u3", "u4")
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "sex", "1": "city"}}).wantOK()
	e.call(pushSvc+"im_set_attr", M{"UserAttrs": []M{
		{"To_Account": "u1", "Attrs": M{"sex": "f", "city": "Paris"}},
		{"To_Account": "u2", "Attrs": M{"sex": "f", "city": "Lyon"}},
		{"To_Account": "u3", "Attrs": M{"sex": "m", "city": "Paris"}},
	}}).wantOK()
	e.call(pushSvc+"im_add_tag", M{"UserTags": []M{
		{"To_Account": "u1", "Tags": []string{"a"}}, {"To_Account": "u2", "Tags": []string{"b"}},
		{"To_Account": "u3", "Tags": []string{"a", "b"}},
	}}).wantOK()
	for _, tc := range []struct {
		cond M
		want int64
	}{
		{nil, 4},
		{M{"AttrsAnd": M{"sex": "f", "city": "Paris"}}, 1},
		{M{"AttrsOr": M{"sex": "m", "city": "Lyon"}}, 2},
		{M{"TagsOr": []string{"a", "b"}}, 3},
		{M{"TagsAnd": []string{"a", "b"}}, 1},
		{M{"TagsAnd": []string{"a"}, "TagsOr": []string{"b", "c"}}, 1},
		{M{"TagsAnd": []string{"zzz"}}, 0},
	} {
		req := M{"MsgRandom": 1, "MsgBody": hello, "MsgLifeTime": 60}
		if tc.cond != nil {
			req["Condition"] = tc.cond
		}
		if task := e.pushTask(e.push(req)); task.Targets != tc.want || task.Delivered != tc.want || task.State != store.PushDone {
			t.Errorf("condition %v: %d targets, %d delivered, %s; want %d", tc.cond, task.Targets, task.Delivered, task.State, tc.want)
		}
	}
}

func TestImPushBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.importUsers(e.c, "dave")
	e.call(pushSvc+"im_set_attr_name", M{"AttrNames": M{"0": "sex"}}).wantOK()
	ok := func() M { return M{"MsgRandom": 1, "MsgBody": hello, "MsgLifeTime": 60} }
	with := func(k string, v any) M { m := ok(); m[k] = v; return m }
	without := func(k string) M { m := ok(); delete(m, k); return m }
	for i, tc := range []struct {
		req  any
		code int
	}{
		{`{"MsgRandom":`, errs.MsgJSON},
		{`[1]`, errs.MsgJSON},
		{without("MsgRandom"), errs.PushMsgRandom},
		{with("MsgRandom", "1"), errs.PushMsgRandom},
		{with("MsgRandom", -1), errs.PushMsgRandom},
		{with("MsgLifeTime", -1), errs.PushLifeTime},
		{with("MsgLifeTime", 604801), errs.PushLifeTime},
		{with("MsgLifeTime", "60"), errs.PushLifeTime},
		{without("MsgBody"), errs.MsgBodyNotArray},
		{with("MsgBody", M{"MsgType": "TIMTextElem"}), errs.MsgBodyNotArray},
		{with("MsgBody", []M{{"MsgType": "TIMNope", "MsgContent": M{}}}), errs.MsgBodyInvalid},
		{with("From_Account", "ghost"), errs.AccountNotFound},
		{with("From_Account", "dave"), errs.AccountNotFound}, // a user of another app
		{with("From_Account", 5), errs.MsgJSON},
		{with("Condition", M{"TagsAnd": []string{"a"}, "AttrsOr": M{"sex": "f"}}), errs.PushAttrsAndTags},
		{with("Condition", M{"TagsAnd": []string{"a"}, "TagsOr": []string{"a"}}), errs.PushTagsOverlap},
		{with("Condition", M{"TagsOr": manyUsers(11)}), errs.PushTooManyTags},
		{with("Condition", M{"TagsAnd": []string{""}}), errs.PushEmptyTag},
		{with("Condition", M{"TagsAnd": []string{strings.Repeat("t", 51)}}), errs.PushTagTooLong},
		{with("Condition", M{"AttrsAnd": M{"city": "Paris"}}), errs.PushBadAttr},
		{with("Condition", M{"AttrsAnd": M{"sex": 1}}), errs.PushBadAttr},
		{with("Condition", M{"AttrsOr": M{"sex": strings.Repeat("v", 51)}}), errs.PushBadAttr},
		{with("Condition", M{"TagsAnd": "a"}), errs.MsgJSON},
	} {
		r := e.call(pushSvc+"im_push", tc.req)
		if r.code() != tc.code {
			t.Errorf("case %d: got %s, want %d", i, r.raw, tc.code)
		}
	}
	if n := e.lastSeq(e.a, "alice"); n != 0 {
		t.Fatalf("refused pushes stored %d entries", n)
	}
	// None of them counted for the rate: a push now is accepted.
	e.push(ok())
}

func TestImPushRate(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	req := M{"MsgRandom": 1, "MsgBody": hello, "MsgLifeTime": 60}
	e.call(pushSvc+"im_push", req).wantOK("TaskId")
	e.clock.Advance(999 * time.Millisecond)
	e.call(pushSvc+"im_push", req).wantErr(errs.PushTooFrequent)
	e.callApp(e.b, pushSvc+"im_push", req).wantOK("TaskId") // another app has its own rate
	e.clock.Advance(time.Millisecond)
	e.call(pushSvc+"im_push", req).wantOK("TaskId")
	for i := 2; i < 100; i++ {
		e.clock.Advance(time.Second)
		e.call(pushSvc+"im_push", req).wantOK("TaskId")
	}
	e.clock.Advance(time.Second)
	e.call(pushSvc+"im_push", req).wantErr(errs.PushDailyLimit, "100")
	e.svc.WaitPushes()
	if n := e.lastSeq(e.a, "alice"); n != 100 {
		t.Fatalf("alice got %d pushes, want 100", n)
	}
	// The next UTC day (t0 is 12:00) allows pushes again.
	e.clock.Advance(12 * time.Hour)
	e.call(pushSvc+"im_push", req).wantOK("TaskId")
}

// MsgLifeTime absent (or 0): online devices get the message, nothing is stored.
func TestImPushOnlineOnly(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob")
	e.bus.online("alice", bus.Device{Platform: "Web"})
	task := e.pushTask(e.push(M{"MsgRandom": 9, "MsgBody": hello}))
	if task.Targets != 2 || task.Delivered != 1 || task.State != store.PushDone {
		t.Fatalf("task %+v", task)
	}
	var to []string
	for _, d := range e.bus.all() {
		if d.Kind == bus.KindEntry && d.Entry.From == admin {
			if d.Entry.Seq != 0 {
				t.Fatalf("online-only delivery with Seq %d", d.Entry.Seq)
			}
			to = append(to, d.User)
		}
	}
	if !reflect.DeepEqual(to, []string{"alice"}) {
		t.Fatalf("online-only push delivered to %v", to)
	}
	if e.lastSeq(e.a, "alice")+e.lastSeq(e.a, "bob") != 0 {
		t.Fatal("an online-only push was stored")
	}
	if _, err := e.svc.PushTask(context.Background(), e.b, task.ID); !errs.Is(err, errs.PushTaskNotFound) {
		t.Fatalf("another app reads the task: %v", err)
	}
}

// TestImPushKeepsSendRules: a push from a user follows the rules of that user's
// one-to-one sends: a muted sender's push is refused (20012); a target that
// blocks the sender, or, with friend_only_c2c on, is not its friend both ways,
// gets nothing (counted as a target, not as delivered); the admin's pushes reach
// everyone.
func TestImPushKeepsSendRules(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice", "bob", "carol", "sender")
	e.call("sns/black_list_add", M{"From_Account": "alice", "To_Account": []string{"sender"}}).wantOK("ResultItem", "Fail_Account")
	req := M{"From_Account": "sender", "MsgRandom": 1, "MsgBody": hello, "MsgLifeTime": 3600}
	id := e.push(req)
	if task := e.pushTask(id); task.State != store.PushDone || task.Targets != 4 || task.Delivered != 3 {
		t.Fatalf("task %+v, want 4 targets and 3 delivered (alice blocks sender)", task)
	}
	for u, want := range map[string]int64{"alice": 0, "bob": 1, "carol": 1} {
		if got := e.lastSeq(e.a, u); got != want {
			t.Errorf("%s has %d entries, want %d", u, got, want)
		}
	}

	// friend_only_c2c: only bob, sender's friend both ways, gets the next push.
	if err := e.svc.SetAppSettings(context.Background(), e.a, map[string]string{"friend_only_c2c": "on"}); err != nil {
		t.Fatal(err)
	}
	e.call("sns/friend_import", M{"From_Account": "sender", "AddFriendItem": []M{{"To_Account": "bob", "AddSource": "AddSource_Type_Test"}}}).wantOK("ResultItem", "Fail_Account")
	e.call("sns/friend_import", M{"From_Account": "bob", "AddFriendItem": []M{{"To_Account": "sender", "AddSource": "AddSource_Type_Test"}}}).wantOK("ResultItem", "Fail_Account")
	e.call("sns/friend_import", M{"From_Account": "carol", "AddFriendItem": []M{{"To_Account": "sender", "AddSource": "AddSource_Type_Test"}}}).wantOK("ResultItem", "Fail_Account")
	e.clock.Advance(time.Second)
	req["MsgRandom"] = 2
	e.push(req)
	e.svc.WaitPushes()
	for u, want := range map[string]int64{"alice": 0, "bob": 2, "carol": 1} {
		if got := e.lastSeq(e.a, u); got != want {
			t.Errorf("after a friend-only push, %s has %d entries, want %d", u, got, want)
		}
	}
	// The admin's push reaches everyone, friend or not.
	e.clock.Advance(time.Second)
	e.push(M{"MsgRandom": 3, "MsgBody": hello, "MsgLifeTime": 3600})
	e.svc.WaitPushes()
	for u, want := range map[string]int64{"alice": 1, "bob": 3, "carol": 2} {
		if got := e.lastSeq(e.a, u); got != want {
			t.Errorf("after the admin's push, %s has %d entries, want %d", u, got, want)
		}
	}

	// A muted sender's push is refused before anything is stored.
	e.call("openconfigsvr/setnospeaking", M{"Set_Account": "sender", "C2CmsgNospeakingTime": 60}).wantOK()
	e.clock.Advance(time.Second)
	req["MsgRandom"] = 4
	e.call(pushSvc+"im_push", req).wantErr(errs.SenderMuted)
}
