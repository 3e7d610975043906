package im

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Reasons of the "kicked" frame that ends a user's sessions.
const (
	KickedByBackend = "kicked by the app backend" // Kick (REST im_open_login_svc/kick)
	KickedDeleted   = "account deleted"           // DeleteAccounts
)

// LoginCheck is what a session that logged in earlier must still pass: its
// account exists, and it was not kicked after the session logged in.
type LoginCheck struct {
	Exists   bool
	KickedAt time.Time // the user's last kick (millisecond precision); zero: never
}

// Ends says why a session of the user must end ("" when it stays): the
// account no longer exists (KickedDeleted), or the user was kicked after the
// session logged in (KickedByBackend). The session logged in at loginAt (this
// node's clock, read before the login was checked) with a UserSig made at
// sigTime (Unix seconds, LoginSig). It ends when its UserSig would be refused
// now (70052), or when the kick came after loginAt, which also catches a kick
// in the second its UserSig was made; the kick's time is another node's
// clock, so a skew between the nodes' clocks moves that bound by as much.
func (c LoginCheck) Ends(sigTime int64, loginAt time.Time) string {
	switch {
	case !c.Exists:
		return KickedDeleted
	case sigKicked(sigTime, c.KickedAt) || c.KickedAt.After(loginAt):
		return KickedByBackend
	}
	return ""
}

// LoginChecks reads, from the store and not from this node's caches, whether
// each of users exists and when it was last kicked: a node that may have
// missed other nodes' kicks and deletions (a bus reconnect) checks its
// sessions by it. At most MaxBatchAccounts users; it costs one store read for
// the accounts and one per existing account.
func (s *Service) LoginChecks(ctx context.Context, app store.App, users []string) (map[string]LoginCheck, error) {
	if len(users) > MaxBatchAccounts {
		return nil, errs.New(errs.BatchCount, "pass at most %d accounts per call, got %d", MaxBatchAccounts, len(users))
	}
	found, err := s.store.GetUsers(ctx, app.SDKAppID, users)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make(map[string]LoginCheck, len(users))
	for _, u := range users {
		if _, ok := found[u]; !ok {
			out[u] = LoginCheck{}
			continue
		}
		at, err := s.store.KickTime(ctx, app.SDKAppID, u)
		if err != nil {
			return nil, storageErr(err)
		}
		out[u] = LoginCheck{Exists: true, KickedAt: at}
	}
	return out, nil
}

// sigKicked reports whether a UserSig made at sigTime (Unix seconds) is
// refused by the kick at kicked (zero: none). TLS.time has whole seconds: a
// sig made in the second of the kick is accepted, so that a backend can kick
// and issue a new sig at once.
func sigKicked(sigTime int64, kicked time.Time) bool {
	return !kicked.IsZero() && sigTime < kicked.Unix()
}
