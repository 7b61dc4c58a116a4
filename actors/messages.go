package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The kernel actor's messages. The set is closed: each has the unexported
// marker method.
type message interface{ kernelMessage() }

// runCrank runs exactly one crank (one delivery per actor
// message). The kernel sends itself the next one while work remains, so
// host requests and supervision signals are handled between cranks.
type runCrank struct{}

// flushTick asks for a group commit whose interval has passed.
type flushTick struct{}

// restartDue restarts a vat once its backoff has passed.
type restartDue struct {
	vat kernel.VatID
	gen int // which failure it answers; stale ticks are ignored
}

// vatCrashed reports a vat actor that failed outside our own recovery
// (supervision's backstop).
type vatCrashed struct {
	pid    *actor.PID
	reason any
}

func (*runCrank) kernelMessage()   {}
func (*flushTick) kernelMessage()  {}
func (*restartDue) kernelMessage() {}
func (*vatCrashed) kernelMessage() {}

// result is a host request's answer.
type result struct {
	v   any
	err error
}

// request is a host request: handled between cranks, answered once
// (invariant 11).
type request interface {
	message
	handle(ka *kernelActor)
	answer() chan result
}

// replier is embedded by requests.
type replier struct{ ch chan result }

func newReplier() replier { return replier{ch: make(chan result, 1)} }

func (r replier) answer() chan result { return r.ch }

// reply answers the request, once; later answers are dropped.
func (r replier) reply(v any, err error) {
	select {
	case r.ch <- result{v, err}:
	default:
	}
}

type resumeReq struct{ replier }
type launchReq struct {
	replier
	cfg kernel.ClusterConfig
}
type terminateSubclusterReq struct {
	replier
	id kernel.SubclusterID
}
type queueMessageReq struct {
	replier
	key    string // idempotency key; "" for none
	target kernel.KRef
	method string
	args   []any
	// span is the trace context of the caller's ctx: the crank that
	// delivers the message is its child (tracing.go).
	span trace.SpanContext
}
type terminateVatReq struct {
	replier
	vat    kernel.VatID
	reason string
}
type restartVatReq struct {
	replier
	vat kernel.VatID
}
type upgradeVatReq struct {
	replier
	vat    kernel.VatID
	bundle string
	// bundleSpec and globals: the new code of a JavaScript vat
	// (UpgradeJSVat); bundle is then empty.
	bundleSpec string
	globals    []string
}
type pingVatReq struct {
	replier
	vat kernel.VatID
}
type revokeReq struct {
	replier
	kref kernel.KRef
}
type isRevokedReq struct {
	replier
	kref kernel.KRef
}
type releaseReq struct {
	replier
	kref kernel.KRef
}
type statusReq struct{ replier }
type registerServiceReq struct {
	replier
	name string
}
type reapReq struct {
	replier
	vat kernel.VatID
}
type stopReq struct{ replier }
type waitIdleReq struct{ replier }
type readStoreReq struct {
	replier
	fn func(*persistence.Store) error
}
type vatLogReq struct {
	replier
	vat kernel.VatID
}
type subclusterReq struct {
	replier
	cfg kernel.ClusterConfig
}

func (*resumeReq) kernelMessage()              {}
func (*launchReq) kernelMessage()              {}
func (*terminateSubclusterReq) kernelMessage() {}
func (*queueMessageReq) kernelMessage()        {}
func (*terminateVatReq) kernelMessage()        {}
func (*restartVatReq) kernelMessage()          {}
func (*upgradeVatReq) kernelMessage()          {}
func (*pingVatReq) kernelMessage()             {}
func (*revokeReq) kernelMessage()              {}
func (*isRevokedReq) kernelMessage()           {}
func (*releaseReq) kernelMessage()             {}
func (*statusReq) kernelMessage()              {}
func (*registerServiceReq) kernelMessage()     {}
func (*reapReq) kernelMessage()                {}
func (*stopReq) kernelMessage()                {}
func (*waitIdleReq) kernelMessage()            {}
func (*readStoreReq) kernelMessage()           {}
func (*vatLogReq) kernelMessage()              {}
func (*subclusterReq) kernelMessage()          {}
