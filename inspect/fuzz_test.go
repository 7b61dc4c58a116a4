package inspect_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// schemaColumns lists, per table of the store's schema, its primary key
// and its other columns: what FuzzTamper may change.
var schemaColumns = []struct {
	table string
	key   []string
	cols  []string
}{
	{"meta", []string{"key"}, []string{"value"}},
	{"subclusters", []string{"subcluster_id"}, []string{"bootstrap", "config"}},
	{"vats", []string{"vat_id"}, []string{"name", "subcluster_id", "config", "state", "incarnation", "next_object", "next_promise"}},
	{"objects", []string{"kref"}, []string{"owner", "revoked", "reachable", "recognizable", "pins"}},
	{"promises", []string{"kref"}, []string{"state", "decider", "subscribers", "host_subscribed", "value_body", "value_slots", "refcount", "queue_head", "queue_tail"}},
	{"promise_queue", []string{"kpid", "seq"}, []string{"body", "slots", "result"}},
	{"clist", []string{"vat_id", "kref"}, []string{"vref", "reachable"}},
	{"run_queue", []string{"seq"}, []string{"kind", "target", "body", "slots", "result", "vat_id", "kpid"}},
	{"gc_actions", []string{"vat_id", "kind", "kref"}, nil},
	{"reap_queue", []string{"vat_id"}, []string{"seq"}},
	{"vatstore", []string{"vat_id", "key"}, []string{"value"}},
	{"vat_events", []string{"seq"}, []string{"vat_id", "incarnation", "event", "reason", "at_crank"}},
}

// How FuzzTamper writes its value.
const (
	asText = iota
	asInteger
	asNull
	asBlob
	deleteRow
	kinds
)

// FuzzTamper changes one value of one row of a real database (or deletes
// the row) by raw SQL, the way a person with sqlite3 could, with check
// constraints off, and runs the inspector on it: it must never panic, and
// it either refuses the file with an error or writes a whole report.
// The seed corpus is in testdata/fuzz/FuzzTamper; a finding is added
// there and to the tamperings of TestInspectTamperedStores.
func FuzzTamper(f *testing.F) {
	src := filepath.Join(f.TempDir(), "k.db")
	buildStore(f, src)
	pristine, err := os.ReadFile(src)
	require.NoError(f, err)
	_, err = os.Stat(src + "-wal")
	require.True(f, os.IsNotExist(err), "the closed store left no WAL to copy")

	f.Add(uint8(2), uint8(2), uint8(0), uint8(asText), "garbage{{")
	f.Add(uint8(3), uint8(2), uint8(1), uint8(asInteger), "-5")
	f.Fuzz(func(t *testing.T, table, col, row, kind uint8, value string) {
		tc := schemaColumns[int(table)%len(schemaColumns)]
		path := filepath.Join(t.TempDir(), "tampered.db")
		require.NoError(t, os.WriteFile(path, pristine, 0o600))
		if !tamperOne(t, path, tc.table, tc.key, tc.cols, int(col), int(row), int(kind)%kinds, value) {
			return // the row does not exist, or SQLite refused the change
		}
		text, js, _, err := inspectFile(context.Background(), path)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.Contains(t, text, "store ")
		require.True(t, json.Valid([]byte(js)))
	})
}

// tamperOne applies one change to the row'th row of table (in key order)
// and reports whether it was made.
func tamperOne(t *testing.T, path, table string, key, cols []string, col, row, kind int, value string) bool {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "PRAGMA ignore_check_constraints = ON")
	require.NoError(t, err)

	keys := strings.Join(key, ", ")
	which := fmt.Sprintf("(%s) = (SELECT %s FROM %s ORDER BY %s LIMIT 1 OFFSET %d)", keys, keys, table, keys, row%8)
	all := append(append([]string(nil), key...), cols...)
	var stmt string
	var arg any
	switch kind {
	case deleteRow:
		stmt = fmt.Sprintf("DELETE FROM %s WHERE %s", table, which)
	default:
		stmt = fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s", table, all[col%len(all)], which)
		switch kind {
		case asText:
			arg = value
		case asInteger:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				n = int64(len(value)) - 3
			}
			arg = n
		case asNull:
			arg = nil
		case asBlob:
			arg = []byte(value)
		}
	}
	var res sql.Result
	if kind == deleteRow {
		res, err = conn.ExecContext(ctx, stmt)
	} else {
		res, err = conn.ExecContext(ctx, stmt, arg)
	}
	if err != nil {
		return false // NOT NULL, UNIQUE: SQLite's own guard held
	}
	n, err := res.RowsAffected()
	require.NoError(t, err)
	return n > 0
}
