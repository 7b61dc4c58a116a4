package jsvat

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// VatSpec describes one incarnation of a JavaScript vat.
type VatSpec struct {
	// ID is the vat's id (for the worker's logs and liveslots' labels).
	ID string
	// BundleSpec is the vat's code: a file path or file:// URL of a
	// bundle (endoZipBase64, from @endo/bundle-source) or of a
	// single-file ES module (.js, .mjs). A relative path is taken from
	// the working directory.
	BundleSpec string
	// Parameters are the vat's parameters (buildRootObject's second
	// argument), as JSON values.
	Parameters map[string]any
	// Globals are the globals the vat asks for, from AllowedGlobals.
	Globals []string
	// Logger is the vat's log: its console, and its worker's stderr.
	Logger zerolog.Logger
}

// Abandoner is what a Syscaller may offer so that a vat outside the
// kernel's process can be stopped mid-delivery: Abandoned is closed once
// the kernel stops waiting for the delivery (its deadline passed, the host
// terminated the vat, the kernel is stopping). The supervisor's pump
// offers it; a JavaScript vat kills its worker when it closes.
type Abandoner interface {
	Abandoned() <-chan struct{}
}

// jsVat is the vat.RawVat of one JavaScript vat incarnation: it owns one
// worker process, from startVat (which starts it) to Stop (which kills
// it). Like every vat it gets one delivery at a time, on one goroutine.
type jsVat struct {
	rt   *Runtime
	spec VatSpec
	log  zerolog.Logger

	mu struct {
		sync.Mutex
		proc    *process // nil before startVat and after Stop
		stopped bool
	}
	// broken is set once a delivery failed: the worker is dead, and every
	// later delivery fails at once with the same error (the kernel stops
	// the incarnation anyway; this keeps it from reaching a dead pipe).
	broken error
	nextID uint64
	// frame is the buffer of the last deliver request, reused by the
	// next: one delivery at a time, and a frame is written whole before
	// call returns, so no one else holds it (a fresh 256 bytes a crank
	// was most of what encoding a delivery cost).
	frame []byte
}

// maxReusedFrame bounds the request buffer a vat keeps between
// deliveries: a rare large delivery's buffer is let go.
const maxReusedFrame = 64 << 10

var _ vat.RawVat = (*jsVat)(nil)

// NewVat makes a JavaScript vat incarnation for spec. Nothing starts until
// its startVat delivery.
func (r *Runtime) NewVat(spec VatSpec) vat.RawVat {
	return &jsVat{rt: r, spec: spec, log: spec.Logger}
}

// SpecURL turns a bundleSpec into the absolute file:// URL the worker is
// given. It refuses other schemes.
//
// The worker imports whatever URL it is given, so this is where the
// kernel decides what code a vat may be: only a local file. An http(s)
// URL would load code from the network, and a file URL with a host names
// another machine's file. A relative path is made absolute here, against
// the kernel's working directory, because the worker runs in WorkerDir
// and would resolve it against that instead.
func SpecURL(spec string) (string, error) {
	if spec == "" {
		return "", errors.New("empty bundleSpec")
	}
	if strings.Contains(spec, "://") || strings.HasPrefix(spec, "file:") {
		u, err := url.Parse(spec)
		if err != nil {
			return "", fmt.Errorf("bundleSpec %q: %v", spec, err)
		}
		if u.Scheme != "file" {
			return "", fmt.Errorf("bundleSpec %q: only file paths and file:// URLs are supported", spec)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("bundleSpec %q: a file:// URL must name a local file", spec)
		}
		if !filepath.IsAbs(u.Path) {
			return "", fmt.Errorf("bundleSpec %q: a file:// URL needs an absolute path", spec)
		}
		return (&url.URL{Scheme: "file", Path: u.Path}).String(), nil
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		return "", fmt.Errorf("bundleSpec %q: %v", spec, err)
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// Deliver hands one delivery to the worker and answers its syscalls until
// it reports the result. An error means the vat failed the delivery: the
// worker is then killed, since the kernel rolls the crank back and the
// worker's copy of the vatstore and heap would no longer match.
func (v *jsVat) Deliver(d vatproto.Delivery, sys vatproto.Syscaller) error {
	// INVARIANT: after a failed delivery the worker is never written to again:
	// it has been killed, and its heap and vatstore copy no longer match the
	// kernel's rolled-back state.
	if v.broken != nil {
		return v.broken
	}
	var abandoned <-chan struct{}
	// A Syscaller that cannot be abandoned (a test's, or an in-process host)
	// leaves abandoned nil, which never fires: the call then ends only with
	// the worker's answer, its death, or Stop.
	if a, ok := sys.(Abandoner); ok {
		abandoned = a.Abandoned()
	}
	var err error
	if d.Kind == vatproto.DeliverStartVat {
		err = v.start(d, sys, abandoned)
	} else {
		err = v.deliver(d, sys, abandoned)
	}
	// INVARIANT: the worker is killed whenever a delivery fails, whatever
	// failed (a refused syscall, a protocol breach, abandonment, the vat's own
	// error): the kernel rolls the crank back, and a worker that saw the
	// delivery cannot be rolled back with it.
	if err != nil {
		v.broken = err
		v.kill(err.Error())
	}
	return err
}

// Stop kills the worker and waits until it is reaped (bounded by
// Options.KillWait).
func (v *jsVat) Stop() {
	v.mu.Lock()
	// stopped is set under mu before the process is taken, so a startVat
	// still starting its worker (start, below) sees it and kills the worker it
	// got rather than keep one no one will stop. Stop may run on another
	// goroutine than Deliver (the kernel stopping the vat mid-delivery):
	// kill closes p.stop, and the delivery's call gives up within
	// pollInterval.
	v.mu.stopped = true
	p := v.mu.proc
	v.mu.proc = nil
	v.mu.Unlock()
	if p != nil {
		// INVARIANT: Stop kills and reaps the worker (bounded by KillWait); mu.proc
		// is nil from here, so a later delivery fails without touching a pipe.
		p.kill("vat stopped")
	}
}

// kill ends the worker after a failure but, unlike Stop, leaves mu.proc in
// place: broken keeps later deliveries off it, and Stop still finds it
// (process.kill acts only once).
func (v *jsVat) kill(why string) {
	v.mu.Lock()
	p := v.mu.proc
	v.mu.Unlock()
	if p != nil {
		p.kill(why)
	}
}

func (v *jsVat) proc() *process {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mu.proc
}

// initVatParams are initVat's params, as the reference has them, plus the
// vat's id (a warm worker does not know it).
type initVatParams struct {
	VatID     string        `json:"vatId"`
	VatConfig wireVatConfig `json:"vatConfig"`
	State     [][2]string   `json:"state"`
}

type wireVatConfig struct {
	BundleSpec string         `json:"bundleSpec"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Globals    []string       `json:"globals,omitempty"`
}

// start runs startVat: it reads the vat's vatstore through the kernel (the
// worker's copy comes from it), starts the worker and sends initVat, which
// loads the bundle and runs liveslots' startVat.
func (v *jsVat) start(d vatproto.Delivery, sys vatproto.Syscaller, abandoned <-chan struct{}) error {
	if v.proc() != nil {
		// A second startVat would run liveslots' startVat again over live
		// state, and replace (and leak) the first worker.
		return fmt.Errorf("%w: startVat delivered twice to one incarnation", vat.ErrFault)
	}
	// The config is checked before anything is read or started, so a bad
	// config costs no syscalls and leaves no process behind.
	spec, err := SpecURL(v.spec.BundleSpec)
	if err != nil {
		return fmt.Errorf("%w: %v", vat.ErrFault, err)
	}
	if err := CheckGlobals(v.spec.Globals); err != nil {
		return fmt.Errorf("%w: %v", vat.ErrFault, err)
	}
	// The vatstore is read before the worker exists: the reads are syscalls
	// of this startVat's crank, made by the kernel side alone, so no syscall
	// of the worker's can interleave with them, and a failure to read leaves
	// no process to clean up.
	state, err := v.loadVatstore(sys)
	if err != nil {
		return err
	}
	p, err := v.rt.take(v.spec.ID, v.log)
	// The warm pool is refilled when this start ends, whatever its outcome
	// (a failed start took a worker too, and the next launch wants one): not
	// before, so that a replacement's boot does not compete with this
	// initVat for the CPU.
	defer v.rt.fill()
	if err != nil {
		return err
	}
	v.mu.Lock()
	// INVARIANT: every worker taken is either owned through mu.proc (so Stop
	// kills it) or killed here: take may have spent a process start while
	// Stop ran, and no one else would ever kill this one.
	if v.mu.stopped {
		v.mu.Unlock()
		p.kill("vat stopped while starting")
		return fmt.Errorf("%w: stopped while starting", ErrAborted)
	}
	v.mu.proc = p
	v.mu.Unlock()
	params := initVatParams{
		VatID: v.spec.ID,
		VatConfig: wireVatConfig{
			BundleSpec: spec, Parameters: v.spec.Parameters, Globals: v.spec.Globals,
		},
		State: state,
	}
	raw, err := v.call(p, "initVat", params, sys, abandoned)
	if err != nil {
		return fmt.Errorf("jsvat: initVat of %s: %w", v.spec.BundleSpec, err)
	}
	return v.finish(raw, sys)
}

// loadVatstore reads the vat's whole vatstore with vatstoreGetNextKey and
// vatstoreGet syscalls, in the kernel's key order, for initVat. It is
// bounded by the frame size: a store that cannot be sent is an error
// naming the limit.
//
// The worker gets the whole vatstore at once, and keeps it: liveslots
// reads the vatstore synchronously and often, and a round trip to the
// kernel for each read would cost a crank's worth of wake-ups. The price
// is that the kernel's copy changes only through checkpoints (finish).
// The key order is the kernel's, so every worker of a vat builds its copy
// from the same sequence.
func (v *jsVat) loadVatstore(sys vatproto.Syscaller) ([][2]string, error) {
	state := [][2]string{}
	size := 0
	add := func(k, val string) error {
		// 8 bytes a pair for its JSON punctuation: an estimate, so a store that
		// fits only by escaping's growth is caught by call's exact frame check.
		// Stopping as soon as the estimate passes the limit also bounds the memory
		// a huge vatstore can make the kernel hold here.
		size += len(k) + len(val) + 8
		if size > v.rt.opts.MaxFrame {
			return fmt.Errorf("%w: the vatstore is larger than one frame (Options.MaxFrame, %d bytes): initVat cannot carry it", vat.ErrFault, v.rt.opts.MaxFrame)
		}
		state = append(state, [2]string{k, val})
		return nil
	}
	// A refused read is the vat's fault to the kernel (vat.ErrFault), as for
	// any vat whose vatstore syscall the kernel refuses.
	// The empty key first: vatstoreGetNextKey("") starts after it.
	r := sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: ""})
	if r.Err != nil {
		return nil, fmt.Errorf("%w: reading the vatstore: %w", vat.ErrFault, r.Err)
	}
	if r.Found {
		if err := add("", r.Value); err != nil {
			return nil, err
		}
	}
	key := ""
	for {
		r := sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGetNextKey, Key: key})
		if r.Err != nil {
			return nil, fmt.Errorf("%w: reading the vatstore: %w", vat.ErrFault, r.Err)
		}
		if !r.Found {
			return state, nil
		}
		key = r.Value
		g := sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: key})
		if g.Err != nil {
			return nil, fmt.Errorf("%w: reading the vatstore: %w", vat.ErrFault, g.Err)
		}
		if err := add(key, g.Value); err != nil {
			return nil, err
		}
	}
}

// deliver runs one delivery other than startVat on the started worker.
func (v *jsVat) deliver(d vatproto.Delivery, sys vatproto.Syscaller, abandoned <-chan struct{}) error {
	p := v.proc()
	if p == nil {
		// No worker: never started, or Stop took it. Either way there is no
		// vat to deliver to, and the kernel must not believe there was.
		return fmt.Errorf("%w: %s delivered before startVat (or after Stop)", vat.ErrFault, d.Kind)
	}
	// encodeRequest writes a Delivery's frame by hand (fastencode.go);
	// a kind with no wire form fails there, as vat.ErrFault.
	raw, err := v.call(p, "deliver", d, sys, abandoned)
	if err != nil {
		return fmt.Errorf("jsvat: %s delivery: %w", d.Kind, err)
	}
	return v.finish(raw, sys)
}

// finish reads a delivery's result: a delivery error fails it; otherwise
// its checkpoint is applied to the kernel's vatstore through syscalls, in
// the delivery's crank, so a rollback undoes it with everything else.
func (v *jsVat) finish(raw any, sys vatproto.Syscaller) error {
	// INVARIANT: the whole result is checked (decodeResult) before any of
	// its checkpoint is applied, so a malformed checkpoint changes nothing.
	res, err := decodeResult(raw)
	if err != nil {
		return err
	}
	// A delivery that failed has its checkpoint dropped: the kernel rolls
	// the crank back anyway, and the worker is killed (Deliver).
	if res.err != nil {
		return fmt.Errorf("%w: %s", vat.ErrFault, *res.err)
	}
	// Sets before deletes. No key is in both (decodeResult refuses that), so
	// the order between them changes nothing; each is a syscall of the
	// delivery's crank, judged and buffered by the kernel like any vat's, so
	// a rollback undoes the checkpoint with the rest of the crank.
	for _, kv := range res.sets {
		if r := sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreSet, Key: kv[0], Value: kv[1]}); r.Err != nil {
			return fmt.Errorf("%w: vatstore checkpoint: %w", vat.ErrFault, r.Err)
		}
	}
	for _, k := range res.deletes {
		if r := sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreDelete, Key: k}); r.Err != nil {
			return fmt.Errorf("%w: vatstore checkpoint: %w", vat.ErrFault, r.Err)
		}
	}
	return nil
}

// call sends one request and answers the syscalls that arrive until its
// response does. The kernel's verdict on each syscall is final: a refused
// one fails the delivery at once (the kernel's mark is sticky, so nothing
// the worker does later could save it). The worker dying, breaking the
// protocol, or the kernel abandoning the delivery also end it.
func (v *jsVat) call(p *process, method string, params any, sys vatproto.Syscaller, abandoned <-chan struct{}) (any, error) {
	// Ids only grow, per incarnation: a response carrying an old id (a late
	// or forged answer) cannot be taken for this request's.
	v.nextID++
	id := strconv.FormatUint(v.nextID, 10)
	var frame []byte
	var err error
	if d, ok := params.(vatproto.Delivery); ok && method == "deliver" {
		frame, err = appendDeliverFrame(v.frame[:0], id, d)
		if cap(frame) <= maxReusedFrame {
			v.frame = frame
		}
	} else {
		frame, err = encodeRequest(id, method, params)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: encoding %s: %v", vat.ErrFault, method, err)
	}
	// The worker refuses a frame over the limit too, but only by giving up
	// on its input: checked here, the delivery fails naming the limit,
	// before any byte is written.
	if len(frame) > v.rt.opts.MaxFrame {
		return nil, fmt.Errorf("%w: the %s frame is %d bytes, over the limit of %d (Options.MaxFrame)", vat.ErrFault, method, len(frame), v.rt.opts.MaxFrame)
	}
	// Anything that arrived since the last response came between
	// requests: a syscall outside a delivery, or the worker's death. (A
	// frame the worker writes before it reads this request but that
	// arrives after it is sent cannot be told apart, and is taken as the
	// delivery's: it is this vat's either way, and judged as such.)
	// INVARIANT: no syscall is accepted between deliveries. A vat runs only
	// inside a delivery; a syscall that arrives outside one (from a timer or
	// a promise left running) would have no crank to belong to, so it fails
	// the vat instead of being applied to the next delivery's crank. Log
	// notifications are the exception: harmless, and allowed at any time.
	//
	// Everything that came is read, not just one frame: log lines may come
	// between deliveries (an unhandled rejection is reported a turn after
	// the delivery that left it), and a read that waited for a frame after
	// them would wait for an answer to a request not yet written.
	for p.pending() {
		in := p.readAny(abandoned)
		if in.log == nil {
			return nil, v.unexpected(p, in)
		}
		p.logEntry(in.log)
		// A worker that logs without pause cannot keep the kernel here
		// past the delivery's deadline.
		if err := p.given(abandoned); err != nil {
			return nil, err
		}
	}
	// A write that fails (the worker died or stopped reading until the kernel
	// gave up) fails the delivery; Deliver kills the worker.
	if err := p.writeFrame(frame, abandoned); err != nil {
		return nil, err
	}
	for {
		in := p.readFrame(abandoned)
		switch {
		case in.err != nil:
			return nil, in.err
		case in.syscall != nil:
			// INVARIANT: each syscall reaches the kernel only after decodeInbound
			// checked its shape, and in the order the worker sent it; what it means
			// (c-list, authority) is the kernel's to judge here.
			if r := sys.Syscall(*in.syscall); r.Err != nil {
				return nil, fmt.Errorf("%w: syscall %s refused: %w", vat.ErrFault, in.syscall.Kind, r.Err)
			}
		case in.resp != nil:
			if in.resp.id != id {
				// One request is outstanding at a time, so any other id is a breach: a
				// stale answer, or a worker trying to end a delivery it did not finish.
				return nil, protoErr("a response to request %q while the kernel waits for %q", in.resp.id, id)
			}
			if in.resp.err != nil {
				// An error response is the vat failing the request, not a breach of
				// the protocol: vat.ErrFault, though the worker is killed all the same.
				return nil, fmt.Errorf("%w: %s", vat.ErrFault, in.resp.err.Message)
			}
			return in.resp.result, nil
		}
	}
}

// unexpected is the error for a frame that arrived while no request was
// outstanding.
func (v *jsVat) unexpected(p *process, in inbound) error {
	switch {
	case in.err != nil:
		return in.err
	case in.syscall != nil:
		return protoErr("syscall %s between deliveries: a vat may make syscalls only while it handles one", in.syscall.Kind)
	default:
		return protoErr("a response to no request")
	}
}

// PingTimeout bounds a Ping.
const PingTimeout = 5 * time.Second

// Ping asks the worker whether it is alive (the protocol's ping, answered
// "pong"), between deliveries. A worker that is dead, hung past
// PingTimeout or answers anything else is killed, and the vat fails its
// next delivery, so the kernel's failure policy applies to it.
//
// Ping must not run during a delivery: it shares the pipes and nextID
// with Deliver, and the protocol has one request outstanding at a time.
func (v *jsVat) Ping() error {
	if v.broken != nil {
		return v.broken
	}
	p := v.proc()
	if p == nil {
		return fmt.Errorf("%w: not started", ErrWorkerExited)
	}
	expired := make(chan struct{})
	// The timer stands in for the kernel's abandonment: a ping has no
	// delivery deadline of its own, and a hung worker must not hang the ping.
	timer := time.AfterFunc(PingTimeout, func() { close(expired) })
	defer timer.Stop()
	// INVARIANT: no syscall is accepted outside a delivery, during a ping
	// included (refuseSyscalls).
	raw, err := v.call(p, "ping", []any{}, refuseSyscalls{}, expired)
	if err == nil && raw != "pong" {
		err = protoErr("ping answered %v, not \"pong\"", raw)
	}
	if errors.Is(err, ErrAborted) {
		err = fmt.Errorf("%w: no answer to ping within %v", ErrWorkerExited, PingTimeout)
	}
	// Ping has no crank to fail, so a failure is kept in broken: the next
	// delivery fails with it and the kernel's failure policy decides.
	if err != nil {
		v.broken = err
		v.kill(err.Error())
	}
	return err
}

// refuseSyscalls is the Syscaller outside deliveries: a worker making a
// syscall while answering a ping breaks the protocol.
type refuseSyscalls struct{}

func (refuseSyscalls) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	return vatproto.SyscallResult{Err: protoErr("syscall %s outside a delivery", s.Kind)}
}

// Quiescent reports whether the worker may be paged out between
// deliveries (docs/paging.md): it is started and healthy. Liveslots runs
// every delivery until its promise queue is empty, so between deliveries
// a JavaScript vat's heap waits only on what the kernel can see in its
// c-list (promises, ephemeral exports), which the kernel checks itself
// (kernel.CheckPageable). Dropping the vat is then Stop: the worker is
// killed and reaped.
func (v *jsVat) Quiescent() error {
	if v.broken != nil {
		return fmt.Errorf("%w: %w", vat.ErrNotQuiescent, v.broken)
	}
	if v.proc() == nil {
		return fmt.Errorf("%w: no worker", vat.ErrNotQuiescent)
	}
	return nil
}
