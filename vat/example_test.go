package vat_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/vat"
)

// local runs Go vats on the kernel state machine synchronously, for the
// examples (tests use kerneltest.Driver, which needs a *testing.T).
type local struct {
	ctx   context.Context
	k     *kernel.Kernel
	reg   *vat.Registry
	insts map[kernel.VatID]*vat.Instance
	out   map[kernel.KRef]kernel.Output
}

func (l *local) Deliver(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if d.Kind == kernel.DeliverStartVat {
		info, err := l.k.Vat(id)
		if err != nil {
			return err
		}
		build, err := l.reg.Lookup(info.Config.Bundle)
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
		if old := l.insts[id]; old != nil {
			old.Stop()
		}
		if l.insts[id], err = vat.New(vat.Config{Build: build, Parameters: info.Config.Parameters}); err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
	}
	if err := l.insts[id].Deliver(d, sys); err != nil {
		return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	return nil
}

// runLocal launches cfg's vats from reg, sends bootstrap, runs until idle
// and returns the bootstrap result.
func runLocal(reg *vat.Registry, cfg kernel.ClusterConfig) (*local, kernel.LaunchResult, any, error) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, "", persistence.Options{})
	if err != nil {
		return nil, kernel.LaunchResult{}, nil, err
	}
	k, err := kernel.New(kernel.Config{Store: st})
	if err != nil {
		return nil, kernel.LaunchResult{}, nil, err
	}
	l := &local{ctx: ctx, k: k, reg: reg, insts: map[kernel.VatID]*vat.Instance{}, out: map[kernel.KRef]kernel.Output{}}
	res, _, err := k.Launch(ctx, l, cfg, kernel.LaunchOptions{})
	if err != nil {
		return nil, res, nil, err
	}
	v, err := l.await(res.BootstrapKPID)
	return l, res, v, err
}

// call sends a message from the host, runs until idle and decodes the
// result.
func (l *local) call(target kernel.KRef, methargs marshal.CapData) (any, error) {
	kpid, _, err := l.k.QueueMessage(l.ctx, target, methargs)
	if err != nil {
		return nil, err
	}
	return l.await(kpid)
}

// await runs until idle and decodes kpid's settlement.
func (l *local) await(kpid kernel.KRef) (any, error) {
	for l.k.HasWork() {
		r, err := l.k.Crank(l.ctx, l)
		if err != nil {
			return nil, err
		}
		for _, o := range r.Released {
			l.out[o.KPID] = o
		}
	}
	o, ok := l.out[kpid]
	if !ok {
		return nil, errors.New("no answer")
	}
	if o.Rejected {
		return nil, o.Err()
	}
	return marshal.Decode(o.Value)
}

func msg(method string, args ...any) marshal.CapData {
	if args == nil {
		args = []any{}
	}
	m, _ := marshal.Encode([]any{method, args})
	return m
}

// Far makes an object other vats can call; E sends it a message, and Await
// waits for the answer while the vat goes on with other work.
func ExampleFar() {
	reg := vat.NewRegistry()
	reg.MustRegister("greeter", func(vc *vat.Context) (any, error) {
		return vat.Far("greeter", vat.Methods{
			"greet": func(c *vat.Call) (any, error) {
				name, ok := c.Arg(0).(string)
				if !ok {
					return nil, errors.New("greet wants a name")
				}
				return "hello, " + name, nil
			},
		}), nil
	})
	reg.MustRegister("caller", func(vc *vat.Context) (any, error) {
		return vat.Far("caller", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				greeter := c.Arg(0).(map[string]any)["greeter"]
				reply, err := vat.E(greeter).Send("greet", "world").Await()
				if err != nil {
					return nil, err
				}
				_, err = vat.E(greeter).Send("greet", 42).Await()
				return []any{reply, err.Error()}, nil
			},
		}), nil
	})
	_, _, v, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "caller", Vats: map[string]kernel.VatConfig{
		"caller": {Bundle: "caller"}, "greeter": {Bundle: "greeter"},
	}})
	fmt.Println(v, err)
	// Output: [hello, world greet wants a name] <nil>
}

// E sends to a promise before it settles: the message waits in the kernel
// and goes to what the promise resolves to (promise pipelining). Then
// reacts to a settlement without blocking.
func ExampleE() {
	reg := vat.NewRegistry()
	reg.MustRegister("maker", func(vc *vat.Context) (any, error) {
		return vat.Far("maker", vat.Methods{
			"makeCounter": func(c *vat.Call) (any, error) {
				n := int64(0)
				return vat.Far("counter", vat.Methods{
					"incr": func(c *vat.Call) (any, error) { n++; return n, nil },
				}), nil
			},
		}), nil
	})
	reg.MustRegister("user", func(vc *vat.Context) (any, error) {
		return vat.Far("user", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				maker := c.Arg(0).(map[string]any)["maker"]
				counter := vat.E(maker).Send("makeCounter") // a promise
				vat.E(counter).Send("incr")                 // pipelined
				second := vat.E(counter).Send("incr")
				return second.Then(func(v any) (any, error) {
					return fmt.Sprintf("counter at %v", v), nil
				}, nil), nil
			},
		}), nil
	})
	_, _, v, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "user", Vats: map[string]kernel.VatConfig{
		"user": {Bundle: "user"}, "maker": {Bundle: "maker"},
	}})
	fmt.Println(v, err)
	// Output: counter at 2 <nil>
}

// NewPromise makes a promise the vat decides; a method may return it, and
// settle it in a later delivery.
func ExampleNewPromise() {
	var release func(any)
	reg := vat.NewRegistry()
	reg.MustRegister("gate", func(vc *vat.Context) (any, error) {
		return vat.Far("gate", vat.Methods{
			"wait": func(c *vat.Call) (any, error) {
				p, resolve, _ := vat.NewPromise()
				release = resolve
				return p, nil
			},
			"open": func(c *vat.Call) (any, error) { release("the gate opened"); return nil, nil },
		}), nil
	})
	reg.MustRegister("visitor", func(vc *vat.Context) (any, error) {
		return vat.Far("visitor", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				gate := c.Arg(0).(map[string]any)["gate"]
				waiting := vat.E(gate).Send("wait")
				vat.E(gate).Send("open")
				return waiting.Await()
			},
		}), nil
	})
	_, _, v, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "visitor", Vats: map[string]kernel.VatConfig{
		"visitor": {Bundle: "visitor"}, "gate": {Bundle: "gate"},
	}})
	fmt.Println(v, err)
	// Output: the gate opened <nil>
}

// A durable kind's objects keep their state in the vatstore, and baggage
// keeps values across restarts; a restarted vat re-defines its kinds and
// finds its objects where it left them.
func ExampleContext_DefineKind() {
	reg := vat.NewRegistry()
	reg.MustRegister("bank", func(vc *vat.Context) (any, error) {
		account, err := vc.DefineKind("account", vat.Methods{
			"deposit": func(c *vat.Call) (any, error) {
				bal, _ := c.State().Get("balance")
				n, _ := marshal.Int(bal)
				amount, err := marshal.Int(c.Arg(0))
				if err != nil {
					return nil, err
				}
				return n + amount, c.State().Set("balance", n+amount)
			},
		})
		if err != nil {
			return nil, err
		}
		acct, ok := vc.Baggage.Get("account")
		if !ok {
			if acct, err = account.New(map[string]any{"balance": 0}); err != nil {
				return nil, err
			}
			if err := vc.Baggage.Set("account", acct); err != nil {
				return nil, err
			}
		}
		return vat.Far("bank", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"deposit": func(c *vat.Call) (any, error) {
				return vat.E(acct).Send("deposit", c.Arg(0)), nil
			},
			"generation": func(c *vat.Call) (any, error) { return vc.Incarnation, nil },
		}), nil
	})
	l, res, _, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "bank", Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.call(res.RootKref, msg("deposit", 10)))
	if _, err := l.k.RestartVat(l.ctx, res.VatIDs["bank"], l, "example"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.call(res.RootKref, msg("generation")))
	fmt.Println(l.call(res.RootKref, msg("deposit", 5)))
	// Output:
	// 10 <nil>
	// 1 <nil>
	// 15 <nil>
}

// Then reacts to a settlement without blocking: the callbacks run later, as
// tasks of the vat, and their results settle the promise Then returns.
func ExamplePromise_Then() {
	reg := vat.NewRegistry()
	reg.MustRegister("oracle", func(vc *vat.Context) (any, error) {
		return vat.Far("oracle", vat.Methods{
			"ask": func(c *vat.Call) (any, error) {
				if c.Arg(0) == "meaning" {
					return 42, nil
				}
				return nil, errors.New("no idea")
			},
		}), nil
	})
	reg.MustRegister("asker", func(vc *vat.Context) (any, error) {
		return vat.Far("asker", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				oracle := c.Arg(0).(map[string]any)["oracle"]
				describe := func(p *vat.Promise) *vat.Promise {
					return p.Then(
						func(v any) (any, error) { return fmt.Sprint("answer: ", v), nil },
						func(err error) (any, error) { return "failed: " + err.Error(), nil },
					)
				}
				return vat.All(
					describe(vat.E(oracle).Send("ask", "meaning")),
					describe(vat.E(oracle).Send("ask", "weather")),
				), nil
			},
		}), nil
	})
	_, _, v, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "asker", Vats: map[string]kernel.VatConfig{
		"asker": {Bundle: "asker"}, "oracle": {Bundle: "oracle"},
	}})
	fmt.Println(v, err)
	// Output: [answer: 42 failed: no idea] <nil>
}

// Await blocks the calling method, not the vat: other deliveries run
// meanwhile, and the method resumes when its promise settles. A rejection
// comes back as the error.
func ExamplePromise_Await() {
	reg := vat.NewRegistry()
	reg.MustRegister("store", func(vc *vat.Context) (any, error) {
		stock := map[string]int64{"apples": 3}
		return vat.Far("store", vat.Methods{
			"take": func(c *vat.Call) (any, error) {
				item := c.Arg(0).(string)
				if stock[item] == 0 {
					return nil, fmt.Errorf("out of %s", item)
				}
				stock[item]--
				return stock[item], nil
			},
		}), nil
	})
	reg.MustRegister("shopper", func(vc *vat.Context) (any, error) {
		return vat.Far("shopper", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				store := c.Arg(0).(map[string]any)["store"]
				left, err := vat.E(store).Send("take", "apples").Await()
				if err != nil {
					return nil, err
				}
				_, err = vat.E(store).Send("take", "pears").Await()
				return fmt.Sprintf("%v apples left; pears: %v", left, err), nil
			},
		}), nil
	})
	_, _, v, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "shopper", Vats: map[string]kernel.VatConfig{
		"shopper": {Bundle: "shopper"}, "store": {Bundle: "store"},
	}})
	fmt.Println(v, err)
	// Output: 2 apples left; pears: out of pears <nil>
}

// Baggage is the vat's durable map: it survives restarts, and may hold
// data, durable objects and imports.
func ExampleBaggage() {
	reg := vat.NewRegistry()
	reg.MustRegister("diary", func(vc *vat.Context) (any, error) {
		return vat.Far("diary", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"write": func(c *vat.Call) (any, error) {
				return nil, vc.Baggage.Set(c.Arg(0).(string), c.Arg(1))
			},
			"read": func(c *vat.Call) (any, error) {
				var lines []any
				for _, k := range vc.Baggage.Keys() {
					v, _ := vc.Baggage.Get(k)
					lines = append(lines, fmt.Sprintf("%s=%v", k, v))
				}
				return lines, nil
			},
		}), nil
	})
	l, res, _, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "diary", Vats: map[string]kernel.VatConfig{"diary": {Bundle: "diary"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	l.call(res.RootKref, msg("write", "monday", "rain"))
	l.call(res.RootKref, msg("write", "tuesday", map[string]any{"sun": true}))
	if _, err := l.k.RestartVat(l.ctx, res.VatIDs["diary"], l, "example"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.call(res.RootKref, msg("read")))
	// Output: [monday=rain tuesday=map[sun:true]] <nil>
}
