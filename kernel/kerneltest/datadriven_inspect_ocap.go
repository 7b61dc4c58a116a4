package kerneltest

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Host commands that read one promise, ask about revocation, pin and
// unpin, and send to a target written as any text at all (a malformed or
// empty kref included), as a careless or hostile host might.

// promise prints one promise's row, as promises does, or says that no
// such promise exists (it was never made, or it was freed).
func (s *scenario) promise(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("promise KPID")
	}
	kpid, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(kernel.DescribePromises(s.d.Store), "\n") {
		if strings.HasPrefix(line, string(kpid)+" ") {
			return line + "\n", nil
		}
	}
	return string(kpid) + " (no such promise)\n", nil
}

// isRevoked asks the kernel whether an object is revoked.
func (s *scenario) isRevoked(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("is-revoked TARGET")
	}
	kref, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	revoked, err := s.d.K.IsRevoked(kref)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%v\n", revoked), nil
}

// pinUnpin pins an object for the host, or lets go of one pin (a host
// result's objects are pinned for the host until it does).
func (s *scenario) pinUnpin(td *datadriven.TestData) (string, error) {
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

// sendTo queues a host message to a target given as raw text, so that a
// scenario can hand the kernel an empty or malformed kref. slots=(...)
// are host refs too.
func (s *scenario) sendTo(td *datadriven.TestData) (string, error) {
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
