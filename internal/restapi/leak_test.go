package restapi_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// faultyStore is the store of the env's messaging service: once failUsers is
// set, user lookups fail with a database's own text.
type faultyStore struct {
	store.Store
	failUsers atomic.Bool
}

var errDB = errors.New(`ERROR: relation "users" does not exist (SQLSTATE 42P01)`)

func (f *faultyStore) GetUsers(ctx context.Context, app int64, ids []string) (map[string]store.User, error) {
	if f.failUsers.Load() {
		return nil, errDB
	}
	return f.Store.GetUsers(ctx, app, ids)
}

// A storage failure is answered 70500 "internal error": the database's text stays
// in the server's log.
func TestStorageTextNeverReachesTheClient(t *testing.T) {
	e := newEnv(t)
	e.faults.failUsers.Store(true)
	for path, req := range map[string]any{
		"im_open_login_svc/account_check": M{"CheckItem": []M{{"UserID": "zed"}}},
		"openim/sendmsg":                  M{"From_Account": "zed", "To_Account": "yan", "MsgBody": []M{{"MsgType": "TIMTextElem", "MsgContent": M{"Text": "hi"}}}},
		"profile/portrait_get":            M{"To_Account": []string{"zed"}, "TagList": []string{"Tag_Profile_IM_Nick"}},
	} {
		r := e.call(path, req)
		if r.code() != errs.Internal || r.info() != "internal error" || strings.Contains(string(r.raw), "SQLSTATE") {
			t.Errorf("%s: %s", path, r.raw)
		}
	}
}
