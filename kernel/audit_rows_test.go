package kernel_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// auditFixture is a real store file with a little of everything, as a
// kernel left it: subcluster s1 with vats a (v1) and b (v2); v1 imports
// b's root as o-1 and sent b a message whose result promise b decides and
// holds as p-1; the host sent a message to that promise (queued on it),
// and one more to b's root that waits in the run queue.
type auditFixture struct {
	path         string
	rootA, rootB kernel.KRef
	decided      kernel.KRef // the promise b decides
}

func newAuditFixture(t *testing.T) auditFixture {
	t.Helper()
	fx := auditFixture{path: filepath.Join(t.TempDir(), "k.db")}
	d := kt.NewWithOptions(t, fx.path, persistence.Options{})
	res := d.Launch("a", "a", "b")
	fx.rootA, fx.rootB = res.Roots["a"], res.Roots["b"]
	d.Vat("a").OnMethod["hello"] = func(c *kt.Call) error {
		c.Send(c.Slot(0), "ask")
		return c.Fulfill(c.Result(), kt.Str("hi")).Err
	}
	d.Vat("b").OnMethod["ask"] = func(c *kt.Call) error { return nil } // decides, never resolves
	d.Send(fx.rootA, "hello", fx.rootB)
	d.RunUntilQuiescent(0)
	for _, kp := range d.Store.PromiseKPIDs() {
		if p, _ := d.Store.Promise(kp); p.Decider == string(res.VatIDs["b"]) {
			fx.decided = kernel.KRef(kp)
		}
	}
	require.NotEmpty(t, fx.decided)
	d.Send(fx.decided, "later")
	d.RunUntilQuiescent(0)
	d.Send(fx.rootB, "pending", fx.rootA)
	require.Len(t, d.Store.QueuedMessageKeys(), 1, "a message waits on the promise")
	require.Equal(t, 1, d.Store.QueueLen(), "a message waits in the run queue")
	e, ok := d.Store.CList("v1", string(fx.rootB))
	require.True(t, ok)
	require.Equal(t, "o-1", e.VRef)
	e, ok = d.Store.CList("v2", string(fx.decided))
	require.True(t, ok)
	require.Equal(t, "p-1", e.VRef)
	require.NoError(t, d.Store.Close(d.Ctx))
	return fx
}

// tamperFile runs raw SQL on a closed store file, as a person with the
// sqlite3 shell might, past the schema's CHECK constraints.
func tamperFile(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("PRAGMA ignore_check_constraints = ON")
	require.NoError(t, err)
	for _, stmt := range stmts {
		res, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.Positive(t, n, "the tampering changed nothing: %s", stmt)
	}
}

// auditFile reopens path read-only, as inspect does, and returns the
// auditor's problems. Unless the tampering broke one of the schema's
// CHECKs (checked), a writable open, as a kernel makes, must load the
// store too and find the same; with checked, it must refuse the store
// (SQLite enforces CHECKs only there), and the read-only audit is what
// reports the row.
func auditFile(t *testing.T, path string, checked bool) []string {
	t.Helper()
	ctx := context.Background()
	audit := func(ro bool) ([]string, error) {
		st, err := sqlitestore.Open(ctx, path, persistence.Options{ReadOnly: ro})
		if err != nil {
			return nil, err
		}
		defer st.Close(ctx)
		return kernel.Audit(ctx, st)
	}
	problems, err := audit(true)
	require.NoError(t, err, "the tampered row still loads read-only")
	again, err := audit(false)
	if checked {
		require.ErrorIs(t, err, persistence.ErrCorrupt, "a writable open refuses a row that breaks a CHECK")
		require.ErrorContains(t, err, "breaks CHECK")
	} else {
		require.NoError(t, err, "the tampered row still loads")
		require.Equal(t, problems, again, "read-only and writable opens agree")
	}
	return problems
}

// requireProblem fails unless some problem line contains every part.
func requireProblem(t *testing.T, problems []string, parts ...string) {
	t.Helper()
	for _, p := range problems {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(p, part)
		}
		if all {
			return
		}
	}
	t.Fatalf("no problem line contains all of %q; problems:\n  %s", parts, strings.Join(problems, "\n  "))
}

type auditCase struct {
	name    string
	stmts   func(fx auditFixture) []string
	want    func(fx auditFixture) []string // parts of one problem line
	checked bool                           // the tampering breaks a schema CHECK
}

func runAuditCases(t *testing.T, tests []auditCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newAuditFixture(t)
			tamperFile(t, fx.path, tt.stmts(fx)...)
			requireProblem(t, auditFile(t, fx.path, tt.checked), tt.want(fx)...)
		})
	}
}

func lines(s ...string) []string { return s }

// The untampered fixture audits clean, so every problem below comes from
// its tampering.
func TestAuditFixtureIsClean(t *testing.T) {
	fx := newAuditFixture(t)
	require.Empty(t, auditFile(t, fx.path, false))
}

// Rows that load but do not parse are reported, each in a line naming the
// row: configs, ids, krefs and vrefs, states and kinds; and an active vat
// whose subcluster is gone.
func TestAuditReportsRowsThatDoNotParse(t *testing.T) {
	runAuditCases(t, []auditCase{
		{"vat config not JSON",
			func(auditFixture) []string { return lines(`UPDATE vats SET config = 'not json' WHERE vat_id = 'v1'`) },
			func(auditFixture) []string { return lines("vat v1", `config row "not json" is not a vat config`) }, false},
		{"vat config with no bundle",
			func(auditFixture) []string { return lines(`UPDATE vats SET config = '{}' WHERE vat_id = 'v2'`) },
			func(auditFixture) []string { return lines("vat v2", "names no bundle") }, false},
		{"subcluster config not JSON",
			func(auditFixture) []string {
				return lines(`UPDATE subclusters SET config = '{"vats":' WHERE subcluster_id = 's1'`)
			},
			func(auditFixture) []string { return lines("subcluster s1", "is not a cluster config") }, false},
		{"subcluster config invalid",
			func(auditFixture) []string {
				return lines(`UPDATE subclusters SET config = '{"bootstrap":"a","vats":{}}' WHERE subcluster_id = 's1'`)
			},
			func(auditFixture) []string { return lines("subcluster s1", "at least one vat is required") }, false},
		{"missing subcluster row",
			func(auditFixture) []string { return lines(`DELETE FROM subclusters WHERE subcluster_id = 's1'`) },
			func(auditFixture) []string { return lines("vat v1", "names subcluster s1, which does not exist") }, false},
		{"vat not in its subcluster's config",
			func(auditFixture) []string { return lines(`UPDATE vats SET name = 'c' WHERE vat_id = 'v2'`) },
			func(auditFixture) []string { return lines("vat v2", `named "c"`, "does not list") }, false},
		{"unknown vat state",
			func(auditFixture) []string { return lines(`UPDATE vats SET state = 'paused' WHERE vat_id = 'v2'`) },
			func(auditFixture) []string { return lines("vat v2", `unknown state "paused"`) }, true},
		{"unknown promise state",
			func(fx auditFixture) []string {
				return lines(`UPDATE promises SET state = 'pending' WHERE kref = '` + string(fx.decided) + `'`)
			},
			func(fx auditFixture) []string { return lines("promise "+string(fx.decided), `unknown state "pending"`) }, true},
		{"unknown queue kind",
			func(auditFixture) []string { return lines(`UPDATE run_queue SET kind = 'ping'`) },
			func(auditFixture) []string { return lines("run queue item 0", `unknown kind "ping"`) }, true},
		{"run queue target does not parse",
			func(auditFixture) []string { return lines(`UPDATE run_queue SET target = 'ko2x'`) },
			func(auditFixture) []string { return lines("run queue item 0", `kref "ko2x"`) }, false},
		{"run queue slot does not parse",
			func(auditFixture) []string { return lines(`UPDATE run_queue SET slots = '["v1"]'`) },
			func(auditFixture) []string { return lines("run queue item 0 slot", `kref "v1"`) }, false},
		{"queued message slot does not parse",
			func(auditFixture) []string { return lines(`UPDATE promise_queue SET slots = '["ko"]'`) },
			func(fx auditFixture) []string { return lines("queued on "+string(fx.decided)+" slot", `kref "ko"`) }, false},
		{"c-list kref does not parse",
			func(auditFixture) []string {
				return lines(`UPDATE clist SET kref = 'kx2' WHERE vat_id = 'v1' AND vref = 'o-1'`)
			},
			func(auditFixture) []string { return lines("c-list v1 kx2=o-1", `kref "kx2"`) }, false},
		{"c-list vref does not parse",
			func(auditFixture) []string {
				return lines(`UPDATE clist SET vref = 'o-one' WHERE vat_id = 'v1' AND vref = 'o-1'`)
			},
			func(fx auditFixture) []string { return lines("c-list v1 "+string(fx.rootB)+"=o-one", `vref "o-one"`) }, false},
		{"object owner does not parse",
			func(fx auditFixture) []string {
				return lines(`UPDATE objects SET owner = 'vat2' WHERE kref = '` + string(fx.rootB) + `'`)
			},
			func(fx auditFixture) []string { return lines("object "+string(fx.rootB)+" owner", `vat id "vat2"`) }, false},
		{"object kref does not parse",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO objects VALUES ('object7', NULL, 0, 1, 1, 0)`)
			},
			func(auditFixture) []string { return lines(`object row "object7"`, "does not parse") }, false},
		{"promise decider does not parse",
			func(fx auditFixture) []string {
				return lines(`UPDATE promises SET decider = 'b' WHERE kref = '` + string(fx.decided) + `'`)
			},
			func(fx auditFixture) []string { return lines("promise "+string(fx.decided)+" decider", `vat id "b"`) }, false},
		{"vatstore entries of a vat that does not exist",
			func(auditFixture) []string {
				return lines(`INSERT INTO vatstore VALUES ('v9', 'vom.rc.o+d1/1', '1')`, `INSERT INTO vatstore VALUES ('v9', 'baggage', '{}')`)
			},
			func(auditFixture) []string { return lines("vatstore: 2 entries for vat v9, which does not exist") }, false},
		{"vatstore entries of a vat id that does not parse",
			func(auditFixture) []string { return lines(`INSERT INTO vatstore VALUES ('vat1', 'k', 'v')`) },
			func(auditFixture) []string { return lines("vatstore entries", `vat id "vat1"`) }, false},
		{"notify for a vat id that does not parse",
			func(fx auditFixture) []string {
				return lines(`UPDATE run_queue SET kind = 'notify', target = NULL, body = NULL, slots = NULL, result = NULL, vat_id = 'V1', kpid = '` + string(fx.decided) + `'`)
			},
			func(auditFixture) []string { return lines("run queue item 0 (notify)", `vat id "V1"`) }, false},
	})
}

// GC actions that name what cannot be collected are reported: an object
// never allocated, something that is not an object, a vat that does not
// exist or is terminated, an exporter that is not the object's, a kind
// the kernel does not know.
func TestAuditReportsBadGCActions(t *testing.T) {
	runAuditCases(t, []auditCase{
		{"unknown kref",
			func(auditFixture) []string {
				return lines(`INSERT INTO gc_actions VALUES ('v1', 'dropExport', 'ko99')`)
			},
			func(auditFixture) []string { return lines("GC action dropExport ko99 for v1", "unknown object ko99") }, false},
		{"not an object",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO gc_actions VALUES ('v2', 'retireImport', '` + string(fx.decided) + `')`)
			},
			func(fx auditFixture) []string {
				return lines("GC action retireImport "+string(fx.decided), "not an object kref")
			}, false},
		{"unknown vat",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO gc_actions VALUES ('v9', 'retireImport', '` + string(fx.rootB) + `')`)
			},
			func(auditFixture) []string { return lines("GC action", "v9", "unknown vat") }, false},
		{"terminated vat",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO vats (vat_id, name, subcluster_id, config, state, incarnation, next_object, next_promise) VALUES ('v3', 'c', 's1', '{"bundle":"fake"}', 'terminated', 0, 1, 1)`,
					`UPDATE meta SET value = '4' WHERE key = 'next_vat'`,
					`INSERT INTO gc_actions VALUES ('v3', 'retireImport', '`+string(fx.rootB)+`')`)
			},
			func(auditFixture) []string { return lines("GC action retireImport", "vat v3 is not active") }, false},
		{"wrong exporter",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO gc_actions VALUES ('v1', 'retireExport', '` + string(fx.rootB) + `')`)
			},
			func(fx auditFixture) []string {
				return lines("GC action retireExport "+string(fx.rootB)+" for v1", "exported by v2, not v1")
			}, false},
		{"unknown kind",
			func(fx auditFixture) []string {
				return lines(`INSERT INTO gc_actions VALUES ('v2', 'dropEverything', '` + string(fx.rootB) + `')`)
			},
			func(auditFixture) []string { return lines("GC action dropEverything", `unknown kind "dropEverything"`) }, true},
	})
}

// A vat or subcluster whose config row does not parse stays listed, with
// the error, instead of dropping out of Vats() and Subclusters() (and so
// out of resume); Vat names it too.
func TestBadConfigRowsAreListed(t *testing.T) {
	ctx := context.Background()
	fx := newAuditFixture(t)
	tamperFile(t, fx.path,
		`UPDATE vats SET config = '{"bundle":' WHERE vat_id = 'v1'`,
		`UPDATE subclusters SET config = 'nope' WHERE subcluster_id = 's1'`)
	st, err := sqlitestore.Open(ctx, fx.path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(ctx)
	k, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)

	vats := k.Vats()
	require.Len(t, vats, 2, "the bad vat is still listed")
	require.Equal(t, kernel.VatID("v1"), vats[0].ID)
	require.Equal(t, "a", vats[0].Name)
	require.True(t, vats[0].Active)
	require.ErrorIs(t, vats[0].ConfigErr, kernel.ErrBadConfig)
	require.ErrorContains(t, vats[0].ConfigErr, "vat v1")
	require.NoError(t, vats[1].ConfigErr)
	require.Equal(t, "fake", vats[1].Config.Bundle)
	_, err = k.Vat("v1")
	require.ErrorIs(t, err, kernel.ErrBadConfig)

	subs := k.Subclusters()
	require.Len(t, subs, 1, "the bad subcluster is still listed")
	require.ErrorIs(t, subs[0].ConfigErr, kernel.ErrBadConfig)
	require.ErrorContains(t, subs[0].ConfigErr, "subcluster s1")
	require.Equal(t, map[string]kernel.VatID{"a": "v1", "b": "v2"}, subs[0].Vats, "with its vats, the bad one too")
}
