package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
)

// Password bounds, in bytes.
const (
	MinPasswordBytes = 8
	MaxPasswordBytes = 256
)

// Params are argon2id parameters: Memory in KiB, Time (passes) and Threads.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultParams are the parameters new hashes use: argon2id with 19 MiB, two
// passes and one thread (the OWASP password-storage recommendation), a 16-byte
// salt and a 32-byte key (docs/decisions.md).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltBytes = 16
	keyBytes  = 32
)

// Bounds on the parameters a stored hash may name, so that a tampered row
// cannot make a sign-in allocate without limit.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 16
)

// ValidPassword checks a password: MinPasswordBytes to MaxPasswordBytes bytes
// of valid UTF-8 without NUL. Errors wrap errs.ErrInvalid.
func ValidPassword(pw string) error {
	if len(pw) < MinPasswordBytes || len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: password must be %d to %d bytes long, not %d", errs.ErrInvalid, MinPasswordBytes, MaxPasswordBytes, len(pw))
	}
	if err := input.Text(pw); err != nil {
		return fmt.Errorf("%w: password must be valid UTF-8 without NUL", errs.ErrInvalid)
	}
	return nil
}

// HashPassword returns the PHC-encoded argon2id hash of pw with a new random
// salt: "$argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<key>" (base64
// without padding).
func HashPassword(pw string, p Params) string {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyBytes)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash: a stored hash this package cannot read.
var errBadHash = errors.New("auth: malformed password hash")

// CheckPassword reports whether pw matches the encoded hash, using the
// parameters the hash names (so hashes made with older parameters still
// verify). The comparison is in constant time.
func CheckPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Memory > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || p.Threads == 0 || p.Threads > maxThreads {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// hasher bounds how many hashes run at once: each holds Params.Memory KiB.
type hasher chan struct{}

func (h hasher) do(ctx context.Context, fn func()) error {
	select {
	case h <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h }()
	fn()
	return nil
}
