package im

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// MaxBatchAccounts bounds the accounts of one import, delete or check call.
const MaxBatchAccounts = 100

// Bounds of an imported account's Nick and FaceUrl.
const (
	MaxNickRunes    = 64
	MaxFaceURLBytes = 500
)

// ImportAccounts creates users (or refreshes nick and avatar of existing ones).
func (s *Service) ImportAccounts(ctx context.Context, app store.App, users []store.User) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if len(users) == 0 || len(users) > MaxBatchAccounts {
		return errs.New(errs.BatchCount, "import between 1 and %d accounts per call, got %d", MaxBatchAccounts, len(users))
	}
	for i := range users {
		if err := ValidUserID(users[i].UserID); err != nil {
			return err
		}
		if utf8.RuneCountInString(users[i].Nick) > MaxNickRunes || len(users[i].FaceURL) > MaxFaceURLBytes {
			return errs.New(errs.InvalidParameters, "Nick is at most %d characters and FaceUrl at most %d bytes", MaxNickRunes, MaxFaceURLBytes)
		}
		if err := errors.Join(input.Text(users[i].Nick), input.Text(users[i].FaceURL)); err != nil {
			return errs.New(errs.InvalidParameters, "Nick or FaceUrl of %q: %v", users[i].UserID, err)
		}
		users[i].CreatedAt = s.clock.Now()
	}
	if err := s.store.ImportUsers(ctx, app.SDKAppID, users); err != nil {
		return storageErr(err)
	}
	invs := make([]bus.Invalidation, len(users))
	for i := range users { // an account deleted on a node and imported again here
		invs[i] = userInvalidation(bus.InvUser, app.SDKAppID, users[i].UserID)
	}
	s.invalidate(invs...)
	return nil
}

// DeleteAccounts deletes users; the result says, per user, whether it existed.
func (s *Service) DeleteAccounts(ctx context.Context, app store.App, ids []string) (map[string]bool, error) {
	if err := s.checkBatch(app, ids); err != nil {
		return nil, err
	}
	found, err := s.imported(ctx, app.SDKAppID, ids...)
	if err != nil {
		return nil, err
	}
	groups, err := s.groupsOfUsers(ctx, app.SDKAppID, ids)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteUsers(ctx, app.SDKAppID, ids); err != nil {
		return nil, storageErr(err)
	}
	for _, g := range groups { // the deleted users left their groups
		s.groupMembersChanged(app.SDKAppID, g)
	}
	var kicks []bus.Delivery
	invs := make([]bus.Invalidation, 0, len(ids))
	for _, id := range ids {
		s.users.forget(cacheKey{app.SDKAppID, id})
		s.mutes.changed(cacheKey{app.SDKAppID, id}, nil, s.clock.Now())
		s.blockList.changed(cacheKey{app.SDKAppID, id}, nil, s.clock.Now())
		invs = append(invs, userInvalidation(bus.InvUser, app.SDKAppID, id))
		if found[id] {
			kicks = append(kicks, bus.Delivery{App: app.SDKAppID, User: id, Kind: bus.KindKick, Reason: KickedDeleted})
		}
	}
	s.invalidate(invs...)
	// A deleted account's devices are logged out.
	s.bus.Publish(kicks)
	return found, nil
}

// CheckAccounts tells, per user, whether it is imported.
func (s *Service) CheckAccounts(ctx context.Context, app store.App, ids []string) (map[string]bool, error) {
	if err := s.checkBatch(app, ids); err != nil {
		return nil, err
	}
	return s.imported(ctx, app.SDKAppID, ids...)
}

func (s *Service) checkBatch(app store.App, ids []string) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if len(ids) == 0 || len(ids) > MaxBatchAccounts {
		return errs.New(errs.BatchCount, "pass between 1 and %d accounts per call, got %d", MaxBatchAccounts, len(ids))
	}
	for _, id := range ids {
		if err := ValidUserID(id); err != nil {
			return err
		}
	}
	return nil
}

func storageErrOrNil(err error) error {
	if err == nil {
		return nil
	}
	return storageErr(err)
}
