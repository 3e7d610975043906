// Package fileperm keeps the files that hold secrets or personal data (the
// database, the operator token, the notification log) readable by chatd's user
// alone, whatever the umask and whatever mode an earlier run left.
package fileperm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Private sets mode 0600 on the file at path when its group or others have
// any permission. A missing file is no error.
func Private(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("%s is readable by others and cannot be made private: %w", path, err)
	}
	return nil
}
