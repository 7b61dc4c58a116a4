package sqlitestore

import (
	"context"
	"database/sql"
	"github.com/ocapgo/kernel-actors/persistence"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fillStore writes one row of every table to a new store file at path and
// closes it.
func fillStore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.NextID(persistence.MetaNextObject)
	s.NextID(persistence.MetaNextPromise)
	s.NextID(persistence.MetaNextPromise)
	s.PutSubcluster("s1", persistence.SubclusterRow{Bootstrap: "a", Config: `{"bootstrap":"a"}`})
	s.PutVat("v1", persistence.VatRow{Name: "a", Subcluster: "s1", Config: `{"bundle":"b"}`, State: persistence.VatActive, NextObject: 1, NextPromise: 1})
	s.PutObject("ko1", persistence.ObjectRow{Owner: "v1", Reachable: 1, Recognizable: 1, Pins: 1})
	s.PutPromise("kp1", persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v1", Subscribers: []string{"v1"}, RefCount: 2, QueueTail: 1})
	s.PutPromise("kp2", persistence.PromiseRow{State: persistence.PromiseFulfilled, Value: persistence.Data{Body: "#\"$0\"", Slots: []string{"ko1"}}, RefCount: 1})
	s.PutQueuedMessage("kp1", 0, persistence.Message{Methargs: persistence.Data{Body: "#[]", Slots: []string{"ko1"}}})
	s.PutCList("v1", "ko1", persistence.CListRow{VRef: "o+0", Reachable: true})
	s.Enqueue(persistence.QueueItem{Kind: persistence.QueueSend, Target: "ko1", Message: persistence.Message{Methargs: persistence.Data{Body: "#[]", Slots: []string{"ko1"}}, Result: "kp2"}})
	s.AddGCAction(persistence.GCActionKey{Vat: "v1", Kind: persistence.GCDropExport, KRef: "ko1"})
	s.AddReap("v1")
	s.VatstoreSet("v1", "k", "v")
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))
}

// tamper runs raw SQL on a closed store file, as a person with the sqlite3
// shell might.
func tamper(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	// Some tampering goes past the schema's CHECKs, as an older build or
	// a careless hand could.
	_, err = db.Exec("PRAGMA ignore_check_constraints = ON")
	require.NoError(t, err)
	res, err := db.Exec(stmt)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the tampering changed one row: %s", stmt)
}

// requireTamperRefused writes a row with put in a new store, then, for
// each of stmts, tampers with a fresh copy of it and requires Open to
// refuse the file as persistence.ErrCorrupt naming table.
func requireTamperRefused(t *testing.T, table string, put func(s *persistence.Store), stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range stmts {
		p := filepath.Join(t.TempDir(), "k.db")
		s, err := Open(ctx, p, persistence.Options{})
		require.NoError(t, err)
		require.NoError(t, s.Begin())
		put(s)
		_, err = s.Commit(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close(ctx))
		tamper(t, p, stmt)
		s, err = Open(ctx, p, persistence.Options{})
		if s != nil {
			s.Close(ctx)
		}
		require.ErrorIs(t, err, persistence.ErrCorrupt, stmt)
		require.Contains(t, err.Error(), table, stmt)
	}
}

// A row that cannot be loaded makes Open fail with persistence.ErrCorrupt, naming the
// file, the table, the row's key and the column; nothing is skipped. A row
// of a paged table (pagedTables) is read only when the kernel asks for it:
// a writable open succeeds, and the first read of the row fails the store
// with the same error, so no unit can commit on it.
func TestOpenRefusesRowsThatDoNotLoad(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		stmt    string
		wants   []string // each in the error
		checked bool     // breaks a schema CHECK: refused by a writable open only
		paged   bool     // a row of a paged table: a writable open fails at its first read
	}{
		{"meta counter not a number", `UPDATE meta SET value = 'many' WHERE key = 'next_object'`,
			[]string{"table meta", `key "next_object"`, `holds "many", not a number`}, false, false},
		{"vat counter of the wrong type", `UPDATE vats SET next_object = 'lots' WHERE vat_id = 'v1'`,
			[]string{"table vats", `vat_id "v1"`, "next_object"}, false, false},
		{"vat counter negative", `UPDATE vats SET next_promise = -4 WHERE vat_id = 'v1'`,
			[]string{"table vats", `vat_id "v1"`, "column next_promise: -4 is negative"}, false, false},
		{"object count of the wrong type", `UPDATE objects SET pins = 'one' WHERE kref = 'ko1'`,
			[]string{"table objects", `kref "ko1"`, "pins"}, false, true},
		{"promise subscribers not a list", `UPDATE promises SET subscribers = 'v1,v2' WHERE kref = 'kp1'`,
			[]string{"table promises", `kref "kp1"`, "column subscribers"}, false, true},
		{"promise value slots not strings", `UPDATE promises SET value_slots = '[1]' WHERE kref = 'kp2'`,
			[]string{"table promises", `kref "kp2"`, "column value_slots"}, false, true},
		{"promise queue bound negative", `UPDATE promises SET queue_head = -1 WHERE kref = 'kp1'`,
			[]string{"table promises", `kref "kp1"`, "column queue_head: -1 is negative"}, false, true},
		{"queued message slots not JSON", `UPDATE promise_queue SET slots = '[ko1' WHERE kpid = 'kp1'`,
			[]string{"table promise_queue", `kpid "kp1", seq 0`, "column slots"}, false, true},
		{"c-list flag of the wrong type", `UPDATE clist SET reachable = 'yes' WHERE vat_id = 'v1'`,
			[]string{"table clist", `vat_id "v1", kref "ko1"`, "reachable"}, false, true},
		{"run queue slots not JSON", `UPDATE run_queue SET slots = '{}'`,
			[]string{"table run_queue", "seq 1", "column slots"}, false, true},
		{"run queue seq negative", `UPDATE run_queue SET seq = -7`,
			[]string{"table run_queue", "seq -7", "column seq: -7 is negative"}, false, false},
		{"reap seq negative", `UPDATE reap_queue SET seq = -2 WHERE vat_id = 'v1'`,
			[]string{"table reap_queue", `vat_id "v1"`, "column seq: -2 is negative"}, false, false},
		// The schema's CHECKs are enforced by quick_check at Open, which
		// names only the table; the rows are named too. (SQLite checks
		// them only on a writable open: a read-only one, as inspect makes,
		// loads such a row, and the auditor reports it.) A writable open
		// checks only the tables it loads whole; a paged table's rows are
		// checked as they are read, unless Options.FullCheck asks for the
		// whole file at open.
		{"unknown vat state", `UPDATE vats SET state = 'paused' WHERE vat_id = 'v1'`,
			[]string{"CHECK constraint failed in vats", `table vats, row vat_id "v1" breaks CHECK (state IN`}, true, false},
		{"unknown promise state", `UPDATE promises SET state = 'pending' WHERE kref = 'kp2'`,
			[]string{`table promises, row kref "kp2"`, `breaks CHECK (state IN`}, true, true},
		{"negative promise refcount", `UPDATE promises SET refcount = -1 WHERE kref = 'kp1'`,
			[]string{`table promises, row kref "kp1"`, `breaks CHECK (refcount >= 0)`}, true, true},
		{"object counts out of order", `UPDATE objects SET reachable = 5 WHERE kref = 'ko1'`,
			[]string{`table objects, row kref "ko1"`, `breaks CHECK (0 <= reachable AND reachable <= recognizable)`}, true, true},
		{"unknown queue kind", `UPDATE run_queue SET kind = 'ping'`,
			[]string{"table run_queue, row seq 1", "breaks CHECK (kind IN"}, true, true},
		{"unknown GC kind", `UPDATE gc_actions SET kind = 'dropAll'`,
			[]string{`table gc_actions, row vat_id "v1", kind "dropAll", kref "ko1" breaks CHECK (kind IN`}, true, false},
		{"run queue with a gap", `INSERT INTO run_queue (seq, kind, vat_id, kpid) VALUES (5, 'notify', 'v1', 'kp2')`,
			[]string{"table run_queue", "2 items spread over seq 1..5"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			fillStore(t, path)
			s, err := Open(ctx, path, persistence.Options{})
			require.NoError(t, err, "the store loads before the tampering")
			require.NoError(t, s.Close(ctx))
			tamper(t, path, tt.stmt)
			for _, ro := range []bool{false, true} {
				s, err := Open(ctx, path, persistence.Options{ReadOnly: ro})
				if s != nil {
					s.Close(ctx)
				}
				if ro && tt.checked {
					require.NoError(t, err, "a read-only open does not check CHECKs")
					continue
				}
				if !ro && tt.paged && tt.checked {
					// The whole file's quick_check still finds it at open.
					full, ferr := Open(ctx, path, persistence.Options{FullCheck: true})
					if full != nil {
						full.Close(ctx)
					}
					require.ErrorIs(t, ferr, persistence.ErrCorrupt, "FullCheck")
					require.Contains(t, ferr.Error(), "CHECK constraint failed in")
				}
				if !ro && tt.paged {
					require.NoError(t, err, "a paged table's rows are read on demand")
					s, err = Open(ctx, path, persistence.Options{})
					require.NoError(t, err)
					readAll(s)
					err = s.Err()
					require.ErrorIs(t, err, persistence.ErrFailed, "a row that does not decode fails the store")
					require.NoError(t, s.Close(ctx))
				}
				require.ErrorIs(t, err, persistence.ErrCorrupt, "read-only %v", ro)
				require.Contains(t, err.Error(), path, "the error names the file")
				for _, w := range tt.wants {
					require.Contains(t, err.Error(), w)
				}
			}
		})
	}
}

// readAll reads every row of every paged table, as the auditor does.
func readAll(s *persistence.Store) {
	for _, k := range s.ObjectKRefs() {
		s.Object(k)
	}
	for _, k := range s.PromiseKPIDs() {
		s.Promise(k)
	}
	for _, k := range s.QueuedMessageKeys() {
		s.QueuedMessage(k.KPID, k.Seq)
	}
	for _, v := range s.VatIDs() {
		for _, k := range s.CListKRefs(v) {
			s.CList(v, k)
		}
	}
	s.QueueItems()
}
