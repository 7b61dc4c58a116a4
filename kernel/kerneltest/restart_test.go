package kerneltest_test

import (
	"path/filepath"
	"testing"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// TestRestartKernel: a kernel stopped cleanly or crashed reopens over the
// same file with the same queue, resumes (every vat starts a new
// incarnation), and delivers what was queued before the stop exactly
// once.
func TestRestartKernel(t *testing.T) {
	for _, crash := range []bool{false, true} {
		d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{Synchronous: persistence.SyncNormal})
		res := d.Launch("a", "a", "b")
		d.Send(res.Roots["b"], "hello")
		queue := kernel.DescribeQueue(d.Store)
		oldStore := d.Store
		d.RestartKernel(crash)
		if d.Store == oldStore {
			t.Fatalf("crash=%v: the store was not reopened", crash)
		}
		if got := kernel.DescribeQueue(d.Store); got != queue {
			t.Fatalf("crash=%v: queue after the restart:\n%s\nbefore:\n%s", crash, got, queue)
		}
		for _, name := range []string{"a", "b"} {
			info, err := d.K.Vat(d.Vat(name).ID)
			if err != nil || info.Incarnation != 1 || d.Vat(name).Started != 2 {
				t.Fatalf("crash=%v: %s after the restart: incarnation %d, %d starts (%v); want a new incarnation, started again",
					crash, name, info.Incarnation, d.Vat(name).Started, err)
			}
		}
		d.RunUntilQuiescent(0)
		hellos := 0
		for _, dv := range d.Vat("b").Deliveries {
			if dv.Kind == kernel.DeliverMessage && kt.MethodOf(dv.Message.Methargs) == "hello" {
				hellos++
			}
		}
		if hellos != 1 {
			t.Fatalf("crash=%v: hello delivered %d times, want once", crash, hellos)
		}
	}
}

// TestDefaultHandler: a FakeVat's Default answers deliveries of every
// kind that Next and OnMethod leave.
func TestDefaultHandler(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	var kinds []kernel.DeliveryKind
	d.Vat("a").Default = func(c *kt.Call) error {
		kinds = append(kinds, c.Delivery.Kind)
		if c.Delivery.Kind == kernel.DeliverMessage {
			c.Fulfill(c.Result(), kt.Undefined)
		}
		return nil
	}
	d.Vat("a").OnMethod["special"] = func(c *kt.Call) error { return c.Fulfill(c.Result(), kt.Str("special")).Err }
	d.Send(res.Roots["a"], "plain")
	special := d.Send(res.Roots["a"], "special")
	if _, err := d.K.ScheduleReap(d.Ctx, d.Vat("a").ID); err != nil {
		t.Fatal(err)
	}
	d.RunUntilQuiescent(0)
	want := []kernel.DeliveryKind{kernel.DeliverBringOutYourDead, kernel.DeliverMessage}
	if len(kinds) != len(want) || kinds[0] != want[0] || kinds[1] != want[1] {
		t.Fatalf("Default saw %v, want %v (reap first, then plain; special is OnMethod's)", kinds, want)
	}
	if v := d.Value(special); v != "special" {
		t.Fatalf("special answered %v, want OnMethod's answer", v)
	}
}
