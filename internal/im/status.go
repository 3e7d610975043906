package im

import (
	"context"
	"errors"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// User status limits (the reference's client SDK: a custom status is at most
// 100 bytes; a subscription list is bounded and a subscription beyond it drops
// the oldest one).
const (
	// MaxCustomStatusBytes bounds a custom status text (70402 beyond).
	MaxCustomStatusBytes = 100
	// MaxStatusSubscriptions bounds the users one user is subscribed to; a
	// subscription beyond it drops the user's oldest one, as the reference does.
	MaxStatusSubscriptions = 200
	// MaxSubscribeBatch bounds the users of one subscribe or unsubscribe
	// request (70402 beyond; nothing changes).
	MaxSubscribeBatch = 100
)

// StatusAllowed refuses user status on an inactive app (60020) or an edition
// without it (errs.FeatureNotInEdition).
func (s *Service) StatusAllowed(app store.App) error { return s.gate.UserStatus(app) }

// SetCustomStatus stores user's custom status text: at most MaxCustomStatusBytes
// bytes of valid UTF-8 without NUL (70402 otherwise); "" clears it. 70107 when
// the user does not exist.
func (s *Service) SetCustomStatus(ctx context.Context, app store.App, user, text string) error {
	if err := s.gate.UserStatus(app); err != nil {
		return err
	}
	if err := input.Text(text); err != nil {
		return errs.New(errs.InvalidParameters, "custom_status: %v", err)
	}
	if len(text) > MaxCustomStatusBytes {
		return errs.New(errs.InvalidParameters, "custom_status is %d bytes; at most %d", len(text), MaxCustomStatusBytes)
	}
	err := s.store.SetCustomStatus(ctx, app.SDKAppID, user, text, s.clock.Now())
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.AccountNotFound, "account %q does not exist", user)
	}
	return storageErrOrNil(err)
}

// CustomStatuses returns the custom status of each user that has one.
func (s *Service) CustomStatuses(ctx context.Context, app store.App, users []string) (map[string]string, error) {
	if len(users) == 0 {
		return map[string]string{}, nil
	}
	out, err := s.store.CustomStatuses(ctx, app.SDKAppID, users)
	if err != nil {
		return nil, storageErr(err)
	}
	return out, nil
}

// CheckSubscription checks a subscribe request of user for targets: the feature
// (gate), 1 to MaxSubscribeBatch targets (70402), and per target why it cannot
// be subscribed to (70402 malformed or the user itself, 70107 not imported into
// this app); nil for those that can.
func (s *Service) CheckSubscription(ctx context.Context, app store.App, user string, targets []string) (map[string]error, error) {
	if err := s.gate.UserStatus(app); err != nil {
		return nil, err
	}
	if len(targets) == 0 || len(targets) > MaxSubscribeBatch {
		return nil, errs.New(errs.InvalidParameters, "users must list 1 to %d accounts, got %d", MaxSubscribeBatch, len(targets))
	}
	out, err := s.existing(ctx, app, targets)
	if err != nil {
		return nil, err
	}
	if _, ok := out[user]; ok {
		out[user] = errs.New(errs.InvalidParameters, "a user cannot subscribe to their own status; their devices get its changes anyway")
	}
	return out, nil
}
