//go:build netns

// The partition tests need root and iproute2 (`ip`), which the README's
// test command does not: they build only with the netns tag, and CI runs
// them (.ci/run installs iproute2 when it is missing).

package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// netns puts each kernel in a network namespace of its own, with one
// veth pair from it to a bridge in a fourth namespace (the hub):
//
//	bank (10.99.0.1) --veth-- [hub: br0] --veth-- c1 (10.99.0.2)
//	                              |
//	                            veth-- c2 (10.99.0.3)
//
// Cutting a kernel takes its veth's hub end down: packets to and from it
// are dropped (no reset, no error: a partition, not a crash), and the
// hub end up again heals it. Nothing is created in the namespace the
// test runs in, so the addresses and interface names cannot collide with
// the machine's or another run's; the namespaces' names carry the
// conductor's pid and start time, so two runs never share one.
type netns struct {
	t      *testing.T
	prefix string            // kachaos-<pid>-<stamp>-
	ns     map[string]string // kernel name -> its namespace
	ip     map[string]string // kernel name -> its address
	hub    string            // the bridge's namespace
}

// nsPrefix starts the name of every namespace these tests make, so that
// leftovers of an earlier run that was killed can be found and removed.
const nsPrefix = "kachaos-"

// newNetns builds the network for one test and removes it at its end.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("chaos: %s creates network namespaces and veth pairs: it must run as root (uid 0), not uid %d", t.Name(), os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("chaos: %s needs iproute2's ip command on PATH (Debian: apt-get install iproute2): %v", t.Name(), err)
	}
	removeLeftovers(t)
	n := &netns{t: t, prefix: fmt.Sprintf("%s%d-%x-", nsPrefix, os.Getpid(), time.Now().UnixNano()&0xffffff),
		ns: map[string]string{}, ip: map[string]string{}}
	n.hub = n.prefix + "hub"
	// Registered before anything exists, so a failure half way removes
	// what was made. Deleting a namespace deletes its interfaces.
	t.Cleanup(func() {
		for _, ns := range append([]string{n.hub}, n.nsList()...) {
			if err := ipCmd("netns", "del", ns); err != nil && !strings.Contains(err.Error(), "No such file") {
				t.Errorf("chaos: remove namespace %s: %v", ns, err)
			}
		}
	})
	must := func(args ...string) {
		t.Helper()
		if err := ipCmd(args...); err != nil {
			t.Fatalf("chaos: set up the namespaces: %v", err)
		}
	}
	// A bridge, not a veth pair per link: a kernel has one address,
	// which every peer dials, and one port to cut, which partitions it
	// from all of them at once (the bank's cut isolates both clients).
	// A bridge made by ip has STP off: a port brought up forwards at
	// once.
	must("netns", "add", n.hub)
	must("-n", n.hub, "link", "add", "br0", "type", "bridge")
	must("-n", n.hub, "link", "set", "br0", "up")
	for i, name := range kernelNames {
		ns := n.prefix + name
		n.ns[name] = ns
		n.ip[name] = fmt.Sprintf("10.99.0.%d", i+1)
		must("netns", "add", ns)
		// Both ends are made where they live: no name in the test's own
		// namespace, even for a moment.
		must("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", name, "netns", n.hub)
		must("-n", n.hub, "link", "set", name, "master", "br0", "up")
		must("-n", ns, "addr", "add", n.ip[name]+"/24", "dev", "eth0")
		must("-n", ns, "link", "set", "eth0", "up")
		must("-n", ns, "link", "set", "lo", "up")
	}
	return n
}

func (n *netns) nsList() []string {
	var out []string
	for _, name := range kernelNames {
		if ns, ok := n.ns[name]; ok {
			out = append(out, ns)
		}
	}
	return out
}

func (n *netns) host(name string) string { return n.ip[name] }

func (n *netns) command(ctx context.Context, name string, argv []string) *exec.Cmd {
	// ip netns exec enters the namespace and execs argv: the process the
	// conductor kills is the kernel itself.
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.ns[name]}, argv...)...)
}

func (n *netns) cut(name string) error  { return ipCmd("-n", n.hub, "link", "set", name, "down") }
func (n *netns) heal(name string) error { return ipCmd("-n", n.hub, "link", "set", name, "up") }

// A namespace of a run whose conductor is gone is removed; one of a
// living conductor (this process) is left alone.
func TestRemoveLeftovers(t *testing.T) {
	n := newNetns(t) // the same needs, and a live run's namespaces
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	dead := fmt.Sprintf("%s%d-0-hub", nsPrefix, gone.Process.Pid)
	require.NoError(t, ipCmd("netns", "add", dead))
	t.Cleanup(func() { ipCmd("netns", "del", dead) })
	removeLeftovers(t)
	out, err := exec.Command("ip", "netns", "list").Output()
	require.NoError(t, err)
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	require.NotContains(t, names, dead, "the dead run's namespace is removed")
	require.Contains(t, names, n.hub, "the living run's namespaces stay")
}

// ipCmd runs ip with args; its output is the error's text.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// removeLeftovers deletes the namespaces of earlier runs whose conductor
// is gone (killed before its cleanup ran), and kills what still runs in
// them: kernel processes those runs started. A namespace of a conductor
// that is alive (another run, now) is left alone.
func removeLeftovers(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("chaos: ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], nsPrefix) {
			continue
		}
		ns := fields[0]
		parts := strings.Split(strings.TrimPrefix(ns, nsPrefix), "-")
		pid, err := strconv.Atoi(parts[0])
		if err != nil || len(parts) != 3 {
			continue // not a name these tests make
		}
		// Signal 0 asks only whether the pid exists. A pid reused since
		// by another process keeps its namespaces: they are removed by a
		// later run, never a living one's.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // its conductor lives
		}
		if pids, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(pids)) {
				if p, err := strconv.Atoi(f); err == nil {
					syscall.Kill(p, syscall.SIGKILL)
				}
			}
		}
		if err := ipCmd("netns", "del", ns); err != nil {
			t.Logf("chaos: leftover namespace %s: %v", ns, err)
		} else {
			t.Logf("chaos: removed leftover namespace %s of a run that was killed", ns)
		}
	}
}

// The same three kernels, each in a network namespace of its own joined
// to the others by a bridge (so the link is TLS between real addresses),
// with partitions: a kernel's link is cut for a while and healed, and
// sometimes a kernel is killed while a link is down.
func TestChaosNetns(t *testing.T) {
	if asKernel(t) {
		return
	}
	n := newNetns(t)
	p := plan{kills: 3, partitions: 3, window: window}
	if *flagLong {
		p.kills, p.partitions = 200, 50
	}
	if *flagKill >= 0 {
		p.kills = *flagKill
	}
	if *flagPart >= 0 {
		p.partitions = *flagPart
	}
	runChaos(t, "TestChaosNetns", n, p)
}
