package vat_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The liveslots scenarios of MetaMask ocap-kernel (5, 15, 16, 17,
// 18), ported from MetaMask/ocap-kernel's kernel-test vats: each vat logs
// what it sees, and the logs must come out in the reference's order.

// testLogs collects each vat's log lines by vat name.
type testLogs map[string][]string

func (l testLogs) logger(name string) func(format string, args ...any) {
	return func(format string, args ...any) { l[name] = append(l[name], fmt.Sprintf(format, args...)) }
}

// runScenario launches alice (bootstrap, with test), bob and carol, all
// built by build, and returns the bootstrap result and the logs.
func runScenario(t *testing.T, test string, build func(name, test string, tlog func(string, ...any)) vat.Methods) (any, error, testLogs) {
	logs := testLogs{}
	reg := vat.NewRegistry()
	reg.MustRegister("scenario", func(vc *vat.Context) (any, error) {
		name := vc.Parameters["name"].(string)
		tst, _ := vc.Parameters["test"].(string)
		return vat.Far("root", build(name, tst, logs.logger(name))), nil
	})
	d := world(t, reg)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "scenario", Parameters: map[string]any{"name": "Alice", "test": test}},
		"bob":   {Bundle: "scenario", Parameters: map[string]any{"name": "Bob"}},
		"carol": {Bundle: "scenario", Parameters: map[string]any{"name": "Carol"}},
	}}
	_, boot := d.LaunchGo(cfg)
	out, ok := d.Result(boot)
	require.True(t, ok, "bootstrap settled")
	if out.Rejected {
		return nil, out.Err(), logs
	}
	v, err := marshal.Decode(out.Value)
	require.NoError(t, err)
	return v, nil, logs
}

func vatsArg(c *vat.Call, name string) any { return c.Arg(0).(map[string]any)[name] }

func loopback(c *vat.Call) (any, error) { return nil, nil }

func isPromise(v any) bool { _, ok := v.(*vat.Promise); return ok }

func TestPromiseArgs(t *testing.T) {
	build := func(name, test string, tlog func(string, ...any)) vat.Methods {
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				tlog("running test %s", test)
				// The package-level NewPromise: it meets the vat when sent.
				param, resolve, _ := vat.NewPromise()
				if test == "promiseArg2" {
					tlog("resolving the promise that will be sent to Bob")
					resolve(name + " said hi before send")
				}
				tlog("sending the promise to Bob")
				response := vat.E(bob).Send("hereIsAPromise", param)
				if test == "promiseArg1" {
					tlog("resolving the promise that was sent to Bob")
					resolve(name + " said hi after send")
				}
				tlog("awaiting Bob's response")
				done := response.Then(func(res any) (any, error) {
					r := res.([]any)
					tlog("Bob's response to hereIsAPromise: '%s'", r[1])
					if test == "promiseArg3" {
						tlog("resolving the promise that was sent to Bob")
						resolve(name + " said hi after Bob's reply")
					}
					return r[0], nil
				}, func(err error) (any, error) {
					tlog("Bob's response to hereIsAPromise rejected as '%v'", err)
					return "bobFail", nil
				})
				if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
					return nil, err
				}
				return done, nil
			},
			"loopback": loopback,
			"hereIsAPromise": func(c *vat.Call) (any, error) {
				done := c.Arg(0).(*vat.Promise).Then(func(res any) (any, error) {
					tlog("the promise parameter resolved to '%v'", res)
					return "bobPSucc", nil
				}, func(err error) (any, error) {
					tlog("the promise parameter rejected as '%v'", err)
					return "bobPFail", nil
				})
				return []any{done, name + ".hereIsAPromise done"}, nil
			},
		}
	}
	tests := []struct {
		test      string
		wantAlice []string
		wantBob   string
	}{
		{"promiseArg1", []string{"running test promiseArg1", "sending the promise to Bob", "resolving the promise that was sent to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'"}, "Alice said hi after send"},
		{"promiseArg2", []string{"running test promiseArg2", "resolving the promise that will be sent to Bob", "sending the promise to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'"}, "Alice said hi before send"},
		{"promiseArg3", []string{"running test promiseArg3", "sending the promise to Bob", "awaiting Bob's response",
			"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'", "resolving the promise that was sent to Bob"}, "Alice said hi after Bob's reply"},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			v, err, logs := runScenario(t, tt.test, build)
			require.NoError(t, err)
			require.Equal(t, "bobPSucc", v)
			require.Equal(t, tt.wantAlice, logs["Alice"])
			require.Equal(t, []string{"the promise parameter resolved to '" + tt.wantBob + "'"}, logs["Bob"])
		})
	}
}

func TestPromiseChain(t *testing.T) {
	const limit = 3
	v, err, logs := runScenario(t, "promiseChain", func(name, test string, tlog func(string, ...any)) vat.Methods {
		var bobResolve func(any)
		bobValue := 0
		var waitFor func(who any, prev *vat.Promise) *vat.Promise
		waitFor = func(who any, prev *vat.Promise) *vat.Promise {
			tlog("waitFor start")
			return prev.Then(func(res any) (any, error) {
				r := res.([]any)
				value, _ := marshal.Int(r[0])
				if value < limit {
					tlog("count %d < %d, recurring...", value, limit)
					if _, err := vat.E(who).Send("bobGen").Await(); err != nil {
						return nil, err
					}
					return waitFor(who, r[1].(*vat.Promise)), nil
				}
				tlog("finishing chain")
				return "end of chain", nil
			}, func(err error) (any, error) {
				tlog("Bob rejected, %v", err)
				return nil, nil
			})
		}
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				tlog("running test %s", test)
				ready := vat.E(bob).Send("bobInit")
				if _, err := vat.E(bob).Send("bobGen").Await(); err != nil {
					return nil, err
				}
				done := waitFor(bob, ready)
				if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
					return nil, err
				}
				return done, nil
			},
			"loopback": loopback,
			"bobInit": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				bobResolve = resolve
				return p, nil
			},
			"bobGen": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				next := []any{bobValue, p}
				bobValue++
				tlog("bobGen set value to %d", bobValue)
				bobResolve(next)
				bobResolve = resolve
				return nil, nil
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, "end of chain", v)
	require.Equal(t, []string{"running test promiseChain", "waitFor start", "count 0 < 3, recurring...", "waitFor start",
		"count 1 < 3, recurring...", "waitFor start", "count 2 < 3, recurring...", "waitFor start", "finishing chain"}, logs["Alice"])
	require.Equal(t, []string{"bobGen set value to 1", "bobGen set value to 2", "bobGen set value to 3", "bobGen set value to 4"}, logs["Bob"])
}

func TestPromiseCycles(t *testing.T) {
	build := func(name, test string, tlog func(string, ...any)) vat.Methods {
		var resolve1, resolve2 func(any)
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob, carol := vatsArg(c, "bob"), vatsArg(c, "carol")
				tlog("running test %s", test)
				var x, y *vat.Promise
				var steps []*vat.Promise
				switch test {
				case "promiseCycle":
					x, y = vat.E(bob).Send("genPromise1"), vat.E(bob).Send("genPromise2")
					steps = []*vat.Promise{vat.E(bob).Send("resolveBoth", []any{x}, []any{y})}
				case "promiseCycleMultiCrank":
					x, y = vat.E(bob).Send("genPromise1"), vat.E(bob).Send("genPromise2")
					if _, err := vat.E(bob).Send("resolve1", []any{y}).Await(); err != nil {
						return nil, err
					}
					steps = []*vat.Promise{vat.E(bob).Send("resolve2", []any{x})}
				case "promiseCrosswise":
					x, y = vat.E(bob).Send("genPromise"), vat.E(carol).Send("genPromise")
					if _, err := vat.E(bob).Send("resolve", []any{y}).Await(); err != nil {
						return nil, err
					}
					steps = []*vat.Promise{vat.E(carol).Send("resolve", []any{x})}
				}
				for _, s := range steps {
					if _, err := s.Await(); err != nil {
						return nil, err
					}
				}
				rx, err := x.Await()
				if err != nil {
					return nil, err
				}
				ry, err := y.Await()
				if err != nil {
					return nil, err
				}
				tlog("isPromise(resolutionX[0]): %v", isPromise(rx.([]any)[0]))
				tlog("isPromise(resolutionY[0]): %v", isPromise(ry.([]any)[0]))
				if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
					return nil, err
				}
				return "done", nil
			},
			"loopback": loopback,
			"genPromise1": func(c *vat.Call) (any, error) {
				tlog("genPromise1")
				p, r, _ := c.NewPromise()
				resolve1 = r
				return p, nil
			},
			"genPromise2": func(c *vat.Call) (any, error) {
				tlog("genPromise2")
				p, r, _ := c.NewPromise()
				resolve2 = r
				return p, nil
			},
			"genPromise": func(c *vat.Call) (any, error) {
				tlog("genPromise")
				p, r, _ := c.NewPromise()
				resolve1 = r
				return p, nil
			},
			"resolveBoth": func(c *vat.Call) (any, error) {
				tlog("resolveBoth")
				resolve1(c.Arg(1))
				resolve2(c.Arg(0))
				return nil, nil
			},
			"resolve1": func(c *vat.Call) (any, error) { tlog("resolve1"); resolve1(c.Arg(0)); return nil, nil },
			"resolve2": func(c *vat.Call) (any, error) { tlog("resolve2"); resolve2(c.Arg(0)); return nil, nil },
			"resolve":  func(c *vat.Call) (any, error) { tlog("resolve"); resolve1(c.Arg(0)); return nil, nil },
		}
	}
	tests := []struct {
		test      string
		wantBob   []string
		wantCarol []string
	}{
		{"promiseCycle", []string{"genPromise1", "genPromise2", "resolveBoth"}, nil},
		{"promiseCycleMultiCrank", []string{"genPromise1", "genPromise2", "resolve1", "resolve2"}, nil},
		{"promiseCrosswise", []string{"genPromise", "resolve"}, []string{"genPromise", "resolve"}},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			v, err, logs := runScenario(t, tt.test, build)
			require.NoError(t, err)
			require.Equal(t, "done", v)
			require.Equal(t, []string{"running test " + tt.test, "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true"}, logs["Alice"])
			require.Equal(t, tt.wantBob, logs["Bob"])
			require.Equal(t, tt.wantCarol, logs["Carol"])
		})
	}
}

func TestPromiseIndirect(t *testing.T) {
	v, err, logs := runScenario(t, "promiseIndirect", func(name, test string, tlog func(string, ...any)) vat.Methods {
		var resolve func(any)
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				tlog("running test %s", test)
				p1 := vat.E(bob).Send("genPromise1")
				p2 := vat.E(bob).Send("genPromise2")
				if _, err := vat.E(bob).Send("resolve", []any{p1}).Await(); err != nil {
					return nil, err
				}
				res, err := p2.Await()
				if err != nil {
					return nil, err
				}
				tlog("resolution == %v", res)
				if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
					return nil, err
				}
				return "done", nil
			},
			"loopback":    loopback,
			"genPromise1": func(c *vat.Call) (any, error) { tlog("genPromise1"); return "hello", nil },
			"genPromise2": func(c *vat.Call) (any, error) {
				tlog("genPromise2")
				p, r, _ := c.NewPromise()
				resolve = r
				return p, nil
			},
			"resolve": func(c *vat.Call) (any, error) {
				tlog("resolve")
				resolve(c.Arg(0).([]any)[0])
				return nil, nil
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, "done", v)
	require.Equal(t, []string{"running test promiseIndirect", "resolution == hello"}, logs["Alice"])
	require.Equal(t, []string{"genPromise1", "genPromise2", "resolve"}, logs["Bob"])
}

// bothResults is the bootstrap of passResult, passResultPromise and
// resolvePipelined: alice sends first(), then second() with (or to) its
// promise, and reports both.
func bothResults(tlog func(string, ...any), test string, pipelined bool) func(c *vat.Call) (any, error) {
	return func(c *vat.Call) (any, error) {
		bob := vatsArg(c, "bob")
		tlog("running test %s", test)
		p1 := vat.E(bob).Send("first")
		var p2 *vat.Promise
		if pipelined {
			p2 = vat.E(p1).Send("second", p1)
		} else {
			p2 = vat.E(bob).Send("second", p1)
		}
		report := func(which string, p *vat.Promise, ok, fail string) *vat.Promise {
			return p.Then(func(res any) (any, error) {
				tlog("%s result resolved to %v", which, res)
				return ok, nil
			}, func(err error) (any, error) {
				tlog("%s result rejected with %v", which, err)
				return fail, nil
			})
		}
		done := vat.All(report("first", p1, "p1succ", "p1fail"), report("second", p2, "p2succ", "p2fail"))
		if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
			return nil, err
		}
		return done, nil
	}
}

func TestPassResult(t *testing.T) {
	v, err, logs := runScenario(t, "passResult", func(name, test string, tlog func(string, ...any)) vat.Methods {
		return vat.Methods{
			"bootstrap": bothResults(tlog, test, false),
			"loopback":  loopback,
			"first":     func(c *vat.Call) (any, error) { tlog("first"); return "Bob's first answer", nil },
			"second": func(c *vat.Call) (any, error) {
				tlog("second")
				param, err := c.Arg(0).(*vat.Promise).Await()
				if err != nil {
					return nil, err
				}
				tlog("parameter to second resolved to %v", param)
				return "Bob's second answer", nil
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, []any{"p1succ", "p2succ"}, v)
	require.Equal(t, []string{"running test passResult", "first result resolved to Bob's first answer",
		"second result resolved to Bob's second answer"}, logs["Alice"])
	require.Equal(t, []string{"first", "second", "parameter to second resolved to Bob's first answer"}, logs["Bob"])
}

func TestPassResultPromise(t *testing.T) {
	v, err, logs := runScenario(t, "passResultPromise", func(name, test string, tlog func(string, ...any)) vat.Methods {
		var bobResolve func(any)
		return vat.Methods{
			"bootstrap": bothResults(tlog, test, false),
			"loopback":  loopback,
			"first": func(c *vat.Call) (any, error) {
				tlog("first")
				p, r, _ := c.NewPromise()
				bobResolve = r
				return p, nil
			},
			"second": func(c *vat.Call) (any, error) {
				tlog("second")
				bobResolve("Bob answers first in second")
				param, err := c.Arg(0).(*vat.Promise).Await()
				if err != nil {
					return nil, err
				}
				tlog("parameter to second resolved to %v", param)
				return "Bob's second answer", nil
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, []any{"p1succ", "p2succ"}, v)
	require.Equal(t, []string{"running test passResultPromise", "first result resolved to Bob answers first in second",
		"second result resolved to Bob's second answer"}, logs["Alice"])
	require.Equal(t, []string{"first", "second", "parameter to second resolved to Bob answers first in second"}, logs["Bob"])
}

func TestResolvePipelined(t *testing.T) {
	v, err, logs := runScenario(t, "resolvePipelined", func(name, test string, tlog func(string, ...any)) vat.Methods {
		thing := vat.Far("thing", vat.Methods{
			"second": func(c *vat.Call) (any, error) { tlog("thing.second"); return "Bob's second answer", nil },
		})
		return vat.Methods{
			"bootstrap": bothResults(tlog, test, true),
			"loopback":  loopback,
			"first":     func(c *vat.Call) (any, error) { tlog("first"); return thing, nil },
		}
	})
	require.NoError(t, err)
	require.Equal(t, []any{"p1succ", "p2succ"}, v)
	require.Equal(t, []string{"running test resolvePipelined", "first result resolved to [object Alleged: thing]",
		"second result resolved to Bob's second answer"}, logs["Alice"])
	require.Equal(t, []string{"first", "thing.second"}, logs["Bob"])
}

// Scenario 15.
func TestMessageToPromise(t *testing.T) {
	v, err, logs := runScenario(t, "messageToPromise", func(name, test string, tlog func(string, ...any)) vat.Methods {
		thing := vat.Far("thing", vat.Methods{
			"doSomething": func(c *vat.Call) (any, error) { tlog("thing.doSomething"); return "deferred something", nil },
		})
		var resolveDeferred func(any)
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				tlog("running test %s", test)
				p1 := vat.E(bob).Send("setup")
				p2 := vat.E(p1).Send("doSomething")
				done := p2.Then(func(res any) (any, error) {
					tlog("second result resolved to '%v'", res)
					return "p2succ", nil
				}, func(err error) (any, error) {
					tlog("second result rejected with '%v'", err)
					return "p2fail", nil
				})
				if _, err := vat.E(bob).Send("doResolve").Await(); err != nil {
					return nil, err
				}
				tlog("invoking loopback")
				if _, err := vat.E(bob).Send("loopback").Await(); err != nil {
					return nil, err
				}
				tlog("loopback done")
				return done, nil
			},
			"loopback": func(c *vat.Call) (any, error) { tlog("loopback"); return nil, nil },
			"setup": func(c *vat.Call) (any, error) {
				tlog("setup")
				p, r, _ := c.NewPromise()
				resolveDeferred = r
				return p, nil
			},
			"doResolve": func(c *vat.Call) (any, error) { tlog("doResolve"); resolveDeferred(thing); return nil, nil },
		}
	})
	require.NoError(t, err)
	require.Equal(t, "p2succ", v)
	require.Equal(t, []string{"running test messageToPromise", "invoking loopback", "second result resolved to 'deferred something'", "loopback done"}, logs["Alice"])
	require.Equal(t, []string{"setup", "doResolve", "thing.doSomething", "loopback"}, logs["Bob"])
}

// Scenario 5: an application error rejects the caller's promise and the
// vat lives on.
func TestApplicationRejection(t *testing.T) {
	_, err, logs := runScenario(t, "rejection", func(name, test string, tlog func(string, ...any)) vat.Methods {
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				for _, fail := range []bool{false, true, false} {
					v, err := vat.E(bob).Send("foo", fail).Await()
					if err != nil {
						tlog("err")
						continue
					}
					tlog("%v", v)
				}
				return nil, nil
			},
			"foo": func(c *vat.Call) (any, error) {
				if c.Arg(0).(bool) {
					tlog("reject")
					return nil, errors.New("error: bar")
				}
				tlog("resolve")
				return "bar", nil
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, []string{"bar", "err", "bar"}, logs["Alice"])
	require.Equal(t, []string{"resolve", "reject", "resolve"}, logs["Bob"])
}

// Scenarios 17 and 18 through liveslots: a send to a promise fulfilled to
// data rejects with BAD_PROMISE_RESOLUTION; to a rejected promise, with the
// same rejection.
func TestSendToSettledPromises(t *testing.T) {
	_, err, logs := runScenario(t, "settled", func(name, test string, tlog func(string, ...any)) vat.Methods {
		return vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				_, err := vat.E(vat.E(bob).Send("data")).Send("use").Await()
				tlog("data: %v", err)
				_, err = vat.E(vat.E(bob).Send("fail")).Send("use").Await()
				var me *marshal.Error
				tlog("rejected: %v (a %s)", err, map[bool]string{true: "marshal.Error", false: "?"}[errors.As(err, &me)])
				return nil, nil
			},
			"data": func(c *vat.Call) (any, error) { return "just data", nil },
			"fail": func(c *vat.Call) (any, error) {
				return nil, &marshal.Error{Name: "RangeError", Message: "out of cheese"}
			},
		}
	})
	require.NoError(t, err)
	require.Equal(t, []string{
		"data: [KERNEL:BAD_PROMISE_RESOLUTION] Promise fulfilled but did not contain an object reference",
		"rejected: RangeError: out of cheese (a marshal.Error)",
	}, logs["Alice"])
}

var _ = kt.New
