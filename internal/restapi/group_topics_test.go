package restapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

const tsvc = "million_group_open_http_svc/"

type topicView struct {
	TopicInfo map[string]any
	SelfInfo  map[string]any
	ErrorCode int
	ErrorInfo string
}

func (e *env) topics(group, self string, ids ...string) []topicView {
	e.t.Helper()
	var out struct{ TopicAndSelfInfo []topicView }
	req := M{"GroupId": group, "From_Account": self}
	if ids != nil {
		req["TopicIdList"] = ids
	}
	e.call(tsvc+"get_topic", req).wantOK("TopicAndSelfInfo").into(&out)
	return out.TopicAndSelfInfo
}

// setEditionSQL changes app's edition directly, in SQL both engines take
// (the values are the test's own constants).
func (e *env) setEditionSQL(app store.App, edition string) {
	e.t.Helper()
	if _, err := e.st.WriteDB().Exec(fmt.Sprintf(`UPDATE apps SET edition = '%s' WHERE sdkappid = %d`, edition, app.SDKAppID)); err != nil {
		e.t.Fatal(err)
	}
}

// topicState is the community's topics as text (fmt prints maps sorted by key).
func (e *env) topicState(group string) string {
	e.t.Helper()
	return fmt.Sprint(e.topics(group, ""))
}

func TestTopics(t *testing.T) { newEnvEach(t, testTopics) }

func testTopics(t *testing.T, e *env) {
	e.importUsers(e.a, "o", "m")
	c := e.createGroup(M{"Type": "Community", "Name": "c", "GroupId": "@TGS#_c", "SupportTopic": 1, "Owner_Account": "o"})
	e.createGroup(M{"Type": "Community", "Name": "plain", "GroupId": "plain"})
	e.createGroup(M{"Type": "Public", "Name": "p", "GroupId": "pub", "Owner_Account": "o"})

	var created struct{ TopicId string }
	e.call(tsvc+"create_topic", M{"GroupId": c, "TopicId": c + "@TOPIC#_news", "TopicName": "News", "From_Account": "o",
		"CustomString": "cs", "FaceUrl": "http://f", "Notification": "n", "Introduction": "i"}).wantOK("TopicId").into(&created)
	news := created.TopicId
	if news != "@TGS#_c@TOPIC#_news" {
		t.Fatalf("custom TopicId %q", news)
	}
	e.call(tsvc+"create_topic", M{"GroupId": c, "TopicName": "Gen"}).wantOK("TopicId").into(&created)
	gen := created.TopicId
	if !strings.HasPrefix(gen, c+"@TOPIC#_@TGS#") {
		t.Fatalf("generated TopicId %q", gen)
	}

	// Bad input: the reference's code, nothing created.
	before := e.topicState(c)
	for _, bad := range []struct {
		req  any
		code int
	}{
		{M{"GroupId": c, "TopicId": news, "TopicName": "again"}, errs.GroupIDInUse},
		{M{"GroupId": c}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicName": 5}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicName": strings.Repeat("n", 101)}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicName": "x", "CustomString": strings.Repeat("c", 4097)}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicName": "x", "CreateTime": 1448357837}, errs.GroupBadParams},
		{M{"GroupId": "plain", "TopicName": "x"}, errs.GroupBadParams},
		{M{"GroupId": "pub", "TopicName": "x"}, errs.GroupBadParams},
		{M{"GroupId": "nope", "TopicName": "x"}, errs.GroupNotFound},
		{M{"GroupId": "", "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": c, "TopicId": "other@TOPIC#_a", "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": c, "TopicId": c + "@TOPIC#_a b", "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": c, "TopicId": c + "@TOPIC#_" + strings.Repeat("s", 49), "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": c, "TopicId": c + "@TOPIC#_@TGS#mine", "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": c, "TopicName": "x", "From_Account": "ghost"}, errs.GroupNoAccount},
		{`{"GroupId":`, errs.GroupJSONParse},
	} {
		e.call(tsvc+"create_topic", bad.req).wantErr(bad.code)
	}
	e.callApp(e.b, tsvc+"create_topic", M{"GroupId": c, "TopicName": "x"}).wantErr(errs.GroupNotFound) // another app's group
	if after := e.topicState(c); after != before {
		t.Fatalf("refused creations changed topics:\n%s\n%s", before, after)
	}

	// get_topic: all, or the listed ids each with its own ErrorCode; SelfInfo of From_Account.
	all := e.topics(c, "o")
	if len(all) != 2 {
		t.Fatalf("topics %v", all)
	}
	for _, tv := range all {
		if tv.SelfInfo["Role"] != "Owner" || tv.ErrorCode != 0 {
			t.Fatalf("SelfInfo %v", tv)
		}
	}
	got := e.topics(c, "m", news, c+"@TOPIC#_none", "bad")
	if got[0].TopicInfo["TopicName"] != "News" || got[0].TopicInfo["From_Account"] != "o" || got[0].TopicInfo["CustomString"] != "cs" ||
		got[0].TopicInfo["MuteAllMember"] != "Off" || num(got[0].TopicInfo["CreateTime"]) != t0.Unix() || len(got[0].SelfInfo) != 0 ||
		got[1].ErrorCode != errs.GroupNotFound || got[2].ErrorCode != errs.GroupIDInvalid || got[2].TopicInfo["TopicId"] != "bad" {
		t.Fatalf("get_topic %+v", got)
	}
	e.call(tsvc+"get_topic", M{"GroupId": "nope"}).wantErr(errs.GroupNotFound)
	e.call(tsvc+"get_topic", M{"GroupId": "pub"}).wantErr(errs.GroupBadParams)
	e.call(tsvc+"get_topic", M{"GroupId": c, "TopicIdList": users("t", 101)}).wantErr(errs.GroupBadParams)
	e.call(tsvc+"get_topic", M{"GroupId": c, "TopicIdList": "x"}).wantErr(errs.GroupBadParams)

	// modify_topic.
	e.call(tsvc+"modify_topic", M{"GroupId": c, "TopicId": news, "TopicName": "N2", "MuteAllMember": "On"}).wantOK()
	if g := e.topics(c, "", news)[0].TopicInfo; g["TopicName"] != "N2" || g["MuteAllMember"] != "On" || g["Introduction"] != "i" {
		t.Fatalf("modified %v", g)
	}
	before = e.topicState(c)
	for _, bad := range []struct {
		req  M
		code int
	}{
		{M{"GroupId": c, "TopicId": news, "MuteAllMember": "Maybe"}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicId": news, "TopicName": ""}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicId": news, "TopicName": 1}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicId": news, "Notification": strings.Repeat("n", 401)}, errs.GroupBadParams},
		{M{"GroupId": c, "TopicId": c + "@TOPIC#_none", "TopicName": "x"}, errs.GroupNotFound},
		{M{"GroupId": c, "TopicId": "pub@TOPIC#_x", "TopicName": "x"}, errs.GroupIDInvalid},
		{M{"GroupId": "nope", "TopicId": "nope@TOPIC#_x", "TopicName": "x"}, errs.GroupNotFound},
	} {
		e.call(tsvc+"modify_topic", bad.req).wantErr(bad.code)
	}
	if after := e.topicState(c); after != before {
		t.Fatalf("refused changes changed topics:\n%s\n%s", before, after)
	}

	// import_topic takes CreateTime (not in the future).
	var imp struct{ TopicId string }
	e.call(gsvc+"import_topic", M{"Type": "Community", "GroupId": c, "TopicId": c + "@TOPIC#_old", "TopicName": "old", "CreateTime": 1448357837}).wantOK("TopicId").into(&imp)
	if g := e.topics(c, "", imp.TopicId)[0].TopicInfo; num(g["CreateTime"]) != 1448357837 {
		t.Fatalf("imported %v", g)
	}
	e.call(gsvc+"import_topic", M{"GroupId": c, "TopicName": "f", "CreateTime": t0.Unix() + 10}).wantErr(errs.GroupBadParams)
	e.call(gsvc+"import_topic", M{"Type": "Public", "GroupId": c, "TopicName": "f"}).wantErr(errs.GroupBadParams)

	// At most 100 topics per community.
	for i := len(e.topics(c, "")); i < 100; i++ {
		e.call(tsvc+"create_topic", M{"GroupId": c, "TopicName": "t"}).wantOK("TopicId")
	}
	e.call(tsvc+"create_topic", M{"GroupId": c, "TopicName": "one too many"}).wantErr(errs.GroupBadParams, "100")

	// destroy_topic: per-id results.
	var d struct {
		DestroyResultItem []struct {
			TopicId   string
			ErrorCode int
		}
	}
	e.call(tsvc+"destroy_topic", M{"GroupId": c, "TopicIdList": []string{gen, c + "@TOPIC#_none", "bad"}}).wantOK("DestroyResultItem").into(&d)
	if len(d.DestroyResultItem) != 3 || d.DestroyResultItem[0].ErrorCode != 0 || d.DestroyResultItem[0].TopicId != gen ||
		d.DestroyResultItem[1].ErrorCode != errs.GroupNotFound || d.DestroyResultItem[2].ErrorCode != errs.GroupIDInvalid {
		t.Fatalf("destroy_topic %+v", d)
	}
	if len(e.topics(c, "")) != 99 {
		t.Fatal("the destroyed topic is still listed")
	}
	e.call(tsvc+"destroy_topic", M{"GroupId": c, "TopicIdList": []string{}}).wantErr(errs.GroupBadParams)
	e.call(tsvc+"destroy_topic", M{"GroupId": "nope", "TopicIdList": []string{"nope@TOPIC#_a"}}).wantErr(errs.GroupNotFound)
	e.callApp(e.b, tsvc+"destroy_topic", M{"GroupId": c, "TopicIdList": []string{news}}).wantErr(errs.GroupNotFound)

	// Standard has no communities: no new topics (10059); the existing ones are
	// still read, changed and destroyed.
	e.setEditionSQL(e.a, "standard")
	e.call(tsvc+"create_topic", M{"GroupId": c, "TopicName": "x"}).wantErr(errs.GroupFeatureNotInEdition)
	e.call(gsvc+"import_topic", M{"GroupId": c, "TopicName": "x"}).wantErr(errs.GroupFeatureNotInEdition)
	e.call(tsvc+"modify_topic", M{"GroupId": c, "TopicId": news, "TopicName": "std"}).wantOK()
	e.call(tsvc+"destroy_topic", M{"GroupId": c, "TopicIdList": []string{imp.TopicId}}).wantOK("DestroyResultItem")
	if n := len(e.topics(c, "")); n != 98 {
		t.Fatalf("%d topics on Standard", n)
	}
	e.setEditionSQL(e.a, "trial")

	// Disbanding the community removes its topics; a new one of the same id has none.
	e.call(gsvc+"destroy_group", M{"GroupId": c}).wantOK()
	e.call(tsvc+"get_topic", M{"GroupId": c}).wantErr(errs.GroupNotFound)
	e.createGroup(M{"Type": "Community", "Name": "c", "GroupId": c, "SupportTopic": 1})
	if n := len(e.topics(c, "")); n != 0 {
		t.Fatalf("a recreated community has %d topics", n)
	}
}
