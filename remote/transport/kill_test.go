package transport

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

var flagKillSeed = flag.Uint64("transport.seed", 0, "TestKill9BankMidTraffic: the seed that picks when kernel B is killed (0: from the clock)")

const dbEnv = "KERNEL_ACTORS_TRANSPORT_DB"

// Kernel B, a bank on a file store, is killed with SIGKILL in the middle
// of a burst of deposits from kernel A (after a deposit chosen by the
// printed seed), and started again over the same file, on a new port.
// A is told the new address (the same key: B's identity file is beside
// its database) and resends what B had not acknowledged; B resends its
// unacknowledged answers. Every deposit then ran exactly once, in order:
// B's bank keeps its log in its vatstore, written in the crank that takes
// the deposit, and A's answers are the running totals.
func TestKill9BankMidTraffic(t *testing.T) {
	switch os.Getenv(roleEnv) {
	case "a":
		depositor(t)
		return
	case "b":
		durableBank(t)
		return
	}
	seed := *flagKillSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -transport.seed=%d)", seed, seed)
	const n = 8
	killAfter := 1 + mrand.New(mrand.NewPCG(seed, seed)).IntN(n-1) // 1..n-1 deposits seen
	t.Logf("B is killed once it has taken %d of %d deposits", killAfter, n)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t.Setenv(dbEnv, filepath.Join(t.TempDir(), "b.db"))
	const name = "TestKill9BankMidTraffic"
	b := startChild(t, ctx, name, "b")
	a := startChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's address and key
	b.Write(a.Read()) // A's
	a.Write(b.Read()) // the bank's ref: A starts its deposits
	for seen := 0; seen < killAfter; {
		if s := b.Read(); len(s.Log) > 0 {
			seen++
		}
	}
	b.Kill() // SIGKILL: no flush, no goodbye

	b2 := startChild(t, ctx, name, "b")
	// The restarted bank may take resent deposits before it says where it
	// is: its first line with an address is the one.
	moved := b2.Read()
	for moved.Addr == "" {
		moved = b2.Read()
	}
	a.Write(moved) // B's new address, same key
	answers := a.Read()
	b2.Write(setup{})
	var report setup
	for {
		// Deposit lines of the restarted bank come first; the report is
		// the line with the audit.
		if report = b2.Read(); report.Applied > 0 {
			break
		}
	}
	a.Wait()
	b2.Wait()

	want := make([]int64, n)
	sums := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
		sums[i] = int64((i + 1) * (i + 2) / 2)
	}
	require.Equal(t, sums, answers.Log, "A's answers: the running totals")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Equal(t, want, report.Log, "B's durable log: each deposit exactly once, in order, across the kill")
	require.Empty(t, report.Problems, "B's auditor after the restart")
	require.Equal(t, uint64(n), report.Applied, "B applied each of A's messages once")
}

// depositor is kernel A: it sends eight deposits at once and waits for
// every answer, following B to its new address when told.
func depositor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	pipe := childIO(t)
	a := newPeer(t, false)
	b, aToB, presence := meetBank(ctx, t, pipe, a)
	var kps []kernel.KRef
	for i := int64(1); i <= 8; i++ {
		kps = append(kps, deposit(t, a, presence, i))
	}
	moved := pipe.Read()
	require.Equal(t, b.Peer, moved.Peer, "B kept its key")
	require.NoError(t, a.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		// The same peer at a new address: its row is updated, and the
		// link's pins follow.
		r, out, err := k.AddRemote(ctx, moved.Peer, moved.Addr)
		require.Equal(t, aToB, r)
		return out, err
	}))
	reportDeposits(ctx, t, pipe, a, kps)
}

// durableBank is kernel B on a file store: a bank whose total and log
// live in its vatstore, so they are exactly what committed cranks wrote.
// Started over an existing file it resumes, and its identity is the one
// in the key file beside the database.
func durableBank(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	pipe := childIO(t)
	db := os.Getenv(dbEnv)
	_, statErr := os.Stat(db)
	restarted := statErr == nil
	id, _, err := identity.LoadOrCreate(identity.KeyPath(db), rand.Reader)
	require.NoError(t, err)
	d := kt.NewWithOptions(t, db, persistence.Options{})
	var root kernel.KRef
	if restarted {
		out, err := d.K.Resume(ctx, d)
		require.NoError(t, err)
		d.Release(out)
	} else {
		res, out, err := d.K.Launch(ctx, d, kernel.ClusterConfig{Bootstrap: "bank",
			Vats: map[string]kernel.VatConfig{"bank": {Bundle: "fake"}}}, kernel.LaunchOptions{NoBootstrap: true})
		require.NoError(t, err)
		d.Release(out)
		root = res.Roots["bank"]
	}
	d.Vat("bank").OnMethod["deposit"] = func(c *kt.Call) error {
		args, err := marshal.Decode(c.Delivery.Message.Methargs)
		if err != nil {
			return err
		}
		amount, err := marshal.Int(args.([]any)[1].([]any)[0])
		if err != nil {
			return err
		}
		var log []int64
		if r := c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: "log"}); r.Found {
			if err := json.Unmarshal([]byte(r.Value), &log); err != nil {
				return err
			}
		}
		log = append(log, amount)
		enc, _ := json.Marshal(log)
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "log", Value: string(enc)})
		total := int64(0)
		for _, x := range log {
			total += x
		}
		v, _ := marshal.Encode(total)
		c.Fulfill(c.Result(), v)
		// Progress for the parent, which kills on it; printed before the
		// crank commits, so a kill may cut the crank after this line.
		pipe.Write(setup{Log: []int64{amount}})
		return nil
	}
	n, err := Start(ctx, Config{Identity: id, Host: "127.0.0.1", Kernel: d.K, Deliverer: d, ResendEvery: 50 * time.Millisecond})
	require.NoError(t, err)
	pipe.Write(setup{Addr: n.Addr(), Peer: string(id.ID())})
	var bToA kernel.RemoteID
	if !restarted {
		a := pipe.Read()
		require.NoError(t, n.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			var o []kernel.Output
			bToA, o, err = k.AddRemote(ctx, a.Peer, a.Addr)
			return o, err
		}))
		var ref string
		require.NoError(t, n.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			var o []kernel.Output
			ref, o, err = k.ExportToRemote(ctx, bToA, root)
			return o, err
		}))
		pipe.Write(setup{Ref: ref})
	} else {
		bToA = "r1"
	}
	pipe.Read() // A is done (the first incarnation is killed before this)
	var report setup
	require.NoError(t, n.Do(ctx, func(k *kernel.Kernel) error {
		report.Problems, err = kernel.Audit(ctx, k.Store())
		info, _ := k.Remote(bToA)
		report.Applied = info.Applied
		v, _ := k.Store().VatstoreGet(string(d.Vat("bank").ID), "log")
		return json.Unmarshal([]byte(v), &report.Log)
	}))
	pipe.Write(report)
	require.NoError(t, n.Stop(ctx))
}
