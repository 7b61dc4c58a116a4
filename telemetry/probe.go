package telemetry

import (
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// FlushProbe measures the store's flushes through the hook every backend
// calls at a flush's commit boundaries (persistence.FaultInjector): the
// time from before BEGIN to after COMMIT is the flush's duration, and the
// store's row counter (persistence.Stats.Rows), read once the flush is
// over, gives the rows it wrote. It passes every call on to Inner, so a
// crash or fault test's injector (actors.Config.StoreFaults) still sees
// every point, and a fault it injects still fails the flush.
//
// It runs on the goroutine that flushes (the kernel actor's), like every
// recording method of Metrics.
type FlushProbe struct {
	// Inner, if set, is the injector the store would have had.
	Inner persistence.FaultInjector
	// Now is the runtime's clock.
	Now func() time.Time
	// Metrics receives the measurements; nil records nothing (a probe
	// that only times commit waits for traces).
	Metrics *Metrics
	// Stats reads the store's counters; set once the store is open. Until
	// then no rows are recorded.
	Stats func() persistence.Stats

	began   time.Time
	waited  time.Duration // flush time since the last TakeWait
	flushes uint64        // Stats().Flushes as of the last Settle
	rows    uint64        // Stats().Rows as of the last Settle
	// committed says a flush reached its commit since the last Settle:
	// only then can the store's counters have moved, so a Settle without
	// it reads nothing (Stats walks the store's tables, and the runtime
	// settles after every crank, most of which under group commit do not
	// flush).
	committed bool
}

var _ persistence.FaultInjector = (*FlushProbe)(nil)

// Fault implements persistence.FaultInjector.
func (p *FlushProbe) Fault(point persistence.FaultPoint) error {
	switch point {
	case persistence.FaultBeforeBegin:
		// The previous flush is over by now (the store counted it after
		// its last point): settle its rows before this one starts.
		p.Settle()
		p.began = p.Now()
	case persistence.FaultAfterCommit:
		p.committed = true
		took := p.Now().Sub(p.began)
		p.waited += took
		if p.Metrics != nil {
			p.Metrics.flush(took)
		}
	}
	if p.Inner != nil {
		return p.Inner.Fault(point)
	}
	return nil
}

// Settle records the rows of the flushes the store has finished since the
// last Settle. The store updates its counters only after a flush's last
// boundary, so the runtime calls Settle after each unit of its work, and
// the probe itself before each flush; between two calls there is at most
// one flush unless one piece of work flushed several times, whose rows are
// then shared out evenly.
func (p *FlushProbe) Settle() {
	if p.Stats == nil || p.Metrics == nil || !p.committed {
		return
	}
	// INVARIANT: committed is cleared only here, after the counters are
	// read, so no finished flush goes unsettled: the store counts a flush
	// once past its last boundary, which is after FaultAfterCommit.
	p.committed = false
	st := p.Stats()
	n := st.Flushes - p.flushes
	if n == 0 {
		return
	}
	rows := st.Rows - p.rows
	for i := uint64(0); i < n; i++ {
		share := rows / n
		if i < rows%n {
			share++
		}
		p.Metrics.flushRowsWritten(share)
	}
	p.flushes, p.rows = st.Flushes, st.Rows
}

// TakeWait returns the flush time since the last TakeWait and starts
// again from zero: a crank's commit wait, when taken before and after it.
func (p *FlushProbe) TakeWait() time.Duration {
	w := p.waited
	p.waited = 0
	return w
}

// SyscallCounts counts syscalls by kind (indexed by kernel.SyscallKind).
type SyscallCounts [numSyscall]uint32

// Total is the number of syscalls counted.
func (c *SyscallCounts) Total() int {
	n := 0
	for _, v := range c {
		n += int(v)
	}
	return n
}

// SyscallCounter is a kernel.Syscaller that counts the syscalls it passes
// on to Inner. The runtime puts one between a delivery's vat and the
// kernel, reused from delivery to delivery (Reset between). A vat calls it
// only while its delivery is in progress, through the delivery's gate
// (supervisor.Pumper), so the counts need no lock: the gate orders every
// syscall before the delivery's end.
type SyscallCounter struct {
	Inner  kernel.Syscaller
	Counts SyscallCounts
}

var _ kernel.Syscaller = (*SyscallCounter)(nil)

// Syscall implements kernel.Syscaller.
func (c *SyscallCounter) Syscall(s kernel.Syscall) kernel.SyscallResult {
	if int(s.Kind) < len(c.Counts) {
		c.Counts[s.Kind]++
	}
	return c.Inner.Syscall(s)
}

// Reset points c at inner, with every count at zero.
func (c *SyscallCounter) Reset(inner kernel.Syscaller) {
	c.Inner = inner
	c.Counts = SyscallCounts{}
}
