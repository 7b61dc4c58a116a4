package kernel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// An id counter rewound to or below an id in use is reported, naming the
// counter and the id it would hand out again: the kernel-wide counters of
// objects, promises, vats and subclusters, and each vat's own counters of
// the imports in its c-list.
func TestAuditReportsRewoundCounters(t *testing.T) {
	meta := func(key, value string) func(auditFixture) []string {
		return func(auditFixture) []string {
			return lines(`UPDATE meta SET value = '` + value + `' WHERE key = '` + key + `'`)
		}
	}
	runAuditCases(t, []auditCase{
		{"objects", meta(persistence.MetaNextObject, "1"),
			func(auditFixture) []string { return lines("id counter next_object is 1, but ko2 is in use") }, false},
		{"objects, by one", meta(persistence.MetaNextObject, "2"),
			func(auditFixture) []string { return lines("id counter next_object is 2, but ko2 is in use") }, false},
		{"promises", meta(persistence.MetaNextPromise, "1"),
			func(auditFixture) []string { return lines("id counter next_promise is 1, but kp", "is in use") }, false},
		{"vats", meta(persistence.MetaNextVat, "2"),
			func(auditFixture) []string { return lines("id counter next_vat is 2, but v2 is in use") }, false},
		{"subclusters", meta(persistence.MetaNextSubcluster, "1"),
			func(auditFixture) []string { return lines("id counter next_subcluster is 1, but s1 is in use") }, false},
		{"a vat's object imports",
			func(auditFixture) []string { return lines(`UPDATE vats SET next_object = 1 WHERE vat_id = 'v1'`) },
			func(auditFixture) []string {
				return lines("vat v1: import counter NextObject is 1, but its c-list holds o-1")
			}, false},
		{"a vat's promise imports",
			func(auditFixture) []string { return lines(`UPDATE vats SET next_promise = 1 WHERE vat_id = 'v2'`) },
			func(auditFixture) []string {
				return lines("vat v2: import counter NextPromise is 1, but its c-list holds p-1")
			}, false},
	})
}

// A kref that outlived its row still holds its number: an import of a
// deleted object waiting for retireImport names it, and a counter rewound
// below it is reported although no objects row has the number.
func TestAuditCountsIDsBeyondTheirRows(t *testing.T) {
	fx := newAuditFixture(t)
	tamperFile(t, fx.path,
		// v1 imports ko7, which is gone, with its retireImport pending:
		// a state the kernel can be in.
		`INSERT INTO clist VALUES ('v1', 'ko7', 'o-2', 0)`,
		`UPDATE vats SET next_object = 3 WHERE vat_id = 'v1'`,
		`INSERT INTO gc_actions VALUES ('v1', 'retireImport', 'ko7')`,
		`UPDATE meta SET value = '8' WHERE key = 'next_object'`)
	require.Empty(t, auditFile(t, fx.path, false), "a state the kernel can be in")
	tamperFile(t, fx.path, `UPDATE meta SET value = '7' WHERE key = 'next_object'`)
	requireProblem(t, auditFile(t, fx.path, false), "id counter next_object is 7, but ko7 is in use")
}

// What the counter check prevents: on a store whose object counter was
// rewound, the next launch hands out a kref that already names an object.
func TestRewoundCounterWouldReuseAnID(t *testing.T) {
	ctx := context.Background()
	fx := newAuditFixture(t)
	tamperFile(t, fx.path, `UPDATE meta SET value = '1' WHERE key = 'next_object'`)
	st, err := sqlitestore.Open(ctx, fx.path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(ctx)
	problems, err := kernel.Audit(ctx, st)
	require.NoError(t, err)
	requireProblem(t, problems, "next_object is 1, but ko2 is in use")
	_, taken := st.Object("ko1")
	require.True(t, taken, "ko1 is a's root")
	d := kt.NewWithStore(t, st)
	d.Audit = false // it would stop the launch: the point is what the launch does
	res := d.Launch("c", "c")
	require.Equal(t, kernel.KRef("ko1"), res.RootKref, "the new root reuses ko1")
}
