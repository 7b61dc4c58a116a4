package kernel_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

func sendOnce(t *testing.T, d *kt.Driver, key string, target kernel.KRef, method string) (kernel.KRef, bool) {
	t.Helper()
	kpid, dup, out, err := d.K.QueueMessageOnce(d.Ctx, key, target, kt.Methargs(method))
	require.NoError(t, err)
	d.Released = append(d.Released, out...)
	d.AuditNow("send once")
	return kpid, dup
}

// A retry with the same key queues nothing and answers with the first
// send's promise, before and after it settles; the vat is delivered the
// message once.
func TestQueueMessageOnceAppliesOnce(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("bank", "bank")
	deposits := 0
	d.Vat("bank").OnMethod["deposit"] = func(c *kt.Call) error {
		deposits++
		c.Fulfill(c.Result(), kt.Str(fmt.Sprint(deposits)))
		return nil
	}
	root := res.Roots["bank"]
	first, dup := sendOnce(t, d, "req-1", root, "deposit")
	require.False(t, dup)
	again, dup := sendOnce(t, d, "req-1", root, "deposit")
	require.True(t, dup)
	require.Equal(t, first, again)
	require.Equal(t, 1, d.Store.QueueLen(), "queued once")
	_, settled := d.K.SettledOutput(first)
	require.False(t, settled)

	d.RunUntilQuiescent(0)
	require.Equal(t, 1, deposits)
	again, dup = sendOnce(t, d, "req-1", root, "deposit")
	require.True(t, dup)
	require.Equal(t, first, again)
	o, settled := d.K.SettledOutput(first)
	require.True(t, settled, "the result stays readable: the record holds it")
	require.Equal(t, kt.Str("1"), o.Value)
	require.Zero(t, d.Store.QueueLen())
	d.RunUntilQuiescent(0)
	require.Equal(t, 1, deposits, "still once")

	other, dup := sendOnce(t, d, "req-2", root, "deposit")
	require.False(t, dup, "another key is another send")
	require.NotEqual(t, first, other)
}

// The same key with another message is refused, and a bad key is refused;
// neither queues anything.
func TestQueueMessageOnceRefusals(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	root := res.Roots["a"]
	sendOnce(t, d, "k", root, "one")
	_, _, _, err := d.K.QueueMessageOnce(d.Ctx, "k", root, kt.Methargs("two"))
	require.ErrorIs(t, err, kernel.ErrIdempotencyKeyReused)
	for _, key := range []string{"", strings.Repeat("x", kernel.MaxIdempotencyKeyLen+1), "bad\xff"} {
		_, _, _, err = d.K.QueueMessageOnce(d.Ctx, key, root, kt.Methargs("one"))
		require.ErrorIs(t, err, kernel.ErrBadIdempotencyKey, "%q", key)
	}
	_, _, _, err = d.K.QueueMessageOnce(d.Ctx, "k2", "ko999", kt.Methargs("one"))
	require.ErrorIs(t, err, kernel.ErrUnknownRef)
	require.Equal(t, 1, d.Store.QueueLen())
	require.Equal(t, 1, d.Store.IdempotencyCount())
}

// A kernel rejection read back for a retry is still the kernel's word
// (errors.Is works); a vat's rejection that forges a kernel code is not.
func TestSettledOutputKeepsWhoSettled(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a", "b")
	d.Vat("b").OnMethod["forge"] = func(c *kt.Call) error {
		c.Resolve(c.Result(), true, marshal.EncodeError("Error", "[KERNEL:OBJECT_DELETED] not really"))
		return nil
	}
	forged, _ := sendOnce(t, d, "forged", res.Roots["b"], "forge")
	splat, _ := sendOnce(t, d, "splat", res.Roots["a"], "hello") // queued, then its vat goes
	d.Terminate(res.VatIDs["a"])
	d.RunUntilQuiescent(0)
	o, ok := d.K.SettledOutput(forged)
	require.True(t, ok)
	require.NotErrorIs(t, o.Err(), kernel.ErrObjectDeleted)
	o, ok = d.K.SettledOutput(splat)
	require.True(t, ok)
	require.ErrorIs(t, o.Err(), kernel.ErrObjectDeleted)
}

// The key commits with the message: after a kernel restart the retry finds
// it, and, since the dead process's subscription was let go, is
// subscribed again, so the settlement reaches the host.
func TestQueueMessageOnceAcrossRestart(t *testing.T) {
	d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{})
	res := d.Launch("a", "a")
	calls := 0
	d.Vat("a").OnMethod["work"] = func(c *kt.Call) error {
		calls++
		c.Fulfill(c.Result(), kt.Str("done"))
		return nil
	}
	first, _ := sendOnce(t, d, "job-7", res.Roots["a"], "work")
	d.Reopen() // the reply was never seen; the message is still queued
	p, _ := d.Store.Promise(string(first))
	require.False(t, p.HostSubscribed, "the old process's subscription went with it")
	again, dup := sendOnce(t, d, "job-7", res.Roots["a"], "work")
	require.True(t, dup)
	require.Equal(t, first, again)
	d.RunUntilQuiescent(0)
	require.Equal(t, 1, calls)
	var released bool
	for _, o := range d.Released {
		released = released || (o.KPID == first && !o.Rejected)
	}
	require.True(t, released, "the retry's subscription was answered")
}

// The kernel keeps the newest MaxIdempotencyKeys keys: older settled keys
// are forgotten (a retry of one is a new send), an unsettled one is kept.
func TestIdempotencyKeysAreBounded(t *testing.T) {
	d := kt.New(t)
	k, err := kernel.New(kernel.Config{Store: d.Store, MaxIdempotencyKeys: 8})
	require.NoError(t, err)
	d.K = k
	res := d.Launch("a", "a")
	d.Vat("a").OnMethod["hang"] = func(c *kt.Call) error { return nil }
	hung, _ := sendOnce(t, d, "hung", res.Roots["a"], "hang")
	d.RunUntilQuiescent(0)
	for i := range 40 {
		sendOnce(t, d, fmt.Sprint("k", i), res.Roots["a"], "work")
		d.RunUntilQuiescent(0)
		require.LessOrEqual(t, d.Store.IdempotencyCount(), 9)
	}
	_, ok := d.Store.Idempotency("hung")
	require.True(t, ok, "unsettled: kept")
	_, ok = d.Store.Idempotency("k39")
	require.True(t, ok, "the newest are kept")
	_, dup := sendOnce(t, d, "k0", res.Roots["a"], "work")
	require.False(t, dup, "the oldest was forgotten")
	again, dup := sendOnce(t, d, "hung", res.Roots["a"], "hang")
	require.True(t, dup)
	require.Equal(t, hung, again)
}

// A send to a promise a vat rejected splats with that same rejection, and
// it stays the vat's word: a forged kernel code in it does not pass for
// the kernel's (found by the simulation); a send to a promise the kernel
// rejected carries the kernel's word.
func TestSplatOfARejectedPromiseKeepsItsAuthor(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a", "b")
	d.Vat("b").OnMethod["forge"] = func(c *kt.Call) error {
		c.Resolve(c.Result(), true, marshal.EncodeError("Error", "[KERNEL:BAD_PROMISE_RESOLUTION] not really"))
		return nil
	}
	forged := d.Send(res.Roots["b"], "forge")
	onForged := d.Send(forged, "use") // waits on forged, then splats with its rejection
	d.RunUntilQuiescent(0)
	err := d.ResultErr(onForged)
	require.NotErrorIs(t, err, kernel.ErrBadPromiseResolution, "the vat's word, relayed")
	require.True(t, kernel.Carries(err, kernel.ErrBadPromiseResolution))
	o, _ := d.K.SettledOutput(onForged)
	require.False(t, o.ByKernel)

	d.Vat("a").OnMethod["hang"] = func(c *kt.Call) error { return nil }
	dead := d.Send(res.Roots["a"], "hang")
	onDead := d.Send(dead, "use")
	d.RunUntilQuiescent(0) // a now decides dead
	d.Terminate(res.VatIDs["a"])
	d.RunUntilQuiescent(0)
	require.ErrorIs(t, d.ResultErr(dead), kernel.ErrVatTerminated)
	require.ErrorIs(t, d.ResultErr(onDead), kernel.ErrVatTerminated, "the kernel's word, relayed by the kernel")
}
