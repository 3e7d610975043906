package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/postgres"
)

// Two nodes (two store handles on one schema) create groups, add members and
// delete users at once: the edition's limits hold exactly across them, no
// deadlock surfaces, and every group's MemberNum matches its members.
func TestTwoNodesGroupLimits(t *testing.T) {
	base, admin := testURL(t)
	u := freshSchema(t, base, admin)
	ctx := context.Background()
	var nodes [2]store.Store
	for i := range nodes {
		s, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	const app, n, limit = 1400000001, 30, 9
	now := time.Unix(1764000000, 0).UTC()
	var us []store.User
	for i := 0; i < n; i++ {
		us = append(us, store.User{UserID: fmt.Sprintf("u%02d", i), CreatedAt: now})
	}
	if err := nodes[0].ImportUsers(ctx, app, us); err != nil {
		t.Fatal(err)
	}
	run := func(what string, fn func(i int, s store.Store) error) int {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		okN := 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := fn(i, nodes[i%2])
				var l *store.GroupLimitError
				if err != nil && !errors.As(err, &l) && !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("%s %d: %v", what, i, err)
				}
				mu.Lock()
				if err == nil {
					okN++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		return okN
	}
	q := store.GroupQuota{GroupsPerApp: limit, DailyNet: limit + 3, Day: "2025-11-24"}
	if got := run("create", func(i int, s store.Store) error {
		_, err := s.CreateGroup(ctx, store.Group{App: app, GroupID: fmt.Sprintf("g%02d", i), Type: store.GroupWork, Name: "g", CreatedAt: now}, nil, q)
		return err
	}); got != limit {
		t.Fatalf("%d groups at a limit of %d across two nodes", got, limit)
	}
	mq := store.GroupQuota{MembersPerGroup: limit, Day: q.Day}
	if _, err := nodes[0].CreateGroup(ctx, store.Group{App: app, GroupID: "big", Type: store.GroupPublic, Name: "big", CreatedAt: now}, nil, store.GroupQuota{Day: "2025-11-01"}); err != nil {
		t.Fatal(err)
	}
	if got := run("join", func(i int, s store.Store) error {
		res, err := s.AddGroupMembers(ctx, app, "big", []store.GroupMember{{UserID: us[i].UserID, Role: store.RoleMember, JoinTime: now}}, mq)
		if err != nil {
			return err
		}
		return res[0]
	}); got != limit {
		t.Fatalf("%d members at a limit of %d across two nodes", got, limit)
	}
	// Deletions of users racing adds of the same users to another group.
	if _, err := nodes[0].CreateGroup(ctx, store.Group{App: app, GroupID: "race", Type: store.GroupMeeting, Name: "r", CreatedAt: now}, nil, store.GroupQuota{Day: "2025-11-01"}); err != nil {
		t.Fatal(err)
	}
	run("add or delete", func(i int, s store.Store) error {
		if i%2 == 0 {
			return s.DeleteUsers(ctx, app, []string{us[i/2].UserID})
		}
		res, err := s.AddGroupMembers(ctx, app, "race", []store.GroupMember{{UserID: us[i/2].UserID, Role: store.RoleMember, JoinTime: now}}, store.GroupQuota{Day: q.Day})
		if err != nil {
			return err
		}
		return res[0]
	})
	for _, id := range []string{"big", "race"} {
		g, err := nodes[1].GetGroup(ctx, app, id)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := nodes[1].GroupMemberIDs(ctx, app, id)
		if err != nil {
			t.Fatal(err)
		}
		if g.MemberNum != len(ids) {
			t.Fatalf("group %s: MemberNum %d, %d members", id, g.MemberNum, len(ids))
		}
		left, err := nodes[1].GetUsers(ctx, app, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != len(ids) {
			t.Fatalf("group %s keeps deleted users: %v", id, ids)
		}
	}
}
