package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// WebhookConfig configures a WebhookSender.
type WebhookConfig struct {
	URL    string       // http or https
	Secret string       // signs the body when set
	Client *http.Client // nil means a client with a 10 s timeout
}

// WebhookSender POSTs messages of any channel as JSON to a URL. A 2xx answer
// means delivered. Receivers should verify the X-Chatd-Signature header
// ("sha256=" and the hex HMAC-SHA256 of the body keyed with the secret) and
// drop repeats of X-Chatd-Notification-Id, since a message whose answer was
// lost is sent again.
type WebhookSender struct {
	url    string
	secret []byte
	client *http.Client
}

// NewWebhookSender checks cfg and returns the sender.
func NewWebhookSender(cfg WebhookConfig) (*WebhookSender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may carry a token, so it is not repeated in the error.
		return nil, errors.New("notify: webhook URL must be an absolute http or https URL")
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &WebhookSender{url: cfg.URL, secret: []byte(cfg.Secret), client: client}, nil
}

// Send POSTs m as JSON.
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: encode message %s: %w", m.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatd-Notification-Id", m.ID)
	if len(w.secret) > 0 {
		mac := hmac.New(sha256.New, w.secret)
		mac.Write(body)
		req.Header.Set("X-Chatd-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, which may carry a token; the error ends
		// up in the notification's record, so keep only the cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("notify: webhook post (message %s): %w", m.ID, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notify: webhook answered %s (message %s): %q", resp.Status, m.ID, snippet)
	}
	return nil
}
