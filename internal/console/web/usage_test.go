package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

func TestAppUsage(t *testing.T) {
	testdb.Each(t, testAppUsage)
}

// testAppUsage records usage through the server's recorder (today and five
// days ago) and reads it back on the detail page: the table, the three
// charts' bars scaled to the busiest day, and the MAU meter.
func testAppUsage(t *testing.T, open testdb.Opener) {
	e := newEnvOn(t, open)
	ann := e.signUp("Ann", "ann@example.com")
	code, body := ann.post("/console/apps", url.Values{"name": {"chat"}, "region": {"tokyo"}})
	want(t, "create", code, body, 200, "<h1>chat</h1>")
	apps, _ := e.s.Tenants.ListAppsAs(context.Background(), tenant.Actor{Account: e.account("ann@example.com").ID}, "")
	app := apps[0].SDKAppID
	id := fmt.Sprint(app)

	// A new app: 30 days of zeros, no bars.
	code, body = ann.get("/console/apps/" + id)
	want(t, "empty usage", code, body, 200, "<h2 id=\"usage\">Usage</h2>", "Last 30 days (UTC)",
		"<th scope=\"row\">2026-10-28</th><td>0</td><td>0</td><td>0</td><td>0</td>",
		"<th scope=\"row\">2026-11-26</th><td>0</td><td>0</td><td>0</td><td>0</td>", "none in these days.")
	if n := strings.Count(body, `<rect class="bar"`); n != 0 {
		t.Fatalf("bars without usage: %d", n)
	}

	earlier := now.AddDate(0, 0, -5)
	u := e.s.Usage
	for _, user := range []string{"u1", "u2", "u3", "u4"} {
		u.Login(app, user, now)
	}
	for range 6 {
		u.C2C(app, "u1", now)
	}
	u.Group(app, "u2", now)
	u.Group(app, "u2", now)
	u.Login(app, "u1", earlier)
	u.C2C(app, "u1", earlier)
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Three users logged in this month, as the gateway's login check counts them.
	g := &gate.Gate{MAU: e.st, Clock: clock.NewManual(now)}
	for _, user := range []string{"u1", "u2", "u3"} {
		if err := g.AdmitLogin(context.Background(), apps[0], user); err != nil {
			t.Fatal(err)
		}
	}

	code, body = ann.get("/console/apps/" + id)
	want(t, "usage", code, body, 200,
		"<th scope=\"row\">2026-11-26</th><td>4</td><td>4</td><td>6</td><td>2</td>",
		"<th scope=\"row\">2026-11-21</th><td>1</td><td>1</td><td>1</td><td>0</td>",
		"<th scope=\"row\">2026-11-25</th><td>0</td><td>0</td><td>0</td><td>0</td>",
		`<title id="chart-active-title">Daily active users</title>`,
		"the most was 8 on 2026-11-26",
		"MAU 2026-11: 3 used of 100 free, cap 100",
		`<meter id="mau-meter" min="0" max="100" high="100" value="3">`)
	// Each chart has two bars: today's full height (120), and five days ago
	// scaled to the busiest day (users 1/4, messages 1/8, logins 1/4).
	rects := regexp.MustCompile(`<svg class="chart" id="([a-z-]+)"|<rect class="bar" x="(\d+)" y="(\d+)" width="16" height="(\d+)"><title>([0-9-]+): (\d+)</title>`)
	got := map[string][]string{}
	chart := ""
	for _, m := range rects.FindAllStringSubmatch(body, -1) {
		if m[1] != "" {
			chart = m[1]
			continue
		}
		got[chart] = append(got[chart], strings.Join(m[2:], " "))
	}
	wantBars := map[string][]string{
		"chart-active": {"480 94 30 2026-11-21 1", "580 4 120 2026-11-26 4"},
		"chart-msgs":   {"480 109 15 2026-11-21 1", "580 4 120 2026-11-26 8"},
		"chart-logins": {"480 94 30 2026-11-21 1", "580 4 120 2026-11-26 4"},
	}
	if fmt.Sprint(got) != fmt.Sprint(wantBars) {
		t.Fatalf("bars:\n%v\nwant\n%v", got, wantBars)
	}

	// Another account does not see the app (nor its usage).
	bob := e.signUp("Bob", "bob@example.com")
	code, body = bob.get("/console/apps/" + id)
	want(t, "foreign app", code, body, 404)
	if strings.Contains(body, "2026-11-26</th><td>4") {
		t.Fatal("a foreign app's usage shown")
	}
}
