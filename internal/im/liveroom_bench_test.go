package im

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/store"
)

// BenchmarkLiveRoomMembers20k: get_members of a live room of 20,000 members
// (SQLite), with every tenth member online and with all online.
func BenchmarkLiveRoomMembers20k(b *testing.B) {
	ctx := context.Background()
	const n = 20000
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("m%05d", i)
	}
	f := newLiveFixture(b, catalog.Premium, users...)
	f.room(b, "live", "AVChatRoom")
	add := make([]store.GroupMember, n)
	for i, u := range users {
		add[i] = store.GroupMember{UserID: u, Role: store.RoleMember, JoinTime: f.clock.Now().Add(time.Duration(i) * time.Second)}
	}
	for i := 0; i < n; i += 300 {
		if _, err := f.st.AddGroupMembers(ctx, f.app.SDKAppID, "live", add[i:min(n, i+300)], store.GroupQuota{Day: "2026-11-26"}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		every int
	}{{"none_online", 0}, {"tenth_online", 10}, {"all_online", 1}} {
		f.p.set(false, users...)
		for i := 0; c.every > 0 && i < n; i += c.every {
			f.p.set(true, users[i])
		}
		want := LiveMembersPerPage
		if c.every == 0 {
			want = 0
		}
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				ms, _, err := f.svc.LiveRoomMembers(ctx, f.app, "live", 0, 0)
				if err != nil || len(ms) != want {
					b.Fatalf("%d members, %v", len(ms), err)
				}
			}
		})
	}
}
