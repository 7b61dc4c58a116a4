//go:build !unix

package sqlitestore

import "os"

// lockFile is a no-op where flock is not available; SQLite's own locking
// still keeps writers from corrupting the file.
func lockFile(path string) (*os.File, error) { return nil, nil }

func unlockFile(f *os.File) {}
