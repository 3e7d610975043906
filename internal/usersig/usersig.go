// Package usersig generates and verifies UserSig v2 tickets (TLSSigAPIv2), byte-compatible
// with Tencent's public libraries so that existing app backends and clients keep working
// (see docs/rest-api.md §2).
//
// A UserSig is base64url'(zlib(JSON)) where the JSON carries the claims and
// TLS.sig = base64(HMAC-SHA256(key, content)) over a fixed line-based content.
package usersig

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/errs"
)

// maxJSON bounds the inflated payload: real sigs are a few hundred bytes, and the bound
// keeps a small zlib bomb in a header from costing memory.
const maxJSON = 64 << 10

// The reference alphabet is std base64 with '+', '/', '=' replaced so sigs survive URLs.
var (
	toSig   = strings.NewReplacer("+", "*", "/", "-", "=", "_")
	fromSig = strings.NewReplacer("*", "+", "-", "/", "_", "=")
)

// Claims are the decoded fields of a UserSig.
type Claims struct {
	Identifier string
	SDKAppID   int64
	Time       int64 // issue time, Unix seconds
	Expire     int64 // validity in seconds from Time
	Sig        string
	UserBuf    []byte
	HasUserBuf bool
}

// Gen returns a UserSig for identifier valid for expire seconds from now.
func Gen(sdkappid int64, key, identifier string, expire int64, now time.Time) (string, error) {
	return gen(sdkappid, key, identifier, expire, nil, false, now)
}

// GenWithBuf is Gen with a userbuf. A nil userbuf means none (same as Gen).
func GenWithBuf(sdkappid int64, key, identifier string, expire int64, userbuf []byte, now time.Time) (string, error) {
	return gen(sdkappid, key, identifier, expire, userbuf, userbuf != nil, now)
}

func gen(sdkappid int64, key, identifier string, expire int64, userbuf []byte, hasBuf bool, now time.Time) (string, error) {
	// The public libraries omit zero/empty fields from the JSON, so such sigs would not
	// round-trip; refuse them instead of issuing something nobody can verify.
	if sdkappid <= 0 || identifier == "" || expire <= 0 {
		return "", errs.New(errs.InvalidParameters, "usersig: sdkappid, identifier and expire must be set")
	}
	c := Claims{Identifier: identifier, SDKAppID: sdkappid, Time: now.Unix(), Expire: expire,
		UserBuf: userbuf, HasUserBuf: hasBuf}
	c.Sig = base64.StdEncoding.EncodeToString(sign(key, c))

	// Field order as in the reference sigs: ver, identifier, sdkappid, expire, time, sig[, userbuf].
	doc := struct {
		Ver        string  `json:"TLS.ver"`
		Identifier string  `json:"TLS.identifier"`
		SDKAppID   int64   `json:"TLS.sdkappid"`
		Expire     int64   `json:"TLS.expire"`
		Time       int64   `json:"TLS.time"`
		Sig        string  `json:"TLS.sig"`
		UserBuf    *string `json:"TLS.userbuf,omitempty"`
	}{"2.0", c.Identifier, c.SDKAppID, c.Expire, c.Time, c.Sig, nil}
	if hasBuf {
		s := base64.StdEncoding.EncodeToString(userbuf)
		doc.UserBuf = &s
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	w := zlib.NewWriter(&b) // default level, like the Python/PHP libraries
	if _, err := w.Write(js); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return toSig.Replace(base64.StdEncoding.EncodeToString(b.Bytes())), nil
}

// content is the exact text the HMAC covers; note time precedes expire here.
func content(c Claims) string {
	var b strings.Builder
	b.WriteString("TLS.identifier:" + c.Identifier + "\n")
	b.WriteString("TLS.sdkappid:" + strconv.FormatInt(c.SDKAppID, 10) + "\n")
	b.WriteString("TLS.time:" + strconv.FormatInt(c.Time, 10) + "\n")
	b.WriteString("TLS.expire:" + strconv.FormatInt(c.Expire, 10) + "\n")
	if c.HasUserBuf {
		b.WriteString("TLS.userbuf:" + base64.StdEncoding.EncodeToString(c.UserBuf) + "\n")
	}
	return b.String()
}

// sign is HMAC-SHA256 over content. The key is used as its UTF-8 bytes, not hex-decoded,
// exactly as the public libraries do.
func sign(key string, c Claims) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(content(c)))
	return m.Sum(nil)
}

// Verify checks sig for the app and identifier at time now. It returns nil or an *errs.Error.
// Order: decode, sdkappid, identifier, HMAC, expiry — so a forged sig never learns whether
// it would have been expired.
func Verify(sdkappid int64, key, identifier, sig string, now time.Time) error {
	_, err := VerifyClaims(sdkappid, key, identifier, sig, now)
	return err
}

// VerifyClaims is Verify that also returns the verified claims (for example the
// issue time, which a login compares with the user's last kick).
func VerifyClaims(sdkappid int64, key, identifier, sig string, now time.Time) (Claims, error) {
	c, err := Decode(sig)
	if err != nil {
		return Claims{}, err
	}
	if c.SDKAppID != sdkappid {
		return Claims{}, errs.New(errs.SigSDKAppID, "usersig: sdkappid mismatch (sig is for %d)", c.SDKAppID)
	}
	if c.Identifier != identifier {
		return Claims{}, errs.New(errs.SigIdentifier, "usersig: identifier mismatch (sig is for %q)", c.Identifier)
	}
	got, _ := base64.StdEncoding.DecodeString(c.Sig) // checked by Decode
	if !hmac.Equal(got, sign(key, c)) {
		return Claims{}, errs.New(errs.SigMismatch, "usersig: signature mismatch")
	}
	end := c.Time + c.Expire
	if c.Expire > 0 && end < c.Time { // overflow: treat as never expiring rather than wrapping
		end = math.MaxInt64
	}
	if now.Unix() > end {
		return Claims{}, errs.New(errs.SigExpired, "usersig: expired at %d", end)
	}
	return c, nil
}

// Decode returns the claims of a sig without checking the HMAC.
// Errors are *errs.Error with code SigEmpty or SigInvalid.
func Decode(sig string) (Claims, error) {
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return Claims{}, errs.New(errs.SigEmpty, "usersig: empty")
	}
	invalid := func(why string) (Claims, error) {
		return Claims{}, errs.New(errs.SigInvalid, "usersig: invalid: %s", why)
	}
	// Some clients percent-encode the sig once more; the sig alphabet itself has no '%'.
	if strings.Contains(sig, "%") {
		u, err := url.QueryUnescape(sig)
		if err != nil {
			return invalid("percent-encoding")
		}
		sig = u
	}
	raw, err := base64.StdEncoding.DecodeString(fromSig.Replace(sig))
	if err != nil {
		return invalid("base64")
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return invalid("zlib")
	}
	// ReadAll to EOF also checks the Adler-32 trailer, so truncation is caught.
	js, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil || len(js) > maxJSON {
		return invalid("zlib")
	}

	// json.Unmarshal tolerates the trailing "\n" that json.Encoder (the Go library) writes.
	var doc struct {
		Identifier *string `json:"TLS.identifier"`
		SDKAppID   flexInt `json:"TLS.sdkappid"`
		Expire     flexInt `json:"TLS.expire"`
		Time       flexInt `json:"TLS.time"`
		Sig        *string `json:"TLS.sig"`
		UserBuf    *string `json:"TLS.userbuf"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		return invalid("json")
	}
	if doc.Identifier == nil || !doc.SDKAppID.ok || !doc.Expire.ok || !doc.Time.ok || doc.Sig == nil {
		return invalid("missing field")
	}
	if _, err := base64.StdEncoding.DecodeString(*doc.Sig); err != nil {
		return invalid("TLS.sig")
	}
	c := Claims{Identifier: *doc.Identifier, SDKAppID: doc.SDKAppID.v, Time: doc.Time.v,
		Expire: doc.Expire.v, Sig: *doc.Sig}
	if doc.UserBuf != nil {
		if c.UserBuf, err = base64.StdEncoding.DecodeString(*doc.UserBuf); err != nil {
			return invalid("userbuf")
		}
		c.HasUserBuf = true
	}
	return c, nil
}

// flexInt is an integer JSON field that some signers write as a number and others as a
// string of digits (seen for TLS.sdkappid). ok reports that the field was present.
type flexInt struct {
	v  int64
	ok bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil // treated as missing
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err
	}
	f.v, f.ok = v, true
	return nil
}
