package persistence

import (
	"database/sql"
	"strings"
)

// SchemaSQL is the whole current schema, for benchmarks that build a bare
// database to compare against.
func SchemaSQL() string { return strings.Join(migrations[:], "\n") }

// sqlConn is the SQLite connection of a file store.
func sqlConn(s *Store) *sql.Conn { return s.be.(*sqliteBackend).conn }
