package web

// The renewal management page: the account's paid apps with their expiry,
// filtered by an expiry range; a batch renewal of the ticked apps in one
// order (commerce's PreviewRenewAs / RenewAs with several SDKAppIDs, all or
// nothing) with a live price preview; and each app's automatic renewal.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// The quick expiry ranges of the renewal page (the query's range).
const (
	rangeWeek    = "7d"      // expiring after now, until the end of the UTC day 7 days from now
	rangeMonth   = "30d"     // expiring after now, until the end of the UTC day 30 days from now
	rangeExpired = "expired" // expired at or before now
)

// renewalRoutes adds the renewal page and its forms.
func (h *handler) renewalRoutes() {
	h.mux.HandleFunc("GET "+Prefix+"/renewals", h.session(h.renewals))
	h.mux.HandleFunc("POST "+Prefix+"/renewals/preview", h.session(h.renewalsPreview))
	h.mux.HandleFunc("POST "+Prefix+"/renewals", h.session(h.renewBatch))
	h.mux.HandleFunc("POST "+Prefix+"/renewals/auto-renew", h.session(h.renewalsAutoRenew))
}

// renewFilter is the page's expiry range: a quick Range, or From and To
// (UTC days, both included, either may be empty).
type renewFilter struct {
	Account  string // the operator's named account
	Range    string
	From, To string
}

// query is the filter as a URL query (for links and hidden fields).
func (f renewFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"account": f.Account, "range": f.Range, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Link is the page with the quick range rng (and the same account).
func (f renewFilter) Link(rng string) string {
	if q := (renewFilter{Account: f.Account, Range: rng}).query().Encode(); q != "" {
		return Prefix + "/renewals?" + q
	}
	return Prefix + "/renewals"
}

// Current reports whether rng is the quick range shown.
func (f renewFilter) Current(rng string) bool {
	return f.Range == rng && (rng != "" || f.From == "" && f.To == "")
}

// Hidden is the filter as a form's hidden fields (the page shown after a POST).
func (f renewFilter) Hidden() map[string]string {
	out := map[string]string{}
	for k, v := range f.query() {
		out[k] = v[0]
	}
	return out
}

// readFilter reads the filter from v (the query of a GET, the form of a POST).
func readFilter(v url.Values) renewFilter {
	return renewFilter{Account: strings.TrimSpace(v.Get("account")), Range: v.Get("range"),
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to"))}
}

// bounds turns f into the expiry range [from, to) at now; zero is open.
func (f renewFilter) bounds(now time.Time) (from, to time.Time, err error) {
	switch f.Range {
	case "":
	case rangeWeek:
		return now.Add(time.Nanosecond), now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 8), nil
	case rangeMonth:
		return now.Add(time.Nanosecond), now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 31), nil
	case rangeExpired: // a plan that ended at now has expired
		return time.Time{}, now.Add(time.Nanosecond), nil
	default:
		return time.Time{}, time.Time{}, fmt.Errorf("range must be %s, %s or %s (or empty with from and to), not %.40q", rangeWeek, rangeMonth, rangeExpired, f.Range)
	}
	day := func(name, s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s must be a date YYYY-MM-DD, not %.40q", name, s)
		}
		return d, nil
	}
	if from, err = day("from", f.From); err != nil {
		return
	}
	if to, err = day("to", f.To); err != nil {
		return
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the last day is included
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return time.Time{}, time.Time{}, fmt.Errorf("from %s is after to %s: the range is empty", f.From, f.To)
	}
	return from, to, nil
}

// renewForm is the batch form: the ticked apps, the length, the voucher and
// the agreement.
type renewForm struct {
	IDs     []int64
	Months  int
	Voucher string
	Agree   bool
}

func (f renewForm) Ticked(id int64) bool { return slices.Contains(f.IDs, id) }

// readRenewForm reads the batch form; the error says what is wrong with it.
func readRenewForm(r *http.Request) (renewForm, error) {
	f := renewForm{Voucher: strings.TrimSpace(r.PostForm.Get("voucher")), Agree: r.PostForm.Get("agree") != ""}
	ids := r.PostForm["app"]
	if len(ids) > tenant.MaxAppsPerAccount {
		return f, fmt.Errorf("a batch renews at most %d apps: %d are ticked", tenant.MaxAppsPerAccount, len(ids))
	}
	for _, s := range ids {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return f, fmt.Errorf("app %.40q is not an SDKAppID", s)
		}
		f.IDs = append(f.IDs, id)
	}
	m, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("months")))
	if err != nil || m < 1 || m > 24 {
		return f, errors.New("months must be a whole number from 1 to 24")
	}
	f.Months = m
	return f, nil
}

// renewLine is one app of a batch as the preview or the outcome shows it.
type renewLine struct {
	SDKAppID      int64
	Name          string
	List, Voucher int64
	From, To      time.Time
}

// batchPrice is a batch preview as the page shows it.
type batchPrice struct {
	price
	Lines []renewLine
}

type renewalsData struct {
	Filter     renewFilter
	Query      string // the filter as a query string, for links
	Apps       []store.App
	Form       renewForm
	MonthsUp   []int
	Vouchers   []store.Voucher
	Price      *batchPrice
	PrevErr    string
	Renewed    []renewLine // the batch just renewed
	Notice     string
	NoAccount  bool // the operator has not named the account
	ListFailed bool // the filter is wrong: no list
}

// renewalsView renders the page for filter f with form, status and errMsg.
func (h *handler) renewalsView(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, d renewalsData, errMsg string) {
	ctx := r.Context()
	if d.Form.Months == 0 {
		d.Form.Months = 1
	}
	for m := 1; m <= 24; m++ {
		d.MonthsUp = append(d.MonthsUp, m)
	}
	q := d.Filter.query()
	d.Query = q.Encode()
	if sess.Actor.Operator && d.Filter.Account == "" {
		d.NoAccount = true
		if errMsg == "" {
			errMsg = "name the account whose renewals to show"
		}
		h.render(w, r, &sess, status, "renewals", "Renewals", d, errMsg)
		return
	}
	from, to, err := d.Filter.bounds(h.cfg.Clock.Now())
	if err != nil {
		d.ListFailed = true
		h.render(w, r, &sess, http.StatusBadRequest, "renewals", "Renewals", d, err.Error())
		return
	}
	apps, err := h.cfg.Commerce.ExpiringAppsAs(ctx, sess.Actor, d.Filter.Account, from, to)
	if err != nil {
		st, msg := h.status(r, err)
		if st >= 500 {
			h.fail(w, r, &sess, err)
			return
		}
		if errMsg != "" {
			msg = errMsg + "; " + msg
		}
		d.ListFailed = true
		h.render(w, r, &sess, st, "renewals", "Renewals", d, msg)
		return
	}
	d.Apps = slices.DeleteFunc(apps, func(a store.App) bool { return a.Edition == catalog.Trial })
	if d.Vouchers, err = h.planVouchers(ctx, sess, d.Filter.Account); err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	h.render(w, r, &sess, status, "renewals", "Renewals", d, errMsg)
}

func (h *handler) renewals(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.renewalsView(w, r, sess, http.StatusOK, renewalsData{Filter: readFilter(r.URL.Query())}, "")
}

// batchPreview prices f; a refusal of the rules is shown in its place.
func (h *handler) batchPreview(r *http.Request, sess auth.Session, d *renewalsData) {
	if len(d.Form.IDs) == 0 {
		return
	}
	p, err := h.cfg.Commerce.PreviewRenewAs(r.Context(), sess.Actor, commerce.RenewRequest{SDKAppIDs: d.Form.IDs, Months: d.Form.Months, VoucherID: d.Form.Voucher})
	if err != nil {
		_, d.PrevErr = h.status(r, err)
		return
	}
	out := &batchPrice{price: price{Due: p.Due, Balance: p.Balance, Sufficient: p.Sufficient, Note: p.BalanceNote}}
	for _, o := range p.Orders {
		out.List += o.ListCents
		out.Voucher += o.VoucherCents
		out.Cash += o.CashCents
		out.Credit += o.CreditCents
		out.Lines = append(out.Lines, renewLine{SDKAppID: o.SDKAppID, List: o.ListCents, Voucher: o.VoucherCents, From: o.EffectiveFrom, To: o.EffectiveTo})
	}
	d.Price = out
}

// renewalsPreview answers a preview: the price fragment for htmx, the whole
// page for a plain form.
func (h *handler) renewalsPreview(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	d := renewalsData{Filter: readFilter(r.PostForm)}
	f, err := readRenewForm(r)
	d.Form = f
	if err != nil {
		d.PrevErr = err.Error()
	} else {
		h.batchPreview(r, sess, &d)
	}
	if r.Header.Get("HX-Request") != "true" {
		status := http.StatusOK
		if err != nil {
			status = http.StatusBadRequest
		}
		h.renewalsView(w, r, sess, status, d, d.PrevErr)
		return
	}
	var b strings.Builder
	if err := h.pages["renewals"].ExecuteTemplate(&b, "batchpreview", d); err != nil {
		h.log.Error("web: rendering the renewal preview", "err", err)
		http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// renewBatch renews the ticked apps together (one order each), all or nothing.
func (h *handler) renewBatch(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	d := renewalsData{Filter: readFilter(r.PostForm)}
	f, err := readRenewForm(r)
	d.Form = f
	if _, _, ferr := d.Filter.bounds(h.cfg.Clock.Now()); ferr != nil {
		err = ferr // the page after the order could not be shown: nothing is done
	}
	if err == nil && len(f.IDs) == 0 {
		err = errors.New("tick the apps to renew")
	}
	if err == nil && !f.Agree {
		err = errors.New(agreementMessage)
	}
	if err != nil {
		h.renewalsView(w, r, sess, http.StatusBadRequest, d, err.Error())
		return
	}
	orders, err := h.cfg.Commerce.RenewAs(r.Context(), sess.Actor, commerce.RenewRequest{SDKAppIDs: f.IDs, Months: f.Months,
		VoucherID: f.Voucher, RequestID: r.PostForm.Get("request_id")})
	if err != nil {
		status, msg := h.status(r, err)
		if status >= 500 {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.batchPreview(r, sess, &d)
		h.renewalsView(w, r, sess, status, d, msg)
		return
	}
	for _, o := range orders {
		d.Renewed = append(d.Renewed, renewLine{SDKAppID: o.SDKAppID, List: o.ListCents, Voucher: o.VoucherCents, From: o.EffectiveFrom, To: o.EffectiveTo})
	}
	h.log.Info("web: apps renewed", "apps", len(orders), "months", f.Months, "operator", sess.Actor.Operator)
	d.Form = renewForm{Months: f.Months}
	h.renewalsView(w, r, sess, http.StatusOK, d, "")
}

// renewalsAutoRenew turns one app's automatic renewal on or off and shows
// the page again.
func (h *handler) renewalsAutoRenew(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	d := renewalsData{Filter: readFilter(r.PostForm)}
	if _, _, err := d.Filter.bounds(h.cfg.Clock.Now()); err != nil {
		h.renewalsView(w, r, sess, http.StatusBadRequest, d, "")
		return
	}
	s := strings.TrimSpace(r.PostForm.Get("sdkappid"))
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		h.renewalsView(w, r, sess, http.StatusBadRequest, d, fmt.Sprintf("app %.40q is not an SDKAppID", s))
		return
	}
	app, err := h.cfg.Commerce.SetAutoRenewAs(r.Context(), sess.Actor, id, r.PostForm.Get("on") != "")
	if err != nil {
		status, msg := h.status(r, err)
		if status >= 500 {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.renewalsView(w, r, sess, status, d, msg)
		return
	}
	state := "off"
	if app.AutoRenew {
		state = "on"
	}
	d.Notice = fmt.Sprintf("Automatic renewal of %s (%d) is %s.", app.Name, app.SDKAppID, state)
	h.renewalsView(w, r, sess, http.StatusOK, d, "")
}
