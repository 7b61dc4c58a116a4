package kernelsim

import (
	"strings"
	"testing"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The model's checks must bite: each test below plays a kernel that
// misbehaves (it hands a vat a delivery the real kernel would not make,
// or releases a wrong output) and expects the violation that names it.
// Without the check, the test fails.

// testWorld is a world of n vats, launched, with no step run.
func testWorld(t *testing.T, n int) *world {
	t.Helper()
	w := newWorld(t, Program{Vats: n}, Options{})
	t.Cleanup(w.tb.cleanup)
	if !w.open() {
		t.Fatal(w.viol)
	}
	w.launch()
	return w
}

// acceptAll is a Syscaller that takes every syscall: a kernel that checks
// nothing.
type acceptAll struct{}

func (acceptAll) Syscall(kernel.Syscall) kernel.SyscallResult { return kernel.SyscallResult{} }

// deliver hands v a delivery behind the kernel's back, and applies what
// the model learned as a committed crank would.
func deliver(w *world, v *simVat, dv kernel.Delivery) {
	w.cur = &crankCtx{}
	v.handle(&kerneltest.Call{Vat: v.fv, Delivery: dv, Sys: acceptAll{}})
	for _, f := range w.cur.effects {
		f()
	}
	w.cur = nil
}

// toRoot is the delivery of message m (sent with no arguments) to a root.
func toRoot(m *message, result kernel.VRef) kernel.Delivery {
	return kernel.Delivery{Kind: kernel.DeliverMessage, Target: kernel.RootVRef,
		Message: kernel.VatMessage{Methargs: marshal.CapData{Body: m.body}, Result: result}}
}

func wantViolation(t *testing.T, w *world, check string) {
	t.Helper()
	var all []string
	for _, v := range w.viol {
		if v.check == check {
			return
		}
		all = append(all, v.String())
	}
	t.Fatalf("want a [%s] violation, got %d:\n%s", check, len(all), strings.Join(all, "\n"))
}

func wantNone(t *testing.T, w *world) {
	t.Helper()
	if len(w.viol) > 0 {
		t.Fatalf("want no violation, got %v", w.viol)
	}
}

func TestModelChecks(t *testing.T) {
	tests := []struct {
		name string
		// play misbehaves as a kernel could; the world has 3 vats, A B C.
		play      func(w *world)
		wantCheck string
	}{{
		name: "delivered out of order",
		play: func(w *world) {
			a := w.vats[0]
			m1 := w.hostSend(a.root, "m", nil, "u", nil)
			m2 := w.hostSend(a.root, "m", nil, "u", nil)
			deliver(w, a, toRoot(m2, "p-1"))
			deliver(w, a, toRoot(m1, "p-2"))
		},
		wantCheck: "eorder",
	}, {
		name: "delivered twice",
		play: func(w *world) {
			a := w.vats[0]
			m := w.hostSend(a.root, "m", nil, "u", nil)
			deliver(w, a, toRoot(m, "p-1"))
			deliver(w, a, toRoot(m, "p-2"))
		},
		wantCheck: "exactly-once",
	}, {
		name: "delivered to the wrong vat",
		play: func(w *world) {
			m := w.hostSend(w.vats[0].root, "m", nil, "u", nil)
			deliver(w, w.vats[1], toRoot(m, "p-1"))
		},
		wantCheck: "routing",
	}, {
		name: "delivered through a promise nobody settled",
		play: func(w *world) {
			a := w.vats[0]
			first := w.hostSend(a.root, "m", nil, "w", nil)
			m := w.hostSend(first.kpid, "m", nil, "u", nil)
			deliver(w, a, toRoot(m, "p-1"))
		},
		wantCheck: "routing",
	}, {
		name: "delivered to a revoked object",
		play: func(w *world) {
			a := w.vats[0]
			w.refs[a.rootRef()].revokedAt = 0
			m := w.hostSend(a.root, "m", nil, "u", nil)
			deliver(w, a, toRoot(m, "p-1"))
		},
		wantCheck: "code",
	}, {
		name: "body changed on the way",
		play: func(w *world) {
			a := w.vats[0]
			m := w.hostSend(a.root, "m", nil, "u", nil)
			dv := toRoot(m, "p-1")
			dv.Message.Methargs.Body = strings.Replace(m.body, `"m"`, `"n"`, 1)
			deliver(w, a, dv)
		},
		wantCheck: "translation",
	}, {
		name: "a receiver gets what the sender should have been refused for",
		play: func(w *world) {
			deliver(w, w.vats[0], kernel.Delivery{Kind: kernel.DeliverMessage, Target: kernel.RootVRef,
				Message: kernel.VatMessage{Methargs: marshal.CapData{Body: "garbage{{"}, Result: "p-1"}})
		},
		wantCheck: "validate",
	}, {
		name: "notified of a promise the vat does not hold",
		play: func(w *world) {
			deliver(w, w.vats[0], kernel.Delivery{Kind: kernel.DeliverNotify,
				Resolutions: []kernel.VatResolution{{VPID: "p-9", Data: kerneltest.Undefined}}})
		},
		wantCheck: "translation",
	}, {
		name: "a hostile syscall accepted",
		play: func(w *world) {
			a := w.vats[0]
			m := w.hostSend(a.root, "act", nil, "", &Step{Kind: KindHostile, Hostile: HostileAbandonRoot})
			deliver(w, a, toRoot(m, "p-1"))
		},
		wantCheck: "syscall",
	}, {
		name: "splat although the target answers",
		play: func(w *world) {
			m := w.hostSend(w.vats[0].root, "m", nil, "u", nil)
			w.d.Released = append(w.d.Released, kernel.Output{KPID: m.kpid, Rejected: true, ByKernel: true,
				Value: marshal.EncodeError("Error", kernel.ErrObjectDeleted.Error())})
			w.processOutputs()
		},
		wantCheck: "exactly-once",
	}, {
		name: "splat with the wrong code",
		play: func(w *world) {
			a := w.vats[0]
			m := w.hostSend(a.root, "m", nil, "u", nil)
			w.terminate(a, "test") // its objects answer no more: want OBJECT_DELETED
			w.d.Released = append(w.d.Released, kernel.Output{KPID: m.kpid, Rejected: true, ByKernel: true,
				Value: marshal.EncodeError("Error", kernel.ErrObjectRevoked.Error())})
			w.processOutputs()
		},
		wantCheck: "code",
	}, {
		name: "two outputs for one message",
		play: func(w *world) {
			a := w.vats[0]
			m := w.hostSend(a.root, "m", nil, "u", nil)
			deliver(w, a, toRoot(m, "p-1"))
			for range 2 {
				w.d.Released = append(w.d.Released, kernel.Output{KPID: m.kpid, Value: kerneltest.Undefined})
			}
			w.processOutputs()
		},
		wantCheck: "exactly-once",
	}, {
		name: "a message lost",
		play: func(w *world) {
			// A's send to B's root that the kernel dropped on the floor.
			m, _ := w.newMessage(0, w.vats[1].rootRef(), "m", nil)
			r := w.newRef(true, 0)
			r.decider, r.msg, m.result, m.committed = kernelDecides, m, r.id, true
			w.finalChecks()
		},
		wantCheck: "exactly-once",
	}, {
		name: "a vat terminated behind the model's back",
		play: func(w *world) {
			out, err := w.d.K.TerminateVat(w.d.Ctx, w.vats[2].id, "test")
			if err != nil {
				panic(err)
			}
			w.d.Release(out)
			w.checkActive()
		},
		wantCheck: "termination",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld(t, 3)
			wantNone(t, w)
			tt.play(w)
			wantViolation(t, w, tt.wantCheck)
		})
	}
}

// TestModelQuietOnAGoodDelivery is the control: a delivery the kernel
// would make raises nothing.
func TestModelQuietOnAGoodDelivery(t *testing.T) {
	w := testWorld(t, 3)
	a := w.vats[0]
	m1 := w.hostSend(a.root, "m", nil, "o", nil)
	m2 := w.hostSend(a.root, "m", nil, "u", nil)
	deliver(w, a, toRoot(m1, "p-1"))
	deliver(w, a, toRoot(m2, "p-2"))
	wantNone(t, w)
	if m1.delivered != 1 || m2.delivered != 1 || w.refs[m1.result].res == nil || w.refs[m1.result].res.target == 0 {
		t.Fatalf("the model did not record the deliveries: %+v %+v %+v", m1, m2, w.refs[m1.result].res)
	}
}
