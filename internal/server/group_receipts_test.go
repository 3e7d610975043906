package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// receiptInbox collects a device's group_receipt_update pushes.
type receiptInbox struct {
	ch chan []client.GroupReceipt
}

func receiptsOf(cl *client.Client, group string) *receiptInbox {
	b := &receiptInbox{ch: make(chan []client.GroupReceipt, 4096)}
	cl.OnGroupReceipt(func(g string, rs []client.GroupReceipt) {
		if g == group {
			b.ch <- rs
		}
	})
	return b
}

// until reads pushes until one holds want for want.Seq; it returns how many
// pushes it read.
func (b *receiptInbox) until(t *testing.T, want client.GroupReceipt) int {
	t.Helper()
	n := 0
	for {
		select {
		case rs := <-b.ch:
			n++
			for _, r := range rs {
				if r == want {
					return n
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no receipt push %+v after %d pushes", want, n)
		}
	}
}

type receiptItem struct {
	Code      int
	MsgSeq    int64
	ReadNum   int
	UnreadNum int
}

// receiptsREST is get_group_msg_receipt's list.
func receiptsREST(t *testing.T, w *world, group string, seqs ...int64) []receiptItem {
	t.Helper()
	list := make([]map[string]int64, len(seqs))
	for i, q := range seqs {
		list[i] = map[string]int64{"MsgSeq": q}
	}
	r := w.rest(gsvc+"get_group_msg_receipt", map[string]any{"GroupId": group, "MsgSeqList": list})
	if restCode(r) != 0 {
		t.Fatalf("get_group_msg_receipt: %v", r)
	}
	var out []receiptItem
	for _, it := range r["GroupMsgReceiptList"].([]any) {
		m := it.(map[string]any)
		out = append(out, receiptItem{int(m["Code"].(float64)), int64(m["MsgSeq"].(float64)), int(m["ReadNum"].(float64)), int(m["UnreadNum"].(float64))})
	}
	return out
}

func seqList(seqs ...int64) []map[string]int64 {
	out := make([]map[string]int64, len(seqs))
	for i, q := range seqs {
		out[i] = map[string]int64{"MsgSeq": q}
	}
	return out
}

// Group read receipts end to end: devices and the REST API mark messages
// read, the sender's device is told the counts, the counts and the lists
// follow the rules (sender, late joiners, targets), and bad input changes
// nothing.
func TestGroupReceiptsEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := tctx(t)
		if r := w.rest("im_open_login_svc/account_import", map[string]any{"UserID": "dave"}); restCode(r) != 0 {
			t.Fatal(r)
		}
		r := w.rest(gsvc+"create_group", map[string]any{"Owner_Account": "alice", "Type": "Work", "GroupId": "G1", "Name": "g",
			"MemberList": []map[string]any{{"Member_Account": "bob"}, {"Member_Account": "carol"}}})
		if restCode(r) != 0 {
			t.Fatalf("create_group: %v", r)
		}
		alice, bob := w.dial("alice", "Web"), w.dial("bob", "Web")
		pushes := receiptsOf(alice, "G1")
		ack, err := alice.GroupSend(ctx, "G1", "c1", textBody("read me"), client.GroupSendOptions{NeedReceipt: true})
		if err != nil {
			t.Fatal(err)
		}
		s1 := ack.Seq
		r = w.rest(gsvc+"send_group_msg", map[string]any{"GroupId": "G1", "From_Account": "alice", "Random": 1, "MsgBody": textBody("plain")})
		s2 := int64(r["MsgSeq"].(float64))
		r = w.rest(gsvc+"send_group_msg", map[string]any{"GroupId": "G1", "From_Account": "alice", "Random": 2, "MsgBody": textBody("for bob"),
			"To_Account": []string{"bob"}, "NeedReadReceipt": 1})
		s3 := int64(r["MsgSeq"].(float64))
		if restCode(r) != 0 || s2 != s1+1 || s3 != s1+2 {
			t.Fatalf("sends: %d %d %v", s1, s2, r)
		}
		if r := w.rest(gsvc+"add_group_member", map[string]any{"GroupId": "G1", "MemberList": []map[string]any{{"Member_Account": "dave"}}}); restCode(r) != 0 {
			t.Fatal(r)
		}
		if got := receiptsREST(t, w, "G1", s1, s2, s3); fmt.Sprint(got) != fmt.Sprint([]receiptItem{{0, s1, 0, 2}, {errs.GroupReceiptNotFound, s2, 0, 0}, {0, s3, 0, 1}}) {
			t.Fatalf("receipts before any read: %+v", got)
		}
		// bob reads on his device: alice's device is told.
		if err := bob.GroupReceipt(ctx, "G1", []int64{s1, s3}); err != nil {
			t.Fatal(err)
		}
		pushes.until(t, client.GroupReceipt{Seq: s1, Read: 1, Unread: 1})
		// Refused calls change nothing: carol is not a target of s3, dave
		// joined after s1, s2 has no receipts.
		for _, c := range []struct {
			user string
			seqs []int64
			want int
		}{{"carol", []int64{s1, s3}, errs.GroupReceiptNotFound}, {"dave", []int64{s1}, errs.GroupReceiptNotFound},
			{"carol", []int64{s2}, errs.GroupReceiptNotFound}, {"carol", []int64{0}, errs.GroupBadParams},
			{"carol", []int64{s3 + 100}, errs.GroupBadParams}, {"nobody", []int64{s1}, errs.GroupNoPermission}} {
			r := w.rest(gsvc+"group_msg_receipt", map[string]any{"GroupId": "G1", "From_Account": c.user, "MsgSeqList": seqList(c.seqs...)})
			if restCode(r) != c.want {
				t.Fatalf("%s reads %v: %v, want %d", c.user, c.seqs, r, c.want)
			}
		}
		if r := w.rest(gsvc+"group_msg_receipt", map[string]any{"GroupId": "G1", "Member_Account": "carol", "MsgSeqList": seqList(s1, s1)}); restCode(r) != 0 {
			t.Fatal(r)
		}
		pushes.until(t, client.GroupReceipt{Seq: s1, Read: 2, Unread: 0})
		// The sender's own read is not counted; a repeat changes nothing.
		if err := alice.GroupReceipt(ctx, "G1", []int64{s1}); err != nil {
			t.Fatal(err)
		}
		if err := bob.GroupReceipt(ctx, "G1", []int64{s1}); err != nil {
			t.Fatal(err)
		}
		if got := receiptsREST(t, w, "G1", s3, s1); fmt.Sprint(got) != fmt.Sprint([]receiptItem{{0, s3, 1, 0}, {0, s1, 2, 0}}) {
			t.Fatalf("receipts: %+v", got)
		}
		// Who read: pages of one.
		var names []string
		cursor := ""
		for i := 0; i < 5; i++ {
			r := w.rest(gsvc+"get_group_msg_receipt_detail", map[string]any{"GroupId": "G1", "MsgSeq": s1, "Filter": 0, "Cursor": cursor, "Count": 1})
			if restCode(r) != 0 {
				t.Fatal(r)
			}
			for _, m := range r["ReadList"].([]any) {
				names = append(names, m.(map[string]any)["Member_Account"].(string))
			}
			if r["IsFinished"].(float64) == 1 {
				break
			}
			cursor = r["Cursor"].(string)
		}
		if fmt.Sprint(names) != "[bob carol]" {
			t.Fatalf("readers %v", names)
		}
		r = w.rest(gsvc+"get_group_msg_receipt_detail", map[string]any{"GroupId": "G1", "MsgSeq": s3, "Filter": 1, "Cursor": "", "Count": 10})
		if restCode(r) != 0 || len(r["UnreadList"].([]any)) != 0 || r["IsFinished"].(float64) != 1 {
			t.Fatalf("unread of s3: %v", r)
		}

		// Bad input, on both edges: the reference's code, nothing changed.
		other := w.newApp(catalog.Premium, "x")
		if _, err := w.s.cfg.Store.CreateGroup(ctx, store.Group{App: other.SDKAppID, GroupID: "OTHER", Type: store.GroupWork, Name: "o", CreatedAt: w.c.Now()},
			[]store.GroupMember{{UserID: "x", Role: store.RoleMember}}, oldQuota); err != nil {
			t.Fatal(err)
		}
		many := make([]int64, im.MaxReceiptSeqs+1)
		for i := range many {
			many[i] = s1
		}
		for _, c := range []struct {
			group string
			seqs  []int64
			want  int
		}{{"NOPE", []int64{s1}, errs.GroupNotFound}, {"OTHER", []int64{1}, errs.GroupNotFound}, {"G1", nil, errs.GroupBadParams},
			{"G1", []int64{-1}, errs.GroupBadParams}, {"G1", []int64{1 << 40}, errs.GroupBadParams}, {"G1", many, errs.GroupTooManyAccounts},
			{"", []int64{s1}, errs.GroupIDInvalid}} {
			if got := code(bob.GroupReceipt(ctx, c.group, c.seqs)); got != c.want {
				t.Fatalf("group_receipt %q %d seqs: %d, want %d", c.group, len(c.seqs), got, c.want)
			}
			r := w.rest(gsvc+"group_msg_receipt", map[string]any{"GroupId": c.group, "From_Account": "dave", "MsgSeqList": seqList(c.seqs...)})
			if restCode(r) != c.want {
				t.Fatalf("group_msg_receipt %q: %v, want %d", c.group, r, c.want)
			}
			r = w.rest(gsvc+"get_group_msg_receipt", map[string]any{"GroupId": c.group, "MsgSeqList": seqList(c.seqs...)})
			if restCode(r) != c.want {
				t.Fatalf("get_group_msg_receipt %q: %v, want %d", c.group, r, c.want)
			}
		}
		for _, body := range []string{`{"GroupId":"G1","From_Account":"dave","MsgSeqList":"1"}`, `{"GroupId":"G1","From_Account":7,"MsgSeqList":[{"MsgSeq":1}]}`,
			`{"GroupId":"G1","From_Account":"dave","MsgSeqList":[{"MsgSeq":"x"}]}`} {
			var got map[string]any
			if err := json.Unmarshal(adminCall(t, w.hs.URL, w.app, w.c.Now(), gsvc+"group_msg_receipt", []byte(body)), &got); err != nil || restCode(got) == 0 {
				t.Fatalf("%s: %v %v", body, got, err)
			}
		}
		for _, d := range []map[string]any{{"GroupId": "G1", "MsgSeq": s1, "Filter": 2, "Count": 1}, {"GroupId": "G1", "MsgSeq": s1, "Filter": 0, "Count": 0},
			{"GroupId": "G1", "MsgSeq": s1, "Filter": 0, "Count": 201}, {"GroupId": "G1", "MsgSeq": s1, "Filter": 0, "Count": 1, "Cursor": " x"},
			{"GroupId": "G1", "MsgSeq": s3 + 100, "Filter": 0, "Count": 1}} {
			if r := w.rest(gsvc+"get_group_msg_receipt_detail", d); restCode(r) != errs.GroupBadParams {
				t.Fatalf("detail %v: %v", d, r)
			}
		}
		if r := w.rest(gsvc+"get_group_msg_receipt_detail", map[string]any{"GroupId": "G1", "MsgSeq": s2, "Filter": 0, "Count": 1}); restCode(r) != errs.GroupReceiptNotFound {
			t.Fatalf("detail of a message without receipts: %v", r)
		}
		if got := receiptsREST(t, w, "G1", s1, s3); fmt.Sprint(got) != fmt.Sprint([]receiptItem{{0, s1, 2, 0}, {0, s3, 1, 0}}) {
			t.Fatalf("receipts after refused calls: %+v", got)
		}
		// Live rooms and communities have none.
		for _, typ := range []string{"AVChatRoom", "Community"} {
			r := w.rest(gsvc+"create_group", map[string]any{"Owner_Account": "alice", "Type": typ, "GroupId": "T" + typ, "Name": "t"})
			if restCode(r) != 0 {
				t.Fatal(r)
			}
			if got := code(alice.GroupReceipt(ctx, "T"+typ, []int64{1})); got != errs.GroupBadParams {
				t.Fatalf("%s: %d", typ, got)
			}
		}
	})
}

// A 2,000-member group reads one message at once: the counts are exact, read
// from a counter, and the sender's device gets a few coalesced pushes, not
// 2,000.
func TestGroupReceipts2000Members(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open(t), catalog.Premium, gateway.Limits{})
		ctx := context.Background()
		const n = 1999 // readers; with the sender 2,000 members
		us := make([]store.User, n)
		ms := make([]store.GroupMember, n)
		for i := range us {
			us[i] = store.User{UserID: fmt.Sprintf("r%04d", i)}
			ms[i] = store.GroupMember{UserID: us[i].UserID, Role: store.RoleMember, JoinTime: w.c.Now()}
		}
		st := w.s.cfg.Store
		if err := st.ImportUsers(ctx, w.app.SDKAppID, us); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateGroup(ctx, store.Group{App: w.app.SDKAppID, GroupID: "BIG", Type: store.GroupWork, Name: "b", Owner: "alice",
			MaxMemberNum: 2000, CreatedAt: w.c.Now()}, ms, oldQuota); err != nil {
			t.Fatal(err)
		}
		alice := w.dial("alice", "Web")
		pushes := receiptsOf(alice, "BIG")
		ack, err := alice.GroupSend(tctx(t), "BIG", "m", textBody("all hands"), client.GroupSendOptions{NeedReceipt: true})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		errc := make(chan error, n)
		sem := make(chan struct{}, 16)
		for _, u := range us {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				errc <- w.s.IM.MarkGroupReceipts(ctx, w.app, u.UserID, "BIG", []int64{ack.Seq})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := pushes.until(t, client.GroupReceipt{Seq: ack.Seq, Read: n, Unread: 0})
		elapsed := time.Since(start)
		if bound := int(elapsed/im.ReceiptPushWindow) + 2; got > bound {
			t.Fatalf("%d pushes in %v; at most one per %v window (%d)", got, elapsed, im.ReceiptPushWindow, bound)
		}
		t0 := time.Now()
		if rs := receiptsREST(t, w, "BIG", ack.Seq); rs[0] != (receiptItem{0, ack.Seq, n, 0}) {
			t.Fatalf("receipts %+v", rs)
		}
		t.Logf("%d reads in %v, %d pushes to the sender; get_group_msg_receipt %v", n, elapsed, got, time.Since(t0))
	})
}
