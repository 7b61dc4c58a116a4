package demos_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// fakeBundle is the one bundle of fakeDemo: a vat that does nothing.
const fakeBundle = "fake/idle"

// fakeDemo is a demo with one idle bundle, whose Run narrates the path it
// was given and logs one debug line. It fails when that path says so.
func fakeDemo(fresh bool) demos.Demo {
	return demos.Demo{
		Name:    "fake",
		Summary: "a demo for tests",
		Register: func(reg *vat.Registry) {
			reg.MustRegister(fakeBundle, func(*vat.Context) (any, error) {
				return vat.Far("idle", vat.Methods{
					"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
					// tell answers a record with a story, as the demos' vats do.
					"tell": func(c *vat.Call) (any, error) {
						return map[string]any{demos.StoryKey: []any{"idle → itself: nothing", c.Arg(0)}, "n": 1}, nil
					},
					"refuse": func(*vat.Call) (any, error) { return nil, errors.New("no") },
				}), nil
			})
		},
		Run: func(ctx context.Context, opts demos.Options) error {
			opts.Narrator().Say("ran on %q", opts.DBPath)
			opts.Logger.Debug().Msg("a debug line")
			switch opts.DBPath {
			case "broken":
				return errors.New("it broke")
			case "broken-prefixed":
				return errors.New("fake: it broke")
			}
			return nil
		},
		Fresh: fresh,
	}
}

// usedDatabase makes a database at a new path holding one vat of
// fakeDemo's, and returns the path.
func usedDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "used.db")
	k, err := demos.StartKernel(ctx, fakeDemo(false), demos.Options{DBPath: path})
	require.NoError(t, err)
	_, err = k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "idle", Vats: map[string]kernel.VatConfig{
		"idle": {Bundle: fakeBundle},
	}})
	require.NoError(t, err)
	require.NoError(t, k.Stop(ctx))
	return path
}

func TestCheckFresh(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		used := usedDatabase(t)
		tests := []struct {
			name         string
			path         string
			wantErr      string // "" for none
			wantNotFresh bool
		}{
			{"a new file", filepath.Join(t.TempDir(), "new.db"), "", false},
			{"a file with vats", used, "give a new --db path (or none, to run in memory) (" + used + " holds 1)", true},
			{"no such directory", "/no/such/dir/x.db", "/no/such/dir", false},
		}
		for _, tt := range tests {
			err := demos.CheckFresh(ctx, tt.path)
			if tt.wantErr == "" {
				require.NoError(t, err, tt.name)
				continue
			}
			require.ErrorContains(t, err, tt.wantErr, tt.name)
			require.Equal(t, tt.wantNotFresh, errors.Is(err, demos.ErrNotFresh), tt.name)
		}
	})
}

// A Fresh demo's kernel refuses a used database, naming the demo; any
// other demo's resumes it.
func TestStartKernelFresh(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		used := usedDatabase(t)
		_, err := demos.StartKernel(ctx, fakeDemo(true), demos.Options{DBPath: used})
		require.ErrorIs(t, err, demos.ErrNotFresh)
		require.ErrorContains(t, err, "fake: the database already holds vats")

		k, err := demos.StartKernel(ctx, fakeDemo(false), demos.Options{DBPath: used})
		require.NoError(t, err)
		st, err := k.Status(ctx)
		require.NoError(t, err)
		require.Len(t, st.Vats, 1, "the earlier run's vat, resumed")
		require.NoError(t, k.Stop(ctx))

		_, err = demos.StartKernel(ctx, fakeDemo(true), demos.Options{DBPath: "/no/such/dir/x.db"})
		require.ErrorContains(t, err, "fake: ")
		require.NotErrorIs(t, err, demos.ErrNotFresh)
	})
}

// StartKernel's configure adjusts the kernel's Config: here, the actor
// system it lives in.
func TestStartKernelConfigure(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		sys := actor.NewActorSystem()
		k, err := demos.StartKernel(ctx, fakeDemo(true), demos.Options{}, func(cfg *actors.Config) { cfg.System = sys })
		require.NoError(t, err)
		require.Same(t, sys, k.System())
		require.NoError(t, k.Stop(ctx))
		sys.Shutdown()
	})
}

// StopKernel stops the kernel although ctx is cancelled, keeps the
// demo's own error, and may be called again.
func TestStopKernel(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		k, err := demos.StartKernel(ctx, fakeDemo(true), demos.Options{})
		require.NoError(t, err)
		cancel()
		var stopErr error
		demos.StopKernel(ctx, "fake", k, &stopErr)
		require.NoError(t, stopErr)
		_, err = k.Status(context.Background())
		require.ErrorIs(t, err, actors.ErrStopped)
	})
}

// WithKernel stops the kernel after the story, and returns the story's
// error.
func TestWithKernel(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		var kept *actors.Kernel
		storyErr := errors.New("the story failed")
		err := demos.WithKernel(ctx, fakeDemo(true), demos.Options{}, func(k *actors.Kernel) error {
			kept = k
			_, err := k.Status(ctx)
			require.NoError(t, err, "the kernel runs during the story")
			return storyErr
		})
		require.Same(t, storyErr, err)
		_, err = kept.Status(ctx)
		require.ErrorIs(t, err, actors.ErrStopped, "and is stopped after it")

		used := usedDatabase(t)
		err = demos.WithKernel(ctx, fakeDemo(true), demos.Options{DBPath: used}, func(*actors.Kernel) error {
			t.Fatal("no story on a used database")
			return nil
		})
		require.ErrorIs(t, err, demos.ErrNotFresh)
	})
}
