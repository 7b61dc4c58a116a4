package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/remote/transport"
)

// The conductor: it starts the three kernels, relays their
// introductions, runs the schedule against their traffic, and at the end
// stops the traffic, heals everything, waits for every outbox to drain
// and collects the kernels' reports.

// stallAfter is how long the conductor waits for anything it expects
// (an answer, progress, a drain) before it fails the run as stuck.
const stallAfter = 90 * time.Second

// checkedCut is the shortest cut whose hold is checked: long enough for
// a link that was not cut to carry many times a window of deposits.
const checkedCut = 800 * time.Millisecond

// conductor is one run's state.
type conductor struct {
	t    *testing.T
	ctx  context.Context
	test string // the test function, which the kernel processes run
	dir  string
	net  network
	plan plan

	// events is every kernel process's stdout, merged: one goroutine
	// (the test's) handles them all, so the bookkeeping needs no lock.
	// quit stops the readers once the test is over.
	events chan procEvent
	quit   chan struct{}
	procs  map[string]*proc
	incs   map[string]int
	peers  map[string]peerAddr // where each kernel is now, and its key
	// presence is each client's kref for the bank, kept across its
	// restarts (its idempotency keys name the same target).
	presence map[string]string
	cutNow   map[string]bool

	// What the clients said was settled: client -> n -> the bank's answer.
	acked map[string]map[int64]int64
	// Figures.
	kills, moves, partitions int
	groups                   int // incarnations under group commit
	// portTaken counts restarts that asked for their old port and got
	// another (something took it meanwhile): still a restart, on a new
	// address.
	portTaken    int
	killsInCut   int // kills inside a partition
	cutsChecked  int // partitions whose hold was checked
	maxPending   int
	ackConflicts []string
}

func newConductor(ctx context.Context, t *testing.T, test string, net network, p plan) *conductor {
	c := &conductor{t: t, ctx: ctx, test: test, dir: t.TempDir(), net: net, plan: p,
		events: make(chan procEvent, 1024), quit: make(chan struct{}),
		procs: map[string]*proc{}, incs: map[string]int{}, peers: map[string]peerAddr{},
		presence: map[string]string{}, cutNow: map[string]bool{},
		acked: map[string]map[int64]int64{client1: {}, client2: {}}}
	// Whatever happens, no kernel outlives the test (registered after the
	// network's cleanup, so it runs before it).
	t.Cleanup(func() {
		close(c.quit)
		for _, p := range c.procs {
			if !p.ended {
				p.cmd.Process.Kill()
				p.reap()
			}
		}
	})
	return c
}

// start starts kernel name (a new incarnation) and waits until it listens.
func (c *conductor) start(name string, port int, group bool) {
	c.t.Helper()
	c.incs[name]++
	if group {
		c.groups++
	}
	p, err := startProc(c.ctx, c.net, c.test, c.dir, name, c.incs[name], port, group, c.events, c.quit)
	if err != nil {
		c.t.Fatal(err)
	}
	c.procs[name] = p
	// Its port is the one it got, which a restart on the same port asks
	// for again.
	ready := c.await(name, evReady)
	_, gotPort, err := transport.HostPort(ready.Addr)
	if err != nil {
		c.t.Fatal(err)
	}
	p.port = gotPort
	c.peers[name] = peerAddr{Name: name, Peer: ready.Peer, Addr: ready.Addr}
}

// send writes a command to kernel name.
func (c *conductor) send(name string, m msg) {
	c.t.Helper()
	if err := c.procs[name].send(m); err != nil {
		c.t.Fatal(err)
	}
}

// call sends a command and waits for its answer.
func (c *conductor) call(name string, m msg, answer string) msg {
	c.t.Helper()
	c.send(name, m)
	return c.await(name, answer)
}

// await handles events until the living incarnation of name says event.
func (c *conductor) await(name, event string) msg {
	c.t.Helper()
	var got msg
	c.pumpUntil(fmt.Sprintf("%s's %q", name, event), func(e procEvent) bool {
		if e.name == name && e.inc == c.incs[name] && e.m.Event == event {
			got = e.m
			return true
		}
		return false
	}, nil)
	return got
}

// pumpUntil handles events until done says so (for an event) or cond
// holds (checked after every event and every 50 ms), failing the run if
// neither happens within stallAfter.
func (c *conductor) pumpUntil(what string, done func(procEvent) bool, cond func() bool) {
	c.t.Helper()
	deadline := time.NewTimer(stallAfter)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// The tick re-checks cond when no event comes (a pause, a poll);
	// the deadline turns a hang of the protocol into a failure that says
	// where the run was.
	for {
		if cond != nil && cond() {
			return
		}
		select {
		case e := <-c.events:
			c.handle(e)
			if done != nil && done(e) {
				return
			}
		case <-tick.C:
		case <-deadline.C:
			c.t.Fatalf("chaos: stuck: no %s within %v; %s", what, stallAfter, c.state())
		}
	}
}

// pumpFor handles events for d: a pause the schedule asked for, during
// which traffic goes on (or waits in the outboxes).
func (c *conductor) pumpFor(d time.Duration) {
	c.t.Helper()
	end := time.Now().Add(d)
	c.pumpUntil("pause", nil, func() bool { return !time.Now().Before(end) })
}

// handle records what an event says, whoever it is from.
func (c *conductor) handle(e procEvent) {
	c.t.Helper()
	for _, line := range e.other {
		if strings.TrimSpace(line) != "" && line != "PASS" {
			c.t.Logf("kernel %s#%d: %s", e.name, e.inc, line)
		}
	}
	// The end of a kernel's stdout is expected after a kill or at the
	// end; any other end is the kernel failing (its own test failed or
	// it crashed). The end of an earlier incarnation is old news.
	if e.eof {
		p := c.procs[e.name]
		if e.inc == p.inc {
			p.ended = true
			if !p.expected {
				c.t.Fatalf("chaos: kernel %s#%d ended on its own (%v); %s", e.name, e.inc, e.err, c.state())
			}
		}
		return
	}
	switch e.m.Event {
	case evAcked:
		// A settled deposit: the client's kernel applied the bank's
		// answer, in a unit that is in SQLite (the host hears of a
		// settlement only after the flush). A deposit settled twice with
		// different answers ran twice.
		acks := c.acked[e.name]
		if prev, seen := acks[e.m.N]; seen && prev != e.m.Count {
			c.ackConflicts = append(c.ackConflicts, fmt.Sprintf("%s's deposit %d answered %d, then %d", e.name, e.m.N, prev, e.m.Count))
		}
		acks[e.m.N] = e.m.Count
	case evPending:
		// Each incarnation reports its own highs; the run's is the
		// highest of all.
		c.maxPending = max(c.maxPending, e.m.Pending)
	case evProblem:
		c.t.Fatalf("chaos: kernel %s#%d: %s", e.name, e.inc, e.m.Problem)
	}
}

// state is the run's state for a failure message.
func (c *conductor) state() string {
	return fmt.Sprintf("kills %d (moved %d, %d of them for want of the old port), partitions %d, acked c1 %d c2 %d, cut %v, max pending %d",
		c.kills, c.moves, c.portTaken, c.partitions, len(c.acked[client1]), len(c.acked[client2]), c.cutNow, c.maxPending)
}

// others are the peers of kernel name: the bank's are the clients, a
// client's is the bank.
func others(name string) []string {
	if name == bankName {
		return []string{client1, client2}
	}
	return []string{bankName}
}

// setUp starts the kernels and introduces each client to the bank: the
// bank and the client add each other as remotes (each pinning the
// other's key), the bank exports its root to the client, and the client
// imports it as a presence.
func (c *conductor) setUp(group map[string]bool) {
	c.t.Helper()
	for _, name := range kernelNames {
		c.start(name, 0, group[name])
	}
	c.tellPeers(bankName)
	for _, cl := range []string{client1, client2} {
		c.tellPeers(cl)
		ref := c.call(bankName, msg{Cmd: cmdExport, Peer: c.peers[cl].Peer}, evRef).Ref
		c.presence[cl] = c.call(cl, msg{Cmd: cmdImport, Peer: c.peers[bankName].Peer, Ref: ref}, evPresence).Presence
		c.run(cl)
	}
}

// tellPeers tells kernel name where its peers are now.
func (c *conductor) tellPeers(name string) {
	c.t.Helper()
	var ps []peerAddr
	for _, o := range others(name) {
		ps = append(ps, c.peers[o])
	}
	c.call(name, msg{Cmd: cmdPeers, Peers: ps}, evOK)
}

// run starts client cl's deposits from the first one it has not seen
// settled, skipping the later ones it has: a restarted client sends
// again, under the same idempotency keys, whatever its last incarnation
// may have queued.
func (c *conductor) run(cl string) {
	c.t.Helper()
	// The clients' answers are the bank's log lengths, never 0, so a
	// zero in the map is a deposit not acknowledged.
	acks := c.acked[cl]
	from := int64(1)
	for acks[from] != 0 {
		from++
	}
	var skip []int64
	for n := range acks {
		if n > from {
			skip = append(skip, n)
		}
	}
	c.call(cl, msg{Cmd: cmdRun, Presence: c.presence[cl], From: from, Skip: skip, Window: c.plan.window}, evOK)
}

// progress waits until each client has k more settled deposits than now.
func (c *conductor) progress(k int) {
	c.t.Helper()
	want := map[string]int{}
	for cl, acks := range c.acked {
		want[cl] = len(acks) + k
	}
	c.pumpUntil(fmt.Sprintf("progress of %d deposits a client", k), nil, func() bool {
		for cl, w := range want {
			if len(c.acked[cl]) < w {
				return false
			}
		}
		return true
	})
}

// kill kills kernel name, waits for its end, and restarts it on the same
// store after down, on its old port or a new one, durable or under group
// commit.
func (c *conductor) kill(name string, down time.Duration, newPort, group bool) {
	c.t.Helper()
	p := c.procs[name]
	if err := p.kill(); err != nil {
		c.t.Fatal(err)
	}
	// The lines it wrote before it died are read to the end first: an
	// acknowledgement among them is as good as any (its unit is in
	// SQLite), and the restart must not race its own file lock.
	c.pumpUntil(name+"'s end", nil, func() bool { return p.ended })
	p.reap() // killed: its exit status is the signal's
	c.kills++
	c.pumpFor(down)
	port := p.port
	if newPort {
		port = 0
	}
	old := c.peers[name].Addr
	c.start(name, port, group)
	// The restarted kernel learns where its peers are (one may have moved
	// while it was down); if it moved, its peers learn where it is now:
	// the same key at a new address is the same remote (AddRemote), and
	// each node's TLS pins follow.
	c.tellPeers(name)
	if c.peers[name].Addr != old {
		c.moves++
		if !newPort {
			c.portTaken++
			c.t.Logf("chaos: %s asked for its old address %s and got %s", name, old, c.peers[name].Addr)
		}
		for _, o := range others(name) {
			c.call(o, msg{Cmd: cmdPeers, Peers: []peerAddr{c.peers[name]}}, evOK)
		}
	}
	if name != bankName {
		c.run(name)
	}
}

// partition cuts kernel name off for hold (running a kill inside it if
// the step has one), then heals it.
func (c *conductor) partition(s step) {
	c.t.Helper()
	if err := c.net.cut(s.partition); err != nil {
		c.t.Fatal(err)
	}
	c.cutNow[s.partition] = true
	c.partitions++
	// The cut must hold. A client cut off from the bank can see settle
	// only deposits it had in flight, at most a window of them, whose
	// answers had reached it: new ones cannot reach the bank. Without the
	// cut its traffic would go on at a hundred a second or more. A status
	// call to the client first is a barrier: its answer comes after every
	// acknowledgement it wrote before, so what is counted from there on
	// settled at the earliest when the cut was already there, however
	// slowly a loaded machine moves the lines. Only cuts long enough to
	// tell are checked, and not those with a kill inside (a restarted
	// client reads settlements from its own store).
	var cutOff []string
	rest := s.hold
	if s.kill == "" && s.hold >= checkedCut {
		cutOff = others(bankName)
		if s.partition != bankName {
			cutOff = []string{s.partition}
		}
		began := time.Now()
		for _, cl := range cutOff {
			c.call(cl, msg{Cmd: cmdStatus}, evStatus)
		}
		rest -= time.Since(began)
	}
	before := map[string]int{}
	for _, cl := range cutOff {
		before[cl] = len(c.acked[cl])
	}
	c.pumpFor(rest / 2)
	if s.kill != "" {
		c.killsInCut++
		c.kill(s.kill, s.down, s.newPort, s.group)
	}
	c.pumpFor(rest - rest/2)
	if len(cutOff) > 0 {
		c.cutsChecked++
	}
	for _, cl := range cutOff {
		if got := len(c.acked[cl]) - before[cl]; got > c.plan.window {
			c.t.Fatalf("chaos: %s saw %d deposits settle while %s was cut off, more than its window of %d: the partition did not hold",
				cl, got, s.partition, c.plan.window)
		}
	}
	if err := c.net.heal(s.partition); err != nil {
		c.t.Fatal(err)
	}
	delete(c.cutNow, s.partition)
}

// finish stops the traffic, waits until nothing is unsettled and every
// outbox is empty, and collects each kernel's report; each kernel then
// exits, and its own test must pass.
func (c *conductor) finish() map[string]*report {
	c.t.Helper()
	// Heal first: the drain below needs every link (a run never ends
	// with one cut, but a failure path might).
	for name := range c.cutNow {
		if err := c.net.heal(name); err != nil {
			c.t.Fatal(err)
		}
		delete(c.cutNow, name)
	}
	// After the stop's answer a client sends no new deposit, so the
	// counts below can only fall.
	for _, cl := range []string{client1, client2} {
		c.call(cl, msg{Cmd: cmdStop}, evOK)
	}
	// Poll every kernel until the traffic has drained: no client awaits
	// a deposit, no outbox holds a message.
	drained := func() bool {
		for _, name := range kernelNames {
			st := c.call(name, msg{Cmd: cmdStatus}, evStatus).Status
			if st.Pending != 0 || st.Unsettled != 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(stallAfter)
	for !drained() {
		if time.Now().After(deadline) {
			c.t.Fatalf("chaos: the outboxes did not drain within %v; %s", stallAfter, c.state())
		}
		c.pumpFor(100 * time.Millisecond)
	}
	reports := map[string]*report{}
	for _, name := range kernelNames {
		reports[name] = c.call(name, msg{Cmd: cmdReport}, evReport).Report
	}
	for _, name := range kernelNames {
		p := c.procs[name]
		p.expected = true
		p.in.Close() // the kernel stops its node and its test ends
		c.pumpUntil(name+"'s exit", nil, func() bool { return p.ended })
		if err := p.reap(); err != nil {
			c.t.Errorf("chaos: kernel %s's own test failed: %v", name, err)
		}
	}
	return reports
}
