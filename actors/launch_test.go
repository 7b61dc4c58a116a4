package actors_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

var errBuild = errors.New("the build ran out of cheese")

func launchRegistry() *vat.Registry {
	reg := registry()
	reg.MustRegister("broken-build", func(vc *vat.Context) (any, error) { return nil, errBuild })
	reg.MustRegister("broken-bootstrap", func(vc *vat.Context) (any, error) {
		return vat.Far("b", vat.Methods{"bootstrap": func(c *vat.Call) (any, error) {
			return nil, errors.New("bootstrap says no")
		}}), nil
	})
	return reg
}

// A vat that fails to build, or a bootstrap that fails, makes the launch
// fail with an error that names the vat and wraps the cause, and the
// subcluster is terminated: nothing half-launched stays behind (scenarios
// 3 and 4).
func TestLaunchFailures(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kernel.ClusterConfig
		wantMsg []string
		wantIs  error
	}{
		{
			name: "build failure",
			cfg: kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
				"alice": {Bundle: "alice"}, "bob": {Bundle: "bob"}, "crumbly": {Bundle: "broken-build"},
			}},
			wantMsg: []string{`vat "crumbly" failed to start`, "the build ran out of cheese"},
			wantIs:  kernel.ErrVatFault,
		},
		{
			name: "bootstrap failure",
			cfg: kernel.ClusterConfig{Bootstrap: "boss", Vats: map[string]kernel.VatConfig{
				"boss": {Bundle: "broken-bootstrap"}, "bob": {Bundle: "bob"},
			}},
			wantMsg: []string{`bootstrap of vat "boss" failed`, "bootstrap says no"},
		},
		{
			name: "unknown bundle",
			cfg: kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
				"alice": {Bundle: "alice"}, "ghost": {Bundle: "no-such-bundle"},
			}},
			wantMsg: []string{"vats.ghost.bundle", `no bundle named "no-such-bundle"`},
			wantIs:  kernel.ErrBadConfig,
		},
		{
			name:    "unknown bootstrap name",
			cfg:     kernel.ClusterConfig{Bootstrap: "nobody", Vats: map[string]kernel.VatConfig{"alice": {Bundle: "alice"}}},
			wantMsg: []string{`invalid bootstrap vat name "nobody"`},
			wantIs:  kernel.ErrBadConfig,
		},
		{
			name: "unknown service",
			cfg: kernel.ClusterConfig{Bootstrap: "alice", Services: []string{"clock"},
				Vats: map[string]kernel.VatConfig{"alice": {Bundle: "alice"}}},
			wantMsg: []string{`no registered kernel service "clock"`},
			wantIs:  kernel.ErrBadConfig,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				k := start(t, actors.Config{Registry: launchRegistry()})
				_, err := k.LaunchSubcluster(ctx, tt.cfg)
				require.Error(t, err)
				for _, m := range tt.wantMsg {
					require.ErrorContains(t, err, m)
				}
				if tt.wantIs != nil {
					require.ErrorIs(t, err, tt.wantIs)
				}
				st, err := k.Status(ctx)
				require.NoError(t, err)
				require.Empty(t, st.Subclusters, "no subcluster left behind")
				for _, v := range st.Vats {
					require.False(t, v.Active, "no vat left running: %s", v.Name)
				}
				// The kernel still launches good subclusters.
				res, err := k.LaunchSubcluster(ctx, twoVats())
				require.NoError(t, err)
				require.Equal(t, "alice is ready", res.BootstrapResult)
			})
		})
	}
}

// Scenario 2: bootstrap gets the other vats' roots and can call them; a
// second subcluster gets the next ids.
func TestBootstrapGetsRoots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{})
		first, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		second, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.Equal(t, kernel.SubclusterID("s1"), first.SubclusterID)
		require.Equal(t, kernel.SubclusterID("s2"), second.SubclusterID)
		require.Equal(t, map[string]kernel.VatID{"alice": "v3", "bob": "v4"}, second.VatIDs)
		v, err := k.QueueMessage(ctx, second.RootKref, "ask", "second alice")
		require.NoError(t, err)
		require.Equal(t, "hello, second alice", v)
		require.NoError(t, k.TerminateSubcluster(ctx, first.SubclusterID))
		st, err := k.Status(ctx)
		require.NoError(t, err)
		require.Len(t, st.Subclusters, 1)
		v, err = k.QueueMessage(ctx, second.RootKref, "ask", "still")
		require.NoError(t, err)
		require.Equal(t, "hello, still", v)
	})
}
