package main

// The commercial commands of the operator CLI: catalog, balances, vouchers, plans,
// add-ons, orders, bills, notifications and the scheduler's clock.

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/operator"
)

// usd formats an amount for people: "399.00 USD".
func usd(c money.Cents) string { return c.String() + " USD" }

// orNone shows an empty field as "-" in tables.
func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// amountFlag checks an amount flag's syntax ("100", "100.5", "100.00") and returns
// it normalised; "" stays "".
func amountFlag(fs *flag.FlagSet, name, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	c, err := money.Parse(v)
	if err != nil {
		return "", usagef("%s: --%s: %v", fs.Name(), name, err)
	}
	if c < 0 {
		return "", usagef("%s: --%s must not be negative", fs.Name(), name)
	}
	return c.String(), nil
}

func requireMonths(fs *flag.FlagSet, months int) error {
	if months < 1 || months > commerce.MaxMonths {
		return usagef("%s: --months is required: 1 to %d", fs.Name(), commerce.MaxMonths)
	}
	return nil
}

// requestID is the idempotency key of an order: --request-id, else a random one per
// invocation, so that a repeated HTTP attempt of one invocation never charges twice.
func requestID(given string) string {
	if given != "" {
		return given
	}
	return "cli-" + rand.Text()
}

func (c *cli) requestIDFlag(fs *flag.FlagSet) *string {
	return fs.String("request-id", "", "idempotency key: repeating a command with the same key never charges twice (default: a random key)")
}

func appPath(id int64, rest string) string {
	return "/apps/" + strconv.FormatInt(id, 10) + rest
}

// --- catalog ---

func (c *cli) catalog(args []string) error {
	fs := c.flagSet("catalog")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	return callAndPrint(c, "GET", "/catalog", nil, nil, printCatalog)
}

func limit(n int) string {
	if n == -1 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func printCatalog(w io.Writer, cat operator.Catalog) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EDITION\tNAME\tPRICE/MONTH\tFREE MAU\tEXTRA MAU\tFRIENDS\tGROUPS/USER\tMEMBERS\tGROUPS/APP\tLIVE ROOMS\tRETENTION\tFEATURES")
	for _, e := range cat.Editions {
		extra := e.OverageMAUPrice + " USD each"
		if e.MAUCap > 0 {
			extra = fmt.Sprintf("not sold (cap %d)", e.MAUCap)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d days\t%d\n",
			e.ID, e.Name, usd(e.MonthlyPrice), e.FreeMAU, extra, limit(e.FriendsPerUser), limit(e.GroupsPerUser),
			limit(e.MembersPerGroup), limit(e.GroupsPerApp), limit(e.LiveRooms), e.RetentionDays, len(e.Features))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADD-ON\tNAME\tKIND\tPRICE\tREFUNDABLE\tOVERAGE")
	for _, a := range cat.Addons {
		price := usd(a.Price)
		switch {
		case a.IncludedUnits > 0:
			price += fmt.Sprintf(" per month with %d %ss, %s per extra %s", a.IncludedUnits, a.Unit, usd(a.ExtraUnitPrice), a.Unit)
		case a.Sold == "monthly":
			price += " per " + a.Unit + " per month"
		case a.Sold == "pack":
			price += " per " + a.Unit
		case a.Sold == "fixed":
			price += fmt.Sprintf(" for %d days", a.FixedDays)
		}
		var over []string
		for _, o := range a.Overage {
			over = append(over, fmt.Sprintf("%s: %d free per %s, then %s USD per %d", o.Metric, o.Free, o.Per, o.BlockPrice, o.BlockSize))
		}
		refundable := "no"
		if a.Refundable {
			refundable = "yes"
		}
		if a.FreeUntil != "" {
			price = "free until " + a.FreeUntil + " (list " + price + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Kind, price, refundable, orNone(strings.Join(over, "; ")))
	}
	tw.Flush()
}

// --- account topup, suspend ---

func (c *cli) accountTopUp(args []string) error {
	fs := c.flagSet("account topup")
	id := fs.String("account", "", "account ID (required)")
	cashF := fs.String("cash", "", "cash to add, in USD (e.g. 100.00)")
	creditF := fs.String("credit", "", "credit to grant, in USD")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account"); err != nil {
		return err
	}
	if *cashF == "" && *creditF == "" {
		return usagef("account topup: give --cash and/or --credit")
	}
	body := map[string]string{"request_id": requestID(*reqID)}
	for name, v := range map[string]string{"cash": *cashF, "credit": *creditF} {
		amt, err := amountFlag(fs, name, v)
		if err != nil {
			return err
		}
		if amt != "" {
			body[name] = amt
		}
	}
	return callAndPrint(c, "POST", "/accounts/"+url.PathEscape(*id)+"/topup", nil, body, printAccount)
}

func (c *cli) accountSuspend(args []string) error {
	fs := c.flagSet("account suspend")
	id := fs.String("account", "", "account ID (required)")
	reason := fs.String("reason", "", "the content violation (required); the suspension is permanent")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account", "reason"); err != nil {
		return err
	}
	return callAndPrint(c, "POST", "/accounts/"+url.PathEscape(*id)+"/suspend", nil, map[string]string{"reason": *reason}, printAccount)
}

// --- vouchers ---

func (c *cli) voucherIssue(args []string) error {
	fs := c.flagSet("voucher issue")
	account := fs.String("account", "", "account ID (required)")
	amountF := fs.String("amount", "", "amount in USD (required)")
	expires := fs.String("expires", "", "last valid UTC day YYYY-MM-DD, or an RFC 3339 time (required)")
	scope := fs.String("scope", commerce.ScopeAll, "what it pays for: all, editions or addons")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account", "amount", "expires"); err != nil {
		return err
	}
	amount, err := amountFlag(fs, "amount", *amountF)
	if err != nil {
		return err
	}
	if amount == "0.00" {
		return usagef("voucher issue: --amount must be positive")
	}
	if _, err := commerce.ParseThrough("expires", *expires); err != nil {
		return usagef("voucher issue: --%v", err)
	}
	switch *scope {
	case commerce.ScopeAll, commerce.ScopeEditions, commerce.ScopeAddons:
	default:
		return usagef("voucher issue: --scope must be all, editions or addons, not %q", *scope)
	}
	return callAndPrint(c, "POST", "/vouchers", nil, map[string]string{
		"account": *account, "amount": amount, "expires": *expires, "scope": *scope, "request_id": requestID(*reqID),
	}, func(w io.Writer, v operator.Voucher) {
		fmt.Fprintf(w, "Voucher %s: %s for account %s (pays for: %s), usable until %s.\n", v.ID, usd(v.Amount), v.Account, v.Scope, v.ExpiresAt)
	})
}

// accountList runs "<what> list --account ID": it GETs path?account=ID into a T
// and prints it with human, or says that the account has no such records.
func accountList[T any](c *cli, args []string, name, path, noun string, count func(*T) int, human func(io.Writer, *T)) error {
	fs := c.flagSet(name)
	account := fs.String("account", "", "account ID (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account"); err != nil {
		return err
	}
	return callAndPrint(c, "GET", path, url.Values{"account": {*account}}, nil, func(w io.Writer, l T) {
		if count(&l) == 0 {
			fmt.Fprintf(w, "Account %s has no %s.\n", *account, noun)
			return
		}
		human(w, &l)
	})
}

func (c *cli) voucherList(args []string) error {
	return accountList(c, args, "voucher list", "/vouchers", "vouchers",
		func(l *operator.VoucherList) int { return len(l.Vouchers) },
		func(w io.Writer, l *operator.VoucherList) {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VOUCHER\tAMOUNT\tREMAINING\tSCOPE\tUSABLE UNTIL")
			for _, v := range l.Vouchers {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, usd(v.Amount), usd(v.Remaining), v.Scope, v.ExpiresAt)
			}
			tw.Flush()
		})
}

// --- plans ---

type buyBody struct {
	Edition         string `json:"edition"`
	Months          int    `json:"months"`
	AutoRenew       bool   `json:"auto_renew"`
	Voucher         string `json:"voucher,omitempty"`
	AcceptAgreement bool   `json:"accept_agreement"`
	Discount        string `json:"discount,omitempty"`
	NonRefundable   string `json:"non_refundable,omitempty"`
	RequestID       string `json:"request_id"`
}

func (c *cli) planBuy(args []string) error {
	fs := c.flagSet("plan buy")
	id := c.sdkappidFlag(fs)
	edition := fs.String("edition", "", "standard or premium (required)")
	months := fs.Int("months", 0, fmt.Sprintf("length in months, 1 to %d (required)", commerce.MaxMonths))
	autoRenew := fs.Bool("auto-renew", false, "renew automatically at expiry when the balance suffices")
	voucher := fs.String("voucher", "", "voucher ID paying part of the order")
	accept := fs.Bool("accept-agreement", false, "the customer accepts the service agreement (required by the server)")
	discountF := fs.String("discount", "", "operator discount in USD (a promotion)")
	nonRefundable := fs.String("non-refundable", "", "mark the order non-refundable, with this `reason`")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "edition"); err != nil {
		return err
	}
	if err := requireMonths(fs, *months); err != nil {
		return err
	}
	discount, err := amountFlag(fs, "discount", *discountF)
	if err != nil {
		return err
	}
	// Without --accept-agreement the request still goes out: the server decides,
	// and its refusal says what is missing.
	return c.postOrder(appPath(*id, "/plan"), buyBody{
		Edition: *edition, Months: *months, AutoRenew: *autoRenew, Voucher: *voucher,
		AcceptAgreement: *accept, Discount: discount, NonRefundable: *nonRefundable, RequestID: requestID(*reqID),
	})
}

func (c *cli) planUpgrade(args []string) error {
	fs := c.flagSet("plan upgrade")
	id := c.sdkappidFlag(fs)
	edition := fs.String("edition", "", "the edition to upgrade to: premium (required)")
	voucher := fs.String("voucher", "", "voucher ID paying part of the order")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "edition"); err != nil {
		return err
	}
	return c.postOrder(appPath(*id, "/upgrade"), map[string]string{
		"edition": *edition, "voucher": *voucher, "request_id": requestID(*reqID),
	})
}

// parseIDs reads a comma-separated list of SDKAppIDs.
func parseIDs(fs *flag.FlagSet, s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("%s: --sdkappid is required (one SDKAppID or a comma-separated list)", fs.Name())
	}
	var ids []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("%s: --sdkappid: %q is not a positive integer", fs.Name(), part)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (c *cli) planRenew(args []string) error {
	fs := c.flagSet("plan renew")
	idsF := fs.String("sdkappid", "", "the app's SDKAppID, or a comma-separated list renewed all or nothing (required)")
	months := fs.Int("months", 0, fmt.Sprintf("months to add, 1 to %d (required)", commerce.MaxMonths))
	voucher := fs.String("voucher", "", "voucher ID paying part of the order")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	ids, err := parseIDs(fs, *idsF)
	if err != nil {
		return err
	}
	if err := requireMonths(fs, *months); err != nil {
		return err
	}
	return callAndPrint(c, "POST", "/renewals", nil, map[string]any{
		"sdkappids": ids, "months": *months, "voucher": *voucher, "request_id": requestID(*reqID),
	}, func(w io.Writer, l operator.OrderList) {
		fmt.Fprintf(w, "Renewed %d app(s) by %d month(s).\n", len(l.Orders), *months)
		printOrders(w, l.Orders)
	})
}

func (c *cli) planAutoRenew(args []string) error {
	fs := c.flagSet("plan auto-renew")
	id := c.sdkappidFlag(fs)
	on := fs.Bool("on", false, "turn auto-renewal on")
	off := fs.Bool("off", false, "turn auto-renewal off")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if *on == *off {
		return usagef("plan auto-renew: give exactly one of --on and --off")
	}
	return callAndPrint(c, "PUT", appPath(*id, "/auto-renew"), nil, map[string]bool{"on": *on}, func(w io.Writer, a operator.App) {
		state := "off"
		if a.AutoRenew {
			state = "on"
		}
		fmt.Fprintf(w, "Auto-renewal of app %d (%s until %s) is %s.\n", a.SDKAppID, a.Edition, a.ExpiresAt, state)
	})
}

func (c *cli) planRefund(args []string) error {
	fs := c.flagSet("plan refund")
	id := c.sdkappidFlag(fs)
	reason := fs.String("reason", "", "the customer's reason")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return c.refund(appPath(*id, "/refund"), *reason, *reqID)
}

func (c *cli) refund(path, reason, reqID string) error {
	return callAndPrint(c, "POST", path, nil, map[string]string{"reason": reason, "request_id": requestID(reqID)}, printRefund)
}

// --- add-ons ---

func (c *cli) addonBuy(args []string) error {
	fs := c.flagSet("addon buy")
	id := c.sdkappidFlag(fs)
	addon := fs.String("addon", "", "add-on ID, see chatd catalog (required)")
	quantity := fs.Int("quantity", 0, "seats, bots or packs (default: the add-on's minimum)")
	months := fs.Int("months", 0, fmt.Sprintf("length in months, 1 to %d (required)", commerce.MaxMonths))
	voucher := fs.String("voucher", "", "voucher ID paying part of the order")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "addon"); err != nil {
		return err
	}
	if *quantity < 0 {
		return usagef("addon buy: --quantity must not be negative")
	}
	if err := requireMonths(fs, *months); err != nil {
		return err
	}
	return c.postOrder(appPath(*id, "/addons"), map[string]any{
		"addon": *addon, "quantity": *quantity, "months": *months, "voucher": *voucher, "request_id": requestID(*reqID),
	})
}

func (c *cli) addonRefund(args []string) error {
	fs := c.flagSet("addon refund")
	id := c.sdkappidFlag(fs)
	addon := fs.String("addon", "", "add-on ID (required)")
	reason := fs.String("reason", "", "the customer's reason")
	reqID := c.requestIDFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "addon"); err != nil {
		return err
	}
	return c.refund(appPath(*id, "/addons/"+url.PathEscape(*addon)+"/refund"), *reason, *reqID)
}

// addonPromote makes an add-on free to buy until a date, or ends that (--end).
func (c *cli) addonPromote(args []string) error {
	fs := c.flagSet("addon promote")
	addon := fs.String("addon", "", "add-on ID (required)")
	until := fs.String("free-until", "", "free to buy through this UTC day (YYYY-MM-DD) or until an RFC 3339 time")
	end := fs.Bool("end", false, "end the add-on's promotion")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "addon"); err != nil {
		return err
	}
	if (*until == "") == !*end {
		return usagef("addon promote: give exactly one of --free-until DATE and --end")
	}
	var untilTime time.Time
	if *until != "" {
		var err error
		if untilTime, err = commerce.ParseThrough("the date", *until); err != nil {
			return usagef("addon promote: --free-until: %v", err)
		}
	}
	return callAndPrint(c, "PUT", "/addons/"+url.PathEscape(*addon)+"/promotion", nil, map[string]string{"free_until": *until}, func(w io.Writer, cat operator.Catalog) {
		if *end {
			fmt.Fprintf(w, "Add-on %s is sold at its list price again.\n", *addon)
			return
		}
		fmt.Fprintf(w, "Add-on %s is free to buy until %s.\n", *addon, untilTime.Format(time.RFC3339))
	})
}

// postOrder places an order through the operator API and prints it.
func (c *cli) postOrder(path string, body any) error {
	return callAndPrint(c, "POST", path, nil, body, printOrder)
}

// --- app extend-trial ---

func (c *cli) appExtendTrial(args []string) error {
	fs := c.flagSet("app extend-trial")
	id := c.sdkappidFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return callAndPrint(c, "POST", appPath(*id, "/extend-trial"), nil, struct{}{}, func(w io.Writer, a operator.App) {
		fmt.Fprintf(w, "Free Trial of app %d extended until %s.\n", a.SDKAppID, a.ExpiresAt)
	})
}

// --- orders ---

func (c *cli) orderList(args []string) error {
	return accountList(c, args, "order list", "/orders", "orders",
		func(l *operator.OrderList) int { return len(l.Orders) },
		func(w io.Writer, l *operator.OrderList) { printOrders(w, l.Orders) })
}

func (c *cli) orderNonRefundable(args []string) error {
	fs := c.flagSet("order non-refundable")
	id := fs.String("order", "", "order ID (required)")
	reason := fs.String("reason", "", "why refunds of the order are refused")
	allow := fs.Bool("allow", false, "allow refunds of the order again")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "order"); err != nil {
		return err
	}
	if (*reason == "") == !*allow {
		return usagef("order non-refundable: give exactly one of --reason R (refuse refunds) and --allow (allow them again)")
	}
	return callAndPrint(c, "POST", "/orders/"+url.PathEscape(*id)+"/non-refundable", nil, map[string]string{"reason": *reason}, func(w io.Writer, o operator.Order) {
		if o.NonRefundableReason == "" {
			fmt.Fprintf(w, "Order %s may be refunded.\n", o.ID)
		} else {
			fmt.Fprintf(w, "Order %s is not refundable: %s\n", o.ID, o.NonRefundableReason)
		}
	})
}

// --- bills and notifications ---

func (c *cli) billList(args []string) error {
	return accountList(c, args, "bill list", "/bills", "bills",
		func(l *operator.BillList) int { return len(l.Bills) },
		func(w io.Writer, l *operator.BillList) {
			for i, b := range l.Bills {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "Bill %s for %s, issued %s: %s (cash %s, credit %s)\n",
					b.ID, b.Month, b.IssuedAt, usd(b.Total), usd(b.Cash), usd(b.Credit))
				if len(b.Lines) == 0 {
					continue
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  SDKAPPID\tPRODUCT\tMETRIC\tUSAGE\tFREE\tBILLABLE\tPRICE (USD)\tAMOUNT")
				for _, l := range b.Lines {
					fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", l.SDKAppID, l.Product, l.Metric, l.Usage, l.Free, l.Billable, l.UnitPrice, usd(l.Amount))
				}
				tw.Flush()
			}
		})
}

func (c *cli) notificationList(args []string) error {
	return accountList(c, args, "notification list", "/notifications", "notifications",
		func(l *operator.NotificationList) int { return len(l.Notifications) },
		func(w io.Writer, l *operator.NotificationList) {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DUE\tKIND\tSDKAPPID\tCHANNEL\tRECIPIENT\tSTATUS\tSUBJECT")
			for _, n := range l.Notifications {
				app := "-"
				if n.SDKAppID != 0 {
					app = strconv.FormatInt(n.SDKAppID, 10)
				}
				status := n.Status
				if n.Error != "" {
					status += " (" + n.Error + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.DueAt, n.Kind, app, n.Channel, n.Recipient, status, n.Subject)
			}
			tw.Flush()
		})
}

// --- clock ---

// positional parses a subcommand's flags around exactly one positional argument
// (`chatd clock set TIME --json`): the flag package stops at the first non-flag.
func positional(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", flagError(fs, err)
	}
	if fs.NArg() == 0 {
		return "", usagef("%s: missing %s", fs.Name(), what)
	}
	arg := fs.Arg(0)
	if err := parseSub(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	return arg, nil
}

func (c *cli) clockShow(args []string) error {
	fs := c.flagSet("clock show")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	return callAndPrint(c, "GET", "/clock", nil, nil, printClock)
}

func (c *cli) clockSet(args []string) error {
	fs := c.flagSet("clock set")
	t, err := positional(fs, args, "TIME (RFC 3339, e.g. 2027-01-31T00:00:00Z)")
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339, t); err != nil {
		return usagef("clock set: TIME must be an RFC 3339 time such as 2027-01-31T00:00:00Z, not %q", t)
	}
	return c.moveClock(map[string]string{"set": t})
}

func (c *cli) clockAdvance(args []string) error {
	fs := c.flagSet("clock advance")
	d, err := positional(fs, args, "DURATION (e.g. 24h, 30d, 1d12h)")
	if err != nil {
		return err
	}
	if _, err := lifecycle.ParseAdvance(d); err != nil {
		return usagef("clock advance: %v", err)
	}
	return c.moveClock(map[string]string{"advance": d})
}

func (c *cli) moveClock(body map[string]string) error {
	// Moving the clock runs every job due on the way, which can take minutes for a
	// large installation and a long jump: no client-side timeout.
	saved := *c.client
	c.client.Timeout = 0
	defer func() { *c.client = saved }()
	return callAndPrint(c, "POST", "/clock", nil, body, printClock)
}

func printClock(w io.Writer, k operator.Clock) {
	kind := "real"
	if k.Fake {
		kind = "fake"
	}
	if k.From != "" && k.Jobs != nil {
		fmt.Fprintf(w, "Clock moved from %s to %s (%s clock); %d scheduled job(s) ran.\n", k.From, k.Now, kind, *k.Jobs)
		return
	}
	fmt.Fprintf(w, "Server time: %s (%s clock)\n", k.Now, kind)
}

// --- shared printers ---

// product names an order's product for people: "standard", "addon push".
func product(p string) string {
	if a, ok := strings.CutPrefix(p, "addon:"); ok {
		return "add-on " + a
	}
	return p
}

func printOrder(w io.Writer, o operator.Order) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Order:\t%s (%s, %s)\n", o.ID, o.Kind, o.Status)
	fmt.Fprintf(tw, "App:\t%d (account %s)\n", o.SDKAppID, o.Account)
	what := product(o.Product)
	if o.Quantity > 1 {
		what += fmt.Sprintf(" × %d", o.Quantity)
	}
	if o.Months > 0 {
		what += fmt.Sprintf(", %d month(s)", o.Months)
	}
	fmt.Fprintf(tw, "Product:\t%s\n", what)
	if o.Kind != "refund" {
		fmt.Fprintf(tw, "Effective:\t%s to %s\n", o.EffectiveFrom, o.EffectiveTo)
		fmt.Fprintf(tw, "List price:\t%s\n", usd(o.ListPrice))
		if o.Discount != 0 {
			fmt.Fprintf(tw, "Discount:\t%s\n", usd(o.Discount))
		}
		if o.Voucher != 0 {
			fmt.Fprintf(tw, "Voucher:\t%s (%s)\n", usd(o.Voucher), o.VoucherID)
		}
		if o.CarriedCash != 0 || o.CarriedCredit != 0 {
			fmt.Fprintf(tw, "Carried over:\t%s cash, %s credit\n", usd(o.CarriedCash), usd(o.CarriedCredit))
		}
		fmt.Fprintf(tw, "Paid:\t%s cash, %s credit\n", usd(o.Cash), usd(o.Credit))
		fmt.Fprintf(tw, "Auto-renew:\t%s\n", yesNo(o.AutoRenew))
		if o.NonRefundableReason != "" {
			fmt.Fprintf(tw, "Refundable:\tno (%s)\n", o.NonRefundableReason)
		} else {
			fmt.Fprintf(tw, "Refundable:\t%s\n", yesNo(o.Refundable))
		}
	} else {
		fmt.Fprintf(tw, "Returned:\t%s cash, %s credit\n", usd(o.Cash), usd(o.Credit))
		fmt.Fprintf(tw, "Refunds:\t%s\n", strings.Join(o.Refunds, ", "))
		if o.Reason != "" {
			fmt.Fprintf(tw, "Reason:\t%s\n", o.Reason)
		}
	}
	fmt.Fprintf(tw, "Created:\t%s\n", o.CreatedAt)
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printOrders(w io.Writer, orders []operator.Order) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tSDKAPPID\tKIND\tPRODUCT\tMONTHS\tLIST\tCASH\tCREDIT\tVOUCHER\tFROM\tTO\tSTATUS")
	for _, o := range orders {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.SDKAppID, o.Kind, product(o.Product), o.Months,
			usd(o.ListPrice), usd(o.Cash), usd(o.Credit), usd(o.Voucher), o.EffectiveFrom, o.EffectiveTo, o.Status)
	}
	tw.Flush()
}

func printRefund(w io.Writer, r operator.Refund) {
	fmt.Fprintf(w, "Refunded %s to account %s: %s cash, %s credit (order %s).\n",
		usd(r.Amount), r.Refund.Account, usd(r.Cash), usd(r.Credit), r.Refund.ID)
	fmt.Fprintf(w, "  effective %s + not yet effective %s − used %s\n", usd(r.Effective), usd(r.NotEffective), usd(r.Used))
	switch {
	case r.App.SDKAppID == 0:
	case r.App.SuspendReason != "":
		fmt.Fprintf(w, "App %d is now %s (%s).\n", r.App.SDKAppID, r.App.Status, r.App.SuspendReason)
	default:
		fmt.Fprintf(w, "App %d is now %s.\n", r.App.SDKAppID, r.App.Status)
	}
}
