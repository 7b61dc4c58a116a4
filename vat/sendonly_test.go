package vat_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// E(x).SendOnly makes a send with no result: the receiver gets the message
// with no result vref, what it returns goes nowhere (an error too: it
// lives on), and E-order holds with the sender's other sends. A message
// that cannot be sent is an error at once, and nothing is sent.
func TestSendOnly(t *testing.T) {
	var notes []any
	var sendErrs []error
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob, watcher := vatsArg(c, "bob"), vatsArg(c, "watcher")
				sendErrs = append(sendErrs,
					vat.E(bob).SendOnly("note", "one"),
					vat.E(bob).SendOnly("fail"),
					vat.E(bob).SendOnly("note", make(chan int)), // cannot be passed
					vat.E(nil).SendOnly("note", "nowhere"),
				)
				carol := vat.E(bob).Send("carol")                                 // a promise for an object
				sendErrs = append(sendErrs, vat.E(carol).SendOnly("note", "two")) // pipelined
				// Sent after the notes: it arrives after them (E-order).
				if _, err := vat.E(bob).Send("note", "three").Await(); err != nil {
					return nil, err
				}
				if _, err := vat.E(carol).Send("note", "four").Await(); err != nil {
					return nil, err
				}
				// A fake vat shows what reaches the wire.
				return nil, vat.E(watcher).SendOnly("look", vat.Far("gift", nil))
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		note := vat.Methods{"note": func(c *vat.Call) (any, error) {
			notes = append(notes, c.Arg(0))
			return "ignored", nil
		}}
		carol := vat.Far("carol", note)
		return vat.Far("bob", vat.Methods{
			"note":  note["note"],
			"fail":  func(c *vat.Call) (any, error) { return nil, errors.New("nobody hears this") },
			"carol": func(c *vat.Call) (any, error) { return carol, nil },
		}), nil
	})
	d := world(t, reg)
	cfg := cluster("alice", map[string]string{"alice": "alice", "bob": "bob", "watcher": "fake"})
	// Vats are numbered in name order: the watcher is v3, a fake vat (its
	// bundle is not in the registry).
	d.Vats["v3"] = &kt.FakeVat{ID: "v3", Name: "watcher", OnMethod: map[string]kt.Handler{}}
	res, boot := d.LaunchGo(cfg)
	require.Equal(t, kernel.VatID("v3"), res.VatIDs["watcher"])
	require.NoError(t, d.ResultErr(boot))
	// E-order holds per reference (bob: one before three; the promise for
	// carol: two before four); across references nothing is promised.
	require.ElementsMatch(t, []any{"one", "two", "three", "four"}, notes)
	at := func(n string) int { return slices.Index(notes, any(n)) }
	require.Less(t, at("one"), at("three"))
	require.Less(t, at("two"), at("four"))
	require.NoError(t, sendErrs[0])
	require.NoError(t, sendErrs[1])
	require.ErrorIs(t, sendErrs[2], marshal.ErrUnpassable)
	require.ErrorContains(t, sendErrs[3], "E(nil)")
	require.NoError(t, sendErrs[4])
	for _, name := range []string{"alice", "bob"} {
		info, err := d.K.Vat(res.VatIDs[name])
		require.NoError(t, err)
		require.True(t, info.Active, name)
	}
	watcher := d.Vats[res.VatIDs["watcher"]]
	last := watcher.Deliveries[len(watcher.Deliveries)-1]
	require.Equal(t, kernel.DeliverMessage, last.Kind)
	require.Equal(t, "look", kt.MethodOf(last.Message.Methargs))
	require.Empty(t, last.Message.Result, "no result promise on the wire")
	require.Len(t, last.Message.Methargs.Slots, 1, "the argument did arrive")
}

// A promise may be rejected with any passable value, however vat code
// rejects it: a method's error result, a resolver's reject, a Then
// callback. The receiver meets the value in a *vat.RejectionError, and
// relaying that error rejects with the same value again.
func TestRejectWithAnyValue(t *testing.T) {
	got := map[string]any{}
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := vatsArg(c, "bob")
				for _, m := range []string{"number", "record", "presence", "resolver", "then", "relay", "error"} {
					_, err := vat.E(bob).Send(m).Await()
					var re *vat.RejectionError
					if errors.As(err, &re) {
						got[m] = re.Value
					} else {
						got[m] = err
					}
				}
				// The rejected-with presence is a live reference.
				return vat.E(got["presence"]).Send("hello"), nil
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		thing := vat.Far("thing", vat.Methods{"hello": func(c *vat.Call) (any, error) { return "hi from thing", nil }})
		var self *vat.Object
		self = vat.Far("bob", vat.Methods{
			"number": func(c *vat.Call) (any, error) { return nil, vat.Rejection(int64(42)) },
			"record": func(c *vat.Call) (any, error) {
				return nil, vat.Rejection(map[string]any{"code": int64(7), "why": "because"})
			},
			"presence": func(c *vat.Call) (any, error) { return nil, vat.Rejection(thing) },
			"resolver": func(c *vat.Call) (any, error) {
				p, _, reject := c.NewPromise()
				reject(vat.Rejection("nope"))
				return p, nil
			},
			"then": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				q := p.Then(func(any) (any, error) { return nil, vat.Rejection([]any{true, nil}) }, nil)
				resolve(1)
				return q, nil
			},
			"relay": func(c *vat.Call) (any, error) {
				_, err := vat.E(self).Send("number").Await()
				return nil, err // the *RejectionError as it came
			},
			"error": func(c *vat.Call) (any, error) { return nil, errors.New("a plain error") },
		})
		return self, nil
	})
	d := world(t, reg)
	res, boot := d.LaunchGo(cluster("alice", map[string]string{"alice": "alice", "bob": "bob"}))
	require.Equal(t, "hi from thing", d.Value(boot))
	require.Equal(t, int64(42), got["number"])
	require.Equal(t, map[string]any{"code": int64(7), "why": "because"}, got["record"])
	require.IsType(t, &vat.Presence{}, got["presence"])
	require.Equal(t, "nope", got["resolver"])
	require.Equal(t, []any{true, nil}, got["then"])
	require.Equal(t, int64(42), got["relay"], "relayed, the value is the same")
	require.Equal(t, &marshal.Error{Name: "Error", Message: "a plain error"}, got["error"], "errors are still errors")

	// What the kernel carries, and the host sees: the value itself.
	p := d.Call(res.Roots["bob"], "record")
	d.RunUntilQuiescent(0)
	out, ok := d.Result(p)
	require.True(t, ok)
	require.True(t, out.Rejected)
	require.Equal(t, `#{"code":7,"why":"because"}`, out.Value.Body)
	var re *kernel.RejectionError
	require.ErrorAs(t, out.Err(), &re)
}

// A message whose method is a symbol is valid (the kernel passes it on),
// and a Go object, whose methods are named by strings, rejects it with a
// TypeError that says so; the vat lives on.
func TestSymbolMethodRejects(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{"": func(c *vat.Call) (any, error) { return "caught " + c.Method, nil }}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	methargs, err := marshal.Encode([]any{marshal.Symbol("@@asyncIterator"), []any{}})
	require.NoError(t, err)
	kpid, out, err := d.K.QueueMessage(d.Ctx, res.RootKref, methargs)
	require.NoError(t, err)
	require.Empty(t, out)
	d.RunUntilQuiescent(0)
	require.ErrorContains(t, d.ResultErr(kpid), `no method for symbol "@@asyncIterator"`)
	p := d.Call(res.RootKref, "hello")
	d.RunUntilQuiescent(0)
	require.Equal(t, "caught hello", d.Value(p))
}
