package actors_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// failFlushes fails every flush once armed, as a disk that stops taking
// writes would.
type failFlushes struct{ armed atomic.Bool }

func (f *failFlushes) Fault(p persistence.FaultPoint) error {
	if f.armed.Load() && p == persistence.FaultBeforeCommit {
		return errors.New("disk full")
	}
	return nil
}

// Under group commit, a host request that changes state is answered only
// once its change is in the file: when the flush that would cover a
// TerminateVat or a Revoke fails, the host is told the kernel stopped, not
// that the request succeeded (before, it was told "done", and a crash then
// undid it).
func TestStateChangingRequestsAnswerAfterTheirFlush(t *testing.T) {
	for _, tt := range []struct {
		name string
		do   func(ctx context.Context, k *actors.Kernel, res vatIDs) error
	}{
		{"terminate", func(ctx context.Context, k *actors.Kernel, res vatIDs) error {
			return k.TerminateVat(ctx, res.vat, "")
		}},
		{"revoke", func(ctx context.Context, k *actors.Kernel, res vatIDs) error {
			return k.Revoke(ctx, res.root)
		}},
		{"restart", func(ctx context.Context, k *actors.Kernel, res vatIDs) error {
			return k.RestartVat(ctx, res.vat)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			faults := &failFlushes{}
			k, err := actors.Start(ctx, actors.Config{DBPath: filepath.Join(t.TempDir(), "k.db"),
				Registry: counterRegistry(), CommitPolicy: persistence.Group, StoreFaults: faults})
			require.NoError(t, err)
			defer k.Stop(ctx)
			res, err := k.LaunchSubcluster(ctx, counterCluster())
			require.NoError(t, err)
			faults.armed.Store(true)
			err = tt.do(ctx, k, vatIDs{vat: res.VatIDs["counter"], root: res.RootKref})
			require.ErrorIs(t, err, actors.ErrStopped, "the change never reached the file")
		})
	}
}

type vatIDs struct {
	vat  kernel.VatID
	root kernel.KRef
}
