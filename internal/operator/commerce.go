package operator

// The commercial routes of the operator API: the catalog, balances, vouchers,
// orders for editions and add-ons, refunds, bills, notifications and the
// scheduler's clock (product spec sections 3–5). The rules live in package
// commerce and package lifecycle; these handlers only check the shape of a
// request, call the service and write its answer.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/jsonapi"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/views"
)

// The JSON forms of vouchers, orders and bills are those of package views,
// shared with the console API.
type (
	Voucher  = views.Voucher
	Order    = views.Order
	Bill     = views.Bill
	BillLine = views.BillLine
)

// Balance is an account's balance: cash paid in by the customer and credit granted
// by the operator. Cash may be below zero when a bill exceeded the balance.
type Balance struct {
	Cash   money.Cents `json:"cash"`
	Credit money.Cents `json:"credit"`
	Total  money.Cents `json:"total"`
}

// Catalog is the JSON form of the editions and add-ons with their prices.
type Catalog struct {
	Editions []CatalogEdition `json:"editions"`
	Addons   []CatalogAddon   `json:"addons"`
}

// CatalogEdition is one edition of the catalog. Limits of -1 are unlimited.
type CatalogEdition struct {
	ID              string      `json:"id"`
	Name            string      `json:"name"`
	MonthlyPrice    money.Cents `json:"monthly_price"`
	FriendsPerUser  int         `json:"friends_per_user"`
	GroupsPerUser   int         `json:"groups_per_user"`
	MembersPerGroup int         `json:"members_per_group"`
	GroupsPerApp    int         `json:"groups_per_app"`
	LiveRooms       int         `json:"live_rooms"`
	DailyNetGroups  int         `json:"daily_net_groups"`
	RetentionDays   int         `json:"retention_days"`
	FreeMAU         int         `json:"free_mau"`
	MAUCap          int         `json:"mau_cap"`
	OverageMAUPrice string      `json:"overage_mau_price"` // dollars per MAU beyond free_mau: "0.015"
	Features        []string    `json:"features"`
}

// CatalogAddon is one add-on of the catalog.
type CatalogAddon struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	Kind           string           `json:"kind"`
	Sold           string           `json:"sold"`
	Price          money.Cents      `json:"price"`
	Unit           string           `json:"unit"`
	MinQuantity    int              `json:"min_quantity"`
	IncludedUnits  int              `json:"included_units"`
	ExtraUnitPrice money.Cents      `json:"extra_unit_price"`
	FixedDays      int              `json:"fixed_days"`
	Includes       string           `json:"includes"`
	Refundable     bool             `json:"refundable"`
	Overage        []CatalogOverage `json:"overage"`
	FreeUntil      string           `json:"free_until,omitempty"` // an operator promotion: free to buy until then
}

// CatalogOverage is the pay-as-you-go price of one metric of an add-on.
type CatalogOverage struct {
	Metric     string `json:"metric"`
	Per        string `json:"per"`
	Free       int64  `json:"free"`
	BlockSize  int64  `json:"block_size"`
	BlockPrice string `json:"block_price"` // dollars per block: "4.00"
}

// VoucherList is the JSON form of an account's vouchers.
type VoucherList struct {
	Vouchers []Voucher `json:"vouchers"`
}

// OrderList is the JSON form of several orders.
type OrderList struct {
	Orders []Order `json:"orders"`
}

// Refund is the JSON form of a refund: the refund record, the amounts returned, the
// parts of the refund formula (spec 5.5) and the app afterwards.
type Refund struct {
	Refund       Order       `json:"refund"`
	Amount       money.Cents `json:"amount"`
	Cash         money.Cents `json:"cash"`
	Credit       money.Cents `json:"credit"`
	Effective    money.Cents `json:"effective"`
	NotEffective money.Cents `json:"not_effective"`
	Used         money.Cents `json:"used"`
	App          App         `json:"app"`
}

// BillList is the JSON form of an account's bills.
type BillList struct {
	Bills []Bill `json:"bills"`
}

// Notification is the JSON form of a reminder or notice sent to an account.
type Notification struct {
	ID        string `json:"id"`
	Account   string `json:"account"`
	SDKAppID  int64  `json:"sdkappid"`
	Kind      string `json:"kind"`
	Channel   string `json:"channel"`
	Recipient string `json:"recipient"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	DueAt     string `json:"due_at"`
	Status    string `json:"status"`
	SentAt    string `json:"sent_at"`
	Error     string `json:"error"`
}

// NotificationList is the JSON form of an account's notifications.
type NotificationList struct {
	Notifications []Notification `json:"notifications"`
}

// Clock is the scheduler's clock. From and Jobs are set only after a move.
type Clock struct {
	Now  string `json:"now"`
	Fake bool   `json:"fake"`
	From string `json:"from,omitempty"`
	Jobs *int   `json:"jobs,omitempty"`
}

type buyRequest struct {
	Edition         string `json:"edition"`
	Months          int    `json:"months"`
	AutoRenew       bool   `json:"auto_renew"`
	Voucher         string `json:"voucher"`
	AcceptAgreement bool   `json:"accept_agreement"`
	Discount        string `json:"discount"`
	NonRefundable   string `json:"non_refundable"`
	RequestID       string `json:"request_id"`
}

type upgradeRequest struct {
	Edition   string `json:"edition"`
	Voucher   string `json:"voucher"`
	RequestID string `json:"request_id"`
}

type renewRequest struct {
	SDKAppIDs []int64 `json:"sdkappids"`
	Months    int     `json:"months"`
	Voucher   string  `json:"voucher"`
	RequestID string  `json:"request_id"`
}

type autoRenewRequest struct {
	On *bool `json:"on"`
}

type refundRequest struct {
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

type addonRequest struct {
	Addon     string `json:"addon"`
	Quantity  int    `json:"quantity"`
	Months    int    `json:"months"`
	Voucher   string `json:"voucher"`
	RequestID string `json:"request_id"`
}

type nonRefundableRequest struct {
	Reason *string `json:"reason"`
}

type clockRequest struct {
	Set     string `json:"set"`
	Advance string `json:"advance"`
}

// registerCommerce adds the commercial routes to the mux.
func (h *handler) registerCommerce() {
	h.mux.HandleFunc("GET "+Prefix+"/catalog", h.catalog)
	h.mux.HandleFunc("PUT "+Prefix+"/addons/{addon}/promotion", h.needCommerce(h.setPromotion))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/topup", h.needCommerce(h.topUp))
	h.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/suspend", h.needCommerce(h.suspendAccount))
	h.mux.HandleFunc("POST "+Prefix+"/vouchers", h.needCommerce(h.issueVoucher))
	h.mux.HandleFunc("GET "+Prefix+"/vouchers", h.needCommerce(h.listVouchers))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/plan", h.needCommerce(h.buyPlan))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/upgrade", h.needCommerce(h.upgrade))
	h.mux.HandleFunc("POST "+Prefix+"/renewals", h.needCommerce(h.renew))
	h.mux.HandleFunc("PUT "+Prefix+"/apps/{sdkappid}/auto-renew", h.needCommerce(h.autoRenew))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/refund", h.needCommerce(h.refundPlan))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/addons", h.needCommerce(h.buyAddon))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/addons/{addon}/refund", h.needCommerce(h.refundAddon))
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/extend-trial", h.needCommerce(h.extendTrial))
	h.mux.HandleFunc("GET "+Prefix+"/orders", h.needCommerce(h.listOrders))
	h.mux.HandleFunc("POST "+Prefix+"/orders/{id}/non-refundable", h.needCommerce(h.setNonRefundable))
	h.mux.HandleFunc("GET "+Prefix+"/bills", h.needCommerce(h.listBills))
	h.mux.HandleFunc("GET "+Prefix+"/notifications", h.needCommerce(h.listNotifications))
	h.mux.HandleFunc("GET "+Prefix+"/clock", h.needScheduler(h.getClock))
	h.mux.HandleFunc("POST "+Prefix+"/clock", h.needScheduler(h.moveClock))
}

// needCommerce answers 503 on a server built without the commercial layer.
func (h *handler) needCommerce(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Commerce == nil {
			writeError(w, http.StatusServiceUnavailable, "the commercial layer (balances, orders, bills) is not enabled on this server")
			return
		}
		next(w, r)
	}
}

func (h *handler) needScheduler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Scheduler == nil {
			writeError(w, http.StatusServiceUnavailable, "the scheduler is not enabled on this server")
			return
		}
		next(w, r)
	}
}

func (h *handler) catalog(w http.ResponseWriter, r *http.Request) {
	var promos map[string]time.Time
	if h.cfg.Commerce != nil {
		var err error
		if promos, err = h.cfg.Commerce.Promotions(r.Context()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, catalogJSON(promos))
}

// promotionRequest sets (free_until) or, when empty, ends an add-on's promotion.
type promotionRequest struct {
	FreeUntil string `json:"free_until"`
}

// setPromotion makes an add-on free to buy until a date ("2027-01-31": through that
// UTC day) or an RFC 3339 time; an empty free_until ends the promotion.
func (h *handler) setPromotion(w http.ResponseWriter, r *http.Request) {
	var req promotionRequest
	if !decode(w, r, &req) {
		return
	}
	var until time.Time
	if req.FreeUntil != "" {
		var err error
		if until, err = commerce.ParseThrough("free_until", req.FreeUntil); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	addon := r.PathValue("addon")
	if _, err := h.cfg.Commerce.SetPromotion(r.Context(), addon, until); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: add-on promotion", "addon", addon, "free_until", views.Time(until))
	h.catalog(w, r)
}

func catalogJSON(promos map[string]time.Time) Catalog {
	out := Catalog{}
	for _, e := range catalog.Editions() {
		features := make([]string, 0, len(e.Features))
		for f, on := range e.Features {
			if on {
				features = append(features, string(f))
			}
		}
		slices.Sort(features)
		out.Editions = append(out.Editions, CatalogEdition{
			ID: e.ID, Name: e.Name, MonthlyPrice: money.Cents(e.MonthlyPriceCents),
			FriendsPerUser: e.FriendsPerUser, GroupsPerUser: e.GroupsPerUser, MembersPerGroup: e.MembersPerGroup,
			GroupsPerApp: e.GroupsPerApp, LiveRooms: e.LiveRooms, DailyNetGroups: e.DailyNetGroups,
			RetentionDays: e.RetentionDays, FreeMAU: e.FreeMAU, MAUCap: e.MAUCap,
			OverageMAUPrice: money.Micro(e.OverageMAUMicroUSD).String(),
			Features:        features,
		})
	}
	for _, a := range catalog.Addons() {
		over := make([]CatalogOverage, 0, len(a.Overage))
		for _, o := range a.Overage {
			over = append(over, CatalogOverage{
				Metric: o.Metric, Per: o.Per, Free: o.Free, BlockSize: o.BlockSize,
				BlockPrice: money.Micro(o.BlockPrice).String(),
			})
		}
		out.Addons = append(out.Addons, CatalogAddon{
			ID: a.ID, Name: a.Name, Kind: a.Kind, Sold: a.Sold, Price: money.Cents(a.PriceCents),
			Unit: a.Unit, MinQuantity: a.MinQuantity, IncludedUnits: a.IncludedUnits,
			ExtraUnitPrice: money.Cents(a.ExtraUnitCents), FixedDays: a.FixedDays,
			Includes: a.Includes, Refundable: a.Refundable, Overage: over, FreeUntil: views.Time(promos[a.ID]),
		})
	}
	return out
}

func (h *handler) topUp(w http.ResponseWriter, r *http.Request) {
	var req views.TopUpRequest
	if !decode(w, r, &req) {
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
	id := r.PathValue("id")
	a, err := h.cfg.Commerce.TopUp(r.Context(), commerce.TopUpRequest{AccountID: id, Cash: cash, Credit: credit, RequestID: req.RequestID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: top-up", "account", id, "cash", cash.String(), "credit", credit.String())
	writeJSON(w, http.StatusOK, accountJSON(a))
}

func (h *handler) suspendAccount(w http.ResponseWriter, r *http.Request) {
	var req views.SuspendRequest
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		writeError(w, http.StatusBadRequest, `"reason" is required: say which violation the suspension is for (it is permanent and never lifted by payment)`)
		return
	}
	id := r.PathValue("id")
	a, err := h.cfg.Commerce.SuspendAccount(r.Context(), id, req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: account suspended", "account", id, "reason", req.Reason)
	writeJSON(w, http.StatusOK, accountJSON(a))
}

func (h *handler) issueVoucher(w http.ResponseWriter, r *http.Request) {
	var req views.VoucherRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Account == "" || req.Amount == "" || req.Expires == "" {
		writeError(w, http.StatusBadRequest, `"account", "amount" and "expires" are required`)
		return
	}
	amount, err := money.Parse(req.Amount)
	if err != nil {
		writeError(w, http.StatusBadRequest, "amount: "+err.Error())
		return
	}
	if amount <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("amount must be positive, not %s", amount))
		return
	}
	expires, err := commerce.ParseThrough("expires", req.Expires)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := h.cfg.Commerce.IssueVoucher(r.Context(), commerce.VoucherRequest{
		AccountID: req.Account, Amount: amount, ExpiresAt: expires, Scope: req.Scope, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: voucher issued", "account", v.AccountID, "voucher", v.ID, "amount", amount.String())
	writeJSON(w, http.StatusCreated, views.VoucherOf(v))
}

func (h *handler) listVouchers(w http.ResponseWriter, r *http.Request) {
	account, ok := h.accountParam(w, r, "vouchers")
	if !ok {
		return
	}
	vs, err := h.cfg.Commerce.Vouchers(r.Context(), account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := VoucherList{Vouchers: make([]Voucher, 0, len(vs))}
	for _, v := range vs {
		out.Vouchers = append(out.Vouchers, views.VoucherOf(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) buyPlan(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req buyRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Edition == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"edition" is required: %s or %s`, catalog.Standard, catalog.Premium))
		return
	}
	var discount money.Cents
	if req.Discount != "" {
		d, err := money.Parse(req.Discount)
		if err != nil {
			writeError(w, http.StatusBadRequest, "discount: "+err.Error())
			return
		}
		discount = d
	}
	o, err := h.cfg.Commerce.Buy(r.Context(), commerce.BuyRequest{
		SDKAppID: id, Edition: req.Edition, Months: req.Months, AutoRenew: req.AutoRenew,
		VoucherID: req.Voucher, AgreementAccepted: req.AcceptAgreement, Discount: discount,
		NonRefundable: req.NonRefundable, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: plan bought", "sdkappid", id, "order", o.ID, "edition", req.Edition, "months", req.Months)
	writeJSON(w, http.StatusCreated, views.OrderOf(o))
}

func (h *handler) upgrade(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req upgradeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Edition == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"edition" is required (%s)`, catalog.Premium))
		return
	}
	o, err := h.cfg.Commerce.Upgrade(r.Context(), commerce.UpgradeRequest{
		SDKAppID: id, Edition: req.Edition, VoucherID: req.Voucher, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: plan upgraded", "sdkappid", id, "order", o.ID, "edition", req.Edition)
	writeJSON(w, http.StatusCreated, views.OrderOf(o))
}

// maxRenewBatch bounds the apps of one renewal: those of one account at most.
const maxRenewBatch = tenant.MaxAppsPerAccount

func (h *handler) renew(w http.ResponseWriter, r *http.Request) {
	var req renewRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.SDKAppIDs) == 0 {
		writeError(w, http.StatusBadRequest, `"sdkappids" is required: the apps to renew, e.g. [1400000001]`)
		return
	}
	if len(req.SDKAppIDs) > maxRenewBatch {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("a renewal covers at most %d apps, not %d", maxRenewBatch, len(req.SDKAppIDs)))
		return
	}
	for _, id := range req.SDKAppIDs {
		if id <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("SDKAppIDs must be positive integers, not %d", id))
			return
		}
	}
	orders, err := h.cfg.Commerce.Renew(r.Context(), commerce.RenewRequest{
		SDKAppIDs: req.SDKAppIDs, Months: req.Months, VoucherID: req.Voucher, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: apps renewed", "sdkappids", req.SDKAppIDs, "months", req.Months)
	writeJSON(w, http.StatusCreated, orderList(orders))
}

func (h *handler) autoRenew(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req autoRenewRequest
	if !decode(w, r, &req) {
		return
	}
	if req.On == nil {
		writeError(w, http.StatusBadRequest, `"on" is required: true or false`)
		return
	}
	app, err := h.cfg.Commerce.SetAutoRenew(r.Context(), id, *req.On)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: auto-renewal set", "sdkappid", id, "on", *req.On)
	writeJSON(w, http.StatusOK, appJSON(app))
}

func (h *handler) refundPlan(w http.ResponseWriter, r *http.Request) {
	h.refund(w, r, "")
}

func (h *handler) refundAddon(w http.ResponseWriter, r *http.Request) {
	addon := r.PathValue("addon")
	if _, err := catalog.LookupAddon(addon); err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown add-on %q (see GET %s/catalog)", addon, Prefix))
		return
	}
	h.refund(w, r, addon)
}

func (h *handler) refund(w http.ResponseWriter, r *http.Request, addon string) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req refundRequest
	if !decode(w, r, &req) {
		return
	}
	ref, err := h.cfg.Commerce.Refund(r.Context(), commerce.RefundRequest{
		SDKAppID: id, Addon: addon, Reason: req.Reason, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: refund", "sdkappid", id, "addon", addon, "order", ref.Order.ID, "amount", ref.Amount.String())
	writeJSON(w, http.StatusOK, Refund{
		Refund: views.OrderOf(ref.Order), Amount: ref.Amount, Cash: ref.Cash, Credit: ref.Credit,
		Effective: ref.Effective, NotEffective: ref.NotEffective, Used: ref.Used, App: appJSON(ref.App),
	})
}

func (h *handler) buyAddon(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req addonRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Addon == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"addon" is required: an add-on id of GET %s/catalog`, Prefix))
		return
	}
	o, err := h.cfg.Commerce.BuyAddon(r.Context(), commerce.AddonRequest{
		SDKAppID: id, Addon: req.Addon, Quantity: req.Quantity, Months: req.Months,
		VoucherID: req.Voucher, RequestID: req.RequestID,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: add-on bought", "sdkappid", id, "order", o.ID, "addon", req.Addon)
	writeJSON(w, http.StatusCreated, views.OrderOf(o))
}

func (h *handler) extendTrial(w http.ResponseWriter, r *http.Request) {
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req struct{}
	if !decodeOptional(w, r, &req) {
		return
	}
	app, err := h.cfg.Commerce.ExtendTrial(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: trial extended", "sdkappid", id, "expires", app.ExpiresAt)
	writeJSON(w, http.StatusOK, appJSON(app))
}

func (h *handler) listOrders(w http.ResponseWriter, r *http.Request) {
	account, ok := h.accountParam(w, r, "orders")
	if !ok {
		return
	}
	orders, err := h.cfg.Commerce.Orders(r.Context(), account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, orderList(orders))
}

func (h *handler) setNonRefundable(w http.ResponseWriter, r *http.Request) {
	var req nonRefundableRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Reason == nil {
		writeError(w, http.StatusBadRequest, `"reason" is required: why refunds of the order are refused ("" allows them again)`)
		return
	}
	id := r.PathValue("id")
	o, err := h.cfg.Commerce.SetNonRefundable(r.Context(), id, *req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: order refundability set", "order", id, "reason", *req.Reason)
	writeJSON(w, http.StatusOK, views.OrderOf(o))
}

func (h *handler) listBills(w http.ResponseWriter, r *http.Request) {
	account, ok := h.accountParam(w, r, "bills")
	if !ok {
		return
	}
	bills, err := h.cfg.Commerce.Bills(r.Context(), account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := BillList{Bills: make([]Bill, 0, len(bills))}
	for _, b := range bills {
		out.Bills = append(out.Bills, views.BillOf(b))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) listNotifications(w http.ResponseWriter, r *http.Request) {
	account, ok := h.accountParam(w, r, "notifications")
	if !ok {
		return
	}
	ns, err := h.cfg.Commerce.Notifications(r.Context(), account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := NotificationList{Notifications: make([]Notification, 0, len(ns))}
	for _, n := range ns {
		out.Notifications = append(out.Notifications, Notification{
			ID: n.ID, Account: n.AccountID, SDKAppID: n.SDKAppID, Kind: n.Kind, Channel: n.Channel,
			Recipient: n.Recipient, Subject: n.Subject, Body: n.Body, DueAt: views.Time(n.DueAt),
			Status: n.Status, SentAt: views.Time(n.SentAt), Error: n.Error,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getClock(w http.ResponseWriter, r *http.Request) {
	s := h.cfg.Scheduler
	writeJSON(w, http.StatusOK, Clock{Now: views.Time(s.Now()), Fake: s.Fake()})
}

func (h *handler) moveClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if !decode(w, r, &req) {
		return
	}
	if (req.Set == "") == (req.Advance == "") {
		writeError(w, http.StatusBadRequest, `give exactly one of "set" (an RFC 3339 time) and "advance" (a duration such as "24h", "30d" or "1d12h")`)
		return
	}
	s := h.cfg.Scheduler
	// The move runs to its end even if the client gives up waiting: a clock left
	// half-way would be a surprise (each job is committed on its own either way).
	ctx := context.WithoutCancel(r.Context())
	var (
		rep lifecycle.Report
		err error
	)
	if req.Set != "" {
		t, perr := time.Parse(time.RFC3339, req.Set)
		if perr != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("set must be an RFC 3339 time such as 2027-01-31T00:00:00Z, not %q", req.Set))
			return
		}
		rep, err = s.Set(ctx, t.UTC())
	} else {
		d, perr := lifecycle.ParseAdvance(req.Advance)
		if perr != nil {
			writeError(w, http.StatusBadRequest, perr.Error())
			return
		}
		rep, err = s.Advance(ctx, d)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := rep.To
	if now.IsZero() {
		now = s.Now()
	}
	jobs := rep.Jobs
	h.log.Info("operator: clock moved", "from", rep.From, "to", now, "jobs", jobs)
	writeJSON(w, http.StatusOK, Clock{Now: views.Time(now), Fake: s.Fake(), From: views.Time(rep.From), Jobs: &jobs})
}

// accountParam reads the required ?account=ID of a list route and checks that the
// account exists, so an unknown account is a 404 rather than an empty list.
func (h *handler) accountParam(w http.ResponseWriter, r *http.Request, route string) (string, bool) {
	account := r.URL.Query().Get("account")
	if account == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter account is required: GET %s/%s?account=ID", Prefix, route))
		return "", false
	}
	if _, err := h.cfg.Commerce.Account(r.Context(), account); err != nil {
		h.fail(w, r, err)
		return "", false
	}
	return account, true
}

// decodeOptional is decode for routes whose body may be empty.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	return jsonapi.Decode(w, r, v, MaxBodyBytes, true)
}

func balanceJSON(a store.Account) Balance {
	return Balance{Cash: money.Cents(a.CashCents), Credit: money.Cents(a.CreditCents), Total: money.Cents(a.CashCents + a.CreditCents)}
}

func orderList(orders []store.Order) OrderList {
	out := OrderList{Orders: make([]Order, 0, len(orders))}
	for _, o := range orders {
		out.Orders = append(out.Orders, views.OrderOf(o))
	}
	return out
}
