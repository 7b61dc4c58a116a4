package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/transport"
	"github.com/ocapgo/kernel-actors/vat"
)

// line is one line between the parent and a kernel process: a request
// (Op set) or its answer (Err set if it failed).
type line struct {
	Op      string  `json:"op,omitempty"`
	Err     string  `json:"err,omitempty"`
	Addr    string  `json:"addr,omitempty"`    // a node's address
	Peer    string  `json:"peer,omitempty"`    // a node's peer id
	Remote  string  `json:"remote,omitempty"`  // a remote id (kernel.RemoteID)
	Ref     string  `json:"ref,omitempty"`     // a remote ref: an introduction
	KRef    string  `json:"kref,omitempty"`    // a kref of the kernel's own
	Amount  int64   `json:"amount,omitempty"`  // a deposit
	Answers []int64 `json:"answers,omitempty"` // the balances deposits were answered with
	Pending int     `json:"pending,omitempty"` // messages waiting for the peer's ack
	Resumed bool    `json:"resumed,omitempty"` // the kernel resumed its database
	// Balance and Deposits are the bank's statement; Problems the
	// auditor's findings.
	Balance  int64    `json:"balance,omitempty"`
	Deposits []int64  `json:"deposits,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// child is a kernel process: role "bank" holds the bank vat, "alice"
// none. It opens (or resumes) its database, starts its node, says where
// it is, and answers the parent's requests until its stdin closes.
func child(ctx context.Context, role, db string, stdin io.Reader, stdout io.Writer) int {
	k, err := openKernel(ctx, role, db)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	// stdout carries only these lines: the parent reads them as answers.
	out := json.NewEncoder(stdout)
	// The first line says where the node listens and who it is: the parent
	// needs both to introduce the kernels to each other.
	out.Encode(line{Addr: k.node.Addr(), Peer: string(k.id.ID()), KRef: string(k.root), Resumed: k.resumed})
	in := bufio.NewScanner(stdin)
	// One request at a time, until stdin closes: the parent closes it to
	// stop this kernel cleanly, and a parent that dies closes it too.
	for in.Scan() {
		var req line
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			out.Encode(line{Err: err.Error()})
			continue
		}
		ans, err := k.handle(ctx, req)
		if err != nil {
			ans.Err = err.Error()
		}
		out.Encode(ans)
	}
	// A clean stop: the node, then the last flush and the store.
	if err := k.close(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// peerKernel is one kernel: its store, the kernel, its Go vats and the
// node that owns the kernel (every call goes through node.Do).
type peerKernel struct {
	st      *persistence.Store
	k       *kernel.Kernel
	vats    *goVats
	node    *transport.Node
	id      *identity.Identity
	root    kernel.KRef   // the bank's root ("" in alice's kernel)
	resumed bool          // started over an existing database
	sent    []kernel.KRef // the deposits' result promises, in order
}

func openKernel(ctx context.Context, role, db string) (*peerKernel, error) {
	// The same registry in every process; only the bank launches a vat.
	p := &peerKernel{vats: &goVats{reg: registry(), insts: map[kernel.VatID]*vat.Instance{}}}
	_, statErr := os.Stat(db)
	p.resumed = statErr == nil
	// The kernel's key lives beside its database: started again over the
	// file, it is the same peer, the one its peers pinned.
	id, _, err := identity.LoadOrCreate(identity.KeyPath(db), rand.Reader)
	if err != nil {
		return nil, err
	}
	p.id = id
	// Durable commit, synchronous=FULL: each crank is in SQLite, synced,
	// before anything it caused is seen. That is what lets the bank die at
	// any instant.
	if p.st, err = sqlitestore.Open(ctx, db, persistence.Options{}); err != nil {
		return nil, err
	}
	if p.k, err = kernel.New(kernel.Config{Store: p.st}); err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	p.vats.k = p.k
	// The vats first, then the node: no peer frame reaches a kernel whose
	// vats are not there yet.
	if err := p.launchOrResume(ctx, role); err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	// Plaintext: both kernels are on loopback, which is the only place
	// transport.Start allows it.
	p.node, err = transport.Start(ctx, transport.Config{Identity: id, Host: "127.0.0.1", InsecureLoopback: true,
		Kernel: p.k, Deliverer: p.vats, ResendEvery: 100 * time.Millisecond})
	if err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	return p, nil
}

// launchOrResume launches the bank on a new database, or resumes the
// kernel of an old one (its vats restart from their durable state).
func (p *peerKernel) launchOrResume(ctx context.Context, role string) error {
	if p.resumed {
		if _, err := p.k.Resume(ctx, p.vats); err != nil {
			return err
		}
		// The bank's root kref did not change across the restart: alice's
		// kernel still names it through the same remote ref.
		for _, v := range p.k.Vats() {
			if v.Name == "bank" {
				p.root = v.Root
			}
		}
	} else if role == "bank" {
		res, _, err := p.k.Launch(ctx, p.vats, kernel.ClusterConfig{Bootstrap: "bank",
			Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}}, kernel.LaunchOptions{NoBootstrap: true})
		if err != nil {
			return err
		}
		p.root = res.Roots["bank"]
	}
	// The launch or resume is in SQLite before the node starts.
	_, err := p.k.Flush(ctx)
	return err
}

func (p *peerKernel) close(ctx context.Context) error {
	// The node first, so no step runs while the store closes.
	err := p.node.Stop(ctx)
	p.vats.stop()
	if _, ferr := p.k.Flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if cerr := p.st.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// handle answers one request of the parent.
func (p *peerKernel) handle(ctx context.Context, req line) (line, error) {
	var ans line
	// hostOut runs a host request on the node's actor, which owns the
	// kernel.
	hostOut := func(fn func(k *kernel.Kernel) ([]kernel.Output, error)) error { return p.node.DoOut(ctx, fn) }
	switch req.Op {
	// AddRemote pins the peer's key: a kernel whose key changed is refused,
	// whatever address it comes from.
	case "know": // the peer at Addr with key Peer: new, or moved
		return ans, hostOut(func(k *kernel.Kernel) ([]kernel.Output, error) {
			r, out, err := k.AddRemote(ctx, req.Peer, req.Addr)
			ans.Remote = string(r)
			return out, err
		})
	case "export": // give remote a reference to the bank
		return ans, hostOut(func(k *kernel.Kernel) ([]kernel.Output, error) {
			ref, out, err := k.ExportToRemote(ctx, kernel.RemoteID(req.Remote), p.root)
			ans.Ref = ref
			return out, err
		})
	case "import": // turn the peer's ref into a presence
		return ans, hostOut(func(k *kernel.Kernel) ([]kernel.Output, error) {
			kref, out, err := k.ImportFromRemote(ctx, kernel.RemoteID(req.Remote), req.Ref)
			ans.KRef = string(kref)
			return out, err
		})
	// QueueMessage runs a host unit; the crank that routes the send writes
	// it to the bank's outbox, and the node sends it once that is flushed.
	case "deposit": // send deposit(Amount) to the presence KRef, not waiting
		methargs, err := marshal.Encode([]any{"deposit", []any{req.Amount}})
		if err != nil {
			return ans, err
		}
		return ans, hostOut(func(k *kernel.Kernel) ([]kernel.Output, error) {
			kp, out, err := k.QueueMessage(ctx, kernel.KRef(req.KRef), methargs)
			p.sent = append(p.sent, kp)
			return out, err
		})
	// Every promise since the start, in order: an answer that came before
	// the kill and one resent after it both settle their promise once.
	case "answers": // wait for every deposit's answer
		for i, kp := range p.sent {
			v, err := p.wait(ctx, kp)
			if err != nil {
				return ans, fmt.Errorf("deposit %d: %w", i+1, err)
			}
			n, err := marshal.Int(v)
			if err != nil {
				return ans, fmt.Errorf("deposit %d answered %v: %w", i+1, v, err)
			}
			ans.Answers = append(ans.Answers, n)
		}
		return ans, nil
	// A host call on the bank's own kernel, not over the link.
	case "statement": // the bank's statement, asked by its own host
		methargs, _ := marshal.Encode([]any{"statement", []any{}})
		var kp kernel.KRef
		if err := hostOut(func(k *kernel.Kernel) ([]kernel.Output, error) {
			var out []kernel.Output
			var err error
			kp, out, err = k.QueueMessage(ctx, p.root, methargs)
			return out, err
		}); err != nil {
			return ans, err
		}
		v, err := p.wait(ctx, kp)
		if err != nil {
			return ans, err
		}
		// The statement is {balance, deposits}, as vats.go writes it.
		st, _ := v.(map[string]any)
		ans.Balance, _ = marshal.Int(st["balance"])
		list, _ := st["deposits"].([]any)
		for _, d := range list {
			n, _ := marshal.Int(d)
			ans.Deposits = append(ans.Deposits, n)
		}
		return ans, nil
	// On the node, between steps, so no crank is half done.
	case "audit": // the auditor, and how many messages wait for Remote
		return ans, p.node.Do(ctx, func(k *kernel.Kernel) error {
			var err error
			if ans.Problems, err = kernel.Audit(ctx, k.Store()); err != nil {
				return err
			}
			if req.Remote != "" {
				info, err := k.Remote(kernel.RemoteID(req.Remote))
				ans.Pending = info.Pending
				return err
			}
			return nil
		})
	}
	return ans, fmt.Errorf("unknown request %q", req.Op)
}

// wait waits for the settlement of kp and decodes its value.
// The node releases an output only after the flush that covers it: what
// the host sees is durable.
func (p *peerKernel) wait(ctx context.Context, kp kernel.KRef) (any, error) {
	o, err := p.node.Wait(ctx, kp)
	if err != nil {
		return nil, err
	}
	if err := o.Err(); err != nil {
		return nil, err
	}
	return marshal.Decode(o.Value)
}

// goVats runs Go vats (package vat) for a bare kernel.Kernel: one
// vat.Instance per incarnation, made at its startVat. The node calls it
// from its actor alone.
type goVats struct {
	reg   *vat.Registry
	k     *kernel.Kernel
	insts map[kernel.VatID]*vat.Instance
}

// Deliver implements kernel.Deliverer.
func (g *goVats) Deliver(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	// A startVat begins an incarnation (at launch, and at each resume): the
	// build function runs in a new instance, which reads its baggage back.
	if d.Kind == kernel.DeliverStartVat {
		info, err := g.k.Vat(id)
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrNoEndpoint, err)
		}
		build, err := g.reg.Lookup(info.Config.Bundle)
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
		if old := g.insts[id]; old != nil {
			old.Stop()
		}
		if g.insts[id], err = vat.New(vat.Config{Build: build, Parameters: info.Config.Parameters}); err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
	}
	inst := g.insts[id]
	if inst == nil {
		return fmt.Errorf("vat %s: %w", id, kernel.ErrNoEndpoint)
	}
	// ErrVatFault lets the kernel roll the crank back and apply the vat's
	// failure policy.
	if err := inst.Deliver(d, sys); err != nil {
		return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	return nil
}

func (g *goVats) stop() {
	for _, inst := range g.insts {
		inst.Stop()
	}
}
