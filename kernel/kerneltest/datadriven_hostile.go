package kerneltest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Script lines for vats that log what they see, keep counters in their
// vatstore, and make syscalls written out raw: the data a liveslots vat
// would send (several resolutions at once, promises inside values), and
// what a hostile or broken vat might (a body that does not parse, a slot
// the body never names, a vref it does not hold, a result it did not
// allocate, an exit with garbage, a syscall kind that does not exist).
// Every syscall these lines make that the kernel refuses is logged in the
// vat log, so a scenario shows that after the first illegal syscall every
// later one is refused too (invariant 5).

// scriptLine runs one such line in a delivery (dispatched from script).
func (s *scenario) scriptLine(c *Call, f []string, ref func(string) kernel.VRef, saved map[string]kernel.VRef) {
	refs := func(toks []string) []kernel.VRef {
		out := make([]kernel.VRef, len(toks))
		for i, t := range toks {
			out[i] = ref(t)
		}
		return out
	}
	switch f[0] {
	case "log":
		s.logf(c, "%s", s.interpolate(c, strings.Join(f[1:], " ")))
	case "set":
		s.sys(c, "set", kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[1],
			Value: s.interpolate(c, strings.Join(f[2:], " "))})
	case "ifset", "ifunset":
		// What a vat's start does with its baggage: one branch for a new
		// vat, another for one that finds its state.
		r := s.sys(c, f[0], kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]})
		if r.Err == nil && r.Found == (f[0] == "ifset") {
			if len(f) > 2 && f[2] == "vatstore-set" {
				s.sys(c, "vatstore-set", kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[3], Value: strings.Join(f[4:], " ")})
			} else {
				s.scriptLine(c, f[2:], ref, saved)
			}
		}
	case "incr":
		n := 0
		if r := s.sys(c, "incr", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]}); r.Found {
			n, _ = strconv.Atoi(r.Value)
		}
		s.sys(c, "incr", kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[1], Value: strconv.Itoa(n + 1)})
	case "vatstore-get":
		r := s.sys(c, "vatstore-get", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: f[1]})
		if r.Err == nil {
			if r.Found {
				s.logf(c, "%s=%s", f[1], r.Value)
			} else {
				s.logf(c, "%s (missing)", f[1])
			}
		}
	case "resolve":
		var rs []kernel.VatResolution
		for _, part := range splitOn(f[1:], "&&") {
			if len(part) < 2 || (part[1] != "fulfill" && part[1] != "reject") {
				panic("script: resolve VPID fulfill|reject DATA [&& ...]")
			}
			rs = append(rs, kernel.VatResolution{VPID: ref(part[0]), Rejected: part[1] == "reject",
				Data: s.scriptData(c, part[2:], refs)})
		}
		s.sys(c, "resolve", kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: rs})
	case "forward":
		// Settle VPID as the notified promise was settled (liveslots does
		// this when a method returns a promise it got from elsewhere).
		if c.Delivery.Kind != kernel.DeliverNotify {
			panic("script: forward needs a notify")
		}
		r := c.Delivery.Resolutions[0]
		s.sys(c, "forward", kernel.Syscall{Kind: kernel.SyscallResolve,
			Resolutions: []kernel.VatResolution{{VPID: ref(f[1]), Rejected: r.Rejected, Data: r.Data}}})
	case "rawsend":
		as := ""
		if last := f[len(f)-1]; strings.HasPrefix(last, "as=") {
			as, f = last[3:], f[:len(f)-1]
		}
		var result kernel.VRef
		switch f[2] {
		case "-":
		case "new":
			result = c.NewExport(true)
		default:
			result = ref(f[2])
		}
		slots, body := slotsAndBody(f[3:], refs)
		s.sys(c, "rawsend", kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(f[1]),
			Message: kernel.VatMessage{Methargs: marshal.CapData{Body: body, Slots: slots}, Result: result}})
		if as != "" {
			saved[as] = result
		}
	case "sendonly":
		s.sys(c, "sendonly", kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(f[1]),
			Message: kernel.VatMessage{Methargs: Methargs(f[2], refs(f[3:])...)}})
	case "rawexit":
		slots, body := slotsAndBody(f[2:], refs)
		s.sys(c, "rawexit", kernel.Syscall{Kind: kernel.SyscallExit, Failure: f[1] == "failure",
			Info: marshal.CapData{Body: body, Slots: slots}})
	case "stash":
		// Keep this delivery's syscaller, as a vat goroutine that outlives
		// its delivery would.
		s.ext().stashed[c.Vat.ID] = c.Sys
	case "late":
		// A send through a syscaller stashed in an earlier delivery.
		old, ok := s.ext().stashed[c.Vat.ID]
		if !ok {
			panic("script: late needs an earlier stash")
		}
		r := old.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(f[1]),
			Message: kernel.VatMessage{Methargs: Methargs(f[2])}})
		if r.Err != nil {
			s.logf(c, "late send refused: %v", r.Err)
		} else {
			s.logf(c, "late send accepted")
		}
	case "rawsyscall":
		n, err := strconv.Atoi(f[1])
		if err != nil {
			panic("script: rawsyscall KIND (a number)")
		}
		s.sys(c, "rawsyscall", kernel.Syscall{Kind: kernel.SyscallKind(n)})
	}
}

// sys makes a syscall for a script line, logging a refusal.
func (s *scenario) sys(c *Call, what string, sc kernel.Syscall) kernel.SyscallResult {
	r := c.Syscall(sc)
	if r.Err != nil {
		s.logf(c, "%s refused: %v", what, r.Err)
	}
	return r
}

// scriptData reads a resolution's DATA: undefined, str TEXT, error TEXT,
// ref REF, or [SLOT...] : BODY (interpolated like a log text).
func (s *scenario) scriptData(c *Call, toks []string, refs func([]string) []kernel.VRef) marshal.CapData {
	if len(toks) == 0 {
		panic("script: missing DATA")
	}
	switch toks[0] {
	case "undefined":
		return Undefined
	case "str":
		return Str(s.interpolate(c, strings.Join(toks[1:], " ")))
	case "error":
		return marshal.EncodeError("Error", s.interpolate(c, strings.Join(toks[1:], " ")))
	case "ref":
		return Ref(string(refs(toks[1:2])[0]))
	}
	slots, body := slotsAndBody(toks, refs)
	return marshal.CapData{Body: s.interpolate(c, body), Slots: slots}
}

// slotsAndBody reads "[SLOT...] : BODY", the body as written (its words
// joined by single spaces). Without a ":" there are no slots.
func slotsAndBody(toks []string, refs func([]string) []kernel.VRef) ([]string, string) {
	for i, t := range toks {
		if t == ":" {
			vs := refs(toks[:i])
			slots := make([]string, len(vs))
			for j, v := range vs {
				slots[j] = string(v)
			}
			if len(slots) == 0 {
				slots = nil
			}
			return slots, strings.Join(toks[i+1:], " ")
		}
	}
	return nil, strings.Join(toks, " ")
}

// splitOn splits toks at every sep.
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

// interpolate fills a log text: {vatstore:KEY} is KEY's value in the
// vat's store (read with a syscall), {value} the delivery's first value
// (a notify's first resolution, or a message's first argument), rendered
// as a person reads it.
func (s *scenario) interpolate(c *Call, text string) string {
	for {
		i := strings.Index(text, "{vatstore:")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}")
		if j < 0 {
			break
		}
		key := text[i+len("{vatstore:") : i+j]
		v := "(missing)"
		if r := s.sys(c, "vatstore-get", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: key}); r.Found {
			v = r.Value
		}
		text = text[:i] + v + text[i+j+1:]
	}
	text = strings.ReplaceAll(text, "{value}", firstValue(c.Delivery, -1))
	for i := 0; i < 8; i++ {
		if tok := fmt.Sprintf("{value.%d}", i); strings.Contains(text, tok) {
			text = strings.ReplaceAll(text, tok, firstValue(c.Delivery, i))
		}
		if tok := fmt.Sprintf("{res.%d}", i); strings.Contains(text, tok) {
			v := "(no such resolution)"
			if c.Delivery.Kind == kernel.DeliverNotify && i < len(c.Delivery.Resolutions) {
				r := c.Delivery.Resolutions[i]
				v = "fulfilled " + decoded(r.Data, -1)
				if r.Rejected {
					v = "rejected " + decoded(r.Data, -1)
				}
			}
			text = strings.ReplaceAll(text, tok, v)
		}
	}
	return text
}

// firstValue renders a delivery's first value (element elem of it, if
// elem >= 0).
func firstValue(dv kernel.Delivery, elem int) string {
	switch dv.Kind {
	case kernel.DeliverNotify:
		return decoded(dv.Resolutions[0].Data, elem)
	case kernel.DeliverMessage:
		v, err := marshal.Decode(dv.Message.Methargs)
		if err != nil {
			return "(undecodable)"
		}
		if ma, ok := v.([]any); ok && len(ma) == 2 {
			if args, ok := ma[1].([]any); ok && len(args) > 0 {
				return element(args[0], elem)
			}
		}
		return "(no argument)"
	}
	return "(no value)"
}

// decoded renders data (element elem of it, if elem >= 0).
func decoded(data marshal.CapData, elem int) string {
	v, err := marshal.Decode(data)
	if err != nil {
		return "(undecodable)"
	}
	return element(v, elem)
}

func element(v any, elem int) string {
	if elem < 0 {
		return render(v)
	}
	if a, ok := v.([]any); ok && elem < len(a) {
		return render(a[elem])
	}
	return "(no such element)"
}

// render writes a decoded value the way a vat's log would show it.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case marshal.Ref:
		// As JavaScript's String() shows a presence or a promise.
		if x.Promise {
			return "[object Promise]"
		}
		if x.Iface == "" {
			return "[object Object]"
		}
		return "[object " + x.Iface + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + render(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case marshal.UndefinedType:
		return "undefined"
	case *marshal.Error:
		return x.Name + ": " + x.Message
	}
	return fmt.Sprint(v)
}

// logf appends a line to the vat log of c's vat.
func (s *scenario) logf(c *Call, format string, args ...any) {
	x := s.ext()
	x.logs[c.Vat.ID] = append(x.logs[c.Vat.ID], fmt.Sprintf(format, args...))
}

// vatLog prints everything a vat's scripts logged, oldest first.
func (s *scenario) vatLog(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	lines := s.ext().logs[v.ID]
	if len(lines) == 0 {
		return "(empty)\n", nil
	}
	return strings.Join(lines, "\n") + "\n", nil
}
