package kernel_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// caller makes alice a vat that, on "hold" with a ref in slot 0, keeps
// it, and on "call" sends "m" to it and subscribes to the result. It
// returns a function that gives the result's settlement.
func caller(t *testing.T, d *kt.Driver) (result func() (kernel.VatResolution, bool)) {
	alice := d.Vat("alice")
	var vpid, held kernel.VRef
	alice.OnMethod["hold"] = func(c *kt.Call) error {
		held = c.Slot(0)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	alice.OnMethod["call"] = func(c *kt.Call) error {
		vpid = c.Send(held, "m")
		c.Subscribe(vpid)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	return func() (kernel.VatResolution, bool) {
		for _, dv := range alice.Deliveries {
			if dv.Kind != kernel.DeliverNotify {
				continue
			}
			for _, r := range dv.Resolutions {
				if r.VPID == vpid {
					return r, true
				}
			}
		}
		return kernel.VatResolution{}, false
	}
}

// Every splat reason rejects the message's result with its code, settled
// on behalf of the current decider, and no rejection names a ref.
func TestSplatReasons(t *testing.T) {
	tests := []struct {
		name string
		// setup runs once alice holds bob's root (or holds something else
		// of bob's, if it arranges that).
		setup func(t *testing.T, d *kt.Driver, res kernel.LaunchResult)
		want  error
	}{
		{
			name: "object deleted (vat terminated)",
			setup: func(t *testing.T, d *kt.Driver, res kernel.LaunchResult) {
				d.Terminate(res.VatIDs["bob"])

			},
			want: kernel.ErrObjectDeleted,
		},
		{
			name: "revoked",
			setup: func(t *testing.T, d *kt.Driver, res kernel.LaunchResult) {
				_, err := d.K.Revoke(d.Ctx, res.Roots["bob"])
				require.NoError(t, err)

			},
			want: kernel.ErrObjectRevoked,
		},
		{
			name: "no owner (abandoned export)",
			setup: func(t *testing.T, d *kt.Driver, res kernel.LaunchResult) {
				// bob hands alice a new object of his, then abandons it.
				var thing kernel.VRef
				d.Vat("bob").OnMethod["give"] = func(c *kt.Call) error {
					thing = c.NewExport(false)
					c.Send(c.Slot(0), "hold", thing)
					c.Fulfill(c.Result(), kt.Undefined)
					return nil
				}
				d.Vat("bob").OnMethod["abandon"] = func(c *kt.Call) error {
					c.GC(kernel.SyscallAbandonExports, thing)
					c.Fulfill(c.Result(), kt.Undefined)
					return nil
				}
				d.Send(res.Roots["bob"], "give", res.Roots["alice"])
				d.Send(res.Roots["bob"], "abandon")
				d.RunUntilQuiescent(0)

			},
			want: kernel.ErrObjectDeleted,
		},
		{
			name: "endpoint gone",
			setup: func(t *testing.T, d *kt.Driver, res kernel.LaunchResult) {
				d.Vat("bob").Gone = true

			},
			want: kernel.ErrEndpointUnreachable,
		},
		{
			name: "delivery failed",
			setup: func(t *testing.T, d *kt.Driver, res kernel.LaunchResult) {
				d.Vat("bob").Broken = errors.New("disk on fire in v2 at ko3")

			},
			want: kernel.ErrDeliveryFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			res := d.Launch("alice", "alice", "bob")
			settled := caller(t, d)
			d.Send(res.Roots["alice"], "hold", res.Roots["bob"])
			d.RunUntilQuiescent(0)
			tt.setup(t, d, res)
			d.Send(res.Roots["alice"], "call")
			d.RunUntilQuiescent(0)
			r, ok := settled()
			require.True(t, ok, "alice is notified of the splat")
			require.True(t, r.Rejected)
			err := kernel.ErrorFromRejection(r.Data)
			require.ErrorIs(t, err, tt.want)
			require.False(t, leak.MatchString(err.Error()), "rejection names a ref: %s", err)
			require.False(t, leak.MatchString(r.Data.Body), "rejection body names a ref: %s", r.Data.Body)

			// The host, sending to the same target, gets the same code.
			if tt.want != kernel.ErrObjectDeleted {
				p := d.Send(res.Roots["bob"], "m")
				d.RunUntilQuiescent(0)
				require.ErrorIs(t, d.ResultErr(p), tt.want)
			}
		})
	}
}

// A message sent to a promise settles as the promise does: fulfilled to
// data, it splats with BAD_PROMISE_RESOLUTION; rejected, with the very same
// rejection (scenarios 17 and 18).
func TestSendToSettledPromise(t *testing.T) {
	reason := marshal.EncodeError("RangeError", "out of cheese")
	tests := []struct {
		name     string
		settle   func(c *kt.Call)
		wantCode error
		wantData *marshal.CapData
	}{
		{"fulfilled to data", func(c *kt.Call) { c.Fulfill(c.Result(), kt.Str("just data")) }, kernel.ErrBadPromiseResolution, nil},
		{"fulfilled to a record holding a ref", func(c *kt.Call) {
			c.Fulfill(c.Result(), marshal.CapData{Body: `#{"x":"$0.Alleged: thing"}`, Slots: []string{string(c.NewExport(false))}})
		}, kernel.ErrBadPromiseResolution, nil},
		{"rejected", func(c *kt.Call) { c.Resolve(c.Result(), true, reason) }, nil, &reason},
	}
	for _, tt := range tests {
		for _, pipelined := range []bool{false, true} {
			name := tt.name + " after"
			if pipelined {
				name = tt.name + " pipelined"
			}
			t.Run(name, func(t *testing.T) {
				d := kt.New(t)
				res := d.Launch("alice", "alice", "bob")
				var pending *kt.Call
				d.Vat("bob").OnMethod["get"] = func(c *kt.Call) error {
					if pipelined {
						pending = c // settle later, after alice's pipelined send queued
						return nil
					}
					tt.settle(c)
					return nil
				}
				d.Vat("bob").OnMethod["settle"] = func(c *kt.Call) error {
					pending.Sys = c.Sys
					tt.settle(pending)
					c.Fulfill(c.Result(), kt.Undefined)
					return nil
				}
				var second kernel.VRef
				d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
					first := c.Send(c.Slot(0), "get")
					second = c.Send(first, "use")
					c.Subscribe(second)
					return nil
				}
				d.Send(res.Roots["alice"], "go", res.Roots["bob"])
				d.RunUntilQuiescent(0)
				if pipelined {
					d.Send(res.Roots["bob"], "settle")
					d.RunUntilQuiescent(0)
				}
				var got *kernel.VatResolution
				for _, dv := range d.Vat("alice").Deliveries {
					for _, r := range dv.Resolutions {
						if r.VPID == second {
							got = &r
						}
					}
				}
				require.NotNil(t, got, "alice hears about her second send")
				require.True(t, got.Rejected)
				if tt.wantData != nil {
					require.Equal(t, *tt.wantData, got.Data, "the same rejection as the target")
				} else {
					require.ErrorIs(t, kernel.ErrorFromRejection(got.Data), tt.wantCode)
				}
				require.Len(t, d.Vat("bob").Deliveries, map[bool]int{false: 2, true: 3}[pipelined], "bob never sees the splatted message")
			})
		}
	}
}

// Messages sent to an unresolved promise wait on it and are delivered, in
// order, once it resolves to an object; a chain of three pipelined sends
// works (scenario 15).
func TestPipelining(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	var order []string
	var held []*kt.Call
	bob := d.Vat("bob")
	// a() answers later, when told to; b() and c() answer at once with a
	// fresh object; d1..d3 record their arrival order.
	bob.OnMethod["a"] = func(c *kt.Call) error { held = append(held, c); return nil }
	bob.OnMethod["release"] = func(c *kt.Call) error {
		for _, h := range held {
			h.Sys = c.Sys
			h.Fulfill(h.Result(), kt.Ref(string(h.NewExport(false))))
		}
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	for _, m := range []string{"b", "c"} {
		bob.OnMethod[m] = func(c *kt.Call) error {
			order = append(order, c.Method()+"@"+string(c.Target()))
			c.Fulfill(c.Result(), kt.Ref(string(c.NewExport(false))))
			return nil
		}
	}
	for _, m := range []string{"d1", "d2", "d3"} {
		bob.OnMethod[m] = func(c *kt.Call) error {
			order = append(order, c.Method()+"@"+string(c.Target()))
			c.Fulfill(c.Result(), kt.Str(c.Method()+" done"))
			return nil
		}
	}
	var last kernel.VRef
	d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
		pa := c.Send(c.Slot(0), "a") // E(bob).a()
		for _, m := range []string{"d1", "d2", "d3"} {
			c.Send(pa, m) // queued on pa, in order
		}
		pb := c.Send(pa, "b") // E(E(bob).a()).b()
		pc := c.Send(pb, "c") // E(E(E(bob).a()).b()).c()
		last = c.Send(pc, "d1")
		c.Subscribe(last)
		return nil
	}
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	require.Empty(t, order, "nothing pipelined is delivered before a() resolves")
	queued := 0
	for _, kp := range d.Store.PromiseKPIDs() {
		p, _ := d.Store.Promise(kp)
		queued += int(p.QueueTail - p.QueueHead)
	}
	require.Equal(t, 6, queued, "the pipelined messages wait on their promises")

	d.Send(res.Roots["bob"], "release")
	d.RunUntilQuiescent(0)
	require.Len(t, order, 6)
	require.Equal(t, []string{"d1", "d2", "d3", "b"}, methods(order[:4]), "queued messages go in order")
	target := targetOf(order[0])
	for _, o := range order[:4] {
		require.Equal(t, target, targetOf(o), "all sent to what a() resolved to")
	}
	require.Equal(t, "c", methods(order[4:5])[0])
	require.Equal(t, "d1", methods(order[5:6])[0])
	var got bool
	for _, dv := range d.Vat("alice").Deliveries {
		for _, r := range dv.Resolutions {
			if r.VPID == last {
				got = true
				require.Equal(t, kt.Str("d1 done"), r.Data)
			}
		}
	}
	require.True(t, got, "the end of the chain reaches alice")
}

func methods(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		for j := range x {
			if x[j] == '@' {
				out[i] = x[:j]
				break
			}
		}
	}
	return out
}

func targetOf(x string) string {
	for j := range x {
		if x[j] == '@' {
			return x[j+1:]
		}
	}
	return ""
}

// A vat that resolves a promise it subscribed to (its message to itself)
// is not notified: it knows, and its c-list entry went with the resolve,
// so a notify would be a crank that delivers nothing.
func TestResolverIsNotNotified(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	a := d.Vat("a")
	var inner kernel.VRef
	a.OnMethod["outer"] = func(c *kt.Call) error {
		inner = c.Send("o+0", "inner") // to itself
		c.Subscribe(inner)
		return nil
	}
	a.OnMethod["inner"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Str("done"))
		return nil
	}
	d.Send(res.Roots["a"], "outer")
	for _, r := range d.RunUntilQuiescent(0) {
		require.NotEqual(t, kernel.WorkNotify, r.Work, "a notify crank: %s", kernel.DescribeCrank(r))
	}
	require.NotEmpty(t, inner)
}
