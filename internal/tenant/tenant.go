// Package tenant manages customer accounts and their apps (product spec section 2).
package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
)

// MaxAppsPerAccount is the number of apps one customer account may own.
const MaxAppsPerAccount = 300

// DefaultAdmin is the admin identity a new app's REST API accepts.
const DefaultAdmin = "administrator"

// DefaultRegion is used when an app is created without a data center.
const DefaultRegion = "singapore"

// Regions are the data centers an app can be created in.
var Regions = []string{"singapore", "seoul", "tokyo", "frankfurt", "mumbai", "silicon-valley", "jakarta", "china"}

// Errors of this package wrap the shared kinds of package errs (ErrInvalid,
// ErrNotFound, ErrLimit, ErrConflict); the operator API maps the kinds to HTTP
// statuses.
var (
	// ErrConfirmation: a deletion without the matching confirmation (ErrInvalid).
	ErrConfirmation = errs.Kind(errs.ErrInvalid, "confirmation does not match")
	// ErrSuspended: a suspended account cannot create apps, nor, suspended for
	// a violation, delete them (ErrConflict).
	ErrSuspended = errs.Kind(errs.ErrConflict, "account suspended")
)

// Service is the tenant domain service.
type Service struct {
	Store store.Tenants
	Clock clock.Clock
	// OnAppChanged, when set, is called after an app was deleted (DeleteApp),
	// so that its devices end at once on every node; the server wires it to
	// the gateway and the bus (bus.InvApp).
	OnAppChanged func(app int64)
}

// CreateAccount opens a customer account (NewAccount, then stored).
func (s *Service) CreateAccount(ctx context.Context, name, email, phone string) (store.Account, error) {
	a, err := s.NewAccount(name, email, phone)
	if err != nil {
		return store.Account{}, err
	}
	if err := s.Store.CreateAccount(ctx, a); err != nil {
		return store.Account{}, err
	}
	return a, nil
}

// NewAccount checks the fields of a new customer account and returns it,
// active, with a new ID, without storing it: CreateAccount stores it, the
// console's sign-up stores it together with its credential. Errors wrap
// errs.ErrInvalid.
func (s *Service) NewAccount(name, email, phone string) (store.Account, error) {
	name, err := validName(name)
	if err != nil {
		return store.Account{}, err
	}
	if input.DisplayName(email, MaxEmailBytes) != nil {
		return store.Account{}, fmt.Errorf("%w: email is required: at most %d bytes of printable text", errs.ErrInvalid, MaxEmailBytes)
	}
	if _, err := mail.ParseAddress(email); err != nil || strings.ContainsAny(email, "<> ") {
		return store.Account{}, fmt.Errorf("%w: email %q is not a valid address", errs.ErrInvalid, email)
	}
	if phone != "" && !ValidPhone(phone) {
		return store.Account{}, fmt.Errorf("%w: phone %q is not an international number: + and the country code, then 6 to 15 digits in all, optionally grouped by single spaces or hyphens (+65 6123 4567)", errs.ErrInvalid, phone)
	}
	return store.Account{
		ID: "acc_" + randomHex(8), Name: name, Email: email, Phone: phone,
		Status: store.StatusActive, CreatedAt: s.Clock.Now(),
	}, nil
}

// GetAccount returns an account.
func (s *Service) GetAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := s.Store.GetAccount(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return a, fmt.Errorf("%w: account %q", errs.ErrNotFound, id)
	}
	return a, err
}

// CreateApp creates an app on the Free Trial edition, valid for one month.
func (s *Service) CreateApp(ctx context.Context, accountID, name, region string) (store.App, error) {
	name, err := validName(name)
	if err != nil {
		return store.App{}, err
	}
	if region == "" {
		region = DefaultRegion
	}
	if !validRegion(region) {
		return store.App{}, fmt.Errorf("%w: unknown region %q (one of %s)", errs.ErrInvalid, region, strings.Join(Regions, ", "))
	}
	// A suspended account (arrears or a violation) stops all of its apps, so it
	// may not start new ones either.
	if acc, err := s.Store.GetAccount(ctx, accountID); err == nil && acc.Status == store.StatusSuspended {
		return store.App{}, fmt.Errorf("%w: account %s is suspended (%s); it cannot create apps", ErrSuspended, accountID, acc.SuspendReason)
	}
	now := s.Clock.Now()
	app, err := s.Store.CreateApp(ctx, store.App{
		AccountID: accountID, Name: name, Region: region,
		SecretKey: randomHex(32), AdminUser: DefaultAdmin,
		Edition: catalog.Trial, Status: store.StatusActive,
		CreatedAt: now, ExpiresAt: period.AddMonths(now, 1),
	}, MaxAppsPerAccount)
	switch {
	case errors.Is(err, errs.ErrLimit):
		return app, fmt.Errorf("%w: an account may own at most %d apps", errs.ErrLimit, MaxAppsPerAccount)
	case errors.Is(err, errs.ErrNotFound):
		return app, fmt.Errorf("%w: account %q", errs.ErrNotFound, accountID)
	}
	return app, err
}

// GetApp returns a live (not deleted) app.
func (s *Service) GetApp(ctx context.Context, sdkappid int64) (store.App, error) {
	app, err := s.Store.GetApp(ctx, sdkappid)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && app.Status == store.StatusDeleted) {
		return store.App{}, fmt.Errorf("%w: app %d", errs.ErrNotFound, sdkappid)
	}
	return app, err
}

// ListApps lists the live apps of an account.
func (s *Service) ListApps(ctx context.Context, accountID string) ([]store.App, error) {
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	return s.Store.ListApps(ctx, accountID)
}

// DeleteApp deletes an app and all its data. confirm must repeat the SDKAppID.
func (s *Service) DeleteApp(ctx context.Context, sdkappid, confirm int64) error {
	if confirm != sdkappid {
		return fmt.Errorf("%w: pass the SDKAppID %d again to confirm; deletion cannot be undone", ErrConfirmation, sdkappid)
	}
	if _, err := s.GetApp(ctx, sdkappid); err != nil {
		return err
	}
	if err := s.Store.DeleteApp(ctx, sdkappid, s.Clock.Now()); err != nil {
		return err
	}
	if s.OnAppChanged != nil {
		s.OnAppChanged(sdkappid)
	}
	return nil
}

// SuspendedForViolation is the suspension reason of an account suspended for
// a content violation (commerce.ReasonViolation, which is this).
const SuspendedForViolation = "violation"

// Limits of account and app fields, in bytes unless said otherwise.
const (
	MaxNameRunes  = 128 // account and app names, in characters
	MaxEmailBytes = 254 // the longest address SMTP carries (RFC 5321)
)

// validName trims a name of an account or app and checks it: 1 to MaxNameRunes
// characters of valid UTF-8 with no control or invisible formatting character
// (input.DisplayName).
func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxNameRunes || input.DisplayName(name, 4*MaxNameRunes) != nil {
		return "", fmt.Errorf("%w: name is required: at most %d characters of printable text, without invisible formatting characters", errs.ErrInvalid, MaxNameRunes)
	}
	return name, nil
}

// ValidPhone reports whether p is an international phone number in the E.164
// style: "+", a country code not starting with 0, then digits, 6 to 15 digits in
// all (E.164's maximum), optionally grouped by single spaces or hyphens. The
// number is kept as written.
func ValidPhone(p string) bool {
	if len(p) < 2 || p[0] != '+' || p[1] < '1' || p[1] > '9' {
		return false
	}
	digits := 0
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c >= '0' && c <= '9':
			digits++
		case (c == ' ' || c == '-') && i+1 < len(p) && p[i-1] >= '0' && p[i-1] <= '9':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}

func validRegion(r string) bool {
	for _, v := range Regions {
		if v == r {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
