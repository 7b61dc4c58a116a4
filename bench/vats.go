package bench

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The bundle names of the workloads' Go vats.
const (
	// BundleDriver is alice: the vat that drives pingpong, fanout,
	// pipeline, bigstore and bigcrank.
	BundleDriver = "bench/driver"
	// BundlePeer is bob: it answers ping, makes counters and objects.
	BundlePeer = "bench/peer"
	// BundleRing is one vat of the manyvats ring.
	BundleRing = "bench/ring"
)

// makeBatch is the most objects one make call asks for: a bigger store is
// filled in batches, so no single delivery carries a million slots.
const makeBatch = 10_000

// Registry returns a registry holding the workloads' Go vats.
func Registry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister(BundleDriver, buildDriver, vat.About{
		Summary: "the bench's driver (alice)",
		Methods: []string{"bootstrap(vats)", "pingpong(n)", "fanout(n)", "pipeline(n, k)", "fill(count, keep)"},
	})
	reg.MustRegister(BundlePeer, buildPeer, vat.About{
		Summary: "the bench's peer (bob)",
		Methods: []string{"ping(i)", "counter()", "make(n)"},
	})
	reg.MustRegister(BundleRing, buildRing, vat.About{
		Summary: "a vat of the manyvats ring",
		Methods: []string{"bootstrap(vats)", "link(next, head)", "start(n)", "pass(hops)", "finish()"},
	})
	return reg
}

// intArg reads argument i of c as an integer, for the methods' counts.
func intArg(c *vat.Call, i int) (int64, error) {
	n, err := marshal.Int(c.Arg(i))
	if err != nil {
		return 0, fmt.Errorf("argument %d: %w", i, err)
	}
	return n, nil
}

// buildDriver is alice. Every method runs a whole workload inside one
// delivery of the host's message; the cranks it causes are the sends and
// the notifies of their answers.
func buildDriver(vc *vat.Context) (any, error) {
	var peer any
	// held keeps bigstore's objects reachable, so the kernel holds them
	// for as long as the vat lives.
	var held []any
	return vat.Far("driver", vat.Methods{
		// bootstrap keeps bob in a Go variable, not in baggage: a bench
		// kernel is never restarted, so nothing needs to outlive the
		// incarnation, and the workloads touch no vatstore.
		"bootstrap": func(c *vat.Call) (any, error) {
			peer = c.Arg(0).(map[string]any)["bob"]
			return "driver ready", nil
		},
		// pingpong(n) makes n round trips, each awaiting the last: two
		// cranks each (the ping, the notify of its answer).
		"pingpong": func(c *vat.Call) (any, error) {
			n, err := intArg(c, 0)
			if err != nil {
				return nil, err
			}
			for i := int64(0); i < n; i++ {
				if _, err := vat.E(peer).Send("ping", i).Await(); err != nil {
					return nil, err
				}
			}
			return n, nil
		},
		// fanout(n) sends n pings before awaiting any, so n messages are
		// outstanding at once.
		"fanout": func(c *vat.Call) (any, error) {
			n, err := intArg(c, 0)
			if err != nil || n == 0 {
				return n, err
			}
			// One Await on vat.All, as the reference's Promise.all: the
			// answers may come in any order.
			ps := make([]*vat.Promise, n)
			for i := range ps {
				ps[i] = vat.E(peer).Send("ping", int64(i))
			}
			if _, err := vat.All(ps...).Await(); err != nil {
				return nil, err
			}
			return n, nil
		},
		// pipeline(n, k) sends n messages in chains of k: the first of a
		// chain to bob (counter), each next one to the promise of the one
		// before (pipelined through the kernel), all chains before any is
		// awaited.
		"pipeline": func(c *vat.Call) (any, error) {
			n, err := intArg(c, 0)
			if err != nil {
				return nil, err
			}
			k, err := intArg(c, 1)
			if err != nil || n == 0 {
				return n, err
			}
			// Only each chain's last promise is awaited: the ones before it
			// are pipelined through, and settle on the way.
			var ends []*vat.Promise
			for sent := int64(0); sent < n; {
				p := vat.E(peer).Send("counter")
				sent++
				for j := int64(1); j < k && sent < n; j++ {
					p = vat.E(p).Send("next")
					sent++
				}
				ends = append(ends, p)
			}
			if _, err := vat.All(ends...).Await(); err != nil {
				return nil, err
			}
			return n, nil
		},
		// fill(count, keep) has bob make count objects, in batches, and
		// keeps them (bigstore) or drops them at once (bigcrank, whose
		// objects the next bring-out-your-dead collects).
		"fill": func(c *vat.Call) (any, error) {
			count, err := intArg(c, 0)
			if err != nil {
				return nil, err
			}
			keep, _ := c.Arg(1).(bool)
			for made := int64(0); made < count; {
				batch := min(count-made, makeBatch)
				if !keep {
					batch = count - made // one crank makes them all
				}
				v, err := vat.E(peer).Send("make", batch).Await()
				if err != nil {
					return nil, err
				}
				if keep {
					held = append(held, v.([]any)...)
				}
				made += batch
			}
			return int64(len(held)), nil
		},
	}), nil
}

// buildPeer is bob.
func buildPeer(vc *vat.Context) (any, error) {
	// One counter and one method table for all things: the workloads
	// measure the kernel, not the peer's allocations.
	var counter *vat.Object
	counter = vat.Far("counter", vat.Methods{
		"next": func(c *vat.Call) (any, error) { return counter, nil },
	})
	thing := vat.Methods{"noop": func(c *vat.Call) (any, error) { return nil, nil }}
	return vat.Far("peer", vat.Methods{
		"ping":    func(c *vat.Call) (any, error) { return c.Arg(0), nil },
		"counter": func(c *vat.Call) (any, error) { return counter, nil },
		// make(n) exports n new objects in one delivery: the crank that
		// resolves its result creates n kernel objects.
		"make": func(c *vat.Call) (any, error) {
			n, err := intArg(c, 0)
			if err != nil {
				return nil, err
			}
			out := make([]any, n)
			for i := range out {
				out[i] = vat.Far("thing", thing)
			}
			return out, nil
		},
	}), nil
}

// buildRing is one vat of the manyvats ring. The bootstrap vat is the
// head: it links the ring, starts the token and resolves start's
// result when the token's last hop reports back.
func buildRing(vc *vat.Context) (any, error) {
	var next, head any
	isHead := false
	var finish func(any)
	return vat.Far("ring", vat.Methods{
		// bootstrap(vats) links v0 -> v1 -> ... -> v0, each link a message.
		"bootstrap": func(c *vat.Call) (any, error) {
			isHead = true
			vats := c.Arg(0).(map[string]any)
			m := len(vats)
			ps := make([]*vat.Promise, 0, m)
			for i := 0; i < m; i++ {
				ps = append(ps, vat.E(vats[ringName(i)]).Send("link", vats[ringName((i+1)%m)], vats[ringName(0)]))
			}
			if _, err := vat.All(ps...).Await(); err != nil {
				return nil, err
			}
			return int64(m), nil
		},
		"link": func(c *vat.Call) (any, error) { next, head = c.Arg(0), c.Arg(1); return nil, nil },
		// start(n) sends the token on with n-1 hops left; its result
		// settles when the token has made all n.
		"start": func(c *vat.Call) (any, error) {
			n, err := intArg(c, 0)
			if err != nil || n == 0 {
				return n, err
			}
			p, resolve, _ := c.NewPromise()
			finish = resolve
			return p, vat.E(next).SendOnly("pass", n-1)
		},
		"pass": func(c *vat.Call) (any, error) {
			hops, err := intArg(c, 0)
			switch {
			case err != nil:
				return nil, err
			case hops > 0:
				return nil, vat.E(next).SendOnly("pass", hops-1)
			case isHead:
				finish(int64(0))
				return nil, nil
			}
			return nil, vat.E(head).SendOnly("finish")
		},
		"finish": func(c *vat.Call) (any, error) { finish(int64(0)); return nil, nil },
	}), nil
}

// ringName is the config name of ring vat i.
func ringName(i int) string { return fmt.Sprintf("v%d", i) }
