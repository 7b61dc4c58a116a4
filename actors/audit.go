package actors

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/internal/invariants"
	"github.com/ocapgo/kernel-actors/kernel"
)

// ErrAudit is wrapped by the error a kernel stops with when the auditor,
// run after a crank (Config.AuditEveryCrank, or any build with the
// invariants tag or -race), found a problem in the kernel's state.
var ErrAudit = errors.New("actors: the invariant audit failed")

// auditing reports whether the kernel actor audits after every crank.
// Builds for tests (the invariants tag, -race) always do: a crank that
// breaks an invariant then stops the kernel at that crank, where it can
// be read, rather than surface thousands of cranks later as a wrong
// answer.
func (ka *kernelActor) auditing() bool {
	return invariants.Enabled || ka.cfg.AuditEveryCrank
}

// auditCrank runs the auditor over the state the crank just committed.
// INVARIANT: it runs between units (kernel.Audit refuses an open one), and
// a finding stops the kernel (fail) before any later unit can build on
// the broken state; the crank's outputs are not released.
func (ka *kernelActor) auditCrank() bool {
	problems, err := kernel.Audit(ka.ctx, ka.st)
	if err == nil && len(problems) == 0 {
		return true
	}
	if err == nil {
		const most = 10
		more := ""
		if len(problems) > most {
			more = fmt.Sprintf(" (and %d more)", len(problems)-most)
			problems = problems[:most]
		}
		err = fmt.Errorf("%w after crank %d: %s%s", ErrAudit, ka.k.CrankCount(), strings.Join(problems, "; "), more)
	} else {
		err = fmt.Errorf("%w after crank %d: %w", ErrAudit, ka.k.CrankCount(), err)
	}
	ka.log.Error().Err(err).Msg("the audit after a crank failed; the kernel stops")
	ka.fail(err)
	return false
}
