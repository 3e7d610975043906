package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// BenchSNS measures the store side of the relationship chain for a user with
// 3,000 friends: "add" adds the 3,000th friend both ways with the limit checked
// (AddFriends, one transaction; deleted again outside the timer) and "page"
// reads a page of 100 friends at offset 1,500 with the count (ListFriends).
// Every store's BenchmarkSNS runs it, so their figures compare.
func BenchSNS(b *testing.B, s store.Store) {
	ctx := context.Background()
	const n = 3000
	users := []store.User{{UserID: "hub"}, {UserID: "newcomer"}}
	rows := make([]store.Friend, 0, 2*n)
	at := time.Unix(1764000000, 0).UTC()
	for i := 0; i < n-1; i++ {
		id := fmt.Sprintf("p%05d", i)
		users = append(users, store.User{UserID: id})
		rows = append(rows, store.Friend{Owner: "hub", Peer: id, AddSource: "AddSource_Type_B", AddTime: at},
			store.Friend{Owner: id, Peer: "hub", AddSource: "AddSource_Type_B", AddTime: at})
	}
	if err := s.ImportUsers(ctx, app1, users); err != nil {
		b.Fatal(err)
	}
	if _, err := s.AddFriends(ctx, app1, rows, 0); err != nil {
		b.Fatal(err)
	}
	pair := []store.Friend{
		{Owner: "hub", Peer: "newcomer", AddSource: "AddSource_Type_B", AddTime: at},
		{Owner: "newcomer", Peer: "hub", AddSource: "AddSource_Type_B", AddTime: at},
	}
	b.Run("add", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if added, err := s.AddFriends(ctx, app1, pair, n); err != nil || added != 2 {
				b.Fatalf("AddFriends = %d, %v", added, err)
			}
			b.StopTimer()
			if _, err := s.DeleteFriends(ctx, app1, "hub", []string{"newcomer"}, true); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	b.Run("page", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			page, total, err := s.ListFriends(ctx, app1, "hub", 1500, 100)
			if err != nil || len(page) != 100 || total != n-1 {
				b.Fatalf("ListFriends = %d of %d, %v", len(page), total, err)
			}
		}
	})
}
