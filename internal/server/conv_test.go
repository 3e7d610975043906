package server

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/testdb"
)

// convEnv is a node (started) with one app of a chosen edition and imported
// users.
type convEnv struct {
	*world
	st store.Store
}

func newConvEnv(t *testing.T, open testdb.Opener, edition string, users ...string) *convEnv {
	t.Helper()
	st := open(t)
	w := newNode(t, st, gateway.Limits{})
	w.s.Start()
	w.app = w.newApp(edition, users...)
	return &convEnv{world: w, st: st}
}

// rest posts body to /v4/cmd as the app's admin and decodes the answer into out
// (when not nil); it returns ErrorCode.
func (e *convEnv) rest(t *testing.T, cmd, body string, out any) int {
	t.Helper()
	raw := adminCall(t, e.hs.URL, e.app, e.c.Now(), cmd, []byte(body))
	var env struct {
		ErrorCode int
		ErrorInfo string
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, raw)
	}
	if out != nil && env.ErrorCode == 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	return env.ErrorCode
}

func (e *convEnv) send(t *testing.T, from, to string) {
	t.Helper()
	_, err := e.s.IM.Send(context.Background(), e.app, im.SendRequest{From: from, To: to,
		Body: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)})
	if err != nil {
		t.Fatal(err)
	}
}

type sessionItem struct {
	Type           int
	To_Account     string
	GroupId        string
	MsgTime        int64
	TopFlag        int
	UnreadMsgCount int
	StandardMark   string
	CustomMark     string
	ContactGroupId []int64
}

type listPage struct {
	SessionItem                                        []sessionItem
	CompleteFlag                                       int
	TimeStamp, StartIndex, TopTimeStamp, TopStartIndex int64
}

// listAll pages through owner's list with flags and returns the pages.
func (e *convEnv) listAll(t *testing.T, owner string, flags int) []listPage {
	t.Helper()
	var pages []listPage
	var cur listPage
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatal("get_list never completes")
		}
		var p listPage
		body := fmt.Sprintf(`{"From_Account":%q,"TimeStamp":%d,"StartIndex":%d,"TopTimeStamp":%d,"TopStartIndex":%d,"AssistFlags":%d}`,
			owner, cur.TimeStamp, cur.StartIndex, cur.TopTimeStamp, cur.TopStartIndex, flags)
		if code := e.rest(t, "recentcontact/get_list", body, &p); code != 0 {
			t.Fatalf("get_list: %d", code)
		}
		pages = append(pages, p)
		if p.CompleteFlag == 1 {
			return pages
		}
		cur = p
	}
}

// The conversation list of a user with 130 conversations (MsgTimes shared by
// three at a time, so that pages end inside a run of equal times), 3 pinned:
// paging by the four cursors, pinned first, CompleteFlag, and unread counts
// that agree with get_c2c_unread_msg_num.
func TestConvListPaging(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		const n = 130
		users := []string{"owner"}
		for i := range n {
			users = append(users, fmt.Sprintf("p%03d", i))
		}
		e := newConvEnv(t, open, catalog.Trial, users...)
		ctx := context.Background()
		for i := range n {
			if i%3 == 0 {
				e.c.Advance(time.Second)
			}
			peer := users[1+i]
			if i%2 == 0 {
				e.send(t, peer, "owner")
			} else {
				e.send(t, "owner", peer)
			}
			if i%5 == 0 { // a second message, unread too
				e.send(t, peer, "owner")
			}
		}
		pinned := []string{"p005", "p077", "p129"}
		for _, p := range pinned {
			if err := e.s.IM.PinConversation(ctx, e.app, "owner", store.ConvID{Type: 1, Peer: p}, true); err != nil {
				t.Fatal(err)
			}
		}
		var unread struct {
			C2CUnreadMsgNumList []struct {
				Peer_Account    string
				C2CUnreadMsgNum int
			}
		}
		if code := e.rest(t, "openim/get_c2c_unread_msg_num", `{"To_Account":"owner"}`, &unread); code != 0 {
			t.Fatalf("get_c2c_unread_msg_num: %d", code)
		}
		wantUnread := map[string]int{}
		for _, u := range unread.C2CUnreadMsgNumList {
			wantUnread[u.Peer_Account] = u.C2CUnreadMsgNum
		}
		if len(wantUnread) == 0 {
			t.Fatal("no unread counts to compare")
		}

		check := func(flags int, wantPages []int, wantPinnedFirst bool) {
			t.Helper()
			pages := e.listAll(t, "owner", flags)
			var sizes []int
			var all []sessionItem
			for i, p := range pages {
				sizes = append(sizes, len(p.SessionItem))
				if (p.CompleteFlag == 1) != (i == len(pages)-1) {
					t.Fatalf("flags %d: CompleteFlag %d on page %d of %d", flags, p.CompleteFlag, i, len(pages))
				}
				all = append(all, p.SessionItem...)
			}
			if !reflect.DeepEqual(sizes, wantPages) {
				t.Fatalf("flags %d: page sizes %v, want %v", flags, sizes, wantPages)
			}
			seen := map[string]bool{}
			for i, it := range all {
				if it.Type != 1 || seen[it.To_Account] || it.MsgTime == 0 {
					t.Fatalf("flags %d: item %d %+v (duplicate or malformed)", flags, i, it)
				}
				seen[it.To_Account] = true
				if it.UnreadMsgCount != wantUnread[it.To_Account] {
					t.Fatalf("flags %d: %s unread %d, get_c2c_unread_msg_num says %d", flags, it.To_Account, it.UnreadMsgCount, wantUnread[it.To_Account])
				}
				isPinned := it.To_Account == "p005" || it.To_Account == "p077" || it.To_Account == "p129"
				if wantPinnedFirst {
					if (i < 3) != isPinned || (it.TopFlag == 1) != isPinned {
						t.Fatalf("flags %d: item %d %+v: pinned ones first with TopFlag 1", flags, i, it)
					}
				} else if it.TopFlag != 0 {
					t.Fatalf("flags %d: TopFlag without bit 0: %+v", flags, it)
				}
			}
			if len(seen) != n {
				t.Fatalf("flags %d: %d conversations, want %d", flags, len(seen), n)
			}
			// Newest first within each part.
			start := 0
			if wantPinnedFirst {
				start = 3
				if !sort.SliceIsSorted(all[:3], func(i, j int) bool { return all[i].MsgTime > all[j].MsgTime }) {
					t.Fatalf("flags %d: pinned not newest first", flags)
				}
			}
			rest := all[start:]
			for i := 1; i < len(rest); i++ {
				if rest[i].MsgTime > rest[i-1].MsgTime {
					t.Fatalf("flags %d: not newest first at %d", flags, i)
				}
			}
		}
		check(0, []int{100, 30}, false)
		check(im.ConvFlagPinned, []int{103, 27}, true)
		check(im.ConvFlagPinned|im.ConvFlagPinnedPaged, []int{100, 30}, true)
		check(7, []int{100, 30}, true)

		// The cursor of a page that ends inside a run of equal MsgTimes: the next
		// page goes on inside the run.
		pages := e.listAll(t, "owner", 0)
		last := pages[0].SessionItem[99]
		if pages[0].TimeStamp != last.MsgTime || pages[0].StartIndex < 1 {
			t.Fatalf("cursor after page 1: (%d, %d), last MsgTime %d", pages[0].TimeStamp, pages[0].StartIndex, last.MsgTime)
		}
		// Repeating the last page's cursors gives nothing more.
		lp := pages[len(pages)-1]
		var again listPage
		e.rest(t, "recentcontact/get_list", fmt.Sprintf(`{"From_Account":"owner","TimeStamp":%d,"StartIndex":%d,"AssistFlags":0}`, lp.TimeStamp, lp.StartIndex), &again)
		if len(again.SessionItem) != 0 || again.CompleteFlag != 1 {
			t.Fatalf("after the end: %+v", again)
		}
	})
}

// AssistFlags bit 1 adds conversations without a message (here a pinned one);
// delete removes a conversation (ClearRamble also its history and unread
// count) and a new message brings it back; bad input changes nothing.
func TestConvDeleteAndEmpty(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Trial, "alice", "bob", "carol", "dave")
		ctx := context.Background()
		e.send(t, "bob", "alice")
		e.send(t, "bob", "alice")
		e.send(t, "carol", "alice")
		if err := e.s.IM.PinConversation(ctx, e.app, "alice", store.ConvID{Type: 1, Peer: "dave"}, true); err != nil {
			t.Fatal(err)
		}
		peers := func(flags int) map[string]sessionItem {
			out := map[string]sessionItem{}
			for _, p := range e.listAll(t, "alice", flags) {
				for _, it := range p.SessionItem {
					out[it.To_Account] = it
				}
			}
			return out
		}
		if got := peers(1); len(got) != 2 || got["bob"].UnreadMsgCount != 2 {
			t.Fatalf("without empty conversations: %+v", got)
		}
		if got := peers(3); len(got) != 3 || got["dave"].MsgTime != 0 || got["dave"].TopFlag != 1 {
			t.Fatalf("with empty conversations: %+v", got)
		}

		// Bad input: each refused with the reference code, nothing changes.
		before := peers(3)
		for _, tc := range []struct {
			cmd, body string
			code      int
		}{
			{"recentcontact/delete", `{"From_Account":"alice","Type":3,"To_Account":"bob"}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"alice","Type":1,"To_Account":""}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"alice","Type":"1","To_Account":"bob"}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"alice","Type":1,"To_Account":"bob","ClearRamble":2}`, errs.ConvBadParams},
			{"recentcontact/delete", `{"From_Account":"nobody","Type":1,"To_Account":"bob"}`, errs.ConvAccountNotFound},
			{"recentcontact/delete", `{"From_Account":"al\u0000ice","Type":1,"To_Account":"bob"}`, errs.JSONParse}, // the input rule, before any command
			{"recentcontact/delete", `[1]`, errs.JSONParse},
			{"recentcontact/get_list", `{"From_Account":"alice","TimeStamp":-1}`, errs.ConvBadParams},
			{"recentcontact/get_list", `{"From_Account":"alice","AssistFlags":"7"}`, errs.ConvBadParams},
			{"recentcontact/get_list", `{"From_Account":"nobody"}`, errs.ConvAccountNotFound},
			{"recentcontact/get_list", `{"From_Account":""}`, errs.ConvBadParams},
		} {
			if code := e.rest(t, tc.cmd, tc.body, nil); code != tc.code {
				t.Errorf("%s %s: %d, want %d", tc.cmd, tc.body, code, tc.code)
			}
		}
		if after := peers(3); !reflect.DeepEqual(before, after) {
			t.Fatalf("bad input changed the list:\n%+v\n%+v", before, after)
		}

		// Delete without ClearRamble: gone from the list, history kept.
		if code := e.rest(t, "recentcontact/delete", `{"From_Account":"alice","Type":1,"To_Account":"carol"}`, nil); code != 0 {
			t.Fatalf("delete: %d", code)
		}
		if _, ok := peers(3)["carol"]; ok {
			t.Fatal("carol still listed")
		}
		var roam struct{ MsgList []json.RawMessage }
		e.rest(t, "openim/admin_getroammsg", fmt.Sprintf(`{"From_Account":"alice","To_Account":"carol","MaxCnt":10,"MinTime":0,"MaxTime":%d}`, e.c.Now().Unix()), &roam)
		if len(roam.MsgList) != 1 {
			t.Fatalf("history after a delete without ClearRamble: %d messages", len(roam.MsgList))
		}
		// With ClearRamble (lowercase type, as a public SDK sends it): history and unread go.
		if code := e.rest(t, "recentcontact/delete", `{"From_Account":"alice","type":1,"To_Account":"bob","ClearRamble":1}`, nil); code != 0 {
			t.Fatalf("delete with ClearRamble: %d", code)
		}
		roam.MsgList = nil
		e.rest(t, "openim/admin_getroammsg", fmt.Sprintf(`{"From_Account":"alice","To_Account":"bob","MaxCnt":10,"MinTime":0,"MaxTime":%d}`, e.c.Now().Unix()), &roam)
		if len(roam.MsgList) != 0 {
			t.Fatalf("history after ClearRamble: %d messages", len(roam.MsgList))
		}
		roam.MsgList = nil
		e.rest(t, "openim/admin_getroammsg", fmt.Sprintf(`{"From_Account":"bob","To_Account":"alice","MaxCnt":10,"MinTime":0,"MaxTime":%d}`, e.c.Now().Unix()), &roam)
		if len(roam.MsgList) != 2 {
			t.Fatalf("the peer's history after ClearRamble: %d messages, want 2", len(roam.MsgList))
		}
		// A new message brings bob back, with one unread.
		e.c.Advance(time.Second)
		e.send(t, "bob", "alice")
		if got := peers(1)["bob"]; got.UnreadMsgCount != 1 || got.MsgTime != e.c.Now().Unix() {
			t.Fatalf("bob after a new message: %+v", got)
		}
	})
}

// Mark bits, CustomMark, get/search_contact_group, the limits (20 groups,
// 1,000 conversations in a group or marked: 51008) and bad input.
func TestConvMarksAndGroupsREST(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		e := newConvEnv(t, open, catalog.Premium, "alice", "bob", "carol")
		var res struct {
			ResultItem []struct {
				ContactItem struct {
					Type       int
					To_Account string
				}
				ResultCode int
			}
		}
		body := `{"From_Account":"alice","MarkItem":[
			{"OptType":1,"ContactItem":{"Type":1,"To_Account":"bob"},"SetMark":[0,3,40]},
			{"OptType":3,"ContactItem":{"Type":1,"To_Account":"carol"},"SetMark":[1],"CustomMark":"abcd"},
			{"OptType":1,"ContactItem":{"Type":1,"To_Account":"carol"},"SetMark":[64]},
			{"OptType":4,"ContactItem":{"Type":1,"To_Account":"carol"}},
			{"OptType":2,"ContactItem":{"Type":2,"ToGroupId":"@TGS#1"},"CustomMark":"g"}]}`
		if code := e.rest(t, "recentcontact/mark_contact", body, &res); code != 0 {
			t.Fatalf("mark_contact: %d", code)
		}
		var codes []int
		for _, r := range res.ResultItem {
			codes = append(codes, r.ResultCode)
		}
		if !reflect.DeepEqual(codes, []int{0, 0, errs.ConvBadParams, errs.ConvBadParams, 0}) {
			t.Fatalf("per-item codes %v", codes)
		}
		// Clear bit 3 of bob.
		e.rest(t, "recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[{"OptType":1,"ContactItem":{"Type":1,"To_Account":"bob"},"ClearMark":[3]}]}`, nil)
		var search struct {
			ContactResultItem []struct {
				Type                                            int
				To_Account, ToGroupId, StandardMark, CustomMark string
				Timestamp                                       int64
			}
		}
		if code := e.rest(t, "recentcontact/search_contact_group", `{"From_Account":"alice","ContactItem":[{"Type":1,"To_Account":"bob"},{"Type":1,"To_Account":"carol"},{"Type":2,"ToGroupId":"@TGS#1"}]}`, &search); code != 0 {
			t.Fatalf("search: %d", code)
		}
		got := map[string]string{}
		for _, it := range search.ContactResultItem {
			got[it.To_Account+it.ToGroupId] = it.StandardMark + "/" + it.CustomMark
			if it.Timestamp != e.c.Now().Unix() {
				t.Fatalf("Timestamp %d", it.Timestamp)
			}
		}
		want := map[string]string{"bob": "1" + strings.Repeat("0", 39) + "1/", "carol": "10/abcd", "@TGS#1": "/g"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("marks %v, want %v", got, want)
		}

		// 20 groups; the 21st is 51008; a group of 1,001 conversations is 51008.
		for i := range 20 {
			if code := e.rest(t, "recentcontact/create_contact_group", fmt.Sprintf(`{"From_Account":"alice","GroupContactItem":[{"GroupName":"g%d","ContactItem":[]}]}`, i), nil); code != 0 {
				t.Fatalf("group %d: %d", i, code)
			}
		}
		if code := e.rest(t, "recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"g20","ContactItem":[]}]}`, nil); code != errs.ConvLimit {
			t.Fatalf("21st group: %d, want %d", code, errs.ConvLimit)
		}
		e.rest(t, "recentcontact/del_contact_group", `{"From_Account":"alice","GroupName":["g19"]}`, nil)
		items := make([]string, 1001)
		for i := range items {
			items[i] = fmt.Sprintf(`{"Type":1,"To_Account":"u%d"}`, i)
		}
		if code := e.rest(t, "recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"big","ContactItem":[`+strings.Join(items, ",")+`]}]}`, nil); code != errs.ConvLimit {
			t.Fatalf("1,001 conversations: %d, want %d", code, errs.ConvLimit)
		}
		if code := e.rest(t, "recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"big","ContactItem":[`+strings.Join(items[:1000], ",")+`]}]}`, nil); code != 0 {
			t.Fatalf("1,000 conversations: %d", code)
		}
		var upd struct {
			UpdateGroupResult struct {
				GroupName         string
				ContactResultItem []struct{ ContactOptType, ResultCode int }
			}
		}
		if code := e.rest(t, "recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":2,"OldGroupName":"big","ContactUpdateItem":[
			{"ContactOptType":1,"ContactItem":{"Type":1,"To_Account":"u1000"}},{"ContactOptType":2,"ContactItem":{"Type":1,"To_Account":"u0"}}]}}`, &upd); code != 0 {
			t.Fatalf("update: %d", code)
		}
		if r := upd.UpdateGroupResult.ContactResultItem; len(r) != 2 || r[0].ResultCode != errs.ConvLimit || r[1].ResultCode != 0 {
			t.Fatalf("update results %+v", r)
		}
		var page struct {
			ContactItem []json.RawMessage
			GroupItem   []struct {
				GroupName string
				GroupId   int64
			}
			CompleteFlag   int
			NextStartIndex int
		}
		total := 0
		for start, i := 0, 0; ; i++ {
			page.ContactItem, page.GroupItem = nil, nil
			if code := e.rest(t, "recentcontact/get_contact_group", fmt.Sprintf(`{"From_Account":"alice","StartIndex":%d}`, start), &page); code != 0 {
				t.Fatalf("get_contact_group: %d", code)
			}
			total += len(page.ContactItem)
			if len(page.GroupItem) != 20 {
				t.Fatalf("GroupItem lists %d groups", len(page.GroupItem))
			}
			if page.CompleteFlag == 1 {
				break
			}
			start = page.NextStartIndex
			if i > 20 {
				t.Fatal("get_contact_group never completes")
			}
		}
		// bob, carol, @TGS#1 (marks) and u1..u999 (u0 removed).
		if total != 3+999 {
			t.Fatalf("get_contact_group listed %d conversations, want %d", total, 3+999)
		}

		// Bad input: nothing changes.
		snap := func() string {
			st, gs, err := e.st.ConvStates(context.Background(), e.app.SDKAppID, "alice")
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(st, gs)
		}
		before := snap()
		for _, tc := range []struct {
			cmd, body string
			code      int
		}{
			{"recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"g0","ContactItem":[]}]}`, errs.ConvBadParams},
			{"recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"` + strings.Repeat("x", 33) + `"}]}`, errs.ConvBadParams},
			{"recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":{"GroupName":"x"}}`, errs.ConvBadParams},
			{"recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[]}`, errs.ConvBadParams},
			{"recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"x","ContactItem":[{"Type":1,"To_Account":" bad"}]}]}`, errs.ConvBadParams},
			{"recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":2,"UpdateGroup":{"UpdateGroupType":1,"OldGroupName":"g0","NewGroupName":"y"}}`, errs.ConvBadParams},
			{"recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":1,"OldGroupName":"nope","NewGroupName":"y"}}`, errs.ConvBadParams},
			{"recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":1,"OldGroupName":"g0","NewGroupName":"g1"}}`, errs.ConvBadParams},
			{"recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":2,"OldGroupName":"g0","ContactUpdateItem":[{"ContactOptType":3,"ContactItem":{"Type":1,"To_Account":"bob"}}]}}`, errs.ConvBadParams},
			{"recentcontact/del_contact_group", `{"From_Account":"alice","GroupName":[]}`, errs.ConvBadParams},
			{"recentcontact/del_contact_group", `{"From_Account":"alice","GroupName":"g0"}`, errs.ConvBadParams},
			{"recentcontact/get_contact_group", `{"From_Account":"alice","StartIndex":-1}`, errs.ConvBadParams},
			{"recentcontact/search_contact_group", `{"From_Account":"alice","ContactItem":[]}`, errs.ConvBadParams},
			{"recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[]}`, errs.ConvBadParams},
			{"recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[{"OptType":2,"ContactItem":{"Type":1,"To_Account":"bob"},"CustomMark":"` + strings.Repeat("m", 257) + `"}]}`, 0},
			{"recentcontact/mark_contact", `{"From_Account":"nobody","MarkItem":[{"OptType":1,"ContactItem":{"Type":1,"To_Account":"bob"},"SetMark":[1]}]}`, errs.ConvAccountNotFound},
			{"recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[{"OptType":1,"ContactItem":{"Type":1,"To_Account":"bob"},"SetMark":"1"}]}`, errs.ConvBadParams},
		} {
			if code := e.rest(t, tc.cmd, tc.body, nil); code != tc.code {
				t.Errorf("%s %.80s: %d, want %d", tc.cmd, tc.body, code, tc.code)
			}
		}
		if after := snap(); after != before {
			t.Fatal("bad input changed the state")
		}

		// Marked conversations: at most 1,000 (bob, carol and @TGS#1 are marked).
		for batch := 0; batch < 10; batch++ {
			var mi []string
			for i := range 100 {
				mi = append(mi, fmt.Sprintf(`{"OptType":1,"ContactItem":{"Type":1,"To_Account":"m%d"},"SetMark":[0]}`, batch*100+i))
			}
			res.ResultItem = nil
			if code := e.rest(t, "recentcontact/mark_contact", `{"From_Account":"alice","MarkItem":[`+strings.Join(mi, ",")+`]}`, &res); code != 0 {
				t.Fatalf("mark batch %d: %d", batch, code)
			}
			for i, r := range res.ResultItem {
				n := 3 + batch*100 + i + 1 // the nth marked conversation
				if (n > 1000) != (r.ResultCode == errs.ConvLimit) || (n <= 1000 && r.ResultCode != 0) {
					t.Fatalf("marked conversation %d: code %d", n, r.ResultCode)
				}
			}
		}
	})
}
