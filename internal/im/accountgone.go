package im

import (
	"errors"

	"github.com/chatd/chatd/internal/errs"
)

// accountGone maps the store's errs.ErrNotFound of a write naming user to the
// caller's "account not found" code (70107, 50001 for conversations, 30003 for
// relations), the code its own check answers before the write: the store confirms the user in the write's own
// transaction, so an account deleted after this call's check is refused there.
// Other errors are storage errors (hidden); nil stays nil.
func accountGone(err error, code int, user string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(code, "account %q does not exist", user)
	}
	return storageErr(err)
}
