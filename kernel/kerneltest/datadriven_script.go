package kerneltest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The script lines, beyond the one-liners of lineCtx.line. First those a
// well-behaved vat makes, as liveslots would for the anchors' vat code:
// sends whose arguments are refs or data, sends with no result,
// settlements of any value (several in one syscall, promises inside
// values), and a vatstore used as the vat's baggage (counters, branches on
// what a start finds). Then those of a hostile or broken vat. Each runs in
// a lineCtx, reading the fields f of its line.

// send runs "send REF METHOD [REF...] [as=NAME]": a message of refs with a
// fresh result promise, saved as NAME.
func (x *lineCtx) send(f []string) {
	f, as, _ := cutOption(f, "as")
	if len(f) < 3 {
		panic("script: send REF METHOD [REF...] [as=NAME]")
	}
	// The refs first: a line that names an unsaved ref fails before it
	// allocates a result, so the vat's later vrefs do not shift.
	target, slots := x.ref(f[1]), x.refs(f[3:])
	r := x.c.NewExport(true)
	x.sys("send", kernel.Syscall{Kind: kernel.SyscallSend, Target: target,
		Message: kernel.VatMessage{Methargs: Methargs(f[2], slots...), Result: r}})
	if as != "" {
		x.saved[as] = r
	}
}

// call runs
//
//	call TARGET METHOD ARGS [SLOT...] [result=none|VREF] [as=NAME]
//
// a send whose arguments are the smallcaps array ARGS over the slots. By
// default the result is a fresh p+N, saved as NAME; result=none sends it
// with no result (sendOnly), and result=VREF uses VREF as the result as
// written, for hostile or non-liveslots vats.
func (x *lineCtx) call(f []string) {
	f, as, _ := cutOption(f, "as")
	f, res, hasRes := cutOption(f, "result")
	if len(f) < 4 {
		panic("script: call TARGET METHOD ARGS [SLOT...] [result=none|VREF] [as=NAME]")
	}
	var result kernel.VRef
	switch {
	case hasRes && res == "none":
	case hasRes:
		result = x.ref(res)
	default:
		result = x.c.NewExport(true)
	}
	x.sys("call", kernel.Syscall{Kind: kernel.SyscallSend, Target: x.ref(f[1]),
		Message: kernel.VatMessage{Methargs: methargsOf(f[2], f[3], x.refs(f[4:])), Result: result}})
	if as != "" && result != "" {
		x.saved[as] = result
	}
}

// sendOnly runs "sendonly TARGET METHOD [REF...]": a send of refs with no
// result promise (SwingSet's sendOnly).
func (x *lineCtx) sendOnly(f []string) {
	if len(f) < 3 {
		panic("script: sendonly TARGET METHOD [REF...]")
	}
	x.sys("sendonly", kernel.Syscall{Kind: kernel.SyscallSend, Target: x.ref(f[1]),
		Message: kernel.VatMessage{Methargs: Methargs(f[2], x.refs(f[3:])...)}})
}

// fulfill runs "fulfill REF undefined | str TEXT | ref REF".
func (x *lineCtx) fulfill(f []string) {
	if len(f) < 3 {
		panic("script: fulfill REF undefined|str TEXT|ref REF")
	}
	var data marshal.CapData
	switch f[2] {
	case "undefined":
		data = Undefined
	case "str":
		data = Str(strings.Join(f[3:], " "))
	case "ref":
		data = Ref(string(x.ref(f[3])))
	default:
		panic("script: fulfill REF undefined|str TEXT|ref REF")
	}
	x.settle("fulfill", x.ref(f[1]), false, data)
}

// reject runs "reject REF TEXT": REF is rejected with an Error of TEXT.
func (x *lineCtx) reject(f []string) {
	x.settle("reject", x.ref(f[1]), true, marshal.EncodeError("Error", strings.Join(f[2:], " ")))
}

// settle makes a resolve syscall of one promise, for the line what.
func (x *lineCtx) settle(what string, vpid kernel.VRef, rejected bool, data marshal.CapData) {
	x.sys(what, kernel.Syscall{Kind: kernel.SyscallResolve,
		Resolutions: []kernel.VatResolution{{VPID: vpid, Rejected: rejected, Data: data}}})
}

// resolve runs
//
//	resolve VPID fulfill|reject DATA [; VPID fulfill|reject DATA]...
//
// one resolve syscall settling each VPID to its DATA, as the raw protocol
// allows (liveslots resolves promises that name each other in one
// syscall).
func (x *lineCtx) resolve(f []string) {
	var rs []kernel.VatResolution
	for _, part := range splitOn(f[1:], ";") {
		if len(part) < 3 || (part[1] != "fulfill" && part[1] != "reject") {
			panic("script: resolve VPID fulfill|reject DATA [; VPID fulfill|reject DATA]...")
		}
		rs = append(rs, kernel.VatResolution{VPID: x.ref(part[0]), Rejected: part[1] == "reject",
			Data: x.data(part[2:])})
	}
	x.sys("resolve", kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: rs})
}

// data reads a resolution's DATA: undefined, str TEXT, error TEXT, ref
// REF, BODY [SLOT...] (a smallcaps body, one field that begins with #) or
// [SLOT...] : BODY (a body as written, its fields joined by one space).
// TEXT and BODY are interpolated like a log text.
func (x *lineCtx) data(toks []string) marshal.CapData {
	switch toks[0] {
	case "undefined":
		return Undefined
	case "str":
		return Str(x.interpolate(strings.Join(toks[1:], " ")))
	case "error":
		return marshal.EncodeError("Error", x.interpolate(strings.Join(toks[1:], " ")))
	case "ref":
		if len(toks) != 2 {
			panic("script: ref REF")
		}
		return Ref(string(x.ref(toks[1])))
	}
	if strings.HasPrefix(toks[0], "#") {
		return marshal.CapData{Body: x.interpolate(toks[0]), Slots: slotStrings(x.refs(toks[1:]))}
	}
	slots, body := x.slotsAndBody(toks)
	return marshal.CapData{Body: x.interpolate(body), Slots: slots}
}

// forward runs "forward VPID": VPID is settled as the notified promise
// was (liveslots does this when a method returns a promise it got from
// elsewhere).
func (x *lineCtx) forward(f []string) {
	if x.c.Delivery.Kind != kernel.DeliverNotify {
		panic("script: forward needs a notify")
	}
	r := x.c.Delivery.Resolutions[0]
	x.settle("forward", x.ref(f[1]), r.Rejected, r.Data)
}

// gc runs "drop|retire-imports|retire-exports|abandon REF...": one GC
// syscall of the refs.
func (x *lineCtx) gc(f []string) {
	var kind kernel.SyscallKind
	switch f[0] {
	case "drop":
		kind = kernel.SyscallDropImports
	case "retire-imports":
		kind = kernel.SyscallRetireImports
	case "retire-exports":
		kind = kernel.SyscallRetireExports
	case "abandon":
		kind = kernel.SyscallAbandonExports
	}
	x.sys(f[0], kernel.Syscall{Kind: kind, VRefs: x.refs(f[1:])})
}

// exit runs "exit [failure]": the vat asks to be terminated, cleanly or as
// a failure, with the info "bye".
func (x *lineCtx) exit(f []string) {
	x.sys("exit", kernel.Syscall{Kind: kernel.SyscallExit, Failure: len(f) > 1 && f[1] == "failure",
		Info: marshal.EncodeString("bye")})
}

// vatstoreSet runs "vatstore-set KEY TEXT" (TEXT interpolated like a log
// text, so a vat can store what it was sent).
func (x *lineCtx) vatstoreSet(f []string) {
	if len(f) < 2 {
		panic("script: vatstore-set KEY TEXT")
	}
	x.sys("vatstore-set", kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[1],
		Value: x.interpolate(strings.Join(f[2:], " "))})
}

// vatstoreGet runs "vatstore-get KEY": the vat reads its vatstore, and the
// test log shows what it read.
func (x *lineCtx) vatstoreGet(f []string) {
	if len(f) != 2 {
		panic("script: vatstore-get KEY")
	}
	r := x.sys("vatstore-get", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]})
	switch {
	case r.Err != nil: // sys logged the refusal
	case !r.Found:
		x.s.logf(x.c, "vatstore %s is unset", f[1])
	default:
		x.s.logf(x.c, "vatstore %s = %s", f[1], r.Value)
	}
}

// incr runs "incr KEY": the counter at KEY (0 if unset) goes up by one.
func (x *lineCtx) incr(f []string) {
	n := 0
	if r := x.sys("incr", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]}); r.Found {
		n, _ = strconv.Atoi(r.Value)
	}
	x.sys("incr", kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[1], Value: strconv.Itoa(n + 1)})
}

// ifSet runs "ifset KEY LINE" and "ifunset KEY LINE": LINE runs only if
// KEY is (is not) in the vatstore. It is what a vat's start does with its
// baggage: one branch for a new vat, another for one that finds its state.
func (x *lineCtx) ifSet(f []string) {
	r := x.sys(f[0], kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]})
	if r.Err == nil && r.Found == (f[0] == "ifset") && len(f) > 2 {
		x.line(f[2:])
	}
}

// cutOption removes a trailing key=VALUE field (among the trailing fields
// that have an "=", so that "as=NAME" and "result=VREF" may come in either
// order), and reports its value.
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
	out := make([]string, len(slots)) // empty, not nil, as Methargs makes it
	for i, s := range slots {
		out[i] = string(s)
	}
	return marshal.CapData{Body: body, Slots: out}
}

// slotStrings returns vrefs as a CapData's slots (nil for none).
func slotStrings(vrefs []kernel.VRef) []string {
	if len(vrefs) == 0 {
		return nil
	}
	out := make([]string, len(vrefs))
	for i, v := range vrefs {
		out[i] = string(v)
	}
	return out
}

// splitOn splits toks at every field that is sep.
func splitOn(toks []string, sep string) [][]string {
	var out [][]string
	cur := []string{}
	for _, t := range toks {
		if t == sep {
			out = append(out, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, t)
	}
	return append(out, cur)
}

// The lines of a hostile or broken vat: syscalls written out raw, as no
// liveslots would make them (a body that does not parse, a slot the body
// never names, a vref the vat does not hold, a result it did not allocate,
// an exit with garbage, a syscall kind that does not exist), and a
// syscaller kept past the end of its delivery. Like every script line's,
// each syscall of theirs that the kernel refuses is logged in the test
// log (lineCtx.sys), so a scenario shows that after the first illegal
// syscall every later one is refused too (invariant 5 (docs/invariants.md):
// the illegal mark is sticky).

// rawSend runs "rawsend TARGET RESULT|-|new [SLOT...] : BODY [as=NAME]": a
// send of BODY as written, with the result RESULT (a ref), none (-) or a
// fresh p+N (new), saved as NAME.
func (x *lineCtx) rawSend(f []string) {
	f, as, _ := cutOption(f, "as")
	if len(f) < 3 {
		panic("script: rawsend TARGET RESULT|-|new [SLOT...] : BODY [as=NAME]")
	}
	var result kernel.VRef
	switch f[2] {
	case "-":
	case "new":
		result = x.c.NewExport(true)
	default:
		result = x.ref(f[2])
	}
	slots, body := x.slotsAndBody(f[3:])
	x.sys("rawsend", kernel.Syscall{Kind: kernel.SyscallSend, Target: x.ref(f[1]),
		Message: kernel.VatMessage{Methargs: marshal.CapData{Body: body, Slots: slots}, Result: result}})
	if as != "" {
		x.saved[as] = result
	}
}

// rawExit runs "rawexit clean|failure [SLOT...] : BODY": an exit whose info
// is BODY as written.
func (x *lineCtx) rawExit(f []string) {
	if len(f) < 2 {
		panic("script: rawexit clean|failure [SLOT...] : BODY")
	}
	slots, body := x.slotsAndBody(f[2:])
	x.sys("rawexit", kernel.Syscall{Kind: kernel.SyscallExit, Failure: f[1] == "failure",
		Info: marshal.CapData{Body: body, Slots: slots}})
}

// rawSyscall runs "rawsyscall KIND": a syscall of kind number KIND with
// nothing else in it.
func (x *lineCtx) rawSyscall(f []string) {
	n, err := strconv.Atoi(f[1])
	if err != nil {
		panic("script: rawsyscall KIND (a number)")
	}
	x.sys("rawsyscall", kernel.Syscall{Kind: kernel.SyscallKind(n)})
}

// stash runs "stash": the vat keeps this delivery's syscaller, as a vat
// goroutine that outlives its delivery would.
func (x *lineCtx) stash() {
	x.s.stashed[x.c.Vat.ID] = x.c.Sys
}

// late runs "late REF METHOD": a send through the syscaller a stash kept
// from an earlier delivery. The test log says whether the kernel took it
// (it must not: that delivery has ended).
func (x *lineCtx) late(f []string) {
	old, ok := x.s.stashed[x.c.Vat.ID]
	if !ok {
		panic("script: late needs an earlier stash")
	}
	r := old.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: x.ref(f[1]),
		Message: kernel.VatMessage{Methargs: Methargs(f[2])}})
	if r.Err != nil {
		x.s.logf(x.c, "late send refused: %v", r.Err)
	} else {
		x.s.logf(x.c, "late send accepted")
	}
}

// slotsAndBody reads "[SLOT...] : BODY", the body as written (its fields
// joined by single spaces). Without a ":" there are no slots.
func (x *lineCtx) slotsAndBody(toks []string) ([]string, string) {
	for i, t := range toks {
		if t == ":" {
			return slotStrings(x.refs(toks[:i])), strings.Join(toks[i+1:], " ")
		}
	}
	return nil, strings.Join(toks, " ")
}
