package kernel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// Invariant 14, the flood: at the default limits, a vat that queues 1e5
// sends in one delivery is stopped at the send past the limit, as its own
// fault. Its delivery is rolled back, so none of its sends is left, and
// the request another vat was queued behind it is answered.
func TestFloodingDeliveryIsStopped(t *testing.T) {
	d, log := newDriver(t, kernel.Config{})
	res := d.Launch("flooder", "flooder", "bob")
	bob := d.Vat("bob")
	refused := 0
	d.Vat("flooder").OnMethod["flood"] = func(c *kt.Call) error {
		for i := 0; i < 100_000; i++ {
			c.Send(c.Slot(0), "spam")
			if c.Err != nil {
				refused++
			}
		}
		return nil
	}
	promises := d.Store.PromiseCount()
	p := d.Send(res.Roots["flooder"], "flood", res.Roots["bob"])
	behind := d.Send(res.Roots["bob"], "are you there?")
	r := d.Crank()
	require.Equal(t, kernel.Aborted, r.Outcome)
	require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
	require.Equal(t, []kernel.VatID{res.VatIDs["flooder"]}, r.Terminated)
	require.Equal(t, 100_000-kernel.DefaultMaxDeliverySends, refused, "every send past the limit is refused")
	require.Contains(t, log.String(), fmt.Sprintf("Config.MaxDeliverySends = %d", kernel.DefaultMaxDeliverySends),
		"the log names the limit and its setting")
	require.ErrorIs(t, d.ResultErr(p), kernel.ErrIllegalSyscall)
	// Rolled back: the flood's item (to splat on retry) and bob's request
	// are all that is queued; the flood made no promise.
	require.Equal(t, 2, d.Store.QueueLen())
	require.Equal(t, promises+2, d.Store.PromiseCount(), "only the host's two result promises")

	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(behind), "bob answers the request queued behind the flood")
	for _, dv := range bob.Deliveries {
		require.NotEqual(t, "spam", kt.MethodOf(dv.Message.Methargs), "no spam reached bob")
	}
	q := d.Send(res.Roots["bob"], "still there?")
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(q))
}

// Each limit ends the delivery at the syscall that crosses it, and not
// before: a delivery at the limit commits, one past it is an illegal
// syscall whose detail names the limit and its setting. NoLimit turns a
// limit off.
func TestDeliveryLimits(t *testing.T) {
	sends := func(n int) func(c *kt.Call) {
		return func(c *kt.Call) {
			for i := 0; i < n; i++ {
				c.Send(kernel.RootVRef, "x")
			}
		}
	}
	gets := func(n int) func(c *kt.Call) {
		return func(c *kt.Call) {
			for i := 0; i < n; i++ {
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: "k"})
			}
		}
	}
	// set hands the kernel exactly n bytes: the key "k" and n-1 bytes of
	// value.
	set := func(n int) func(c *kt.Call) {
		return func(c *kt.Call) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "k", Value: strings.Repeat("v", n-1)})
		}
	}
	// Each delivery ends by fulfilling its result: one more syscall, and
	// resultBytes more bytes.
	tests := []struct {
		name    string
		cfg     kernel.Config
		do      func(c *kt.Call)
		fail    bool
		wantLog string
	}{
		{"sends at the limit", kernel.Config{MaxDeliverySends: 5}, sends(5), false, ""},
		{"sends past the limit", kernel.Config{MaxDeliverySends: 5}, sends(6), true, "Config.MaxDeliverySends = 5"},
		{"sends unlimited", kernel.Config{MaxDeliverySends: kernel.NoLimit}, sends(kernel.DefaultMaxDeliverySends + 1), false, ""},
		{"syscalls at the limit", kernel.Config{MaxDeliverySyscalls: 21}, gets(20), false, ""},
		{"syscalls past the limit", kernel.Config{MaxDeliverySyscalls: 20}, gets(20), true, "Config.MaxDeliverySyscalls = 20"},
		{"syscalls unlimited", kernel.Config{MaxDeliverySyscalls: kernel.NoLimit}, gets(100), false, ""},
		{"bytes at the limit", kernel.Config{MaxVatstoreKey: 1, MaxVatstoreValue: 999, MaxDeliveryBytes: 1000 + resultBytes}, set(1000), false, ""},
		{"bytes past the limit", kernel.Config{MaxVatstoreKey: 1, MaxVatstoreValue: 999, MaxDeliveryBytes: 1000}, set(1000), true, "Config.MaxDeliveryBytes = 1000"},
		{"bytes of sends count", kernel.Config{MaxDeliveryBytes: DefaultEntry()}, func(c *kt.Call) {
			big := marshal.EncodeString(strings.Repeat("b", 1<<20))
			for i := 0; i < 17; i++ {
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: kernel.RootVRef,
					Message: kernel.VatMessage{Methargs: marshal.CapData{Body: `#["x",[` + big.Body[1:] + `]]`}}})
			}
		}, true, "Config.MaxDeliveryBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, log := newDriver(t, tt.cfg)
			d.Audit = false // the unlimited cases queue thousands of sends
			res := d.Launch("a", "a")
			var err error
			d.Vat("a").OnMethod["go"] = func(c *kt.Call) error {
				tt.do(c)
				c.Fulfill(c.Result(), kt.Undefined)
				err = c.Err
				return nil
			}
			p := d.Send(res.Roots["a"], "go")
			r := d.Crank()
			if !tt.fail {
				require.NoError(t, err)
				require.Equal(t, kernel.Committed, r.Outcome)
				require.NoError(t, d.ResultErr(p))
				d.AuditNow("a delivery within its limits")
				return
			}
			require.ErrorIs(t, err, kernel.ErrIllegalSyscall)
			require.Equal(t, kernel.Aborted, r.Outcome)
			require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
			require.Contains(t, log.String(), tt.wantLog)
			d.AuditNow("a delivery past its limit")
		})
	}
}

// resultBytes is what fulfilling the "go" message's result hands the
// kernel: its vpid and the body of undefined.
var resultBytes = len("p-1") + len(kt.Undefined.Body)

// DefaultEntry is the bytes of one vatstore entry of the largest default
// size: the smallest MaxDeliveryBytes the default vatstore limits allow.
func DefaultEntry() int { return kernel.DefaultMaxVatstoreKey + kernel.DefaultMaxVatstoreValue }

// Config.validate names the bad field, and fills in the defaults.
func TestLimitConfig(t *testing.T) {
	tests := []struct {
		cfg  kernel.Config
		want string
	}{
		{kernel.Config{MaxDeliverySends: -2}, "Config.MaxDeliverySends: -2"},
		{kernel.Config{MaxDeliverySyscalls: -7}, "Config.MaxDeliverySyscalls: -7"},
		{kernel.Config{MaxDeliveryBytes: -100}, "Config.MaxDeliveryBytes: -100"},
		{kernel.Config{MaxDeliveryBytes: 1000}, "Config.MaxDeliveryBytes: 1000 is less than one vatstore entry"},
		{kernel.Config{MaxVatstoreKey: 10, MaxVatstoreValue: 100, MaxDeliveryBytes: 109}, "Config.MaxDeliveryBytes: 109"},
		{kernel.Config{MaxVatstoreKey: -1}, "Config.MaxVatstoreKey: -1"},
		{kernel.Config{MaxVatstoreValue: -1}, "Config.MaxVatstoreValue: -1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			st, err := sqlitestore.Open(t.Context(), "", persistence.Options{})
			require.NoError(t, err)
			defer st.Close(t.Context())
			tt.cfg.Store = st
			_, err = kernel.New(tt.cfg)
			require.ErrorIs(t, err, kernel.ErrBadConfig)
			require.ErrorContains(t, err, tt.want)
		})
	}
	st, err := sqlitestore.Open(t.Context(), "", persistence.Options{})
	require.NoError(t, err)
	defer st.Close(t.Context())
	_, err = kernel.New(kernel.Config{Store: st, MaxVatstoreKey: 10, MaxVatstoreValue: 100, MaxDeliveryBytes: 110,
		MaxDeliverySends: kernel.NoLimit, MaxDeliverySyscalls: 1})
	require.NoError(t, err)
}

// startVat tells the vat the kernel's vatstore limits, so that its
// liveslots can refuse an over-limit write to vat code.
func TestStartVatCarriesLimits(t *testing.T) {
	d := kt.New(t)
	d.Launch("a", "a")
	start := d.Vat("a").Deliveries[0]
	require.Equal(t, kernel.DeliverStartVat, start.Kind)
	require.Equal(t, kernel.DefaultMaxVatstoreKey, start.Limits.MaxVatstoreKey)
	require.Equal(t, kernel.DefaultMaxVatstoreValue, start.Limits.MaxVatstoreValue)

	d, _ = newDriver(t, kernel.Config{MaxVatstoreKey: 100, MaxVatstoreValue: 1000})
	d.Launch("a", "a")
	start = d.Vat("a").Deliveries[0]
	require.Equal(t, 100, start.Limits.MaxVatstoreKey)
	require.Equal(t, 1000, start.Limits.MaxVatstoreValue)
}
