package actors_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// A kernel in memory with two vats: the host calls alice, who calls bob.
// After bob's vat is terminated, a call that needs him is rejected: the
// kernel rejects alice's message to bob, and alice passes the rejection on.
func ExampleStart() {
	ctx := context.Background()
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				// Bootstrap runs once, at launch: alice keeps bob in her
				// baggage, which outlives her heap (a Go variable would be
				// nil after a restart of her vat).
				return "ready", vc.Baggage.Set("bob", c.Arg(0).(map[string]any)["bob"])
			},
			"greet": func(c *vat.Call) (any, error) {
				bob, _ := vc.Baggage.Get("bob")
				return vat.E(bob).Send("hello", c.Arg(0)).Await()
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"hello": func(c *vat.Call) (any, error) { return fmt.Sprintf("hello, %v", c.Arg(0)), nil },
		}), nil
	})

	k, err := actors.Start(ctx, actors.Config{Registry: reg}) // DBPath "" = in memory
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Stop(ctx)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "alice"}, "bob": {Bundle: "bob"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.BootstrapResult)
	fmt.Println(k.QueueMessage(ctx, res.RootKref, "greet", "world"))

	if err := k.TerminateVat(ctx, res.VatIDs["bob"], "example"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = k.QueueMessage(ctx, res.RootKref, "greet", "again")
	// alice relays the kernel's rejection: errors.Is trusts only the
	// kernel's own word, Carries reads the code she passes on.
	fmt.Println(errors.Is(err, kernel.ErrObjectDeleted), kernel.Carries(err, kernel.ErrObjectDeleted))
	// Output:
	// ready
	// hello, world <nil>
	// false true
}
