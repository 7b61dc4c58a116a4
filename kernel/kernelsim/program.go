package kernelsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Kind is what a program step does.
type Kind uint8

// Step kinds. The vat kinds (KindSend to KindHostile) are acts: the host
// sends an "act" message to the vat's root, and the vat does the act when
// the message is delivered.
const (
	// KindHostSend: the host sends a message to a reference it holds.
	KindHostSend Kind = iota
	// KindSend: a vat sends a message to a reference it holds.
	KindSend
	// KindResolve: a vat settles a promise it kept waiting.
	KindResolve
	// KindDrop: a vat drops an import (and retires it, with How 'r').
	KindDrop
	// KindRetireExport: a vat retires an export the kernel told it was
	// dropped.
	KindRetireExport
	// KindAbandon: a vat abandons one of its exports.
	KindAbandon
	// KindExit: a vat exits cleanly.
	KindExit
	// KindExitFailure: a vat exits with a failure.
	KindExitFailure
	// KindPanic: a vat panics in a delivery.
	KindPanic
	// KindHostile: a vat makes an illegal syscall (Step.Hostile).
	KindHostile
	// KindRevoke: the host revokes an object it holds.
	KindRevoke
	// KindUnpin: the host lets go of an object a result gave it.
	KindUnpin
	// KindTerminate: the host terminates a vat.
	KindTerminate
	// KindRestart: the host restarts a vat (Fail: the new incarnation
	// fails to start, and the vat is terminated).
	KindRestart
	// KindUpgrade: the host upgrades a vat (Fail: the new code fails to
	// start, and nothing changes).
	KindUpgrade
	// KindKernelRestart: the kernel stops (Fail: as kill -9) and a new one
	// resumes over the same file.
	KindKernelRestart
	// KindReap: the host schedules bringOutYourDead for a vat, which then
	// drops an import.
	KindReap
	// KindIdle: run until there is no work.
	KindIdle
	// KindLaunch: the host launches one more vat, in a subcluster of its
	// own; later steps may name it.
	KindLaunch
	numKinds
)

var kindNames = [numKinds]string{"host-send", "send", "resolve", "drop", "retire-export", "abandon",
	"exit", "exit-failure", "panic", "hostile", "revoke", "unpin", "terminate", "restart", "upgrade",
	"kernel-restart", "reap", "idle", "launch"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind%d", k)
}

// isAct reports whether the step is a vat's act, delivered through an
// "act" message to its root.
func (k Kind) isAct() bool { return k >= KindSend && k <= KindHostile }

// Hostile is an illegal syscall a hostile vat makes. Each is illegal
// whatever the state, so the model knows the kernel must terminate the vat
// with ILLEGAL_SYSCALL.
type Hostile uint8

// Hostile syscalls.
const (
	HostileUnknownImport   Hostile = iota // send to an import it never held
	HostileBadVRef                        // send to a malformed vref
	HostileForeignResolve                 // resolve a promise another vat (or the kernel) decides
	HostileDoubleResolve                  // resolve the act's result twice
	HostileDroppedImport                  // send to an import it dropped (falls back to unknown)
	HostileAbandonRoot                    // abandonExports of o+0
	HostileRetireReachable                // retireImports of a reachable import
	HostileSubscribeObject                // subscribe to an object
	HostileResultReuse                    // send whose result is not a new p+N
	HostileFulfillPromise                 // fulfil to a bare promise
	HostileExitTwice                      // exit, then exit again
	HostileUnknownSyscall                 // a syscall kind that does not exist
	HostileEmptyResolve                   // resolve with no resolutions
	HostileLongKey                        // vatstore key over the limit
	HostileMalformedBody                  // send a body that is not smallcaps (Feature validate)
	HostileBadSlot                        // send a body naming a slot that does not exist (validate)
	HostileUnusedSlot                     // send a slot the body never names (validate)
	numHostile
)

var hostileNames = [numHostile]string{"unknown-import", "bad-vref", "foreign-resolve", "double-resolve",
	"dropped-import", "abandon-root", "retire-reachable", "subscribe-object", "result-reuse",
	"fulfill-promise", "exit-twice", "unknown-syscall", "empty-resolve", "long-key",
	"malformed-body", "bad-slot", "unused-slot"}

func (h Hostile) String() string {
	if h < numHostile {
		return hostileNames[h]
	}
	return fmt.Sprintf("hostile%d", h)
}

// needsValidation reports whether the kernel refuses h only once CapData
// is validated at the syscall.
func (h Hostile) needsValidation() bool { return h >= HostileMalformedBody }

// Arg is one argument of a send: a pick among the references the sender
// holds (New 0), or a new export: 'o' an object, 'd' a durable object,
// 'q' a promise the sender decides and keeps waiting.
type Arg struct {
	New  byte
	Pick int
}

func (a Arg) String() string {
	if a.New != 0 {
		return string(a.New)
	}
	return fmt.Sprintf("#%d", a.Pick)
}

// Step is one step of a program. Picks are taken modulo the candidates
// the actor holds when the step runs, in the order it came to hold them,
// so a step always means something and a program stays valid when steps
// are cut from it.
type Step struct {
	Kind Kind
	// Vat is the vat that acts or is acted on, by index; a step for a vat
	// that is gone is skipped.
	Vat int
	// Target picks the reference a send goes to (or the promise to
	// resolve, the import to drop, the object to revoke, ...).
	Target int
	// Args are a send's arguments.
	Args []Arg
	// React is what the receiver of a send does (see react.go).
	React string
	// Pipe is how many more messages are pipelined, each sent to the
	// result of the one before.
	Pipe int
	// Burst is how many more messages go to the same target, one after
	// the other.
	Burst int
	// OnPromise picks the target among the promises the sender holds
	// (pipelining), if it holds any.
	OnPromise bool
	// Again sends to the same reference as the sender's last send, if the
	// sender still holds it: one sender's messages on one reference over
	// time, while promises settle between them, are what E-order is about.
	Again bool
	// Only makes a send sendOnly: no result promise.
	Only bool
	// How is how KindResolve settles (a react leaf), and 'r' for a
	// KindDrop that also retires.
	How byte
	// Hostile is KindHostile's illegal syscall.
	Hostile Hostile
	// Fail makes a restart or upgrade fail to start, and a kernel restart
	// a crash.
	Fail bool
	// Cranks is how many cranks run after the step.
	Cranks int
}

// String renders the step compactly, on one line.
func (s Step) String() string {
	var b strings.Builder
	if s.Kind.isAct() || s.Kind == KindTerminate || s.Kind == KindRestart || s.Kind == KindUpgrade || s.Kind == KindReap || s.Kind == KindLaunch {
		fmt.Fprintf(&b, "%s ", vatName(s.Vat))
	}
	b.WriteString(s.Kind.String())
	switch s.Kind {
	case KindHostSend, KindSend:
		switch {
		case s.Again:
			b.WriteString(" again")
		case s.OnPromise:
			fmt.Fprintf(&b, " p#%d", s.Target)
		default:
			fmt.Fprintf(&b, " #%d", s.Target)
		}
		if len(s.Args) > 0 {
			parts := make([]string, len(s.Args))
			for i, a := range s.Args {
				parts[i] = a.String()
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ","))
		}
		if s.Only {
			b.WriteString(" only")
		} else {
			fmt.Fprintf(&b, " r=%s", s.React)
		}
		if s.Pipe > 0 {
			fmt.Fprintf(&b, " pipe=%d", s.Pipe)
		}
		if s.Burst > 0 {
			fmt.Fprintf(&b, " burst=%d", s.Burst)
		}
	case KindResolve:
		fmt.Fprintf(&b, " #%d %c", s.Target, s.How)
	case KindDrop:
		fmt.Fprintf(&b, " #%d", s.Target)
		if s.How == 'r' {
			b.WriteString(" retire")
		}
	case KindRetireExport, KindAbandon, KindRevoke, KindUnpin, KindReap:
		fmt.Fprintf(&b, " #%d", s.Target)
	case KindHostile:
		fmt.Fprintf(&b, " %s", s.Hostile)
	case KindRestart, KindUpgrade:
		if s.Fail {
			b.WriteString(" fail")
		}
	case KindKernelRestart:
		if s.Fail {
			b.WriteString(" crash")
		}
	}
	if s.Cranks > 0 {
		fmt.Fprintf(&b, " ; %d", s.Cranks)
	}
	return b.String()
}

// maxVats bounds the vats of a program, launches included.
const maxVats = 10

// vatName names vat i as the program does: A, B, C, ...
func vatName(i int) string { return string(rune('A' + i)) }

// Program is a generated program: its world (vats, store) and its steps.
type Program struct {
	Seed uint64
	// Vats is the number of vats, 3 to 6, launched as one subcluster
	// before the first step; KindLaunch steps add more, up to maxVats.
	Vats int
	// File puts the store in a temporary file and lets KindKernelRestart
	// steps run; otherwise the store is in memory and they are skipped.
	File bool
	// Group, if not zero, commits in groups of this many cranks.
	Group int
	// SettleLater makes a vat settle its oldest waiting promise at one
	// message in three, besides the resolve steps.
	SettleLater bool
	Steps       []Step
}

// String renders the program: a header line, then one numbered step per
// line, up to and including step upTo (all of them if upTo < 0).
func (p Program) String() string { return p.Format(-1) }

// Format renders the program up to and including step upTo (all if
// upTo < 0).
func (p Program) Format(upTo int) string {
	var b strings.Builder
	store := "memory"
	switch {
	case p.File:
		store = "file"
	case p.Seed%2 == 1:
		store = "memory-paged"
	}
	policy := "durable"
	if p.Group > 0 {
		policy = fmt.Sprintf("group/%d", p.Group)
	}
	fmt.Fprintf(&b, "seed=%d vats=%d store=%s commit=%s settle-later=%v steps=%d\n", p.Seed, p.Vats, store, policy, p.SettleLater, len(p.Steps))
	for i, s := range p.Steps {
		if upTo >= 0 && i > upTo {
			fmt.Fprintf(&b, "  ... %d more\n", len(p.Steps)-i)
			break
		}
		fmt.Fprintf(&b, "%4d %s\n", i, s)
	}
	return b.String()
}

// GenOptions shape the programs Generate makes.
type GenOptions struct {
	// MinSteps and MaxSteps bound the program's length, chosen from the
	// seed; zero means 60 and 180.
	MinSteps, MaxSteps int
	// Pending names behaviours the kernel does not have yet: steps that
	// need them are not generated.
	Pending Features
}

// weights of the step kinds, out of their sum. Deaths (terminate, exit,
// failure, panic, hostile, failed restart) are rare enough that most vats
// live through most of a program.
var weights = [numKinds]int{
	KindHostSend: 140, KindSend: 300, KindResolve: 70, KindDrop: 30, KindRetireExport: 20,
	KindAbandon: 10, KindExit: 2, KindExitFailure: 2, KindPanic: 2, KindHostile: 7,
	KindRevoke: 12, KindUnpin: 10, KindTerminate: 2, KindRestart: 15, KindUpgrade: 15,
	KindKernelRestart: 15, KindReap: 20, KindIdle: 30, KindLaunch: 6,
}

// Generate makes the program of a seed. The same seed and options always
// make the same program.
func Generate(seed uint64, opts GenOptions) Program {
	r := rand.New(rand.NewPCG(seed, 0x6b65726e656c73)) // "kernels"
	p := Program{Seed: seed, Vats: 3 + r.IntN(4), File: r.IntN(4) == 0}
	// Group commit on a third of the memory stores and half the files.
	// (On a file, the auditor reads the whole database back after every
	// flush: grouping keeps the file seeds affordable.)
	if r.IntN(6) < 2+map[bool]int{true: 1}[p.File] {
		p.Group = 2 + r.IntN(15)
	}
	p.SettleLater = r.IntN(3) > 0
	lo, hi := opts.MinSteps, opts.MaxSteps
	if lo <= 0 {
		lo = 60
	}
	if hi < lo {
		hi = max(lo, 180)
	}
	n := lo + r.IntN(hi-lo+1)
	total := 0
	for _, w := range weights {
		total += w
	}
	vats := p.Vats // the vats there will be, launches so far included
	for len(p.Steps) < n {
		x := r.IntN(total)
		k := Kind(0)
		for ; x >= weights[k]; k++ {
			x -= weights[k]
		}
		s, ok := genStep(r, k, p, vats, opts.Pending)
		if !ok {
			continue
		}
		if k == KindLaunch {
			vats++
		}
		p.Steps = append(p.Steps, s)
	}
	return p
}

// genStep makes one step of kind k, or reports that k does not fit the
// program (a kernel restart on a memory store, a sendOnly send while
// sendOnly is pending, ...).
func genStep(r *rand.Rand, k Kind, p Program, vats int, pending Features) (Step, bool) {
	s := Step{Kind: k, Vat: r.IntN(vats), Target: r.IntN(64), Cranks: cranksAfter(r)}
	switch k {
	case KindLaunch:
		if vats == maxVats {
			return Step{}, false
		}
		s.Vat = vats
	case KindHostSend, KindSend:
		nargs := r.IntN(4)
		for i := 0; i < nargs; i++ {
			a := Arg{Pick: r.IntN(64)}
			switch x := r.IntN(10); {
			case x < 2:
				a.New = 'o'
			case x < 3:
				a.New = 'd'
			case x < 5:
				a.New = 'q'
			}
			if k == KindHostSend {
				a.New = 0 // the host exports nothing
			}
			s.Args = append(s.Args, a)
		}
		s.React = genReact(r, 0)
		switch r.IntN(6) {
		case 0, 1:
			s.Pipe = 1 + r.IntN(3)
		case 2:
			s.Burst = 1 + r.IntN(3)
		}
		s.Again = r.IntN(5) < 2
		s.OnPromise = r.IntN(5) < 2
		if k == KindSend && !pending.Has(FeatureSendOnly) && r.IntN(10) == 0 {
			s.Only, s.React, s.Pipe = true, "", 0
		}
	case KindResolve:
		s.How = leaves[r.IntN(len(leaves)-1)] // not 'w': this settles
	case KindDrop:
		if r.IntN(2) == 0 {
			s.How = 'r'
		}
	case KindHostile:
		for {
			s.Hostile = Hostile(r.IntN(int(numHostile)))
			if !s.Hostile.needsValidation() || !pending.Has(FeatureValidate) {
				break
			}
		}
	case KindRestart, KindUpgrade:
		s.Fail = r.IntN(10) == 0
	case KindKernelRestart:
		if !p.File {
			return Step{}, false
		}
		// A crash loses what group commit had not flushed; the crash test
		// covers that, with its own ledger. Here only a durable store
		// crashes.
		s.Fail = p.Group == 0 && r.IntN(2) == 0
	case KindIdle:
		s.Cranks = 0
	}
	return s, true
}

// cranksAfter is how many cranks follow a step: a little less than a
// step makes work, so that a backlog builds up between the idle steps
// that drain it. Sends and settlements then meet in the queue, which is
// where ordering goes wrong.
func cranksAfter(r *rand.Rand) int {
	switch x := r.IntN(20); {
	case x < 7:
		return 0
	case x < 14:
		return 1 + r.IntN(2)
	case x < 18:
		return 3 + r.IntN(4)
	default:
		return 7 + r.IntN(8)
	}
}
