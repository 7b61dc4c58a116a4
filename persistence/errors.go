package persistence

import "errors"

// Errors from Open. Each is wrapped with the file's path and the detail, so
// match them with errors.Is.
var (
	// ErrNotDatabase: the file is not a SQLite database, or is a SQLite
	// database of some other program.
	ErrNotDatabase = errors.New("not a kernel-actors database")
	// ErrNewerSchema: the store was written by a newer kernel-actors.
	ErrNewerSchema = errors.New("database schema is newer than this build")
	// ErrOlderSchema: a read-only open met a store a kernel must migrate
	// first.
	ErrOlderSchema = errors.New("database schema is older than this build")
	// ErrCorrupt: SQLite's integrity check failed.
	ErrCorrupt = errors.New("database is corrupt")
	// ErrReadOnly: the file or its directory cannot be written.
	ErrReadOnly = errors.New("database is not writable")
	// ErrLocked: another process (or another store in this one) has the
	// database open.
	ErrLocked = errors.New("database is in use")
)

// Errors from a Store in use.
var (
	// ErrFailed: an earlier flush failed, so memory is ahead of the file and
	// the store refuses all further work. Reopen to continue from the file.
	ErrFailed = errors.New("persistence: store failed; reopen it")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("persistence: store closed")
)
