package inspect_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// buildStore leaves at path a kernel's database with a row in every
// table a tampering can reach: three vats (one terminated), objects
// exported, imported and revoked, a promise decided by a vat with a
// message queued on it, a promise settled, a run-queue item, vatstore
// keys and lifecycle events.
func buildStore(t testing.TB, path string) {
	t.Helper()
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("a", "a", "b", "c")
	a, b := d.Vat("a"), d.Vat("b")
	b.OnMethod["hold"] = func(c *kt.Call) error { return nil } // its result stays with b
	a.OnMethod["relay"] = func(c *kt.Call) error {
		p := c.Send(c.Slot(0), "hold", c.Slot(0))
		c.Send(p, "piped") // waits on b's promise
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "note", Value: "kept"})
		c.Fulfill(c.Result(), kt.Str("relayed"))
		return nil
	}
	d.Send(res.Roots["a"], "relay", res.Roots["b"])
	d.RunUntilQuiescent(0)
	d.Send(res.Roots["a"], "later") // queued, not run
	require.NoError(t, revoke(d, res.Roots["b"]))
	d.Terminate(res.VatIDs["c"])
	require.NoError(t, d.Store.Close(d.Ctx))
}

// tamperings change a real database the ways a person with sqlite3, a
// bad disk or a bug could: bad JSON, values of the wrong type, refs that
// do not parse, negative counts, references to nothing, missing rows.
// Check constraints are off, as they are for anyone who turns them off.
//
// A few change what the kernel cannot judge (opaque is set): a vat's own
// vatstore values, the lifecycle log (read by nobody at load), rows of a
// vat that does not exist (harmless, and not yet audited). Of those, only
// that inspect does not panic, and still reports, is asked.
var tamperings = []struct {
	name, sql string
	opaque    bool
}{
	{"vat config not JSON", `UPDATE vats SET config = 'garbage{{' WHERE vat_id = 'v1'`, false},
	{"vat config of the wrong shape", `UPDATE vats SET config = '{"bundle": 7, "parameters": [1]}'`, false},
	{"vat config null JSON", `UPDATE vats SET config = 'null'`, false},
	{"vat state unknown", `UPDATE vats SET state = 'zombie' WHERE vat_id = 'v2'`, false},
	{"vat incarnation text", `UPDATE vats SET incarnation = 'many'`, false},
	{"vat incarnation negative", `UPDATE vats SET incarnation = -7`, false},
	{"vat counters negative", `UPDATE vats SET next_object = -1, next_promise = -1`, false},
	{"vat in no subcluster", `UPDATE vats SET subcluster_id = 's99'`, false},
	{"vat row missing", `DELETE FROM vats WHERE vat_id = 'v2'`, false},
	{"every vat missing", `DELETE FROM vats`, false},
	{"subcluster rows missing", `DELETE FROM subclusters`, false},
	{"subcluster config not JSON", `UPDATE subclusters SET config = '{"vats": '`, false},
	{"object kref unparsable", `UPDATE objects SET kref = 'ko' WHERE kref = 'ko1'`, false},
	{"object kref a promise", `UPDATE objects SET kref = 'kp900' WHERE kref = 'ko1'`, false},
	{"object owner unknown", `UPDATE objects SET owner = 'v99'`, false},
	{"object counts negative", `UPDATE objects SET reachable = -5, recognizable = -2`, false},
	{"object counts huge", `UPDATE objects SET reachable = 9223372036854775807, recognizable = 9223372036854775807, pins = -9223372036854775808`, false},
	{"object counts text", `UPDATE objects SET reachable = 'lots'`, false},
	{"object rows missing", `DELETE FROM objects`, false},
	{"clist vref unparsable", `UPDATE clist SET vref = 'o+' WHERE vat_id = 'v1' AND kref = 'ko2'`, false},
	{"clist vrefs garbage", `UPDATE clist SET vref = 'zz' || kref`, false},
	{"clist kref unknown", `UPDATE clist SET kref = 'ko999' WHERE vref = 'o+0'`, false},
	{"clist kref unparsable", `UPDATE clist SET kref = '%%' WHERE vat_id = 'v1' AND kref = 'ko2'`, false},
	{"clist vat unknown", `UPDATE clist SET vat_id = 'v42' WHERE vat_id = 'v2'`, false},
	{"clist rows missing", `DELETE FROM clist`, false},
	{"promise subscribers not JSON", `UPDATE promises SET subscribers = '[v1'`, false},
	{"promise subscribers of the wrong type", `UPDATE promises SET subscribers = '[1, {}]'`, false},
	{"promise decider unknown", `UPDATE promises SET decider = 'v77'`, false},
	{"promise settled without a value", `UPDATE promises SET state = 'fulfilled', value_body = NULL, value_slots = NULL`, false},
	{"promise value garbage", `UPDATE promises SET state = 'rejected', value_body = 'garbage{{', value_slots = '["nonsense"]'`, false},
	{"promise value slots not JSON", `UPDATE promises SET state = 'fulfilled', value_body = '#1', value_slots = '{'`, false},
	{"promise state unknown", `UPDATE promises SET state = 'pending'`, false},
	{"promise refcount negative", `UPDATE promises SET refcount = -1`, false},
	{"promise queue bounds reversed", `UPDATE promises SET queue_head = 10, queue_tail = 2`, false},
	{"promise queue bounds negative", `UPDATE promises SET queue_head = -5, queue_tail = -1`, false},
	{"promise kpid unparsable", `UPDATE promises SET kref = 'kpx' WHERE kref = 'kp2'`, false},
	{"promise rows missing", `DELETE FROM promises`, false},
	{"promise queue body garbage", `UPDATE promise_queue SET body = 'garbage{{', slots = '[1]'`, false},
	{"promise queue slots not JSON", `UPDATE promise_queue SET slots = 'not json'`, false},
	{"promise queue for no promise", `UPDATE promise_queue SET kpid = 'kp999'`, false},
	{"run queue body garbage", `UPDATE run_queue SET body = 'garbage{{'`, false},
	{"run queue kind unknown", `UPDATE run_queue SET kind = 'poke'`, false},
	{"run queue target unparsable", `UPDATE run_queue SET target = 'nope', result = '??'`, false},
	{"run queue target unknown", `UPDATE run_queue SET target = 'ko999'`, false},
	{"run queue slots not JSON", `UPDATE run_queue SET slots = '['`, false},
	{"run queue notify of nothing", `INSERT INTO run_queue (seq, kind, vat_id, kpid) VALUES (1000, 'notify', 'v9', 'kp999')`, false},
	{"run queue seq negative", `UPDATE run_queue SET seq = -3`, false},
	{"gc action for nothing", `INSERT INTO gc_actions VALUES ('v9', 'dropExport', 'ko999')`, false},
	{"gc action kind unknown", `INSERT INTO gc_actions VALUES ('v1', 'eatExport', 'ko1')`, false},
	{"gc action kref unparsable", `INSERT INTO gc_actions VALUES ('v1', 'retireImport', 'q')`, false},
	{"reap of no vat", `INSERT INTO reap_queue VALUES ('v9', 5)`, false},
	{"vatstore of no vat", `UPDATE vatstore SET vat_id = 'v66'`, true},
	{"vatstore value a blob", `UPDATE vatstore SET value = x'00ff'`, true},
	{"meta counters rewound", `UPDATE meta SET value = '1'`, false},
	{"meta counters text", `UPDATE meta SET value = 'eleven'`, false},
	{"meta counters negative", `UPDATE meta SET value = '-4'`, false},
	{"meta rows missing", `DELETE FROM meta`, false},
	{"vat events garbage", `UPDATE vat_events SET incarnation = 'x', at_crank = -1, vat_id = 'v404'`, true},
	{"schema version newer", `PRAGMA user_version = 99`, false},
	{"application id wrong", `PRAGMA application_id = 7`, false},
}

// tamperedCopy copies the database at src (with its WAL, if any) into a
// fresh directory and runs sql on the copy.
func tamperedCopy(t testing.TB, src, sqlText string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "tampered.db")
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		if suffix != "" && os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst+suffix, data, 0o600))
	}
	db, err := sql.Open("sqlite3", dst)
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "PRAGMA ignore_check_constraints = ON")
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), sqlText)
	require.NoError(t, err, sqlText)
	return dst
}

// inspectFile does what `kernel-actors inspect --db path` does and
// returns the text and JSON it would print, or the error it would report.
// A panic fails the caller.
func inspectFile(ctx context.Context, path string) (text, js string, ok bool, err error) {
	st, err := sqlitestore.Open(ctx, path, persistence.Options{ReadOnly: true})
	if err != nil {
		return "", "", false, err
	}
	defer st.Close(ctx)
	rep, err := inspect.Read(ctx, st, true)
	if err != nil {
		return "", "", false, err
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		return "", "", false, err
	}
	j, err := json.Marshal(rep)
	if err != nil {
		return "", "", false, fmt.Errorf("report to JSON: %w", err)
	}
	return b.String(), string(j), rep.OK(), nil
}

// Every tampering of a real database is reported, never a panic: either
// opening it fails with an error that says what is wrong, or the report
// is not OK and says what it found.
func TestInspectTamperedStores(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "k.db")
	buildStore(t, src)
	text, _, ok, err := inspectFile(ctx, src)
	require.NoError(t, err)
	require.True(t, ok, text)

	for _, tt := range tamperings {
		t.Run(tt.name, func(t *testing.T) {
			path := tamperedCopy(t, src, tt.sql)
			text, js, ok, err := inspectFile(ctx, path)
			if err != nil {
				t.Logf("refused: %v", err)
				require.NotEmpty(t, err.Error())
				return
			}
			if tt.opaque {
				return
			}
			require.False(t, ok, "the tampering went unnoticed:\n%s", text)
			require.True(t, strings.Contains(text, "\nUNREADABLE: ") || strings.Contains(text, "\nAUDIT: ") && !strings.Contains(text, "AUDIT: ok"),
				"the text says what is wrong:\n%s", text)
			require.True(t, json.Valid([]byte(js)))
			t.Logf("reported:\n%s", lastLines(text, 6))
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
