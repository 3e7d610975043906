package web

// The plan pages: buy Standard or Premium (a Free Trial or an expired app),
// upgrade Standard to Premium, renew a paid plan. Each has a live price
// preview (commerce's Preview...As calls: the same code as the order, rolled
// back) and places the order with commerce's ...As calls.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
)

// The plan pages' modes.
const (
	modeBuy     = "buy"
	modeUpgrade = "upgrade"
	modeRenew   = "renew"
)

// agreementMessage refuses an order whose agreement box is not ticked.
const agreementMessage = "orders require accepting the service agreement: tick the box"

// planForm is the fields of a plan form.
type planForm struct {
	Mode      string
	Edition   string // buy
	Months    int    // buy, renew
	AutoRenew bool   // buy
	Voucher   string
	Agree     bool
}

// price is a preview as the page shows it.
type price struct {
	List       int64 // the list price; an upgrade: after the Standard value carried over
	Carried    int64 // an upgrade: the Standard value carried over
	Voucher    int64
	Due        money.Cents
	Cash       int64 // how the balance would pay Due
	Credit     int64
	Balance    store.Account
	From, To   time.Time
	Sufficient bool
	Note       string
}

type planData struct {
	Row      appRow
	Form     planForm
	Title    string
	Price    *price
	PrevErr  string
	MonthsUp []int
	Vouchers []store.Voucher
}

func readPlanForm(r *http.Request, mode string) (planForm, error) {
	f := planForm{Mode: mode, Edition: r.PostForm.Get("edition"), Voucher: strings.TrimSpace(r.PostForm.Get("voucher")),
		AutoRenew: r.PostForm.Get("auto_renew") != "", Agree: r.PostForm.Get("agree") != ""}
	switch mode {
	case modeUpgrade:
		f.Edition = catalog.Premium
	case modeRenew:
		f.Edition = ""
	}
	if mode != modeUpgrade {
		m, err := strconv.Atoi(r.PostForm.Get("months"))
		if err != nil {
			return f, errors.New("months must be a whole number from 1 to 24")
		}
		f.Months = m
	}
	return f, nil
}

func planTitle(mode, name string) string {
	switch mode {
	case modeUpgrade:
		return "Upgrade " + name + " to Premium"
	case modeRenew:
		return "Renew " + name
	}
	return "Buy a plan for " + name
}

// planPrice previews f for app id; the error is the domain's.
func (h *handler) planPrice(r *http.Request, sess auth.Session, id int64, f planForm) (*price, error) {
	ctx := r.Context()
	switch f.Mode {
	case modeUpgrade:
		p, err := h.cfg.Commerce.PreviewUpgradeAs(ctx, sess.Actor, commerce.UpgradeRequest{SDKAppID: id, Edition: catalog.Premium, VoucherID: f.Voucher})
		if err != nil {
			return nil, err
		}
		return previewPrice(p), nil
	case modeRenew:
		p, err := h.cfg.Commerce.PreviewRenewAs(ctx, sess.Actor, commerce.RenewRequest{SDKAppIDs: []int64{id}, Months: f.Months, VoucherID: f.Voucher})
		if err != nil {
			return nil, err
		}
		out := &price{Due: p.Due, Balance: p.Balance, Sufficient: p.Sufficient, Note: p.BalanceNote}
		for i, o := range p.Orders {
			out.List += o.ListCents
			out.Voucher += o.VoucherCents
			out.Cash += o.CashCents
			out.Credit += o.CreditCents
			if i == 0 {
				out.From = o.EffectiveFrom
			}
			out.To = o.EffectiveTo
		}
		return out, nil
	}
	p, err := h.cfg.Commerce.PreviewBuyAs(ctx, sess.Actor, commerce.BuyRequest{SDKAppID: id, Edition: f.Edition, Months: f.Months,
		AutoRenew: f.AutoRenew, VoucherID: f.Voucher, AgreementAccepted: true})
	if err != nil {
		return nil, err
	}
	return previewPrice(p), nil
}

func previewPrice(p commerce.Preview) *price {
	o := p.Order
	return &price{List: o.ListCents, Carried: o.CarriedCashCents + o.CarriedCreditCents, Voucher: o.VoucherCents, Due: p.Due,
		Cash: o.CashCents, Credit: o.CreditCents, Balance: p.Balance, From: o.EffectiveFrom, To: o.EffectiveTo,
		Sufficient: p.Sufficient, Note: p.BalanceNote}
}

func (h *handler) planView(w http.ResponseWriter, r *http.Request, sess auth.Session, id int64, status int, f planForm, errMsg string) {
	app, row, err := h.appRow(r, sess, id)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	d := planData{Row: row, Form: f, Title: planTitle(f.Mode, app.Name)}
	for m := 1; m <= 24; m++ {
		d.MonthsUp = append(d.MonthsUp, m)
	}
	if d.Vouchers, err = h.planVouchers(r.Context(), sess, app.AccountID); err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	h.fillPrice(r, sess, id, &d)
	h.render(w, r, &sess, status, "buy", d.Title, d, errMsg)
}

// fillPrice previews d.Form; a refusal of the rules is shown in its place.
func (h *handler) fillPrice(r *http.Request, sess auth.Session, id int64, d *planData) {
	p, err := h.planPrice(r, sess, id, d.Form)
	if err != nil {
		_, d.PrevErr = h.status(r, err)
		return
	}
	d.Price = p
}

// planPage shows a plan form of mode with its first preview.
func (h *handler) planPage(mode string) func(http.ResponseWriter, *http.Request, auth.Session) {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session) {
		id, ok := h.sdkappid(w, r, &sess)
		if !ok {
			return
		}
		f := planForm{Mode: mode, Months: 1}
		switch mode {
		case modeBuy:
			f.Edition = catalog.Standard
		case modeUpgrade:
			f.Edition, f.Months = catalog.Premium, 0
		}
		h.planView(w, r, sess, id, http.StatusOK, f, "")
	}
}

// planPreview answers a preview: the price fragment for htmx, the whole page
// for a plain form.
func (h *handler) planPreview(mode string) func(http.ResponseWriter, *http.Request, auth.Session) {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session) {
		id, ok := h.sdkappid(w, r, &sess)
		if !ok {
			return
		}
		f, err := readPlanForm(r, mode)
		if r.Header.Get("HX-Request") != "true" {
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			h.planView(w, r, sess, id, http.StatusOK, f, msg)
			return
		}
		if _, aerr := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id); aerr != nil {
			h.fail(w, r, &sess, aerr)
			return
		}
		d := planData{Form: f}
		if err != nil {
			d.PrevErr = err.Error()
		} else {
			h.fillPrice(r, sess, id, &d)
		}
		var b strings.Builder
		if err := h.pages["buy"].ExecuteTemplate(&b, "preview", d); err != nil {
			h.log.Error("web: rendering the preview", "err", err)
			http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	}
}

// planOrder places the order of a plan form and goes to the apps overview.
func (h *handler) planOrder(mode string) func(http.ResponseWriter, *http.Request, auth.Session) {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session) {
		id, ok := h.sdkappid(w, r, &sess)
		if !ok {
			return
		}
		f, err := readPlanForm(r, mode)
		if err == nil && !f.Agree {
			err = errors.New(agreementMessage)
		}
		if err != nil {
			h.planView(w, r, sess, id, http.StatusBadRequest, f, err.Error())
			return
		}
		ctx, reqID := r.Context(), r.PostForm.Get("request_id")
		var order string
		switch mode {
		case modeUpgrade:
			var o store.Order
			o, err = h.cfg.Commerce.UpgradeAs(ctx, sess.Actor, commerce.UpgradeRequest{SDKAppID: id, Edition: catalog.Premium, VoucherID: f.Voucher, RequestID: reqID})
			order = o.ID
		case modeRenew:
			var os []store.Order
			os, err = h.cfg.Commerce.RenewAs(ctx, sess.Actor, commerce.RenewRequest{SDKAppIDs: []int64{id}, Months: f.Months, VoucherID: f.Voucher, RequestID: reqID})
			if len(os) > 0 {
				order = os[0].ID
			}
		default:
			var o store.Order
			o, err = h.cfg.Commerce.BuyAs(ctx, sess.Actor, commerce.BuyRequest{SDKAppID: id, Edition: f.Edition, Months: f.Months,
				AutoRenew: f.AutoRenew, VoucherID: f.Voucher, AgreementAccepted: true, RequestID: reqID})
			order = o.ID
		}
		if err != nil {
			status, msg := h.status(r, err)
			if status == http.StatusNotFound {
				h.errorPage(w, r, &sess, status, msg)
				return
			}
			h.planView(w, r, sess, id, status, f, msg)
			return
		}
		h.log.Info("web: plan ordered", "mode", mode, "sdkappid", id, "order", order)
		http.Redirect(w, r, fmt.Sprintf("%s/apps?done=%s&app=%d", Prefix, mode, id), http.StatusSeeOther)
	}
}

// refund refunds the app's plan and shows the formula's parts (product spec 5.5).
func (h *handler) refund(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") == "" {
		if _, aerr := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id); aerr != nil {
			h.fail(w, r, &sess, aerr)
			return
		}
		h.appView(w, r, sess, id, http.StatusBadRequest, detailExtra{}, "tick the box to confirm the refund: the app is suspended when its plan is refunded")
		return
	}
	ref, err := h.cfg.Commerce.RefundAs(r.Context(), sess.Actor, commerce.RefundRequest{SDKAppID: id,
		Reason: r.PostForm.Get("reason"), RequestID: r.PostForm.Get("request_id")})
	if err != nil {
		status, msg := h.status(r, err)
		if status == http.StatusNotFound {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.appView(w, r, sess, id, status, detailExtra{}, msg)
		return
	}
	h.log.Info("web: plan refunded", "sdkappid", id, "refund", ref.Order.ID)
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{Refund: &ref}, "")
}

// planVouchers is the account's vouchers that can pay for a plan now
// (commerce.VoucherUsable): the plan forms offer only these.
func (h *handler) planVouchers(ctx context.Context, sess auth.Session, account string) ([]store.Voucher, error) {
	vs, err := h.cfg.Commerce.VouchersAs(ctx, sess.Actor, account)
	if err != nil {
		return nil, err
	}
	now := h.cfg.Clock.Now()
	return slices.DeleteFunc(vs, func(v store.Voucher) bool { return !commerce.VoucherUsable(v, commerce.ScopeEditions, now) }), nil
}
