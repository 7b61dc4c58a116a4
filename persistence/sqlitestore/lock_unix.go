//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/ocapgo/kernel-actors/persistence"
)

// lockFile takes an exclusive advisory lock on path (created 0600 if need
// be) so that two kernels never run on one database. SQLite's own locks
// would let both open it and interleave their commits; this refuses the
// second at Open with a clear error. Readers such as the sqlite3 shell do
// not take this lock and are not refused.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w: cannot create lock file %q: %v", persistence.ErrReadOnly, path, err)
		}
		return nil, fmt.Errorf("persistence: lock file %q: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another kernel holds %q", persistence.ErrLocked, path)
		}
		return nil, fmt.Errorf("persistence: lock %q: %w", path, err)
	}
	return f, nil
}

func unlockFile(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
