package console

import (
	"net/http"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/views"
)

// Account is the JSON form of a customer account.
type Account struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	Status        string `json:"status"`
	SuspendReason string `json:"suspend_reason"` // "arrears" or "violation"; "" when active
	CreatedAt     string `json:"created_at"`
}

// Me is who is signed in: the account (null for the operator), whether it is
// the operator, the session's CSRF token and when the session ends.
type Me struct {
	Operator  bool     `json:"operator"`
	Account   *Account `json:"account"`
	CSRFToken string   `json:"csrf_token"`
	ExpiresAt string   `json:"expires_at"`
}

type signUpRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type operatorSignInRequest struct {
	Token string `json:"token"`
}

func accountJSON(a store.Account) *Account {
	return &Account{ID: a.ID, Name: a.Name, Email: a.Email, Phone: a.Phone, Status: a.Status,
		SuspendReason: a.SuspendReason, CreatedAt: views.Time(a.CreatedAt)}
}

// jsonOnly refuses a request that opens a session unless it is JSON: a
// cross-site form cannot send application/json, so no other site can sign a
// browser in to an account of its choosing.
func jsonOnly(w http.ResponseWriter, r *http.Request) bool {
	if !isJSON(r) {
		writeError(w, http.StatusUnsupportedMediaType, "send the request as Content-Type: application/json")
		return false
	}
	return true
}

func (h *handler) signUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if !jsonOnly(w, r) || !decode(w, r, &req, false) {
		return
	}
	acc, sess, err := h.cfg.Auth.SignUp(r.Context(), req.Name, req.Email, req.Password, clientIP(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.endOld(r)
	h.log.Info("console: account signed up", "account", acc.ID)
	h.setCookie(w, r, sess)
	writeJSON(w, http.StatusCreated, Me{Account: accountJSON(acc), CSRFToken: sess.CSRF, ExpiresAt: views.Time(sess.ExpiresAt)})
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if !jsonOnly(w, r) || !decode(w, r, &req, false) {
		return
	}
	sess, err := h.cfg.Auth.SignIn(r.Context(), req.Email, req.Password, clientIP(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.signedIn(w, r, sess)
}

func (h *handler) signInOperator(w http.ResponseWriter, r *http.Request) {
	var req operatorSignInRequest
	if !jsonOnly(w, r) || !decode(w, r, &req, false) {
		return
	}
	sess, err := h.cfg.Auth.SignInOperator(r.Context(), req.Token, clientIP(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: operator signed in", "client", clientIP(r))
	h.signedIn(w, r, sess)
}

// signedIn ends the session the browser held before (a new id at every
// sign-in), sets the new one's cookie and answers like GET /me.
func (h *handler) signedIn(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.endOld(r)
	h.setCookie(w, r, sess)
	h.writeMe(w, r, sess)
}

// endOld ends the session of the cookie the request carried, if any.
func (h *handler) endOld(r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.cfg.Auth.SignOut(r.Context(), c.Value); err != nil {
			h.log.Error("console: ending the previous session", "err", err)
		}
	}
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if err := h.cfg.Auth.SignOut(r.Context(), sess.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	clearCookie(w, r)
	writeJSON(w, http.StatusOK, struct {
		SignedOut bool `json:"signed_out"`
	}{true})
}

func (h *handler) me(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.writeMe(w, r, sess)
}

func (h *handler) writeMe(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	me := Me{Operator: sess.Actor.Operator, CSRFToken: sess.CSRF, ExpiresAt: views.Time(sess.ExpiresAt)}
	if !sess.Actor.Operator {
		acc, err := h.cfg.Tenants.AccountAs(r.Context(), sess.Actor, sess.Actor.Account)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		me.Account = accountJSON(acc)
	}
	writeJSON(w, http.StatusOK, me)
}

func (h *handler) getAccount(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	acc, err := h.cfg.Tenants.AccountAs(r.Context(), sess.Actor, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, accountJSON(acc))
}

func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	accs, err := h.cfg.Tenants.AccountsAs(r.Context(), sess.Actor, h.cfg.Accounts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Accounts []*Account `json:"accounts"`
	}{Accounts: make([]*Account, 0, len(accs))}
	for _, a := range accs {
		out.Accounts = append(out.Accounts, accountJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}
