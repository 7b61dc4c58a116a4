package kerneltest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// Driver runs a kernel synchronously over fake vats.
type Driver struct {
	T     testing.TB
	Ctx   context.Context
	Store *persistence.Store
	K     *kernel.Kernel
	// Vats holds the fake vat of every launched vat, by id.
	Vats map[kernel.VatID]*FakeVat
	// Results holds the first Output released for each host request.
	Results map[kernel.KRef]kernel.Output
	// Released lists every Output in release order.
	Released []kernel.Output
	// Cranks lists every crank result.
	Cranks []kernel.CrankResult
	// Stopped lists every vat the kernel terminated, in order: those of
	// cranks (CrankResult.Terminated) and of host requests.
	Stopped []kernel.VatID
	// Audit runs kernel.Audit after every crank and host request; on by
	// default.
	Audit bool
	// Now is the time the kernel is told (kernel.Config.Now); tests move
	// it to drive the restart policy's backoff and window.
	Now time.Time

	goVats *goVats // real Go vats, if UseRegistry was called
	// unstarted: vats whose resume deferred their start
	// (ReopenDeferring); their first delivery starts them first.
	unstarted map[kernel.VatID]bool
	// path and opts are where the store lives, for Reopen.
	path string
	opts persistence.Options
}

// New returns a Driver over a fresh in-memory store with default options.
func New(t testing.TB) *Driver {
	return NewWithOptions(t, "", persistence.Options{})
}

// NewWithOptions returns a Driver over the store at path ("" = in memory).
// The store is closed when the test ends.
func NewWithOptions(t testing.TB, path string, opts persistence.Options) *Driver {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path, opts)
	if err != nil {
		t.Fatalf("kerneltest: open store: %v", err)
	}
	t.Cleanup(func() { st.Close(ctx) })
	d := NewWithStore(t, st)
	d.path, d.opts = path, opts
	return d
}

func (d *Driver) now() time.Time { return d.Now }

// Reopen simulates a kernel restart: the store is flushed and closed, and a
// new kernel over a fresh open of the same file resumes (kernel.Resume),
// so every vat begins a new incarnation. The fake vats keep their handlers
// (the test's scripts), as a vat's code survives a restart; what they were
// delivered is kept too. It needs a file store (NewWithOptions).
func (d *Driver) Reopen() { d.reopen(false) }

// reopen is Reopen, or with crash a restart after kill -9: the store is
// dropped as a crash drops it (persistence.Store.Crash) instead of being
// flushed and closed.
func (d *Driver) reopen(crash bool) { d.reopenWith(crash, kernel.ResumeOptions{}) }

// reopenWith is reopen, resuming with opts (kernel.ResumeWith).
func (d *Driver) reopenWith(crash bool, opts kernel.ResumeOptions) kernel.ResumeResult {
	d.T.Helper()
	if d.path == "" {
		d.T.Fatalf("kerneltest: Reopen needs a file store")
	}
	if crash {
		d.Store.Crash()
	} else {
		out, err := d.K.Flush(d.Ctx)
		if err != nil {
			d.T.Fatalf("kerneltest: reopen: flush: %v", err)
		}
		d.release(out)
		if err := d.Store.Close(d.Ctx); err != nil {
			d.T.Fatalf("kerneltest: reopen: close: %v", err)
		}
	}
	st, err := sqlitestore.Open(d.Ctx, d.path, d.opts)
	if err != nil {
		d.T.Fatalf("kerneltest: reopen: %v", err)
	}
	d.T.Cleanup(func() { st.Close(context.Background()) })
	k, err := kernel.New(kernel.Config{Store: st, Now: d.now})
	if err != nil {
		d.T.Fatalf("kerneltest: reopen: new kernel: %v", err)
	}
	d.Store, d.K = st, k
	d.audit("reopen")
	d.unstarted = nil
	res, out, err := d.K.ResumeWith(d.Ctx, d, opts)
	if err != nil {
		d.T.Fatalf("kerneltest: resume: %v", err)
	}
	d.release(out)
	d.audit("resume")
	for _, id := range res.Deferred {
		if d.unstarted == nil {
			d.unstarted = map[kernel.VatID]bool{}
		}
		d.unstarted[id] = true
	}
	return res
}

// NewWithStore returns a Driver over st.
func NewWithStore(t testing.TB, st *persistence.Store) *Driver {
	t.Helper()
	d := &Driver{
		T: t, Ctx: context.Background(), Store: st,
		Vats:    map[kernel.VatID]*FakeVat{},
		Results: map[kernel.KRef]kernel.Output{},
		Audit:   true,
		Now:     time.Unix(1_000_000, 0),
	}
	k, err := kernel.New(kernel.Config{Store: st, Now: d.now})
	if err != nil {
		t.Fatalf("kerneltest: new kernel: %v", err)
	}
	d.K = k
	t.Cleanup(func() {
		if d.goVats != nil {
			d.goVats.stop()
		}
	})
	return d
}

// Launch launches a subcluster of fake vats named names, bootstrap first
// unless bootstrap is given, starts each vat, and returns the result. It
// does not send bootstrap.
func (d *Driver) Launch(bootstrap string, names ...string) kernel.LaunchResult {
	d.T.Helper()
	cfg := kernel.ClusterConfig{Bootstrap: bootstrap, Vats: map[string]kernel.VatConfig{}}
	for _, n := range names {
		cfg.Vats[n] = kernel.VatConfig{Bundle: "fake"}
	}
	return d.LaunchConfig(cfg)
}

// LaunchConfig launches cfg with fake vats (kernel.Launch, without a
// bootstrap message: tests script every delivery) and returns the result.
func (d *Driver) LaunchConfig(cfg kernel.ClusterConfig) kernel.LaunchResult {
	d.T.Helper()
	res, out, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{NoBootstrap: true})
	if err != nil {
		d.T.Fatalf("kerneltest: launch: %v", err)
	}
	d.release(out)
	d.audit("launch")
	return res
}

// Vat returns the fake vat named name.
func (d *Driver) Vat(name string) *FakeVat {
	d.T.Helper()
	for _, v := range d.Vats {
		if v.Name == name {
			return v
		}
	}
	d.T.Fatalf("kerneltest: no vat named %q", name)
	return nil
}

// Deliver implements kernel.Deliverer over the fake vats.
func (d *Driver) Deliver(ctx context.Context, vat kernel.VatID, dv kernel.Delivery, sys kernel.Syscaller) (err error) {
	if d.unstarted[vat] {
		// A vat whose resume deferred its start: started inside its first
		// delivery, with that delivery's syscaller, as a runtime that
		// pages vats in does (a startVat, restart or upgrade starts it as
		// usual).
		delete(d.unstarted, vat)
		if dv.Kind != kernel.DeliverStartVat {
			start, err := d.K.StartDelivery(vat)
			if err != nil {
				return err
			}
			if err := d.Deliver(ctx, vat, start, sys); err != nil {
				return err
			}
		}
	}
	if d.goVats != nil {
		if handled, err := d.goVats.deliverGo(ctx, d.K, vat, dv, sys); handled {
			return err
		}
	}
	v := d.Vats[vat]
	if v == nil && dv.Kind == kernel.DeliverStartVat {
		// A vat of a launch in progress: its fake vat is made at its start.
		info, err := d.K.Vat(vat)
		if err != nil {
			return err
		}
		v = &FakeVat{ID: vat, Name: info.Name, OnMethod: map[string]Handler{}}
		d.Vats[vat] = v
	}
	if v == nil || v.Gone {
		return fmt.Errorf("kerneltest: vat %s: %w", vat, kernel.ErrNoEndpoint)
	}
	if v.Broken != nil {
		return v.Broken
	}
	if v.Unavailable && dv.Kind != kernel.DeliverStartVat {
		return kernel.ErrVatUnavailable
	}
	v.Deliveries = append(v.Deliveries, dv)
	if dv.Kind == kernel.DeliverStartVat {
		if v.FailStart != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, v.FailStart)
		}
		v.Started++
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			if bug, ok := r.(*kernel.InvariantError); ok {
				// A kernel bug met while answering a syscall is the
				// kernel's, never the vat's: let it fail the test.
				panic(bug)
			}
			err = fmt.Errorf("%w: panic: %v", kernel.ErrVatFault, r)
		}
	}()
	c := &Call{Vat: v, Delivery: dv, Sys: sys}
	if err := v.handle(c); err != nil {
		return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	return nil
}

// Send queues a host message and returns its result promise.
func (d *Driver) Send(target kernel.KRef, method string, slots ...kernel.KRef) kernel.KRef {
	d.T.Helper()
	vs := make([]kernel.VRef, len(slots))
	for i, s := range slots {
		vs[i] = kernel.VRef(s)
	}
	kpid, out, err := d.K.QueueMessage(d.Ctx, target, Methargs(method, vs...))
	if err != nil {
		d.T.Fatalf("kerneltest: send: %v", err)
	}
	d.release(out)
	d.audit("send")
	return kpid
}

// Call queues a host message whose arguments are any passable values
// (krefs as marshal.Ref), and returns its result promise.
func (d *Driver) Call(target kernel.KRef, method string, args ...any) kernel.KRef {
	d.T.Helper()
	if args == nil {
		args = []any{}
	}
	methargs, err := marshal.Encode([]any{method, args})
	if err != nil {
		d.T.Fatalf("kerneltest: call %s: %v", method, err)
	}
	kpid, out, err := d.K.QueueMessage(d.Ctx, target, methargs)
	if err != nil {
		d.T.Fatalf("kerneltest: call %s: %v", method, err)
	}
	d.release(out)
	d.audit("call")
	return kpid
}

// Value decodes the fulfilled value of kpid, failing the test if it was
// rejected or is missing.
func (d *Driver) Value(kpid kernel.KRef) any {
	d.T.Helper()
	v, err := marshal.Decode(d.ResultValue(kpid))
	if err != nil {
		d.T.Fatalf("kerneltest: result of %s: %v", kpid, err)
	}
	return v
}

func (d *Driver) release(out []kernel.Output) {
	d.Stopped = append(d.Stopped, d.K.TakeStopped()...)
	for _, o := range out {
		d.Released = append(d.Released, o)
		if _, seen := d.Results[o.KPID]; !seen {
			d.Results[o.KPID] = o
		}
	}
}

// Crank runs one crank and audits.
func (d *Driver) Crank() kernel.CrankResult {
	d.T.Helper()
	res, err := d.K.Crank(d.Ctx, d)
	if err != nil {
		d.T.Fatalf("kerneltest: crank: %v", err)
	}
	if res.Outcome != kernel.Idle {
		d.Cranks = append(d.Cranks, res)
	}
	d.Stopped = append(d.Stopped, res.Terminated...)
	d.release(res.Released)
	d.audit(fmt.Sprintf("crank %d", res.Crank))
	return res
}

// RunUntilQuiescent cranks until there is no work (at most limit cranks,
// 10,000 if limit <= 0) and returns the cranks run.
func (d *Driver) RunUntilQuiescent(limit int) []kernel.CrankResult {
	d.T.Helper()
	if limit <= 0 {
		limit = 10000
	}
	var out []kernel.CrankResult
	for i := 0; i < limit; i++ {
		res := d.Crank()
		if res.Outcome == kernel.Idle {
			return out
		}
		out = append(out, res)
	}
	d.T.Fatalf("kerneltest: not quiescent after %d cranks", limit)
	return out
}

// Terminate terminates a vat at the host's request.
func (d *Driver) Terminate(vat kernel.VatID) {
	d.T.Helper()
	out, err := d.K.TerminateVat(d.Ctx, vat, "terminated by test")
	if err != nil {
		d.T.Fatalf("kerneltest: terminate: %v", err)
	}
	d.release(out)
	d.audit("terminate")
}

// Restart restarts a vat at the host's request.
func (d *Driver) Restart(vat kernel.VatID) {
	d.T.Helper()
	out, err := d.K.RestartVat(d.Ctx, vat, d, "restarted by test")
	if err != nil {
		d.T.Fatalf("kerneltest: restart: %v", err)
	}
	d.release(out)
	d.audit("restart")
}

// Result returns the host's first Output for kpid.
func (d *Driver) Result(kpid kernel.KRef) (kernel.Output, bool) {
	o, ok := d.Results[kpid]
	return o, ok
}

// ResultErr returns the host's result for kpid as a Go error (nil if
// fulfilled), failing the test if there is none yet.
func (d *Driver) ResultErr(kpid kernel.KRef) error {
	d.T.Helper()
	o, ok := d.Results[kpid]
	if !ok {
		d.T.Fatalf("kerneltest: no result for %s", kpid)
	}
	return o.Err()
}

// ResultValue returns the fulfilled value for kpid, failing the test if it
// was rejected or is missing.
func (d *Driver) ResultValue(kpid kernel.KRef) marshal.CapData {
	d.T.Helper()
	o, ok := d.Results[kpid]
	if !ok {
		d.T.Fatalf("kerneltest: no result for %s", kpid)
	}
	if o.Rejected {
		d.T.Fatalf("kerneltest: %s rejected: %v", kpid, o.Err())
	}
	return o.Value
}

// AuditNow runs the auditor and fails the test on any problem.
func (d *Driver) AuditNow(when string) {
	d.T.Helper()
	problems, err := kernel.Audit(d.Ctx, d.Store)
	if err != nil {
		d.T.Fatalf("kerneltest: audit after %s: %v", when, err)
	}
	if len(problems) > 0 {
		d.T.Fatalf("kerneltest: audit after %s found %d problems:\n  %s", when, len(problems), strings.Join(problems, "\n  "))
	}
}

func (d *Driver) audit(when string) {
	d.T.Helper()
	if d.Audit {
		d.AuditNow(when)
	}
}

// ErrScripted is a vat fault a Handler can return.
var ErrScripted = errors.New("scripted vat fault")
