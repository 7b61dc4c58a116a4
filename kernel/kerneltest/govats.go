package kerneltest

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// goVats runs real Go vats (package vat) for a Driver: one vat.Instance
// per incarnation, made from the registry at each startVat.
type goVats struct {
	reg   *vat.Registry
	insts map[kernel.VatID]*vat.Instance
}

// UseRegistry makes the Driver run vats whose bundle is in reg as real Go
// vats; vats of other bundles stay fake.
func (d *Driver) UseRegistry(reg *vat.Registry) {
	d.goVats = &goVats{reg: reg, insts: map[kernel.VatID]*vat.Instance{}}
}

// LaunchGo launches cfg with Go vats, starts them and sends bootstrap,
// running until the kernel is idle. It returns the launch and the
// bootstrap's result promise.
func (d *Driver) LaunchGo(cfg kernel.ClusterConfig) (kernel.LaunchResult, kernel.KRef) {
	d.T.Helper()
	if d.goVats == nil {
		d.T.Fatalf("kerneltest: LaunchGo without UseRegistry")
	}
	res, out, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
	if err != nil {
		d.T.Fatalf("kerneltest: launch: %v", err)
	}
	d.release(out)
	d.audit("launch")
	d.RunUntilQuiescent(0)
	return res, res.BootstrapKPID
}

// Instance returns the running incarnation of a Go vat.
func (d *Driver) Instance(id kernel.VatID) *vat.Instance { return d.goVats.insts[id] }

// deliverGo delivers to a Go vat, making its instance at startVat.
func (g *goVats) deliverGo(ctx context.Context, k *kernel.Kernel, id kernel.VatID, dv kernel.Delivery, sys kernel.Syscaller) (handled bool, err error) {
	info, err := k.Vat(id)
	if err != nil {
		return false, nil
	}
	build, lerr := g.reg.Lookup(info.Config.Bundle)
	if lerr != nil {
		return false, nil // not a Go vat: a fake one
	}
	if dv.Kind == kernel.DeliverStartVat {
		if old := g.insts[id]; old != nil {
			old.Stop()
		}
		inst, err := vat.New(vat.Config{Build: build, Parameters: info.Config.Parameters})
		if err != nil {
			return true, fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
		g.insts[id] = inst
	}
	inst := g.insts[id]
	if inst == nil {
		return true, fmt.Errorf("kerneltest: Go vat %s: %w", id, kernel.ErrNoEndpoint)
	}
	if err := inst.Deliver(dv, sys); err != nil {
		return true, fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	return true, nil
}

// stopGoVats ends every Go vat's incarnation (test cleanup).
func (g *goVats) stop() {
	for _, inst := range g.insts {
		inst.Stop()
	}
}
