package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hook records the one request a test webhook receives and answers it.
type hook struct {
	method, contentType, signature, id string
	body                               []byte
}

func startHook(t *testing.T, status int, answer string) (*httptest.Server, chan hook) {
	t.Helper()
	got := make(chan hook, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- hook{r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Chatd-Signature"), r.Header.Get("X-Chatd-Notification-Id"), body}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestWebhookPostsSignedJSON(t *testing.T) {
	srv, got := startHook(t, http.StatusNoContent, "")
	w, err := NewWebhookSender(WebhookConfig{URL: srv.URL + "/chatd", Secret: "hook-secret"})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(ChannelSMS)
	m.Recipient = "+41790000000"
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.method != http.MethodPost || h.contentType != "application/json" || h.id != "n-42" {
		t.Fatalf("request %s, Content-Type %q, id %q", h.method, h.contentType, h.id)
	}
	mac := hmac.New(sha256.New, []byte("hook-secret"))
	mac.Write(h.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); h.signature != want {
		t.Fatalf("signature %q, want %q", h.signature, want)
	}
	var back Message
	if err := json.Unmarshal(h.body, &back); err != nil {
		t.Fatal(err)
	}
	if !back.DueAt.Equal(m.DueAt) {
		t.Fatalf("due_at %v, want %v", back.DueAt, m.DueAt)
	}
	back.DueAt = m.DueAt
	if back != m {
		t.Fatalf("body decodes to %+v\nwant %+v", back, m)
	}
}

func TestWebhookWithoutSecretIsUnsigned(t *testing.T) {
	srv, got := startHook(t, http.StatusOK, "ok")
	w, err := NewWebhookSender(WebhookConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(context.Background(), testMessage(ChannelEmail)); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h.signature != "" {
		t.Fatalf("unexpected signature %q", h.signature)
	}
}

func TestWebhookFailureNamesStatus(t *testing.T) {
	srv, got := startHook(t, http.StatusInternalServerError, "database unavailable"+strings.Repeat("x", 1000))
	w, err := NewWebhookSender(WebhookConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(context.Background(), testMessage(ChannelEmail))
	<-got
	if err == nil {
		t.Fatal("a 500 answer counted as delivered")
	}
	msg := err.Error()
	if !strings.Contains(msg, "500") || !strings.Contains(msg, "database unavailable") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(msg, strings.Repeat("x", 200)) {
		t.Fatalf("error quotes more than 200 bytes of the answer: %d bytes", len(msg))
	}
}

func TestNewWebhookSenderChecksURL(t *testing.T) {
	for _, u := range []string{"", "hooks.example.com/chatd", "ftp://hooks.example.com/", "http:///path"} {
		if _, err := NewWebhookSender(WebhookConfig{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}
