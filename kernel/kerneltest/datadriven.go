package kerneltest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// RunScenario runs the datadriven scenario file at path against a fresh
// Driver (in-memory store), auditing after every crank and host request.
// Run tests with -rewrite to regenerate expectations, and review the diff.
//
// Host commands:
//
//	launch bootstrap=NAME vats=(A,B,...)   launch and start fake vats
//	on vat=NAME method=M                   script every message M to NAME
//	on vat=NAME next                       script NAME's next delivery
//	on-notify vat=NAME                     script NAME's next notify
//	send TARGET METHOD [SLOT...]           host message; prints the kpid
//	call TARGET METHOD ARGS [SLOT...]      host message with data arguments
//	crank                                  run one crank
//	run-until-idle                         run until there is no work
//	terminate vat=NAME / revoke TARGET / reap vat=NAME
//	clist vat=NAME / objects / promises / queue / state
//	results                                host outputs released so far
//	deliveries vat=NAME                    what NAME received
//	audit                                  run the auditor
//	store file                             first: run on a SQLite file
//	reopen                                 restart the kernel on the file
//	restart vat=NAME [fail=TEXT]           host restart (fail: start fails)
//	upgrade vat=NAME bundle=B [fail=TEXT]  host upgrade to bundle B
//	launch-boot bootstrap=NAME vats=(A,B,...) [restart=(A,...)]
//	                                       launch, queueing bootstrap()
//	promise KPID... / object KOID...       those lines of promises / objects
//	testlog                                script log lines since the last
//	delivered vat=NAME                     NAME's deliveries since the last
//	vatlog vat=NAME / vatstore vat=NAME    lifecycle log / vatstore
//
// Commands for lifecycle, persistence and hostile vats (datadriven_*.go):
//
//	setup [store=file] [policy=group] [group-cranks=N] [log]
//	                                       first command only: a fresh Driver
//	                                       (a file store, group commit, the
//	                                       kernel's warnings captured)
//	reopen [crash] [reset]                 kernel restart on the file store:
//	                                       clean stop, or kill -9 (Store.Crash);
//	                                       reset empties the store as it opens
//	flush                                  write group-committed units to SQLite
//	kernel-log                             kernel warnings since the last call
//	launch-boot bootstrap=NAME vats=(A,...) [restart=(B,...)] [max-restarts=N]
//	            [fail-start=(B,...)] [no-bootstrap]
//	                                       launch with the bootstrap message
//	on-start vat=NAME                      script NAME's startVat (every one)
//	restart vat=NAME / fail-start vat=NAME [off] / advance DURATION
//	cranks N                               run N cranks (fewer if work runs out)
//	restarts                               restart decisions cranks returned
//	ping vat=NAME / vats / subclusters / events [vat=NAME]
//	terminate-subcluster id=sN
//	vat-log vat=NAME                       what NAME's scripts logged
//	promise KPID / is-revoked TARGET / pin TARGET / unpin TARGET
//	send-to target=KREF method=M [slots=(...)]   (any target text, even "")
//
// A TARGET or SLOT is a kref (ko3, kp2) or root:NAME. The input of an "on"
// command is a script of syscalls, one per line:
//
//	send REF METHOD [REF...] [as=NAME]     (the result vref is saved as NAME)
//	subscribe REF
//	fulfill REF undefined | str TEXT | ref REF
//	reject REF TEXT
//	export NAME / promise NAME             allocate o+N / p+N as NAME
//	save NAME REF
//	drop|retire-imports|retire-exports|abandon REF...
//	exit [failure]
//	vatstore-set KEY VALUE / vatstore-delete KEY
//	panic TEXT
//	call REF METHOD ARGS [REF...] [result=none|VREF] [as=NAME]
//	                                       ARGS: smallcaps array body #[...]
//	sendonly REF METHOD [REF...]           a send with no result
//	resolve REF fulfill|reject BODY [REF...] [; REF ...]   one syscall
//	log TEXT / vatstore-get KEY            write to the test log
//	log TEXT / incr KEY / vatstore-get KEY (into the vat log) / set KEY TEXT
//	ifset KEY LINE / ifunset KEY LINE     LINE only if KEY is (not) stored
//	resolve VPID fulfill|reject DATA [&& VPID fulfill|reject DATA ...]
//	rawsend TARGET RESULT|-|new [SLOT...] : BODY [as=NAME]
//	forward VPID                          settle VPID as the notified one was
//	sendonly TARGET METHOD [SLOT...]
//	rawexit clean|failure [SLOT...] : BODY / rawsyscall KIND
//	stash / late REF METHOD               keep this delivery's syscaller;
//	                                      send through one kept earlier
//
// where REF is a vref (o+0, p-1), $NAME (saved in this vat), @result,
// @target, @slotN, @vpidN (the Nth resolution of a notify), or @dataN.M
// (slot M of the Nth resolution's value). In resolve, DATA is undefined,
// str TEXT, error TEXT, ref REF, or [SLOT...] : BODY (a smallcaps body as
// written); a TEXT or BODY may name {vatstore:KEY}, {value} (a notify's
// first value or a message's first argument), {value.I} (its element I)
// or {res.N} (a notify's Nth resolution). The lines from log on
// (datadriven_hostile.go) log in the vat log every syscall the kernel
// refuses.
func RunScenario(t *testing.T, path string) {
	s := &scenario{d: New(t), saved: map[kernel.VatID]map[string]kernel.VRef{}, roots: map[string]kernel.KRef{}}
	datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
		s.d.T = t
		out, err := s.run(td)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return out
	})
}

type scenario struct {
	d     *Driver
	saved map[kernel.VatID]map[string]kernel.VRef
	roots map[string]kernel.KRef // launched vats' roots by name
	seen  int                    // released outputs already shown by "results"
	more  moreState              // state of the datadriven_*.go commands
	x     *extState              // state of the datadriven_*.go commands
}

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

func positional(td *datadriven.TestData) []string {
	var out []string
	for _, a := range td.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	return out
}

func (s *scenario) run(td *datadriven.TestData) (string, error) {
	d := s.d
	switch td.Cmd {
	case "launch":
		var boot string
		td.ScanArgs(d.T, "bootstrap", &boot)
		arg, _ := td.Arg("vats")
		res := d.Launch(boot, arg.Vals...)
		var b strings.Builder
		fmt.Fprintf(&b, "%s", res.SubclusterID)
		names := append([]string(nil), arg.Vals...)
		sort.Strings(names)
		for _, n := range names {
			s.roots[n] = res.Roots[n]
			fmt.Fprintf(&b, " %s=%s(root %s)", n, res.VatIDs[n], res.Roots[n])
		}
		return b.String() + "\n", nil
	case "on":
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
	case "send":
		pos := positional(td)
		if len(pos) < 2 {
			return "", fmt.Errorf("send TARGET METHOD [SLOT...]")
		}
		target, err := s.hostRef(pos[0])
		if err != nil {
			return "", err
		}
		var slots []kernel.VRef
		for _, p := range pos[2:] {
			k, err := s.hostRef(p)
			if err != nil {
				return "", err
			}
			slots = append(slots, kernel.VRef(k))
		}
		kpid, out, err := d.K.QueueMessage(d.Ctx, target, Methargs(pos[1], slots...))
		if err != nil {
			return "", err
		}
		d.release(out)
		d.audit("send")
		return string(kpid) + "\n", nil
	case "crank":
		return kernel.DescribeCrank(d.Crank()) + "\n", nil
	case "run-until-idle", "run":
		var b strings.Builder
		for _, r := range d.RunUntilQuiescent(0) {
			b.WriteString(kernel.DescribeCrank(r) + "\n")
		}
		if b.Len() == 0 {
			return "(idle)\n", nil
		}
		return b.String(), nil
	case "terminate":
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		out, err := d.K.TerminateVat(d.Ctx, v.ID, "terminated by scenario")
		if err != nil {
			return "", err
		}
		d.release(out)
		d.audit("terminate")
		return describeOutputs(out), nil
	case "revoke":
		pos := positional(td)
		target, err := s.hostRef(pos[0])
		if err != nil {
			return "", err
		}
		if _, err := d.K.Revoke(d.Ctx, target); err != nil {
			return "", err
		}
		return "ok\n", nil
	case "reap":
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		if _, err := d.K.ScheduleReap(d.Ctx, v.ID); err != nil {
			return "", err
		}
		return "ok\n", nil
	case "clist":
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		return kernel.DescribeCList(d.Store, v.ID), nil
	case "objects":
		return kernel.DescribeObjects(d.Store), nil
	case "promises":
		return kernel.DescribePromises(d.Store), nil
	case "queue":
		return kernel.DescribeQueue(d.Store), nil
	case "state":
		return kernel.DescribeState(d.Store), nil
	case "results":
		out := describeOutputs(d.Released[s.seen:])
		s.seen = len(d.Released)
		return out, nil
	case "deliveries":
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, dv := range v.Deliveries {
			b.WriteString(DescribeDelivery(dv) + "\n")
		}
		return b.String(), nil
	case "setup", "flush", "kernel-log", "on-start", "fail-start",
		"advance", "restarts", "ping", "vats", "subclusters", "events", "terminate-subcluster",
		"vat-log", "is-revoked", "pin", "unpin", "send-to", "cranks":
		return s.runExt(td)
	case "audit":
		problems, err := kernel.Audit(d.Ctx, d.Store)
		if err != nil {
			return "", err
		}
		if len(problems) == 0 {
			return "ok\n", nil
		}
		return strings.Join(problems, "\n") + "\n", nil
	case "call":
		return s.cmdCall(td)
	case "on-notify":
		return s.cmdOnNotify(td)
	case "store":
		return s.cmdStore(td)
	case "reopen":
		return s.cmdReopen()
	case "restart":
		return s.cmdRestart(td)
	case "upgrade":
		return s.cmdUpgrade(td)
	case "launch-boot":
		return s.cmdLaunchBoot(td)
	case "promise":
		return s.cmdPromise(td)
	case "object":
		return s.cmdObject(td)
	case "testlog":
		return s.cmdTestLog(), nil
	case "delivered":
		return s.cmdDelivered(td)
	case "vatlog":
		return s.cmdVatLog(td)
	case "vatstore":
		return s.cmdVatstore(td)
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

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

// script compiles a vat script into a Handler.
func (s *scenario) script(v *FakeVat, input string) Handler {
	lines := strings.Split(strings.TrimSpace(input), "\n")
	return func(c *Call) error {
		saved := s.saved[v.ID]
		if saved == nil {
			saved = map[string]kernel.VRef{}
			s.saved[v.ID] = saved
		}
		ref := func(tok string) kernel.VRef {
			switch {
			case strings.HasPrefix(tok, "$"):
				r, ok := saved[tok[1:]]
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
		refs := func(toks []string) []kernel.VRef {
			out := make([]kernel.VRef, len(toks))
			for i, t := range toks {
				out[i] = ref(t)
			}
			return out
		}
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			switch f[0] {
			case "send":
				as := ""
				if last := f[len(f)-1]; strings.HasPrefix(last, "as=") {
					as, f = last[3:], f[:len(f)-1]
				}
				r := c.Send(ref(f[1]), f[2], refs(f[3:])...)
				if as != "" {
					saved[as] = r
				}
			case "subscribe":
				c.Subscribe(ref(f[1]))
			case "fulfill":
				var data marshal.CapData
				switch f[2] {
				case "undefined":
					data = Undefined
				case "str":
					data = Str(strings.Join(f[3:], " "))
				case "ref":
					data = Ref(string(ref(f[3])))
				default:
					panic("script: fulfill REF undefined|str TEXT|ref REF")
				}
				c.Fulfill(ref(f[1]), data)
			case "reject":
				c.Resolve(ref(f[1]), true, marshal.EncodeError("Error", strings.Join(f[2:], " ")))
			case "export":
				saved[f[1]] = c.NewExport(false)
			case "promise":
				saved[f[1]] = c.NewExport(true)
			case "save":
				saved[f[1]] = ref(f[2])
			case "drop":
				c.GC(kernel.SyscallDropImports, refs(f[1:])...)
			case "retire-imports":
				c.GC(kernel.SyscallRetireImports, refs(f[1:])...)
			case "retire-exports":
				c.GC(kernel.SyscallRetireExports, refs(f[1:])...)
			case "abandon":
				c.GC(kernel.SyscallAbandonExports, refs(f[1:])...)
			case "exit":
				c.Exit(len(f) > 1 && f[1] == "failure")
			case "vatstore-set":
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: f[1], Value: strings.Join(f[2:], " ")})
			case "vatstore-delete":
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreDelete, Key: f[1]})
			case "panic":
				panic(strings.Join(f[1:], " "))
			case "call":
				s.scriptCall(c, saved, f, ref, refs)
			case "sendonly":
				s.scriptSendOnly(c, f, ref, refs)
			case "resolve":
				s.scriptResolve(c, line, ref, refs)
			case "log":
				s.scriptLog(c, f)
			case "vatstore-get":
				s.scriptVatstoreGet(c, f)
			case "incr", "rawsend", "rawexit", "rawsyscall", "set", "ifset", "ifunset", "forward", "stash", "late":
				s.scriptLine(c, f, ref, saved)
			default:
				panic(fmt.Sprintf("script: unknown line %q", line))
			}
		}
		return nil
	}
}
