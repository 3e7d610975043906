package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/auth"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/tenant"
)

// appRow is an app with this month's MAU, as the overview shows it.
type appRow struct {
	App     store.App
	Edition string // the edition's name
	MAU     gateUsage
}

type gateUsage struct {
	Month           string
	Used, Free, Cap int
}

type appsData struct {
	Apps      []appRow
	Regions   []string
	Name      string
	Region    string
	Notice    string // what the last form did (?done=)
	Suspended string // the customer's account is suspended: why, and the way out
}

// doneNotices are the overview's confirmations after a redirect
// (?done=KEY&app=SDKAppID); only these texts are shown.
var doneNotices = map[string]string{
	modeBuy:     "App %d: the plan is bought.",
	modeUpgrade: "App %d: upgraded to Premium.",
	modeRenew:   "App %d: renewed.",
	"deleted":   "App %d is deleted with all its data.",
}

func editionName(id string) string {
	if e, err := catalog.Lookup(id); err == nil {
		return e.Name
	}
	return id
}

func (h *handler) row(r *http.Request, app store.App) (appRow, error) {
	u, err := h.cfg.Gate.MonthlyUsage(r.Context(), app)
	if err != nil {
		return appRow{}, err
	}
	return appRow{App: app, Edition: editionName(app.Edition), MAU: gateUsage{u.Month, u.Used, u.Free, u.Cap}}, nil
}

func (h *handler) appsView(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, d appsData, errMsg string) {
	// The operator may name an account (?account=ID); a customer only their own.
	apps, err := h.cfg.Tenants.ListAppsAs(r.Context(), sess.Actor, r.URL.Query().Get("account"))
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	for _, a := range apps {
		row, err := h.row(r, a)
		if err != nil {
			h.fail(w, r, &sess, err)
			return
		}
		d.Apps = append(d.Apps, row)
	}
	d.Regions = tenant.Regions
	if !sess.Actor.Operator {
		acc, err := h.cfg.Commerce.AccountAs(r.Context(), sess.Actor, "")
		if err != nil {
			h.fail(w, r, &sess, err)
			return
		}
		d.Suspended = commerce.AccountSuspendedMessage(acc)
	}
	h.render(w, r, &sess, status, "apps", "Apps", d, errMsg)
}

func (h *handler) apps(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	d := appsData{Region: "singapore"}
	q := r.URL.Query()
	if text, ok := doneNotices[q.Get("done")]; ok {
		if id, err := strconv.ParseInt(q.Get("app"), 10, 64); err == nil && id > 0 {
			d.Notice = fmt.Sprintf(text, id)
		}
	}
	h.appsView(w, r, sess, http.StatusOK, d, "")
}

func (h *handler) createApp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	name, region := r.PostForm.Get("name"), r.PostForm.Get("region")
	app, err := h.cfg.Tenants.CreateAppAs(r.Context(), sess.Actor, r.PostForm.Get("account"), name, region)
	if err != nil {
		status, msg := h.status(r, err)
		h.appsView(w, r, sess, status, appsData{Name: name, Region: region}, msg)
		return
	}
	h.log.Info("web: app created", "account", app.AccountID, "sdkappid", app.SDKAppID)
	http.Redirect(w, r, fmt.Sprintf("%s/apps/%d", Prefix, app.SDKAppID), http.StatusSeeOther)
}

func (h *handler) deleteApp(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	confirm, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("confirm")), 10, 64)
	if err != nil || confirm != id {
		// Whether the app exists and is the actor's is the domain's to say first.
		if _, aerr := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id); aerr != nil {
			h.fail(w, r, &sess, aerr)
			return
		}
		h.appView(w, r, sess, id, http.StatusBadRequest, detailExtra{},
			fmt.Sprintf("deletion removes all data of app %d and cannot be undone: type the SDKAppID %d to confirm", id, id))
		return
	}
	if err := h.cfg.Tenants.DeleteAppAs(r.Context(), sess.Actor, id, confirm); err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	h.log.Info("web: app deleted", "sdkappid", id, "account", sess.Actor.Account)
	http.Redirect(w, r, fmt.Sprintf("%s/apps?done=deleted&app=%d", Prefix, id), http.StatusSeeOther)
}

// detailExtra is what a form on the detail page brought back.
type detailExtra struct {
	SecretKey     string
	UserSig       string
	SigUser       string
	SigExpire     int64
	SigIssuedAt   time.Time
	CallbackDone  bool
	AutoRenewDone bool
	Refund        *commerce.Refund // a refund just made, with the formula's parts
}

type limitRow struct{ Name, Value string }

type detailData struct {
	detailExtra
	Row        appRow
	Limits     []limitRow
	Features   []limitRow
	Callback   *store.CallbackConfig
	Commands   string
	Suspended  string // why callbacks cannot be changed, with the way out; "" when they can
	CanBuy     bool   // a Free Trial or an expired plan: buy
	CanUpgrade bool   // Standard: upgrade to Premium
	CanRenew   bool   // a paid plan: renew, refund
	DefaultSig int64
	Usage      *usageView // nil when the server keeps no daily figures
	CanTry     bool       // the "try it" chat is offered
}

func limit(n int) string {
	if n == catalog.Unlimited {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

// appRow is the app id that the actor may see, with its overview row.
func (h *handler) appRow(r *http.Request, sess auth.Session, id int64) (store.App, appRow, error) {
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		return store.App{}, appRow{}, err
	}
	row, err := h.row(r, app)
	return app, row, err
}

func (h *handler) appView(w http.ResponseWriter, r *http.Request, sess auth.Session, id int64, status int, x detailExtra, errMsg string) {
	app, row, err := h.appRow(r, sess, id)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	d := detailData{detailExtra: x, Row: row, DefaultSig: tenant.DefaultUserSigExpire,
		CanBuy:     app.Edition == catalog.Trial || app.SuspendReason == commerce.ReasonExpired || app.SuspendReason == commerce.ReasonRefund,
		CanUpgrade: app.Edition == catalog.Standard && app.Status == store.StatusActive,
		CanRenew:   app.Edition != catalog.Trial && app.SuspendReason != commerce.ReasonRefund}
	if e, err := catalog.Lookup(app.Edition); err == nil {
		cap := "none (extra users are billed)"
		if e.MAUCap > 0 {
			cap = strconv.Itoa(e.MAUCap)
		}
		d.Limits = []limitRow{
			{"Monthly price", "$" + money.Cents(e.MonthlyPriceCents).String()},
			{"Free MAU", strconv.Itoa(e.FreeMAU)}, {"MAU hard cap", cap},
			{"Friends per user", limit(e.FriendsPerUser)}, {"Groups per user", limit(e.GroupsPerUser)},
			{"Members per group", limit(e.MembersPerGroup)}, {"Groups per app", limit(e.GroupsPerApp)},
			{"Live rooms", limit(e.LiveRooms)}, {"Message retention (days)", strconv.Itoa(e.RetentionDays)},
		}
		for _, f := range features {
			v := "no"
			if e.Has(f.f) {
				v = "yes"
			}
			d.Features = append(d.Features, limitRow{f.name, v})
		}
	}
	if h.cfg.Callbacks != nil {
		c, err := h.cfg.Callbacks.Get(r.Context(), app)
		if err != nil {
			h.fail(w, r, &sess, err)
			return
		}
		d.Callback = &c
		d.Commands = strings.Join(c.Commands, " ")
		if c.UpdatedAt.IsZero() {
			d.Commands = callback.AllCommands
		}
	}
	d.CanTry = h.cfg.Accounts != nil
	if h.cfg.Daily != nil {
		days, err := h.cfg.Daily.LastDays(r.Context(), app.SDKAppID, UsageDays)
		if err != nil {
			h.fail(w, r, &sess, err)
			return
		}
		d.Usage = usageCharts(days)
	}
	if app.Status == store.StatusSuspended {
		d.Suspended = suspendedMessage(app)
	}
	h.render(w, r, &sess, status, "app", app.Name, d, errMsg)
}

// features are the catalog's edition-gated features, as the page names them.
var features = []struct {
	f    catalog.Feature
	name string
}{
	{catalog.PushToAll, "Push to all users"},
	{catalog.MultiDeviceSamePlat, "Several devices of one platform"},
	{catalog.LocalSearch, "Local search"},
	{catalog.Community, "Community groups"},
	{catalog.GroupReadReceipts, "Group read receipts"},
	{catalog.TargetedGroupMessages, "Targeted group messages"},
	{catalog.LiveRoomHistory, "Live room history for new members"},
	{catalog.LiveRoomOnlineMembers, "Live room online members"},
	{catalog.BroadcastLiveRooms, "Broadcast to live rooms"},
	{catalog.LiveRoomBan, "Live room ban"},
	{catalog.UserStatus, "User status"},
	{catalog.ConversationMarks, "Conversation marks"},
	{catalog.ConversationGroups, "Conversation groups"},
}

// suspendedMessage says why a suspended app refuses a callback change and
// the way out (product spec 5.4).
func suspendedMessage(app store.App) string {
	return commerce.SuspendedMessage(app, "its callbacks cannot be configured")
}

func (h *handler) app(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{}, "")
}

func (h *handler) secret(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	key, err := h.cfg.Tenants.SecretKeyAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	h.log.Info("web: secret key revealed", "sdkappid", id, "account", sess.Actor.Account, "operator", sess.Actor.Operator)
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{SecretKey: key}, "")
}

func (h *handler) userSig(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	user := r.PostForm.Get("user")
	var expire int64
	if s := strings.TrimSpace(r.PostForm.Get("expire")); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if _, aerr := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id); aerr != nil {
				h.fail(w, r, &sess, aerr)
				return
			}
			h.appView(w, r, sess, id, http.StatusBadRequest, detailExtra{SigUser: user}, "the validity must be a whole number of seconds")
			return
		}
		expire = n
	}
	sig, at, err := h.cfg.Tenants.UserSigAs(r.Context(), sess.Actor, id, user, expire)
	if err != nil {
		status, msg := h.status(r, err)
		if status == http.StatusNotFound || status >= 500 {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.appView(w, r, sess, id, status, detailExtra{SigUser: user}, msg)
		return
	}
	if expire == 0 {
		expire = tenant.DefaultUserSigExpire
	}
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{UserSig: sig, SigUser: user, SigExpire: expire, SigIssuedAt: at}, "")
}

// setCallback stores the callback settings of the form: the URL ("" turns
// callbacks off), the commands (space-separated, "all" for every command) and
// the token, which is kept when the field is left empty unless "remove the
// token" is ticked.
func (h *handler) setCallback(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.AppAs(r.Context(), sess.Actor, id)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	if h.cfg.Callbacks == nil {
		h.errorPage(w, r, &sess, http.StatusServiceUnavailable, "callbacks are not enabled on this server")
		return
	}
	if app.Status == store.StatusSuspended {
		h.appView(w, r, sess, id, http.StatusConflict, detailExtra{}, suspendedMessage(app))
		return
	}
	cur, err := h.cfg.Callbacks.Get(r.Context(), app)
	if err != nil {
		h.fail(w, r, &sess, err)
		return
	}
	token := cur.Token
	if t := r.PostForm.Get("token"); t != "" {
		token = t
	} else if r.PostForm.Get("remove_token") != "" {
		token = ""
	}
	cmds := strings.Fields(r.PostForm.Get("commands"))
	if len(cmds) == 0 {
		cmds = []string{callback.AllCommands}
	}
	if _, err := h.cfg.Callbacks.Set(r.Context(), app, strings.TrimSpace(r.PostForm.Get("url")), token, cmds); err != nil {
		status, msg := h.status(r, err)
		h.appView(w, r, sess, id, status, detailExtra{}, msg)
		return
	}
	h.log.Info("web: app callback changed", "sdkappid", id, "operator", sess.Actor.Operator)
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{CallbackDone: true}, "")
}

type billingData struct {
	Account       store.Account
	Orders        []store.Order
	Refunds       []commerce.Refund // with the formula's parts (product spec 5.5)
	Apps          []store.App       // the account's apps, with their status
	TopUps        []store.LedgerEntry
	Bills         []store.Bill
	Vouchers      []store.Voucher
	Notifications []store.Notification
	Op            *opForms // the operator's view: the forms (operator.go)
}

func (h *handler) billing(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	h.billingView(w, r, sess, http.StatusOK, r.URL.Query().Get("account"), nil, "")
}

// billingView shows account acc's billing ("" is a customer's own); the
// operator also gets the account's apps and forms op (nil: empty forms).
func (h *handler) billingView(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, acc string, op *opForms, errMsg string) {
	ctx := r.Context()
	var d billingData
	var err error
	if d.Account, err = h.cfg.Commerce.AccountAs(ctx, sess.Actor, acc); err == nil {
		acc = d.Account.ID
		if d.TopUps, err = h.cfg.Commerce.TopUpsAs(ctx, sess.Actor, acc); err == nil {
			if d.Orders, err = h.cfg.Commerce.OrdersAs(ctx, sess.Actor, acc); err == nil {
				if d.Refunds, err = h.cfg.Commerce.RefundDetailsAs(ctx, sess.Actor, acc); err == nil {
					if d.Bills, err = h.cfg.Commerce.BillsAs(ctx, sess.Actor, acc); err == nil {
						if d.Vouchers, err = h.cfg.Commerce.VouchersAs(ctx, sess.Actor, acc); err == nil {
							if d.Notifications, err = h.cfg.Commerce.NotificationsAs(ctx, sess.Actor, acc); err == nil {
								d.Apps, err = h.cfg.Tenants.ListAppsAs(ctx, sess.Actor, acc)
							}
						}
					}
				}
			}
		}
	}
	slices.Reverse(d.Notifications) // the inbox shows the newest first
	if err == nil && sess.Actor.Operator {
		if op == nil {
			op = &opForms{}
		}
		op.Scopes = []string{commerce.ScopeAll, commerce.ScopeEditions, commerce.ScopeAddons}
		op.DefaultExpiry = h.cfg.Clock.Now().UTC().AddDate(0, 1, 0).Format("2006-01-02")
		if op.Expires == "" {
			op.Expires = op.DefaultExpiry
		}
		d.Op = op
	}
	if err != nil {
		if sess.Actor.Operator && acc == "" {
			// The operator names the account with the form above the page.
			h.render(w, r, &sess, http.StatusOK, "billing", "Billing", billingData{}, "name the account whose billing to show")
			return
		}
		h.fail(w, r, &sess, err)
		return
	}
	h.render(w, r, &sess, status, "billing", "Billing", d, errMsg)
}

// autoRenew turns the automatic renewal of a paid plan on or off.
func (h *handler) autoRenew(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	id, ok := h.sdkappid(w, r, &sess)
	if !ok {
		return
	}
	if _, err := h.cfg.Commerce.SetAutoRenewAs(r.Context(), sess.Actor, id, r.PostForm.Get("on") != ""); err != nil {
		status, msg := h.status(r, err)
		if status == http.StatusNotFound {
			h.errorPage(w, r, &sess, status, msg)
			return
		}
		h.appView(w, r, sess, id, status, detailExtra{}, msg)
		return
	}
	h.appView(w, r, sess, id, http.StatusOK, detailExtra{AutoRenewDone: true}, "")
}
