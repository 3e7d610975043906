package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// The cluster tests: three chatd nodes on one PostgreSQL database and one NATS
// server of the test's own (cluster_harness_test.go has the harness).

// clusterStart is the fake clock the first cluster test starts on.
const clusterStart = "2027-01-31T10:00:00Z"

// TestCluster checks, on three nodes, what a client cannot tell from one node:
// real-time delivery across nodes (one-to-one and group), presence through any
// node, live-room online members through any node, each lifecycle job run once,
// exact MAU and daily group counters under parallel logins and creates on all
// nodes, and a node killed with SIGKILL under a steady load.
func TestCluster(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	start := time.Now()
	cl := startCluster(t, 3, pg, ns.url(), "--fake-clock", clusterStart)
	t.Logf("3 nodes ready in %s", time.Since(start).Round(time.Millisecond))
	n1, n2, n3 := cl.nodes[0], cl.nodes[1], cl.nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cl.run(t, "one-to-one", func(t *testing.T) {
		a := n1.createApp()
		n2.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"alice", "bob"}})
		alice := n1.mustLogin(a, "alice", "iOS", 0)
		bob2 := n2.mustLogin(a, "bob", "Android", 0)
		bob3 := n3.mustLogin(a, "bob", "Web", 0)
		ack, err := alice.SendText(ctx, "bob", "a-1", "across nodes")
		if err != nil {
			t.Fatal(err)
		}
		if e := nextMsg(t, alice); e.MsgKey != ack.MsgKey { // the sender's own copy
			t.Fatalf("alice's copy: %+v", e)
		}
		for i, d := range []*client.Client{bob2, bob3} {
			if e := nextMsg(t, d); e.MsgKey != ack.MsgKey || text(e) != "across nodes" {
				t.Fatalf("bob on node %d got %+v", i+2, e)
			}
		}
		if _, err := bob3.SendText(ctx, "alice", "b-1", "back"); err != nil {
			t.Fatal(err)
		}
		if e := nextMsg(t, alice); text(e) != "back" || e.From != "bob" {
			t.Fatalf("alice got %+v", e)
		}
		if e := nextMsg(t, bob2); text(e) != "back" { // the sender's other device, on another node
			t.Fatalf("bob's other device got %+v", e)
		}
	})

	cl.run(t, "group", func(t *testing.T) {
		a := n1.createApp()
		n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"g0", "g1", "g2", "g3"}})
		v := n2.restOK(a, "group_open_http_svc/create_group", map[string]any{"Owner_Account": "g0", "Type": "Public", "Name": "across",
			"MemberList": []map[string]string{{"Member_Account": "g1"}, {"Member_Account": "g2"}}})
		group := v["GroupId"].(string)
		g0 := n1.mustLogin(a, "g0", "Web", 0)
		recv := func(n *node, user string) chan client.Entry {
			ch := make(chan client.Entry, 16)
			c := n.mustLogin(a, user, "Web", 0)
			c.OnGroupEntry(func(e client.Entry) {
				if e.Kind == "msg" {
					ch <- e
				}
			})
			return ch
		}
		g1, g2, g3 := recv(n2, "g1"), recv(n3, "g2"), recv(n3, "g3")
		body := func(s string) []byte { return []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + s + `"}}]`) }
		ack, err := g0.GroupSend(ctx, group, "m-1", body("to the group"), client.GroupSendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, ch := range []chan client.Entry{g1, g2} {
			if e := nextGroup(t, ch); e.Seq != ack.Seq || text(e) != "to the group" {
				t.Fatalf("member %d got %+v (ack %+v)", i+1, e, ack)
			}
		}
		// A member added while online on another node gets the next message:
		// the group's routes follow the membership.
		n1.restOK(a, "group_open_http_svc/add_group_member", map[string]any{"GroupId": group, "MemberList": []map[string]string{{"Member_Account": "g3"}}})
		ack, err = g0.GroupSend(ctx, group, "m-2", body("welcome g3"), client.GroupSendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			e := nextGroup(t, g3)
			if e.Seq == ack.Seq {
				break
			}
		}
	})

	cl.run(t, "presence", func(t *testing.T) {
		a := n1.planApp("premium")
		n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": []string{"pa", "pb", "pc"}})
		online := func(n *node, user string) string {
			v := n.restOK(a, "openim/query_online_status", map[string]any{"To_Account": []string{user}})
			return v["QueryResult"].([]any)[0].(map[string]any)["Status"].(string)
		}
		pa := n2.mustLogin(a, "pa", "Web", 0)
		for i, n := range cl.nodes {
			took := eventually(t, 5*time.Second, fmt.Sprintf("pa online through node %d", i+1), func() bool { return online(n, "pa") == "Online" })
			t.Logf("node %d sees pa (on node 2) online after %s", i+1, took.Round(time.Millisecond))
		}
		pa.Close()
		for i, n := range cl.nodes {
			eventually(t, 5*time.Second, fmt.Sprintf("pa offline through node %d", i+1), func() bool { return online(n, "pa") == "Offline" })
		}
		pb := n1.mustLogin(a, "pb", "Web", 0)
		st, failed, err := pb.SubscribeStatus(ctx, "pc")
		if err != nil || len(failed) != 0 || st[0].Status != "Offline" {
			t.Fatalf("subscribe: %v %v %v", st, failed, err)
		}
		pc := n3.mustLogin(a, "pc", "Web", 0)
		if s := nextStatus(t, pb); s.User != "pc" || s.Status != "Online" {
			t.Fatalf("pb on node 1 saw %+v, want pc Online (on node 3)", s)
		}
		pc.Close()
		if s := nextStatus(t, pb); s.User != "pc" || s.Status != "Offline" {
			t.Fatalf("pb on node 1 saw %+v, want pc Offline", s)
		}
	})

	cl.run(t, "live-room", func(t *testing.T) {
		a := n1.planApp("premium")
		users := []string{"lr0", "lr1", "lr2", "lr3"}
		n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users})
		room := n1.restOK(a, "group_open_http_svc/create_group", map[string]any{"Owner_Account": "lr0", "Type": "AVChatRoom", "Name": "live"})["GroupId"].(string)
		var members []*client.Client
		for i, u := range users[1:] {
			c := cl.nodes[i].mustLogin(a, u, "Web", 0)
			if _, err := c.GroupJoin(ctx, room, ""); err != nil {
				t.Fatalf("%s joins on node %d: %v", u, i+1, err)
			}
			members = append(members, c)
		}
		count := func(n *node) int {
			return int(n.restOK(a, "group_open_http_svc/get_online_member_num", map[string]any{"GroupId": room})["OnlineMemberNum"].(float64))
		}
		list := func(n *node) []string {
			v := n.restOK(a, "group_open_avchatroom_http_svc/get_members", map[string]any{"GroupId": room, "Timestamp": 0})
			var out []string
			for _, m := range v["MemberList"].([]any) {
				out = append(out, m.(map[string]any)["Member_Account"].(string))
			}
			return out
		}
		for i, n := range cl.nodes {
			eventually(t, 5*time.Second, fmt.Sprintf("3 online members through node %d", i+1), func() bool { return count(n) == 3 })
			eventually(t, 5*time.Second, fmt.Sprintf("the member list through node %d", i+1), func() bool { return len(list(n)) == 3 })
			if got := strings.Join(sorted(list(n)), ","); got != "lr1,lr2,lr3" {
				t.Fatalf("node %d lists %s", i+1, got)
			}
		}
		members[2].Close() // lr3, on node 3
		for i, n := range cl.nodes {
			eventually(t, 10*time.Second, fmt.Sprintf("2 online members through node %d", i+1), func() bool { return count(n) == 2 })
		}
	})

	var counted app
	cl.run(t, "counters", func(t *testing.T) {
		// A Free Trial app (100 MAU, 100 groups at once and a day) of an
		// account with a phone (the lifecycle subtest counts its SMS notices).
		acc := n1.cli("account", "create", "--name", "Count", "--email", "ops@count.example", "--phone", "+15550100")["id"].(string)
		v := n1.cli("app", "create", "--account", acc, "--name", "counted")
		a := app{id: int64(v["sdkappid"].(float64)), key: v["secret_key"].(string)}
		counted = a
		var users []string
		for i := 0; i < 120; i++ {
			users = append(users, fmt.Sprintf("c%03d", i))
		}
		n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users[:100]})
		n2.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users[100:]})
		var ok, capped atomic.Int64
		var other sync.Map
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := cl.nodes[i%3].login(a, u, "Web", -1)
				var ce *client.Error
				switch {
				case err == nil:
					ok.Add(1)
					c.Close()
				case errors.As(err, &ce) && ce.Code == 70398:
					capped.Add(1)
				default:
					other.Store(u, err.Error())
				}
			}()
		}
		wg.Wait()
		other.Range(func(k, v any) bool { t.Errorf("login %s: %s", k, v); return true })
		if ok.Load() != 100 || capped.Load() != 20 {
			t.Errorf("parallel logins of 120 users on 3 nodes: %d admitted, %d refused (70398); want 100 and 20", ok.Load(), capped.Load())
		}
		for i, n := range cl.nodes {
			if mau := n.cli("app", "mau", "--sdkappid", fmt.Sprint(a.id)); mau["mau"] != float64(100) {
				t.Errorf("MAU through node %d: %v", i+1, mau)
			}
		}
		// 120 groups created at once through the 3 nodes: exactly 100 pass.
		var created atomic.Int64
		codes := sync.Map{}
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := cl.nodes[i%3].rest(a, "group_open_http_svc/create_group", map[string]any{"Owner_Account": u, "Type": "Public", "Name": "g " + u})
				if v["ErrorCode"] == float64(0) {
					created.Add(1)
					return
				}
				n, _ := codes.LoadOrStore(v["ErrorCode"], new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}()
		}
		wg.Wait()
		refused := map[any]int64{}
		codes.Range(func(k, v any) bool { refused[k] = v.(*atomic.Int64).Load(); return true })
		if created.Load() != 100 {
			t.Errorf("parallel group creates on 3 nodes: %d created (refused by code: %v); want 100", created.Load(), refused)
		}
		for code := range refused {
			if code != float64(10961) && code != float64(10960) {
				t.Errorf("a group create refused with %v, want the daily (10961) or app (10960) limit; refused by code: %v", code, refused)
			}
		}
		v = n3.restOK(a, "group_open_http_svc/get_appid_group_list", map[string]any{"Limit": 1000})
		if v["TotalCount"] != float64(100) {
			t.Errorf("groups stored: %v", v["TotalCount"])
		}
		// The counters themselves (on the Free Trial both limits are 100, so the
		// one that refuses is groups at once, 10960): each counted 100, not more.
		day := cl.count(t, pg, fmt.Sprintf(`SELECT COALESCE(SUM(net), 0) FROM im_group_daily WHERE app = %d`, a.id))
		quota := cl.count(t, pg, fmt.Sprintf(`SELECT group_count FROM im_group_quota WHERE app = %d`, a.id))
		if day != 100 || quota != 100 {
			t.Errorf("stored counters: the day's net increase %d, groups at once %d; want 100 and 100", day, quota)
		}
	})

	cl.run(t, "lifecycle", func(t *testing.T) {
		if counted.id == 0 {
			t.Skip("needs the counters subtest's app")
		}
		jobsBefore := cl.metric(`chatd_lifecycle_jobs_total{kind="reminder"}`)
		// Every node's clock moves at once: each runs the scheduler over the
		// same week, and each job (a reminder a day, per app and channel) runs once.
		cl.setClock(t, "2027-02-28T12:00:00Z")
		want := "2027-02-22T10:00:00Z,2027-02-23T10:00:00Z,2027-02-24T10:00:00Z,2027-02-25T10:00:00Z,2027-02-26T10:00:00Z,2027-02-27T10:00:00Z,2027-02-28T10:00:00Z"
		acc := n1.cli("app", "show", "--sdkappid", fmt.Sprint(counted.id))["account"].(string)
		for _, ch := range []string{"email", "sms"} {
			if got := strings.Join(noticesOf(n2, acc, counted.id, "renewal_reminder", ch), ","); got != want {
				t.Errorf("%s reminders at %s, want %s", ch, got, want)
			}
		}
		// Each notice was delivered: a line in the notification file of the
		// node that sent it. A notice delivered by two nodes (two lines of one
		// id) is logged, not failed: on fake clocks moved at once, a node whose
		// clock is ahead takes a notice another node is still sending (claimed
		// at that node's earlier time) for an abandoned attempt, more than
		// lifecycle's 10 minutes old. Real clocks within minutes of each other
		// do not do this.
		ids := map[string][]string{}
		for i, n := range cl.nodes {
			b, _ := os.ReadFile(filepath.Join(n.data, "notifications.log"))
			for _, l := range strings.Split(string(b), "\n") {
				var x struct {
					ID       string `json:"id"`
					Kind     string `json:"kind"`
					SentAt   string `json:"sent_at"`
					SDKAppID int64  `json:"sdkappid"`
				}
				if json.Unmarshal([]byte(l), &x) == nil && x.Kind == "renewal_reminder" && x.SDKAppID == counted.id {
					ids[x.ID] = append(ids[x.ID], fmt.Sprintf("node %d at %s", i+1, x.SentAt))
				}
			}
		}
		if len(ids) != 14 {
			t.Errorf("the app's reminders in the nodes' notification files: %d notices, want 14 (7 days × email, sms): %v", len(ids), ids)
		}
		for id, by := range ids {
			if len(by) > 1 {
				t.Logf("notice %s delivered %d times: %v", id, len(by), by)
			}
		}
		// Every app was created on the first day: 7 reminder jobs each, run
		// once in all (a job counts on the node that ran it).
		apps := cl.count(t, pg, `SELECT COUNT(*) FROM apps`)
		if d := cl.metric(`chatd_lifecycle_jobs_total{kind="reminder"}`) - jobsBefore; d != float64(7*apps) {
			t.Errorf("reminder jobs run by the nodes together: %.0f, want 7 × %d apps", d, apps)
		}
		cl.setClock(t, "2027-03-02T11:00:00Z") // the trial ended 1 Mar 10:00 (+24 h)
		if got := noticesOf(n3, acc, counted.id, "suspended", "email"); len(got) != 1 {
			t.Errorf("suspension notices %v, want one", got)
		}
		if s := n2.cli("app", "show", "--sdkappid", fmt.Sprint(counted.id)); s["status"] != "suspended" {
			t.Errorf("the app after its trial: %v", s)
		}
	})

	cl.run(t, "kill-9", func(t *testing.T) {
		a := n1.createApp() // a new trial on the clock as it is now
		users := []string{"ghost"}
		for k := 0; k < 6; k++ {
			users = append(users, fmt.Sprintf("s%d", k), fmt.Sprintf("r%d", k))
		}
		n1.restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users})
		var senders, receivers []*dev
		for k := 0; k < 6; k++ { // sender k on node k%3, its receiver on the next node
			senders = append(senders, cl.device(a, fmt.Sprintf("s%d", k), k%3))
			receivers = append(receivers, cl.device(a, fmt.Sprintf("r%d", k), (k+1)%3))
		}
		ghost := n3.mustLogin(a, "ghost", "Web", 0) // only on node 3
		_ = ghost
		status := func(n *node) string {
			v := n.restOK(a, "openim/query_online_status", map[string]any{"To_Account": []string{"ghost"}})
			return v["QueryResult"].([]any)[0].(map[string]any)["Status"].(string)
		}
		eventually(t, 5*time.Second, "ghost online through node 1", func() bool { return status(n1) == "Online" })

		l := startLoad(t, senders, receivers, 50*time.Millisecond) // 6 × 20 = 120 messages/s
		l.waitAcked(100, 20*time.Second)
		killed := time.Now()
		n3.crash()
		t.Logf("node 3 killed with SIGKILL after %d acknowledged sends", l.acked.Load())
		onKilled := []*dev{senders[2], senders[5], receivers[1], receivers[4]}
		eventually(t, 15*time.Second, "the killed node's devices on other nodes", func() bool {
			for _, d := range onKilled {
				if at, _ := d.where(); at == 2 {
					return false
				}
			}
			return true
		})
		t.Logf("the killed node's devices logged in elsewhere %s after the kill", time.Since(killed).Round(time.Millisecond))
		eventually(t, 10*time.Second, "the killed node's device offline through node 1", func() bool { return status(n1) == "Offline" })
		t.Logf("ghost (on node 3) offline through node 1 %s after the kill", time.Since(killed).Round(time.Millisecond))
		l.waitAcked(200, 20*time.Second)
		l.stop(n1)
		for _, d := range onKilled {
			if _, n := d.where(); n == 0 {
				t.Errorf("%s did not reconnect", d.user)
			}
		}
	})
}

// run runs fn as a subtest whose failures the nodes report (their t is the
// subtest's while it runs).
func (cl *cluster) run(t *testing.T, name string, fn func(t *testing.T)) {
	t.Run(name, func(st *testing.T) {
		for _, n := range cl.nodes {
			n.t = st
		}
		defer func() {
			for _, n := range cl.nodes {
				n.t = t
			}
		}()
		fn(st)
	})
}

// count runs a COUNT query on the cluster's database.
func (cl *cluster) count(t *testing.T, pgURL, query string) int {
	t.Helper()
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// setClock sets every node's fake clock to at, all at once.
func (cl *cluster) setClock(t *testing.T, at string) {
	t.Helper()
	var wg sync.WaitGroup
	jobs := make([]float64, len(cl.nodes))
	for i, n := range cl.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := n.tryCLI("clock", "set", at)
			if err != nil {
				t.Errorf("node %d: %v", i+1, err)
			}
			if j, ok := r["jobs"].(float64); ok {
				jobs[i] = j
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("clock set to %s on %d nodes: jobs run by each %v", at, len(cl.nodes), jobs)
}

func nextGroup(t *testing.T, ch chan client.Entry) client.Entry {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no group entry within 5s")
		return client.Entry{}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// loadSetup creates an app with 6 senders and their receivers as devices:
// sender k on node k%3, receiver k on the next node.
func loadSetup(t *testing.T, cl *cluster) (a app, senders, receivers []*dev) {
	t.Helper()
	a = cl.nodes[0].createApp()
	var users []string
	for k := 0; k < 6; k++ {
		users = append(users, fmt.Sprintf("s%d", k), fmt.Sprintf("r%d", k))
	}
	cl.nodes[0].restOK(a, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": users})
	for k := 0; k < 6; k++ {
		senders = append(senders, cl.device(a, fmt.Sprintf("s%d", k), k%3))
		receivers = append(receivers, cl.device(a, fmt.Sprintf("r%d", k), (k+1)%3))
	}
	return a, senders, receivers
}

// TestClusterNATSRestart kills the NATS server under a steady load and starts
// it again on the same port: the nodes reconnect by themselves, delivery
// across nodes resumes, and no acknowledged message is lost (the receivers
// fill what they missed by their resync).
func TestClusterNATSRestart(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 3, pg, ns.url())
	a, senders, receivers := loadSetup(t, cl)
	l := startLoad(t, senders, receivers, 50*time.Millisecond)
	l.waitAcked(100, 20*time.Second)

	n1 := cl.nodes[0]
	status := func(user string) string {
		v := n1.restOK(a, "openim/query_online_status", map[string]any{"To_Account": []string{user}})
		return v["QueryResult"].([]any)[0].(map[string]any)["Status"].(string)
	}
	ns.kill()
	down, ackedAt := time.Now(), l.acked.Load()
	// PostgreSQL is up: sends go on being acknowledged while NATS is down.
	// The outage lasts past the node timeout (3 s without a heartbeat):
	// node 1 stops counting r0's device on node 2 as online.
	eventually(t, 10*time.Second, "node 1 not ready without NATS", func() bool { return readyz(n1) != 200 })
	gone := eventually(t, 10*time.Second, "r0 (on node 2) no longer online through node 1 without NATS", func() bool { return status("r0") != "Online" })
	t.Logf("NATS down: r0 (on node 2) is %s through node 1 after %s", status("r0"), gone.Round(time.Millisecond))
	if l.acked.Load() == ackedAt {
		t.Errorf("no send acknowledged while NATS was down")
	}
	outage := time.Since(down)
	ns.start()
	t.Logf("NATS down for %s (%d sends acknowledged meanwhile), then started again", outage.Round(time.Millisecond), l.acked.Load()-ackedAt)
	// Delivery across nodes resumes: a receiver on another node than its
	// sender gets a message sent after the restart.
	r := receivers[0] // on node 2; s0 is on node 1
	before := func() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.log) }()
	took := eventually(t, 15*time.Second, "cross-node delivery after the NATS restart", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.log) > before
	})
	t.Logf("cross-node delivery resumed %s after NATS started again", took.Round(time.Millisecond))
	back := eventually(t, 15*time.Second, "r0 online through node 1 again", func() bool { return status("r0") == "Online" })
	t.Logf("presence across nodes back %s later", back.Round(time.Millisecond))
	eventually(t, 10*time.Second, "node 1 ready again", func() bool { return readyz(n1) == 200 })
	l.waitAcked(200, 20*time.Second)
	l.stop(cl.nodes[0])
	for _, d := range append(senders, receivers...) {
		if _, n := d.where(); n != 0 {
			t.Errorf("%s logged in again %d times: a NATS restart should not end device sessions", d.user, n)
		}
	}
}

// TestClusterPostgresRestart stops a private PostgreSQL instance (pg_ctl -m
// fast) under a steady load and starts it again: sends meanwhile fail with a
// clear error and are not acknowledged, the nodes recover without a restart,
// sends succeed again, and no acknowledged message is lost.
func TestClusterPostgresRestart(t *testing.T) {
	pg := startPrivatePostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 3, pg.url(), ns.url())
	a, senders, receivers := loadSetup(t, cl)
	l := startLoad(t, senders, receivers, 50*time.Millisecond)
	l.waitAcked(100, 20*time.Second)

	pg.stop()
	stopped := time.Now()
	failedBefore := len(l.failed())
	eventually(t, 15*time.Second, "sends refused while PostgreSQL is down", func() bool { return len(l.failed()) >= failedBefore+12 })
	for i, n := range cl.nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d not ready while PostgreSQL is down", i+1), func() bool { return readyz(n) != 200 })
	}
	ackedDown, failedDown := l.acked.Load(), len(l.failed())
	eventually(t, 15*time.Second, "more sends refused", func() bool { return len(l.failed()) >= failedDown+12 })
	if n := l.acked.Load() - ackedDown; n > 0 {
		t.Errorf("%d sends acknowledged while PostgreSQL was down", n)
	}
	// REST and logins need the store too: refused with the server's error.
	v := cl.nodes[2].rest(a, "im_open_login_svc/account_check", map[string]any{"CheckItem": []any{map[string]any{"UserID": "s0"}}})
	if v["ErrorCode"] == float64(0) || storageText(fmt.Sprint(v["ErrorInfo"])) != "" {
		t.Errorf("REST while PostgreSQL is down: %v", v)
	}
	if c, err := cl.nodes[0].login(a, "s1", "Web", -1); err == nil {
		c.Close()
		t.Errorf("a login succeeded while PostgreSQL was down")
	} else if storageText(err.Error()) != "" || !strings.HasPrefix(err.Error(), "chatd: ") {
		t.Errorf("a login while PostgreSQL is down: %v", err)
	} else {
		t.Logf("while PostgreSQL is down: REST %v %q, login %v", v["ErrorCode"], v["ErrorInfo"], err)
	}
	pg.start()
	t.Logf("PostgreSQL down for %s", time.Since(stopped).Round(time.Millisecond))
	recovered := l.waitAcked(1, 30*time.Second)
	t.Logf("first acknowledged send %s after PostgreSQL started again", recovered.Round(time.Millisecond))
	for i, n := range cl.nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d ready again", i+1), func() bool { return readyz(n) == 200 })
	}
	l.waitAcked(150, 30*time.Second)
	fails := l.failed()[failedBefore:]
	kinds := map[string]int{}
	for _, f := range fails {
		kinds[f]++
	}
	t.Logf("failed send attempts during the outage: %v", kinds)
	for f := range kinds {
		if leak := storageText(f); leak != "" {
			t.Errorf("a refused send tells the device about the storage (%q): %s", leak, f)
		}
		if !strings.HasPrefix(f, "chatd: ") {
			t.Errorf("a send during the outage failed without the server's error (a lost connection or a timeout): %s", f)
		}
	}
	l.stop(cl.nodes[1])
	for _, d := range append(senders, receivers...) {
		if _, n := d.where(); n != 0 {
			t.Errorf("%s logged in again %d times: a PostgreSQL restart should not end device sessions", d.user, n)
		}
	}
}

// readyz returns the status code of the node's /readyz (0 when it does not answer).
func readyz(n *node) int {
	resp, err := n.http.Get(n.url("/readyz"))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// storageText returns the part of msg that names the storage, or "".
func storageText(msg string) string {
	for _, s := range []string{"SQLSTATE", "pgx", "postgres", "dial tcp", "connection refused", "sql:", "127.0.0.1"} {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
			return s
		}
	}
	return ""
}
