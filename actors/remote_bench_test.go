package actors_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/proctest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// BenchmarkRemoteRoundTrip measures cross-kernel round trips through
// actors.Kernel with Config.Remote, one at a time, on loopback over
// plaintext: A's host sends ping(i) to an object of kernel B and awaits
// B's answer. Each kernel is a process of its own (this process is A; B
// is the test binary started again, as protoactor-go remote's state is
// the process's), both in memory under group commit. It reports round
// trips a second (rt/s) and the frames both kernels sent per round trip
// (frames/rt), as A saw them go and arrive.
//
// The sub-benchmarks differ in one setting each, both kernels alike, and
// run one after another in one run (with -count, in turn), so their
// ratios are of the same machine at the same time:
//
//   - acks=held: an ack with no message to ride on waits AckDelay for one
//     (the default); acks=alone: each ack that moved goes at once;
//   - goroutine=own: the kernel actor runs on a goroutine of its own (the
//     default for a kernel with a remote); goroutine=default: on
//     protoactor-go's default dispatcher, a new goroutine at each wake.
func BenchmarkRemoteRoundTrip(b *testing.B) {
	if os.Getenv(remoteRoleEnv) == "bench-peer" {
		benchPeer(b)
		return
	}
	modes := []benchMode{
		{Name: "acks=held/goroutine=own"},
		{Name: "acks=alone/goroutine=own", AcksAlone: true},
		{Name: "acks=held/goroutine=default", DefaultDispatcher: true},
		{Name: "acks=alone/goroutine=default", AcksAlone: true, DefaultDispatcher: true},
	}
	for _, m := range modes {
		var pair *benchPair
		b.Run(m.Name, func(sb *testing.B) {
			if pair == nil {
				pair = startBenchPair(b, m)
			}
			pair.run(sb)
		})
		if pair != nil {
			pair.stop(b)
		}
	}
}

// benchMode is one sub-benchmark's settings, sent to the peer too.
type benchMode struct {
	Name              string `json:"name"`
	AcksAlone         bool   `json:"acks_alone,omitempty"`
	DefaultDispatcher bool   `json:"default_dispatcher,omitempty"`
}

// benchLine is a line between the benchmark and its peer process.
type benchLine struct {
	Mode *benchMode `json:"mode,omitempty"`
	Peer string     `json:"peer,omitempty"`
	Addr string     `json:"addr,omitempty"`
	Ref  string     `json:"ref,omitempty"`
	// CPU asks the peer for its process's CPU time so far, CPUNs.
	CPU   bool  `json:"cpu,omitempty"`
	CPUNs int64 `json:"cpu_ns,omitempty"`
	Done  bool  `json:"done,omitempty"`
}

// remoteConfigFor is the RemoteConfig of a mode, with taps that count
// frames out and in if given.
func remoteConfigFor(m benchMode, out, in *atomic.Int64) *actors.RemoteConfig {
	rc := &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true}
	if m.AcksAlone {
		actors.SendAcksAlone(rc)
	}
	if m.DefaultDispatcher {
		actors.DefaultDispatcher(rc)
	}
	if out != nil {
		actors.TapFrames(rc, func(*actor.PID, *wrapperspb.BytesValue) { out.Add(1) },
			func(*wrapperspb.BytesValue) { in.Add(1) })
	}
	return rc
}

// benchPair is kernel A in this process and its peer's process.
type benchPair struct {
	ctx      context.Context
	cancel   context.CancelFunc
	peer     *proctest.Child[benchLine]
	a        *actors.Kernel
	presence kernel.KRef
	out, in  atomic.Int64 // frames A sent, and was handed
	next     int64        // the next ping's number
}

func startBenchPair(b *testing.B, m benchMode) *benchPair {
	p := &benchPair{}
	p.ctx, p.cancel = context.WithTimeout(context.Background(), 10*time.Minute)
	p.peer = proctest.StartBenchmark[benchLine](b, p.ctx, remoteRoleEnv, "BenchmarkRemoteRoundTrip", "bench-peer")
	p.peer.Write(benchLine{Mode: &m})
	hello := p.peer.Read()
	var err error
	p.a, err = actors.Start(p.ctx, actors.Config{Registry: vat.NewRegistry(), CommitPolicy: persistence.Group,
		Remote: remoteConfigFor(m, &p.out, &p.in)})
	require.NoError(b, err)
	me, err := p.a.LocalPeer(p.ctx)
	require.NoError(b, err)
	toB, err := p.a.AddRemote(p.ctx, hello.Peer, hello.Addr)
	require.NoError(b, err)
	p.peer.Write(benchLine{Peer: me.ID, Addr: me.Address})
	p.presence, err = p.a.ImportFromRemote(p.ctx, toB, p.peer.Read().Ref)
	require.NoError(b, err)
	return p
}

// run times b.N round trips, one at a time. Besides the wall clock it
// reports the CPU both processes spent per round trip (cpu-us/rt), which
// moves less than the wall clock with the load others put on a shared
// machine.
func (p *benchPair) run(b *testing.B) {
	out0, in0 := p.out.Load(), p.in.Load()
	cpu0 := p.cpu(b)
	b.ResetTimer()
	began := time.Now()
	for range b.N {
		p.next++
		v, err := p.a.QueueMessage(p.ctx, p.presence, "ping", p.next)
		if err != nil || v != p.next {
			b.Fatalf("ping %d: %v, %v", p.next, v, err)
		}
	}
	took := time.Since(began)
	b.StopTimer()
	frames := p.out.Load() - out0 + p.in.Load() - in0
	b.ReportMetric(float64(b.N)/took.Seconds(), "rt/s")
	b.ReportMetric(float64(frames)/float64(b.N), "frames/rt")
	if cpu := p.cpu(b) - cpu0; cpu0 >= 0 && cpu >= 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/rt")
	}
}

// cpu is the CPU time both processes have used so far, or -1 if either
// cannot tell.
func (p *benchPair) cpu(b *testing.B) time.Duration {
	p.peer.Write(benchLine{CPU: true})
	peer := time.Duration(p.peer.Read().CPUNs)
	own := processCPU()
	if peer < 0 || own < 0 {
		return -1
	}
	return own + peer
}

// stop stops A, then tells the peer to stop and waits for its exit.
func (p *benchPair) stop(b *testing.B) {
	defer p.cancel()
	require.NoError(b, p.a.Stop(p.ctx))
	p.peer.Write(benchLine{Done: true})
	p.peer.Wait()
}

// benchPeer is kernel B, in its own process: it serves ping with a Go
// vat until the benchmark says it is done.
func benchPeer(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pipe := proctest.NewPipe[benchLine](b)
	m := pipe.Read().Mode
	require.NotNil(b, m)
	reg := vat.NewRegistry()
	reg.MustRegister("pong", func(vc *vat.Context) (any, error) {
		return vat.Far("pong", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"ping":      func(c *vat.Call) (any, error) { return c.Arg(0), nil },
		}), nil
	})
	k, err := actors.Start(ctx, actors.Config{Registry: reg, CommitPolicy: persistence.Group,
		Remote: remoteConfigFor(*m, nil, nil)})
	require.NoError(b, err)
	defer func() { require.NoError(b, k.Stop(context.WithoutCancel(ctx))) }()
	me, err := k.LocalPeer(ctx)
	require.NoError(b, err)
	pipe.Write(benchLine{Peer: me.ID, Addr: me.Address})
	a := pipe.Read()
	toA, err := k.AddRemote(ctx, a.Peer, a.Addr)
	require.NoError(b, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "pong",
		Vats: map[string]kernel.VatConfig{"pong": {Bundle: "pong"}}})
	require.NoError(b, err)
	ref, err := k.ExportToRemote(ctx, toA, res.RootKref)
	require.NoError(b, err)
	pipe.Write(benchLine{Ref: ref})
	for {
		l := pipe.Read()
		if l.Done {
			return
		}
		require.True(b, l.CPU, "a line the peer does not know: %+v", l)
		pipe.Write(benchLine{CPU: true, CPUNs: int64(processCPU())})
	}
}
