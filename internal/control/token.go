package control

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TokenPath is where serve keeps the token of the kernel at dbPath.
func TokenPath(dbPath string) string { return dbPath + ".token" }

// NewToken makes a fresh random token (256 bits, hex).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// WriteToken writes token to path with mode 0600, replacing any older
// file atomically (a reader never sees half a token).
func WriteToken(path, token string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("control: write token: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("control: write token: %w", err)
	}
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("control: write token: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("control: write token: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("control: write token: %w", err)
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
