package echovats

import (
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The workload's bundle names.
const (
	BundleAlice = "echo/alice"
	BundleBob   = "echo/bob"
)

// Register adds the bundles BundleAlice and BundleBob to reg.
func Register(reg *vat.Registry) {
	reg.MustRegister(BundleAlice, func(vc *vat.Context) (any, error) {
		var bob any
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { bob = c.Arg(0).(map[string]any)["bob"]; return nil, nil },
			// run(n) makes n round trips to bob, one after another, and
			// returns the last answer (n-1).
			"run": func(c *vat.Call) (any, error) {
				n, err := marshal.Int(c.Arg(0))
				if err != nil {
					return nil, err
				}
				var last any
				for i := int64(0); i < n; i++ {
					v, err := vat.E(bob).Send("echo", i).Await()
					if err != nil {
						return nil, err
					}
					last = v
				}
				return last, nil
			},
		}), nil
	}, vat.About{Summary: "the benchmark's driver: run(n) makes n round trips to bob", Methods: []string{"bootstrap(vats, services)", "run(n)"}})
	reg.MustRegister(BundleBob, func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"echo": func(c *vat.Call) (any, error) { return c.Arg(0), nil },
		}), nil
	}, vat.About{Summary: "answers echo(x) with x", Methods: []string{"echo(x)"}})
}

// Registry is a registry holding only the workload's bundles.
func Registry() *vat.Registry {
	reg := vat.NewRegistry()
	Register(reg)
	return reg
}

// Cluster is the workload's subcluster: alice (bootstrap) and bob.
func Cluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: BundleAlice}, "bob": {Bundle: BundleBob},
	}}
}
