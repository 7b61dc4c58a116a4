package kerneltest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Link connects two Drivers' kernels as peers, in one process: each is a
// remote endpoint of the other, and the link moves outbox messages and
// acks between them only when the test says so, the way a transport
// would. Every step that changes a kernel is audited, as the Driver's own
// steps are.
//
// The link is where tests make the network misbehave: Pump can drop,
// duplicate or withhold messages and acks, and a Driver can be restarted
// or crashed (Driver.RestartKernel) between pumps. The protocol must make
// every such run end with each message applied once (docs/remote.md).
type Link struct {
	A, B *Driver
	// AtoB is B's remote id in A (the endpoint A routes B's objects to),
	// BtoA A's remote id in B.
	AtoB, BtoA kernel.RemoteID
	// Applied counts, per direction, the messages the receiver applied
	// (not duplicates): "a>b" and "b>a".
	Applied map[string]int
	// Duplicates counts the messages the receiver dropped as duplicates.
	Duplicates map[string]int
}

// PeerID is a stand-in peer id for a test kernel named name: 64 hex
// digits, as the kernel keeps them (the real ones come from
// remote/identity).
func PeerID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// Connect makes a and b peers of each other.
func Connect(a, b *Driver) *Link {
	a.T.Helper()
	l := &Link{A: a, B: b, Applied: map[string]int{}, Duplicates: map[string]int{}}
	l.AtoB = a.AddRemote(PeerID("B"), "b.test:1")
	l.BtoA = b.AddRemote(PeerID("A"), "a.test:1")
	return l
}

// AddRemote adds a remote endpoint for peer at addr and returns its id.
func (d *Driver) AddRemote(peer, addr string) kernel.RemoteID {
	d.T.Helper()
	id, out, err := d.K.AddRemote(d.Ctx, peer, addr)
	if err != nil {
		d.T.Fatalf("kerneltest: add remote: %v", err)
	}
	d.release(out)
	d.audit("add remote")
	return id
}

// Introduce makes b's object koid known to a: b exports it to a's
// endpoint, and a imports it as a presence, pinned for a's host. It
// returns the presence's kref in a.
func (l *Link) Introduce(koid kernel.KRef) kernel.KRef {
	l.A.T.Helper()
	ref, out, err := l.B.K.ExportToRemote(l.B.Ctx, l.BtoA, koid)
	if err != nil {
		l.A.T.Fatalf("kerneltest: export %s: %v", koid, err)
	}
	l.B.release(out)
	l.B.audit("export to remote")
	presence, out, err := l.A.K.ImportFromRemote(l.A.Ctx, l.AtoB, ref)
	if err != nil {
		l.A.T.Fatalf("kerneltest: import %s: %v", ref, err)
	}
	l.A.release(out)
	l.A.audit("import from remote")
	return presence
}

// Dir is one direction of a link.
type Dir struct {
	From, To       *Driver
	FromID, ToID   kernel.RemoteID // the receiver's id in From, the sender's in To
	name           string
	applied, dupes map[string]int
}

// AB and BA are the link's two directions.
func (l *Link) AB() Dir {
	return Dir{From: l.A, To: l.B, FromID: l.AtoB, ToID: l.BtoA, name: "a>b", applied: l.Applied, dupes: l.Duplicates}
}

// BA is the direction from B to A.
func (l *Link) BA() Dir {
	return Dir{From: l.B, To: l.A, FromID: l.BtoA, ToID: l.AtoB, name: "b>a", applied: l.Applied, dupes: l.Duplicates}
}

// Fault says what Pump does to one message: deliver it, drop it, or
// deliver it twice.
type Fault uint8

// Faults.
const (
	Deliver Fault = iota
	Drop
	Twice
)

// Pump sends what the sender may send now (RemoteSendable: unacknowledged
// and flushed) to the receiver, in order, applying fault(seq) to each, and
// then, if ack, acks back what the receiver has applied. It stops at the
// first message the receiver refuses as out of order (after a drop): the
// rest wait for the next pump, which resends from the ack, as a transport
// does after a reconnect. It returns how many messages the receiver
// applied.
func (d Dir) Pump(fault func(seq uint64) Fault, ack bool) int {
	t := d.From.T
	t.Helper()
	from, to, err := d.From.K.RemoteSendable(d.FromID)
	if err != nil {
		t.Fatalf("kerneltest: sendable: %v", err)
	}
	n := 0
	for seq := from; seq <= to; seq++ {
		f := Deliver
		if fault != nil {
			f = fault(seq)
		}
		if f == Drop {
			continue
		}
		msg, ok := d.From.K.RemoteMessage(d.FromID, seq)
		if !ok {
			t.Fatalf("kerneltest: %s: outbox message %d missing", d.name, seq)
		}
		times := 1
		if f == Twice {
			times = 2
		}
		stop := false
		for i := 0; i < times && !stop; i++ {
			res, out, err := d.To.K.ApplyRemote(d.To.Ctx, d.ToID, seq, msg)
			switch {
			case errors.Is(err, kernel.ErrRemoteGap):
				stop = true
			case err != nil:
				t.Fatalf("kerneltest: %s: apply %d: %v", d.name, seq, err)
			case res == kernel.Duplicate:
				d.dupes[d.name]++
			default:
				n++
				d.applied[d.name]++
			}
			d.To.release(out)
			d.To.audit(fmt.Sprintf("apply %s %d", d.name, seq))
		}
		if stop {
			break
		}
	}
	if ack {
		d.Ack()
	}
	return n
}

// Ack tells the sender what the receiver has durably applied
// (RemoteAckable), as the receiver's cumulative ack would.
func (d Dir) Ack() {
	t := d.From.T
	t.Helper()
	upTo, err := d.To.K.RemoteAckable(d.ToID)
	if err != nil {
		t.Fatalf("kerneltest: ack: %v", err)
	}
	out, err := d.From.K.AckRemote(d.From.Ctx, d.FromID, upTo)
	if err != nil {
		t.Fatalf("kerneltest: %s: ack %d: %v", d.name, upTo, err)
	}
	d.From.release(out)
	d.From.audit(fmt.Sprintf("ack %s %d", d.name, upTo))
}

// Settle runs both kernels and pumps both ways, with no faults, until
// neither has work nor anything to send: the link's quiescence.
func (l *Link) Settle(limit int) {
	l.A.T.Helper()
	if limit <= 0 {
		limit = 1000
	}
	for i := 0; i < limit; i++ {
		l.A.RunUntilQuiescent(0)
		l.B.RunUntilQuiescent(0)
		moved := l.AB().Pump(nil, true) + l.BA().Pump(nil, true)
		if moved == 0 && !l.A.K.HasWork() && !l.B.K.HasWork() {
			return
		}
	}
	l.A.T.Fatalf("kerneltest: link not quiescent after %d rounds", limit)
}
