package transport

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

func out(kp string, body string) kernel.Output {
	return kernel.Output{KPID: kernel.KRef(kp), Value: marshal.CapData{Body: body}}
}

// A result is handed out once, and a host that takes each result keeps
// nothing, however many it takes: a bench's hundred thousand round trips
// once left a hundred thousand entries behind.
func TestResultsTakenOnceAndForgotten(t *testing.T) {
	r := newResults(8)
	for i := range 100_000 {
		kp := fmt.Sprintf("kp%d", i+1)
		r.put(out(kp, "#1"))
		o, ok := r.take(kernel.KRef(kp))
		require.True(t, ok)
		require.Equal(t, kernel.KRef(kp), o.KPID)
		_, ok = r.take(kernel.KRef(kp))
		require.False(t, ok, "taken once")
	}
	require.Zero(t, r.len())
	require.LessOrEqual(t, len(r.order), 2*r.len()+65, "the release order is compacted")
	require.Zero(t, r.dropped)
}

// Results nobody waits for are kept up to the bound, the newest ones; the
// oldest beyond it are dropped, and the memory stays bounded.
func TestResultsUnreadAreBounded(t *testing.T) {
	r := newResults(3)
	for i := 1; i <= 1000; i++ {
		r.put(out(fmt.Sprintf("kp%d", i), "#1"))
		require.LessOrEqual(t, r.len(), 3)
		require.LessOrEqual(t, len(r.order), 2*3+65)
	}
	require.Equal(t, uint64(997), r.dropped)
	for i := 1; i <= 997; i++ {
		_, ok := r.take(kernel.KRef(fmt.Sprintf("kp%d", i)))
		require.False(t, ok, "kp%d was dropped", i)
	}
	for i := 998; i <= 1000; i++ {
		_, ok := r.take(kernel.KRef(fmt.Sprintf("kp%d", i)))
		require.True(t, ok, "kp%d, among the newest, was kept", i)
	}
}

// The first Output of a promise is the host's answer: a later one while
// the first is unread does not replace it. A result taken and released
// again (a later Output) takes its new place in the order, and the old
// place does not drop it.
func TestResultsFirstOutputWins(t *testing.T) {
	r := newResults(2)
	r.put(out("kp1", "#1"))
	r.put(out("kp1", "#2"))
	o, ok := r.take("kp1")
	require.True(t, ok)
	require.Equal(t, "#1", o.Value.Body)

	r.put(out("kp2", "#2"))
	r.put(out("kp1", "#3")) // kp1 again, after kp2
	r.put(out("kp3", "#4")) // drops the oldest unread: kp2, not kp1
	_, ok = r.take("kp2")
	require.False(t, ok)
	o, ok = r.take("kp1")
	require.True(t, ok)
	require.Equal(t, "#3", o.Value.Body)
}

// On a node: a Wait takes its result, a second Wait for it waits until
// its context ends, a Wait that gave up does not swallow the result, and
// deposits nobody waits for are kept up to Config.MaxUnread.
func TestNodeWaitHandsOutOnce(t *testing.T) {
	id, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	n, err := Start(context.Background(), Config{Identity: id, Host: "127.0.0.1", InsecureLoopback: true,
		Kernel: d.K, Deliverer: d, ResendEvery: 50 * time.Millisecond, MaxUnread: 2})
	require.NoError(t, err)
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := &peerKernel{d: d, id: id, node: n}
	root := launchBank(t, p)
	ctx := context.Background()

	// A Wait that gives up before the answer: the answer is not lost
	// with it (the bank holds "later" until "answer").
	v := d.Vat("bank")
	var held kernel.VRef
	v.OnMethod["later"] = func(c *kt.Call) error { held = c.Result(); return nil }
	v.OnMethod["answer"] = func(c *kt.Call) error {
		c.Fulfill(held, kt.Ref(string(kernel.RootVRef)))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	kp := send(t, p, root, "later")
	gone, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = n.Wait(gone, kp)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = n.Wait(ctx, send(t, p, root, "answer"))
	require.NoError(t, err)
	o, err := n.Wait(ctx, kp)
	require.NoError(t, err, "the Wait that gave up did not take the answer")
	require.False(t, o.Rejected)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = n.Wait(short, kp)
	require.ErrorIs(t, err, context.DeadlineExceeded, "handed out once")

	// Four deposits, none waited for, then a fifth waited for: its answer
	// comes after the others' (one vat, in order), so by then the four
	// were released, and only the newest are kept (two, or one if the
	// fifth's was kept too before its Wait took it).
	var kps []kernel.KRef
	for i := int64(2); i <= 5; i++ {
		kps = append(kps, deposit(t, p, root, i))
	}
	last := deposit(t, p, root, 6)
	o, err = n.Wait(ctx, last)
	require.NoError(t, err)
	require.Equal(t, "#20", o.Value.Body)
	n.mu.Lock()
	unread, dropped := n.mu.results.len(), n.mu.results.dropped
	n.mu.Unlock()
	require.LessOrEqual(t, unread, 2)
	require.GreaterOrEqual(t, dropped, uint64(2))
	o, err = n.Wait(ctx, kps[3])
	require.NoError(t, err, "the newest unread is kept")
	require.Equal(t, "#14", o.Value.Body)
	for _, kp := range kps[:2] {
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := n.Wait(short, kp)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "the oldest unread were dropped")
	}
}

// send sends method() from p's host to target and returns the result.
func send(t *testing.T, p *peerKernel, target kernel.KRef, method string) kernel.KRef {
	t.Helper()
	var kp kernel.KRef
	require.NoError(t, p.node.DoOut(context.Background(), func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		var err error
		kp, out, err = k.QueueMessage(context.Background(), target, kt.Methargs(method))
		return out, err
	}))
	return kp
}
