package natsbus

import (
	"context"

	"github.com/chatd/chatd/internal/store"
)

// MembershipStore is the part of store.Store that StoreGroups reads.
type MembershipStore interface {
	UserGroups(ctx context.Context, app int64, user string) ([]store.GroupMember, error)
	GroupMemberIDs(ctx context.Context, app int64, group string) ([]string, error)
}

// StoreGroups is the GroupReader over a store.
func StoreGroups(st MembershipStore) GroupReader { return storeGroups{st} }

type storeGroups struct{ st MembershipStore }

// UserGroupIDs lists the groups user is a member of (a topic is not a group
// of its own: its entries travel on the community's subject).
func (g storeGroups) UserGroupIDs(ctx context.Context, app int64, user string) ([]string, error) {
	ms, err := g.st.UserGroups(ctx, app, user)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
	}
	return ids, nil
}

// GroupMemberIDs lists a group's members; errs.ErrNotFound when it does not
// exist.
func (g storeGroups) GroupMemberIDs(ctx context.Context, app int64, group string) ([]string, error) {
	return g.st.GroupMemberIDs(ctx, app, group)
}
