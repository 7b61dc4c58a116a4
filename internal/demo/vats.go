package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// vat is a demo vat: methods by name, answered on the raw protocol.
type vat struct {
	name    string
	methods map[string]func(c *call) error
	next    int // for the o+N / p+N it allocates
	// held remembers refs by name across deliveries (a vat's heap).
	held map[string]kernel.VRef
	// onNotify runs when a promise it subscribed to settles.
	onNotify map[kernel.VRef]func(c *call, r kernel.VatResolution)
}

// call is one delivery in progress.
type call struct {
	v   *vat
	d   kernel.Delivery
	sys kernel.Syscaller
	err error
}

func (c *call) syscall(s kernel.Syscall) kernel.SyscallResult {
	r := c.sys.Syscall(s)
	if r.Err != nil && c.err == nil {
		c.err = r.Err
	}
	return r
}

func (c *call) newVRef(promise bool) kernel.VRef {
	c.v.next++
	if promise {
		return kernel.VRef("p+" + strconv.Itoa(c.v.next))
	}
	return kernel.VRef("o+" + strconv.Itoa(c.v.next))
}

// send sends method(refs...) to target and returns the result promise.
func (c *call) send(target kernel.VRef, method string, refs ...kernel.VRef) kernel.VRef {
	p := c.newVRef(true)
	c.syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: target,
		Message: kernel.VatMessage{Methargs: methargs(method, refs...), Result: p}})
	return p
}

// when subscribes to p and runs fn when it settles.
func (c *call) when(p kernel.VRef, fn func(c *call, r kernel.VatResolution)) {
	c.syscall(kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: p})
	c.v.onNotify[p] = fn
}

func (c *call) resolve(p kernel.VRef, rejected bool, data marshal.CapData) {
	c.syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: p, Rejected: rejected, Data: data}}})
	// A vat that resolves a promise it is itself waiting on (a message it
	// sent to itself) hears of it locally, as liveslots does: the kernel
	// has retired the promise from its c-list and will not notify it.
	if fn, ok := c.v.onNotify[p]; ok {
		delete(c.v.onNotify, p)
		fn(c, kernel.VatResolution{VPID: p, Rejected: rejected, Data: data})
	}
}

func (c *call) reply(data marshal.CapData) { c.resolve(c.d.Message.Result, false, data) }

func (c *call) slot(i int) kernel.VRef { return kernel.VRef(c.d.Message.Methargs.Slots[i]) }

// Deliverer runs the demo vats.
type deliverer struct {
	vats map[kernel.VatID]*vat
}

func (dl *deliverer) Deliver(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) (err error) {
	v := dl.vats[id]
	if v == nil {
		return fmt.Errorf("demo: vat %s: %w", id, kernel.ErrNoEndpoint)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", kernel.ErrVatFault, r)
		}
	}()
	c := &call{v: v, d: d, sys: sys}
	switch d.Kind {
	case kernel.DeliverMessage:
		m := methodOf(d.Message.Methargs)
		fn, ok := v.methods[m]
		if !ok {
			c.reply(marshal.EncodeError("TypeError", fmt.Sprintf("%s has no method %q", v.name, m)))
			return nil
		}
		return fn(c)
	case kernel.DeliverNotify:
		for _, r := range d.Resolutions {
			if fn, ok := v.onNotify[r.VPID]; ok {
				delete(v.onNotify, r.VPID)
				fn(c, r)
			}
		}
	}
	return nil
}

// methargs marshals ["method", [refs...]] as liveslots would.
func methargs(method string, refs ...kernel.VRef) marshal.CapData {
	mb, _ := json.Marshal(method)
	parts := make([]string, len(refs))
	slots := make([]string, len(refs))
	for i, r := range refs {
		if strings.HasPrefix(string(r), "p") || strings.HasPrefix(string(r), "kp") {
			parts[i] = fmt.Sprintf(`"&%d"`, i)
		} else {
			parts[i] = fmt.Sprintf(`"$%d.Alleged: remotable"`, i)
		}
		slots[i] = string(r)
	}
	return marshal.CapData{Body: "#[" + string(mb) + ",[" + strings.Join(parts, ",") + "]]", Slots: slots}
}

func methodOf(c marshal.CapData) string {
	var parts []json.RawMessage
	if json.Unmarshal([]byte(strings.TrimPrefix(c.Body, "#")), &parts) != nil || len(parts) == 0 {
		return ""
	}
	var m string
	json.Unmarshal(parts[0], &m)
	return m
}

func refValue(r kernel.VRef) marshal.CapData {
	return marshal.CapData{Body: `#"$0.Alleged: remotable"`, Slots: []string{string(r)}}
}
