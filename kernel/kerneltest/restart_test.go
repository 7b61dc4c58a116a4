package kerneltest_test

import (
	"path/filepath"
	"testing"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// TestRestartKernel: a kernel stopped cleanly or crashed resumes over the
// same file with the same state, starts its active vats again, and
// delivers what was queued before the stop exactly once.
func TestRestartKernel(t *testing.T) {
	for _, crash := range []bool{false, true} {
		d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{Synchronous: persistence.SyncNormal})
		res := d.Launch("a", "a", "b")
		kpid := d.Send(res.Roots["b"], "hello")
		before := kernel.DescribeState(d.Store)
		oldStore := d.Store
		d.RestartKernel(crash)
		if d.Store == oldStore {
			t.Fatalf("crash=%v: the store was not reopened", crash)
		}
		if after := kernel.DescribeState(d.Store); after != before {
			t.Fatalf("crash=%v: state after the restart differs:\n%s\nbefore:\n%s", crash, after, before)
		}
		for _, name := range []string{"a", "b"} {
			if got := d.Vat(name).Started; got != 2 {
				t.Fatalf("crash=%v: %s got %d startVat deliveries, want 2 (launch and resume)", crash, name, got)
			}
		}
		d.RunUntilQuiescent(0)
		if err := d.ResultErr(kpid); err != nil {
			t.Fatalf("crash=%v: hello after the restart: %v", crash, err)
		}
		if n := len(d.Vat("b").Deliveries); n != 3 { // startVat, startVat, hello
			t.Fatalf("crash=%v: b got %d deliveries, want 3", crash, n)
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
