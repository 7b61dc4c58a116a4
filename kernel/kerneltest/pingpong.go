package kerneltest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// PingPong is a lean Deliverer for benchmarks: two vats bounce "ping"
// between their roots forever, and every crank's delivery makes exactly 3
// syscalls. A ping makes them as liveslots would: send "ping" to the peer
// with a fresh result promise, subscribe to that result, and fulfill the
// ping's own result. Each send also yields a notify crank back to its
// sender, which records the reply in its vatstore (get and set a counter,
// set the last reply), so the steady state alternates a ping crank and a
// notify crank.
type PingPong struct {
	peer map[kernel.VatID]kernel.VRef // each vat's import of the other's root
	next map[kernel.VatID]int
	args marshal.CapData
	// Pings counts ping deliveries.
	Pings int
}

// OpenPingPong opens a store at path with opts, a kernel over it, and a
// ping-pong on that kernel: what every crank benchmark starts from. The
// caller closes the store.
func OpenPingPong(ctx context.Context, path string, opts persistence.Options) (*persistence.Store, *kernel.Kernel, *PingPong, error) {
	st, err := sqlitestore.Open(ctx, path, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := kernel.New(kernel.Config{Store: st})
	if err == nil {
		var p *PingPong
		if p, err = NewPingPong(ctx, k); err == nil {
			return st, k, p, nil
		}
	}
	st.Close(ctx)
	return nil, nil, nil, err
}

// NewPingPong launches the two vats on k, introduces them (through the
// kernel, like any message) and queues the first ping.
func NewPingPong(ctx context.Context, k *kernel.Kernel) (*PingPong, error) {
	p := &PingPong{peer: map[kernel.VatID]kernel.VRef{}, next: map[kernel.VatID]int{}, args: Methargs("ping")}
	res, _, err := k.Launch(ctx, p, kernel.ClusterConfig{Bootstrap: "a",
		Vats: map[string]kernel.VatConfig{"a": {Bundle: "pingpong"}, "b": {Bundle: "pingpong"}}}, kernel.LaunchOptions{NoBootstrap: true})
	if err != nil {
		return nil, err
	}
	if _, _, err := k.QueueMessage(ctx, res.Roots["a"], Methargs("meet", kernel.VRef(res.Roots["b"]))); err != nil {
		return nil, err
	}
	if _, _, err := k.QueueMessage(ctx, res.Roots["b"], Methargs("meet", kernel.VRef(res.Roots["a"]))); err != nil {
		return nil, err
	}
	for k.HasWork() {
		if _, err := k.Crank(ctx, p); err != nil {
			return nil, err
		}
	}
	if len(p.peer) != 2 {
		return nil, fmt.Errorf("kerneltest: ping-pong introductions failed")
	}
	if _, _, err := k.QueueMessage(ctx, res.Roots["a"], p.args); err != nil {
		return nil, err
	}
	return p, nil
}

// Deliver implements kernel.Deliverer.
func (p *PingPong) Deliver(ctx context.Context, vat kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if d.Kind == kernel.DeliverNotify {
		n := 0
		if r := sys.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: "pongs"}); r.Found {
			n, _ = strconv.Atoi(r.Value)
		}
		sys.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "pongs", Value: strconv.Itoa(n + 1)})
		sys.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "last", Value: string(d.Resolutions[0].VPID)})
		return nil
	}
	if d.Kind != kernel.DeliverMessage {
		return nil
	}
	resolveMine := kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: d.Message.Result, Data: Undefined}}}
	if MethodOf(d.Message.Methargs) == "meet" {
		p.peer[vat] = kernel.VRef(d.Message.Methargs.Slots[0])
		sys.Syscall(resolveMine)
		return nil
	}
	p.Pings++
	p.next[vat]++
	result := kernel.VRef("p+" + strconv.Itoa(p.next[vat]))
	for _, s := range []kernel.Syscall{
		{Kind: kernel.SyscallSend, Target: p.peer[vat], Message: kernel.VatMessage{Methargs: p.args, Result: result}},
		{Kind: kernel.SyscallSubscribe, VPID: result},
		resolveMine,
	} {
		if r := sys.Syscall(s); r.Err != nil {
			return fmt.Errorf("%w: ping-pong syscall %s: %v", kernel.ErrVatFault, s.Kind, r.Err)
		}
	}
	return nil
}
