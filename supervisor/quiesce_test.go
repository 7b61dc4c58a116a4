package supervisor

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// rawVat is a raw vat of the host's that cannot tell whether it is
// quiescent.
type rawVat struct{}

func (rawVat) Deliver(vatproto.Delivery, vatproto.Syscaller) error { return nil }
func (rawVat) Stop()                                               {}

// panickyVat says it can tell, and panics when asked.
type panickyVat struct{ rawVat }

func (panickyVat) Quiescent() error { panic("no idea") }

func quiesce(t *testing.T, send func(any)) error {
	t.Helper()
	done := make(chan error, 1)
	send(&Quiesce{Done: done})
	return <-done
}

// Quiesce asks the instance; an instance that cannot answer is never
// called quiescent, and a panic is an answer of no, not a crash.
func TestQuiesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		ctx := context.Background()
		start := vatproto.Delivery{Kind: vatproto.DeliverStartVat}

		pid := spawnVat(sys, vat.Methods{"hi": func(c *vat.Call) (any, error) { return "hello", nil }})
		send := func(m any) { sys.Root.Send(pid, m) }
		require.ErrorIs(t, quiesce(t, send), vat.ErrNotQuiescent, "not started")
		require.NoError(t, Pump(ctx, send, start, &kernelSide{}, PumpOptions{Deadline: time.Second}))
		require.NoError(t, quiesce(t, send), "started, nothing held")
		sys.Root.StopFuture(pid).Wait()

		for _, tt := range []struct {
			name string
			raw  vat.RawVat
			want error
		}{
			{"not a Quiescer", rawVat{}, ErrNoQuiescence},
			{"a Quiescer that panics", panickyVat{}, vat.ErrFault},
		} {
			raw := tt.raw
			pid := sys.Root.Spawn(Props(VatSpec{Raw: func() vat.RawVat { return raw }}))
			send := func(m any) { sys.Root.Send(pid, m) }
			require.NoError(t, Pump(ctx, send, start, &kernelSide{}, PumpOptions{Deadline: time.Second}))
			require.ErrorIs(t, quiesce(t, send), tt.want, tt.name)
			sys.Root.StopFuture(pid).Wait()
		}
	})
}
