package vat_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// greeterVats registers alice, who greets through bob, in the two ways a
// vat can keep bob's presence: in a Go variable ("closure/alice") or in
// her baggage ("baggage/alice"). Bob answers hello.
func greeterVats() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("closure/alice", func(vc *vat.Context) (any, error) {
		var bob any // set by bootstrap, which runs once, at launch
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { bob = vatsArg(c, "bob"); return nil, nil },
			"greet":     func(c *vat.Call) (any, error) { return vat.E(bob).Send("hello").Await() },
		}), nil
	})
	reg.MustRegister("baggage/alice", func(vc *vat.Context) (any, error) {
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, vc.Baggage.Set("bob", vatsArg(c, "bob")) },
			"greet": func(c *vat.Call) (any, error) {
				bob, _ := vc.Baggage.Get("bob")
				return vat.E(bob).Send("hello").Await()
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{"hello": func(c *vat.Call) (any, error) { return "hello", nil }}), nil
	})
	return reg
}

// A presence kept in a Go variable is gone after a restart (bootstrap is
// not sent again), and the send to it fails with an error that says so
// and says what to do; the same vat keeping the presence in baggage works
// after the restart. Before the fix the error was the bare "vat: E(nil)".
func TestSendToNilAfterRestartSaysWhy(t *testing.T) {
	for _, tt := range []struct {
		bundle  string
		wantErr string // "" for a greeting
	}{
		{bundle: "closure/alice", wantErr: "vat: E(nil): the target is nil: if it was a presence kept in a Go variable, it is gone: a new incarnation"},
		{bundle: "baggage/alice"},
	} {
		t.Run(tt.bundle, func(t *testing.T) {
			d := world(t, greeterVats())
			res, boot := d.LaunchGo(cluster("alice", map[string]string{"alice": tt.bundle, "bob": "bob"}))
			require.NoError(t, d.ResultErr(boot))
			p := d.Call(res.RootKref, "greet")
			d.RunUntilQuiescent(0)
			require.Equal(t, "hello", d.Value(p), "before the restart, both work")

			d.Restart(res.VatIDs["alice"])
			p = d.Call(res.RootKref, "greet")
			d.RunUntilQuiescent(0)
			if tt.wantErr == "" {
				require.Equal(t, "hello", d.Value(p), "baggage outlives the heap")
				return
			}
			err := d.ResultErr(p)
			var re *kernel.RejectionError
			require.True(t, errors.As(err, &re), "the vat's own rejection: %v", err)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "keep the presences a vat needs after a restart in its baggage")
			info, _ := d.K.Vat(res.VatIDs["alice"])
			require.True(t, info.Active, "a rejection, not a vat fault: alice lives on")
		})
	}
}

// Every nil target, untyped or a nil pointer of a kind E takes, is
// ErrNoTarget, for Send and SendOnly alike; none panics the vat.
func TestNilTargetsAreErrNoTarget(t *testing.T) {
	var errs []error
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				for _, target := range []any{nil, (*vat.Presence)(nil), (*vat.Promise)(nil), (*vat.Object)(nil)} {
					_, err := vat.E(target).Send("m").Await()
					errs = append(errs, err, vat.E(target).SendOnly("m"))
				}
				missing, _ := vc.Baggage.Get("never set") // nil, as the key is not set
				_, err := vat.E(missing).Send("m").Await()
				errs = append(errs, err)
				return nil, errors.Join(errs...) // nil only if every send succeeded
			},
		}), nil
	})
	d := world(t, reg)
	_, boot := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	require.Error(t, d.ResultErr(boot))
	require.Len(t, errs, 9)
	for i, err := range errs {
		require.ErrorIs(t, err, vat.ErrNoTarget, "send %d", i)
	}
	require.ErrorContains(t, errs[2], "a nil *vat.Presence")
	require.ErrorContains(t, errs[4], "a nil *vat.Promise")
	require.ErrorContains(t, errs[6], "a nil *vat.Object")
}
