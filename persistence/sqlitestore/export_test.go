package sqlitestore

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/ocapgo/kernel-actors/persistence"
)

// SchemaSQL is the whole current schema, for benchmarks that build a bare
// database to compare against.
func SchemaSQL() string { return strings.Join(migrations[:], "\n") }

// sqlConn opens a second connection to the file of store s, closed when
// the test ends: what a person with the sqlite3 shell would see.
func sqlConn(t testing.TB, s *persistence.Store) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+s.Path())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); db.Close() })
	return conn
}
