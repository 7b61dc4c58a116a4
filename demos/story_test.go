package demos_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Send tells what it sends and the story the result carries; a
// rejection is returned, and only the send is told.
func TestSend(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		var out bytes.Buffer
		n := demos.Options{Out: &out}.Narrator()
		err := demos.WithKernel(ctx, fakeDemo(true), demos.Options{}, func(k *actors.Kernel) error {
			res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "idle", Vats: map[string]kernel.VatConfig{
				"idle": {Bundle: fakeBundle},
			}})
			require.NoError(t, err)
			v, err := demos.Send(ctx, k, n, "idle: tell(7)", res.RootKref, "tell", 7)
			require.NoError(t, err)
			require.Equal(t, int64(1), v.(map[string]any)["n"], "the result, whole")
			_, err = demos.Send(ctx, k, n, "idle: refuse()", res.RootKref, "refuse")
			var re *kernel.RejectionError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "no", re.Message)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "host → idle: tell(7)\n  idle → itself: nothing\n  7\nhost → idle: refuse()\n", out.String())
	})
}
