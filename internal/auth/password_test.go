package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/errs"
)

// cheap parameters keep the tests quick; DefaultParams are tested once.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestValidPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"7 bytes", "1234567", false},
		{"8 bytes", "12345678", true},
		{"256 bytes", strings.Repeat("a", 256), true},
		{"257 bytes", strings.Repeat("a", 257), false},
		{"multi-byte counted in bytes: 4 runes = 8 bytes", "éééé", true},
		{"3 runes = 6 bytes", "ééé", false},
		{"invalid UTF-8", "abcdefg\xff", false},
		{"NUL", "abcdefg\x00", false},
		{"spaces are allowed", "  pass phrase  ", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidPassword(tc.pw)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidPassword(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
			}
			if err != nil && !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	h := HashPassword("correct horse", DefaultParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not name argon2id with the default parameters", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash holds the password")
	}
	if ok, err := CheckPassword(h, "correct horse"); err != nil || !ok {
		t.Fatalf("right password: %v, %v", ok, err)
	}
	if ok, err := CheckPassword(h, "correct horsf"); err != nil || ok {
		t.Fatalf("wrong password: %v, %v", ok, err)
	}
	// A new salt each time.
	if h2 := HashPassword("correct horse", DefaultParams); h2 == h {
		t.Fatal("two hashes of one password are equal")
	}
	// The parameters a hash names are used, so older ones still verify.
	old := HashPassword("correct horse", cheap)
	if ok, err := CheckPassword(old, "correct horse"); err != nil || !ok {
		t.Fatalf("hash with other parameters: %v, %v", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good := HashPassword("password1", cheap)
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plain",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=999999999", 1), // over the memory bound
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		strings.Join(append(parts[:5:5], "AAAA"), "$"), // key too short
		good + "$extra",
	} {
		if ok, err := CheckPassword(h, "password1"); err == nil || ok {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}
