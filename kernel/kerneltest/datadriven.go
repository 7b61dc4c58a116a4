package kerneltest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// RunScenario runs the datadriven scenario file at path against a fresh
// Driver (in-memory store), auditing after every crank and host request.
// Run tests with -rewrite to regenerate expectations, and review the diff.
// docs/scenarios.md says how the files are written and run.
//
// Setting up and restarting the kernel (datadriven_persist.go):
//
//	setup [store=file] [policy=group] [group-cranks=N] [log]
//	                            first command only: a fresh Driver on a
//	                            file store, with group commit, with the
//	                            kernel's warnings captured (log)
//	store file                  as setup store=file, printing ok
//	reopen [clean|crash] [reset]
//	                            kernel restart on the file store: a clean
//	                            stop, or kill -9 (crash); reset empties the
//	                            store as it opens. Without clean or crash it
//	                            stops cleanly and prints what was released;
//	                            with either it first says what the stop
//	                            flushed or the crash lost
//	flush                       write group-committed units to SQLite
//	kernel-log                  kernel warnings since the last kernel-log
//
// Launching and scripting vats (datadriven_lifecycle.go, datadriven.go):
//
//	launch bootstrap=NAME vats=(A,B,...)
//	                            launch and start fake vats
//	launch-boot bootstrap=NAME vats=(A,...) [restart=(B,...)]
//	            [max-restarts=N] [fail-start=(B,...)] [no-bootstrap]
//	                            launch as the host does, queueing bootstrap()
//	on vat=NAME method=M        script every message M to NAME
//	on vat=NAME next            script NAME's next delivery
//	on-notify vat=NAME          script NAME's next notify
//	on-start vat=NAME           script NAME's every startVat
//	terminate vat=NAME / terminate-subcluster id=sN
//
// Restarts and upgrades (datadriven_restart.go):
//
//	restart vat=NAME [fail=TEXT]           host restart (fail: start fails)
//	upgrade vat=NAME bundle=B [fail=TEXT]  host upgrade to bundle B
//	fail-start vat=NAME [off]              NAME's coming starts fail (or not)
//	advance DURATION                       move the restart policy's clock
//	restarts                               restart decisions since the last
//
// Host requests and cranks (datadriven_host.go):
//
//	send TARGET METHOD [SLOT...]           host message; prints the kpid
//	call TARGET METHOD ARGS [SLOT...]      host message with data arguments
//	send-to target=KREF method=M [slots=(...)]
//	                                       any target text, even ""
//	revoke TARGET / pin TARGET / unpin TARGET / reap vat=NAME
//	crank / cranks N / run-until-idle      one crank, N, or until no work
//	results                                host outputs released since the last
//	audit                                  run the auditor
//
// Inspection (datadriven_inspect.go, datadriven_log.go):
//
//	clist vat=NAME / objects / promises / queue / state
//	object KOID... / promise KPID... [absent=unknown]
//	                                       those lines of objects / promises
//	deliveries vat=NAME                    what NAME received
//	delivered vat=NAME                     NAME's deliveries since the last
//	vats / subclusters / ping vat=NAME / is-revoked TARGET
//	vatlog [vat=NAME] [ids]                the kernel's vat lifecycle log
//	vatstore vat=NAME                      NAME's vatstore
//	testlog [vat=NAME]                     what scripts logged: every vat's
//	                                       lines since the last testlog, or
//	                                       all of NAME's
//
// A TARGET or SLOT is a kref (ko3, kp2) or root:NAME. The input of an "on"
// command is a script, one line per syscall or step:
//
//	send REF METHOD [REF...] [as=NAME]     (the result vref is saved as NAME)
//	call REF METHOD ARGS [REF...] [result=none|VREF] [as=NAME]
//	                                       ARGS: smallcaps array body #[...]
//	sendonly REF METHOD [REF...]           a send with no result
//	rawsend TARGET RESULT|-|new [SLOT...] : BODY [as=NAME]
//	subscribe REF
//	fulfill REF undefined | str TEXT | ref REF
//	reject REF TEXT
//	resolve VPID fulfill|reject DATA [; VPID fulfill|reject DATA]...
//	                                       one syscall
//	forward VPID                           settle VPID as the notified one was
//	export NAME / promise NAME             allocate o+N / p+N as NAME
//	save NAME REF
//	drop|retire-imports|retire-exports|abandon REF...
//	exit [failure] / rawexit clean|failure [SLOT...] : BODY
//	vatstore-set KEY TEXT / vatstore-get KEY / vatstore-delete KEY
//	incr KEY                               add one to a counter
//	ifset KEY LINE / ifunset KEY LINE      LINE only if KEY is (not) stored
//	log TEXT                               a line of the test log
//	stash / late REF METHOD                keep this delivery's syscaller;
//	                                       send through one kept earlier
//	rawsyscall KIND / panic TEXT
//
// where REF is a vref (o+0, p-1), $NAME (saved in this vat), @result,
// @target, @slotN, @vpidN (the Nth resolution of a notify), or @dataN.M
// (slot M of the Nth resolution's value). In resolve, DATA is undefined,
// str TEXT, error TEXT, ref REF, BODY [SLOT...] (a smallcaps body, which
// begins with #) or [SLOT...] : BODY (a body as written, any text). The
// TEXT of log and vatstore-set, and a resolve's TEXT or BODY, may name
// {vatstore:KEY}, {value} (a notify's first value or a message's first
// argument), {value.I} (its element I) or {res.N} (how a notify's Nth
// resolution settled). An ifset or ifunset LINE is any script line. Every syscall of a script line that the kernel
// refuses is logged in the test log, as "LINE refused: ERROR" (the
// vatstore read of a {vatstore:KEY} as vatstore-get), so that a scenario
// shows that after an illegal syscall every later one is refused too.
func RunScenario(t *testing.T, path string) {
	s := newScenario(New(t))
	datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
		s.d.T = t
		out, err := s.run(td)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return out
	})
}

// scenario is what one scenario file's commands share.
type scenario struct {
	d     *Driver
	saved map[kernel.VatID]map[string]kernel.VRef // script names, by vat
	roots map[string]kernel.KRef                  // launched vats' roots by name
	seen  int                                     // released outputs already shown by "results"

	// testLog holds the lines scripts logged (log, and the syscalls the
	// kernel refused them), in order; testLogSeen is how many of them
	// testlog has printed.
	testLog     []logLine
	testLogSeen int
	// delivered is, per vat, how many of its deliveries delivered has
	// printed.
	delivered map[kernel.VatID]int
	// onStart holds startVat scripts by vat name (on-start).
	onStart map[string]string
	// failStart names the vats of a launch-boot whose startVat fails.
	failStart map[string]bool
	// kernelLog captures the kernel's warnings when setup asked for it
	// (log); kernelLogSeen is how much of it kernel-log has shown.
	kernelLog     *bytes.Buffer
	kernelLogSeen int
	// restartsSeen is how many of the Driver's cranks restarts has read.
	restartsSeen int
	// stashed holds a syscaller a vat kept from an earlier delivery (the
	// script line stash), by vat.
	stashed map[kernel.VatID]kernel.Syscaller
}

func newScenario(d *Driver) *scenario {
	return &scenario{
		d:         d,
		saved:     map[kernel.VatID]map[string]kernel.VRef{},
		roots:     map[string]kernel.KRef{},
		delivered: map[kernel.VatID]int{},
		onStart:   map[string]string{},
		failStart: map[string]bool{},
		stashed:   map[kernel.VatID]kernel.Syscaller{},
	}
}

// run runs one command: the only dispatch of host commands.
func (s *scenario) run(td *datadriven.TestData) (string, error) {
	switch td.Cmd {
	// Setting up and restarting the kernel.
	case "setup":
		return s.cmdSetup(td)
	case "store":
		return s.cmdStore(td)
	case "reopen":
		return s.cmdReopen(td)
	case "flush":
		return s.cmdFlush()
	case "kernel-log":
		return s.cmdKernelLog(), nil

	// Launching and scripting vats.
	case "launch":
		return s.cmdLaunch(td)
	case "launch-boot":
		return s.cmdLaunchBoot(td)
	case "on":
		return s.cmdOn(td)
	case "on-notify":
		return s.cmdOnNotify(td)
	case "on-start":
		return s.cmdOnStart(td)
	case "terminate":
		return s.cmdTerminate(td)
	case "terminate-subcluster":
		return s.cmdTerminateSubcluster(td)

	// Restarts and upgrades.
	case "restart":
		return s.cmdRestart(td)
	case "upgrade":
		return s.cmdUpgrade(td)
	case "fail-start":
		return s.cmdFailStart(td)
	case "advance":
		return s.cmdAdvance(td)
	case "restarts":
		return s.cmdRestarts(), nil

	// Host requests and cranks.
	case "send":
		return s.cmdSend(td)
	case "call":
		return s.cmdCall(td)
	case "send-to":
		return s.cmdSendTo(td)
	case "revoke":
		return s.cmdRevoke(td)
	case "pin", "unpin":
		return s.cmdPin(td)
	case "reap":
		return s.cmdReap(td)
	case "crank":
		return kernel.DescribeCrank(s.d.Crank()) + "\n", nil
	case "cranks":
		return s.cmdCranks(td)
	case "run-until-idle":
		return s.cmdRunUntilIdle(), nil
	case "results":
		return s.cmdResults(), nil
	case "audit":
		return s.cmdAudit()

	// Inspection.
	case "clist":
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		return kernel.DescribeCList(s.d.Store, v.ID), nil
	case "objects":
		return kernel.DescribeObjects(s.d.Store), nil
	case "promises":
		return kernel.DescribePromises(s.d.Store), nil
	case "queue":
		return kernel.DescribeQueue(s.d.Store), nil
	case "state":
		return kernel.DescribeState(s.d.Store), nil
	case "object":
		return s.cmdObject(td)
	case "promise":
		return s.cmdPromise(td)
	case "deliveries":
		return s.cmdDeliveries(td)
	case "delivered":
		return s.cmdDelivered(td)
	case "vats":
		return s.cmdVats(), nil
	case "subclusters":
		return s.cmdSubclusters(), nil
	case "ping":
		return s.cmdPing(td)
	case "is-revoked":
		return s.cmdIsRevoked(td)
	case "vatlog":
		return s.cmdVatLog(td)
	case "vatstore":
		return s.cmdVatstore(td)
	case "testlog":
		return s.cmdTestLog(td)
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

// vatArg finds the fake vat that vat=NAME names.
func (s *scenario) vatArg(td *datadriven.TestData) (*FakeVat, error) {
	arg, ok := td.Arg("vat")
	if !ok || len(arg.Vals) != 1 {
		return nil, fmt.Errorf("%s needs vat=NAME", td.Cmd)
	}
	for _, v := range s.d.Vats {
		if v.Name == arg.Vals[0] {
			return v, nil
		}
	}
	return nil, fmt.Errorf("no vat named %q", arg.Vals[0])
}

// hostRef resolves a host-side TARGET/SLOT.
func (s *scenario) hostRef(ref string) (kernel.KRef, error) {
	if name, ok := strings.CutPrefix(ref, "root:"); ok {
		root, ok := s.roots[name]
		if !ok {
			return "", fmt.Errorf("no vat named %q", name)
		}
		return root, nil
	}
	return kernel.KRef(ref), nil
}

// positional returns the command's arguments that have no value.
func positional(td *datadriven.TestData) []string {
	var out []string
	for _, a := range td.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	return out
}

// cmdOn runs "on vat=NAME method=M" and "on vat=NAME next": the input
// script answers every message M to NAME, or NAME's next delivery.
func (s *scenario) cmdOn(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	h := s.script(v, td.Input)
	if arg, ok := td.Arg("method"); ok {
		v.OnMethod[arg.Vals[0]] = h
	} else {
		v.Next = append(v.Next, h)
	}
	return "ok\n", nil
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

// script compiles a vat script into a Handler.
func (s *scenario) script(v *FakeVat, input string) Handler {
	lines := strings.Split(strings.TrimSpace(input), "\n")
	return func(c *Call) error {
		saved := s.saved[v.ID]
		if saved == nil {
			saved = map[string]kernel.VRef{}
			s.saved[v.ID] = saved
		}
		x := &lineCtx{s: s, c: c, saved: saved}
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue // a blank line or a comment
			}
			x.line(f)
		}
		return nil
	}
}

// lineCtx is a script running in one delivery: the delivery, and the
// names the vat saved.
type lineCtx struct {
	s     *scenario
	c     *Call
	saved map[string]kernel.VRef
}

// ref resolves one REF token of a script line in the current delivery.
func (x *lineCtx) ref(tok string) kernel.VRef {
	c := x.c
	switch {
	case strings.HasPrefix(tok, "$"):
		r, ok := x.saved[tok[1:]]
		if !ok {
			panic(fmt.Sprintf("script: %s not saved", tok))
		}
		return r
	case tok == "@result":
		return c.Result()
	case tok == "@target":
		return c.Target()
	case strings.HasPrefix(tok, "@slot"):
		var i int
		fmt.Sscanf(tok, "@slot%d", &i)
		return c.Slot(i)
	case strings.HasPrefix(tok, "@vpid"):
		var i int
		fmt.Sscanf(tok, "@vpid%d", &i)
		return c.Delivery.Resolutions[i].VPID
	case strings.HasPrefix(tok, "@data"):
		var i, j int
		fmt.Sscanf(tok, "@data%d.%d", &i, &j)
		return kernel.VRef(c.Delivery.Resolutions[i].Data.Slots[j])
	}
	return kernel.VRef(tok)
}

// refs resolves REF tokens.
func (x *lineCtx) refs(toks []string) []kernel.VRef {
	out := make([]kernel.VRef, len(toks))
	for i, t := range toks {
		out[i] = x.ref(t)
	}
	return out
}

// line runs one script line, its fields f: the only dispatch of script
// lines. A malformed line panics, which the Driver reports as the vat's
// fault: a scenario that mistypes a line sees its vat fail, loudly, at
// that delivery.
func (x *lineCtx) line(f []string) {
	c := x.c
	switch f[0] {
	// Sends.
	case "send":
		x.send(f)
	case "call":
		x.call(f)
	case "sendonly":
		x.sendOnly(f)
	case "rawsend":
		x.rawSend(f)
	case "late":
		x.late(f)
	case "stash":
		x.stash()

	// Promises.
	case "subscribe":
		x.sys("subscribe", kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: x.ref(f[1])})
	case "fulfill":
		x.fulfill(f)
	case "reject":
		x.reject(f)
	case "resolve":
		x.resolve(f)
	case "forward":
		x.forward(f)

	// Names and references.
	case "export":
		x.saved[f[1]] = c.NewExport(false)
	case "promise":
		x.saved[f[1]] = c.NewExport(true)
	case "save":
		x.saved[f[1]] = x.ref(f[2])
	case "drop", "retire-imports", "retire-exports", "abandon":
		x.gc(f)

	// The vatstore.
	case "vatstore-set":
		x.vatstoreSet(f)
	case "vatstore-get":
		x.vatstoreGet(f)
	case "vatstore-delete":
		x.sys("vatstore-delete", kernel.Syscall{Kind: kernel.SyscallVatstoreDelete, Key: f[1]})
	case "incr":
		x.incr(f)
	case "ifset", "ifunset":
		x.ifSet(f)

	// The test log, exits and faults.
	case "log":
		x.s.logf(c, "%s", x.interpolate(strings.Join(f[1:], " ")))
	case "exit":
		x.exit(f)
	case "rawexit":
		x.rawExit(f)
	case "rawsyscall":
		x.rawSyscall(f)
	case "panic":
		panic(strings.Join(f[1:], " "))
	default:
		panic(fmt.Sprintf("script: unknown line %q", strings.Join(f, " ")))
	}
}

// sys makes a syscall for a script line, logging a refusal in the test
// log under what (the line's keyword).
func (x *lineCtx) sys(what string, sc kernel.Syscall) kernel.SyscallResult {
	r := x.c.Syscall(sc)
	if r.Err != nil {
		x.s.logf(x.c, "%s refused: %v", what, r.Err)
	}
	return r
}

// describeOutputs renders host outputs one a line, or "(none)".
func describeOutputs(out []kernel.Output) string {
	if len(out) == 0 {
		return "(none)\n"
	}
	var b strings.Builder
	for _, o := range out {
		b.WriteString(kernel.DescribeOutput(o) + "\n")
	}
	return b.String()
}

// DescribeDelivery renders a delivery as a vat sees it.
func DescribeDelivery(dv kernel.Delivery) string {
	switch dv.Kind {
	case kernel.DeliverMessage:
		s := fmt.Sprintf("message %s %s", dv.Target, dv.Message.Methargs)
		if dv.Message.Result != "" {
			s += " -> " + string(dv.Message.Result)
		}
		return s
	case kernel.DeliverNotify:
		parts := make([]string, len(dv.Resolutions))
		for i, r := range dv.Resolutions {
			how := "fulfilled"
			if r.Rejected {
				how = "rejected"
			}
			parts[i] = fmt.Sprintf("%s %s %s", r.VPID, how, r.Data)
		}
		return "notify " + strings.Join(parts, "; ")
	case kernel.DeliverStartVat:
		return fmt.Sprintf("startVat incarnation=%d", dv.Incarnation)
	}
	vrefs := make([]string, len(dv.VRefs))
	for i, v := range dv.VRefs {
		vrefs[i] = string(v)
	}
	return strings.TrimSpace(dv.Kind.String() + " " + strings.Join(vrefs, " "))
}
