package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The files serve keeps beside its database: PATH.token, the bearer token
// (a new one at each start), and PATH.addr, the address it listens on,
// where clients find it. Both are private (0600) and written by
// WritePrivate.

// TokenPath is where serve keeps the token of the kernel at dbPath.
func TokenPath(dbPath string) string { return dbPath + ".token" }

// AddrPath is where serve writes the address it listens on.
func AddrPath(dbPath string) string { return dbPath + ".addr" }

// ErrSymlink is wrapped by WritePrivate's error for a path that is a
// symbolic link.
var ErrSymlink = errors.New("is a symbolic link")

// NewToken makes a fresh random token (256 bits, hex).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// WriteToken writes token to path with WritePrivate.
func WriteToken(path, token string) error {
	return WritePrivate(path, []byte(token+"\n"))
}

// WritePrivate writes data to path with mode 0600, atomically: it writes
// a new file in the same directory and renames it over path, so a reader
// sees the old content or the new, never half of either, and a crash
// leaves no half-written file.
//
// It never writes through a symbolic link: a path that is one is refused
// (ErrSymlink) rather than followed, since a link planted at PATH.token
// could otherwise point the secret, or a chosen address, anywhere the
// daemon may write. The rename would replace a link planted after the
// check, not follow it; the check is there to say so clearly. A directory
// at path is refused too.
func WritePrivate(path string, data []byte) error {
	fail := func(err error) error { return fmt.Errorf("control: write %s: %w", path, err) }
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return fail(fmt.Errorf("%w; refusing to write through it (remove it, or use another --db path)", ErrSymlink))
		case fi.IsDir():
			return fail(errors.New("is a directory"))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // O_EXCL: never an existing file
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fail(err)
	}
	// In the file before its name: a crash after the rename must not
	// leave an empty file under it.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// ReadToken reads a token file written by WriteToken.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("control: read token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("control: read token: %s is empty", path)
	}
	return t, nil
}
