package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// TestAccounts checks and imports an app's users for the "try it" page (an
// *im.Service).
type TestAccounts interface {
	CheckAccounts(ctx context.Context, app store.App, ids []string) (map[string]bool, error)
	ImportAccounts(ctx context.Context, app store.App, users []store.User) error
}

type tryData struct {
	SDKAppID   int64
	AppName    string
	User, Peer string
}

// tryPage is the "try it" chat: with ?user= and ?peer= its script signs user
// in with the JavaScript SDK and shows the conversation with peer.
func (h *handler) tryPage(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	q := r.URL.Query()
	h.render(w, r, &sess, http.StatusOK, "try", "Try "+app.Name,
		tryData{SDKAppID: id, AppName: app.Name, User: q.Get("user"), Peer: q.Get("peer")}, "")
}

// trySession imports the form's user into the app unless it exists and
// answers {"sdkappid","user","usersig"} (a UserSig of the default validity)
// as JSON; errors are {"error"} with the status the pages use.
func (h *handler) trySession(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	fail := func(err error) {
		status, msg := h.status(r, err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		fail(err)
		return
	}
	if app.Status == store.StatusSuspended {
		fail(errs.Kind(errs.ErrConflict, commerce.SuspendedMessage(app, "its users cannot sign in")))
		return
	}
	user := r.PostForm.Get("user")
	have, err := h.cfg.Accounts.CheckAccounts(r.Context(), app, []string{user})
	if err != nil {
		fail(err)
		return
	}
	if !have[user] {
		if err := h.cfg.Accounts.ImportAccounts(r.Context(), app, []store.User{{UserID: user}}); err != nil {
			fail(err)
			return
		}
		h.log.Info("web: test user imported", "sdkappid", id, "user", user)
	}
	sig, _, err := h.cfg.Tenants.UserSigAs(r.Context(), sess.Actor, id, user, tenant.DefaultUserSigExpire)
	if err != nil {
		fail(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sdkappid": id, "user": user, "usersig": sig})
}
