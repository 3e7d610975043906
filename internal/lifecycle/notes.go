package lifecycle

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/money"
	"github.com/chatd/chatd/internal/notify"
	"github.com/chatd/chatd/internal/store"
)

// noter builds the notifications of one job: each notice goes to the account's
// creator by email and, when the account has a phone number, by SMS.
type noter struct {
	acc store.Account
	app store.App
	key string
	due time.Time
	out []store.Notification
}

func (n *noter) add(app int64, kind, subject, body string) {
	for _, ch := range []struct{ channel, to string }{{notify.ChannelEmail, n.acc.Email}, {notify.ChannelSMS, n.acc.Phone}} {
		if ch.to == "" {
			continue
		}
		n.out = append(n.out, store.Notification{
			ID: newID(), AccountID: n.acc.ID, SDKAppID: app, Key: n.key + ":" + kind + ":" + ch.channel, Kind: kind,
			Channel: ch.channel, Recipient: ch.to, Subject: subject, Body: body, DueAt: n.due, Status: "pending",
		})
	}
}

func newID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "ntf_" + hex.EncodeToString(b)
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

func appLabel(a store.App) string { return fmt.Sprintf("%q (SDKAppID %d)", a.Name, a.SDKAppID) }

func planName(a store.App) string {
	if e, err := catalog.Lookup(a.Edition); err == nil {
		return e.Name
	}
	return a.Edition
}

func (n *noter) reminder(a store.App, days int) {
	when := "today"
	if days == 1 {
		when = "tomorrow"
	} else if days > 1 {
		when = fmt.Sprintf("in %d days", days)
	}
	what := "The " + planName(a) + " plan"
	action := "Renew it to keep the app running."
	if a.Edition == catalog.Trial {
		what = "The Free Trial"
		action = "Buy Standard or Premium to keep the app running."
	} else if a.AutoRenew {
		action = "It renews automatically if the balance covers one month; otherwise renew it."
	}
	n.add(a.SDKAppID, "renewal_reminder",
		fmt.Sprintf("%s of app %s expires %s", what, appLabel(a), when),
		fmt.Sprintf("%s of app %s expires on %s. %s Without renewal the app is suspended 24 hours after expiry.", what, appLabel(a), date(a.ExpiresAt), action))
}

func (n *noter) expired(a store.App) {
	n.add(a.SDKAppID, "suspended",
		fmt.Sprintf("App %s is suspended: its plan expired", appLabel(a)),
		fmt.Sprintf("The %s plan of app %s expired on %s and was not renewed, so the app is suspended: logins and REST calls are refused. To resume it, %s. Its data is kept until %s and then deleted for good.",
			planName(a), appLabel(a), date(a.ExpiresAt), commerce.HowToResume(a), date(a.SuspendedAt.Add(repossessAfter))))
}

func (n *noter) autoRenewed(a store.App, o store.Order) {
	n.add(a.SDKAppID, "auto_renewed",
		fmt.Sprintf("The %s plan of app %s was renewed", planName(a), appLabel(a)),
		fmt.Sprintf("The %s plan of app %s was renewed automatically for %s USD; it now runs until %s.", planName(a), appLabel(a), money.Cents(o.ListCents), date(o.EffectiveTo)))
}

func (n *noter) autoRenewFailed(a store.App, err error) {
	n.add(a.SDKAppID, "auto_renew_failed",
		fmt.Sprintf("The %s plan of app %s could not be renewed", planName(a), appLabel(a)),
		fmt.Sprintf("Automatic renewal of app %s failed: %v. Top up and renew within 24 hours of the expiry (%s) or the app is suspended.", appLabel(a), err, date(a.ExpiresAt)))
}

func (n *noter) trialExtended(a store.App) {
	n.add(a.SDKAppID, "trial_extended",
		fmt.Sprintf("The Free Trial of app %s was extended", appLabel(a)),
		fmt.Sprintf("The Free Trial of app %s was extended once, until %s. It cannot be extended again.", appLabel(a), date(a.ExpiresAt)))
}

func (n *noter) repossessionNotice(a store.App, at time.Time, days int) {
	n.add(a.SDKAppID, "repossession_notice",
		fmt.Sprintf("The data of app %s will be deleted in %d day(s)", appLabel(a), days),
		fmt.Sprintf("App %s has been suspended since %s. Unless it is resumed, its users, groups, messages and settings are deleted for good on %s.", appLabel(a), date(a.SuspendedAt), date(at)))
}

func (n *noter) repossessed(a store.App) {
	n.add(a.SDKAppID, "repossessed",
		fmt.Sprintf("The data of app %s was deleted", appLabel(a)),
		fmt.Sprintf("App %s was suspended for 90 days, so its users, groups, messages and settings were deleted for good. Its SDKAppID is never reused.", appLabel(a)))
}

func (n *noter) bill(b store.Bill) {
	if b.TotalCents == 0 {
		return
	}
	n.add(0, "bill",
		fmt.Sprintf("Your chatd bill for %s: %s USD", b.Month, money.Cents(b.TotalCents)),
		fmt.Sprintf("The pay-as-you-go bill %s for %s is %s USD in %d line(s); %s USD were taken from credit and %s USD from cash.",
			b.ID, b.Month, money.Cents(b.TotalCents), len(b.Lines), money.Cents(b.CreditCents), money.Cents(b.CashCents)))
}

func (n *noter) overdue(a store.Account) {
	n.add(0, "overdue",
		fmt.Sprintf("Your chatd account is overdue: balance %s USD", money.Cents(a.CashCents+a.CreditCents)),
		fmt.Sprintf("The balance of account %s is %s USD. Top up to zero or more by %s, or every app of the account is suspended.",
			a.ID, money.Cents(a.CashCents+a.CreditCents), date(a.OverdueSince.Add(grace))))
}

func (n *noter) accountSuspended(a store.Account) {
	n.add(0, "account_suspended",
		"Your chatd account is suspended for arrears",
		fmt.Sprintf("Account %s is suspended because its balance (%s USD) stayed below zero for 24 hours after the bill; all of its apps are stopped. A top-up that brings the balance to zero or more resumes them.",
			a.ID, money.Cents(a.CashCents+a.CreditCents)))
}
