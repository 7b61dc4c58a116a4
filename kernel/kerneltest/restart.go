package kerneltest

import "github.com/ocapgo/kernel-actors/kernel"

// RestartKernel ends the kernel as a process exit would and starts a new
// one over the same file, which resumes (kernel.Resume): every active vat
// begins a new incarnation. Without crash the stop is clean, as Reopen's:
// the kernel flushes, its outputs are released, the store is closed. With
// crash, the store is dropped the way kill -9 drops it
// (persistence.Store.Crash): what was committed but not flushed is lost,
// and so are the outputs waiting for that flush. The fake vats stay as
// they were (a test decides what its vats remember). It needs a Driver
// made by NewWithOptions over a file.
func (d *Driver) RestartKernel(crash bool) {
	d.T.Helper()
	d.reopen(crash)
}

// Release records outputs a test got from a kernel call it made itself
// (say a RestartVat expected to fail), as the Driver's own helpers do:
// appended to Released, the first for each promise kept in Results, and
// the vats the kernel stopped added to Stopped.
func (d *Driver) Release(out []kernel.Output) { d.release(out) }

// ReopenDeferring is Reopen with the starts of the vats deferStart picks
// deferred to their first delivery (kernel.ResumeWith): those vats are
// delivered their startVat inside the crank of their first delivery,
// before it, as a runtime with a cap on live vats does. It returns what
// the resume did.
func (d *Driver) ReopenDeferring(deferStart func(kernel.VatID, kernel.VatConfig) bool) kernel.ResumeResult {
	d.T.Helper()
	return d.reopenWith(false, kernel.ResumeOptions{Defer: func(id kernel.VatID, cfg kernel.VatConfig) (bool, error) {
		return deferStart(id, cfg), nil
	}})
}
