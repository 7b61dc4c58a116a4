package kerneltest

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Host requests and cranks: messages the host queues (of refs, of data, or
// to a target written as any text at all, as a careless or hostile host
// might), revocation, pins and reaps, and running the queue.
//
// Every host request is one kernel unit (invariant 11 (docs/invariants.md)),
// so each command here audits right after it, as the Driver does after a
// crank: a request that left a count wrong fails at that command, not at
// some later crank that merely trips over it. What a request released is
// recorded before the audit (Driver.release), so that results shows it
// whatever the audit finds. A refused request prints its error and must
// change nothing; send-to checks that outright.

// hostSlots resolves host-side SLOT arguments (krefs or root:NAME). The
// host has no c-list: its slots are krefs, which the message carries as
// they are.
func (s *scenario) hostSlots(pos []string) ([]kernel.VRef, error) {
	var slots []kernel.VRef
	for _, p := range pos {
		k, err := s.hostRef(p)
		if err != nil {
			return nil, err
		}
		slots = append(slots, kernel.VRef(k))
	}
	return slots, nil
}

// queue queues a host message and prints its result promise. The kernel
// checks the target and the slots, so a scenario can hand it dead or
// unknown krefs and see the refusal.
func (s *scenario) queue(target kernel.KRef, methargs marshal.CapData, what string) (string, error) {
	kpid, out, err := s.d.K.QueueMessage(s.d.Ctx, target, methargs)
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit(what)
	return string(kpid) + "\n", nil
}

// cmdSend runs "send TARGET METHOD [SLOT...]": a host message whose
// arguments are the slots.
func (s *scenario) cmdSend(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) < 2 {
		return "", fmt.Errorf("send TARGET METHOD [SLOT...]")
	}
	target, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	slots, err := s.hostSlots(pos[2:])
	if err != nil {
		return "", err
	}
	return s.queue(target, Methargs(pos[1], slots...), "send")
}

// cmdCall runs "call TARGET METHOD ARGS [SLOT...]": a host message whose
// arguments are the smallcaps array ARGS over the slots.
func (s *scenario) cmdCall(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) < 3 {
		return "", fmt.Errorf("call TARGET METHOD ARGS [SLOT...]")
	}
	target, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	slots, err := s.hostSlots(pos[3:])
	if err != nil {
		return "", err
	}
	// A host command reports bad input as an error line; only a script
	// line may panic (its vat's fault).
	var methargs marshal.CapData
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		methargs = methargsOf(pos[1], pos[2], slots)
	}()
	if err != nil {
		return "", err
	}
	return s.queue(target, methargs, "call")
}

// cmdSendTo runs "send-to target=KREF method=M [slots=(...)]": a host
// message to a target given as raw text, so that a scenario can hand the
// kernel an empty or malformed kref. The slots are raw text too.
func (s *scenario) cmdSendTo(td *datadriven.TestData) (string, error) {
	var target, method string
	td.ScanArgs(s.d.T, "target", &target)
	td.ScanArgs(s.d.T, "method", &method)
	var slots []kernel.VRef
	if a, ok := td.Arg("slots"); ok {
		for _, v := range a.Vals {
			slots = append(slots, kernel.VRef(v))
		}
	}
	before := kernel.DescribeState(s.d.Store)
	kpid, out, err := s.d.K.QueueMessage(s.d.Ctx, kernel.KRef(target), Methargs(method, slots...))
	if err != nil {
		// A refused message must leave nothing behind (the reference
		// makes its result promise first, and leaks it).
		if after := kernel.DescribeState(s.d.Store); after != before {
			return "", fmt.Errorf("refused send changed the kernel's state: %w", err)
		}
		s.d.audit("refused send")
		return "", err
	}
	s.d.release(out)
	s.d.audit("send")
	return string(kpid) + "\n", nil
}

// cmdRevoke runs "revoke TARGET": the host revokes an object. Nothing
// is delivered; the messages sent to it from now on splat, in the cranks
// that take them.
func (s *scenario) cmdRevoke(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("revoke TARGET")
	}
	target, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	out, err := s.d.K.Revoke(s.d.Ctx, target)
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("revoke")
	return "ok\n", nil
}

// cmdPin runs "pin TARGET" and "unpin TARGET": the host pins an object, or
// lets go of one pin (a host result's objects are pinned for the host
// until it does).
func (s *scenario) cmdPin(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("%s TARGET", td.Cmd)
	}
	kref, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	var out []kernel.Output
	if td.Cmd == "pin" {
		out, err = s.d.K.Pin(s.d.Ctx, kref)
	} else {
		out, err = s.d.K.Unpin(s.d.Ctx, kref)
	}
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit(td.Cmd)
	return "ok\n", nil
}

// cmdReap runs "reap vat=NAME": the host asks the vat to bring out its
// dead (collect garbage and report drops) in a crank of its own.
func (s *scenario) cmdReap(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	out, err := s.d.K.ScheduleReap(s.d.Ctx, v.ID)
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("reap")
	return "ok\n", nil
}

// cmdCranks runs "cranks N": N cranks, fewer if the work runs out first.
// It stops a scenario between two steps of a chain (the middle of a
// promise pipeline, a cycle half built) where run-until-idle would run it
// to the end; "(idle)" says the work ran out before N.
func (s *scenario) cmdCranks(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	n := 0
	if len(pos) != 1 {
		return "", fmt.Errorf("cranks N")
	}
	if _, err := fmt.Sscanf(pos[0], "%d", &n); err != nil || n <= 0 {
		return "", fmt.Errorf("cranks N: %q is not a positive count", pos[0])
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		r := s.d.Crank()
		if r.Outcome == kernel.Idle {
			b.WriteString("(idle)\n")
			break
		}
		b.WriteString(kernel.DescribeCrank(r) + "\n")
	}
	return b.String(), nil
}

// cmdRunUntilIdle runs "run-until-idle": cranks until there is no work
// (at most Driver.RunUntilQuiescent's bound, so that a scenario whose vats
// ping-pong forever fails instead of hanging).
func (s *scenario) cmdRunUntilIdle() string {
	var b strings.Builder
	for _, r := range s.d.RunUntilQuiescent(0) {
		b.WriteString(kernel.DescribeCrank(r) + "\n")
	}
	if b.Len() == 0 {
		return "(idle)\n"
	}
	return b.String()
}

// cmdResults prints the host outputs released since the last results:
// what the host was told, in the order it was told (a promise settled
// under group commit is told only once its unit is flushed).
func (s *scenario) cmdResults() string {
	out := describeOutputs(s.d.Released[s.seen:])
	s.seen = len(s.d.Released)
	return out
}

// cmdAudit runs the auditor and prints its problems, or ok. The Driver
// audits after every step anyway and fails the test at a problem; this
// command shows it in the file, where a scenario wants to say so.
func (s *scenario) cmdAudit() (string, error) {
	problems, err := kernel.Audit(s.d.Ctx, s.d.Store)
	if err != nil {
		return "", err
	}
	if len(problems) == 0 {
		return "ok\n", nil
	}
	return strings.Join(problems, "\n") + "\n", nil
}
