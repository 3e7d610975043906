package console

// The commercial routes of the console: price preview, purchase, upgrade,
// renewal, auto-renewal, refunds, the billing center, notifications, usage,
// callback settings, and the operator-only top-up, voucher and suspension.
// Every rule and every ownership check is in the domain (package commerce's
// ...As calls and tenant.Service.AppAs); these handlers check the shape of a
// request, call the domain and write its answer.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/jsonapi"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/period"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/views"
)

// The JSON forms of vouchers, orders and bills are those of package views,
// shared with the operator API.
type (
	Voucher  = views.Voucher
	Order    = views.Order
	Bill     = views.Bill
	BillLine = views.BillLine
)

// CallbackConfigs validates and stores an app's callback settings (package
// callback/sender's Configs does; the same the operator API uses).
type CallbackConfigs interface {
	Set(ctx context.Context, app store.App, url, token string, commands []string) (store.CallbackConfig, error)
	Update(ctx context.Context, app store.App, ch callback.ConfigChange) (store.CallbackConfig, error)
	Get(ctx context.Context, app store.App) (store.CallbackConfig, error)
}

func (h *handler) registerCommerce() {
	c := func(fn func(http.ResponseWriter, *http.Request, auth.Session)) http.HandlerFunc {
		return h.session(func(w http.ResponseWriter, r *http.Request, s auth.Session) {
			if h.cfg.Commerce == nil {
				writeError(w, http.StatusServiceUnavailable, "the commercial layer (balances, orders, bills) is not enabled on this server")
				return
			}
			fn(w, r, s)
		})
	}
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/plan/preview", c(h.previewPlan))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/plan", c(h.buyPlan))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/upgrade", c(h.upgrade))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/upgrade/preview", c(h.previewUpgrade))
	h.mux.HandleFunc("POST "+Prefix+"/renewals", c(h.renew))
	h.mux.HandleFunc("POST "+Prefix+"/renewals/preview", c(h.previewRenew))
	h.mux.HandleFunc("GET "+Prefix+"/renewals", c(h.expiring))
	h.mux.HandleFunc("PUT "+Prefix+"/apps/{sdkappid}/auto-renew", c(h.autoRenew))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/refund", c(h.refundPlan))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/addons", c(h.buyAddon))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/addons/{addon}/refund", c(h.refundAddon))
	h.mux.HandleFunc("GET "+Prefix+"/balance", c(h.balance))
	h.mux.HandleFunc("GET "+Prefix+"/topups", c(h.topUps))
	h.mux.HandleFunc("GET "+Prefix+"/orders", c(h.orders))
	h.mux.HandleFunc("GET "+Prefix+"/orders/{id}", c(h.order))
	h.mux.HandleFunc("GET "+Prefix+"/refunds", c(h.refunds))
	h.mux.HandleFunc("GET "+Prefix+"/bills", c(h.bills))
	h.mux.HandleFunc("GET "+Prefix+"/bills/{id}", c(h.bill))
	h.mux.HandleFunc("GET "+Prefix+"/vouchers", c(h.vouchers))
	h.mux.HandleFunc("GET "+Prefix+"/notifications", c(h.notifications))
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/usage", h.session(h.usage))
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/callback", h.session(h.getCallback))
	h.mux.HandleFunc("PUT "+Prefix+"/apps/{sdkappid}/callback", h.session(h.putCallback))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/topup", c(h.topUp))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/suspend", c(h.suspend))
	h.mux.HandleFunc("POST "+Prefix+"/vouchers", c(h.issueVoucher))
}

// Balance is an account's balance: cash paid in and credit granted by the
// operator; cash may be below zero when a bill exceeded the balance.
type Balance struct {
	Account string      `json:"account"`
	Cash    money.Cents `json:"cash"`
	Credit  money.Cents `json:"credit"`
	Total   money.Cents `json:"total"`
}

// Preview is a priced order that was not placed.
type Preview struct {
	SDKAppID      int64       `json:"sdkappid"`
	Edition       string      `json:"edition"`
	Months        int         `json:"months"`
	AutoRenew     bool        `json:"auto_renew"`
	ListPrice     money.Cents `json:"list_price"`
	Voucher       money.Cents `json:"voucher"`
	VoucherID     string      `json:"voucher_id"`
	Due           money.Cents `json:"due"` // from the balance
	Cash          money.Cents `json:"cash"`
	Credit        money.Cents `json:"credit"`
	CarriedCash   money.Cents `json:"carried_cash"`   // an upgrade: Standard value carried over
	CarriedCredit money.Cents `json:"carried_credit"` // (already deducted from list_price)
	EffectiveFrom string      `json:"effective_from"`
	EffectiveTo   string      `json:"effective_to"`
	Balance       Balance     `json:"balance"`
	Sufficient    bool        `json:"sufficient"`
	Note          string      `json:"note"` // why the balance does not suffice
}

// Refund is a refund: its record, the amounts returned and the parts of the
// formula (product spec 5.5): effective − used + not_effective = amount.
type Refund struct {
	Refund       Order       `json:"refund"`
	Amount       money.Cents `json:"amount"`
	Cash         money.Cents `json:"cash"`
	Credit       money.Cents `json:"credit"`
	Effective    money.Cents `json:"effective"`
	NotEffective money.Cents `json:"not_effective"`
	Used         money.Cents `json:"used"`
	App          AppSummary  `json:"app"`
}

// TopUp is one top-up of an account.
type TopUp struct {
	ID     string      `json:"id"`
	Cash   money.Cents `json:"cash"`
	Credit money.Cents `json:"credit"`
	At     string      `json:"at"`
}

// Notification is a reminder or notice sent to an account.
type Notification struct {
	ID        string `json:"id"`
	SDKAppID  int64  `json:"sdkappid"`
	Kind      string `json:"kind"`
	Channel   string `json:"channel"`
	Recipient string `json:"recipient"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	DueAt     string `json:"due_at"`
	Status    string `json:"status"`
	SentAt    string `json:"sent_at"`
}

// Callback is an app's callback settings; the token is never returned.
type Callback = views.Callback

// Usage is an app's usage for charts: this month's MAU against its quota
// (what the overview and the gate's login check compute), the previous
// month's MAU, and the figures of the last UsageDays UTC days.
type Usage struct {
	SDKAppID int64    `json:"sdkappid"`
	MAU      MAU      `json:"mau"`
	Previous MonthMAU `json:"previous_month"`
	// Daily has UsageDays items, oldest first, the last one today (UTC); a
	// day without activity is all zeros.
	Daily []DayUsage `json:"daily,omitempty"`
}

// UsageDays is the number of days of Usage.Daily.
const UsageDays = 30

// DayUsage is an app's figures of one UTC day.
type DayUsage struct {
	Day         string `json:"day"`          // "2006-01-02"
	ActiveUsers int64  `json:"active_users"` // distinct users who logged in or sent
	Logins      int64  `json:"logins"`
	C2CMsgs     int64  `json:"c2c_msgs"`   // one-to-one messages sent
	GroupMsgs   int64  `json:"group_msgs"` // group messages sent
}

// MonthMAU is the distinct users of one UTC month.
type MonthMAU struct {
	Month string `json:"month"`
	Used  int    `json:"used"`
}

type buyRequest struct {
	Edition         string `json:"edition"`
	Months          int    `json:"months"`
	AutoRenew       bool   `json:"auto_renew"`
	Voucher         string `json:"voucher"`
	AcceptAgreement bool   `json:"accept_agreement"`
	RequestID       string `json:"request_id"`
}

type upgradeRequest struct {
	Edition         string `json:"edition"`
	Voucher         string `json:"voucher"`
	AcceptAgreement bool   `json:"accept_agreement"`
	RequestID       string `json:"request_id"`
}

type renewRequest struct {
	SDKAppIDs       []int64 `json:"sdkappids"`
	Months          int     `json:"months"`
	Voucher         string  `json:"voucher"`
	AcceptAgreement bool    `json:"accept_agreement"`
	RequestID       string  `json:"request_id"`
}

type addonRequest struct {
	Addon           string `json:"addon"`
	Quantity        int    `json:"quantity"`
	Months          int    `json:"months"`
	Voucher         string `json:"voucher"`
	AcceptAgreement bool   `json:"accept_agreement"`
	RequestID       string `json:"request_id"`
}

type refundRequest struct {
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

type autoRenewRequest struct {
	On *bool `json:"on"`
}

type putCallbackRequest struct {
	URL      *string   `json:"url"`
	Token    *string   `json:"token"`
	Commands *[]string `json:"commands"`
}

// agreementMessage is the answer to an order without the agreement checkbox.
const agreementMessage = `orders require accepting the service agreement: send "accept_agreement": true`

func (h *handler) previewPlan(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req buyRequest // the order's body: accept_agreement and request_id are not needed, and allowed
	if !decode(w, r, &req, false) {
		return
	}
	p, err := h.cfg.Commerce.PreviewBuyAs(r.Context(), sess.Actor, commerce.BuyRequest{SDKAppID: id, Edition: req.Edition,
		Months: req.Months, AutoRenew: req.AutoRenew, VoucherID: req.Voucher, AgreementAccepted: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, previewJSON(id, p))
}

func previewJSON(id int64, p commerce.Preview) Preview {
	o := p.Order
	return Preview{SDKAppID: id, Edition: o.Product, Months: o.Months, AutoRenew: o.AutoRenew,
		ListPrice: money.Cents(o.ListCents), Voucher: money.Cents(o.VoucherCents), VoucherID: o.VoucherID, Due: p.Due,
		Cash: money.Cents(o.CashCents), Credit: money.Cents(o.CreditCents),
		CarriedCash: money.Cents(o.CarriedCashCents), CarriedCredit: money.Cents(o.CarriedCreditCents),
		EffectiveFrom: views.Time(o.EffectiveFrom), EffectiveTo: views.Time(o.EffectiveTo),
		Balance: balanceJSON(p.Balance), Sufficient: p.Sufficient, Note: p.BalanceNote}
}

func (h *handler) previewUpgrade(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req upgradeRequest // the order's body, as for the plan's preview
	if !decode(w, r, &req, false) {
		return
	}
	p, err := h.cfg.Commerce.PreviewUpgradeAs(r.Context(), sess.Actor, commerce.UpgradeRequest{SDKAppID: id, Edition: req.Edition, VoucherID: req.Voucher})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, previewJSON(id, p))
}

func (h *handler) buyPlan(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req buyRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !req.AcceptAgreement {
		writeError(w, http.StatusBadRequest, agreementMessage)
		return
	}
	o, err := h.cfg.Commerce.BuyAs(r.Context(), sess.Actor, commerce.BuyRequest{SDKAppID: id, Edition: req.Edition,
		Months: req.Months, AutoRenew: req.AutoRenew, VoucherID: req.Voucher, AgreementAccepted: true, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: plan bought", "sdkappid", id, "order", o.ID, "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, views.OrderOf(o))
}

func (h *handler) upgrade(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req upgradeRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !req.AcceptAgreement {
		writeError(w, http.StatusBadRequest, agreementMessage)
		return
	}
	o, err := h.cfg.Commerce.UpgradeAs(r.Context(), sess.Actor, commerce.UpgradeRequest{SDKAppID: id, Edition: req.Edition,
		VoucherID: req.Voucher, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: plan upgraded", "sdkappid", id, "order", o.ID, "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, views.OrderOf(o))
}

func (h *handler) renew(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req renewRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !req.AcceptAgreement {
		writeError(w, http.StatusBadRequest, agreementMessage)
		return
	}
	orders, err := h.cfg.Commerce.RenewAs(r.Context(), sess.Actor, commerce.RenewRequest{SDKAppIDs: req.SDKAppIDs,
		Months: req.Months, VoucherID: req.Voucher, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: apps renewed", "apps", len(orders), "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, orderList(orders))
}

// RenewPreview is a renewal priced without being placed.
type RenewPreview struct {
	Orders     []Order     `json:"orders"`
	Due        money.Cents `json:"due"`
	Balance    Balance     `json:"balance"`
	Sufficient bool        `json:"sufficient"`
	Note       string      `json:"note"`
}

func (h *handler) previewRenew(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req renewRequest // the order's body, as for the plan's preview
	if !decode(w, r, &req, false) {
		return
	}
	p, err := h.cfg.Commerce.PreviewRenewAs(r.Context(), sess.Actor, commerce.RenewRequest{SDKAppIDs: req.SDKAppIDs,
		Months: req.Months, VoucherID: req.Voucher})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := RenewPreview{Orders: make([]Order, 0, len(p.Orders)), Due: p.Due, Balance: balanceJSON(p.Balance),
		Sufficient: p.Sufficient, Note: p.BalanceNote}
	for _, o := range p.Orders {
		out.Orders = append(out.Orders, views.OrderOf(o))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) buyAddon(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req addonRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !req.AcceptAgreement {
		writeError(w, http.StatusBadRequest, agreementMessage)
		return
	}
	if req.Addon == "" {
		writeError(w, http.StatusBadRequest, `"addon" is required: an add-on id of the catalog`)
		return
	}
	o, err := h.cfg.Commerce.BuyAddonAs(r.Context(), sess.Actor, commerce.AddonRequest{SDKAppID: id, Addon: req.Addon,
		Quantity: req.Quantity, Months: req.Months, VoucherID: req.Voucher, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: add-on bought", "sdkappid", id, "order", o.ID, "addon", req.Addon, "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, views.OrderOf(o))
}

func (h *handler) autoRenew(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req autoRenewRequest
	if !decode(w, r, &req, false) {
		return
	}
	if req.On == nil {
		writeError(w, http.StatusBadRequest, `"on" is required: true or false`)
		return
	}
	app, err := h.cfg.Commerce.SetAutoRenewAs(r.Context(), sess.Actor, id, *req.On)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		AppSummary
		AutoRenew bool `json:"auto_renew"`
	}{summary(app), app.AutoRenew})
}

func (h *handler) refundPlan(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.refund(w, r, sess, "")
}

func (h *handler) refundAddon(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.refund(w, r, sess, r.PathValue("addon"))
}

func (h *handler) refund(w http.ResponseWriter, r *http.Request, sess auth.Session, addon string) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req refundRequest
	if !decode(w, r, &req, true) {
		return
	}
	ref, err := h.cfg.Commerce.RefundAs(r.Context(), sess.Actor, commerce.RefundRequest{SDKAppID: id, Addon: addon,
		Reason: req.Reason, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: refund", "sdkappid", id, "addon", addon, "order", ref.Order.ID, "amount", ref.Amount.String(), "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, Refund{Refund: views.OrderOf(ref.Order), Amount: ref.Amount, Cash: ref.Cash, Credit: ref.Credit,
		Effective: ref.Effective, NotEffective: ref.NotEffective, Used: ref.Used, App: summary(ref.App)})
}

// timeParam reads an optional RFC 3339 time or date (YYYY-MM-DD: its 00:00
// UTC) of the query.
func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: %s must be a date YYYY-MM-DD or an RFC 3339 time, not %.40q", errs.ErrInvalid, name, s)
}

func (h *handler) expiring(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	from, err := timeParam(r, "from")
	if err == nil {
		var to time.Time
		if to, err = timeParam(r, "to"); err == nil {
			var apps []store.App
			if apps, err = h.cfg.Commerce.ExpiringAppsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"), from, to); err == nil {
				out := struct {
					Apps []AppSummary `json:"apps"`
				}{Apps: make([]AppSummary, 0, len(apps))}
				for _, a := range apps {
					out.Apps = append(out.Apps, summary(a))
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
	}
	h.fail(w, r, err)
}

func (h *handler) balance(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	acc, err := h.cfg.Commerce.AccountAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, balanceJSON(acc))
}

func (h *handler) topUps(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	es, err := h.cfg.Commerce.TopUpsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		TopUps []TopUp `json:"topups"`
	}{TopUps: make([]TopUp, 0, len(es))}
	for _, e := range es {
		out.TopUps = append(out.TopUps, TopUp{ID: e.ID, Cash: money.Cents(e.CashCents), Credit: money.Cents(e.CreditCents), At: views.Time(e.At)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) orders(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	os, err := h.cfg.Commerce.OrdersAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, orderList(os))
}

func (h *handler) order(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	o, err := h.cfg.Commerce.OrderAs(r.Context(), sess.Actor, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, views.OrderOf(o))
}

func (h *handler) refunds(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	os, err := h.cfg.Commerce.RefundsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, orderList(os))
}

func (h *handler) bills(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	bs, err := h.cfg.Commerce.BillsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Bills []Bill `json:"bills"`
	}{Bills: make([]Bill, 0, len(bs))}
	for _, b := range bs {
		out.Bills = append(out.Bills, views.BillOf(b))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) bill(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	b, err := h.cfg.Commerce.BillAs(r.Context(), sess.Actor, r.URL.Query().Get("account"), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, views.BillOf(b))
}

func (h *handler) vouchers(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	vs, err := h.cfg.Commerce.VouchersAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Vouchers []Voucher `json:"vouchers"`
	}{Vouchers: make([]Voucher, 0, len(vs))}
	for _, v := range vs {
		out.Vouchers = append(out.Vouchers, views.VoucherOf(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) notifications(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	ns, err := h.cfg.Commerce.NotificationsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Notifications []Notification `json:"notifications"`
	}{Notifications: make([]Notification, 0, len(ns))}
	for _, n := range ns {
		out.Notifications = append(out.Notifications, Notification{ID: n.ID, SDKAppID: n.SDKAppID, Kind: n.Kind,
			Channel: n.Channel, Recipient: n.Recipient, Subject: n.Subject, Body: n.Body, DueAt: views.Time(n.DueAt),
			Status: n.Status, SentAt: views.Time(n.SentAt)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) usage(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.cfg.Gate.MonthlyUsage(r.Context(), app)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	prev := period.Month(h.cfg.Clock.Now().UTC().AddDate(0, 0, -h.cfg.Clock.Now().UTC().Day()))
	n, err := h.cfg.Gate.MonthlyActiveUsers(r.Context(), app.SDKAppID, prev)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := Usage{SDKAppID: id, MAU: MAU{Month: u.Month, Used: u.Used, Free: u.Free, Cap: u.Cap},
		Previous: MonthMAU{Month: prev, Used: n}}
	if h.cfg.Daily != nil {
		days, err := h.cfg.Daily.LastDays(r.Context(), app.SDKAppID, UsageDays)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, d := range days {
			out.Daily = append(out.Daily, DayUsage{Day: d.Day, ActiveUsers: d.ActiveUsers, Logins: d.Logins,
				C2CMsgs: d.C2CMsgs, GroupMsgs: d.GroupMsgs})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// callbackApp resolves the app of a callback route through tenant.AppAs (a
// foreign app is 404); on failure it has answered.
func (h *handler) callbackApp(w http.ResponseWriter, r *http.Request, sess auth.Session) (store.App, bool) {
	if h.cfg.Callbacks == nil {
		writeError(w, http.StatusServiceUnavailable, "app callbacks are not served by this server")
		return store.App{}, false
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return store.App{}, false
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, err)
		return store.App{}, false
	}
	return app, true
}

func (h *handler) getCallback(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	app, ok := h.callbackApp(w, r, sess)
	if !ok {
		return
	}
	c, err := h.cfg.Callbacks.Get(r.Context(), app)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, views.CallbackOf(app.SDKAppID, c))
}

// putCallback changes an app's callback settings like the operator's PUT:
// url "" turns callbacks off and a url left out keeps the current one; a
// token left out keeps the current one; commands left out keep the current
// ones (every command on an app never configured), ["all"] is every command.
func (h *handler) putCallback(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	app, ok := h.callbackApp(w, r, sess)
	if !ok {
		return
	}
	var req putCallbackRequest
	if !decode(w, r, &req, false) {
		return
	}
	if app.Status == store.StatusSuspended {
		writeError(w, http.StatusConflict, commerce.SuspendedMessage(app, "its callbacks cannot be configured"))
		return
	}
	c, err := h.cfg.Callbacks.Update(r.Context(), app, callback.ConfigChange{URL: req.URL, Token: req.Token, Commands: req.Commands})
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Code == errs.InvalidParameters {
			writeError(w, http.StatusBadRequest, e.Msg)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: app callback changed", "sdkappid", app.SDKAppID, "on", c.URL != "", "commands", len(c.Commands), "token_set", c.Token != "", "operator", sess.Actor.Operator)
	writeJSON(w, http.StatusOK, views.CallbackOf(app.SDKAppID, c))
}

func (h *handler) topUp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req views.TopUpRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !sess.Actor.Operator { // refused by the domain before the amounts are read
		_, err := h.cfg.Commerce.TopUpAs(r.Context(), sess.Actor, commerce.TopUpRequest{})
		h.fail(w, r, err)
		return
	}
	if req.Cash == nil && req.Credit == nil {
		writeError(w, http.StatusBadRequest, `a top-up needs "cash" and/or "credit", e.g. {"cash":"100.00"}`)
		return
	}
	cash, ok := jsonapi.Amount(w, "cash", req.Cash)
	if !ok {
		return
	}
	credit, ok := jsonapi.Amount(w, "credit", req.Credit)
	if !ok {
		return
	}
	acc, err := h.cfg.Commerce.TopUpAs(r.Context(), sess.Actor, commerce.TopUpRequest{AccountID: r.PathValue("id"),
		Cash: cash, Credit: credit, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: account topped up", "account", acc.ID, "cash", cash.String(), "credit", credit.String())
	writeJSON(w, http.StatusOK, balanceJSON(acc))
}

func (h *handler) suspend(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req views.SuspendRequest
	if !decode(w, r, &req, false) {
		return
	}
	acc, err := h.cfg.Commerce.SuspendAccountAs(r.Context(), sess.Actor, r.PathValue("id"), req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Warn("console: account suspended for a violation", "account", acc.ID)
	writeJSON(w, http.StatusOK, accountJSON(acc))
}

func (h *handler) issueVoucher(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	var req views.VoucherRequest
	if !decode(w, r, &req, false) {
		return
	}
	if !sess.Actor.Operator { // refused by the domain before the amount is read
		_, err := h.cfg.Commerce.IssueVoucherAs(r.Context(), sess.Actor, commerce.VoucherRequest{})
		h.fail(w, r, err)
		return
	}
	amount, err := money.Parse(req.Amount)
	if err != nil {
		writeError(w, http.StatusBadRequest, "amount: "+err.Error())
		return
	}
	exp, err := commerce.ParseThrough("expires", req.Expires)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.cfg.Commerce.IssueVoucherAs(r.Context(), sess.Actor, commerce.VoucherRequest{AccountID: req.Account,
		Amount: amount, ExpiresAt: exp, Scope: req.Scope, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: voucher issued", "account", v.AccountID, "voucher", v.ID, "amount", amount.String())
	writeJSON(w, http.StatusCreated, views.VoucherOf(v))
}

func balanceJSON(a store.Account) Balance {
	return Balance{Account: a.ID, Cash: money.Cents(a.CashCents), Credit: money.Cents(a.CreditCents), Total: money.Cents(a.CashCents + a.CreditCents)}
}

func orderList(orders []store.Order) any {
	out := struct {
		Orders []Order `json:"orders"`
	}{Orders: make([]Order, 0, len(orders))}
	for _, o := range orders {
		out.Orders = append(out.Orders, views.OrderOf(o))
	}
	return out
}
