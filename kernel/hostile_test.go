package kernel_test

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// newDriver is kt.New with a kernel built from cfg (its Store and Logger
// are filled in) whose log the test can read.
func newDriver(t *testing.T, cfg kernel.Config) (*kt.Driver, *bytes.Buffer) {
	t.Helper()
	d := kt.New(t)
	var log bytes.Buffer
	cfg.Store = d.Store
	cfg.Logger = zerolog.New(&log)
	k, err := kernel.New(cfg)
	require.NoError(t, err)
	d.K = k
	return d, &log
}

// Invariant 14: a vat that hands the kernel CapData that the receiver
// could not decode, or that pins an object nobody can see, is the one at
// fault. bob decides a promise alice awaits; then, in another delivery, he
// hands the kernel bad data: as that promise's resolution, as a send's
// arguments, or as his exit reason. bob is terminated with
// VAT_FATAL:ILLEGAL_SYSCALL, the refused syscall has changed nothing even
// inside the delivery, alice never meets the bad data, hears that bob's
// promise was rejected with VAT_TERMINATED, and goes on working.
func TestBadCapDataIsTheSendersFault(t *testing.T) {
	type bad func(c *kt.Call, kept, alice kernel.VRef)
	resolve := func(rejected bool, data func(c *kt.Call) marshal.CapData) bad {
		return func(c *kt.Call, kept, _ kernel.VRef) { c.Resolve(kept, rejected, data(c)) }
	}
	send := func(data func(c *kt.Call) marshal.CapData) bad {
		return func(c *kt.Call, _, alice kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: alice,
				Message: kernel.VatMessage{Methargs: data(c), Result: c.NewExport(true)}})
		}
	}
	exit := func(data func(c *kt.Call) marshal.CapData) bad {
		return func(c *kt.Call, _, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallExit, Info: data(c)})
		}
	}
	garbage := func(*kt.Call) marshal.CapData { return marshal.CapData{Body: "garbage{{"} }
	// A new export in the slots: had the kernel translated the slots
	// before checking the body, it would have made a kernel object for it.
	missingSlot := func(c *kt.Call) marshal.CapData {
		return marshal.CapData{Body: `#"$1.Alleged: thing"`, Slots: []string{string(c.NewExport(false))}}
	}
	unnamedSlot := func(c *kt.Call) marshal.CapData {
		return marshal.CapData{Body: `#null`, Slots: []string{string(c.NewExport(false))}}
	}
	msg := func(body string) func(c *kt.Call) marshal.CapData {
		return func(c *kt.Call) marshal.CapData {
			return marshal.CapData{Body: body, Slots: []string{string(c.NewExport(false))}}
		}
	}
	tests := []struct {
		name    string
		bad     bad
		wantLog string
	}{
		{"resolve with garbage", resolve(false, garbage), "not smallcaps"},
		{"reject with garbage", resolve(true, garbage), "not smallcaps"},
		{"resolve naming a missing slot", resolve(false, missingSlot), "out of range"},
		{"resolve with an unnamed slot", resolve(false, unnamedSlot), "is not named by the body"},
		{"send garbage", send(garbage), "send methargs"},
		{"send naming a missing slot", send(msg(`#["m",["$1"]]`)), "out of range"},
		{"send with an unnamed slot", send(msg(`#["m",[]]`)), "is not named by the body"},
		{"send a non-message", send(msg(`#["$0.Alleged: thing",[]]`)), "message method is not a string"},
		{"exit with garbage", exit(garbage), "exit info"},
		{"exit with an unnamed slot", exit(unnamedSlot), "is not named by the body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, log := newDriver(t, kernel.Config{})
			res := d.Launch("alice", "alice", "bob")
			alice, bob := d.Vat("alice"), d.Vat("bob")
			bobID := res.VatIDs["bob"]

			// alice asks bob for something; bob keeps the answer pending.
			var kept kernel.VRef
			bob.OnMethod["keep"] = func(c *kt.Call) error { kept = c.Result(); return nil }
			alice.OnMethod["ask"] = func(c *kt.Call) error {
				c.Subscribe(c.Send(c.Slot(0), "keep"))
				c.Fulfill(c.Result(), kt.Undefined)
				return nil
			}
			d.Send(res.Roots["alice"], "ask", res.Roots["bob"])
			d.RunUntilQuiescent(0)
			require.NotEmpty(t, kept)

			bob.OnMethod["go"] = func(c *kt.Call) error {
				objects, promises, queued := d.Store.ObjectCount(), d.Store.PromiseCount(), d.Store.QueueLen()
				tt.bad(c, kept, c.Slot(0))
				require.ErrorIs(t, c.Err, kernel.ErrIllegalSyscall)
				require.Equal(t, objects, d.Store.ObjectCount(), "the refused syscall made no object")
				require.Equal(t, promises, d.Store.PromiseCount(), "nor a promise")
				require.Equal(t, queued, d.Store.QueueLen(), "nor a queue item")
				return nil
			}
			seen := len(alice.Deliveries)
			p := d.Send(res.Roots["bob"], "go", res.Roots["alice"])
			r := d.Crank()
			require.Equal(t, kernel.Aborted, r.Outcome)
			require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
			require.Equal(t, []kernel.VatID{bobID}, r.Terminated)
			require.ErrorIs(t, d.ResultErr(p), kernel.ErrIllegalSyscall)
			require.Contains(t, log.String(), tt.wantLog, "the log says what was wrong")
			info, err := d.K.Vat(bobID)
			require.NoError(t, err)
			require.False(t, info.Active)

			d.RunUntilQuiescent(0)
			later := alice.Deliveries[seen:]
			require.Len(t, later, 1, "alice hears of bob's promise and of nothing else")
			require.Equal(t, kernel.DeliverNotify, later[0].Kind)
			require.Len(t, later[0].Resolutions, 1)
			got := later[0].Resolutions[0]
			require.True(t, got.Rejected)
			require.ErrorIs(t, kernel.ErrorFromRejection(got.Data), kernel.ErrVatTerminated)

			q := d.Send(res.Roots["alice"], "still there?")
			d.RunUntilQuiescent(0)
			require.NoError(t, d.ResultErr(q), "alice lives on")
		})
	}
}

// The host is held to the same rule: QueueMessage refuses methargs that
// are not a valid message, with an error that says so (errors.Is with
// kernel.ErrBadMessage and marshal.ErrMalformed), and creates nothing.
func TestQueueMessageRefusesMalformedMethargs(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	root := res.Roots["alice"]
	tests := []struct {
		name string
		data marshal.CapData
		want string
	}{
		{"garbage", marshal.CapData{Body: "garbage{{"}, "not smallcaps"},
		{"bad JSON", marshal.CapData{Body: `#["m",[}`}, "not JSON"},
		{"a missing slot", marshal.CapData{Body: `#["m",["$0"]]`}, "out of range"},
		{"an unnamed slot", marshal.CapData{Body: `#["m",[]]`, Slots: []string{string(res.Roots["bob"])}}, "is not named by the body"},
		{"not [method, args]", marshal.CapData{Body: `#"m"`}, "message is not an array"},
		{"args not an array", marshal.CapData{Body: `#["m",1]`}, "args are not an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			promises, queued := d.Store.PromiseCount(), d.Store.QueueLen()
			next := d.Store.PeekID(persistence.MetaNextPromise)
			kpid, out, err := d.K.QueueMessage(d.Ctx, root, tt.data)
			require.ErrorIs(t, err, kernel.ErrBadMessage)
			require.ErrorIs(t, err, marshal.ErrMalformed)
			require.ErrorContains(t, err, tt.want)
			require.Empty(t, kpid)
			require.Empty(t, out)
			require.Equal(t, promises, d.Store.PromiseCount())
			require.Equal(t, queued, d.Store.QueueLen())
			require.Equal(t, next, d.Store.PeekID(persistence.MetaNextPromise), "no promise id was used")
			d.AuditNow("refused QueueMessage")
		})
	}
	// A good message still goes.
	p := d.Send(root, "hello", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p))
}
