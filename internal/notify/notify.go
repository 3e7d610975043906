// Package notify delivers the reminders and notices that chatd sends to the
// creator of a customer account: renewal reminders, suspension and
// repossession notices, bills. Other code records each notice in the database
// first; a Sender from this package then delivers it.
//
// The senders:
//
//   - FileSender, the default, appends every message as one JSON line to a
//     file and logs it, so a chatd without a mail server or a webhook still
//     keeps a readable record of each notice. It handles both channels.
//   - SMTPSender mails messages of the "email" channel through an SMTP relay.
//   - WebhookSender POSTs messages of any channel as JSON to a URL, for an
//     SMS gateway or the operator's own delivery service.
//
// A Router fans a message out to the senders configured for its channel.
//
// chatd builds its senders from these flags:
//
//	--notify-file PATH            the FileSender's JSON-lines file
//	--smtp-addr HOST:PORT         the SMTP relay; enables the SMTPSender
//	--smtp-from ADDRESS           the From address of the mails
//	--smtp-user NAME              SMTP AUTH PLAIN user name; the password is
//	                              read from the environment variable
//	                              CHATD_SMTP_PASSWORD, never from a flag
//	--notify-webhook URL          enables the WebhookSender
//	--notify-webhook-secret KEY   signs each webhook body (HMAC-SHA256)
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The channels a message can go through.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is one notice to deliver.
type Message struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account"`
	SDKAppID  int64     `json:"sdkappid,omitempty"`
	Kind      string    `json:"kind"`      // e.g. "renewal_reminder", "suspended", "repossession_notice", "bill"
	Channel   string    `json:"channel"`   // ChannelEmail or ChannelSMS
	Recipient string    `json:"recipient"` // an email address or a phone number
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	DueAt     time.Time `json:"due_at"` // when the rule fired (may be a simulated time)
}

// Sender delivers messages of the channels it handles.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Router sends each message to every sender of its channel.
type Router struct {
	Email []Sender
	SMS   []Sender
}

// Send delivers m through every sender of m.Channel. Every sender is tried even
// when an earlier one fails, so one broken relay does not silence the others;
// the failures come back joined. A channel without any sender is an error too:
// the caller would otherwise record a notice as sent that nobody delivered.
func (r *Router) Send(ctx context.Context, m Message) error {
	var senders []Sender
	switch m.Channel {
	case ChannelEmail:
		senders = r.Email
	case ChannelSMS:
		senders = r.SMS
	default:
		return fmt.Errorf("notify: unknown channel %q", m.Channel)
	}
	if len(senders) == 0 {
		return fmt.Errorf("notify: no sender for channel %q", m.Channel)
	}
	var errs []error
	for _, s := range senders {
		if err := s.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
