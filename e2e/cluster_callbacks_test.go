package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// With two nodes on one PostgreSQL and one NATS, sends through either node
// are asked about by that node (before-send) and each after-send event is
// delivered by exactly one node: nobody failed, so no event comes twice.
func TestClusterCallbacksOnce(t *testing.T) {
	pg := sharedPostgres(t)
	ns := startNATSServer(t)
	cl := startCluster(t, 2, pg, ns.url(), "--callback-allow-hosts", "127.0.0.1")
	n1, n2 := cl.nodes[0], cl.nodes[1]
	a := n1.createApp()
	r := newReceiver(t, a.id, "cluster-token")
	v := n1.cli("app", "callback", "set", "--sdkappid", strconv.FormatInt(a.id, 10), "--url", r.url(),
		"--callback-token", r.token, "--events", "C2C.CallbackBeforeSendMsg,C2C.CallbackAfterSendMsg")
	if v["url"] != r.url() {
		t.Fatalf("callback set: %v", v)
	}
	n1.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "alice"})
	n1.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": "bob"})
	const perNode = 100
	keys := map[string]bool{}
	for i := 0; i < 2*perNode; i++ {
		via := []*node{n1, n2}[i%2]
		res := via.restOK(a, "openim/sendmsg", map[string]any{"From_Account": "alice", "To_Account": "bob", "MsgRandom": i + 1,
			"MsgBody": textBody(fmt.Sprintf("m%d", i))})
		keys[res["MsgKey"].(string)] = true
	}
	reqs := r.waitFor("every after-send event", time.Minute, func(reqs []cbReq) bool {
		n := 0
		for _, q := range reqs {
			if q.cmd == "C2C.CallbackAfterSendMsg" {
				n++
			}
		}
		return n >= len(keys)
	})
	seen := map[string]int{}
	before := 0
	for _, q := range reqs {
		switch q.cmd {
		case "C2C.CallbackAfterSendMsg":
			k, _ := q.body["MsgKey"].(string)
			if !keys[k] {
				t.Fatalf("after-send event of an unknown message %q", k)
			}
			seen[k]++
		case "C2C.CallbackBeforeSendMsg":
			before++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("message %s: after-send event delivered %d times", k, n)
		}
	}
	if len(seen) != len(keys) || before != len(keys) {
		t.Fatalf("%d after-send events for %d messages, %d before-send", len(seen), len(keys), before)
	}
	if p := r.problems(); len(p) > 0 {
		t.Fatalf("wire format problems: %v", p)
	}
	// Both nodes delivered some (each claims what is due when it polls). A
	// node counts a delivery once the receiver has answered, after the
	// receiver recorded it: wait for the counts to reach the events.
	metric := `chatd_callback_requests_total{kind="after",result="ok",sdkappid="` + strconv.FormatInt(a.id, 10) + `"}`
	var sent1, sent2 float64
	for deadline := time.Now().Add(30 * time.Second); ; {
		sent1, sent2 = cl.metric(metric, n1), cl.metric(metric, n2)
		if sent1+sent2 >= float64(len(keys)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("after-send events delivered by node 1: %.0f, node 2: %.0f", sent1, sent2)
	if sent1+sent2 != float64(len(keys)) {
		t.Fatalf("nodes count %.0f + %.0f deliveries for %d events", sent1, sent2, len(keys))
	}
}
