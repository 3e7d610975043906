package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// The real binary: alice on two devices sends from both; bob and carol write to
// her; one device reads bob. The list on the other device and
// recentcontact/get_list show the right unread counts (as
// get_c2c_unread_msg_num), and a pin made on one device is pushed to the other.
func TestConversationListTwoDevices(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t))
	a := n.createApp()
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		n.restOK(a, "im_open_login_svc/account_import", map[string]any{"UserID": u})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	phone, laptop := n.mustLogin(a, "alice", "iOS", 0), n.mustLogin(a, "alice", "Windows", 0)
	bob, carol := n.mustLogin(a, "bob", "Android", 0), n.mustLogin(a, "carol", "Web", 0)
	if _, err := phone.SendText(ctx, "dave", "p-1", "from the phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.SendText(ctx, "bob", "l-1", "from the laptop"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := bob.SendText(ctx, "alice", fmt.Sprintf("b-%d", i), "hi"); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.SendText(ctx, "alice", fmt.Sprintf("c-%d", i), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if err := phone.MarkRead(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"bob": 0, "carol": 3, "dave": 0}
	convs, _, complete, err := laptop.Conversations(ctx, nil, 7)
	if err != nil || !complete {
		t.Fatalf("conv_list: %v, complete %v", err, complete)
	}
	got := map[string]int{}
	for _, c := range convs {
		got[c.Peer] = c.Unread
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("laptop's list: %v, want %v", got, want)
	}
	list := n.restOK(a, "recentcontact/get_list", map[string]any{"From_Account": "alice", "AssistFlags": 7})
	unread := n.restOK(a, "openim/get_c2c_unread_msg_num", map[string]any{"To_Account": "alice"})
	counted := map[string]float64{}
	for _, u := range unread["C2CUnreadMsgNumList"].([]any) {
		m := u.(map[string]any)
		counted[m["Peer_Account"].(string)] = m["C2CUnreadMsgNum"].(float64)
	}
	items := list["SessionItem"].([]any)
	if len(items) != 3 || list["CompleteFlag"] != float64(1) {
		t.Fatalf("get_list: %v", list)
	}
	for _, it := range items {
		m := it.(map[string]any)
		peer := m["To_Account"].(string)
		if m["UnreadMsgCount"] != float64(want[peer]) || counted[peer] != float64(want[peer]) {
			t.Fatalf("%s: get_list %v, get_c2c_unread_msg_num %v, want %d", peer, m["UnreadMsgCount"], counted[peer], want[peer])
		}
	}
	changes := laptop.ConvChanges()
	if err := phone.PinConversation(ctx, client.ConvRef{Type: 1, Peer: "carol"}, true); err != nil {
		t.Fatal(err)
	}
	select {
	case ch := <-changes:
		if ch.Conv == nil || ch.Conv.Peer != "carol" || !ch.Conv.Pinned {
			t.Fatalf("push %+v", ch)
		}
	case <-ctx.Done():
		t.Fatal("the laptop was not told of the pin")
	}
}
