package usersig

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// Fixed vectors from docs/rest-api.md §2 (checked there with the official Go verifier).
const (
	vApp    = int64(1400000000)
	vKey    = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	vID     = "xiaojun"
	vTime   = int64(1700000000)
	vExpire = int64(15552000)

	vContent = "TLS.identifier:xiaojun\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:15552000\n"
	vHMAC    = "2ef03b77f230ee04ac9ec92f5730433ce0820dbb8d0b0e061f04c2d1b8a9f81e"
	vSig     = "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4="
	vJSON    = `{"TLS.ver":"2.0","TLS.identifier":"xiaojun","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1700000000,"TLS.sig":"LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4="}`
	vUserSig = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMikVhRkFqUCxU1NTY3goiWZuSAxc1S1xZnpQJN9yhzNU-Q9y83Tg4vzirPLwqqcXAL8nZ1dkkr9nMtN3D3KQ5wNkjILtJ1MbJVqAa3HMfI_"

	vBufContent = vContent + "TLS.userbuf:YWJj\n"
	vBufSig     = "QjT201xPkXk/aM1e+y0vakZb0K2iPrFue++0s5y6bFM="
	vBufJSON    = `{"TLS.ver":"2.0","TLS.identifier":"xiaojun","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1700000000,"TLS.sig":"QjT201xPkXk/aM1e+y0vakZb0K2iPrFue++0s5y6bFM=","TLS.userbuf":"YWJj"}`
	vBufUserSig = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMikVhRkFqUCxU1NTY3goiWZuSAxc1S1xZnpQJMDs0KMDAwrArIjsvUTfQ1TtSsNyhKzo5IMvI0yA4rcSlO1tQ2KTSvNktx8baHWlxanFiWVpgE1R4Z7ZSnVAgDqeTfa"
)

var (
	vValidAt   = time.Unix(1700000100, 0)
	vExpiredAt = time.Unix(vTime+vExpire+1, 0)
)

// pack builds a sig from raw JSON at a zlib level, independently of Gen.
func pack(t testing.TB, js string, level int) string {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(js))
	w.Close()
	return strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(base64.StdEncoding.EncodeToString(b.Bytes()))
}

// unpack returns the JSON inside a sig, independently of Decode.
func unpack(t testing.TB, sig string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.NewReplacer("*", "+", "-", "/", "_", "=").Replace(sig))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// wantCode fails unless err is an *errs.Error with code (0 means nil).
func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("want nil, got %v", err)
		}
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("want code %d, got %v", code, err)
	}
}

func TestVectors(t *testing.T) {
	tests := []struct {
		name                   string
		buf                    []byte
		content, sig, js, usig string
	}{
		{"plain", nil, vContent, vSig, vJSON, vUserSig},
		{"userbuf", []byte("abc"), vBufContent, vBufSig, vBufJSON, vBufUserSig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Claims{Identifier: vID, SDKAppID: vApp, Time: vTime, Expire: vExpire, UserBuf: tc.buf, HasUserBuf: tc.buf != nil}
			if got := content(c); got != tc.content {
				t.Errorf("content = %q, want %q", got, tc.content)
			}
			mac := sign(vKey, c)
			if got := base64.StdEncoding.EncodeToString(mac); got != tc.sig {
				t.Errorf("TLS.sig = %s, want %s", got, tc.sig)
			}
			if tc.buf == nil && hex.EncodeToString(mac) != vHMAC {
				t.Errorf("HMAC = %x, want %s", mac, vHMAC)
			}

			// Gen at the vector time yields exactly the vector JSON, at the default level ("eJ").
			g, err := GenWithBuf(vApp, vKey, vID, vExpire, tc.buf, time.Unix(vTime, 0))
			if err != nil {
				t.Fatal(err)
			}
			if got := unpack(t, g); got != tc.js {
				t.Errorf("Gen JSON = %s, want %s", got, tc.js)
			}
			if !strings.HasPrefix(g, "eJ") {
				t.Errorf("Gen not at default zlib level: %s", g[:4])
			}

			// The given level-6 sig: valid until time+expire inclusive, expired one second later.
			wantCode(t, Verify(vApp, vKey, vID, tc.usig, vValidAt), 0)
			wantCode(t, Verify(vApp, vKey, vID, tc.usig, time.Unix(vTime+vExpire, 0)), 0)
			wantCode(t, Verify(vApp, vKey, vID, tc.usig, vExpiredAt), errs.SigExpired)

			cl, err := Decode(tc.usig)
			if err != nil {
				t.Fatal(err)
			}
			want := Claims{Identifier: vID, SDKAppID: vApp, Time: vTime, Expire: vExpire, Sig: tc.sig, UserBuf: tc.buf, HasUserBuf: tc.buf != nil}
			if cl.Identifier != want.Identifier || cl.SDKAppID != want.SDKAppID || cl.Time != want.Time ||
				cl.Expire != want.Expire || cl.Sig != want.Sig || !bytes.Equal(cl.UserBuf, want.UserBuf) || cl.HasUserBuf != want.HasUserBuf {
				t.Errorf("Decode = %+v, want %+v", cl, want)
			}
		})
	}
}

// Cross-check with the public Go library in both directions.
func TestPublicLibrary(t *testing.T) {
	ids := []string{"xiaojun", "user_1-A", "a"}
	bufs := [][]byte{nil, []byte("abc"), {0, 1, 2, 0xff}}
	for _, id := range ids {
		for _, buf := range bufs {
			// Theirs -> ours. GenUserSig uses time.Now and zlib level 0.
			var theirs string
			var err error
			if buf == nil {
				theirs, err = tencentyun.GenUserSig(int(vApp), vKey, id, 86400)
			} else {
				theirs, err = tencentyun.GenUserSigWithBuf(int(vApp), vKey, id, 86400, buf)
			}
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			wantCode(t, Verify(vApp, vKey, id, theirs, now), 0)
			wantCode(t, Verify(vApp, vKey+"x", id, theirs, now), errs.SigMismatch)
			wantCode(t, Verify(vApp, vKey, id, theirs, now.Add(86401*time.Second)), errs.SigExpired)
			if c, err := Decode(theirs); err != nil || c.HasUserBuf != (buf != nil) || !bytes.Equal(c.UserBuf, buf) {
				t.Fatalf("Decode(theirs) = %+v, %v", c, err)
			}

			// Ours -> theirs.
			ours, err := GenWithBuf(vApp, vKey, id, 86400, buf, now)
			if err != nil {
				t.Fatal(err)
			}
			var lib, forged error
			if buf == nil {
				lib = tencentyun.VerifyUserSig(uint64(vApp), vKey, id, ours, now)
				forged = tencentyun.VerifyUserSig(uint64(vApp), vKey+"x", id, ours, now)
			} else {
				lib = tencentyun.VerifyUserSigWithBuf(uint64(vApp), vKey, id, ours, now, buf)
				forged = tencentyun.VerifyUserSigWithBuf(uint64(vApp), vKey+"x", id, ours, now, buf)
			}
			if lib != nil {
				t.Errorf("library rejects our sig (id %q, buf %v): %v", id, buf, lib)
			}
			if forged != tencentyun.ErrSigNotMatch {
				t.Errorf("library accepts our sig with a wrong key: %v", forged)
			}
		}
	}
	// The library's own verifier also accepts the fixed vectors, so the vectors are not ours alone.
	if err := tencentyun.VerifyUserSig(uint64(vApp), vKey, vID, vUserSig, vValidAt); err != nil {
		t.Errorf("library rejects vector: %v", err)
	}
}

// Any zlib level, the Go encoder's trailing newline, a string sdkappid and percent-encoding all verify.
func TestLenientDecoding(t *testing.T) {
	type tc struct {
		name, sig string
	}
	var tests []tc
	for level := zlib.NoCompression; level <= zlib.BestCompression; level++ {
		tests = append(tests,
			tc{"level" + string(rune('0'+level)), pack(t, vJSON, level)},
			tc{"level" + string(rune('0'+level)) + "+newline", pack(t, vJSON+"\n", level)},
			tc{"userbuf-level" + string(rune('0'+level)), pack(t, vBufJSON, level)},
		)
	}
	tests = append(tests,
		tc{"sdkappid as string", pack(t, strings.Replace(vJSON, "1400000000", `"1400000000"`, 1), 6)},
		tc{"fields reordered", pack(t, `{"TLS.sig":"`+vSig+`","TLS.time":1700000000,"TLS.expire":15552000,"TLS.sdkappid":1400000000,"TLS.identifier":"xiaojun","TLS.ver":"2.0"}`, 6)},
		tc{"percent-encoded", pctEncode(vUserSig)},
		tc{"percent-encoded userbuf", pctEncode(vBufUserSig)},
		tc{"percent-encoded * - _", pctEncode(pack(t, vJSON, 1))},
		tc{"surrounding whitespace", " " + vUserSig + "\r\n"},
	)
	if s := pack(t, vJSON, 1); !strings.Contains(s, "*") || !strings.Contains(s, "-") || !strings.Contains(s, "_") {
		t.Fatal("percent-encoded cases do not cover all substituted characters")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, Verify(vApp, vKey, vID, tt.sig, vValidAt), 0)
		})
	}
}

func TestRefusals(t *testing.T) {
	tamper := func(old, new string) string { return pack(t, strings.Replace(vJSON, old, new, 1), 6) }
	tests := []struct {
		name string
		app  int64
		key  string
		id   string
		sig  string
		now  time.Time
		code int
	}{
		{"empty", vApp, vKey, vID, "", vValidAt, errs.SigEmpty},
		{"blank", vApp, vKey, vID, "  \n", vValidAt, errs.SigEmpty},
		{"garbage", vApp, vKey, vID, "hello world", vValidAt, errs.SigInvalid},
		{"truncated", vApp, vKey, vID, vUserSig[:len(vUserSig)-8], vValidAt, errs.SigInvalid},
		{"truncated at base64 boundary", vApp, vKey, vID, vUserSig[:len(vUserSig)-4], vValidAt, errs.SigInvalid},
		{"bad base64", vApp, vKey, vID, "eJ!!" + vUserSig[4:], vValidAt, errs.SigInvalid},
		{"bad percent-encoding", vApp, vKey, vID, vUserSig + "%zz", vValidAt, errs.SigInvalid},
		{"not zlib", vApp, vKey, vID, strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(base64.StdEncoding.EncodeToString([]byte(vJSON))), vValidAt, errs.SigInvalid},
		{"not json", vApp, vKey, vID, pack(t, "not json", 6), vValidAt, errs.SigInvalid},
		{"missing sig", vApp, vKey, vID, tamper(`,"TLS.sig":"`+vSig+`"`, ""), vValidAt, errs.SigInvalid},
		{"missing identifier", vApp, vKey, vID, tamper(`"TLS.identifier":"xiaojun",`, ""), vValidAt, errs.SigInvalid},
		{"missing sdkappid", vApp, vKey, vID, tamper(`"TLS.sdkappid":1400000000,`, ""), vValidAt, errs.SigInvalid},
		{"missing expire", vApp, vKey, vID, tamper(`"TLS.expire":15552000,`, ""), vValidAt, errs.SigInvalid},
		{"missing time", vApp, vKey, vID, tamper(`"TLS.time":1700000000,`, ""), vValidAt, errs.SigInvalid},
		{"non-numeric sdkappid", vApp, vKey, vID, tamper("1400000000", `"14x"`), vValidAt, errs.SigInvalid},
		{"TLS.sig not base64", vApp, vKey, vID, tamper(vSig, "!!"), vValidAt, errs.SigInvalid},
		{"wrong app", vApp + 1, vKey, vID, vUserSig, vValidAt, errs.SigSDKAppID},
		{"wrong identifier", vApp, vKey, "xiaojun2", vUserSig, vValidAt, errs.SigIdentifier},
		{"wrong key (forged)", vApp, vKey[1:] + "0", vID, vUserSig, vValidAt, errs.SigMismatch},
		{"hex-decoded key is not the key", vApp, string(mustHex(vKey)), vID, vUserSig, vValidAt, errs.SigMismatch},
		{"expired", vApp, vKey, vID, vUserSig, vExpiredAt, errs.SigExpired},
		{"expire raised without re-signing", vApp, vKey, vID, tamper("15552000", "315360000"), vExpiredAt, errs.SigMismatch},
		{"time moved without re-signing", vApp, vKey, vID, tamper(`"TLS.time":1700000000`, `"TLS.time":1700000001`), vValidAt, errs.SigMismatch},
		{"identifier swapped without re-signing", vApp, vKey, "admin", tamper(`"xiaojun"`, `"admin"`), vValidAt, errs.SigMismatch},
		{"userbuf added without re-signing", vApp, vKey, vID, tamper(`}`, `,"TLS.userbuf":"YWJj"}`), vValidAt, errs.SigMismatch},
		{"userbuf removed without re-signing", vApp, vKey, vID, pack(t, strings.Replace(vBufJSON, `,"TLS.userbuf":"YWJj"`, "", 1), 6), vValidAt, errs.SigMismatch},
		{"userbuf changed without re-signing", vApp, vKey, vID, pack(t, strings.Replace(vBufJSON, "YWJj", "YWJk", 1), 6), vValidAt, errs.SigMismatch},
		// Check order: app before identifier, HMAC before expiry.
		{"order: app before identifier", vApp + 1, vKey, "other", vUserSig, vValidAt, errs.SigSDKAppID},
		{"order: identifier before HMAC", vApp, "wrong", "other", vUserSig, vValidAt, errs.SigIdentifier},
		{"order: HMAC before expiry", vApp, "wrong", vID, vUserSig, vExpiredAt, errs.SigMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, Verify(tt.app, tt.key, tt.id, tt.sig, tt.now), tt.code)
		})
	}
}

// pctEncode percent-encodes the sig alphabet's punctuation, as some HTTP clients do.
func pctEncode(s string) string {
	return strings.NewReplacer("*", "%2A", "-", "%2D", "_", "%5F").Replace(s)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestGenRejectsUnverifiableInput(t *testing.T) {
	now := time.Unix(vTime, 0)
	tests := []struct {
		name   string
		app    int64
		id     string
		expire int64
	}{
		{"zero app", 0, vID, vExpire},
		{"empty identifier", vApp, "", vExpire},
		{"zero expire", vApp, vID, 0},
		{"negative expire", vApp, vID, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Gen(tt.app, vKey, tt.id, tt.expire, now); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "%", "%zz", "eJ", "hello", vUserSig, vBufUserSig, pctEncode(vUserSig),
		vUserSig[:40], pack(f, `{"TLS.sdkappid":"1","TLS.expire":9223372036854775807,"TLS.time":9223372036854775807}`, 0)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sig string) {
		err := Verify(vApp, vKey, vID, sig, vValidAt)
		var e *errs.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Verify returned a non-*errs.Error: %T %v", err, err)
		}
		if _, err := Decode(sig); err != nil && !errors.As(err, &e) {
			t.Fatalf("Decode returned a non-*errs.Error: %T %v", err, err)
		}
	})
}
