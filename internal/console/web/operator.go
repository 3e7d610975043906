package web

// The operator's pages: every account with its balance and apps (paged); on
// an account's billing page, the top-up, voucher and violation-suspension
// forms; the catalog with the add-ons' promotions; the scheduler's clock.
// Each is the operator's only: a customer's session is answered 403 before
// anything is read or changed, and the domain's ...As calls refuse a customer
// again (commerce.ErrOperatorOnly). The rules are those of the operator API
// (internal/operator): the same domain calls, the same parsing of amounts
// (package money, never floating point), expiries and durations.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// AccountsPerPage is how many accounts the accounts page lists at once; a
// "next page" link follows when there are more.
const AccountsPerPage = 50

// maxFieldBytes bounds an identifier of a query (the accounts page's after)
// and the text fields of the operator's forms other than the reason.
const maxFieldBytes = 128

// operatorOnlyMessage answers a customer who reaches an operator page.
const operatorOnlyMessage = "only the operator may do this: sign in with the operator token"

// operatorRoutes adds the operator's pages to the mux.
func (h *handler) operatorRoutes() {
	h.mux.HandleFunc("GET "+Prefix+"/accounts", h.operatorOnly(h.accounts))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/topup", h.operatorOnly(h.topUp))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/vouchers", h.operatorOnly(h.issueVoucher))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/suspend", h.operatorOnly(h.suspendAccount))
	h.mux.HandleFunc("GET "+Prefix+"/catalog", h.operatorOnly(h.catalogPage))
	h.mux.HandleFunc("POST "+Prefix+"/catalog/{addon}/promotion", h.operatorOnly(h.setPromotion))
	h.mux.HandleFunc("GET "+Prefix+"/clock", h.operatorOnly(h.clockPage))
	h.mux.HandleFunc("POST "+Prefix+"/clock", h.operatorOnly(h.moveClock))
}

// operatorOnly is session for the operator's pages: a customer's session is
// refused with 403 (after the CSRF check of a POST) and nothing changes.
func (h *handler) operatorOnly(fn func(http.ResponseWriter, *http.Request, auth.Session)) http.HandlerFunc {
	return h.session(func(w http.ResponseWriter, r *http.Request, sess auth.Session) {
		if !sess.Actor.Operator {
			h.errorPage(w, r, &sess, http.StatusForbidden, operatorOnlyMessage)
			return
		}
		fn(w, r, sess)
	})
}

// accountRow is an account as the accounts page lists it.
type accountRow struct {
	Account store.Account
	Apps    int
}

type accountsData struct {
	Accounts []accountRow
	Next     string // the query of the next page; "" on the last
}

func (h *handler) accounts(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	after := r.URL.Query().Get("after")
	if len(after) > maxFieldBytes {
		h.errorPage(w, r, &sess, http.StatusBadRequest, fmt.Sprintf("after must be an account ID of at most %d bytes", maxFieldBytes))
		return
	}
	accs, more, err := h.cfg.Commerce.AccountsPageAs(r.Context(), sess.Actor, after, AccountsPerPage)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	var d accountsData
	for _, a := range accs {
		apps, err := h.cfg.Tenants.ListAppsAs(r.Context(), sess.Actor, a.ID)
		if err != nil {
			h.fail(w, r, &sess, err)
			return
		}
		d.Accounts = append(d.Accounts, accountRow{Account: a, Apps: len(apps)})
	}
	if more {
		d.Next = "?after=" + url.QueryEscape(accs[len(accs)-1].ID)
	}
	h.render(w, r, &sess, http.StatusOK, "accounts", "Accounts", d, "")
}

// opForms is what the operator's forms on an account's billing page show:
// the values sent back after a refusal, and the outcome of the last one.
type opForms struct {
	Notice        string
	Cash, Credit  string // top-up
	Amount        string // voucher
	Expires       string
	Scope         string
	Reason        string // suspension
	Scopes        []string
	DefaultExpiry string // a month from now, YYYY-MM-DD
}

// accountID reads the path's account, which must exist (404 otherwise).
func (h *handler) accountID(w http.ResponseWriter, r *http.Request, sess auth.Session) (string, bool) {
	id := r.PathValue("id")
	if _, err := h.cfg.Commerce.AccountAs(r.Context(), sess.Actor, id); err != nil {
		h.fail(w, r, &sess, err)
		return "", false
	}
	return id, true
}

// opError answers a refused operator form on the account's billing page
// with the form kept; a missing account or an internal error is an error page.
func (h *handler) opError(w http.ResponseWriter, r *http.Request, sess auth.Session, acc string, f opForms, err error) {
	status, msg := h.status(r, err)
	if status == http.StatusNotFound || status >= 500 {
		h.errorPage(w, r, &sess, status, msg)
		return
	}
	h.billingView(w, r, sess, status, acc, &f, msg)
}

// amount reads an optional amount field in dollars ("100", "99.95"): exact
// cents (package money), positive. Empty is zero.
func amount(name, s string) (money.Cents, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	c, err := money.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if c <= 0 {
		return 0, fmt.Errorf("%s must be a positive amount of dollars, not %s", name, s)
	}
	return c, nil
}

// topUp adds cash and/or credit to an account (commerce.TopUpAs: a top-up
// that brings an overdue account to zero or more resumes it).
func (h *handler) topUp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	acc, ok := h.accountID(w, r, sess)
	if !ok {
		return
	}
	f := opForms{Cash: r.PostForm.Get("cash"), Credit: r.PostForm.Get("credit")}
	cash, err := amount("cash", f.Cash)
	var credit money.Cents
	if err == nil {
		credit, err = amount("credit", f.Credit)
	}
	if err == nil && cash == 0 && credit == 0 {
		err = errors.New("a top-up needs a cash and/or a credit amount in dollars, e.g. 100.00")
	}
	if err != nil {
		h.billingView(w, r, sess, http.StatusBadRequest, acc, &f, err.Error())
		return
	}
	a, err := h.cfg.Commerce.TopUpAs(r.Context(), sess.Actor, commerce.TopUpRequest{AccountID: acc, Cash: cash, Credit: credit,
		RequestID: r.PostForm.Get("request_id")})
	if err != nil {
		h.opError(w, r, sess, acc, f, err)
		return
	}
	h.log.Info("web: operator top-up", "account", acc, "cash", cash.String(), "credit", credit.String())
	h.billingView(w, r, sess, http.StatusOK, acc, &opForms{Notice: fmt.Sprintf("Topped up cash %s and credit %s: the balance is cash %s, credit %s (account %s).",
		dollars(cash), dollars(credit), dollars(money.Cents(a.CashCents)), dollars(money.Cents(a.CreditCents)), a.Status)}, "")
}

// issueVoucher gives an account a voucher (commerce.IssueVoucherAs).
func (h *handler) issueVoucher(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	acc, ok := h.accountID(w, r, sess)
	if !ok {
		return
	}
	f := opForms{Amount: r.PostForm.Get("amount"), Expires: strings.TrimSpace(r.PostForm.Get("expires")), Scope: r.PostForm.Get("scope")}
	amt, err := amount("amount", f.Amount)
	if err == nil && amt == 0 {
		err = errors.New("a voucher needs an amount in dollars, e.g. 50.00")
	}
	var expires time.Time
	if err == nil {
		if len(f.Expires) > maxFieldBytes || f.Expires == "" {
			err = errors.New("usable through: a date YYYY-MM-DD (the voucher is usable through that UTC day) or an RFC 3339 time")
		} else {
			expires, err = commerce.ParseThrough("usable through", f.Expires)
		}
	}
	if err != nil {
		h.billingView(w, r, sess, http.StatusBadRequest, acc, &f, err.Error())
		return
	}
	v, err := h.cfg.Commerce.IssueVoucherAs(r.Context(), sess.Actor, commerce.VoucherRequest{AccountID: acc, Amount: amt, ExpiresAt: expires,
		Scope: f.Scope, RequestID: r.PostForm.Get("request_id")})
	if err != nil {
		h.opError(w, r, sess, acc, f, err)
		return
	}
	h.log.Info("web: operator issued a voucher", "account", acc, "voucher", v.ID, "amount", amt.String())
	h.billingView(w, r, sess, http.StatusOK, acc, &opForms{Notice: fmt.Sprintf("Voucher %s of $%s issued, usable before %s.",
		v.ID, money.Cents(v.AmountCents), v.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))}, "")
}

// suspendAccount suspends an account and every app of it for a content
// violation (commerce.SuspendAccountAs, as POST /operator/v1/accounts/{id}/suspend):
// permanent, never lifted by payment. It needs a reason and the box ticked.
func (h *handler) suspendAccount(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	acc, ok := h.accountID(w, r, sess)
	if !ok {
		return
	}
	f := opForms{Reason: r.PostForm.Get("reason")}
	if strings.TrimSpace(f.Reason) == "" {
		h.billingView(w, r, sess, http.StatusBadRequest, acc, &f, "say which violation the suspension is for: the reason is required")
		return
	}
	if r.PostForm.Get("confirm") == "" {
		h.billingView(w, r, sess, http.StatusBadRequest, acc, &f, "tick the box to confirm: a suspension for a violation stops every app of the account and is never lifted")
		return
	}
	if _, err := h.cfg.Commerce.SuspendAccountAs(r.Context(), sess.Actor, acc, f.Reason); err != nil {
		h.opError(w, r, sess, acc, f, err)
		return
	}
	h.log.Warn("web: operator suspended an account for a violation", "account", acc)
	h.billingView(w, r, sess, http.StatusOK, acc, &opForms{Notice: "Account " + acc + " and its apps are suspended for a violation."}, "")
}

// addonRow is an add-on as the catalog page shows it.
type addonRow struct {
	catalog.Addon
	Overage   []string
	FreeUntil time.Time // zero: no promotion
}

type editionRow struct {
	catalog.Edition
	Overage string
}

type catalogData struct {
	Editions []editionRow
	Addons   []addonRow
	Notice   string
	Addon    string // the add-on of a refused form, and its value
	Until    string
}

func (h *handler) catalogPage(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.catalogView(w, r, sess, http.StatusOK, catalogData{}, "")
}

func (h *handler) catalogView(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, d catalogData, errMsg string) {
	promos, err := h.cfg.Commerce.Promotions(r.Context())
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	for _, e := range catalog.Editions() {
		row := editionRow{Edition: e, Overage: "not sold"}
		if e.OverageMAUMicroUSD > 0 {
			row.Overage = "$" + money.Micro(e.OverageMAUMicroUSD).String() + " per user per month"
		}
		d.Editions = append(d.Editions, row)
	}
	for _, a := range catalog.Addons() {
		row := addonRow{Addon: a, FreeUntil: promos[a.ID]}
		for _, o := range a.Overage {
			row.Overage = append(row.Overage, fmt.Sprintf("%s: %d free per %s, then $%s per %d", o.Metric, o.Free, o.Per, money.Micro(o.BlockPrice), o.BlockSize))
		}
		d.Addons = append(d.Addons, row)
	}
	h.render(w, r, &sess, status, "catalog", "Catalog and promotions", d, errMsg)
}

// setPromotion makes an add-on free to buy until a date (through that UTC day)
// or an RFC 3339 time, or ends its promotion (end=1): commerce.SetPromotionAs,
// as PUT /operator/v1/addons/{addon}/promotion.
func (h *handler) setPromotion(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	addon := r.PathValue("addon")
	if _, err := catalog.LookupAddon(addon); err != nil {
		h.errorPage(w, r, &sess, http.StatusNotFound, fmt.Sprintf("unknown add-on %q", addon))
		return
	}
	d := catalogData{Addon: addon, Until: strings.TrimSpace(r.PostForm.Get("free_until"))}
	var until time.Time
	if r.PostForm.Get("end") == "" {
		var err error
		if d.Until == "" || len(d.Until) > maxFieldBytes {
			err = errors.New("free until: a date YYYY-MM-DD (free through that UTC day) or an RFC 3339 time")
		} else {
			until, err = commerce.ParseThrough("free until", d.Until)
		}
		if err != nil {
			h.catalogView(w, r, sess, http.StatusBadRequest, d, err.Error())
			return
		}
	}
	if _, err := h.cfg.Commerce.SetPromotionAs(r.Context(), sess.Actor, addon, until); err != nil {
		status, msg := h.status(r, err)
		if status >= 500 {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.catalogView(w, r, sess, status, d, msg)
		return
	}
	h.log.Info("web: operator set an add-on promotion", "addon", addon, "free_until", until)
	notice := "The promotion of " + addon + " ended."
	if !until.IsZero() {
		notice = fmt.Sprintf("%s is free to buy until %s.", addon, until.UTC().Format("2006-01-02 15:04 UTC"))
	}
	h.catalogView(w, r, sess, http.StatusOK, catalogData{Notice: notice}, "")
}

type clockData struct {
	Now       time.Time
	Fake      bool
	Scheduler bool // the server runs the lifecycle scheduler
	Moved     *lifecycle.Report
	Advance   string
	Set       string
}

func (h *handler) clockView(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, d clockData, errMsg string) {
	if s := h.cfg.Scheduler; s != nil {
		d.Scheduler, d.Now, d.Fake = true, s.Now(), s.Fake()
	} else {
		d.Now = h.cfg.Clock.Now()
	}
	h.render(w, r, &sess, status, "clock", "Scheduler clock", d, errMsg)
}

func (h *handler) clockPage(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.clockView(w, r, sess, http.StatusOK, clockData{}, "")
}

// datetimeLocal is the value of an <input type="datetime-local">, read as UTC.
const datetimeLocal = "2006-01-02T15:04"

// moveClock advances the scheduler's manual clock by a duration ("24h", "30d",
// "1d12h": lifecycle.ParseAdvance) or sets it to a later time, running the jobs
// due on the way (lifecycle.Scheduler's Advance and Set, as POST
// /operator/v1/clock). On the real clock it is refused (409) and nothing moves.
func (h *handler) moveClock(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	s := h.cfg.Scheduler
	d := clockData{Advance: strings.TrimSpace(r.PostForm.Get("advance")), Set: strings.TrimSpace(r.PostForm.Get("set"))}
	if s == nil {
		h.clockView(w, r, sess, http.StatusServiceUnavailable, d, "the scheduler is not enabled on this server: the clock cannot be moved")
		return
	}
	if !s.Fake() {
		h.clockView(w, r, sess, http.StatusConflict, d, lifecycle.ErrRealClock.Error())
		return
	}
	bad := func(msg string) { h.clockView(w, r, sess, http.StatusBadRequest, d, msg) }
	if (d.Advance == "") == (d.Set == "") {
		bad("give either how far to advance the clock (24h, 30d, 1d12h) or the time to set it to, not both")
		return
	}
	if len(d.Advance) > maxFieldBytes || len(d.Set) > maxFieldBytes {
		bad(fmt.Sprintf("the field is longer than %d bytes", maxFieldBytes))
		return
	}
	// The move runs to its end even if the browser gives up waiting: a clock
	// left half-way would be a surprise.
	ctx := context.WithoutCancel(r.Context())
	var (
		rep lifecycle.Report
		err error
	)
	if d.Set != "" {
		t, perr := time.Parse(time.RFC3339, d.Set)
		if perr != nil {
			t, perr = time.Parse(datetimeLocal, d.Set)
		}
		if perr != nil {
			bad(fmt.Sprintf("set the clock to a time YYYY-MM-DDTHH:MM (UTC) or an RFC 3339 time such as 2027-01-31T00:00:00Z, not %q", d.Set))
			return
		}
		rep, err = s.Set(ctx, t.UTC())
	} else {
		dur, perr := lifecycle.ParseAdvance(d.Advance)
		if perr != nil {
			bad(perr.Error())
			return
		}
		rep, err = s.Advance(ctx, dur)
	}
	if err != nil {
		status, msg := h.status(r, err)
		h.clockView(w, r, sess, status, d, msg)
		return
	}
	if rep.To.IsZero() {
		rep.To = s.Now()
	}
	h.log.Info("web: operator moved the clock", "from", rep.From, "to", rep.To, "jobs", rep.Jobs)
	h.clockView(w, r, sess, http.StatusOK, clockData{Moved: &rep}, "")
}
