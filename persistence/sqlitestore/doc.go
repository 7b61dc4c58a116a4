// Package sqlitestore is the SQLite backend of package persistence: a
// store kept in a SQLite file (mattn/go-sqlite3, WAL mode), the truth on
// disk under the store's in-memory tables.
//
// It owns the schema and its migrations (schema.go), opening and checking
// a file (open.go: the lock, the application id and schema version,
// quick_check), loading the small tables and paging the big ones over
// prepared reads (load.go, source.go), and flushing the changed rows of
// committed units in one transaction of batched statements (flush.go). codecs (tables.go) is the one list that maps each table of
// persistence.Tables to its SQLite table; Load and Flush both walk it.
//
// Open(ctx, path, opts) opens a file store, or with path "" the in-memory
// store of package persistence, so a caller that takes a path from its
// user needs only this package's Open. It must not know what the rows
// mean: that is package kernel's.
package sqlitestore
