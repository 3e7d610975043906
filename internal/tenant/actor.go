package tenant

import (
	"context"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/usersig"
)

// Actor is who acts through the console: a customer account, or the operator
// (Operator set, Account ""), who may act on every account. The methods of
// this file take the actor and enforce ownership themselves: another
// account's app or account is reported as errs.ErrNotFound, exactly like a
// missing one, so a customer learns nothing about others.
type Actor struct {
	Account  string
	Operator bool
}

// owns reports whether the actor may see and change things of account.
func (a Actor) owns(account string) bool {
	return a.Operator || (a.Account != "" && a.Account == account)
}

// AccountAs returns an account the actor may see: a customer only their own
// (ErrNotFound for any other), the operator any.
func (s *Service) AccountAs(ctx context.Context, actor Actor, id string) (store.Account, error) {
	if !actor.owns(id) {
		return store.Account{}, fmt.Errorf("%w: account %q", errs.ErrNotFound, id)
	}
	return s.GetAccount(ctx, id)
}

// AppAs returns a live app the actor may see: ErrNotFound for a missing or
// deleted app and for another account's app (the operator sees all).
func (s *Service) AppAs(ctx context.Context, actor Actor, sdkappid int64) (store.App, error) {
	app, err := s.GetApp(ctx, sdkappid)
	if err != nil {
		return store.App{}, err
	}
	if !actor.owns(app.AccountID) {
		return store.App{}, fmt.Errorf("%w: app %d", errs.ErrNotFound, sdkappid)
	}
	return app, nil
}

// ListAppsAs lists live apps by SDKAppID. A customer lists their own: account
// must be "" or their own (ErrNotFound otherwise). The operator lists the
// apps of account, or of every account when account is "".
func (s *Service) ListAppsAs(ctx context.Context, actor Actor, account string) ([]store.App, error) {
	if account == "" {
		if actor.Operator {
			return s.Store.AllApps(ctx)
		}
		account = actor.Account
	}
	if !actor.owns(account) {
		return nil, fmt.Errorf("%w: account %q", errs.ErrNotFound, account)
	}
	return s.ListApps(ctx, account)
}

// CreateAppAs creates an app (CreateApp's rules) for account: a customer only
// for their own (account "" means their own; another is ErrNotFound); the
// operator must name the account.
func (s *Service) CreateAppAs(ctx context.Context, actor Actor, account, name, region string) (store.App, error) {
	if account == "" {
		if actor.Operator {
			return store.App{}, fmt.Errorf("%w: account is required: the operator creates apps for a named account", errs.ErrInvalid)
		}
		account = actor.Account
	}
	if !actor.owns(account) {
		return store.App{}, fmt.Errorf("%w: account %q", errs.ErrNotFound, account)
	}
	return s.CreateApp(ctx, account, name, region)
}

// DeleteAppAs deletes an app the actor may see (DeleteApp's rules: confirm
// must repeat the SDKAppID). Another account's app is ErrNotFound whatever
// the confirmation, and is left as it is.
func (s *Service) DeleteAppAs(ctx context.Context, actor Actor, sdkappid, confirm int64) error {
	app, err := s.AppAs(ctx, actor, sdkappid)
	if err != nil {
		return err
	}
	// An account suspended for a content violation keeps its apps' data (the
	// operator's evidence): only the operator deletes it.
	if !actor.Operator {
		acc, err := s.Store.GetAccount(ctx, app.AccountID)
		if err != nil {
			return err
		}
		if acc.Status == store.StatusSuspended && acc.SuspendReason == SuspendedForViolation {
			return fmt.Errorf("%w: account %s is suspended for a content violation: its apps and their data are kept; only the operator can delete them", ErrSuspended, acc.ID)
		}
	}
	return s.DeleteApp(ctx, sdkappid, confirm)
}

// SecretKeyAs returns the secret key of an app the actor may see.
func (s *Service) SecretKeyAs(ctx context.Context, actor Actor, sdkappid int64) (string, error) {
	app, err := s.AppAs(ctx, actor, sdkappid)
	if err != nil {
		return "", err
	}
	return app.SecretKey, nil
}

// Bounds of a UserSig made in the console, in seconds.
const (
	DefaultUserSigExpire = 7 * 24 * 3600   // when none is asked for
	MaxUserSigExpire     = 180 * 24 * 3600 // 180 days
)

// MaxUserIDBytes is the longest UserID a console UserSig is made for: the
// UserID rule of package im (1 to 32 bytes of printable ASCII, no space at
// either end), so that the sig can log in.
const MaxUserIDBytes = 32

// UserSigAs makes a UserSig (package usersig) for user, valid for expire
// seconds from the service's clock (0: DefaultUserSigExpire; at most
// MaxUserSigExpire), signed with the key of an app the actor may see. Bad
// input wraps errs.ErrInvalid.
func (s *Service) UserSigAs(ctx context.Context, actor Actor, sdkappid int64, user string, expire int64) (sig string, at time.Time, err error) {
	if err := validUserID(user); err != nil {
		return "", time.Time{}, err
	}
	if expire == 0 {
		expire = DefaultUserSigExpire
	}
	if expire < 0 || expire > MaxUserSigExpire {
		return "", time.Time{}, fmt.Errorf("%w: expire must be 1 to %d seconds (180 days), not %d", errs.ErrInvalid, MaxUserSigExpire, expire)
	}
	app, err := s.AppAs(ctx, actor, sdkappid)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.Clock.Now()
	sig, err = usersig.Gen(app.SDKAppID, app.SecretKey, user, expire, now)
	if err != nil {
		return "", time.Time{}, errs.Hidden(err)
	}
	return sig, now, nil
}

func validUserID(id string) error {
	bad := id == "" || len(id) > MaxUserIDBytes || id[0] == ' ' || id[len(id)-1] == ' '
	for i := 0; !bad && i < len(id); i++ {
		bad = id[i] < 0x20 || id[i] > 0x7e
	}
	if bad {
		return fmt.Errorf("%w: user must be a UserID of 1 to %d bytes of printable ASCII without a space at either end", errs.ErrInvalid, MaxUserIDBytes)
	}
	return nil
}

// AccountLister lists every account, by ID (store.Commerce's AllAccounts).
type AccountLister interface {
	AllAccounts(ctx context.Context) ([]store.Account, error)
}

// AccountsAs lists the accounts the actor may see, by ID: the operator every
// account (from all), a customer only their own.
func (s *Service) AccountsAs(ctx context.Context, actor Actor, all AccountLister) ([]store.Account, error) {
	if actor.Operator {
		return all.AllAccounts(ctx)
	}
	a, err := s.AccountAs(ctx, actor, actor.Account)
	if err != nil {
		return nil, err
	}
	return []store.Account{a}, nil
}
