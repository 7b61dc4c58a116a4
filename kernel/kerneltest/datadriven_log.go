package kerneltest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The test log: what the vats' scripts write (SwingSet's testLog, the
// ocap-kernel vats' logger), the values they saw rendered as their code
// would print them, and every syscall of theirs the kernel refused. One
// log serves two views: every vat's lines since the last look, each after
// its vat's name, for following a conversation between vats; and all of
// one vat's lines, for what a single vat went through.

// logLine is one line of the test log, and the vat that wrote it.
type logLine struct {
	vat  kernel.VatID
	name string
	text string
}

// logf appends a line to the test log, as c's vat's. The vat's name is
// kept with its id: after reopen reset the ids are handed out again, and
// the log is emptied with them.
func (s *scenario) logf(c *Call, format string, args ...any) {
	s.testLog = append(s.testLog, logLine{vat: c.Vat.ID, name: c.Vat.Name, text: fmt.Sprintf(format, args...)})
}

// cmdTestLog runs "testlog [vat=NAME]": without vat, the lines written
// since the last testlog, each as NAME: TEXT; with it, every line NAME's
// scripts wrote, oldest first.
func (s *scenario) cmdTestLog(td *datadriven.TestData) (string, error) {
	var lines []string
	if td.HasArg("vat") {
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		for _, l := range s.testLog {
			if l.vat == v.ID {
				lines = append(lines, l.text)
			}
		}
	} else {
		// Since the last look only, so that a scenario checks each step's
		// lines once; every vat's together, in the order they were
		// written, which is the order of the conversation.
		for _, l := range s.testLog[s.testLogSeen:] {
			lines = append(lines, l.name+": "+l.text)
		}
		s.testLogSeen = len(s.testLog)
	}
	if len(lines) == 0 {
		return "(empty)\n", nil
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// forgetTestLog empties the test log (the store it was about is gone).
func (s *scenario) forgetTestLog() {
	s.testLog, s.testLogSeen = nil, 0
}

// interpolate fills a log text: {vatstore:KEY} is KEY's value in the vat's
// store (read with a syscall), {value} the delivery's first value (a
// notify's first resolution, or a message's first argument), {value.I}
// its element I, {res.N} how the notify's Nth resolution settled, each
// rendered as a person reads it.
func (x *lineCtx) interpolate(text string) string {
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
		// Read with a syscall, as the vat's code would: after an illegal
		// syscall the read is refused (and logged) like any other.
		v := "(missing)"
		if r := x.sys("vatstore-get", kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: key}); r.Found {
			v = r.Value
		}
		text = text[:i] + v + text[i+j+1:]
	}
	dv := x.c.Delivery
	text = strings.ReplaceAll(text, "{value}", firstValue(dv, -1))
	// The anchors' vats name at most the first few elements and
	// resolutions; eight is plenty, and keeps this a fixed scan.
	for i := 0; i < 8; i++ {
		if tok := fmt.Sprintf("{value.%d}", i); strings.Contains(text, tok) {
			text = strings.ReplaceAll(text, tok, firstValue(dv, i))
		}
		if tok := fmt.Sprintf("{res.%d}", i); strings.Contains(text, tok) {
			v := "(no such resolution)"
			if dv.Kind == kernel.DeliverNotify && i < len(dv.Resolutions) {
				r := dv.Resolutions[i]
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
// elem >= 0): what the anchors' vats log is, nearly always, the value a
// promise settled to or the argument a method got.
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

// element renders v, or its element elem if elem >= 0.
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
		sort.Strings(keys) // a map's keys in a fixed order
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
