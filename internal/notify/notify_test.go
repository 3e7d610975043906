package notify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// senderFunc lets a test stand in any behaviour for the senders a Router calls.
type senderFunc func(ctx context.Context, m Message) error

func (f senderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

func testMessage(channel string) Message {
	return Message{
		ID:        "n-42",
		AccountID: "acc-7",
		SDKAppID:  1400000001,
		Kind:      "renewal_reminder",
		Channel:   channel,
		Recipient: "alice@example.org",
		Subject:   "Your plan renews in 7 days",
		Body:      "Hello,\nyour plan renews on 2031-03-01.\n",
		DueAt:     time.Date(2031, 2, 22, 9, 0, 0, 0, time.UTC),
	}
}

func TestRouterTriesEverySender(t *testing.T) {
	errA, errB := errors.New("relay down"), errors.New("gateway down")
	var got []string
	record := func(name string, err error) Sender {
		return senderFunc(func(_ context.Context, m Message) error {
			got = append(got, name+":"+m.ID)
			return err
		})
	}
	r := &Router{
		Email: []Sender{record("a", errA), record("b", nil), record("c", errB)},
		SMS:   []Sender{record("sms", nil)},
	}
	err := r.Send(context.Background(), testMessage(ChannelEmail))
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("err = %v, want both failures", err)
	}
	if want := "a:n-42 b:n-42 c:n-42"; strings.Join(got, " ") != want {
		t.Fatalf("senders called: %v, want %s", got, want)
	}

	got = nil
	if err := r.Send(context.Background(), testMessage(ChannelSMS)); err != nil {
		t.Fatal(err)
	}
	if want := "sms:n-42"; strings.Join(got, " ") != want {
		t.Fatalf("senders called: %v, want %s", got, want)
	}
}

func TestRouterRefusesUnknownAndUnservedChannels(t *testing.T) {
	called := false
	s := senderFunc(func(context.Context, Message) error { called = true; return nil })
	r := &Router{Email: []Sender{s}, SMS: []Sender{s}}
	if err := r.Send(context.Background(), testMessage("pigeon")); err == nil || !strings.Contains(err.Error(), "pigeon") {
		t.Fatalf("unknown channel: err = %v", err)
	}
	if called {
		t.Fatal("a sender was called for an unknown channel")
	}
	if err := (&Router{Email: []Sender{s}}).Send(context.Background(), testMessage(ChannelSMS)); err == nil {
		t.Fatal("a channel without senders reported success")
	}
}

// The Router is itself a Sender, so routers nest.
var _ Sender = (*Router)(nil)
