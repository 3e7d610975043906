package server

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jssdk "github.com/chatd/chatd/sdk/js"
)

// GET /sdk/chatd.js serves the JavaScript SDK as built from sdk/js/chatd.js:
// text/javascript, a cache header, an ETag that answers 304, CORS for pages of
// other origins; HEAD has the headers only and other methods are refused.
func TestServesJavaScriptSDK(t *testing.T) {
	_, _, hs := newServer(t)
	onDisk, err := os.ReadFile(filepath.Join("..", "..", "sdk", "js", "chatd.js"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(method string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+jssdk.Path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	resp, body := get("GET", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, onDisk) || !bytes.Equal(body, jssdk.Source) {
		t.Fatalf("GET served %d bytes, not sdk/js/chatd.js (%d bytes)", len(body), len(onDisk))
	}
	if !strings.Contains(string(body), "export class Client") {
		t.Fatal("the SDK exports no Client")
	}
	for k, want := range map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"Cache-Control":               jssdk.CacheControl,
		"Access-Control-Allow-Origin": "*",
		"X-Content-Type-Options":      "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	if len(etag) < 10 || etag[0] != '"' {
		t.Fatalf("ETag %q", etag)
	}

	resp, body = get("GET", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET with its ETag: %d, %d bytes; want 304 and none", resp.StatusCode, len(body))
	}
	resp, body = get("GET", map[string]string{"If-None-Match": `"other"`})
	if resp.StatusCode != 200 || !bytes.Equal(body, onDisk) {
		t.Errorf("GET with another ETag: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get("HEAD", nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("HEAD: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	if resp, _ := get("POST", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
	if resp, _ := get("GET", nil); resp.Header.Get("ETag") != etag {
		t.Error("the ETag changed between two GETs")
	}
}
