package kerneltest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Script lines beyond the basic ones in datadriven.go, for ports of the
// anchors' test families: messages whose arguments are data as well as
// refs, sends with no result or with a result the vat names itself (a
// hostile or non-liveslots vat), resolutions of any value (several in one
// syscall), vatstore reads, and a test log that scripts write to.
//
// Each handler reads the fields f of one script line; ref and refs resolve
// a line's REF tokens exactly as the basic lines do. A malformed line
// panics, which the Driver reports as the vat's fault: a scenario that
// mistypes a line sees its vat fail, loudly, at that delivery.

// refFunc resolves one REF token of a script line in the current delivery.
type refFunc func(tok string) kernel.VRef

// cutOption removes a trailing key=VALUE field (the last one only, so that
// "as=NAME" and "result=VREF" may come in either order after it), and
// reports its value.
func cutOption(f []string, key string) ([]string, string, bool) {
	for i := len(f) - 1; i >= 0 && strings.Contains(f[i], "="); i-- {
		if v, ok := strings.CutPrefix(f[i], key+"="); ok {
			return append(f[:i:i], f[i+1:]...), v, true
		}
	}
	return f, "", false
}

// methargsOf builds the message body ["METHOD", ARGS...] from a smallcaps
// body of the argument array ("#[...]") and its slots.
func methargsOf(method, args string, slots []kernel.VRef) marshal.CapData {
	inner, ok := strings.CutPrefix(args, "#[")
	if !ok || !strings.HasSuffix(inner, "]") {
		panic(fmt.Sprintf("script: arguments %q must be a smallcaps array body #[...]", args))
	}
	mb, _ := json.Marshal(method)
	body := `#[` + string(mb) + `,[` + inner + `]`
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = string(s)
	}
	return marshal.CapData{Body: body, Slots: out}
}

// scriptCall runs
//
//	call TARGET METHOD ARGS [SLOT...] [result=none|VREF] [as=NAME]
//
// a send whose arguments are the smallcaps array ARGS over the slots. By
// default the result is a fresh p+N, saved as NAME; result=none sends it
// with no result (sendOnly), and result=VREF uses VREF as the result as
// written, for hostile or non-liveslots vats.
func (s *scenario) scriptCall(c *Call, saved map[string]kernel.VRef, f []string, ref refFunc, refs func([]string) []kernel.VRef) {
	f, as, _ := cutOption(f, "as")
	f, res, hasRes := cutOption(f, "result")
	if len(f) < 4 {
		panic("script: call TARGET METHOD ARGS [SLOT...] [result=none|VREF] [as=NAME]")
	}
	var result kernel.VRef
	switch {
	case hasRes && res == "none":
	case hasRes:
		result = ref(res)
	default:
		result = c.NewExport(true)
	}
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(f[1]),
		Message: kernel.VatMessage{Methargs: methargsOf(f[2], f[3], refs(f[4:])), Result: result}})
	if as != "" && result != "" {
		saved[as] = result
	}
}

// scriptSendOnly runs "sendonly TARGET METHOD [REF...]": a send of refs
// with no result promise (SwingSet's sendOnly).
func (s *scenario) scriptSendOnly(c *Call, f []string, ref refFunc, refs func([]string) []kernel.VRef) {
	if len(f) < 3 {
		panic("script: sendonly TARGET METHOD [REF...]")
	}
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(f[1]),
		Message: kernel.VatMessage{Methargs: Methargs(f[2], refs(f[3:])...)}})
}

// scriptResolve runs
//
//	resolve VPID fulfill|reject BODY [SLOT...] [; VPID fulfill|reject BODY [SLOT...]]...
//
// one resolve syscall settling each VPID to the smallcaps BODY over its
// slots, as the raw protocol allows (liveslots resolves promises that name
// each other in one syscall).
func (s *scenario) scriptResolve(c *Call, line string, ref refFunc, refs func([]string) []kernel.VRef) {
	var rs []kernel.VatResolution
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "resolve"))
	for _, part := range strings.Split(rest, ";") {
		f := strings.Fields(part)
		if len(f) < 3 || (f[1] != "fulfill" && f[1] != "reject") {
			panic("script: resolve VPID fulfill|reject BODY [SLOT...] [; ...]")
		}
		var slots []string
		for _, r := range refs(f[3:]) {
			slots = append(slots, string(r))
		}
		rs = append(rs, kernel.VatResolution{VPID: ref(f[0]), Rejected: f[1] == "reject",
			Data: marshal.CapData{Body: f[2], Slots: slots}})
	}
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: rs})
}

// scriptLog runs "log TEXT": TEXT goes to the scenario's test log, named
// by the vat (SwingSet's testLog), which the testlog command prints.
func (s *scenario) scriptLog(c *Call, f []string) {
	s.more.testLog = append(s.more.testLog, c.Vat.Name+": "+strings.Join(f[1:], " "))
}

// scriptVatstoreGet runs "vatstore-get KEY": the vat reads its vatstore,
// and the test log shows what it read.
func (s *scenario) scriptVatstoreGet(c *Call, f []string) {
	if len(f) != 2 {
		panic("script: vatstore-get KEY")
	}
	r := c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]})
	switch {
	case r.Err != nil:
		s.scriptLog(c, []string{"log", "vatstore", f[1], "failed:", r.Err.Error()})
	case !r.Found:
		s.scriptLog(c, []string{"log", "vatstore", f[1], "is unset"})
	default:
		s.scriptLog(c, []string{"log", "vatstore", f[1], "=", r.Value})
	}
}

// cmdCall runs the host command "call TARGET METHOD ARGS [SLOT...]": a
// host message whose arguments are the smallcaps array ARGS over the slots
// (krefs or root:NAME). It prints the result promise.
func (s *scenario) cmdCall(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) < 3 {
		return "", fmt.Errorf("call TARGET METHOD ARGS [SLOT...]")
	}
	target, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	var slots []kernel.VRef
	for _, p := range pos[3:] {
		k, err := s.hostRef(p)
		if err != nil {
			return "", err
		}
		slots = append(slots, kernel.VRef(k))
	}
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
	kpid, out, err := s.d.K.QueueMessage(s.d.Ctx, target, methargs)
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("call")
	return string(kpid) + "\n", nil
}

// cmdOnNotify runs "on-notify vat=NAME" with a script as its input: the
// script answers NAME's next notify delivery that no "on ... next" script
// takes, whatever messages NAME receives before it (a vat awaiting a
// settlement). Several queue up in order.
func (s *scenario) cmdOnNotify(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	v.NextNotify = append(v.NextNotify, s.script(v, td.Input))
	return "ok\n", nil
}
