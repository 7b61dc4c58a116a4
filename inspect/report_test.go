package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The report shows what the store holds: vats with c-lists, objects with
// owners and importers, a promise with its decider and a message queued
// on it, the run queue, a revocation, and the auditor's verdict.
func TestReport(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a", "b")
	// b holds a's root; a keeps a call to b pending, so its result has b
	// as decider.
	d.Vat("b").OnMethod["hold"] = func(c *kt.Call) error { return nil }
	d.Send(res.Roots["b"], "hold", res.Roots["a"])
	d.RunUntilQuiescent(0)
	d.Send(res.Roots["a"], "later") // queued, not run
	require.NoError(t, revoke(d, res.Roots["b"]))

	r, err := inspect.Read(d.Ctx, d.Store, true)
	require.NoError(t, err)
	require.True(t, r.Audit.OK, "%v", r.Audit.Problems)
	require.Len(t, r.Vats, 2)
	va, vb := r.Vats[0], r.Vats[1]
	require.Equal(t, "a", va.Name)
	require.Equal(t, string(res.Roots["a"]), va.Root)
	require.NotEmpty(t, vb.CList)
	var rootA inspect.Object
	for _, o := range r.Objects {
		if o.KRef == string(res.Roots["a"]) {
			rootA = o
		}
	}
	require.Equal(t, va.ID, rootA.Owner)
	require.Equal(t, []string{vb.ID}, rootA.Importers, "b imported a's root")
	require.Len(t, r.Queue, 1)
	require.Equal(t, "later", r.Queue[0].Method)
	require.Equal(t, "s1", r.Subclusters[0].ID)
	require.Equal(t, map[string]string{"a": va.ID, "b": vb.ID}, r.Subclusters[0].Vats)

	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	out := text.String()
	for _, want := range []string{"1 subcluster, 2 vats, ", "C-LIST " + vb.ID, string(res.Roots["a"]) + ".later", "revoked", "AUDIT: ok"} {
		require.Contains(t, out, want)
	}
	js, err := json.Marshal(r)
	require.NoError(t, err)
	var back inspect.Report
	require.NoError(t, json.Unmarshal(js, &back))
	require.Equal(t, r, back, "the report survives JSON")
}

// A store whose counts are wrong fails the audit, and the text says so.
func TestReportShowsAuditProblems(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, "", persistence.Options{})
	require.NoError(t, err)
	defer st.Close(ctx)
	require.NoError(t, st.Begin())
	st.PutObject("ko1", persistence.ObjectRow{Owner: "v1", Reachable: 5, Recognizable: 5}) // no vat, no holder
	_, err = st.Commit(ctx)
	require.NoError(t, err)
	r, err := inspect.Read(ctx, st, true)
	require.NoError(t, err)
	require.False(t, r.Audit.OK)
	require.NotEmpty(t, r.Audit.Problems)
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	require.Contains(t, text.String(), "problem(s)")
	require.Contains(t, text.String(), "ko1")
}

func revoke(d *kt.Driver, kref kernel.KRef) error {
	_, err := d.K.Revoke(d.Ctx, kref)
	return err
}
