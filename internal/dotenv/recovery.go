package dotenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SaveRecovery stores data, typically a secret that could not be written to its .env
// file, in a new 0600 file in dir, creating dir with mode 0700 (and tightening it to 0700
// if it exists). The file is named after the token and the UTC time, such as
// "ci-runner-20260102T150405Z", with "-2", "-3"... if that name is taken; an existing file
// is never overwritten. The CLI passes os.UserConfigDir()/cfst/recovered as dir.
func SaveRecovery(dir, name string, data []byte) (path string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create recovery directory %q: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("restrict recovery directory %q: %w", dir, err)
	}
	base := recoveryName(name) + "-" + time.Now().UTC().Format("20060102T150405Z")
	file, err := createExclusive(dir, base)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			file.Close()
			os.Remove(file.Name())
		}
	}()
	if _, err := file.Write(data); err != nil {
		return "", stepError(file.Name(), "write recovery file", err)
	}
	if err := file.Sync(); err != nil {
		return "", stepError(file.Name(), "sync recovery file", err)
	}
	if err := file.Close(); err != nil {
		return "", stepError(file.Name(), "close recovery file", err)
	}
	if err := syncDir(dir); err != nil {
		return "", stepError(file.Name(), "sync directory", err)
	}
	return file.Name(), nil
}

// createExclusive creates dir/base, or dir/base-2 and so on, with O_EXCL and mode 0600.
func createExclusive(dir, base string) (*os.File, error) {
	for n := 1; n <= 100; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		path := filepath.Join(dir, name)
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, stepError(path, "create recovery file", err)
		}
		if err := file.Chmod(0o600); err != nil { // in case the umask took bits away
			file.Close()
			os.Remove(path)
			return nil, stepError(path, "set mode", err)
		}
		return file, nil
	}
	return nil, fmt.Errorf("create recovery file in %q: too many files named %q", dir, base)
}

// recoveryName makes a token name safe as a file name: letters, digits, '.', '_' and '-'
// stay, anything else becomes '_', and it never starts with a dot.
func recoveryName(name string) string {
	safe := strings.Map(func(r rune) rune {
		if r < 128 && (isNameByte(byte(r), false) || r == '.' || r == '-') {
			return r
		}
		return '_'
	}, name)
	safe = strings.TrimLeft(safe, ".")
	if len(safe) > 64 {
		safe = safe[:64]
	}
	if safe == "" {
		return "token"
	}
	return safe
}
