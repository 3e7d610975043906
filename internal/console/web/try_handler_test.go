package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
	"github.com/chatd/chatd/internal/usersig"
)

func TestTrySession(t *testing.T) {
	testdb.Each(t, testTrySession)
}

// testTrySession: the "try it" session route imports a missing user once,
// answers a UserSig that verifies with the app's key, and refuses a form
// without the CSRF token, another account's app and a bad UserID.
func testTrySession(t *testing.T, open testdb.Opener) {
	e := newEnvOn(t, open)
	ann := e.signUp("Ann", "ann@example.com")
	code, body := ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"tokyo"}})
	want(t, "create", code, body, 200, "<h1>chat</h1>", "Try it: chat between two test users")
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: e.account("ann@example.com").ID}, "")
	app := apps[0]
	id := fmt.Sprint(app.SDKAppID)

	code, body = ann.get("/console/apps/" + id + "/try?user=test-a&peer=test-b")
	want(t, "try page", code, body, 200, `data-user="test-a" data-peer="test-b"`, `<script type="module" src="/console/static/try.js">`)
	exists := func(user string) bool {
		have, err := e.s.IM.CheckAccounts(context.Background(), app, []string{user})
		if err != nil {
			t.Fatal(err)
		}
		return have[user]
	}
	code, body = ann.post("/console/apps/"+id+"/try/session", url.Values{"user": {"test-a"}, "csrf": {"bad"}})
	want(t, "session without CSRF", code, body, 403)
	if exists("test-a") {
		t.Fatal("a refused form imported the user")
	}
	for range 2 { // the second time the user exists already
		code, body = ann.post("/console/apps/"+id+"/try/session", url.Values{"user": {"test-a"}})
		want(t, "session", code, body, 200, `"user":"test-a"`)
		var s struct {
			SDKAppID int64  `json:"sdkappid"`
			User     string `json:"user"`
			UserSig  string `json:"usersig"`
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		if err := usersig.Verify(app.SDKAppID, app.SecretKey, "test-a", s.UserSig, now.Add(time.Minute)); err != nil || s.SDKAppID != app.SDKAppID {
			t.Fatalf("usersig %+v: %v", s, err)
		}
		if !exists("test-a") {
			t.Fatal("test-a was not imported")
		}
	}
	code, body = ann.post("/console/apps/"+id+"/try/session", url.Values{"user": {""}})
	want(t, "empty user", code, body, 400, `"error"`)

	// A suspended app's users cannot sign in: 409 with the reason and the way
	// out, and nobody is imported.
	if _, err := e.s.Commerce.SuspendAccountAs(context.Background(), tenant.Actor{Operator: true}, app.AccountID, commerce.ReasonViolation); err != nil {
		t.Fatal(err)
	}
	code, body = ann.post("/console/apps/"+id+"/try/session", url.Values{"user": {"test-c"}})
	want(t, "suspended app", code, body, 409, "suspended (violation): its users cannot sign in", "contact the operator")
	if exists("test-c") {
		t.Fatal("a suspended app imported a user")
	}

	bob := e.signUp("Bob", "bob@example.com")
	code, body = bob.get("/console/apps/" + id + "/try?user=x&peer=y")
	want(t, "foreign try page", code, body, 404)
	code, body = bob.post("/console/apps/"+id+"/try/session", url.Values{"user": {"intruder"}})
	want(t, "foreign session", code, body, 404, `"error"`)
	if exists("intruder") {
		t.Fatal("another account imported a user")
	}
}
