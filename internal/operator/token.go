package operator

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatd/chatd/internal/fileperm"
)

// TokenFile is the name of the operator token file inside the data directory.
const TokenFile = "operator.token"

// LoadOrCreateToken returns the operator token stored in dataDir/operator.token,
// creating the file (32 random bytes, hex, mode 0600; the directory with mode 0700
// if missing) when there is none. An existing file readable by others is made
// 0600. created reports whether it was written now.
// The file holds the token alone, without a trailing newline; surrounding
// whitespace is ignored when reading, so an operator may edit it.
func LoadOrCreateToken(dataDir string) (token string, path string, created bool, err error) {
	path = filepath.Join(dataDir, TokenFile)
	token, err = readToken(path)
	if err == nil {
		return token, path, false, fileperm.Private(path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", path, false, err
	}

	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", path, false, fmt.Errorf("operator token: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", path, false, fmt.Errorf("operator token: %w", err)
	}
	token = hex.EncodeToString(b)

	// O_EXCL: never overwrite a token another process wrote meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		token, err = readToken(path)
		return token, path, false, err
	}
	if err != nil {
		return "", path, false, fmt.Errorf("operator token: %w", err)
	}
	_, werr := f.WriteString(token)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", path, false, fmt.Errorf("operator token: writing %s: %w", path, werr)
	}
	return token, path, true, nil
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("operator token file %s is empty: delete it to have a new token written", path)
	}
	return t, nil
}
