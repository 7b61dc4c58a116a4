package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// line is one line between the parent and a kernel process: a request
// (Op set) or its answer (Err set if it failed).
type line struct {
	Op      string  `json:"op,omitempty"`
	Err     string  `json:"err,omitempty"`
	Addr    string  `json:"addr,omitempty"`    // a kernel's address for peers
	Peer    string  `json:"peer,omitempty"`    // a kernel's peer id
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

// child is a kernel process: role "bank" holds the bank vat, "alice" the
// client vat. It starts (or resumes) its kernel, says where it is, and
// answers the parent's requests until its stdin closes.
func child(ctx context.Context, role, db string, stdin io.Reader, stdout io.Writer) int {
	p, err := startKernel(ctx, role, db)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	// stdout carries only these lines: the parent reads them as answers.
	out := json.NewEncoder(stdout)
	// The first line says where the kernel listens and who it is: the
	// parent needs both to introduce the kernels to each other.
	me, err := p.k.LocalPeer(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		p.k.Stop(context.WithoutCancel(ctx))
		return 1
	}
	out.Encode(line{Addr: me.Address, Peer: me.ID, KRef: string(p.root), Resumed: p.resumed})
	in := bufio.NewScanner(stdin)
	// One request at a time, until stdin closes: the parent closes it to
	// stop this kernel cleanly, and a parent that dies closes it too.
	for in.Scan() {
		var req line
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			out.Encode(line{Err: err.Error()})
			continue
		}
		ans, err := p.handle(ctx, req)
		if err != nil {
			ans.Err = err.Error()
		}
		out.Encode(ans)
	}
	// A clean stop: the remote, the vats, the last flush and the store,
	// whatever ctx says (it may be what ended the loop).
	if err := p.k.Stop(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// peer is one kernel process: an actors.Kernel on the network, and the
// root of the vat it runs (the bank's in the bank's kernel, alice's
// client in hers).
type peer struct {
	k       *actors.Kernel
	root    kernel.KRef
	resumed bool // started over an existing database
}

// clusters: each kernel runs one vat, its bootstrap.
var clusters = map[string]kernel.ClusterConfig{
	"bank":  {Bootstrap: "bank", Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}},
	"alice": {Bootstrap: "client", Vats: map[string]kernel.VatConfig{"client": {Bundle: "client"}}},
}

// startKernel starts the kernel of role on its database: a new one, or
// the one a killed process left, resumed.
func startKernel(ctx context.Context, role, db string) (*peer, error) {
	cluster, ok := clusters[role]
	if !ok {
		return nil, fmt.Errorf("unknown role %q", role)
	}
	p := &peer{}
	_, statErr := os.Stat(db)
	p.resumed = statErr == nil
	// actors.Start opens the file and resumes what is in it (vats restart
	// from their durable state). Config.Remote puts the kernel on the
	// network: protoactor-go remote on the kernel's actor system, its key
	// beside the database (db.key, made on the first start: started again
	// over the file, it is the same peer, the one its peers pinned), and a
	// link that resends what a peer has not acknowledged. Plaintext: both
	// kernels are on loopback, the only place the kernel allows it. The
	// default commit is durable (synchronous=FULL): each crank is in
	// SQLite, synced, before anything it caused is seen, which is what
	// lets the bank die at any instant.
	k, err := actors.Start(ctx, actors.Config{
		DBPath:   db,
		Registry: registry(),
		Remote: &actors.RemoteConfig{
			Host:             "127.0.0.1", // Port 0: a free port, new at each start
			InsecureLoopback: true,
			ResendEvery:      100 * time.Millisecond,
		},
	})
	if err != nil {
		return nil, err
	}
	p.k = k
	// The vat: launched by an earlier run, or now. Its root's kref does
	// not change across a restart, so the peer's presence still names it.
	res, err := k.Subcluster(ctx, cluster)
	if errors.Is(err, kernel.ErrUnknownSubcluster) {
		res, err = k.LaunchSubcluster(ctx, cluster)
	}
	if err != nil {
		k.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	p.root = res.RootKref
	return p, nil
}

// handle answers one request of the parent. Every call is a host request
// of the kernel actor, handled between cranks.
func (p *peer) handle(ctx context.Context, req line) (line, error) {
	var ans line
	var err error
	switch req.Op {
	// AddRemote pins the peer's key: a kernel whose key changed is refused,
	// whatever address it comes from.
	case "know": // the peer at Addr with key Peer: new, or moved
		var r kernel.RemoteID
		r, err = p.k.AddRemote(ctx, req.Peer, req.Addr)
		ans.Remote = string(r)
	case "export": // give the remote a reference to this kernel's root
		ans.Ref, err = p.k.ExportToRemote(ctx, kernel.RemoteID(req.Remote), p.root)
	case "import": // turn the peer's ref into a presence
		var kref kernel.KRef
		kref, err = p.k.ImportFromRemote(ctx, kernel.RemoteID(req.Remote), req.Ref)
		ans.KRef = string(kref)
	// The client vat sends deposit(Amount) to the presence KRef and keeps
	// the answer's promise, not waiting for it: the crank that runs the
	// vat writes the send to the bank's outbox, and the kernel puts it on
	// the wire once that crank is in SQLite. Sent through one vat, the
	// deposits reach the bank in the order sent (E-order).
	case "deposit":
		_, err = p.k.QueueMessage(ctx, p.root, "deposit", kernel.KRef(req.KRef), req.Amount)
	// Every deposit's answer since the start, in order: an answer that
	// came before the kill and one resent after it both settle their
	// promise once.
	case "answers":
		var v any
		if v, err = p.k.QueueMessage(ctx, p.root, "answers"); err == nil {
			ans.Answers, err = ints(v)
		}
	// A host call on the bank's own kernel, not over the link.
	case "statement": // the bank's statement, asked by its own host
		var v any
		if v, err = p.k.QueueMessage(ctx, p.root, "statement"); err != nil {
			break
		}
		// The statement is {balance, deposits}, as vats.go writes it.
		st, _ := v.(map[string]any)
		ans.Balance, _ = st["balance"].(int64)
		ans.Deposits, err = ints(st["deposits"])
	case "audit": // the auditor, and how many messages wait for Remote
		err = p.k.ReadStore(ctx, func(st *persistence.Store) error {
			var err error
			ans.Problems, err = kernel.Audit(ctx, st)
			return err
		})
		if err == nil && req.Remote != "" {
			ans.Pending, err = p.pending(ctx, kernel.RemoteID(req.Remote))
		}
	default:
		err = fmt.Errorf("unknown request %q", req.Op)
	}
	return ans, err
}

// pending is how many messages wait for remote's ack.
func (p *peer) pending(ctx context.Context, remote kernel.RemoteID) (int, error) {
	infos, err := p.k.Remotes(ctx)
	if err != nil {
		return 0, err
	}
	for _, info := range infos {
		if info.ID == remote {
			return info.Pending, nil
		}
	}
	return 0, fmt.Errorf("no remote %s", remote)
}

// ints reads a list of integers, as the vats return them.
func ints(v any) ([]int64, error) {
	list, ok := v.([]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("want a list, got %T", v)
	}
	out := make([]int64, 0, len(list))
	for _, x := range list {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("want an integer, got %v", x)
		}
		out = append(out, n)
	}
	return out, nil
}
