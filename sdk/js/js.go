// Package js holds chatd's JavaScript client SDK (chatd.js, a dependency-free ES
// module implementing docs/protocol.md) and serves it over HTTP.
package js

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// Source is chatd.js as built into the binary.
//
//go:embed chatd.js
var Source []byte

// Path is where the server serves the SDK.
const Path = "/sdk/chatd.js"

// CacheControl is the SDK's cache header: browsers and proxies keep it five
// minutes, then revalidate it by its ETag (a 304 when it did not change).
const CacheControl = "public, max-age=300"

// etag names this build's chatd.js: the first 16 bytes of its SHA-256, quoted.
var etag = func() string {
	sum := sha256.Sum256(Source)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// Handler serves Source for GET and HEAD as text/javascript, with CacheControl,
// an ETag (If-None-Match answers 304) and Access-Control-Allow-Origin "*", so that
// a page of any origin can import the module (devices authenticate with UserSigs,
// not cookies). Register it for GET Path; other methods are the mux's 405.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", CacheControl)
		h.Set("ETag", etag)
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "chatd.js", time.Time{}, bytes.NewReader(Source))
	})
}
